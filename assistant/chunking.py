"""Paragraphs → sentences → chunks, all as character offsets into the cleaned text.

Every chunk keeps its document id, paragraph number, offsets and its sentences' offsets, so any
sentence can be quoted verbatim (``text[start:end]``) with its location.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .cleaning import CleanText

MAX_CHUNK_CHARS = 600

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


def split_sentences(text: str, offset: int = 0) -> list[Sentence]:
    """Sentence spans of ``text`` (shifted by ``offset``), trimmed of surrounding spaces."""
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
    return [Sentence(offset + s, offset + e) for s, e in spans if text[s:e].strip()]


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
