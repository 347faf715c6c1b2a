"""Verbatim quotes for the training features: every sentence of the live library with its location,
and a curated ``find`` string resolved to the one sentence that contains it.

Duty cards, the glossary and the quiz never write text of their own about the law: every line they
show is a ``Quote``, a slice ``text[start:end]`` of a document's cleaned text (the same reference
text that answers quote), carrying the document's title, date and status. A curated line that no
longer matches exactly one sentence raises ``SpecError`` naming the line, so a changed source can
never leave a stale or invented quote on screen.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, Field

from ..errors import AssistantError
from ..library.retrieval import Snapshot
from ..library.sources import Source


class SpecError(AssistantError):
    """The curated training specification does not match the documents in the library."""


class Quote(BaseModel):
    """One verbatim sentence of a source, with what the source is and where the sentence sits."""

    doc_id: str
    title: str
    publisher: str
    date: str
    date_approximate: bool
    display_date: str
    kind: str
    status: str = Field(description="What the source is, e.g. 'proposal under consultation'.")
    label: str
    quote: str = Field(description="Verbatim slice text[start:end] of the cleaned source.")
    location: str
    paragraph: int
    start: int
    end: int


@dataclass(frozen=True)
class Sentence:
    """A sentence of the live index: ``index`` into the snapshot's sentence vectors."""

    index: int
    doc_id: str
    paragraph: int
    start: int
    end: int
    text: str


class Library:
    """The live library's documents and sentences, in a stable order (document id, offset)."""

    def __init__(self, snapshot: Snapshot):
        self.snapshot = snapshot
        self.docs = snapshot.docs
        found = []
        for j, (start, end) in enumerate(snapshot.sentence_span):
            if snapshot.sentence_heading[j]:
                continue  # heading lines are not sentences a card or quiz can quote
            passage = snapshot.passages[snapshot.sentence_passage[j]]
            text = snapshot.docs[passage.doc_id].text[start:end]
            found.append(Sentence(j, passage.doc_id, passage.paragraph, start, end, text))
        self.sentences: list[Sentence] = sorted(found, key=lambda s: (s.doc_id, s.start))
        self.by_doc: dict[str, list[Sentence]] = {}
        for s in self.sentences:
            self.by_doc.setdefault(s.doc_id, []).append(s)
        self.versions = tuple(snapshot.versions)

    def source(self, doc_id: str) -> Source:
        return self.docs[doc_id].source

    def quote(self, s: Sentence) -> Quote:
        """The citation of sentence ``s``; asserts the slice still is the sentence."""
        doc = self.docs[s.doc_id]
        text = doc.text[s.start:s.end]
        if text != s.text or not text:
            raise SpecError(f"{s.doc_id}: the sentence at {s.start}-{s.end} has changed; rebuild the index.")
        src = doc.source
        return Quote(doc_id=src.id, title=src.title, publisher=src.publisher, date=src.date,
                     date_approximate=src.date_approximate, display_date=src.display_date, kind=src.kind,
                     status=src.status, label=src.citation_label, quote=text, location=f"paragraph {s.paragraph}",
                     paragraph=s.paragraph, start=s.start, end=s.end)

    def previous(self, s: Sentence) -> Sentence | None:
        """The sentence before ``s`` in the same paragraph (None when ``s`` opens it)."""
        sentences = self.by_doc[s.doc_id]
        i = sentences.index(s)
        before = sentences[i - 1] if i else None
        return before if before is not None and before.paragraph == s.paragraph else None

    def quote_span(self, first: Sentence, last: Sentence) -> Quote:
        """One verbatim slice from the start of ``first`` to the end of ``last`` (consecutive sentences
        of one paragraph): a sentence that leans on the one before it, quoted with that sentence."""
        head, tail = self.quote(first), self.quote(last)
        text = self.docs[first.doc_id].text[first.start:last.end]
        if first.doc_id != last.doc_id or first.paragraph != last.paragraph or "\n\n" in text:
            raise SpecError(f"{first.doc_id}: a quote may join sentences of one paragraph only.")
        return head.model_copy(update={"quote": text, "end": tail.end})

    def find(self, doc_id: str, needle: str, where: str = "") -> Sentence:
        """The one sentence of ``doc_id`` that contains ``needle`` verbatim; ``SpecError`` otherwise."""
        at = f" ({where})" if where else ""
        if doc_id not in self.by_doc:
            raise SpecError(f"training spec{at}: no document '{doc_id}' in the library.")
        hits = [s for s in self.by_doc[doc_id] if needle in s.text]
        if len(hits) != 1:
            what = "no sentence" if not hits else f"{len(hits)} sentences"
            raise SpecError(f"training spec{at}: {what} of '{doc_id}' contain “{needle}”; the source has "
                            "changed or the find string is not distinctive.")
        return hits[0]

    def similarity(self, a: Sentence, b: Sentence) -> float:
        """Cosine of the two sentences' stored vectors (the index's own embeddings)."""
        v = self.snapshot.sentence_vectors
        return float(np.dot(v[a.index], v[b.index]))
