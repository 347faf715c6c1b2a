"""The three systems the harness compares, each answering a question as a ``metrics.Result``.

* ``bm25``  — rank-bm25 over exactly the passages our index holds (same tokenizer); answer = top passage.
* ``dense`` — tutorial LangChain: raw files → RecursiveCharacterTextSplitter(500, 50) → langchain_chroma
  (our offline MiniLM via ``OfflineEmbeddings``) similarity top-k; answer = top chunk.
* ``ours``  — ``Assistant.ask`` (hybrid retrieval + verbatim sentence selection + abstention).
* ``llm``   — ``ours`` plus the optional language-model answer, verified sentence by sentence
  (``--backend llm``); falls back to the extractive answer when too little is supported.

Baselines never abstain and ignore conversation history.
"""
from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from .metrics import K_MAX, Cite, Result, covers, related


class Env:
    """One shared ``Assistant`` over a fresh temporary index (or ``index_dir`` when given)."""

    def __init__(self, index_dir: Path | None = None):
        self._tmp = None if index_dir else tempfile.mkdtemp(prefix="evals-index-")
        self.index_dir = Path(index_dir or self._tmp)
        self._assistant = None
        self.index_seconds = None
        self.model_seconds = None

    @property
    def assistant(self):
        if self._assistant is None:
            from assistant import Assistant

            a = Assistant(index_dir=self.index_dir)
            t = time.perf_counter()
            a.embedder  # noqa: B018 - load the shared model once, timed on its own
            self.model_seconds = time.perf_counter() - t
            t = time.perf_counter()
            a.index()
            self.index_seconds = time.perf_counter() - t
            self._assistant = a
        return self._assistant

    @property
    def corpus_dir(self) -> Path:
        return Path(self.assistant.settings.corpus_dir)

    def close(self) -> None:
        if self._tmp:
            self._assistant = None
            shutil.rmtree(self._tmp, ignore_errors=True)


class Ours:
    name, label = "ours", "Ours (hybrid + extractive)"

    def __init__(self, env: Env, ask_traced=None):
        """``ask_traced``: how a question is answered, with its trace (``Assistant.ask_traced``, or a
        variant's, ``evals/variants.py``)."""
        self.env = env
        self._ask_traced = ask_traced
        self._texts: dict[str, str] = {}

    def ask_traced(self, q: dict):
        ask = self._ask_traced or self.env.assistant.ask_traced
        return ask(q["question"], history=q.get("history") or [], id=q["id"])

    def setup(self) -> None:
        a = self.env.assistant
        a.ask("Which bodies are bound by the duty to co-operate?")  # warm: snapshot load, first encode

    def _doc_text(self, doc_id: str) -> str:
        if doc_id not in self._texts:
            self._texts[doc_id] = self.env.assistant.document_text(doc_id)
        return self._texts[doc_id]

    def answer(self, q: dict) -> Result:
        t = time.perf_counter()
        traced = self.ask_traced(q)
        ans = traced.answer
        latency = (time.perf_counter() - t) * 1000
        cites = []
        for c in ans.citations:
            text = self._doc_text(c.doc_id)
            cites.append(Cite(c.doc_id, c.quote, c.start, c.end, c.n,
                              verbatim=bool(c.quote) and text[c.start:c.end] == c.quote and c.quote in text))
        only_quotes = None
        if not ans.abstained:
            rest = ans.quotes  # the record line of an answer about a document is labelled, not a quote
            for c in ans.citations:
                rest = rest.replace(f"{c.quote} [{c.n}]", "", 1)
            only_quotes = rest.strip() == ""
        diag, retrieved = self._trace(q, traced.trace)
        ranked = [(c.doc_id, c.quote) for c in cites] + retrieved
        return Result(q["id"], self.name, ans.answer, ans.abstained, ans.status, cites, ranked[:K_MAX], latency,
                      only_quotes, {**diag, "timings_ms": ans.timings_ms, "standalone": ans.standalone_question})

    def _trace(self, q: dict, ctx) -> tuple[dict, list[tuple[str, str]]]:
        """What the answer's trace (the final ``Context`` of ``assistant.answer.pipeline``) says about the
        retrieved passages and the scores. Best effort: a trace of another shape degrades to citations-only
        ranking and no diagnosis rather than failing the evaluation."""
        try:
            snap = self.env.assistant.kit().snapshot
            passages = [snap.passages[h.passage] for h in ctx.hits]
            gold = q.get("gold_passages") or []
            gold_rank = gold_score = None
            for i, s in enumerate(ctx.ranked):
                if any(related(snap.sentence_text(s.sentence), g) for g in gold):
                    gold_rank, gold_score = i, round(s.score, 4)
                    break
            diag = {"best_score": round(ctx.ranked[0].score, 4) if ctx.ranked else None,
                    "threshold": ctx.threshold,  # the judge's fitted one, or the first stage's (a variant)
                    "n_retrieved": len(passages),
                    "gold_retrieved": any(covers(p.text, g) for p in passages for g in gold) if gold else None,
                    "gold_sentence_rank": gold_rank, "gold_sentence_score": gold_score}
            return diag, [(p.doc_id, p.text) for p in passages]
        except Exception as exc:  # noqa: BLE001 - diagnosis is best effort
            return {"trace_error": f"{exc.__class__.__name__}: {exc}"}, []


class OursLLM(Ours):
    """Ours with the optional language-model answer: the same pipeline, then generation + verification.

    The backend comes from the ``ASSISTANT_LLM_*`` settings; with none configured, SmolLM2-135M runs
    in-process (``llamacpp``, the ``llm`` extra). ``Env.llm_overrides`` (from ``--llm-url``) win.
    """

    name, label = "llm", "Ours + LLM (verified)"

    def __init__(self, env: Env):
        super().__init__(env)
        self._backend = None

    @property
    def backend(self):
        """The language model (``assistant.answer.llm.get_backend``), made once with the LLM settings."""
        if self._backend is None:
            from assistant import get_settings
            from assistant.answer.llm import get_backend

            base = self.env.assistant.settings  # builds the shared index first
            overrides = dict(getattr(self.env, "llm_overrides", {}) or {})
            if base.llm_backend == "none" and "llm_backend" not in overrides:
                overrides["llm_backend"] = "llamacpp"
            self._backend = get_backend(get_settings(index_dir=self.env.index_dir, **overrides))
        return self._backend

    def ask_llm(self, q: dict):
        """The shared assistant's extractive answer and trace, then ``pipeline.GENERATION`` on them with the
        language model: what an ``Assistant`` with an LLM backend does, on the same index."""
        from assistant.answer.pipeline import Traced, generation

        traced = self.ask_traced(q)
        ctx = traced.trace
        ctx.extractive = traced.answer
        ctx.backend = self.backend if traced.answer.status == "answered" else None
        for _ in generation(ctx, self.env.assistant.kit()):
            pass
        return Traced(ctx.generated, ctx)

    def setup(self) -> None:
        super().setup()
        self.ask_llm({"question": "Which bodies are bound by the duty to co-operate?", "id": None})  # warm: model load

    def answer(self, q: dict) -> Result:
        t = time.perf_counter()
        traced = self.ask_llm(q)
        ans = traced.answer
        latency = (time.perf_counter() - t) * 1000
        cites = []
        for c in ans.citations:
            text = self._doc_text(c.doc_id)
            cites.append(Cite(c.doc_id, c.quote, c.start, c.end, c.n,
                              verbatim=bool(c.quote) and text[c.start:c.end] == c.quote and c.quote in text))
        only_quotes = None
        if not ans.abstained:
            rest = ans.answer
            for c in ans.citations:
                rest = rest.replace(f"{c.quote} [{c.n}]", "", 1)
            only_quotes = rest.strip() == ""
        diag, retrieved = self._trace(q, traced.trace)
        ranked = [(c.doc_id, c.quote) for c in cites] + retrieved
        diag.update(mode=ans.mode, fallback_reason=ans.fallback_reason, llm_draft=ans.llm_draft,
                    support=[s.model_dump() for s in ans.support], timings_ms=ans.timings_ms)
        return Result(q["id"], self.name, ans.answer, ans.abstained, ans.status, cites, ranked[:K_MAX], latency,
                      only_quotes, diag)


class BM25Only:
    name, label = "bm25", "BM25 only (top passage)"

    def __init__(self, env: Env):
        self.env = env

    def setup(self) -> None:
        from rank_bm25 import BM25Okapi

        from assistant.library.retrieval import Snapshot
        from assistant.text import tokens

        self.tokens = tokens
        self.snap = Snapshot(self.env.assistant.store)
        self.passages = self.snap.passages
        self.bm25 = BM25Okapi([tokens(p.text) for p in self.passages])

    def answer(self, q: dict) -> Result:
        t = time.perf_counter()
        scores = self.bm25.get_scores(self.tokens(q["question"]))
        order = [int(i) for i in np.argsort(-scores, kind="stable")[:K_MAX]]
        latency = (time.perf_counter() - t) * 1000
        top = self.passages[order[0]]
        doc_text = self.snap.docs[top.doc_id].text
        cite = Cite(top.doc_id, top.text, top.start, top.end, 1,
                    verbatim=doc_text[top.start:top.end] == top.text and top.text in doc_text)
        return Result(q["id"], self.name, top.text, False, "answered", [cite],
                      [(self.passages[i].doc_id, self.passages[i].text) for i in order], latency)


class DenseOnly:
    name, label = "dense", "Dense only (LangChain Chroma, top chunk)"

    def __init__(self, env: Env):
        self.env = env
        self._tmp = None

    def setup(self) -> None:
        from . import tutorial
        from .lc_embeddings import OfflineEmbeddings

        self._tmp = tempfile.mkdtemp(prefix="evals-dense-")
        docs = tutorial.load_documents(self.env.corpus_dir)
        self.raw = {d.metadata["doc_id"]: d.page_content for d in docs}
        self.chunks = tutorial.split(docs)
        self.store = tutorial.build_store(self.chunks, OfflineEmbeddings(), Path(self._tmp))

    def answer(self, q: dict) -> Result:
        t = time.perf_counter()
        hits = self.store.similarity_search_with_score(q["question"], k=K_MAX)
        latency = (time.perf_counter() - t) * 1000
        top = hits[0][0]
        doc_id, start = top.metadata["doc_id"], int(top.metadata["start_index"])
        raw = self.raw[doc_id]
        cite = Cite(doc_id, top.page_content, start, start + len(top.page_content), 1,
                    verbatim=raw[start:start + len(top.page_content)] == top.page_content and top.page_content in raw)
        return Result(q["id"], self.name, top.page_content, False, "answered", [cite],
                      [(d.metadata["doc_id"], d.page_content) for d, _ in hits], latency)

    def close(self) -> None:
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)


SYSTEMS = {"bm25": BM25Only, "dense": DenseOnly, "ours": Ours, "llm": OursLLM}
