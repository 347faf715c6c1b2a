"""The quiz answer key: why the right option is right, and what the tempting wrong one refers to.

Issue 31: every explanation read "These are the source's own words ...". Now each one quotes the words of
the source around the answer (verbatim fragments, the answer itself left out, so the key never just
repeats it) and, for the wrong option most likely to tempt (the one named in the library sentence
closest in meaning to the question's), the words around it in that sentence and which source says
them. The sentences are the library's; the wording of the key is ``[quiz.explain]`` in training.toml.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .quotes import Library, Sentence

WINDOW = 8  # words of the source quoted on each side of a term
_STOP = re.compile(r"[;:!?]|\.(?=\s|$)")  # a fragment does not run past the end of a clause


@dataclass(frozen=True)
class Elsewhere:
    """Where the library names a wrong option: the sentence and the term's offsets in it."""

    sentence: Sentence
    start: int
    end: int


def _word(word: str) -> str:
    return rf"(?<![\w-]){re.escape(word)}(?![\w-])"


def _from(text: str, start: int, words: int, avoid: list[str]) -> int:
    """Where the up-to-``words`` words before ``start`` begin: within the clause, after any word of ``avoid``."""
    stops = list(_STOP.finditer(text, 0, start))
    lo = stops[-1].end() if stops else 0
    spaces = [m.start() + 1 for m in re.finditer(" ", text[lo:start].rstrip())]
    at = lo + spaces[-words] if len(spaces) >= words else lo
    for word in avoid:
        found = list(re.finditer(_word(word), text[at:start], re.I))
        if found:
            at += found[-1].end()
    return at


def _to(text: str, end: int, words: int, avoid: list[str]) -> int:
    """Where the up-to-``words`` words after ``end`` end: within the clause, before any word of ``avoid``."""
    stop = _STOP.search(text, end)
    hi = stop.start() if stop else len(text)
    spaces = [end + m.start() for m in re.finditer(" ", text[end:hi].lstrip()) if m.start()]
    lead = len(text[end:hi]) - len(text[end:hi].lstrip())
    spaces = [x + lead for x in spaces]
    to = spaces[words - 1] if len(spaces) >= words else hi
    for word in avoid:
        m = re.search(_word(word), text[end:to], re.I)
        if m:
            to = end + m.start()
    return to


_LOOSE = re.compile(r"(?:\s+(?:and|or|the|a|an|of|to|in|for|by|with|as))+$", re.I)


def _clean(fragment: str) -> str:
    """A fragment without loose punctuation or a dangling small word at its end."""
    edge = " ,–—(‘’'"
    while True:
        before = fragment
        fragment = _LOOSE.sub("", fragment.strip(edge)).strip(edge)
        opened, closed = fragment.count("“"), fragment.count("”")
        if fragment.endswith("“") or (fragment.endswith("”") and closed > opened):
            fragment = fragment[:-1]
        if fragment.startswith("”") or (fragment.startswith("“") and opened > closed):
            fragment = fragment[1:]
        if fragment.count('"') % 2 and fragment[-1:] == '"':
            fragment = fragment[:-1]
        elif fragment.count('"') % 2 and fragment[:1] == '"':
            fragment = fragment[1:]
        if fragment == before:
            break
    if fragment.count("“") > fragment.count("”"):  # a quotation opened inside and not closed: end it there
        fragment = fragment[:fragment.rfind("“")]
    return _LOOSE.sub("", fragment.strip(edge)).strip(edge)


def quoted(parts: list[str]) -> str:
    """Verbatim fragments of one sentence, in quotation marks, with an ellipsis where words are left out."""
    parts = [_clean(p) for p in parts]
    parts = [p for p in parts if len(re.findall(r"\w+", p)) >= 2]
    return " … ".join(f"“{p}”" for p in parts) if parts else "the sentence quoted below"


def around(text: str, start: int, end: int, avoid: list[str]) -> str:
    """The source's words on both sides of ``text[start:end]``, without it (or any word in ``avoid``)."""
    return quoted([text[_from(text, start, WINDOW, avoid):start], text[end:_to(text, end, WINDOW, avoid)]])


def with_term(text: str, start: int, end: int, avoid: list[str]) -> str:
    """The words around ``text[start:end]`` with the term itself: one verbatim fragment."""
    return quoted([text[_from(text, start, 5, avoid):_to(text, end, 5, avoid)]])


def nearest(library: Library, s: Sentence, places: list[Elsewhere]) -> Elsewhere | None:
    """The place closest in meaning to sentence ``s`` (None when there is none)."""
    return max(places, key=lambda p: (library.similarity(s, p.sentence), -p.sentence.start), default=None)
