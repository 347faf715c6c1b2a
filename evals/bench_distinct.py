"""The benchmark's libraries of distinct documents: the five documents plus other text, N× their size.

Copies of the five documents understate what a bigger library costs, because the indexer merges
identical sentences (a 100× library of copies holds about the sentences of 1×). A real library grows
with *different* text, most of it not about the question asked. The text here is the docstrings of the
Python standard library, then of the packages installed beside it (site-packages, by package name),
because every machine that runs the benchmark has them:

* deterministic: modules in sorted path order, docstrings read from the source with ``ast`` (the
  module's, then every class's and function's, in file order; nothing is imported, so nothing runs),
  doctest lines and paragraphs with few letters left out, and a paragraph seen before (``Return
  self==value.``) written once only, so no two documents share a paragraph;
* one plain ``.txt`` document per module (a title line, then its paragraphs), a long module split
  into parts of at most ``PART_BYTES``, each with an entry in ``sources.toml``;
* sized: the added documents' bytes stop at (N − 1) × the five documents' bytes (the last one cut at a
  paragraph), so the library is N× the five documents' text.

The same Python and the same installed packages give the same documents (the benchmark records the
Python version and how many documents came from where).
"""
from __future__ import annotations

import ast
import re
import shutil
import sys
import sysconfig
from collections.abc import Iterator
from pathlib import Path

PART_BYTES = 16_000  # at most this much text in one document (the five are 2.4–9.4 KB)
MIN_DOC_BYTES = 400  # a module with less docstring text than this is skipped (a title and a line)
MIN_LETTERS = 0.6  # a paragraph with a smaller share of letters and spaces is code or a table: left out
_SKIP_PARTS = {"test", "tests", "idlelib", "site-packages", "__pycache__", "testing"}
_ID_CHARS = re.compile(r"[^a-z0-9._-]+")


def source_files() -> Iterator[tuple[str, Path]]:
    """(module name, file) for the standard library's modules, then site-packages' ones, each in sorted
    path order; tests and the IDLE editor left out."""
    paths = sysconfig.get_paths()
    for root in dict.fromkeys([Path(paths["stdlib"]), Path(paths["purelib"])]):
        for path in sorted(root.rglob("*.py")):
            rel = path.relative_to(root)
            if _SKIP_PARTS & set(rel.parts[:-1]):
                continue
            parts = list(rel.with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            if parts:
                yield ".".join(parts), path


def paragraphs(path: Path) -> list[str]:
    """The prose paragraphs of a module's docstrings: the module's, then each class's and function's."""
    try:
        tree = ast.parse(path.read_bytes())
    except (SyntaxError, ValueError, OSError):
        return []
    nodes = [tree] + [n for n in ast.walk(tree) if isinstance(n, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))]
    out = []
    for node in nodes:
        doc = ast.get_docstring(node)
        for para in re.split(r"\n\s*\n", doc or ""):
            lines = [ln.strip() for ln in para.splitlines() if ln.strip() and not ln.strip().startswith((">>>", "..."))]
            text = " ".join(lines)
            if len(text) >= 40 and sum(c.isalpha() or c.isspace() for c in text) >= MIN_LETTERS * len(text):
                out.append(text)
    return out


def documents(limit_bytes: int) -> Iterator[tuple[str, Path, str, str]]:
    """(module, file, part, text) of the distinct documents, in order, until their texts reach ``limit_bytes``
    (UTF-8): each text a title line and the module's unseen paragraphs, cut at ``PART_BYTES``."""
    seen: set[str] = set()
    total = 0
    for module, path in source_files():
        fresh = []
        for para in paragraphs(path):
            if para not in seen:
                seen.add(para)
                fresh.append(para)
        if sum(len(p.encode()) for p in fresh) < MIN_DOC_BYTES:
            continue
        part, body = 1, []
        for para in fresh + [None]:
            size = len(("\n\n".join(body + [para or ""])).encode()) + 80
            if body and (para is None or size > PART_BYTES or total + size > limit_bytes):
                title = f"Python documentation: {module}" + (f" (part {part})" if part > 1 or para else "")
                text = title + "\n\n" + "\n\n".join(body) + "\n"
                if total + len(text.encode()) > limit_bytes:
                    return
                total += len(text.encode())
                yield module, path, str(part), text
                part, body = part + 1, []
            if para is not None:
                body.append(para)
        if total >= limit_bytes - MIN_DOC_BYTES:
            return


def originals(src: Path) -> list[Path]:
    return [p for p in sorted(src.iterdir()) if p.suffix.lower() in (".txt", ".md") and not p.name.startswith(".")]


def make_distinct_corpus(src: Path, dest: Path, multiple: int, bank: bool = True) -> dict:
    """The five documents (with their manifest and, with ``bank``, the shipped question bank) plus
    distinct documents of about (``multiple`` − 1) × their bytes, each a ``.txt`` with a manifest entry."""
    dest.mkdir(parents=True, exist_ok=True)
    files = originals(src)
    for p in files:
        shutil.copyfile(p, dest / p.name)
    if (src / "library.toml").exists():  # the library's identity (its publishers' furniture lines), where there is one
        shutil.copyfile(src / "library.toml", dest / "library.toml")
    if bank and (src / "bank").is_dir():
        shutil.copytree(src / "bank", dest / "bank", dirs_exist_ok=True)
    base = sum(p.stat().st_size for p in files)
    manifest = (src / "sources.toml").read_text("utf-8") if (src / "sources.toml").exists() else ""
    entries, n, stdlib = [], 0, 0
    stdlib_root = Path(sysconfig.get_paths()["stdlib"])
    for n, (module, path, part, text) in enumerate(documents((multiple - 1) * base), start=1):
        doc_id = _ID_CHARS.sub("-", f"py-{n:05d}-{module.lower()}")[:80].rstrip("-.")
        (dest / f"{doc_id}.txt").write_text(text, "utf-8")
        title = text.split("\n", 1)[0]
        entries.append(f"\n[{_toml_key(doc_id)}]\nfile = {_toml_str(doc_id + '.txt')}\ntitle = {_toml_str(title)}\n"
                       f'publisher = "Python Software Foundation and package authors"\n'
                       f'kind = "software documentation (docstrings)"\nstatus = "reference documentation"\n'
                       f"label = {_toml_str(module + ('' if part == '1' else f' part {part}'))}\n")
        stdlib += stdlib_root in path.parents and "site-packages" not in path.parts
    (dest / "sources.toml").write_text(manifest.rstrip("\n") + "\n" + "".join(entries), "utf-8")
    added = sum((dest / f).stat().st_size for f in (p.name for p in dest.glob("py-*.txt")))
    return {"library": "distinct", "documents": len(files) + len(entries), "added_documents": len(entries),
            "from_stdlib": stdlib, "from_site_packages": len(entries) - stdlib,
            "bytes": base + added, "base_bytes": base, "multiple_achieved": (base + added) / base,
            "python": sys.version.split()[0]}


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _toml_str(key)


def _toml_str(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
