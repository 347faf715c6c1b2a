"""The live index's arrays on disk, so a process start reads what a question needs, not the library
(issue 33): sentence and passage vectors, spans, passage metadata, BM25 postings, idf and the documents'
text, written once per live library version as ``.npy`` files and opened memory-mapped.

Reading every vector from Chroma as Python lists was most of a cold start, and grew with the library.
The cache is keyed by the catalog (every document's id, version and metadata), so a changed library
is a new folder; it is written aside and renamed into place (a killed process leaves no half cache),
and a folder whose header does not match what is on disk is rebuilt, never trusted. An embedded
index keeps it inside its own folder (a rebuilt index swapped in brings none); with a Chroma server
each machine keeps one under its data folder, built once from the server per library version.
"""
from __future__ import annotations

import errno
import functools
import hashlib
import json
import logging
import math
import os
import re
import shutil
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Callable

import numpy as np

from ..config import Settings
from ..text import normalise, tokens
from .bank import sentence_key
from .store import Store

log = logging.getLogger(__name__)
FORMAT = 1
SURFACE = re.compile(r"[a-z][a-z']*(?:-[a-z]+)*")  # a word as the speller counts it
HEADER = "header.json"
_LISTS = ("doc_ids", "passage_ids", "vocab", "surface", "sentence_keys")


def cache_root(settings: Settings) -> Path:
    """Where this machine keeps the snapshots of the index it reads."""
    if settings.chroma_host:
        where = f"{settings.chroma_host}:{settings.chroma_port}/{settings.collection_prefix}"
        return Path(settings.data_dir) / "snapshot" / hashlib.sha1(where.encode()).hexdigest()[:16]
    return Path(settings.index_dir) / f"snapshot-{settings.collection_prefix}"


def catalog_key(entries: dict[str, tuple[str, dict]]) -> str:
    """A digest of the live catalog: every document's id, version and metadata (a title enters BM25)."""
    rows = sorted((doc_id, version, sorted(meta.items())) for doc_id, (version, meta) in entries.items())
    return hashlib.sha256(json.dumps([FORMAT, rows], default=str).encode()).hexdigest()[:32]


class Stored:
    """The snapshot's arrays (memory-mapped when read from the cache) and its word lists, read on use."""

    def __init__(self, arrays: dict[str, np.ndarray], lists: dict[str, Callable[[], list[str]]],
                 doc_text: Callable[[int], str]):
        self.arrays = arrays
        self._lists = lists
        self._doc_text = doc_text
        self._texts: dict[int, str] = {}
        self._strings: dict[str, list[str]] = {}  # per snapshot: an old one is freed with its maps

    def __getitem__(self, name: str) -> np.ndarray:
        return self.arrays[name]

    def strings(self, name: str) -> list[str]:
        if name not in self._strings:
            self._strings[name] = self._lists[name]()
        return self._strings[name]

    def doc_text(self, i: int) -> str:
        if i not in self._texts:
            self._texts[i] = self._doc_text(i)
        return self._texts[i]


def open_or_build(store: Store, entries: dict[str, tuple[str, dict]],
                  doc_tokens: Callable[[dict[str, tuple[str, dict]]], dict[str, set[str]]]
                  ) -> tuple[Stored, dict[str, tuple[str, dict]]]:
    """The snapshot of the live library: from this machine's cache when it holds this catalog's, else
    read from the index, written to the cache and returned with the catalog it was built from."""
    root = cache_root(store.settings)
    key = catalog_key(entries)
    stored = _open(root / key, key)
    if stored is not None:
        return stored, entries
    records = store.documents()
    entries = {r.doc_id: (r.version, {**r.meta, "version": r.version, "raw_hash": r.raw_hash})
               for r in records.values()}
    key = catalog_key(entries)
    arrays, lists, texts, whole = _build(store, records, doc_tokens(entries))
    if whole:
        try:
            _write(root, key, arrays, lists, texts, store.settings.min_free_bytes)
            stored = _open(root / key, key)
        except OSError as exc:  # a read-only or full disk: this process keeps it in memory
            log.warning("the index snapshot could not be saved in %s (%s); each start reads the whole library",
                        root, exc.strerror or exc)
    if stored is None:
        stored = Stored(arrays, {n: (lambda v=v: v) for n, v in lists.items()}, texts.__getitem__)
    return stored, entries


# ---- building it from the index ---------------------------------------------------------------------
def _build(store: Store, records: dict, doc_tokens: dict[str, set[str]]):
    from rank_bm25 import BM25Okapi

    doc_ids = list(records)
    doc_index = {d: i for i, d in enumerate(doc_ids)}
    texts = [records[d].text for d in doc_ids]
    versions = {r.version for r in records.values()}
    chunks = store.live_records(store.chunks, versions, ["metadatas", "documents", "embeddings"])
    sents = store.live_records(store.sentences, versions, ["metadatas", "embeddings"])
    cm, sm = chunks["metadatas"], sents["metadatas"]
    order = sorted(range(len(chunks["ids"])), key=lambda i: (cm[i]["doc_id"], cm[i]["start"]))
    passage_ids = [chunks["ids"][i] for i in order]
    passage_index = {rid: p for p, rid in enumerate(passage_ids)}
    meta = np.asarray([[doc_index[cm[i]["doc_id"]], cm[i]["paragraph"], cm[i]["start"], cm[i]["end"]]
                       for i in order], dtype=np.int64).reshape(-1, 4)
    dim = len(sents["embeddings"][0]) if sents["ids"] else 384
    s_order = sorted(range(len(sents["ids"])), key=lambda i: (sm[i]["chunk"], sm[i]["start"]))
    sentence_passage = np.asarray([passage_index[sm[i]["chunk"]] for i in s_order], dtype=np.int32)
    spans = np.asarray([[sm[i]["start"], sm[i]["end"]] for i in s_order], dtype=np.int64).reshape(-1, 2)
    # the sentences of each passage, in sentence order (what ``Passage.sentences`` lists)
    by_passage = np.argsort(sentence_passage, kind="stable").astype(np.int32)
    starts = np.searchsorted(sentence_passage[by_passage], np.arange(len(order) + 1)).astype(np.int64)
    p_texts = [chunks["documents"][i] for i in order]
    whole = all(t == texts[m[0]][m[2]:m[3]] for t, m in zip(p_texts, meta.tolist()))
    counted = Counter(r[0] for r in meta.tolist())
    whole = whole and all(int(records[d].meta.get("n_passages", counted[i]) or counted[i]) == counted[i]
                          for i, d in enumerate(doc_ids))  # a library changed while it was read: not saved
    corpus_tokens = [tokens(t) + sorted(doc_tokens[doc_ids[m[0]]]) for t, m in zip(p_texts, meta.tolist())]
    df = Counter(t for toks in corpus_tokens for t in set(toks))
    vocab = list(df)
    n = max(len(corpus_tokens), 1)
    indptr, rows, weights = _postings(BM25Okapi(corpus_tokens) if corpus_tokens else None, vocab)
    surface = Counter(w for t in texts for w in SURFACE.findall(normalise(t)))
    arrays = {
        "passage_vectors": _vectors([chunks["embeddings"][i] for i in order], dim),
        "sentence_vectors": _vectors([sents["embeddings"][i] for i in s_order], dim),
        "passage_meta": meta, "sentence_passage": sentence_passage, "sentence_doc": meta[sentence_passage, 0], "sentence_span": spans,
        "sentence_heading": np.asarray([bool(sm[i].get("heading", False)) for i in s_order], dtype=bool),
        "passage_sentences": by_passage, "passage_sentence_starts": starts,
        "idf": np.asarray([math.log(1 + n / df[t]) for t in vocab], dtype=np.float64),
        "bm25_indptr": indptr, "bm25_rows": rows, "bm25_weights": weights,
        "surface_counts": np.asarray(list(surface.values()), dtype=np.int64),
    }
    lists = {"doc_ids": doc_ids, "passage_ids": passage_ids, "vocab": vocab, "surface": list(surface),
             "sentence_keys": [sentence_key(texts[meta[sentence_passage[j], 0]][s:e])
                               for j, (s, e) in enumerate(spans.tolist())]}
    whole = whole and not any("\n" in s for v in lists.values() for s in v)
    return arrays, lists, texts, whole


def _vectors(rows: list, dim: int) -> np.ndarray:
    return np.asarray(rows, dtype=np.float32) if len(rows) else np.zeros((0, dim), np.float32)


def _postings(bm25, vocab: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each word of ``vocab``, the passages that contain it and its BM25 term score in each (idf ×
    saturated tf, length-normalised), from rank-bm25's own statistics and parameters, as CSR arrays."""
    if bm25 is None:
        return np.zeros(len(vocab) + 1, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float64)
    lengths = np.asarray(bm25.doc_len, dtype=np.float64)
    norm = bm25.k1 * (1 - bm25.b + bm25.b * lengths / bm25.avgdl)
    rows: dict[str, list[int]] = {}
    tfs: dict[str, list[int]] = {}
    for i, freqs in enumerate(bm25.doc_freqs):
        for t, f in freqs.items():
            rows.setdefault(t, []).append(i)
            tfs.setdefault(t, []).append(f)
    all_rows, all_weights, indptr = [], [], [0]
    for t in vocab:
        r, f = np.asarray(rows[t], dtype=np.int64), np.asarray(tfs[t], dtype=np.float64)
        all_rows.append(r)
        all_weights.append(bm25.idf.get(t, 0.0) * f * (bm25.k1 + 1) / (f + norm[r]))
        indptr.append(indptr[-1] + len(r))
    return (np.asarray(indptr, dtype=np.int64), np.concatenate(all_rows) if all_rows else np.zeros(0, np.int64),
            np.concatenate(all_weights) if all_weights else np.zeros(0, np.float64))


# ---- the cache folder ----------------------------------------------------------------------------------
def _write(root: Path, key: str, arrays: dict, lists: dict, texts: list[str], reserve: int) -> None:
    """Write the snapshot into a new folder beside its place, then rename it into place (atomic), and
    remove the snapshots of other library versions. Not written when it would leave less than ``reserve``
    bytes free (``min_free_bytes``): Chroma needs some free space even to read an embedded index."""
    size = sum(a.nbytes for a in arrays.values()) + sum(len(t.encode("utf-8")) for t in texts) \
        + sum(len(x) + 1 for v in lists.values() for x in v)
    existing = next(p for p in [root, *root.parents] if p.exists())
    if shutil.disk_usage(existing).free - size < reserve:
        raise OSError(errno.ENOSPC, f"{size // 1_000_000 + 1} MB would leave less than {reserve // 1_000_000} MB free")
    root.mkdir(parents=True, exist_ok=True)
    tmp = root / f".tmp-{key}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        for name, a in arrays.items():
            np.save(tmp / f"{name}.npy", np.ascontiguousarray(a))
        blob = [t.encode("utf-8") for t in texts]
        offsets = np.cumsum([0] + [len(b) for b in blob]).astype(np.int64)
        arrays = {**arrays, "text_offsets": offsets, "texts": _bytes(b"".join(blob)),
                  **{f"list_{n}": _bytes("\n".join(v).encode("utf-8")) for n, v in lists.items()}}
        for name in ("text_offsets", "texts", *(f"list_{n}" for n in lists)):
            np.save(tmp / f"{name}.npy", arrays[name])
        header = {"format": FORMAT, "key": key, "lists": {n: len(v) for n, v in lists.items()},
                  "arrays": {n: [a.dtype.str, list(a.shape)] for n, a in arrays.items()}}
        for f in tmp.iterdir():  # on disk before the header says the folder is whole
            with open(f, "rb") as fh:
                os.fsync(fh.fileno())
        (tmp / HEADER).write_text(json.dumps(header), "utf-8")
        final = root / key
        if final.exists():  # damaged (``_open`` refused it) or written meanwhile by another process
            if _open(final, key) is not None:
                shutil.rmtree(tmp, ignore_errors=True)
                return
            aside = root / f".old-{key}-{uuid.uuid4().hex[:8]}"
            final.rename(aside)
            shutil.rmtree(aside, ignore_errors=True)
        try:
            tmp.rename(final)
        except OSError:  # another process renamed its own copy into place first
            if _open(final, key) is None:
                raise
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    for other in root.iterdir():  # other versions (a process still reading one keeps its open files), and
        try:  # what a writer killed an hour ago left
            if other.name != key and (not other.name.startswith(".tmp-") or time.time() - other.stat().st_mtime > 3600):
                shutil.rmtree(other, ignore_errors=True)
        except OSError:
            pass


def _open(folder: Path, key: str) -> Stored | None:
    """The snapshot in ``folder`` if its header is whole and every file matches it, else None."""
    try:
        header = json.loads((folder / HEADER).read_text("utf-8"))
        if header.get("format") != FORMAT or header.get("key") != key or set(header["lists"]) != set(_LISTS):
            raise ValueError("another library or format")
        arrays = {}
        for name, (dtype, shape) in header["arrays"].items():
            a = np.load(folder / f"{name}.npy", mmap_mode="r", allow_pickle=False)
            if a.dtype.str != dtype or list(a.shape) != shape:
                raise ValueError(f"{name}: {a.dtype.str} {a.shape} where {dtype} {shape} was written")
            arrays[name] = a
    except FileNotFoundError:
        if folder.exists():
            log.warning("the index snapshot in %s is incomplete; it is rebuilt", folder)
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("the index snapshot in %s is damaged (%s); it is rebuilt", folder, exc)
        return None
    counts, offsets, texts = header["lists"], arrays["text_offsets"], arrays["texts"]

    def strings(name: str) -> list[str]:
        values = bytes(arrays[f"list_{name}"]).decode("utf-8").split("\n") if counts[name] else []
        if len(values) != counts[name]:
            raise ValueError(f"the index snapshot's {name} has {len(values)} entries, not {counts[name]}")
        return values

    def doc_text(i: int) -> str:
        return bytes(texts[int(offsets[i]):int(offsets[i + 1])]).decode("utf-8")

    return Stored(arrays, {n: functools.partial(strings, n) for n in _LISTS}, doc_text)


def _bytes(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype=np.uint8)
