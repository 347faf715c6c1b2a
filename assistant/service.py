"""``Assistant``: the one facade that the CLI, the UI, the API and the evaluation call."""
from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import shutil
import threading
import time
from pathlib import Path
from typing import Iterable, Iterator

from .library import catalog_file
from .config import Settings, get_settings
from .library.corpus_lock import CorpusLock
from .library.corrections import BankDesk
from .encoders.embeddings import Embedder, encoder_id, get_embedder
from .errors import AssistantError, IdTaken, InputError, StoreError, UnknownDocument
from .library.indexer import IndexReport, sync
from .library import details as doc_details
from .library.ingest import ingest
from .safety.inputs import clean_metadata, name_from_filename, parse_history, shown
from .library.loaders import check_file, open_regular
from .models import Answer, Turn
from .answer.pipeline import Context, Kit, Traced, check, generation, run, to_answer
from .library.retrieval import DocView, Retriever, Snapshot
from .library.sources import (Manifest, Source, Titles, corpus_file, date_in_text, default_source, slugify,
                              validate_date, validate_id, write_atomically)
from .library import health
from .library.store import Store, failure_reason, is_store_failure, looks_broken, os_reason
from .answer.vocabulary import Vocabulary


log = logging.getLogger(__name__)
# One-off slow steps a person is told about (the CLI prints these on standard error; the app logs them).
progress = logging.getLogger("assistant.progress")


class Assistant:
    """Ask questions of the corpus; add, remove and index documents.

    The model and the index open lazily, on first use; the index is built on the first question
    if it is missing. One instance is safe to share between threads (the UI does).
    """

    def __init__(self, settings: Settings | None = None, **overrides):
        self.settings = settings or get_settings(**overrides)
        # Two locks, so that indexing never freezes answering. ``_lock`` guards the in-memory state (the
        # store handle, the live Kit) and is held only briefly; ``_write_lock`` lets one writer (add,
        # remove, index) run at a time. While a writer runs, questions are answered from the Kit that was
        # live when it started; when it finishes, the new Kit is built aside and swapped in.
        self._lock = threading.RLock()
        self._write_lock = threading.RLock()
        self._writers = 0
        self._corpus_lock = CorpusLock(self.settings.corpus_dir)  # one library writer, across processes
        self._store: Store | None = None
        self._identity = None  # which index folder the open store is (health.identity): a swap changes it
        self._kit: Kit | None = None
        self._snapshot_key: tuple | None = None
        self._checked_at = 0.0
        self._llm = None  # the language-model backend (LLM mode), made on first use
        self.notices: list[str] = []  # things a person should know, e.g. that a damaged index was rebuilt

    # ---- components ----------------------------------------------------------------------------
    @property
    def embedder(self) -> Embedder:
        return get_embedder(self.settings.model_path, self.settings.embedder, self.settings.encoder_threads)

    @functools.cached_property
    def model_name(self) -> str:
        """The encoder's id as recorded in the index, without loading the model (once: the settings and the
        weights' hash do not change under a running Assistant)."""
        return encoder_id(self.settings.model_path, self.settings.embedder)

    @property
    def store(self) -> Store:
        with self._lock:
            if self._store is None:
                self._store = self._open_store()
            return self._store

    def _open_store(self) -> Store:
        """The live index, checked in a child process first (``library/health.py``): a damaged one is set
        aside and rebuilt from the corpus; a read-only one is read from a private copy."""
        health.recover_swap(self.settings, writer=self._writers > 0)
        view = health.readable_copy(self.settings)
        if reason := health.probe(view):
            self._set_aside_broken_index(reason)
        store = self._recovering(lambda: Store(view))
        self._identity = health.identity(self.settings)  # after the open: a fresh index's file is made by it
        return store

    def _set_aside_broken_index(self, exc: BaseException | str) -> None:
        """The embedded index is damaged: move it aside (``health.set_aside``); the next step rebuilds it."""
        with self._lock:
            self._store, self._kit, self._snapshot_key = None, None, None
            self.notices.append(health.set_aside(self.settings, exc))

    def _recovering(self, action):
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

    @functools.cached_property
    def bank(self) -> BankDesk:
        """The question bank and readers' corrections (``library/corrections.py``)."""
        return BankDesk(self.settings, lambda: self.store, lambda: self.embedder, self._writing)

    def bank_problems(self) -> list[str]:
        """Bank files that do not parse and anchors that match no live sentence ("file:line: ...")."""
        from .library import bank as bank_data
        from .library.indexer import live_sentence_keys

        found = bank_data.load(self.settings.corpus_dir)
        return found.problems + bank_data.unresolved(found, live_sentence_keys(self.store))

    def sentence_keys(self, doc_id: str) -> set[str]:
        """The bank keys of one document's live sentences."""
        from .library.bank import sentence_key

        self._kit_ready()
        record = self.store.documents(with_text=False).get(doc_id)
        if record is None:
            raise InputError(f"No document with id '{doc_id}' in the library.")
        got = self.store.sentences.get(where={"version": record.version}, include=["documents"])
        return {sentence_key(t) for t in got["documents"]}

    def manifest(self) -> Manifest:
        return Manifest(self.settings.corpus_dir)

    def _kit_ready(self) -> Kit:
        """The live index in memory; built on first use, reloaded when another process changed it."""
        try:
            return self._recovering(self._load_kit)
        except Exception as exc:
            if isinstance(exc, AssistantError) or not is_store_failure(exc):
                raise
            raise StoreError(f"The index could not be read ({failure_reason(exc, self.settings)}).") from None

    def _load_kit(self) -> Kit:
        with self._lock:
            if self._kit is not None and (self._writers or
                                          time.monotonic() - self._checked_at < self.settings.refresh_seconds):
                return self._kit  # while this process writes, answer from the Kit that was live before
            if self._kit is None:  # load the model while Chroma opens (cold start is mostly imports)
                threading.Thread(target=lambda: self.embedder, daemon=True, name="model-prefetch").start()
            stale = self._kit is None and self._needs_build(announce=False)
        if stale:  # the first question on a machine with no index builds it (as a writer, outside _lock)
            with self._writing():
                if self._needs_build():
                    n = len(self.manifest().sources())
                    progress.info(f"Building the index of {n} document{'s' if n != 1 else ''} in "
                                  f"{self.settings.corpus_dir} (once; later questions start at once)…")
                    report = self._sync()
                    progress.info(f"Index ready: {report.summary()}.")
        with self._lock:
            if self._kit is not None and self._writers:
                return self._kit
            now = health.identity(self.settings)
            if self._store is not None and self._identity and now != self._identity:
                health.forget_client(self.settings)  # another process swapped a rebuilt index in
                self._store, self._snapshot_key = None, None
            elif self._store is not None and not self._identity:  # opened before its file existed (shared
                self._identity = now  # by the evaluation, or made by this process's first build): not a swap
            key = self._catalog_key()
            self._checked_at = time.monotonic()
            if self._kit is None or key != self._snapshot_key:
                self._kit, self._snapshot_key = self._build_kit(), key
            return self._kit

    def _needs_build(self, announce: bool = True) -> bool:
        """True when the index is empty, or was built by another encoder (searching it with this one's
        vectors would mix two vector spaces): then it is (re)built before any question is answered."""
        got = self.store.catalog.get(include=["metadatas"])
        if not got["ids"]:
            why = "The index is empty"
        else:
            built_with = {m.get("encoder") for m in got["metadatas"]} - {self.model_name}
            if not built_with:  # documents a killed add left in the manifest, unindexed: finished now
                return bool(self.missing(set(got["ids"]))) and self._writable()
            why = (f"The index was built with another encoder ({', '.join(sorted(map(str, built_with)))}) than "
                   f"this one ({self.model_name})")
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
        return Kit(s, self.embedder, snapshot, retriever, vocabulary, *self._judge())

    @contextlib.contextmanager
    def _writing(self):
        """One writer at a time; questions meanwhile use the Kit that was live when it started. When the
        outermost writer ends, the new Kit is built aside and swapped in, so no question waits for it."""
        self._check_writable()
        self.settings.corpus_dir.mkdir(parents=True, exist_ok=True)  # the library lock is taken on the folder
        with self._write_lock, self._corpus_lock:  # one writer in this process, and across processes
            if not self._writers:  # what an add killed before its manifest was saved left: rolled back
                health.drop_staging(self.settings.corpus_dir)
            self._writers += 1
            try:
                yield
            finally:
                self._writers -= 1
                if self._writers == 0:
                    self._publish()

    def _publish(self) -> None:
        if self._kit is None:  # nothing is being served from this process (e.g. a CLI `add`): load lazily
            return
        try:
            key = self._catalog_key()
            kit = self._build_kit()
        except Exception:  # the next question reloads (and reports) instead
            log.exception("loading the new index after a change failed")
            with self._lock:
                self._snapshot_key, self._checked_at = None, 0.0
            return
        with self._lock:
            self._kit, self._snapshot_key, self._checked_at = kit, key, time.monotonic()

    def _judge(self) -> tuple:
        """The answer judge (cross-encoder + fitted coefficients); failing to load it is an error, never a fallback."""
        from .answer.judge import JudgeModel
        from .encoders.reranker import get_reranker

        return get_reranker(self.settings.reranker_path), JudgeModel.load()

    def _catalog_key(self) -> tuple:
        got = self.store.catalog.get(include=["metadatas"])
        docs = tuple(sorted((i, m.get("version"), m.get("title"), m.get("status")) for i, m in zip(got["ids"], got["metadatas"])))
        return docs + (("bank", self.store.bank_version()),)  # an accepted correction reloads every instance

    # ---- answering -----------------------------------------------------------------------------
    def ask(self, question: str | None, history: Iterable[Turn | dict | str] | str | None = None,
            id: str | None = None) -> Answer:
        """Answer ``question`` with verbatim, cited sentences, or abstain with a helpful message.

        With an LLM backend configured, the answer is the model's, verified sentence by sentence, or
        the extractive one as the fallback (``mode`` says which)."""
        return self.ask_traced(question, history, id).answer

    def ask_traced(self, question: str | None, history: Iterable[Turn | dict | str] | str | None = None,
                   id: str | None = None) -> Traced:
        """``ask``, with the answer's trace (the final ``Context``: what every step decided), which the
        evaluation and the tests read instead of running the pipeline again."""
        return [e for e in self._answering(question, history, id) if isinstance(e, Traced)][-1]

    def ask_stream(self, question: str | None, history: Iterable[Turn | dict | str] | str | None = None,
                   id: str | None = None) -> Iterator[dict]:
        """Like ``ask``, streaming: ``{"event": "token", "text": ...}`` for each chunk a language model writes
        (LLM mode only), then ``{"event": "answer", "answer": Answer}`` — the verified answer or the fallback.

        A question that cannot be searched (empty, too long, control characters, ...) is answered
        with status ``invalid_input`` and a message saying why, without loading the model or the
        index. Arguments of the wrong kind (a question that is not text, malformed ``history``)
        raise ``InputError``."""
        for event in self._answering(question, history, id):
            yield {"event": "answer", "answer": event.answer} if isinstance(event, Traced) else {"event": "token", "text": event}

    def _answering(self, question, history, id) -> Iterator[str | Traced]:
        """``answer/pipeline.py``'s CHECKS (before the model loads), STEPS, then GENERATION with an LLM backend."""
        if question is not None and not isinstance(question, str):
            raise InputError(f"The question must be text, not {type(question).__name__}.")
        if id is not None and not isinstance(id, str):
            raise InputError(f"The id must be text, not {type(id).__name__}.")
        started = time.perf_counter()
        s = self.settings
        turns = parse_history(history, s.max_question_chars, s.max_history_turns, s.max_history_chars)
        ctx = Context(question=question or "", history=turns, id=id)
        if check(ctx, s):
            ctx.timings["total"] = round((time.perf_counter() - started) * 1000, 2)
            yield Traced(to_answer(ctx, None), ctx)
            return
        kit = self.kit()
        ready = (time.perf_counter() - started) * 1000
        traced = run(ctx, kit)
        answer = traced.answer
        answer.timings_ms["load"] = round(ready, 2)
        if note := health.missing_note(self.missing(set(kit.snapshot.docs))):
            answer.notice = f"{answer.notice} {note}" if answer.notice else note
        if s.llm_backend == "none":
            yield traced
            return
        ctx.extractive = answer
        ctx.backend, ctx.backend_error = self._generate(answer)
        yield from generation(ctx, kit)
        yield Traced(ctx.generated, ctx)

    def kit(self) -> Kit:
        """The live index and models the steps work with (for running them directly: ``evals/variants.py``)."""
        return self._kit_ready()

    def _generate(self, answer: Answer) -> tuple:
        """The LLM backend for ``GENERATION`` and, when one cannot be made, why (a fallback reason)."""
        from .answer.llm import LLMError, get_backend

        if answer.status != "answered":
            return None, None
        try:
            with self._lock:
                if self._llm is None:
                    self._llm = get_backend(self.settings)
            return self._llm, None
        except LLMError as exc:
            return None, str(exc)

    # ---- library -------------------------------------------------------------------------------
    def sources(self) -> list[dict]:
        """Every indexed document with its metadata and number of passages."""
        return [{**d.source.model_dump(), "display_date": d.source.display_date, "passages": d.n_passages,
                 "concerns_proposals": d.source.concerns_proposals} for d in self._documents().values()]

    def missing(self, live: set[str] | None = None) -> list[tuple[str, str]]:
        """(id, title) of every document in sources.toml that the live index lacks (not indexed yet)."""
        return health.missing(self.settings.corpus_dir, set(self._documents()) if live is None else live)

    def document_text(self, doc_id: str) -> str:
        docs = self._documents()
        if not isinstance(doc_id, str) or doc_id not in docs:
            raise UnknownDocument(str(doc_id), shown(doc_id))
        return docs[doc_id].text

    def _documents(self) -> dict[str, DocView]:
        """The indexed documents: from the live Kit when one is loaded, else from the catalog file the
        last complete index run wrote (no chromadb, no models), else from the index."""
        if self._kit is None:
            rows = catalog_file.read(self.settings)
            if rows is not None:
                return {r["id"]: DocView.from_record(r["id"], r["version"], r["text"], r["meta"]) for r in rows}
        return self._kit_ready().snapshot.docs

    def index(self, progress: bool = False, rebuild: bool = False, log=None) -> IndexReport:
        """Bring the index in line with the corpus (incremental); ``rebuild`` drops it first.

        A run stopped part-way (killed, disk full) leaves every document at its old or its new
        version, never half; the next run carries on from there.
        """
        with self._writing():
            if rebuild and not self.settings.chroma_host:  # built aside, swapped in when complete
                report = health.rebuild_aside(self.settings, lambda aside: self._sync(progress, log, Store(aside), aside))
                with self._lock:
                    self._store, self._snapshot_key, self._checked_at = None, None, 0.0
                return report
            if rebuild:
                def drop():
                    for name in ("catalog", "chunks", "sentences"):
                        self.store.client.delete_collection(f"{self.settings.collection_prefix}_{name}")
                    self._store = None
                self._recovering(drop)
            return self._recovering(lambda: self._sync(progress, log))

    def _sync(self, progress: bool = False, log=None, store: Store | None = None, settings=None) -> IndexReport:
        store, settings = store or self.store, settings or self.settings
        try:
            catalog_file.invalidate(settings)
            report = sync(store, self.embedder, settings, self.manifest().sources(), progress, log)
            catalog_file.write(settings, store.documents())
            return report
        except Exception as exc:
            if isinstance(exc, AssistantError) or looks_broken(exc) or not is_store_failure(exc):
                raise
            raise StoreError(f"Indexing stopped: {failure_reason(exc, self.settings)}. The documents indexed before this "
                             "point are live and complete; run `assistant index` again to finish.") from None
        finally:
            self._snapshot_key, self._checked_at = None, 0.0

    def _check_writable(self) -> None:
        if self.settings.read_only:
            raise InputError("This instance is read-only (ASSISTANT_READ_ONLY): add, remove and index "
                             "where the library is managed.")
        if problem := health.read_only_folder(self.settings):
            raise InputError(problem)

    def _writable(self) -> bool:
        return not self.settings.read_only and not health.read_only_folder(self.settings)

    def add(self, paths: list[Path | str], title: str | None = None, date: str | None = None,
            kind: str | None = None, status: str | None = None, publisher: str | None = None,
            doc_id: str | None = None, progress: bool = False) -> IndexReport:
        """Copy documents into the corpus with their metadata and index them.

        Every file is read and checked before anything changes; if any is unusable, the corpus, the
        manifest and the index stay exactly as they were. A file is stored in the corpus as
        ``<id><extension>``, the id made from its name (or ``doc_id``), so whatever name it arrived
        with (``../x``, ``C:\\x``) nothing is written outside the corpus folder.
        """
        if isinstance(paths, (str, Path)):
            paths = [paths]
        paths = [Path(p) for p in paths or []]
        if not paths:
            raise InputError("Give at least one file to add.")
        if doc_id and len(paths) > 1:
            raise InputError("--id can only be used when adding a single file.")
        date = validate_date(date or "")
        meta = {"title": clean_metadata("title", title), "kind": clean_metadata("kind", kind),
                "status": clean_metadata("status", status), "publisher": clean_metadata("publisher", publisher)}
        # The manifest is read, changed and written (or restored) under the library lock, so a
        # second add, remove or index in another process waits rather than overwrite this one's entry.
        with self._writing():
            corpus = self.settings.corpus_dir
            manifest = self.manifest()
            entries = manifest.entries()
            taken = set(entries) | {p.stem for p in corpus.iterdir()}
            used_files = {e.file for e in entries.values()} | {p.name for p in corpus.iterdir()}
            planned: list[tuple[Path, Source]] = []
            seen: dict[bytes, str] = {}  # text hash -> file name, within this add
            titles = Titles(manifest.sources())
            try:
                for path in paths:
                    planned.append(self._stage(path, doc_id, date, meta, taken, used_files, seen))
                    titles.claim(planned[-1][1], shown(path.name))
            except BaseException:
                for staged, _ in planned:
                    staged.unlink(missing_ok=True)
                raise
            before = manifest.path.read_text("utf-8") if manifest.path.exists() else None
            try:
                for staged, source in planned:
                    staged.replace(corpus / source.file)
                    manifest.set(source)
                manifest.save()
                report = self.index(progress=progress)
                bad = {k: v for k, v in report.failed.items() if k in {s.id for _, s in planned}}
                if bad:
                    raise InputError("; ".join(bad.values()))
            except BaseException as exc:
                for staged, source in planned:
                    (corpus / source.file).unlink(missing_ok=True)
                    staged.unlink(missing_ok=True)
                if before is None:
                    manifest.path.unlink(missing_ok=True)
                else:
                    write_atomically(manifest.path, before)
                try:
                    self.index()
                except Exception:  # e.g. still no disk space: the next `assistant index` tidies up
                    log.exception("re-indexing after a failed add failed")
                if isinstance(exc, OSError):
                    raise StoreError(f"The document could not be stored ({os_reason(exc)}). "
                                     "Nothing was changed.") from None
                raise
            return report  # a document added without its date or status: each interface says how to set them

    def _stage(self, path: Path, doc_id: str | None, date: str, meta: dict[str, str | None], taken: set[str],
               used_files: set[str], seen: dict[bytes, str] | None = None) -> tuple[Path, Source]:
        """Check one file, copy it beside the corpus (hidden) and read it fully; raise if it is unusable.

        Cheap checks (type, existence, kind of file — a link is refused, never followed —, size) come
        first, so an unusable file is refused without copying it or loading the model. ``seen``: the
        texts staged earlier in this add, so the same text given twice is refused like a duplicate of
        the library.
        """
        corpus = self.settings.corpus_dir
        check_file(path, self.settings.max_upload_bytes)
        suffix = path.suffix.lower()
        new_id = validate_id(doc_id) if doc_id else slugify(Path(name_from_filename(path.name)).stem)
        name = shown(path.name)
        seen = {} if seen is None else seen
        if new_id in taken:
            raise IdTaken(name, new_id)  # each interface says how to choose another id
        fname = f"{new_id}{suffix}"
        if fname in used_files:
            raise InputError(f"{name}: a file named {fname} is already in the corpus.")
        base = default_source(path)
        source = Source(id=new_id, file=fname, title=meta["title"] or base.title, date=date or base.date,
                        date_approximate=False, kind=meta["kind"] or base.kind,
                        status=meta["status"] or base.status, publisher=meta["publisher"] or base.publisher)
        staged = corpus / f".staging-{new_id}{suffix}"
        try:
            staged.unlink(missing_ok=True)  # then "x": created afresh, never written through a link
            with open_regular(path, name) as src, open(staged, "xb") as dst:  # the file named, not a link
                shutil.copyfileobj(src, dst)
            doc = ingest(source.model_copy(update={"file": staged.name}), corpus, self.model_name,
                         self.settings.max_upload_bytes, self.settings.max_document_chars, shown_name=name)
            digest = hashlib.sha256(doc.clean.text.encode()).digest()
            if digest in seen:
                raise InputError(f"{name}: has the same text as {seen[digest]}, also given in this add; "
                                 "add it once.")
            if any(_same_text(doc.clean.text, d.text) for d in self._existing_docs()):
                raise InputError(f"{name}: this document is already in the library.")
            if not meta["title"] and (own := doc_details.title_from_heading(doc.clean)):  # its own heading, not the file name
                source = source.model_copy(update={"title": own})
            if not date and (found := date_in_text(doc.clean.text)):  # the date the document gives itself
                source = source.model_copy(update={"date": found, "date_approximate": True})
        except OSError as exc:
            staged.unlink(missing_ok=True)
            raise StoreError(f"{name}: could not be copied into the library ({os_reason(exc)}). "
                             "Nothing was changed.") from None
        except BaseException:
            staged.unlink(missing_ok=True)
            raise
        taken.add(new_id)
        used_files.add(fname)
        seen[digest] = name
        return staged, source

    def remove(self, doc_id: str, progress: bool = False) -> IndexReport:
        """Remove a document from the corpus, the manifest and the index."""
        if not isinstance(doc_id, str) or not doc_id.strip():
            raise InputError("Give the id of the document to remove; see `assistant sources` for the ids.")
        with self._writing():
            manifest = self.manifest()  # every entry's file checked to be inside the corpus folder
            found = {s.id: s for s in manifest.sources()}
            if doc_id not in found:
                raise UnknownDocument(doc_id, shown(doc_id))
            # Never through a folder link; a link itself is removed, never the file it points to.
            corpus_file(self.settings.corpus_dir, found[doc_id].file).unlink(missing_ok=True)
            manifest.delete(doc_id)
            manifest.save()
            return self.index(progress=progress)

    def edit(self, doc_id: str, **changes: str | None) -> Source:
        """Change only the details given (title, publisher, date, kind, status), keeping the document."""
        with self._writing():
            after = doc_details.edit(self.settings.corpus_dir, doc_id, changes)[1]
            self.index()
            return after

    def details(self, doc_id: str) -> Source:
        """A document's details as the manifest records them (``Source.unrecorded``: what is missing)."""
        return doc_details.source_of(self.settings.corpus_dir, doc_id)

    def _existing_docs(self):
        return self._documents().values()

    def _snapshot(self) -> Snapshot:
        """The live index's documents and sentences, without the models: training needs no encoder or
        judge, so a process that only shows duty cards or a quiz never loads them."""
        if self._kit is not None or self._recovering(lambda: self._needs_build(announce=False)):
            return self._kit_ready().snapshot
        with self._lock:
            key = self._catalog_key()
            cached = getattr(self, "_bare_snapshot", None)
            if cached is None or cached[0] != key:
                self._bare_snapshot = cached = (key, self._recovering(lambda: Snapshot(self.store)))
            return cached[1]

    # ---- governor training (assistant/training/desk.py) ------------------------------------------
    @property
    def _desk(self):
        from .training.desk import TrainingDesk

        if getattr(self, "_training_desk", None) is None:
            self._training_desk = TrainingDesk(self._snapshot, self.settings, self._lock)
        return self._training_desk

    def training(self):
        """Duty cards, glossary and quiz bank over the live library (rebuilt when it changes)."""
        return self._desk.materials()

    def training_uses(self, doc_id: str) -> list[str]:
        """Where the training specification quotes ``doc_id``: the lines shown as missing once it is removed."""
        return self._desk.uses(doc_id)

    def duties(self) -> list:
        """Duty explainer cards: every line a verbatim, cited sentence (``DutyCard`` objects)."""
        return self._desk.materials().cards

    def glossary(self) -> list:
        """Glossary terms, each defined by verbatim, cited sentences (``GlossaryEntry`` objects)."""
        return self._desk.materials().glossary

    def quiz(self, n: int = 10, seed: int = 1, topic: str | None = None) -> list:
        """``n`` quiz questions (``Question`` objects) about ``topic`` (a duty id or None); same seed, same quiz."""
        return self._desk.quiz(n, seed, topic)

    def training_pack(self, out_dir: Path | str, n: int = 10, seed: int = 1, topic: str | None = None) -> dict:
        """Write the training pack (quiz, answers, citations, duty summaries) as Markdown and PDF."""
        return self._desk.pack(out_dir, n, seed, topic)

def _same_text(a: str, b: str) -> bool:
    return hashlib.sha256(a.encode()).digest() == hashlib.sha256(b.encode()).digest()

