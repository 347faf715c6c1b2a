"""The library's identity as data: what the library is about, in the words every part of the assistant
uses to say so, read from ``corpus/library.toml``.

Why a data file: the subject ("the 2008 proposals on children's trusts"), the abstention message, the
notices, the app's title and starter questions, the export and training-pack titles, the CLI's
description, the LLM prompt's caveat and the page-furniture rules of the library's publishers all
depend on the documents a school keeps. A school whose library is its own policies edits this file,
not code. A key the file leaves out takes the built-in wording (``assistant/data/library.toml``), which
names no subject.

A school edits the file by hand, so a typo must not take the assistant down: ``kept`` (shared with
``corpus/vocabulary.toml``) gives one line naming the file and the line, and the last good copy (kept in
the data folder) or the built-in wording, saying which.

This module sits in the bottom layer, beside the settings, because the export (same layer) and every
layer above it read the identity. ``current()`` is the identity of the library this process serves:
the one an ``Assistant`` (or the web app) last loaded, else the corpus the environment names.
"""
from __future__ import annotations

import functools
import hashlib
import re
import string
import threading
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Callable, TypeVar

from .errors import InputError

FILENAME = "library.toml"
BUILTIN = Path(__file__).resolve().parent / "data" / FILENAME
T = TypeVar("T")


# ---- a data file a school edits by hand -----------------------------------------------------------------
def read_toml(path: Path) -> dict:
    """The file's TOML; a damaged file is an ``InputError`` naming the file and the line."""
    try:
        return tomllib.loads(Path(path).read_text("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        line = re.search(r"at line (\d+)", str(exc))
        raise InputError(f"{path}{f', line {line.group(1)}' if line else ''}: not valid TOML ({exc}).") from None
    except OSError as exc:  # a folder in its place, no permission
        raise InputError(f"{path}: cannot be read ({exc.strerror or exc}).") from None


def kept(load: Callable[[Path, str], T], corpus_dir: Path, keep_dir: Path, filename: str, builtin: Callable[[], T],
         what: str, builtin_what: str, who: str) -> tuple[T, str | None]:
    """``load(corpus_dir, filename)`` and None; or, when the file is damaged, the last good copy (or
    ``builtin()``) and a one-line problem naming the file, the line and which one is used.

    Why: a typo made every question fail, and a restart did not help. Every good load keeps a copy of
    the file in ``keep_dir`` (the data folder), so the last good one survives a restart. ``what`` names
    the file's content ("vocabulary"), ``builtin_what`` the fallback, ``who`` what goes on ("questions use")."""
    copy = Path(keep_dir) / f"{Path(filename).stem}.last-good.toml"
    try:
        value = load(corpus_dir, filename)
    except InputError as exc:
        try:
            good = load(copy.parent, copy.name) if copy.is_file() else None
        except InputError:
            good = None
        which = f"the last good {what}" if good is not None else builtin_what
        return (good if good is not None else builtin()), f"{exc} Until it is fixed, {who} {which}."
    path = Path(corpus_dir) / filename
    try:
        if path.is_file() and (not copy.is_file() or copy.read_bytes() != path.read_bytes()):
            copy.parent.mkdir(parents=True, exist_ok=True)
            tmp = copy.with_name(f".{copy.name}.tmp")
            tmp.write_bytes(path.read_bytes())
            tmp.replace(copy)
    except OSError:  # a read-only data folder: the copy is a convenience, never a failure
        pass
    return value, None


# ---- the identity ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Identity:
    """Every sentence the assistant says about its library. Field names are the file's keys; a message
    may use ``{coverage}`` and ``{example_question}``."""

    coverage: str
    example_question: str
    starters: tuple[str, ...]
    app_title: str
    browser_title: str
    page_description: str
    welcome_heading: str
    banner: str
    sources_help: str
    duties_help: str
    cli_description: str
    cli_examples: tuple[str, ...]
    export_title: str
    export_disclaimer: str
    pack_title: str
    training_notice: str
    no_evidence: str
    not_english: str
    unsafe_input: str
    empty_question: str
    notice_proposals: str
    notice_general: str
    llm_caveat: str
    drop_lines: tuple[str, ...]

    @property
    def furniture(self) -> tuple[re.Pattern, ...]:
        """The publishers' page furniture: lines dropped whole (matched whole, ignoring case)."""
        return _patterns(self.drop_lines)

    @property
    def furniture_key(self) -> str:
        """A fingerprint of the furniture rules: a change re-reads every document at the next index."""
        return hashlib.sha256("\n".join(self.drop_lines).encode()).hexdigest()[:12] if self.drop_lines else ""

    @classmethod
    def load(cls, corpus_dir: Path, filename: str = FILENAME) -> "Identity":
        """The built-in wording with the corpus file's keys over it; no file is the built-in wording.
        A damaged file (bad TOML, an unknown key, a wrong type, an unknown ``{name}``) is an ``InputError``
        naming the file and the line."""
        values = _read(BUILTIN, read_toml(BUILTIN))
        path = Path(corpus_dir) / filename
        if path.is_file():
            values.update(_read(path, read_toml(path)))
        names = {"coverage": values["coverage"], "example_question": values["example_question"]}
        out = {}
        for key, value in values.items():
            out[key] = tuple(value) if isinstance(value, list) else value.format_map(names) if isinstance(value, str) else value
        return cls(**out)

    @classmethod
    @functools.cache
    def builtin(cls) -> "Identity":
        """The built-in wording alone (``assistant/data/library.toml``): it names no subject."""
        return cls.load(BUILTIN.parent / "no-such-folder")

    @classmethod
    def kept(cls, corpus_dir: Path, keep_dir: Path) -> tuple["Identity", str | None]:
        return kept(cls.load, corpus_dir, keep_dir, FILENAME, cls.builtin, "library description",
                    "the built-in wording (no subject named)", "the assistant uses")


def _line_of(path: Path, key: str) -> str:
    """', line N' of ``key = ...`` in the file, for a message; '' when it cannot be found."""
    try:
        for n, line in enumerate(Path(path).read_text("utf-8").splitlines(), start=1):
            if re.match(rf"\s*{re.escape(key)}\s*=", line):
                return f", line {n}"
    except OSError:
        pass
    return ""


_KEYS = {f.name for f in fields(Identity)}
_LISTS = {"starters", "drop_lines", "cli_examples"}
_NAMES = {"coverage", "example_question"}


def _read(path: Path, data: dict) -> dict:
    """The file's keys, from any of its [sections], checked: known, of the right type, placeholders known."""
    flat: dict = {}
    for section, table in data.items():
        if not isinstance(table, dict):
            raise InputError(f"{path}{_line_of(path, section)}: `{section}` must be inside a [section].")
        for key, value in table.items():
            where = f"{path}{_line_of(path, key)}"
            if key not in _KEYS:
                raise InputError(f"{where}: unknown key `{key}` in [{section}] (known: {', '.join(sorted(_KEYS))}).")
            if key in _LISTS:
                if not (isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value)) \
                        or (key == "cli_examples" and not value):
                    raise InputError(f"{where}: `{key}` must be a list of texts{' (one or two)' * (key == 'cli_examples')}.")
                if key == "drop_lines":
                    for pattern in value:
                        try:
                            re.compile(pattern)
                        except re.error as exc:
                            raise InputError(f"{where}: `{pattern}` is not a valid pattern ({exc}).") from None
                value = [v.strip() for v in value] if key != "drop_lines" else value
            elif not isinstance(value, str) or not value.strip():
                raise InputError(f"{where}: `{key}` must be a text in quotes.")
            else:
                try:
                    used = {n for _, n, _, _ in string.Formatter().parse(value) if n is not None}
                except ValueError as exc:
                    raise InputError(f"{where}: `{key}` has a stray {{ or }} ({exc}); write {{{{ or }}}}.") from None
                unknown = used - (_NAMES - {key})  # "{}" too: only the two names
                if unknown:
                    raise InputError(f"{where}: `{key}` uses {{{min(unknown)}}}; only {{coverage}} and "
                                     "{example_question} can be used.")
            flat[key] = value
    return flat


def _patterns(lines: tuple[str, ...]) -> tuple[re.Pattern, ...]:
    return tuple(re.compile(p, re.I) for p in lines)


# ---- the identity of the library this process serves ----------------------------------------------------
_lock = threading.Lock()
_cache: dict[tuple, tuple[Identity, str | None]] = {}  # (folders, file stamp) → (identity, problem)
_served: list[tuple[Path, Path]] = []  # the folders last given to ``of``


def _stamp(path: Path) -> tuple:
    try:
        st = path.stat()
        return st.st_mtime_ns, st.st_size
    except OSError:
        return None, None


def _loaded(corpus_dir: Path | str, data_dir: Path | str) -> tuple[Identity, str | None]:
    corpus_dir, data_dir = Path(corpus_dir), Path(data_dir)
    key = (corpus_dir, data_dir, *_stamp(corpus_dir / FILENAME))
    with _lock:
        if key not in _cache:
            if len(_cache) > 16:  # old stamps of edited files, a few folders in tests
                _cache.clear()
            _cache[key] = Identity.kept(corpus_dir, data_dir)
        _served[:] = [(corpus_dir, data_dir)]
        return _cache[key]


def of(corpus_dir: Path | str, data_dir: Path | str) -> Identity:
    """The identity of the library in ``corpus_dir`` (re-read when the file changes); for a damaged file,
    the last good copy (kept in ``data_dir``) or the built-in wording (``problem`` says which, in one
    line: the service adds it to its notices, the CLI's help shows it). It becomes ``current()``."""
    return _loaded(corpus_dir, data_dir)[0]


def of_settings(settings) -> Identity:
    """``of`` the settings' corpus and data folders."""
    return of(settings.corpus_dir, settings.data_dir)


def problem(corpus_dir: Path | str, data_dir: Path | str) -> str | None:
    """The one-line problem with the library's file (naming the file, the line and what is used), or None."""
    return _loaded(corpus_dir, data_dir)[1]


def _environment() -> tuple[Path, Path] | None:
    try:
        from .config import Settings

        settings = Settings()
        return settings.corpus_dir, settings.data_dir
    except Exception:  # settings that do not validate are reported where they are used
        return None


def current() -> Identity:
    """The identity of the library this process serves: the folders last given to ``of`` (an
    ``Assistant`` gives its own when it is made), else the corpus the environment names
    (``ASSISTANT_CORPUS_DIR``)."""
    folders = _served[0] if _served else _environment()
    return of(*folders) if folders else Identity.builtin()


def current_problem() -> str | None:
    """``problem`` of the library ``current()`` reads."""
    folders = _served[0] if _served else _environment()
    return problem(*folders) if folders else None
