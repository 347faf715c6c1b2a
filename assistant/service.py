"""``Assistant``: the one facade that the CLI, the UI, the API and the evaluation call."""
from __future__ import annotations

import hashlib
import shutil
import threading
import time
from pathlib import Path
from typing import Iterable, Iterator

from .config import Settings, get_settings
from .embeddings import Embedder, get_embedder
from .errors import InputError
from .indexer import IndexReport, sync
from .ingest import ingest
from .models import Answer, Turn
from .pipeline import Context, Kit, run
from .retrieval import Retriever, Snapshot
from .sources import SUPPORTED_SUFFIXES, Manifest, Source, default_source, slugify, validate_date, validate_id
from .store import Store


class Assistant:
    """Ask questions of the corpus; add, remove and index documents.

    The model and the index open lazily, on first use; the index is built on the first question
    if it is missing. One instance is safe to share between threads (the UI does).
    """

    def __init__(self, settings: Settings | None = None, **overrides):
        self.settings = settings or get_settings(**overrides)
        self._lock = threading.RLock()
        self._store: Store | None = None
        self._kit: Kit | None = None
        self._snapshot_key: tuple | None = None
        self._checked_at = 0.0
        self._llm = None  # the language-model backend (LLM mode), made on first use

    # ---- components ----------------------------------------------------------------------------
    @property
    def embedder(self) -> Embedder:
        return get_embedder(self.settings.model_path)

    @property
    def store(self) -> Store:
        with self._lock:
            if self._store is None:
                self._store = Store(self.settings)
            return self._store

    def manifest(self) -> Manifest:
        return Manifest(self.settings.corpus_dir)

    def _kit_ready(self) -> Kit:
        """The live index in memory; built on first use, reloaded when another process changed it."""
        with self._lock:
            if self._kit is None:  # load the model while Chroma opens (cold start is mostly imports)
                threading.Thread(target=lambda: self.embedder, daemon=True, name="model-prefetch").start()
            if self._kit is None and self.store.catalog.count() == 0:
                self.index()
            if self._kit is not None and time.monotonic() - self._checked_at < self.settings.refresh_seconds:
                return self._kit
            key = self._catalog_key()
            self._checked_at = time.monotonic()
            if self._kit is None or key != self._snapshot_key:
                snapshot = Snapshot(self.store)
                s = self.settings
                retriever = Retriever(self.store, snapshot, s.dense_k, s.bm25_k, s.fused_k, s.rrf_k, s.dedup_threshold,
                                      s.keep_each)
                self._kit = Kit(s, self.embedder, snapshot, retriever)
                self._snapshot_key = key
            return self._kit

    def _catalog_key(self) -> tuple:
        got = self.store.catalog.get(include=["metadatas"])
        return tuple(sorted((i, m.get("version"), m.get("title"), m.get("status")) for i, m in zip(got["ids"], got["metadatas"])))

    # ---- answering -----------------------------------------------------------------------------
    def ask(self, question: str, history: Iterable[Turn | dict | str] | None = None, id: str | None = None) -> Answer:
        """Answer ``question`` with verbatim, cited sentences, or abstain with a helpful message.

        With an LLM backend configured, the answer is the model's, verified sentence by sentence, or
        the extractive one as the fallback (``mode`` says which)."""
        final = None
        for event in self.ask_stream(question, history, id):
            if event["event"] == "answer":
                final = event["answer"]
        return final

    def ask_stream(self, question: str, history: Iterable[Turn | dict | str] | None = None,
                   id: str | None = None) -> Iterator[dict]:
        """Like ``ask``, streaming: ``{"event": "token", "text": ...}`` for each chunk a language model writes
        (LLM mode only), then ``{"event": "answer", "answer": Answer}`` — the verified answer or the fallback."""
        started = time.perf_counter()
        turns = [_turn(t) for t in (history or [])]
        kit = self._kit_ready()
        ready = (time.perf_counter() - started) * 1000
        ctx = Context(question=question if isinstance(question, str) else "", history=turns, id=id)
        answer = run(ctx, kit)
        answer.timings_ms["load"] = round(ready, 2)
        if self.settings.llm_backend == "none":
            yield {"event": "answer", "answer": answer}
            return
        for event in self._generate(ctx, kit, answer):
            yield {"event": "answer", "answer": event} if isinstance(event, Answer) else {"event": "token", "text": event}

    def _generate(self, ctx: Context, kit: Kit, answer: Answer):
        """The optional LLM step (``generate.py``); a backend that cannot be made becomes a fallback reason."""
        from .generate import generate
        from .llm import LLMError, get_backend

        backend, error = None, None
        if answer.status == "answered":
            try:
                with self._lock:
                    if self._llm is None:
                        self._llm = get_backend(self.settings)
                backend = self._llm
            except LLMError as exc:
                error = str(exc)
        return generate(ctx, kit, answer, backend, error)

    # ---- library -------------------------------------------------------------------------------
    def sources(self) -> list[dict]:
        """Every indexed document with its metadata and number of passages."""
        kit = self._kit_ready()
        return [{**d.source.model_dump(), "display_date": d.source.display_date, "passages": d.n_passages,
                 "concerns_proposals": d.source.concerns_proposals} for d in kit.snapshot.docs.values()]

    def document_text(self, doc_id: str) -> str:
        kit = self._kit_ready()
        if doc_id not in kit.snapshot.docs:
            raise InputError(f"No document with id '{doc_id}'. See `assistant sources` for the ids.")
        return kit.snapshot.docs[doc_id].text

    def index(self, progress: bool = False, rebuild: bool = False) -> IndexReport:
        with self._lock:
            if rebuild:
                for name in ("catalog", "chunks", "sentences"):
                    self.store.client.delete_collection(f"{self.settings.collection_prefix}_{name}")
                self._store = None
            report = sync(self.store, self.embedder, self.settings, self.manifest().sources(), progress)
            self._snapshot_key, self._checked_at = None, 0.0
            return report

    def add(self, paths: list[Path | str], title: str | None = None, date: str | None = None,
            kind: str | None = None, status: str | None = None, publisher: str | None = None,
            doc_id: str | None = None, progress: bool = False) -> IndexReport:
        """Copy documents into the corpus with their metadata and index them.

        Every file is read and checked before anything changes; if any is unusable, the corpus, the
        manifest and the index stay exactly as they were.
        """
        paths = [Path(p) for p in paths]
        if not paths:
            raise InputError("Give at least one file to add.")
        if doc_id and len(paths) > 1:
            raise InputError("--id can only be used when adding a single file.")
        date = validate_date(date or "")
        with self._lock:
            manifest = self.manifest()
            entries = manifest.entries()
            corpus = self.settings.corpus_dir
            taken = set(entries) | {p.stem for p in corpus.iterdir()}
            used_files = {e.file for e in entries.values()} | {p.name for p in corpus.iterdir()}
            planned: list[tuple[Path, Source]] = []
            try:
                for path in paths:
                    planned.append(self._stage(path, doc_id, title, date, kind, status, publisher, taken, used_files))
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
            except BaseException:
                for staged, source in planned:
                    (corpus / source.file).unlink(missing_ok=True)
                    staged.unlink(missing_ok=True)
                if before is None:
                    manifest.path.unlink(missing_ok=True)
                else:
                    manifest.path.write_text(before, "utf-8")
                self.index()
                raise
            return report

    def _stage(self, path: Path, doc_id, title, date, kind, status, publisher, taken: set[str],
               used_files: set[str]) -> tuple[Path, Source]:
        """Copy one file beside the corpus (hidden) and read it fully; raise if it is unusable."""
        corpus = self.settings.corpus_dir
        if path.suffix.lower() not in SUPPORTED_SUFFIXES:
            raise InputError(f"{path.name}: unsupported file type '{path.suffix or '(none)'}'; "
                             "use .txt, .md, .pdf, .docx or .html.")
        new_id = validate_id(doc_id) if doc_id else slugify(path.stem)
        if new_id in taken:
            raise InputError(f"{path.name}: a document with id '{new_id}' is already in the library; "
                             "remove it first or give another --id.")
        fname = f"{new_id}{path.suffix.lower()}"
        if fname in used_files:
            raise InputError(f"{path.name}: a file named {fname} is already in the corpus.")
        base = default_source(path) if path.exists() else Source(id=new_id, file=fname, title=path.stem)
        source = Source(id=new_id, file=fname, title=title or base.title, date=date or base.date,
                        date_approximate=not date, kind=kind or base.kind, status=status or base.status,
                        publisher=publisher or base.publisher)
        staged = corpus / f".staging-{new_id}{path.suffix.lower()}"
        try:
            shutil.copyfile(path, staged)
            doc = ingest(source.model_copy(update={"file": staged.name}), corpus, self.embedder.name,
                         self.settings.max_upload_bytes)
            if any(_same_text(doc.clean.text, d.text) for d in self._existing_docs()):
                raise InputError(f"{path.name}: this document is already in the library.")
        except FileNotFoundError:
            staged.unlink(missing_ok=True)
            raise InputError(f"{path.name}: file not found.") from None
        except IsADirectoryError:
            staged.unlink(missing_ok=True)
            raise InputError(f"{path.name}: is a folder, not a file.") from None
        except BaseException:
            staged.unlink(missing_ok=True)
            raise
        taken.add(new_id)
        used_files.add(fname)
        return staged, source

    def remove(self, doc_id: str, progress: bool = False) -> IndexReport:
        """Remove a document from the corpus, the manifest and the index."""
        with self._lock:
            manifest = self.manifest()
            found = {s.id: s for s in manifest.sources()}
            if doc_id not in found:
                raise InputError(f"No document with id '{doc_id}'. See `assistant sources` for the ids.")
            (self.settings.corpus_dir / found[doc_id].file).unlink(missing_ok=True)
            manifest.delete(doc_id)
            manifest.save()
            return self.index(progress=progress)

    def _existing_docs(self):
        return self._kit_ready().snapshot.docs.values()

    # ---- governor training (assistant/training.py) ---------------------------------------------
    def training(self):
        """Duty cards, glossary and quiz bank over the live library (rebuilt when it changes)."""
        from .duties import spec_path
        from .training import Training

        with self._lock:
            snapshot = self._kit_ready().snapshot
            spec = spec_path(self.settings.corpus_dir, self.settings.training_spec)
            key = Training.key(snapshot, spec)
            if getattr(self, "_training", None) is None or self._training[0] != key:
                self._training = (key, Training(snapshot, spec))
            return self._training[1]

    def duties(self) -> list:
        """Duty explainer cards: every line a verbatim, cited sentence (``DutyCard`` objects)."""
        return self.training().cards

    def glossary(self) -> list:
        """Glossary terms, each defined by verbatim, cited sentences (``GlossaryEntry`` objects)."""
        return self.training().glossary

    def quiz(self, n: int = 10, seed: int = 1, topic: str | None = None) -> list:
        """``n`` quiz questions (``Question`` objects) about ``topic`` (a duty id or None); same seed, same quiz."""
        return self.training().quiz(n=n, seed=seed, topic=topic)

    def training_pack(self, out_dir: Path | str, n: int = 10, seed: int = 1, topic: str | None = None) -> dict:
        """Write the training pack (quiz, answers, citations, duty summaries) as Markdown and PDF."""
        from .training_pack import write_pack

        training = self.training()
        topic = training.bank.check_topic(topic)
        questions = training.quiz(n=n, seed=seed, topic=topic)
        cards = [c for c in training.cards if not topic or c.id == topic]
        return write_pack(out_dir, cards, questions, topic=topic or None, seed=seed, glossary=training.glossary,
                          topic_name=training.bank.topic_names.get(topic or ""))


def _same_text(a: str, b: str) -> bool:
    return hashlib.sha256(a.encode()).digest() == hashlib.sha256(b.encode()).digest()


def _turn(t: Turn | dict | str) -> Turn:
    if isinstance(t, Turn):
        return t
    if isinstance(t, str):
        return Turn(role="user", content=t)
    return Turn(**t)
