"""What the answer steps share: the ``Context`` each step reads and writes, the ``Kit`` it works with
(settings, the models, the live index), the ``Scored`` candidates, and the messages a step stops with.

A step is a function ``step(ctx, kit)`` (``pipeline.STEPS`` lists them in order). It may stop the run
with ``ctx.stop(status, message)``; the status is part of the public result. The final ``Context`` is
the answer's trace (``pipeline.Traced``): what each step decided, for the evaluation and the tests.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable

import numpy as np

from ..config import Settings
from ..encoders.embeddings import Embedder
from ..library.retrieval import Hit, Retriever, Snapshot
from ..models import Answer, Citation, Turn
from .units import Unit, sentence_unit
from .vocabulary import Vocabulary

# The messages a step stops with (no evidence, not English, ...) and the notices are the library's own
# words: ``identity.of_settings(kit.settings)``, from corpus/library.toml.


@dataclass
class Kit:
    """What the steps need: settings, the model and the live index."""

    settings: Settings
    embedder: Embedder
    snapshot: Snapshot
    retriever: Retriever
    vocabulary: Vocabulary = field(default_factory=Vocabulary)
    reranker: object | None = None  # reranker.Reranker (the cross-encoder the judge reads with)
    judge: JudgeModel | None = None  # judge.JudgeModel (not imported: judge.py imports this module)


@dataclass
class Scored:
    """A candidate sentence: the first stage's score (``select``) and, once the judge has read the
    candidates, its probability of answering (``p``). ``score`` is whichever decides: ``p`` once judged."""

    sentence: int
    first: float  # the first stage's score: cosine and word overlap (``select``)
    dense: float  # its cosine to the question (as the judge read it, once judged)
    logit: float | None = None  # the cross-encoder's logit, when it read this sentence
    p: float | None = None  # the judge's probability that it answers; None until the judge has run (0: not read)

    @property
    def score(self) -> float:
        return self.first if self.p is None else self.p


def _as_written(text: str) -> str:
    return text


@dataclass
class Context:
    question: str
    history: list[Turn] = field(default_factory=list)
    id: str | None = None
    status: str | None = None
    message: str | None = None
    warnings: list[str] = field(default_factory=list)
    shown_question: str | None = None  # the question as echoed back, when it differs from what is searched
    query: str = ""
    follow_up: bool = False  # the question was joined to the previous one (condense)
    read_with: str | None = None  # a follow-up searched with the earlier question as context, not rewritten: that question
    judge_queries: list[str] = field(default_factory=list)  # what the judge reads against, when not ``query``
    correct: Callable[[str], str] = _as_written  # what is searched and judged, misspellings mended (``spelling``)
    asked: str | None = None  # the question sentences alone of a message that also says other things (``preface``)
    quote: Callable[..., Unit | None] = sentence_unit  # (snapshot, sentence) → the span it is quoted with (``stand_alone``)
    query_tokens: list[str] = field(default_factory=list)
    context_tokens: set[str] = field(default_factory=set)  # names carried over from earlier turns
    parts: list[tuple[str, np.ndarray, list[str]]] = field(default_factory=list)  # sub-questions
    vector: np.ndarray | None = None
    hits: list[Hit] = field(default_factory=list)
    ranked: list[Scored] = field(default_factory=list)
    part_best: list[Scored] = field(default_factory=list)
    part_top: list[tuple[str, list[Scored]]] = field(default_factory=list)  # each part's text and best few
    shortlist: list[Scored] = field(default_factory=list)  # what the cross-encoder reads (``shortlist``)
    chosen: list[Scored] = field(default_factory=list)
    units: list[Unit] = field(default_factory=list)  # the span each chosen sentence is quoted with
    bank_sims: np.ndarray | None = None  # the question's cosine to every bank question (``bank.py``)
    bank_recalled: dict[int, float] = field(default_factory=dict)  # sentences of the nearest bank questions
    bank_covered: float = 0.0  # cosine of the nearest bank question the documents answer
    bank_uncovered: float = 0.0  # ... and of the nearest one they do not cover
    about: tuple[str, list[str]] | None = None  # a question about a document itself: (its id, the details asked)
    record: str | None = None  # the library's record of that document, shown as such (``about.py``)
    threshold: float | None = None  # abstain under this ``score``: the judge's (``data/judge.toml``)
    keep: float = 1.0  # a further quote needs at least this share of the best one's ``score`` (the judge's)
    answer: str = ""
    citations: list[Citation] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    # GENERATION (LLM mode only): the extractive answer, the backend, what was given and what came back
    extractive: Answer | None = None
    backend: Any = None  # llm.Backend, or None when none could be made (``backend_error`` says why)
    backend_error: str | None = None
    passages: list = field(default_factory=list)  # generate.Passage: what the model was given
    draft: str = ""
    generation_timings: dict[str, float] = field(default_factory=dict)
    generated: Answer | None = None  # the final answer: verified, or the extractive one as the fallback

    def stop(self, status: str, message: str) -> None:
        self.status, self.message = status, message

    @cached_property
    def _said(self) -> str:
        return " ".join(t.content for t in self.history if t.role == "assistant")

    def quoted_before(self, sentence: str) -> bool:
        """Whether the assistant has already quoted ``sentence`` in this conversation (its earlier answers,
        joined once per question): the one test for both the judge's shortlist and ``compose``."""
        return sentence in self._said


Step = Callable[[Context, Kit], None]

