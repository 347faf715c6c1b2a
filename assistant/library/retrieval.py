"""Hybrid retrieval: dense (Chroma) + BM25 (rank-bm25), fused by reciprocal rank, near-duplicate
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
from dataclasses import dataclass

import numpy as np

from . import snapshot_cache
from .snapshot_views import DocView, Passage, PassageList, SentenceTokens, Spans, StoredDoc  # noqa: F401
from .store import Store
from ..text import STOPWORDS, normalise, tokens


@dataclass
class Hit:
    passage: int  # index into Snapshot.passages
    score: float  # fused score
    dense: float  # cosine of the passage to the query (0 if not in the dense list)


class Snapshot:
    """The live index as the answer steps read it. Its arrays are memory-mapped from this machine's
    snapshot of the library (``snapshot_cache``: built once per library version), and everything else is
    made on first use, so a process start reads what a question needs, not the library (issue 33)."""

    def __init__(self, store: Store):
        got = store.catalog.get(include=["metadatas"])
        entries = {d: (str((m or {}).get("version", "")), dict(m or {})) for d, m in zip(got["ids"], got["metadatas"])}
        stored, entries = snapshot_cache.open_or_build(store, entries, _doc_tokens)
        self._stored = stored
        index = {d: i for i, d in enumerate(stored.strings("doc_ids"))}
        self.docs: dict[str, DocView] = {}
        for doc_id, (version, meta) in entries.items():
            meta = {k: v for k, v in meta.items() if k not in ("version", "raw_hash")}
            self.docs[doc_id] = StoredDoc.from_record(doc_id, version, "", meta)
            self.docs[doc_id].read = functools.partial(stored.doc_text, index[doc_id])
        self.versions = sorted(d.version for d in self.docs.values())
        self.passage_vectors = np.asarray(stored["passage_vectors"])
        self.sentence_vectors = np.asarray(stored["sentence_vectors"])
        self.sentence_passage = np.asarray(stored["sentence_passage"])
        # A heading line (date line, "LETTER FROM ..."): quotable about its document, never joined to a sentence.
        self.sentence_heading = np.asarray(stored["sentence_heading"])
        self.sentence_span = Spans(np.asarray(stored["sentence_span"]))
        self._doc_of_sentence = np.asarray(stored["sentence_doc"])
        self._doc_ids = stored.strings("doc_ids")
        self.passages = PassageList(np.asarray(stored["passage_meta"]), np.asarray(stored["passage_sentences"]),
                                    np.asarray(stored["passage_sentence_starts"]), lambda: self.passage_ids,
                                    self._doc_ids, stored.doc_text)
        self.sentence_tokens = SentenceTokens(len(self.sentence_span), self.sentence_text)
        self.bm25 = stored if len(self.passages) else None
        self.max_idf = math.log(1 + max(len(self.passages), 1))
        # What a document is (title, kind, publisher) is context for each of its passages:
        # "the Secretary of State's letter" should find the letter's passages.
        self.doc_tokens = _doc_tokens(entries, self.docs)
        dim = self.sentence_vectors.shape[1]
        keys: dict[str, int] = {}
        for j, k in enumerate(stored.strings("sentence_keys")):
            keys.setdefault(k, j)
        self.bank = BankView.from_keys(store, keys, dim)
        self._fixes: dict[str, str | None] = {}  # memo: misspelt word → correction (None: none)
        years = [int(v.source.date[:4]) for v in self.docs.values() if v.source.date[:4].isdigit()]
        self.latest_year = max(years) if years else None

    @functools.cached_property
    def passage_ids(self) -> list[str]:
        return self._stored.strings("passage_ids")

    @functools.cached_property
    def passage_index(self) -> dict[str, int]:
        return {rid: p for p, rid in enumerate(self.passage_ids)}

    @functools.cached_property
    def idf(self) -> dict[str, float]:
        return dict(zip(self._stored.strings("vocab"), self._stored["idf"].tolist()))

    @functools.cached_property
    def vocabulary(self) -> list[str]:
        return sorted(self._stored.strings("vocab"))

    @functools.cached_property
    def _terms(self) -> dict[str, int]:
        return {t: i for i, t in enumerate(self._stored.strings("vocab"))}

    @functools.cached_property
    def _counts(self) -> Counter:
        """Each word of the documents and how often they use them: the speller's dictionary."""
        return Counter(dict(zip(self._stored.strings("surface"), self._stored["surface_counts"].tolist())))

    @functools.cached_property
    def surface(self) -> list[str]:
        return sorted(self._counts)

    @functools.cached_property
    def _surface_set(self) -> set[str]:
        return set(self._stored.strings("surface"))

    def sentence_text(self, j: int) -> str:
        s, e = self.sentence_span[j]
        return self._stored.doc_text(int(self._doc_of_sentence[j]))[s:e]

    def bm25_scores(self, query_tokens: list[str]) -> np.ndarray:
        """Okapi BM25 of every passage, the same numbers as ``BM25Okapi.get_scores``, but summed over
        each query word's postings instead of a Python loop over every passage (≈500× faster at 6k)."""
        scores = np.zeros(len(self.passages), dtype=np.float64)
        indptr = self._stored["bm25_indptr"]
        for t in query_tokens:
            if t in self._terms:
                a, b = indptr[self._terms[t]], indptr[self._terms[t] + 1]
                scores[self._stored["bm25_rows"][a:b]] += self._stored["bm25_weights"][a:b]
        return scores

    def correct_text(self, text: str) -> str:
        """The question with misspelt words replaced by the closest word in the documents, so the
        embedding sees "bodies ... co-operate", not "bodys ... co-operat": the fewest edits (a swap of two
        letters is one), the documents' most frequent word among equals (``_closest``).

        Only a word that is neither in the documents nor an English word (``english_word``) is a
        misspelling. Without that check every everyday word the documents happen not to use was
        "mended" into one they do, changing the question: meals → means, policy → police, heard →
        head, talking → taking, wanted → warned. (The ``spelling`` ablation leaves out the step that calls this:
        ``evals/variants.py``.)"""

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

    def search_tokens(self, text: str) -> list[str]:
        """BM25's words for ``text``: its stemmed words after ``correct_text``, so a misspelt word finds
        the passages its correction is in ("acadamies" → academy)."""
        return tokens(self.correct_text(text))


def _doc_tokens(entries: dict[str, tuple[str, dict]], docs: dict[str, DocView] | None = None) -> dict[str, set[str]]:
    """Each document's title, kind, publisher, author and date as words (they enter BM25 with its passages)."""
    if docs is None:
        docs = {d: DocView.from_record(d, v, "", {k: x for k, x in m.items() if k not in ("version", "raw_hash")})
                for d, (v, m) in entries.items()}
    return {d: set(tokens(f"{v.source.title} {v.source.kind} {v.source.publisher} {v.source.author} "
                          f"{v.source.display_date}"))
            for d, v in docs.items()}


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
        return cls.from_keys(store, key_to_j, dim)

    @classmethod
    def from_keys(cls, store: Store, key_to_j: dict[str, int], dim: int) -> "BankView":
        """From each live sentence's key (``bank.sentence_key``: the first sentence of each) and index."""
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
