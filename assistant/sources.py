"""The corpus manifest (``corpus/sources.toml``): what each document is, so answers can say so.

Status matters most: these are 2008 texts about proposals, and the assistant must never present a
proposal as law. A file with no manifest entry still gets indexed, with metadata taken from the file
and a status of "unspecified".
"""
from __future__ import annotations

import calendar
import datetime as dt
import re
from pathlib import Path

import tomlkit
from pydantic import BaseModel, Field

from .errors import InputError
from .inputs import name_from_filename, shown

MANIFEST_NAME = "sources.toml"
SUPPORTED_SUFFIXES = (".txt", ".md", ".pdf", ".docx", ".html", ".htm")
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,79}$")
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
    """A stable, filesystem- and Chroma-safe document id from a file name."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return (slug or "document")[:80]


def validate_id(doc_id: str) -> str:
    if not isinstance(doc_id, str) or not _ID_RE.fullmatch(doc_id):
        raise InputError(
            f"'{shown(doc_id)}' is not a valid document id: use 1-80 lower-case letters, digits, '.', '_' or '-'.")
    return doc_id


def validate_date(value: str) -> str:
    if not value:
        return ""
    if not isinstance(value, str):
        raise InputError("The date must be text: YYYY-MM-DD, e.g. 2008-07-03.")
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise InputError(f"'{shown(value)}' is not a date: use YYYY-MM-DD, e.g. 2008-07-03.") from None


class Manifest:
    """Read and write ``sources.toml``; comments in the file are kept when it is rewritten."""

    def __init__(self, corpus_dir: Path):
        self.corpus_dir = Path(corpus_dir)
        self.path = self.corpus_dir / MANIFEST_NAME
        self._doc = tomlkit.parse(self.path.read_text("utf-8")) if self.path.exists() else tomlkit.document()

    def entries(self) -> dict[str, Source]:
        return {key: Source(id=key, **dict(value)) for key, value in self._doc.items()}

    def sources(self) -> list[Source]:
        """Every document in the corpus folder: manifest entries plus files with no entry."""
        entries = self.entries()
        by_file = {s.file: s for s in entries.values()}
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

    def delete(self, doc_id: str) -> None:
        self._doc.pop(doc_id, None)

    def text(self) -> str:
        return tomlkit.dumps(self._doc)

    def save(self) -> None:
        """Write atomically so a crash never leaves a half-written manifest."""
        tmp = self.path.with_suffix(".toml.tmp")
        tmp.write_text(self.text(), "utf-8")
        tmp.replace(self.path)


def default_source(path: Path, taken: set[str] | None = None) -> Source:
    """Metadata for a file with no manifest entry: title from the name, status unspecified."""
    stem = Path(name_from_filename(path.name)).stem  # "..\\..\\x.txt" -> "x"
    base = slugify(stem)
    doc_id, i = base, 2
    while taken and doc_id in taken:
        doc_id, i = f"{base}-{i}", i + 1
    title = re.sub(r"[_-]+", " ", stem).strip().capitalize() or "Untitled document"
    try:
        mtime = dt.date.fromtimestamp(path.stat().st_mtime).isoformat()
    except (OSError, ValueError, OverflowError):
        mtime = ""
    return Source(id=doc_id, file=path.name, title=title, date=mtime, date_approximate=True,
                  kind="document", status="unspecified", publisher="unknown")
