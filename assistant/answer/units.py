"""Quotes that stand on their own: a sentence widened to the span a reader can understand alone.

A sentence that leans on the one before it ("However, ...", "He said: ...", "The association also
...") is quoted together with that sentence, and a quote is widened until its quotation marks
balance (a speech split over several sentences); a closing mark with no opening one in its paragraph is
a stray of the source, not counted. The result is still one verbatim slice of the
document, ``text[start:end]``, under one [n]. When no such slice exists inside the passage (the
sentence it leans on is behind a heading, or the text's first), it is still quoted, but never first;
a speech that never closes is not quoted at all. Which words make a sentence lean back is data (``data/dialogue.toml``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from .dialogue import dialogue
from .memo import per_snapshot

MAX_WIDEN = 3  # sentences added at most to balance a quotation


@lru_cache(maxsize=1)
def _dependent() -> tuple[re.Pattern, re.Pattern]:
    d = dialogue()
    openers = sorted(d["dependent_openers"], key=len, reverse=True)
    start = re.compile(r"^\W*(?:" + "|".join(re.escape(o) for o in openers) + r")\b")
    early = re.compile(r"^\W*The\s+[a-z][\w’'-]*(?:\s+[a-z][\w’'-]*)?\s+(?:"
                       + "|".join(re.escape(w) for w in d["dependent_after_the_noun"]) + r")\b")
    return start, early


def depends_on_previous(sentence: str) -> bool:
    """True when the sentence needs the one before it to make sense ("However, ...", "He said ...")."""
    start, early = _dependent()
    return bool(start.search(sentence) or early.search(sentence))


_TAG = re.compile(r"<[^<>]*>")
_MARKUP_QUOTE = re.compile(r'(?<=[=<>/])"|"(?=[=<>/])')


def quotes_balance(text: str) -> int:
    """Open minus closed quotation marks: 0 balanced, > 0 a speech left open, < 0 one closed that opened
    before. Straight quotes inside a markup tag (``<b id="x">``) or touching = < > / are not speech
    and are not counted."""
    straight = len(_MARKUP_QUOTE.sub("", _TAG.sub("", text)).split('"')) - 1
    return text.count("“") - text.count("”") + straight % 2


def stray_closers(text: str, start: int, end: int) -> int:
    """How many closing marks ” in ``text[start:end]`` have no opening “ before them in their paragraph
    (the text between blank lines): strays of the source (the ADCS's "... regard to them”, as proposed"),
    not the end of a speech begun earlier. Opening and closing marks are paired by nesting."""
    lo = text.rfind("\n\n", 0, start)
    lo = 0 if lo < 0 else lo + 2
    depth = strays = 0
    for k in range(lo, end):
        ch = text[k]
        if ch == "“":
            depth += 1
        elif ch == "”":
            if depth:
                depth -= 1
            elif k >= start:
                strays += 1
    return strays


def balance_at(text: str, start: int, end: int) -> int:
    """``quotes_balance`` of the slice ``text[start:end]`` of a document, stray closing marks not counted."""
    return quotes_balance(text[start:end]) + stray_closers(text, start, end)


@dataclass(frozen=True)
class Unit:
    start: int
    end: int
    sentences: tuple[int, ...]  # the sentence indices it covers, in text order
    leans: bool = False  # it leans on a sentence it could not be joined to: never the opening quote


def _document_order(snap, doc_id: str) -> list[int]:
    """The document's sentences in text order, across passage boundaries (once per snapshot)."""
    memo = per_snapshot(snap, "sentence_order", dict)
    if doc_id not in memo:
        seen: dict[int, int] = {}
        for p in snap.passages:
            if p.doc_id == doc_id:
                for j in p.sentences:
                    seen.setdefault(snap.sentence_span[j][0], j)  # overlapping passages: one copy
        memo[doc_id] = [seen[start] for start in sorted(seen)]
    return memo[doc_id]


def sentence_unit(snap, j: int) -> Unit:
    """Sentence ``j`` quoted alone, as it is (what a quote is until the ``stand_alone`` step widens it)."""
    return Unit(*snap.sentence_span[j], (j,))


def unit_for(snap, j: int) -> Unit | None:
    """Sentence ``j`` as a quote that stands on its own (``leans`` when the sentence it depends on cannot
    be joined to it), or None when its quotation marks cannot be balanced."""
    doc_id = snap.passages[snap.sentence_passage[j]].doc_id
    if snap.sentence_heading[j]:
        return Unit(*snap.sentence_span[j], (j,))
    order = _document_order(snap, doc_id)
    text = snap.docs[doc_id].text
    start = snap.sentence_span[j][0]
    i = next(k for k, x in enumerate(order) if snap.sentence_span[x][0] == start)

    def joinable(k: int) -> bool:
        """Sentence ``order[k]`` can take the one before it: nothing but white space between them
        (no heading or dropped line), and that one is not a heading."""
        if k == 0 or snap.sentence_heading[order[k - 1]]:
            return False
        return not text[snap.sentence_span[order[k - 1]][1]:snap.sentence_span[order[k]][0]].strip()

    lo = hi = i
    leans = False
    while depends_on_previous(snap.sentence_text(order[lo])) and lo > i - 2:
        if not joinable(lo):
            leans = True
            break
        lo -= 1
    else:
        leans = depends_on_previous(snap.sentence_text(order[lo]))

    def balance() -> int:  # the quotation marks of the span, a stray closing mark of the source not counted
        return balance_at(text, snap.sentence_span[order[lo]][0], snap.sentence_span[order[hi]][1])

    for _ in range(MAX_WIDEN):
        marks = balance()
        if marks > 0 and hi + 1 < len(order) and not snap.sentence_heading[order[hi + 1]] \
                and not text[snap.sentence_span[order[hi]][1]:snap.sentence_span[order[hi + 1]][0]].strip():
            hi += 1
        elif marks < 0 and joinable(lo):
            lo -= 1
        else:
            break
    if balance() != 0:
        return None
    return Unit(snap.sentence_span[order[lo]][0], snap.sentence_span[order[hi]][1], tuple(order[lo:hi + 1]),
                leans or depends_on_previous(snap.sentence_text(order[lo])))
