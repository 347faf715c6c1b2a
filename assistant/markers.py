"""Where an answer's citation markers are, so a document's own "[2]" is never taken for one.

An extractive answer is its quotes, each followed by its marker: ``"{quote} [n]"`` joined by spaces. A
quote is verbatim, so it may itself contain "[2]" (a footnote mark) or "[3]"; a reader, the UI or a
script that took every bracketed number for a citation would link the footnote to another source or
to nothing. The markers are therefore located from the citations themselves: the "[n]" right after
citation n's quote, walking the answer in order. An answer that is not made of its quotes (the LLM mode
rewrites them; its verified sentences never keep a bracketed number of their own, ``verify.py``) has
every "[n]" naming one of its citations as a marker.

Works on ``Citation`` objects and on their ``model_dump()`` dicts (the UI and the export hold dicts).
"""
from __future__ import annotations

import re
from typing import Any, Iterable, NamedTuple

_REF = re.compile(r"\[(\d+)\]")


class Marker(NamedTuple):
    n: int
    start: int  # offset of "[" in the answer text
    end: int  # offset just after "]"


def _get(c: Any, key: str) -> Any:
    return c.get(key) if isinstance(c, dict) else getattr(c, key, None)


def citation_markers(text: str, citations: Iterable[Any]) -> list[Marker]:
    """The citation markers of answer ``text``, in text order. Anything else that looks like "[n]" is
    the documents' own text."""
    text = text or ""
    cites = [(int(_get(c, "n")), _get(c, "quote") or "") for c in citations or []]
    if not cites:
        return []
    found, pos, pieces = [], 0, []
    for n, quote in cites:
        marker = f"[{n}]"
        at = text.find(f"{quote} {marker}", pos) if quote else -1
        if at < 0:
            break
        start = at + len(quote) + 1
        found.append(Marker(n, start, start + len(marker)))
        pieces.append(f"{quote} {marker}")
        pos = start + len(marker)
    else:
        if " ".join(pieces) == text:  # the answer is exactly its quotes and their markers
            return found
    numbers = {n for n, _ in cites}
    return [Marker(int(m.group(1)), m.start(), m.end()) for m in _REF.finditer(text) if int(m.group(1)) in numbers]


def split_markers(text: str, citations: Iterable[Any]) -> list[tuple[str, int | None]]:
    """``text`` as runs of (document or user text, None) and (marker text, n), in order: renderers
    escape the first kind as plain text and make only the second kind a citation."""
    out: list[tuple[str, int | None]] = []
    last = 0
    for m in citation_markers(text, citations):
        if m.start > last:
            out.append((text[last:m.start], None))
        out.append((text[m.start:m.end], m.n))
        last = m.end
    if last < len(text or ""):
        out.append((text[last:], None))
    return out


def document_brackets(text: str, citations: Iterable[Any]) -> list[Marker]:
    """The bracketed numbers of ``text`` ("[2]") that are the documents' own, not citation markers, in
    text order: plain-text output (``assistant ask``) cannot style a marker apart from them, so it says
    which they are."""
    found, at = [], 0
    for run, n in split_markers(text, citations):
        if n is None:
            found += [Marker(int(m.group(1)), at + m.start(), at + m.end()) for m in _REF.finditer(run)]
        at += len(run)
    return found
