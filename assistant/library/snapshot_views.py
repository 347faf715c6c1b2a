"""The snapshot's parts as the answer steps read them (``retrieval.Snapshot``): passages, documents,
sentence spans and word sets made from the memory-mapped arrays of ``snapshot_cache`` when first read,
so opening a snapshot costs nothing per passage or sentence (issue 33)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .sources import Source
from ..text import tokens


@dataclass
class Passage:
    id: str
    doc_id: str
    paragraph: int
    start: int
    end: int
    text: str
    sentences: list[int] = field(default_factory=list)  # indices into Snapshot.sentence_*


@dataclass
class DocView:
    source: Source
    text: str
    version: str
    n_passages: int

    @classmethod
    def from_record(cls, doc_id: str, version: str, text: str, meta: dict) -> "DocView":
        """From a catalog entry (Chroma's, or the catalog file's): only the metadata ``Source`` knows."""
        fields = {k: v for k, v in meta.items() if k in Source.model_fields}
        return cls(Source(id=doc_id, **fields), text, version, int(meta.get("n_passages", 0)))


class StoredDoc(DocView):
    """A document whose text is read from the snapshot when first asked for (``read``)."""

    read = None

    @property
    def text(self) -> str:
        return self.read()

    @text.setter
    def text(self, value: str) -> None:  # the dataclass's __init__ sets it; the snapshot holds it
        pass


class Spans:
    """Each sentence's (start, end) in its document's text, as Python ints, from the snapshot's array."""

    def __init__(self, array: np.ndarray):
        self.array = array

    def __len__(self) -> int:
        return len(self.array)

    def __getitem__(self, j) -> tuple[int, int]:
        s, e = self.array[j]
        return int(s), int(e)

    def __iter__(self):
        return (tuple(row) for row in self.array.tolist())


class PassageList:
    """``Passage`` objects made from the snapshot's arrays when first read, kept after."""

    def __init__(self, meta: np.ndarray, members: np.ndarray, starts: np.ndarray, ids: Callable[[], list[str]],
                 doc_ids: list[str], doc_text: Callable[[int], str]):
        self.meta, self.members, self.starts = meta, members, starts  # (doc, paragraph, start, end); CSR of sentences
        self.ids, self.doc_ids, self.doc_text, self.made = ids, doc_ids, doc_text, {}
        self.all: list[Passage] | None = None

    def __len__(self) -> int:
        return len(self.meta)

    def __getitem__(self, p):
        if isinstance(p, slice):
            return [self[i] for i in range(len(self))[p]]
        p = int(p)
        if self.all is not None:
            return self.all[p]
        if p < 0:
            p += len(self)
        if p not in self.made:
            if not 0 <= p < len(self):
                raise IndexError(p)
            d, paragraph, start, end = self.meta[p].tolist()
            self.made[p] = Passage(self.ids()[p], self.doc_ids[d], paragraph, start, end, self.doc_text(d)[start:end],
                                   self.members[self.starts[p]:self.starts[p + 1]].tolist())
        return self.made[p]

    def __iter__(self):
        """Every passage, made once: the answer steps scan the list (a document's sentences in order)."""
        if self.all is None:
            self.all = [self[p] for p in range(len(self))]  # then read as a list (faster than one by one)
        return iter(self.all)


class SentenceTokens:
    """Each sentence's set of words (``text.tokens``), made when first read."""

    def __init__(self, n: int, text: Callable[[int], str]):
        self.n, self.text, self.made = n, text, {}

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, j) -> set[str]:
        j = int(j)
        if j not in self.made:
            self.made[j] = set(tokens(self.text(j)))
        return self.made[j]

    def __iter__(self):
        return (self[j] for j in range(len(self)))
