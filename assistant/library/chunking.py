"""Paragraphs → sentences → chunks, all as character offsets into the cleaned text.

Every chunk keeps its document id, paragraph number, offsets and its sentences' offsets, so any
sentence can be quoted verbatim (``text[start:end]``) with its location.

A sentence is the unit an answer quotes, so none is longer than ``MAX_SENTENCE_WORDS`` (the default
answer budget): a longer one (a run-on list, a page with no full stops) is cut at its clause
boundaries (after ";", ":", a dash, then ","), or, with none, between words. Each piece is still a
verbatim slice of the text.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .cleaning import CleanText

MAX_CHUNK_CHARS = 600
MAX_SENTENCE_WORDS = 80  # under the default ASSISTANT_MAX_ANSWER_WORDS (120); the longest sentence of the corpus has 62

_TOKEN = re.compile(r"\S+")
_CLAUSE_ENDS = (re.compile(r"[;:]$|^[—–-]+$|[—–]$"), re.compile(r",[”’\"')\]]*$"))  # strongest first

_BOUNDARY = re.compile(r"[.!?]+[”’\"')\]]*\s+(?=[“‘\"'(\[]?[A-Z0-9])")
_ABBREVIATIONS = {"mr", "mrs", "ms", "dr", "prof", "rt", "hon", "st", "no", "vs", "etc", "e.g", "i.e", "cf",
                  "co", "ltd", "inc", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct",
                  "nov", "dec", "para", "ch", "sec", "art", "fig", "approx", "dept", "govt", "a", "b", "c"}


@dataclass(frozen=True)
class Sentence:
    start: int
    end: int


@dataclass
class Chunk:
    """A retrieval unit: consecutive sentences of one paragraph."""

    id: str
    doc_id: str
    paragraph: int  # 1-based, counting every paragraph of the cleaned text
    start: int
    end: int
    text: str
    sentences: list[Sentence] = field(default_factory=list)
    heading: bool = False  # a heading line (a letter's date line, "LETTER FROM ..."): one sentence, itself


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Where the sentences of ``text`` start and end, trimmed of surrounding spaces: after ".", "!" or "?"
    (and any closing quote or bracket) and a space, before a capital, a digit or an opening quote or
    bracket; not after an abbreviation ("e.g.", "Mr.") or a single letter ("Annex B."). The one sentence
    splitter: documents are cut here (``split_sentences``) and so are LLM answers (``answer/verify.py``)."""
    spans, start = [], 0
    for match in _BOUNDARY.finditer(text):
        before = text[start:match.start()].rsplit(None, 1)
        word = before[-1].lower().rstrip(".") if before else ""
        if word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
            continue
        end = match.end() - (len(match.group()) - len(match.group().rstrip()))
        spans.append((start, end))
        start = match.end()
    if text[start:].strip():
        spans.append((start, len(text.rstrip())))
    return [(s, e) for s, e in spans if text[s:e].strip()]


def split_sentences(text: str, offset: int = 0) -> list[Sentence]:
    """Sentence spans of ``text`` (shifted by ``offset``), each at most ``MAX_SENTENCE_WORDS`` words."""
    return [Sentence(offset + a, offset + b) for s, e in sentence_spans(text) for a, b in cap_sentence(text, s, e)]


def cap_sentence(text: str, start: int, end: int, limit: int = MAX_SENTENCE_WORDS) -> list[tuple[int, int]]:
    """``text[start:end]`` as spans of at most ``limit`` words: cut after the last clause boundary that
    leaves a piece of at least a third of the limit (the strongest kind first), else between words."""
    if len(text[start:end].split()) <= limit:  # almost every sentence: no tokenising
        return [(start, end)]
    toks = [(m.start(), m.end()) for m in _TOKEN.finditer(text, start, end)]
    out, i = [], 0
    while len(toks) - i > limit:
        last = i + limit - 1
        cut = last
        for clause in _CLAUSE_ENDS:
            found = next((k for k in range(last, i + limit // 3 - 1, -1) if clause.search(text[toks[k][0]:toks[k][1]])), None)
            if found is not None:
                cut = found
                break
        out.append((toks[i][0], toks[cut][1]))
        i = cut + 1
    out.append((toks[i][0], end))
    return out


def chunk_document(doc_id: str, clean: CleanText, max_chars: int = MAX_CHUNK_CHARS) -> list[Chunk]:
    """Chunks of whole sentences, never crossing a paragraph. A heading line of the document's front
    matter (before its first paragraph of text: a date line, "LETTER FROM ... TO ...", the title) is a
    chunk of its own with one sentence, the whole line: questions about the document are answered from
    it. Section headings inside the text are not indexed (they name a topic, they answer nothing)."""
    chunks: list[Chunk] = []
    front = True
    for number, para in enumerate(clean.paragraphs, start=1):
        front = front and para.heading
        if para.heading and not front:
            continue
        if para.heading:
            line = clean.text[para.start:para.end]
            start = para.start + len(line) - len(line.lstrip())
            end = para.start + len(line.rstrip())
            if end > start:
                chunk = _make(doc_id, number, clean.text, [Sentence(start, end)], len(chunks))
                chunk.heading = True
                chunks.append(chunk)
            continue
        sentences = split_sentences(clean.text[para.start:para.end], para.start)
        group: list[Sentence] = []
        for sentence in sentences:
            if group and sentence.end - group[0].start > max_chars:
                chunks.append(_make(doc_id, number, clean.text, group, len(chunks)))
                group = []
            group.append(sentence)
        if group:
            chunks.append(_make(doc_id, number, clean.text, group, len(chunks)))
    return chunks


def _make(doc_id: str, paragraph: int, text: str, group: list[Sentence], i: int) -> Chunk:
    start, end = group[0].start, group[-1].end
    return Chunk(id=f"{doc_id}#{i}", doc_id=doc_id, paragraph=paragraph, start=start, end=end,
                 text=text[start:end], sentences=list(group))
