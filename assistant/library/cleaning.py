"""Page-furniture removal: what a web page or letterhead adds that is not the document's content.

Removed lines are never indexed, so they can never be retrieved or quoted: "Comments are closed.",
"Related articles" / "More information" link lists, letterhead address and phone lines, "Handwritten
signature of ...", a signature name under it. A library's own publishers' lines ("More from Community
Care", a page footer "department for / children, schools and families") are data: the ``drop_lines``
of ``corpus/library.toml``, given as ``furniture``. A paragraph that a page footer cut in two is joined
again, so its sentences can be quoted whole.

The cleaned text is the reference text: every quote is a verbatim slice of it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

CLEANER_VERSION = "3"  # bump when the rules change, so the index re-embeds changed documents

_DROP_LINE = [re.compile(p, re.I) for p in (  # any publisher's; a library's own: corpus/library.toml
    r"comments are closed\.?",
    r"handwritten signature of .*",
    r"(tel|telephone|phone|fax)\s*[:.].*",
    r"[^\w“\"‘]*\s*(for )?more (on|from)\b.*",
    r".*\bgo to https?://\S+\s*",
    r"\S+@\S+\.\S+",
    r"(?=.{0,120}$)[^.]*\b[A-Z]{1,2}\d[A-Z\d]?\s+\d[A-Z]{2}\b[^.]*",  # a UK postcode line
)]
_LINK_LIST_HEADER = re.compile(r"(related articles|more information|related links|see also|read more)\s*:?", re.I)
_SIGNATURE = re.compile(r"handwritten signature of .*", re.I)
_BULLET = re.compile(r"^(?:[-*•●▪◦➔→]|\d{1,2}[.)])\s+")
_ARTIFACT = re.compile(r"\bNew Asset(?=[A-Z])")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_INVISIBLE = re.compile(r"[\u200b-\u200d\u2060\ufeff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_ENDS_SENTENCE = re.compile(r"[.!?:;][”’\"')\]]*$")


@dataclass(frozen=True)
class Paragraph:
    """A paragraph of the cleaned text, by character offsets; headings are kept but never quoted."""

    start: int
    end: int
    heading: bool


@dataclass(frozen=True)
class CleanText:
    text: str
    paragraphs: list[Paragraph]


def normalise_line(line: str) -> str:
    line = _CONTROL.sub("", _INVISIBLE.sub("", line))
    return _SPACES.sub(" ", line).strip()


def is_furniture(line: str, furniture: Sequence[re.Pattern] = ()) -> bool:
    return any(p.fullmatch(line) for p in _DROP_LINE) or any(p.fullmatch(line) for p in furniture)


def _is_heading(text: str) -> bool:
    return not _ENDS_SENTENCE.search(text) and len(text.split()) <= 15


def _blocks(raw: str) -> list[list[str]]:
    """Blocks of normalised lines, split at blank lines and at the start of each list item."""
    blocks, current = [], []
    for line in raw.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = normalise_line(line)
        if line and current and _BULLET.match(line):
            blocks.append(current)
            current = [line]
        elif line:
            current.append(line)
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    return blocks


def clean(raw: str, furniture: Sequence[re.Pattern] = ()) -> CleanText:
    """Return the cleaned text (paragraphs joined by blank lines) and its paragraph offsets. ``furniture``:
    the library's publishers' lines, dropped whole (``identity.Identity.furniture``)."""
    paragraphs: list[str] = []
    in_link_list = False
    after_signature = False
    for block in _blocks(raw):
        kept: list[str] = []
        for line in block:
            if _LINK_LIST_HEADER.fullmatch(line):
                in_link_list = True
                continue
            if in_link_list:
                if len(line) < 250 and not _ENDS_SENTENCE.search(line):
                    continue  # a link title in a "Related articles" list
                in_link_list = False
            if _SIGNATURE.fullmatch(line):
                after_signature = True
                continue
            if after_signature and len(line.split()) <= 5 and not _ENDS_SENTENCE.search(line):
                continue  # the signatory's name under the signature
            if is_furniture(line, furniture):
                continue
            kept.append(line)
        if not kept:
            continue
        text = _ARTIFACT.sub("", _BULLET.sub("", " ".join(kept)))
        if paragraphs and _continues(paragraphs[-1], text):
            paragraphs[-1] = f"{paragraphs[-1]} {text}"  # a page footer had split this paragraph
        else:
            paragraphs.append(text)
    out, spans, pos = [], [], 0
    for para in paragraphs:
        out.append(para)
        spans.append(Paragraph(pos, pos + len(para), _is_heading(para)))
        pos += len(para) + 2
    return CleanText("\n\n".join(out), spans)


def _continues(previous: str, text: str) -> bool:
    return bool(re.search(r"[\w,]$", previous)) and text[:1].islower() and len(previous.split()) > 15
