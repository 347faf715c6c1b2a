"""Hybrid retrieval: dense (Chroma) + BM25 (bm25s), fused by reciprocal rank, near-duplicate
passages merged (several reports repeat the same facts).

``Snapshot`` is the in-memory view of the live index: passages for BM25, sentence vectors for
sentence scoring, and the documents' cleaned text and metadata for citations. It is rebuilt when the
catalog changes, so several processes sharing one Chroma server stay consistent.
"""
from __future__ import annotations

import functools
import math
import re
from collections import Counter
from dataclasses import dataclass, field

import bm25s
import numpy as np

from .sources import Source
from .store import Store
from ..text import STOPWORDS, normalise, tokens


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


@dataclass
class Hit:
    passage: int  # index into Snapshot.passages
    score: float  # fused score
    dense: float  # cosine of the passage to the query (0 if not in the dense list)


class Snapshot:
    def __init__(self, store: Store):
        self.docs: dict[str, DocView] = {}
        for rec in store.documents().values():
            self.docs[rec.doc_id] = DocView.from_record(rec.doc_id, rec.version, rec.text, rec.meta)
        self.versions = sorted(d.version for d in self.docs.values())
        versions = set(self.versions)
        chunks = store.live_records(store.chunks, versions, ["metadatas", "documents", "embeddings"])
        sents = store.live_records(store.sentences, versions, ["metadatas", "embeddings"])
        order = sorted(range(len(chunks["ids"])), key=lambda i: (chunks["metadatas"][i]["doc_id"],
                                                                 chunks["metadatas"][i]["start"]))
        self.passages: list[Passage] = []
        self.passage_index: dict[str, int] = {}
        for i in order:
            m = chunks["metadatas"][i]
            self.passage_index[chunks["ids"][i]] = len(self.passages)
            self.passages.append(Passage(chunks["ids"][i], m["doc_id"], m["paragraph"], m["start"], m["end"],
                                         chunks["documents"][i]))
        dim = len(sents["embeddings"][0]) if sents["ids"] else 384
        self.passage_vectors = (np.asarray([chunks["embeddings"][i] for i in order], dtype=np.float32)
                                if order else np.zeros((0, dim), np.float32))
        s_order = sorted(range(len(sents["ids"])), key=lambda i: (sents["metadatas"][i]["chunk"],
                                                                  sents["metadatas"][i]["start"]))
        self.sentence_vectors = (np.asarray([sents["embeddings"][i] for i in s_order], dtype=np.float32)
                                 if s_order else np.zeros((0, dim), np.float32))
        self.sentence_passage = np.zeros(len(s_order), dtype=np.int32)
        self.sentence_span: list[tuple[int, int]] = []
        # A heading line (date line, "LETTER FROM ..."): quotable about its document, never joined to a sentence.
        self.sentence_heading = np.zeros(len(s_order), dtype=bool)
        for j, i in enumerate(s_order):
            m = sents["metadatas"][i]
            self.sentence_heading[j] = bool(m.get("heading", False))
            p = self.passage_index[m["chunk"]]
            self.sentence_passage[j] = p
            self.sentence_span.append((m["start"], m["end"]))
            self.passages[p].sentences.append(j)
        self.sentence_tokens = [set(tokens(self.sentence_text(j))) for j in range(len(s_order))]
        self.bank = BankView.load(store, [self.sentence_text(j) for j in range(len(s_order))], dim)
        # What a document is (title, kind, publisher) is context for each of its passages:
        # "the Secretary of State's letter" should find the letter's passages.
        self.doc_tokens = {d: set(tokens(f"{v.source.title} {v.source.kind} {v.source.publisher} {v.source.author} "
                                         f"{v.source.display_date}"))
                           for d, v in self.docs.items()}
        corpus_tokens = [tokens(p.text) + sorted(self.doc_tokens[p.doc_id]) for p in self.passages]
        self.bm25 = _bm25(corpus_tokens) if corpus_tokens else None
        df = Counter(t for toks in corpus_tokens for t in set(toks))
        n = max(len(corpus_tokens), 1)
        self.idf = {t: math.log(1 + n / c) for t, c in df.items()}
        self.max_idf = math.log(1 + n)
        self.vocabulary = sorted(df)
        counts = Counter(w for d in self.docs.values() for w in _SURFACE.findall(normalise(d.text)))
        self.surface = sorted(counts)
        self._surface_set = set(self.surface)
        self._counts = counts  # each word of the documents and how often they use it: the speller's dictionary
        self._fixes: dict[str, str | None] = {}  # memo: misspelt word → correction (None: none)
        years = [int(v.source.date[:4]) for v in self.docs.values() if v.source.date[:4].isdigit()]
        self.latest_year = max(years) if years else None

    def sentence_text(self, j: int) -> str:
        p = self.passages[self.sentence_passage[j]]
        s, e = self.sentence_span[j]
        return self.docs[p.doc_id].text[s:e]

    def bm25_scores(self, query_tokens: list[str]) -> np.ndarray:
        """Okapi BM25 (Lucene's variant) of every passage for ``query_tokens``, from bm25s's sparse matrix of
        precomputed term scores: a query word adds its column, a word no passage has adds nothing."""
        ids = self.bm25.get_tokens_ids(query_tokens) if self.bm25 else []
        if not ids:
            return np.zeros(len(self.passages), dtype=np.float64)
        return np.asarray(self.bm25.get_scores(ids), dtype=np.float64)

    def correct_text(self, text: str, mend: bool = True) -> str:
        """The question with misspelt words replaced by the closest word in the documents, so the
        embedding sees "bodies ... co-operate", not "bodys ... co-operat": the fewest edits (a swap of two
        letters is one), the documents' most frequent word among equals (``_closest``).

        Only a word that is neither in the documents nor an English word (``english_word``) is a
        misspelling. Without that check every everyday word the documents happen not to use was
        "mended" into one they do, changing the question: meals → means, policy → police, heard →
        head, talking → taking, wanted → warned. ``mend=False`` (the ``spelling`` ablation): ``text`` as it is."""
        if not mend:
            return text

        def fix(m: re.Match) -> str:
            w = m.group(0)
            low = normalise(w)
            if len(low) < 5 or low in self._surface_set or low in STOPWORDS:
                return w
            if low not in self._fixes:
                self._fixes[low] = None if english_word(low) else _closest(low, self.speller)
            return self._fixes[low] or w
        return _SURFACE_WORD.sub(fix, text)

    @functools.cached_property
    def speller(self):
        """The spelling mender's dictionary (``_speller``), built on the first misspelling."""
        return _speller(self._counts)

    def search_tokens(self, text: str, mend: bool = True) -> list[str]:
        """BM25's words for ``text``: its stemmed words after ``correct_text``, so a misspelt word finds
        the passages its correction is in ("acadamies" → academy)."""
        return tokens(self.correct_text(text, mend))


@dataclass
class BankView:
    """The question bank as the answer path reads it (``library/bank.py``): each bank question's vector
    and the live sentences it points to (its text stays in the index: nothing here reads it) (none for a question the documents do not cover, or
    whose sentences are not in the library now)."""

    vectors: np.ndarray
    sentences: list[tuple[int, ...]]
    covered: np.ndarray  # bool per row: it points to a sentence of the live library
    not_covered: np.ndarray  # bool per row: a question the documents do not cover (a [[topic]] entry)
    by_sentence: dict[int, np.ndarray]  # sentence → its rows
    version: str = ""

    @classmethod
    def load(cls, store: Store, sentence_texts: list[str], dim: int) -> "BankView":
        from .bank import sentence_key

        key_to_j: dict[str, int] = {}
        for j, text in enumerate(sentence_texts):
            key_to_j.setdefault(sentence_key(text), j)
        got = store.bank_rows()
        n = len(got["ids"])
        vectors = np.asarray(got["embeddings"], dtype=np.float32) if n else np.zeros((0, dim), np.float32)
        sentences, by_sentence = [], {}
        for i, meta in enumerate(got["metadatas"]):
            keys = [k for k in str(meta.get("anchors", "")).split(",") if k]
            js = tuple(sorted({key_to_j[k] for k in keys if k in key_to_j}))
            sentences.append(js)
            for j in js:
                by_sentence.setdefault(j, []).append(i)
        not_covered = np.asarray([not str(m.get("anchors", "")) for m in got["metadatas"]], dtype=bool)
        covered = np.asarray([bool(js) for js in sentences], dtype=bool)
        return cls(vectors, sentences, covered, not_covered,
                   {j: np.asarray(rows, dtype=np.int64) for j, rows in by_sentence.items()}, store.bank_version())

    def __post_init__(self) -> None:
        self.vectors = np.ascontiguousarray(self.vectors, dtype=np.float32)
        self.n_covered = int(self.covered.sum())
        self.n_not_covered = int(self.not_covered.sum())

    def __len__(self) -> int:
        return len(self.sentences)


@functools.cache
def _english():
    from spellchecker import SpellChecker

    return SpellChecker(language="en", distance=1)


def english_word(word: str) -> bool:
    """Whether ``word`` (lower case) is in pyspellchecker's English word list (~160,000 words with their
    inflections, from its installed data: no network). A possessive counts as its word (pupils', heads')."""
    checker = _english()
    return bool(checker.known([word])) or (word.endswith("'") and bool(checker.known([word[:-1]])))


def _speller(counts: Counter):
    """A SymSpell dictionary (symspellpy) of the documents' words and how often they use them, plus the
    singular of a plural they use when it is an English word ("forums" → "forum", so "fourm" is the forum,
    not "form"): the words a misspelling of the library's own terms is mended to."""
    from symspellpy import SymSpell

    speller = SymSpell(max_dictionary_edit_distance=MAX_EDITS)
    words = Counter(counts)
    for w, n in counts.items():
        if w.endswith("s") and not w.endswith("ss") and w[:-1] not in counts and english_word(w[:-1]):
            words[w[:-1]] += n
    for w, n in words.items():
        speller.create_dictionary_entry(w, n)
    return speller


MAX_EDITS = 2  # a misspelling is at most two edits (insert, delete, change, swap two letters) from its word


def _closest(word: str, speller) -> str | None:
    """The documents' word fewest edits from ``word`` (Damerau-Levenshtein: a swap of two neighbouring
    letters is one edit), the most frequent among equals; at most one edit for a word under 8 letters
    (two edits turn "start" into "state"), None when none is that close."""
    from symspellpy import Verbosity

    found = speller.lookup(word, Verbosity.CLOSEST, max_edit_distance=1 if len(word) < 8 else MAX_EDITS)
    return found[0].term if found else None


def _bm25(corpus_tokens: list[list[str]]) -> bm25s.BM25:
    """bm25s's index of the passages' words (k1 1.5, b 0.75, as rank-bm25's ``BM25Okapi`` had), built from our
    own tokens (``text.tokens``: stemmed, stop words out) so questions and passages meet word for word. It can be
    saved and memory-mapped (``BM25.save`` / ``BM25.load(mmap=True)``): a lexical index that need not be rebuilt."""
    index = bm25s.BM25(k1=1.5, b=0.75, method="lucene", dtype="float64")
    index.index(corpus_tokens, show_progress=False)
    return index


_SURFACE = re.compile(r"[a-z][a-z']*(?:-[a-z]+)*")
_SURFACE_WORD = re.compile(r"[A-Za-z][A-Za-z'’]*(?:-[A-Za-z]+)*")


class Retriever:
    def __init__(self, store: Store, snapshot: Snapshot, dense_k: int, bm25_k: int, fused_k: int,
                 rrf_k: int, dedup_threshold: float, keep_each: int = 2):
        self.store, self.snap = store, snapshot
        self.keep_each = keep_each
        self.dense_k, self.bm25_k, self.fused_k, self.rrf_k = dense_k, bm25_k, fused_k, rrf_k
        self.dedup_threshold = dedup_threshold

    def dense(self, vector: np.ndarray) -> list[tuple[int, float]]:
        hits = self.store.query_chunks(vector, self.dense_k, self.snap.passage_index)
        return [(self.snap.passage_index[rid], score) for rid, score in hits]

    def lexical(self, query_tokens: list[str]) -> list[tuple[int, float]]:
        if not self.snap.bm25 or not query_tokens:
            return []
        scores = self.snap.bm25_scores(query_tokens)
        k = min(self.bm25_k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(int(i), float(scores[i])) for i in top if scores[i] > 0]

    def search(self, vector: np.ndarray, query_tokens: list[str], usable=None) -> list[Hit]:
        """Reciprocal-rank fusion of both lists, then near-duplicates dropped (best kept). ``usable``
        (passage index → bool) skips passages that could never be quoted, so they take no place."""
        dense = self.dense(vector)
        lexical = self.lexical(query_tokens)
        if usable is not None:  # before fusion, so they hold no rank and none of the kept top places
            dense = [(p, x) for p, x in dense if usable(p)]
            lexical = [(p, x) for p, x in lexical if usable(p)]
        fused: dict[int, float] = {}
        for ranked in (dense, lexical):
            for rank, (p, _) in enumerate(ranked):
                fused[p] = fused.get(p, 0.0) + 1.0 / (self.rrf_k + rank + 1)
        dense_score = dict(dense)
        kept: list[Hit] = []
        # Each list's own top few always survive fusion: a passage that only one retriever finds
        # (a rare name for BM25, a paraphrase for dense) is often exactly the answer.
        order = [p for ranked in (dense, lexical) for p, _ in ranked[: self.keep_each]]
        order += sorted(fused, key=fused.get, reverse=True)
        for p in dict.fromkeys(order):
            v = self.snap.passage_vectors[p]
            if any(float(v @ self.snap.passage_vectors[h.passage]) > self.dedup_threshold for h in kept):
                continue
            kept.append(Hit(p, fused[p], dense_score.get(p, float(v @ vector))))
            if len(kept) >= self.fused_k:
                break
        return kept
