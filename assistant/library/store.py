"""Chroma storage: an embedded ``PersistentClient`` under ``index/``, or a Chroma server.

Three collections share one design: every passage and sentence record carries the ``version``
(content hash) of the document it came from, and the ``catalog`` collection names the live version
of each document. A re-index writes the new version's records first, then flips the catalog entry,
then deletes the old records. Readers only trust records whose version the catalog names, so a
crash or a full disk part-way leaves the previous index fully usable, and the next run tidies up.
"""
from __future__ import annotations

import errno
import functools
import logging
import resource
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from ..config import Settings
from ..errors import StoreError
from ..safety.inputs import shown
from . import remote

log = logging.getLogger(__name__)
BATCH = 2000


@functools.cache
def _embedding_function_class():
    from chromadb.api.types import EmbeddingFunction
    from chromadb.utils.embedding_functions import register_embedding_function

    @register_embedding_function
    class OfflineMiniLM(EmbeddingFunction):
        """Our local model, so Chroma never falls back to its downloading default."""

        def __init__(self, model_path: str | None = None):
            self.model_path = model_path

        def __call__(self, input):  # noqa: A002 - Chroma's signature
            from ..encoders.embeddings import get_embedder

            return list(get_embedder(Path(self.model_path) if self.model_path else None).encode(list(input)))

        @staticmethod
        def name() -> str:
            return "wellbeing-offline-minilm"

        def get_config(self) -> dict[str, Any]:
            return {"model_path": self.model_path}

        @staticmethod
        def build_from_config(config: dict[str, Any]) -> "OfflineMiniLM":
            return OfflineMiniLM(config.get("model_path"))

        def default_space(self):
            return "cosine"

    return OfflineMiniLM


# Messages of the sqlite/Chroma errors that mean the files under index/ are damaged or half-written
# (as opposed to, say, a server that is down): such an index can only be rebuilt from the corpus.
_BROKEN = ("file is not a database", "malformed", "disk image", "file exists", "not a directory",
           "no such table", "database corruption", "file is encrypted")


def looks_broken(exc: BaseException) -> bool:
    """True when ``exc`` says the embedded index's files are damaged."""
    if isinstance(exc, StoreError):
        return exc.broken
    return isinstance(exc, (NotADirectoryError, FileExistsError)) or any(m in str(exc).lower() for m in _BROKEN)


# ---- why a read or write failed, for a person (the service's StoreError messages) ------------------
def is_store_failure(exc: BaseException) -> bool:
    """An error from writing the store (chromadb, sqlite, the file system, a Chroma server's network), not a
    bug of ours."""
    return (isinstance(exc, (OSError, sqlite3.Error)) or remote.is_unreachable(exc)
            or type(exc).__module__.split(".")[0] == "chromadb")


def disk_full(exc: BaseException) -> bool:
    """chromadb reports a full disk from sqlite/Rust as text, not as an OSError."""
    text = str(exc).lower()
    return any(m in text for m in ("database or disk is full", "no space left", "file too large",
                                   "disk quota", "(code: 13)"))


def os_reason(exc: OSError) -> str:
    """An operating-system error in a few plain words (a full disk named as such)."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return "the disk is full or a file-size limit was reached"
    return exc.strerror or exc.__class__.__name__


def failure_reason(exc: BaseException, settings: Settings) -> str:
    """Why reading or writing the index failed, for a person: a full disk is named as such."""
    s = settings
    if remote.is_unreachable(exc):
        return remote.reason(exc, s)
    try:
        low = not s.chroma_host and shutil.disk_usage(s.index_dir).free < 1024 * 1024
    except OSError:
        low = False
    if low or disk_full(exc):
        return (f"the disk holding {s.index_dir} is full (free some space first: a Chroma index needs a "
                "little free space even to be read after an interrupted write)")
    if resource.getrlimit(resource.RLIMIT_FSIZE)[0] != resource.RLIM_INFINITY:
        return (f"a file-size limit (ulimit -f) was probably reached ({exc.__class__.__name__}: "
                f"{shown(str(exc), 120)})")
    if isinstance(exc, OSError):
        return os_reason(exc)
    return f"{exc.__class__.__name__}: {shown(str(exc), 200)}"


def release_client(settings: Settings) -> None:
    """Forget chromadb's cached client for the embedded index (it keeps one per path per process),
    so the folder can be moved aside and a fresh one opened at the same path."""
    try:
        from chromadb.api.shared_system_client import SharedSystemClient as Shared
    except ImportError:
        return
    for key in {str(settings.index_dir), str(Path(settings.index_dir).resolve())}:
        system = Shared._identifier_to_system.pop(key, None)
        Shared._identifier_to_refcount.pop(key, None)
        if system is not None:
            try:
                system.stop()
            except Exception:  # a broken index may not stop cleanly; it is being replaced anyway
                log.debug("stopping the old Chroma client failed", exc_info=True)


def make_client(settings: Settings):
    """Embedded store by default; ``CHROMA_HOST``/``CHROMA_PORT`` select a server, same code after."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    try:
        if settings.chroma_host:
            return remote.open_client(settings, chroma_settings)  # every request bounded in time
        settings.index_dir.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(settings.index_dir), settings=chroma_settings)
    except StoreError:
        raise
    except Exception as exc:  # chromadb raises ValueError/ConnectionError/RuntimeError variously
        where = f"server {settings.chroma_host}:{settings.chroma_port}" if settings.chroma_host else str(settings.index_dir)
        raise StoreError(f"Cannot open the index at {where}: {exc}",
                         broken=not settings.chroma_host and looks_broken(exc)) from None


@dataclass
class DocRecord:
    """The catalog entry of one indexed document."""

    doc_id: str
    version: str
    raw_hash: str
    text: str
    meta: dict[str, Any]


class Store:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.client = make_client(settings)
        ef = _embedding_function_class()(str(settings.model_path) if settings.model_path else None)
        names = {k: f"{settings.collection_prefix}_{k}" for k in ("catalog", "chunks", "sentences", "bank", "state",
                                                                   "corrections")}
        meta = {"hnsw:space": "cosine"}
        try:
            self.catalog = self.client.get_or_create_collection(names["catalog"], embedding_function=ef, metadata=meta)
            self.chunks = self.client.get_or_create_collection(names["chunks"], embedding_function=ef, metadata=meta)
            self.sentences = self.client.get_or_create_collection(names["sentences"], embedding_function=ef, metadata=meta)
            # The question bank (``bank.py``): one record per bank question, pointing at its sentences;
            # readers' corrections waiting for review; ``state`` holds the bank's version, so every
            # instance sharing the index reloads it when it changes.
            self.bank = self.client.get_or_create_collection(names["bank"], embedding_function=ef, metadata=meta)
            self.state = self.client.get_or_create_collection(names["state"], embedding_function=ef, metadata=meta)
            self.corrections = self.client.get_or_create_collection(names["corrections"], embedding_function=ef,
                                                                    metadata=meta)
            self.catalog.count()  # reads the sqlite file: a damaged one fails here, not mid-answer
        except Exception as exc:
            if isinstance(exc, StoreError):  # a Chroma server that does not answer (remote.Guarded)
                raise
            if remote.is_unreachable(exc):
                raise remote.unreachable(exc, settings) from None
            raise StoreError(f"The index is unreadable ({exc.__class__.__name__}: {exc}); "
                             "rebuild it with `assistant index --rebuild`.",
                             broken=not settings.chroma_host and looks_broken(exc)) from None
        if settings.chroma_host:  # a server that stops answering is named in one line, never a raw httpx error
            for name in names:
                setattr(self, name, remote.Guarded(getattr(self, name), settings))

    # ---- reading -------------------------------------------------------------------------------
    def documents(self, with_text: bool = True) -> dict[str, DocRecord]:
        include = ["metadatas", "documents"] if with_text else ["metadatas"]
        got = self.catalog.get(include=include)
        out = {}
        for i, doc_id in enumerate(got["ids"]):
            meta = dict(got["metadatas"][i] or {})
            out[doc_id] = DocRecord(doc_id, meta.pop("version", ""), meta.pop("raw_hash", ""),
                                    (got.get("documents") or [""] * len(got["ids"]))[i] or "", meta)
        return out

    def live_records(self, collection, versions: set[str], include: list[str]) -> dict[str, list]:
        """Records of live document versions only (orphans of an interrupted run are skipped)."""
        got = collection.get(include=include)
        keep = [i for i, m in enumerate(got["metadatas"]) if m.get("version") in versions]
        result = {"ids": [got["ids"][i] for i in keep]}
        for key in include:
            values = got[key]
            result[key] = [values[i] for i in keep]
        return result

    def query_chunks(self, vector: np.ndarray, k: int, live: dict[str, int]) -> list[tuple[str, float]]:
        """Dense search: (record id, cosine similarity), best first, live records only.

        No metadata filter: a ``$in`` over hundreds of versions costs more than the search itself.
        Orphans of an interrupted run are rare and dropped here; a few spare results cover them.
        """
        n = max(min(k + 8, len(live)), 1)  # live is known: no count() round trip per query
        got = self.chunks.query(query_embeddings=[vector.tolist()], n_results=n, include=["distances"])
        hits = [(rid, 1.0 - float(d)) for rid, d in zip(got["ids"][0], got["distances"][0]) if rid in live]
        return hits[:k]

    def bank_version(self) -> str:
        """The bank's version, changed by every write to it ("" before the first)."""
        got = self.state.get(ids=["bank"], include=["metadatas"])
        return str(got["metadatas"][0].get("version", "")) if got["ids"] else ""

    def bank_rows(self) -> dict[str, list]:
        """Every bank row's vector and metadata (the anchors it points to), for ``retrieval.BankView``."""
        return self.bank.get(include=["metadatas", "embeddings"])

    # ---- writing -------------------------------------------------------------------------------
    def write_bank(self, add: list[dict], vectors: list, delete: list[str]) -> None:
        """Add bank rows (with their question vectors) and delete others, then mark the bank changed."""
        for batch in _batches(delete, BATCH):
            self.bank.delete(ids=batch)
        for start in range(0, len(add), BATCH):
            rows, vecs = add[start:start + BATCH], vectors[start:start + BATCH]
            self.bank.upsert(ids=[r["id"] for r in rows], embeddings=[list(map(float, v)) for v in vecs],
                             documents=[r["question"] for r in rows],
                             metadatas=[_flat({k: v for k, v in r.items() if k not in ("id", "question")}) for r in rows])
        if add or delete:
            import uuid

            dim = len(vectors[0]) if len(vectors) else 384
            self.state.upsert(ids=["bank"], embeddings=[[1.0] + [0.0] * (dim - 1)], documents=["bank"],
                              metadatas=[{"version": uuid.uuid4().hex}])

    def write_version(self, doc_id: str, version: str, chunk_rows: list[dict], sentence_rows: list[dict]) -> None:
        """Add one document version's passages and sentences (not yet live)."""
        tag = {"doc_id": doc_id, "version": version}
        self.write_rows([{**r, "meta": {**r["meta"], **tag}} for r in chunk_rows],
                        [{**r, "meta": {**r["meta"], **tag}} for r in sentence_rows])

    def write_rows(self, chunk_rows: list[dict], sentence_rows: list[dict]) -> None:
        """Add passages and sentences of any number of document versions (not yet live), in few, large
        upserts: Chroma's cost is mostly per call, so many documents share one call."""
        for collection, rows in ((self.chunks, chunk_rows), (self.sentences, sentence_rows)):
            for batch in _batches(rows, BATCH):
                collection.upsert(ids=[r["id"] for r in batch], embeddings=[r["embedding"] for r in batch],
                                  documents=[r["text"] for r in batch], metadatas=[r["meta"] for r in batch])

    def publish(self, doc_id: str, version: str, raw_hash: str, text: str, embedding: np.ndarray,
                meta: dict[str, Any]) -> None:
        """Make ``version`` the live version of ``doc_id`` (a single upsert)."""
        self.publish_many([(doc_id, version, raw_hash, text, embedding, meta)])

    def publish_many(self, items: list[tuple[str, str, str, str, np.ndarray, dict[str, Any]]]) -> None:
        """Make several documents' new versions live in one upsert: all of them or none."""
        if items:
            self.catalog.upsert(ids=[i[0] for i in items], embeddings=[i[4].tolist() for i in items],
                                documents=[i[3] for i in items],
                                metadatas=[{**_flat(i[5]), "version": i[1], "raw_hash": i[2]} for i in items])

    def update_meta(self, record: DocRecord, meta: dict[str, Any]) -> None:
        self.catalog.update(ids=[record.doc_id], metadatas=[{**_flat(meta), "version": record.version,
                                                              "raw_hash": record.raw_hash}])

    def unpublish(self, doc_id: str) -> None:
        self.catalog.delete(ids=[doc_id])

    def collect_garbage(self, live: dict[str, str]) -> int:
        """Delete every passage/sentence record that is not the live version of a live document."""
        removed = 0
        for collection in (self.chunks, self.sentences):
            got = collection.get(include=["metadatas"])
            dead = [rid for rid, m in zip(got["ids"], got["metadatas"]) if live.get(m.get("doc_id")) != m.get("version")]
            for batch in _batches(dead, BATCH):
                collection.delete(ids=batch)
            removed += len(dead)
        return removed


def _flat(meta: dict[str, Any]) -> dict[str, Any]:
    """Chroma metadata values must be str/int/float/bool."""
    return {k: v for k, v in meta.items() if isinstance(v, (str, int, float, bool))}


def _batches(items: list, size: int) -> Iterable[list]:
    for i in range(0, len(items), size):
        yield items[i:i + size]
