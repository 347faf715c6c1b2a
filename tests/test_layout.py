"""The package layout (issue 15): one subpackage per part of the flow, small modules, imports that
only point down the layers and never round in a circle. Read from the source with ``ast``: nothing is
imported, so this runs in well under a second."""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "assistant"
MAX_TOP_LEVEL_MODULES = 12
MIN_SUBPACKAGES = 3
MAX_LINES = 400  # issue 32: a module a newcomer can read

# Who may import whom: a module imports only from its own layer or the ones before it. The top-level
# modules other than the service are the shared contract (settings, errors, the Answer model, text
# helpers, export); the live index (``live``) builds the Kit, so it sits above answering; the service is
# the one facade; the interfaces come last. docs/DESIGN.md, "Layout".
LAYERS = [
    {"assistant.config", "assistant.errors", "assistant.models", "assistant.markers", "assistant.text",
     "assistant.export", "assistant.identity"},
    {"assistant.safety", "assistant.encoders"},
    {"assistant.library"},
    {"assistant.answer"},
    {"assistant.training"},
    {"assistant.live"},
    {"assistant.service", "assistant"},
    {"assistant.interfaces", "assistant.__main__"},
]


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imports(name: str, path: Path, known: set[str], missing: list[str] | None = None) -> set[str]:
    """Every module of the package that ``name`` imports, at module level or inside a function (a
    lazy import is still a dependency). Imports of package modules that do not exist go to ``missing``."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
        if isinstance(node, ast.Import):
            bases = [alias.name for alias in node.names]
            names: list[str] = []
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                bases = [".".join(base + ([node.module] if node.module else []))]
            else:
                bases = [node.module or ""]
            names = [alias.name for alias in node.names]
        else:
            continue
        for base in bases:
            for sub in names:  # ``from pkg import module`` imports pkg.module
                if f"{base}.{sub}" in known:
                    found.add(f"{base}.{sub}")
            if base in known and (not names or any(f"{base}.{sub}" not in known for sub in names)):
                found.add(base)
            if missing is not None and base.split(".")[0] == "assistant" and base not in known:
                missing.append(f"{name}:{node.lineno} imports {base}")
    found.discard(name)
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, set(modules)) for name, path in modules.items()}


def _layer(name: str) -> int:
    for i, layer in enumerate(LAYERS):
        if name in layer or any(name.startswith(prefix + ".") for prefix in layer if prefix != "assistant"):
            return i
    raise AssertionError(f"{name} is in no layer of tests/test_layout.py: add it there and to docs/DESIGN.md")


def test_top_level_is_small_and_split_into_subpackages():
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    subpackages = sorted(p.parent.name for p in PACKAGE.glob("*/__init__.py"))
    assert len(top) <= MAX_TOP_LEVEL_MODULES, top
    assert len(subpackages) >= MIN_SUBPACKAGES, subpackages
    loose = [p.parent.name for p in PACKAGE.glob("*/*.py") if not (p.parent / "__init__.py").exists()]
    assert not loose, f"folders of modules without an __init__.py (left out of the wheel): {sorted(set(loose))}"


def test_no_module_is_over_400_lines():
    """The product's modules and the evaluation's (evals/ is code a newcomer changes too)."""
    paths = list(_modules().values()) + sorted((PACKAGE.parent / "evals").glob("*.py"))
    long = {str(p.relative_to(PACKAGE.parent)): n for p in paths
            if (n := len(p.read_text("utf-8").splitlines())) > MAX_LINES}
    assert not long, f"split these modules (over {MAX_LINES} lines): {long}"


def test_no_import_cycle():
    graph = _graph()
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycle = path[path.index(nxt):] + [nxt]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt)
        path.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)


def test_imports_point_down_the_layers():
    """Nothing below the service imports the service or an interface; the library never imports
    answering or training; answering never imports training."""
    upward = sorted(f"{a} -> {b}" for a, targets in _graph().items() for b in targets
                    if _layer(b) > _layer(a))
    assert not upward, "imports against the layers: " + "; ".join(upward)


def test_every_import_names_a_module_that_exists():
    """Lazy imports (inside functions) are not run by importing the package, so a wrong path there
    would only fail when that code runs."""
    missing: list[str] = []
    modules = _modules()
    for name, path in modules.items():
        _imports(name, path, set(modules), missing)
    assert not missing, missing


def test_the_checker_sees_relative_and_lazy_imports():
    graph = _graph()
    assert "assistant.interfaces.web_html" in graph["assistant.interfaces.web_training"]
    assert "assistant.interfaces.web_export" in graph["assistant.interfaces.web"]  # from . import web_export
    assert "assistant.library.feedback" in graph["assistant.interfaces.web"]  # from ..library import feedback
    assert "assistant.training.desk" in graph["assistant.service"]  # imported inside a method
    assert "assistant" in graph["assistant.interfaces.cli"]  # from .. import Assistant


def test_the_product_never_imports_the_evaluation():
    """evals/ measures the product from outside (issue 32): nothing in assistant/ imports it, even lazily,
    and the wheel does not ship it."""
    import tomllib

    reaching = []
    for name, path in _modules().items():
        for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
            reaching += [f"{name}:{node.lineno} imports {n}" for n in names if n.split(".")[0] == "evals"]
    assert not reaching, reaching
    project = tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text("utf-8"))
    assert project["tool"]["setuptools"]["packages"]["find"]["include"] == ["assistant*"]


def test_the_service_is_a_thin_facade():
    """issue 32: ``service.py`` is the ``Assistant`` facade over one service per concern, not the place where
    the live index or the library's writes are kept: those are ``live.py`` and ``library/manager.py``."""
    service = PACKAGE / "service.py"
    assert len(service.read_text("utf-8").splitlines()) <= 250
    graph = _graph()
    assert {"assistant.live", "assistant.library.manager"} <= graph["assistant.service"]
    assert "assistant.library.manager" in graph["assistant.live"]


def test_the_product_carries_no_experiment_switch():
    """Ablations are lists of steps in evals/variants.py (issue 32): no ``settings.uses(...)`` branch in
    assistant/, and no setting that only switches a component off."""
    import re

    from assistant.config import Settings

    assert not hasattr(Settings, "uses") and "disable" not in Settings.model_fields
    switch = re.compile(r"\bsettings\.uses\(|\bs\.uses\(")
    found = [f"{name}:{n}" for name, path in _modules().items()
             for n, line in enumerate(path.read_text("utf-8").splitlines(), start=1) if switch.search(line)]
    assert not found, found


# Private names imported across modules: none (issue 32). A name another module needs gets a public home.
KNOWN_PRIVATE_IMPORTS: set[str] = set()


def test_no_module_imports_another_module_s_private_names():
    """``from .x import _name`` reaches into x's insides: a change there breaks the importer unseen. A name
    another module needs gets a public home (``compose.repeats``, ``safety.injection``, ``quotable``)."""
    found = set()
    modules = _modules()
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
            if not isinstance(node, ast.ImportFrom):
                continue
            if node.level:
                base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1]
                                + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            if base.split(".")[0] != "assistant":
                continue
            found |= {f"{name} imports {base}.{a.name}" for a in node.names
                      if a.name.startswith("_") and not a.name.startswith("__")}
    assert found <= KNOWN_PRIVATE_IMPORTS, sorted(found - KNOWN_PRIVATE_IMPORTS)
