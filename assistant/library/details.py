"""A document's details (title, publisher, date, kind, status): what a document added without them is
called, and how they are changed later without removing and re-adding it.

Why here and not in the service: the manifest is the one place the details live, and both the CLI
(``assistant edit ID --date … --status …``) and the web form change them the same way; the service
only takes the library lock and re-indexes (metadata only: nothing is re-embedded).
"""
from __future__ import annotations

import re
from pathlib import Path

from ..errors import InputError, UnknownDocument
from ..safety.inputs import MAX_METADATA_CHARS, clean_metadata, shown
from .cleaning import CleanText
from .sources import Manifest, Source, date_in_text, validate_date

EDITABLE = ("title", "publisher", "date", "kind", "status")
# What the library stores for a detail nobody gave; shown to readers as "not recorded".
NOT_RECORDED = {"publisher": "unknown", "status": "unspecified", "date": ""}


def not_recorded(field: str, value: str | None) -> bool:
    """True when ``value`` is the placeholder the library stores for a ``field`` nobody gave."""
    return field in NOT_RECORDED and (value or "").strip().lower() in ("", NOT_RECORDED[field])


def title_from_heading(text: CleanText) -> str | None:
    """The document's own title: the first heading line of its front matter (the lines before its first
    paragraph of text) that is not just a date and not a label in capitals ("LETTER FROM … TO …"), else
    the first that is not a date; None when it opens with a paragraph of text."""
    heads: list[str] = []
    for para in text.paragraphs:
        if not para.heading:
            break
        line = text.text[para.start:para.end].strip(" #*_")
        if re.search(r"[^\W\d_]", line) and not _only_a_date(line):
            heads.append(line)
    if not heads:
        return None
    title = next((h for h in heads if not h.isupper()), heads[0])
    return title[:MAX_METADATA_CHARS].strip() or None


def _only_a_date(line: str) -> bool:
    found = date_in_text(line)
    if not found:
        return False
    rest = re.sub(r"\b\d{1,2}(?:st|nd|rd|th)?\b|\b(?:19|20)\d\d\b|[^\w]+", " ", line)
    return len(rest.split()) <= 1  # the month's name, maybe a weekday


def edit(corpus_dir: Path, doc_id: str, changes: dict[str, str | None]) -> tuple[Source, Source]:
    """Change the given details of ``doc_id`` in ``sources.toml`` (``None``: leave as is; "" for a date:
    undated; "" for another detail: back to not recorded). Returns (before, after). A file in the corpus
    folder with no entry yet gets one. The caller holds the library lock and re-indexes."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise InputError(f"Only these details can be changed: {', '.join(EDITABLE)} (not {', '.join(sorted(unknown))}).")
    manifest = Manifest(corpus_dir)
    found = {s.id: s for s in manifest.sources()}
    if not isinstance(doc_id, str) or doc_id not in found:
        raise UnknownDocument(str(doc_id), shown(str(doc_id)))
    before = found[doc_id]
    update: dict = {}
    for field, value in changes.items():
        if value is None:
            continue
        if field == "date":
            update["date"], update["date_approximate"] = validate_date(value.strip()), False
            continue
        cleaned = clean_metadata(field, value)
        if cleaned is None and field == "title":
            raise InputError("A document needs a title; give one, or leave the title as it is.", field="title")
        update[field] = cleaned if cleaned is not None else NOT_RECORDED.get(field, "document")  # kind: a document
    if not update:
        raise InputError("Give at least one detail to change: the title, publisher, date, kind or status.")
    after = before.model_copy(update=update)
    if doc_id in manifest.entries():
        manifest.update(doc_id, {k: v for k, v in update.items() if getattr(before, k) != v})
    else:
        manifest.set(after)
    manifest.save()
    return before, after


def source_of(corpus_dir: Path, doc_id: str) -> Source:
    """The details of one document as the manifest (or, with no entry, its file) gives them."""
    found = {s.id: s for s in Manifest(corpus_dir).sources()}
    if doc_id not in found:
        raise UnknownDocument(str(doc_id), shown(str(doc_id)))
    return found[doc_id]
