"""``Assistant``: the one facade that the CLI, the UI, the API and the evaluation call.

A thin layer over one service per concern (as PrivateGPT keeps them): the live index and its Kit
(``live.py``: open, recover, refresh, publish a new Kit after a write), the library manager
(``library/manager.py``: add, stage, remove, edit, index, the one-writer rule), the question bank
(``library/corrections.py``) and governor training (``training/desk.py``). What stays here is answering:
the checks, the pipeline and the optional LLM step.
"""
from __future__ import annotations

import functools
import time
from pathlib import Path
from typing import Iterable, Iterator

from . import identity
from .config import Settings, get_settings
from .library.corrections import BankDesk
from .encoders.embeddings import Embedder, encoder_id, get_embedder
from .errors import InputError, UnknownDocument
from .library.indexer import IndexReport
from .library.manager import LibraryManager
from .safety.inputs import parse_history, shown
from .models import Answer, Turn
from .answer.pipeline import Context, Kit, Traced, check, generation, run, to_answer
from .library.sources import Manifest, Source
from .library import health
from .library.store import Store
from .live import LiveIndex


class Assistant:
    """Ask questions of the corpus; add, remove and index documents.

    The model and the index open lazily, on first use; the index is built on the first question
    if it is missing. One instance is safe to share between threads (the UI does).

    ``live`` (``live.py``) keeps the index and its Kit current; ``library`` (``library/manager.py``)
    changes the library, one writer at a time.
    """

    def __init__(self, settings: Settings | None = None, **overrides):
        self.settings = settings or get_settings(**overrides)
        identity.of_settings(self.settings)  # its library's words become the process's (titles, exports)
        # Two locks, so that indexing never freezes answering: ``live.lock`` guards the in-memory state
        # (the store handle, the live Kit) and is held only briefly; ``library.write_lock`` lets one writer
        # (add, remove, index) run at a time. While a writer runs, questions are answered from the Kit that
        # was live when it started; when it finishes, the new Kit is built aside and swapped in.
        self.live = LiveIndex(self.settings, lambda: self.embedder, lambda: self.model_name, lambda: self._judge())
        self.library = LibraryManager(self.settings, self.live, lambda: self.embedder, lambda: self.model_name)
        self.live.library = self.library
        self._lock = self.live.lock
        self._llm = None  # the language-model backend (LLM mode), made on first use
        self.notices: list[str] = self.live.notices  # things a person should know, e.g. a damaged index was rebuilt

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
        """The live index's store, opened (after a health check) on first use (``live.py``)."""
        return self.live.store

    @functools.cached_property
    def bank(self) -> BankDesk:
        """The question bank and readers' corrections (``library/corrections.py``)."""
        return BankDesk(self.settings, lambda: self.store, lambda: self.embedder, self.library.writing)

    def bank_problems(self) -> list[str]:
        """Bank files that do not parse and anchors that match no live sentence ("file:line: ...")."""
        return self.live.bank_problems()

    def sentence_keys(self, doc_id: str) -> set[str]:
        """The bank keys of one document's live sentences."""
        return self.live.sentence_keys(doc_id)

    def manifest(self) -> Manifest:
        return self.library.manifest()

    def _kit_ready(self) -> Kit:
        """The live index in memory; built on first use, reloaded when another process changed it."""
        return self.live.kit_ready()

    def _judge(self) -> tuple:
        """The answer judge (cross-encoder + fitted coefficients); failing to load it is an error, never a fallback."""
        from .answer.judge import JudgeModel
        from .encoders.reranker import get_reranker

        return get_reranker(self.settings.reranker_path), JudgeModel.load()
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

    # ---- library (library/manager.py; reads from live.py) ----------------------------------------
    def sources(self) -> list[dict]:
        """Every indexed document with its metadata and number of passages."""
        return [{**d.source.model_dump(), "display_date": d.source.display_date, "passages": d.n_passages,
                 "concerns_proposals": d.source.concerns_proposals} for d in self.live.documents().values()]

    def missing(self, live: set[str] | None = None) -> list[tuple[str, str]]:
        """(id, title) of every document in sources.toml that the live index lacks (not indexed yet)."""
        return self.live.missing(live)

    def document_text(self, doc_id: str) -> str:
        docs = self.live.documents()
        if not isinstance(doc_id, str) or doc_id not in docs:
            raise UnknownDocument(str(doc_id), shown(doc_id))
        return docs[doc_id].text

    def index(self, progress: bool = False, rebuild: bool = False, log=None) -> IndexReport:
        """Bring the index in line with the corpus (incremental); ``rebuild`` drops it first.

        A run stopped part-way (killed, disk full) leaves every document at its old or its new
        version, never half; the next run carries on from there.
        """
        return self.library.index(progress, rebuild, log)

    def add(self, paths: list[Path | str], title: str | None = None, date: str | None = None,
            kind: str | None = None, status: str | None = None, publisher: str | None = None,
            doc_id: str | None = None, progress: bool = False) -> IndexReport:
        """Copy documents into the corpus with their metadata and index them. Every file is checked first;
        if any is unusable, the corpus, the manifest and the index stay as they were (``LibraryManager.add``)."""
        return self.library.add(paths, title, date, kind, status, publisher, doc_id, progress)

    def remove(self, doc_id: str, progress: bool = False) -> IndexReport:
        """Remove a document from the corpus, the manifest and the index."""
        return self.library.remove(doc_id, progress)

    def edit(self, doc_id: str, **changes: str | None) -> Source:
        """Change only the details given (title, publisher, date, kind, status), keeping the document."""
        return self.library.edit(doc_id, **changes)

    def details(self, doc_id: str) -> Source:
        """A document's details as the manifest records them (``Source.unrecorded``: what is missing)."""
        return self.library.details(doc_id)

    # ---- governor training (assistant/training/desk.py) ------------------------------------------
    @property
    def _desk(self):
        from .training.desk import TrainingDesk

        if getattr(self, "_training_desk", None) is None:
            self._training_desk = TrainingDesk(self.live.snapshot, self.settings, self._lock)
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