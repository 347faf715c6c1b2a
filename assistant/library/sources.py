"""The corpus manifest (``corpus/sources.toml``): what each document is, so answers can say so.

Status matters most: these are 2008 texts about proposals, and the assistant must never present a
proposal as law. A file with no manifest entry still gets indexed, with metadata taken from the file
and a status of "unspecified".
"""
from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import json
import os
import re
import tomllib
import unicodedata
from pathlib import Path, PurePosixPath

import tomlkit
from anyascii import anyascii
from pydantic import BaseModel, ValidationError
from tomlkit.exceptions import ParseError, TOMLKitError

from ..errors import InputError, LoadError
from ..safety.inputs import CONTROL, name_from_filename, shown

MANIFEST_NAME = "sources.toml"
SUPPORTED_SUFFIXES = (".txt", ".md", ".pdf", ".docx", ".html", ".htm")
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,79}$")
# What a person should read for pydantic's error types, by field type (the rest: pydantic's words).
_TYPE_WORDS = {"string_type": "must be text", "bool_type": "must be true or false",
               "bool_parsing": "must be true or false", "missing": "is missing"}
# A date written into a label ("3 Jul 2008", "c. June 2008", "autumn 2008"): the recorded date replaces it.
_MONTHS = sorted({m for m in (*calendar.month_name, *calendar.month_abbr, "Sept") if m}, key=len, reverse=True)
_SEASONS = ["spring", "summer", "autumn", "winter"]
_LABEL_DATE = re.compile(r"[,;]?\s*\b(?:c\.\s*)?(?:\d{1,2}\s+)?(?:" + "|".join(_MONTHS + _SEASONS) + r")\.?\s+\d{4}\b",
                         re.I)


class Source(BaseModel):
    """Metadata of one document."""

    id: str
    file: str
    title: str
    publisher: str = "unknown"
    author: str = ""  # who wrote or signed it, when the text says so (a letter's signatory)
    date: str = ""  # ISO date, may be empty
    date_approximate: bool = False
    kind: str = "document"
    status: str = "unspecified"
    label: str = ""

    @property
    def concerns_proposals(self) -> bool:
        """True when the document describes proposals or a consultation rather than law in force."""
        s = self.status.lower()
        return "proposal" in s or "consultation" in s

    @property
    def unrecorded(self) -> list[str]:
        """What a reader should be told is not known about this document: "date", "status"."""
        return [name for name, missing in (("date", not self.date), ("status", self.status.strip().lower() in
                                                                        ("", "unspecified"))) if missing]

    @property
    def display_date(self) -> str:
        """Human date, marked 'c.' when it is inferred from the text."""
        if not self.date:
            return "undated"
        try:
            d = dt.date.fromisoformat(self.date)
            text = f"{d.strftime('%B')} {d.year}" if self.date_approximate else f"{d.day} {d.strftime('%B %Y')}"
        except ValueError:
            text = self.date
        return f"c. {text}" if self.date_approximate else text

    @property
    def citation_label(self) -> str:
        """The short name a quiz question or an answer cites ("DCSF letter, 3 July 2008"): the manifest's
        `label` names the document and the date is always added from `date`, so a document reads with
        one date everywhere (a hand-written date in a label once said "autumn" where the card said
        "c. October"). A date still written in a label (an older manifest, a hand edit) is replaced."""
        name = re.sub(r"\s{2,}", " ", _LABEL_DATE.sub("", self.label)).strip(" ,;") or self.publisher
        return f"{name}, {self.display_date}"


def slugify(name: str) -> str:
    """A stable, filesystem- and Chroma-safe document id from a file name, readable where it can be.

    Every alphabet is spelled in ASCII by anyascii, accents dropped: "политика" is "politika", "Πολιτική"
    "politiki", "学校方針" "xuexiaofangzhen". A name with letters but nothing anyascii can spell would
    become "document" like every other such name; it gets 8 hex digits of the name's hash instead, so
    different names give different ids and the same name the same id. Two names spelled alike are told
    apart where an id is taken (``IdTaken``: the person chooses another).
    """
    slug = re.sub(r"[^a-z0-9]+", "-", anyascii(unicodedata.normalize("NFC", name)).lower()).strip("-")
    if not slug and any(c.isalnum() for c in name):
        return f"document-{hashlib.sha256(unicodedata.normalize('NFC', name).encode()).hexdigest()[:8]}"
    return (slug or "document")[:80]


def validate_id(doc_id: str) -> str:
    if not isinstance(doc_id, str) or not _ID_RE.fullmatch(doc_id):
        raise InputError(
            f"'{shown(doc_id)}' is not a valid document id: use 1-80 lower-case letters, digits, '.', '_' or '-'.")
    return doc_id


def title_key(title: str) -> str:
    """A title as a reader tells titles apart: case, Unicode look-alike forms and runs of spaces aside."""
    return " ".join(unicodedata.normalize("NFKC", title or "").casefold().split())


class Titles:
    """The library's titles, so an added document cannot take the title of another: two sources with one
    title look the same on citation cards and in the library list. Refused (rather than renamed) so the
    title shown is always the one the person chose; ``Assistant.add`` (CLI and web upload) checks each file."""

    def __init__(self, sources: list[Source]):
        self._held = {title_key(s.title): s.id for s in sources}
        self._added: dict[str, str] = {}  # titles of files staged earlier in this add -> their names

    def claim(self, source: Source, name: str) -> None:
        key = title_key(source.title)
        if key in self._added:
            raise InputError(f"{name}: has the title '{shown(source.title)}', like {self._added[key]} in this add; "
                             "add them one at a time, each with a title of its own.")
        if key in self._held:
            raise InputError(f"{name}: the title '{shown(source.title)}' is already the title of '{self._held[key]}' "
                             "in the library, and two sources with one title look the same in citations; give it "
                             "a title of its own (--title, or Title when uploading).")
        self._added[key] = name


def validate_date(value: str) -> str:
    if not value:
        return ""
    if not isinstance(value, str):
        raise InputError("The date must be text: YYYY-MM-DD, e.g. 2008-07-03.", field="date")
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise InputError(f"'{shown(value)}' is not a date: use YYYY-MM-DD, e.g. 2008-07-03.", field="date") from None


class Manifest:
    """Read and write ``sources.toml``; comments in the file are kept when it is rewritten.

    The file is edited by hand, so nothing in it is trusted: a damaged file, a field of the wrong
    type or a ``file`` outside the corpus folder is one plain ``InputError`` naming the file, the
    entry, the field and (where it can) the line. Writers hold ``CorpusLock`` around read-modify-write.
    """

    def __init__(self, corpus_dir: Path):
        self.corpus_dir = Path(corpus_dir)
        self.path = self.corpus_dir / MANIFEST_NAME
        self._text = self._read()
        self._doc = self._parse(self._text) if self._text is not None else tomlkit.document()

    def _read(self) -> str | None:
        try:
            return self.path.read_text("utf-8")
        except FileNotFoundError:
            return None
        except UnicodeDecodeError:
            raise InputError(f"{self.path}: not UTF-8 text; save it as UTF-8.") from None
        except OSError as exc:
            raise InputError(f"{self.path}: cannot be read ({exc.strerror or exc.__class__.__name__}).") from None

    def _parse(self, text: str) -> tomlkit.TOMLDocument:
        try:
            return tomlkit.parse(text)
        except ParseError as exc:
            reason = re.sub(r"\s+at line \d+ col \d+$", "", str(exc)).rstrip(". ")
            where = f" at line {exc.line}"
        except TOMLKitError as exc:  # e.g. a key given twice: tomllib says where
            reason = str(exc).rstrip(". ")
            try:
                tomllib.loads(text)
                where = ""
            except tomllib.TOMLDecodeError as err:
                m = re.search(r"line (\d+)", str(err))
                where = f" at line {m[1]}" if m else ""
        raise InputError(f"{self.path}: not valid TOML{where} ({shown(reason, 120)}); correct that line "
                         "or restore the file.")

    def entries(self) -> dict[str, Source]:
        """Every entry, checked: each a table of fields of the right types, each ``file`` inside the
        corpus folder and named by one entry only."""
        out: dict[str, Source] = {}
        by_file: dict[str, str] = {}
        for key, value in self._doc.items():
            if not isinstance(value, dict):
                raise InputError(f"{self.path}: '{shown(key)}'{self._line(key)} is not an entry: each document is "
                                 "a table, [its-id] followed by its fields.")
            try:
                source = Source(id=key, **value.unwrap())
            except ValidationError as exc:
                raise InputError(self._field_error(key, exc.errors()[0])) from None
            except TypeError:  # a field name that is not text, e.g. a nested table
                raise InputError(f"{self.path}: entry [{shown(key)}]{self._line(key)} has a field that is not "
                                 "one of id, file, title, publisher, author, date, kind, status, label.") from None
            where = f"{self.path}: entry [{shown(key)}], field 'file'{self._line(key, 'file')}"
            check_corpus_name(source.file, where)
            normal = os.path.normpath(source.file)
            if normal in by_file:
                raise InputError(f"{where}: '{shown(source.file)}' is already the file of entry "
                                 f"[{shown(by_file[normal])}]; each file has one entry.")
            by_file[normal] = key
            out[key] = source
        return out

    def _field_error(self, key: str, error: dict) -> str:
        field = ".".join(str(part) for part in error["loc"]) or "?"
        reason = _TYPE_WORDS.get(error["type"], error["msg"])
        found = "" if error["type"] == "missing" else \
            f" (found {shown(json.dumps(error.get('input'), ensure_ascii=False, default=str), 60)})"
        return f"{self.path}: entry [{shown(key)}], field '{shown(field)}'{self._line(key, field)}: {reason}{found}."

    def _line(self, key: str, field: str | None = None) -> str:
        """' (line N)' for the entry's header (or its ``field``) in the file, '' when not found."""
        lines = (self._text or "").splitlines()
        header = re.compile(rf"^\s*\[\s*(?:{re.escape(key)}|\"{re.escape(key)}\"|'{re.escape(key)}')\s*\]")
        start = next((i for i, line in enumerate(lines) if header.match(line)), None)
        if start is None:
            start = next((i for i, line in enumerate(lines) if re.match(rf"^\s*{re.escape(key)}\s*=", line)), None)
            return f" (line {start + 1})" if start is not None and field is None else ""
        if field is None:
            return f" (line {start + 1})"
        for i in range(start + 1, len(lines)):
            if re.match(r"^\s*\[", lines[i]):
                break
            if re.match(rf"^\s*{re.escape(field)}\s*=", lines[i]):
                return f" (line {i + 1})"
        return f" (line {start + 1})"

    def sources(self) -> list[Source]:
        """Every document in the corpus folder: manifest entries plus files with no entry."""
        entries = self.entries()
        by_file = {os.path.normpath(s.file): s for s in entries.values()}
        found: list[Source] = [s for s in entries.values() if (self.corpus_dir / s.file).exists()]
        taken = {s.id for s in found}
        for path in sorted(self.corpus_dir.iterdir()):
            if path.name in by_file or path.suffix.lower() not in SUPPORTED_SUFFIXES or path.name.startswith("."):
                continue
            source = default_source(path, taken)
            taken.add(source.id)
            found.append(source)
        return sorted(found, key=lambda s: s.id)

    def set(self, source: Source) -> None:
        table = tomlkit.table()
        for key, value in source.model_dump(exclude={"id"}).items():
            table[key] = value
        self._doc[source.id] = table

    def update(self, doc_id: str, fields: dict) -> None:
        """Change some fields of an existing entry in place: its other fields, their order and the
        comments around them stay as they were."""
        table = self._doc[doc_id]
        for key, value in fields.items():
            table[key] = value

    def delete(self, doc_id: str) -> None:
        """Remove an entry. The blank line that separated it from the entry before goes with it, so
        adding a document and removing it again leaves the file byte for byte as it was."""
        last = next(reversed(list(self._doc.keys())), None) == doc_id
        self._doc.pop(doc_id, None)
        if last:  # tomlkit leaves that blank line at the end of the entry before
            text = tomlkit.dumps(self._doc)
            self._doc = tomlkit.parse(text.rstrip("\n") + "\n" if text.strip() else "")

    def text(self) -> str:
        return tomlkit.dumps(self._doc)

    def save(self) -> None:
        """Write atomically so a crash never leaves a half-written manifest."""
        write_atomically(self.path, self.text())


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` by ``text`` in one step: written to a temporary file beside it, flushed to
    disk, then renamed over it, so a reader (or a crash) sees the old file or the new one, never half."""
    tmp = path.with_name(f"{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def check_corpus_name(file: str, where: str) -> None:
    """A manifest ``file`` must name a file inside the corpus folder: relative, no '..', no
    backslash or control characters. (Links are refused when the file is opened: ``corpus_file``.)"""
    path = PurePosixPath(file)
    if (not file.strip() or path.is_absolute() or ".." in path.parts or "\\" in file or re.match(r"^[A-Za-z]:", file)
            or CONTROL.search(file) or "\n" in file):
        raise InputError(f"{where}: '{shown(file)}' is outside the corpus folder; give the file's name inside "
                         "the corpus folder (no '..', not an absolute path).")


def corpus_file(corpus_dir: Path, file: str) -> Path:
    """The path of a corpus file, refused (``LoadError``) when a folder on the way is a link: then
    the file would be read (or deleted) somewhere outside the corpus. The file itself is opened
    without following a link (``loaders.open_regular``)."""
    root = Path(corpus_dir).resolve()
    path = root.joinpath(*PurePosixPath(file).parts)
    if path.parent.resolve() != path.parent:
        raise LoadError(f"{shown(file)}: reached through a folder that is a link, possibly outside the corpus; "
                        "links are not followed. Put the file itself in the corpus folder.")
    return path


def default_source(path: Path, taken: set[str] | None = None) -> Source:
    """Metadata for a file with no manifest entry: title from the name, status unspecified."""
    stem = Path(name_from_filename(path.name)).stem  # "..\\..\\x.txt" -> "x"
    base = slugify(stem)
    doc_id, i = base, 2
    while taken and doc_id in taken:
        doc_id, i = f"{base}-{i}", i + 1
    title = " ".join(re.sub(r"[_-]+", " ", stem).split()).capitalize() or "Untitled document"
    # Undated, not the file's modification date: copying a 2008 letter today would otherwise date it
    # "c. December 2026". ``date_in_text`` may find the date the document itself gives.
    return Source(id=doc_id, file=path.name, title=title, date="", date_approximate=False,
                  kind="document", status="unspecified", publisher="unknown")


_MONTH_NAMES = [m.lower() for m in calendar.month_name[1:]]
_DATE = re.compile(r"\b(?:(\d{1,2})(?:st|nd|rd|th)?\s+)?(" + "|".join(_MONTH_NAMES) + r")\s+((?:19|20)\d\d)\b", re.I)


def date_in_text(text: str, head_chars: int = 600) -> str | None:
    """The first date written near the top of a document ("3 July 2008", "July 2008") as an ISO date (the
    first of the month when no day is given), or None. Only the opening is read: a date further in is
    more likely an event the document mentions than the date it was written."""
    m = _DATE.search(text[:head_chars])
    if not m:
        return None
    day, month, year = int(m.group(1) or 1), _MONTH_NAMES.index(m.group(2).lower()) + 1, int(m.group(3))
    try:
        return dt.date(year, month, day).isoformat()
    except ValueError:
        return None


def unrecorded_notice(source: Source) -> str:
    """What ``add`` says about a document added without its date or status, and how to set them."""
    missing = source.unrecorded
    shown_date = "undated" if not source.date else f"dated {source.display_date} (found in its text)"
    return (f"'{source.title}' ({source.id}) was added without its {' or '.join(missing)}: it is shown as "
            f"{shown_date}, status {'not recorded' if 'status' in missing else repr(source.status)}, and every "
            "answer quoting it says so. Set them with `assistant add FILE --date YYYY-MM-DD --status \"...\"` "
            f"(remove it first), or edit its entry [{source.id}] in sources.toml and run `assistant index`.")
