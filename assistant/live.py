"""The live index: the open store and the Kit every question is answered from, kept current.

Why apart from the facade (``service.py``): keeping one index live under concurrent readers, writers and
other processes is one concern with its own state. Here: the store is opened after a health probe in a
child process (``library/health.py``), and a damaged index is set aside and rebuilt; another process's
swap of a rebuilt index is seen by the folder's identity; the Kit (``answer/context.py``) is loaded on
first use, re-read when the catalog changes (checked at most every ``refresh_seconds``), and after this
process's own write a new Kit is built aside and swapped in (``publish``), so no question waits for it.
Writes themselves are the library manager's (``library/manager.py``); this module asks it only whether
one is in progress. It sits above ``answer/`` (it builds the Kit), below the facade.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Callable

from .answer.context import Kit
from .answer.vocabulary import Vocabulary
from . import identity
from .config import Settings
from .errors import AssistantError, InputError, StoreError
from .library import catalog_file, health
from .library.manager import LibraryManager
from .library.retrieval import DocView, Retriever, Snapshot
from .library.store import Store, failure_reason, is_store_failure, looks_broken

log = logging.getLogger(__name__)
# One-off slow steps a person is told about (the CLI prints these on standard error; the app logs them).
progress = logging.getLogger("assistant.progress")


class LiveIndex:
    """The open store and the live Kit of one ``Assistant``; safe to share between threads.

    ``lock`` guards the in-memory state (the store handle, the Kit) and is held only briefly, so indexing
    (the library manager's ``write_lock``) never freezes answering. ``library`` is set by the facade
    once both are made (each needs the other). ``notices``: things a person should know, e.g. that a
    damaged index was rebuilt."""

    def __init__(self, settings: Settings, embedder: Callable, model_name: Callable[[], str],
                 judge: Callable[[], tuple]):
        self.settings = settings
        self._embedder, self._model_name, self._judge = embedder, model_name, judge
        self.library: LibraryManager | None = None
        self.lock = threading.RLock()
        self.notices: list[str] = []
        self._store: Store | None = None
        self._identity = None  # which index folder the open store is (health.identity): a swap changes it
        self._kit: Kit | None = None
        self._snapshot_key: tuple | None = None
        self._checked_at = 0.0
        self._bare_snapshot: tuple | None = None

    # ---- the store ---------------------------------------------------------------------------------
    @property
    def store(self) -> Store:
        with self.lock:
            if self._store is None:
                self._store = self._open_store()
            return self._store

    def use_store(self, store: Store) -> None:
        """Answer from a store another ``Assistant`` opened (the evaluation shares one Chroma client)."""
        with self.lock:
            self._store = store

    def _open_store(self) -> Store:
        """The live index, checked in a child process first (``library/health.py``): a damaged one is set
        aside and rebuilt from the corpus; a read-only one is read from a private copy."""
        health.recover_swap(self.settings, writer=self.library.writers > 0)
        view = health.readable_copy(self.settings)
        if reason := health.probe(view):
            self._set_aside_broken_index(reason)
        store = self.recovering(lambda: Store(view))
        self._identity = health.identity(self.settings)  # after the open: a fresh index's file is made by it
        return store

    def _set_aside_broken_index(self, exc: BaseException | str) -> None:
        """The embedded index is damaged: move it aside (``health.set_aside``); the next step rebuilds it."""
        with self.lock:
            self._store, self._kit, self._snapshot_key = None, None, None
            self.notices.append(health.set_aside(self.settings, exc))

    def recovering(self, action):
        """Run ``action``; if it fails because the embedded index's files are damaged, set the index
        aside and run it once more (it rebuilds from the corpus)."""
        try:
            return action()
        except StoreError as exc:
            if not exc.broken:
                raise
            self._set_aside_broken_index(exc)
        except (InputError, OSError):
            raise
        except Exception as exc:  # chromadb's own errors from a half-written sqlite file
            if not looks_broken(exc):
                raise
            self._set_aside_broken_index(exc)
        return action()

    def close_store(self) -> None:
        """The index folder was replaced (a rebuild) or its collections dropped: reopen it on next use."""
        with self.lock:
            self._store, self._snapshot_key, self._checked_at = None, None, 0.0

    def invalidate(self) -> None:
        """The index changed: the next question compares the catalog again."""
        self._snapshot_key, self._checked_at = None, 0.0

    # ---- the Kit -----------------------------------------------------------------------------------
    @property
    def loaded(self) -> bool:
        """Whether a Kit is live in this process (something is being served from it)."""
        return self._kit is not None

    def drop_kit(self) -> None:
        """Forget the live Kit: the next question builds it afresh (e.g. with changed settings)."""
        with self.lock:
            self._kit = None

    def kit_ready(self) -> Kit:
        """The live index in memory; built on first use, reloaded when another process changed it."""
        try:
            return self.recovering(self._load_kit)
        except Exception as exc:
            if isinstance(exc, AssistantError) or not is_store_failure(exc):
                raise
            raise StoreError(f"The index could not be read ({failure_reason(exc, self.settings)}).") from None

    def _load_kit(self) -> Kit:
        writers = lambda: self.library.writers  # noqa: E731
        with self.lock:
            if self._kit is not None and (writers() or
                                          time.monotonic() - self._checked_at < self.settings.refresh_seconds):
                return self._kit  # while this process writes, answer from the Kit that was live before
            if self._kit is None:  # load the model while Chroma opens (cold start is mostly imports)
                threading.Thread(target=self._embedder, daemon=True, name="model-prefetch").start()
            stale = self._kit is None and self.needs_build(announce=False)
        if stale:  # the first question on a machine with no index builds it (as a writer, outside lock)
            with self.library.writing():
                if self.needs_build():
                    n = len(self.library.manifest().sources())
                    progress.info(f"Building the index of {n} document{'s' if n != 1 else ''} in "
                                  f"{self.settings.corpus_dir} (once; later questions start at once)…")
                    report = self.library.sync()
                    progress.info(f"Index ready: {report.summary()}.")
        with self.lock:
            if self._kit is not None and writers():
                return self._kit
            now = health.identity(self.settings)
            if self._store is not None and self._identity and now != self._identity:
                health.forget_client(self.settings)  # another process swapped a rebuilt index in
                self._store, self._snapshot_key = None, None
            elif self._store is not None and not self._identity:  # opened before its file existed (shared
                self._identity = now  # by the evaluation, or made by this process's first build): not a swap
            key = self.catalog_key()
            self._checked_at = time.monotonic()
            if self._kit is None or key != self._snapshot_key:
                self._kit, self._snapshot_key = self._build_kit(), key
            return self._kit

    def needs_build(self, announce: bool = True) -> bool:
        """True when the index is empty, or was built by another encoder (searching it with this one's
        vectors would mix two vector spaces): then it is (re)built before any question is answered."""
        got = self.store.catalog.get(include=["metadatas"])
        if not got["ids"]:
            why = "The index is empty"
        else:
            built_with = {m.get("encoder") for m in got["metadatas"]} - {self._model_name()}
            if not built_with:  # documents a killed add left in the manifest, unindexed: finished now
                return bool(self.missing(set(got["ids"]))) and self.library.writable()
            why = (f"The index was built with another encoder ({', '.join(sorted(map(str, built_with)))}) than "
                   f"this one ({self._model_name()})")
        if self.settings.read_only:
            raise StoreError(f"{why}, and this instance is read-only (ASSISTANT_READ_ONLY); run `assistant index` "
                             "where the library is managed.")
        if got["ids"] and announce:
            notice = f"{why}; every document is re-indexed with this encoder before answering."
            log.warning(notice)
            self.notices.append(notice)
        return True

    def _build_kit(self) -> Kit:
        """Everything a question needs, read from the index as it is now."""
        s = self.settings
        snapshot = Snapshot(self.store)
        retriever = Retriever(self.store, snapshot, s.dense_k, s.bm25_k, s.fused_k, s.rrf_k, s.dedup_threshold,
                              s.keep_each)
        vocabulary, problem = Vocabulary.kept(s.corpus_dir, s.data_dir)  # a typo: the last good one, said once
        if problem and problem not in self.notices:
            log.warning(problem)
            self.notices.append(problem)
        library_problem = identity.problem(s.corpus_dir, s.data_dir)  # corpus/library.toml, said once too
        if library_problem and library_problem not in self.notices:
            log.warning(library_problem)
            self.notices.append(library_problem)
        return Kit(s, self._embedder(), snapshot, retriever, vocabulary, *self._judge())

    def publish(self) -> None:
        """The last writer finished: build the new Kit aside and swap it in (when one is being served)."""
        if self._kit is None:  # nothing is being served from this process (e.g. a CLI `add`): load lazily
            return
        try:
            key = self.catalog_key()
            kit = self._build_kit()
        except Exception:  # the next question reloads (and reports) instead
            log.exception("loading the new index after a change failed")
            with self.lock:
                self._snapshot_key, self._checked_at = None, 0.0
            return
        with self.lock:
            self._kit, self._snapshot_key, self._checked_at = kit, key, time.monotonic()

    def catalog_key(self) -> tuple:
        """What identifies the live library: each document's version, title and status, and the bank's."""
        got = self.store.catalog.get(include=["metadatas"])
        docs = tuple(sorted((i, m.get("version"), m.get("title"), m.get("status")) for i, m in zip(got["ids"], got["metadatas"])))
        return docs + (("bank", self.store.bank_version()),)  # an accepted correction reloads every instance

    # ---- reading the live library ------------------------------------------------------------------
    def documents(self) -> dict[str, DocView]:
        """The indexed documents: from the live Kit when one is loaded, else from the catalog file the
        last complete index run wrote (no chromadb, no models), else from the index."""
        if self._kit is None:
            rows = catalog_file.read(self.settings)
            if rows is not None:
                return {r["id"]: DocView.from_record(r["id"], r["version"], r["text"], r["meta"]) for r in rows}
        return self.kit_ready().snapshot.docs

    def missing(self, live: set[str] | None = None) -> list[tuple[str, str]]:
        """(id, title) of every document in sources.toml that the live index lacks (not indexed yet)."""
        return health.missing(self.settings.corpus_dir, set(self.documents()) if live is None else live)

    def snapshot(self) -> Snapshot:
        """The live index's documents and sentences, without the models: training needs no encoder or
        judge, so a process that only shows duty cards or a quiz never loads them."""
        if self._kit is not None or self.recovering(lambda: self.needs_build(announce=False)):
            return self.kit_ready().snapshot
        with self.lock:
            key = self.catalog_key()
            cached = self._bare_snapshot
            if cached is None or cached[0] != key:
                self._bare_snapshot = cached = (key, self.recovering(lambda: Snapshot(self.store)))
            return cached[1]

    def bank_problems(self) -> list[str]:
        """Bank files that do not parse and anchors that match no live sentence ("file:line: ...")."""
        from .library import bank as bank_data
        from .library.indexer import live_sentence_keys

        found = bank_data.load(self.settings.corpus_dir)
        return found.problems + bank_data.unresolved(found, live_sentence_keys(self.store))

    def sentence_keys(self, doc_id: str) -> set[str]:
        """The bank keys of one document's live sentences."""
        from .library.bank import sentence_key

        self.kit_ready()
        record = self.store.documents(with_text=False).get(doc_id)
        if record is None:
            raise InputError(f"No document with id '{doc_id}' in the library.")
        got = self.store.sentences.get(where={"version": record.version}, include=["documents"])
        return {sentence_key(t) for t in got["documents"]}
