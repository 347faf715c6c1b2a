"""What the answer steps share: the ``Context`` each step reads and writes, the ``Kit`` it works with
(settings, the models, the live index), the ``Scored`` candidates, and the messages a step stops with.

A step is a function ``step(ctx, kit)`` (``pipeline.STEPS`` lists them in order). It may stop the run
with ``ctx.stop(status, message)``; the status is part of the public result.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Callable

import numpy as np

from ..config import Settings
from ..encoders.embeddings import Embedder
from ..library.retrieval import Hit, Retriever, Snapshot
from ..models import Citation, Turn
from .units import Unit
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
    reranker: object | None = None  # reranker.Reranker; None when the judge is switched off (ablation)
    judge: JudgeModel | None = None  # judge.JudgeModel (not imported: judge.py imports this module)


@dataclass
class Scored:
    sentence: int
    score: float
    dense: float
    lexical: float
    first: float = 0.0  # the first stage's score (``select``), kept when the judge replaces ``score``
    logit: float | None = None  # the cross-encoder's logit, when it read this sentence
    p: float = 0.0  # the judge's probability that this sentence answers the question


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
    focus: list[str] = field(default_factory=list)  # the follow-up's own (spelling-mended) words
    judge_queries: list[str] = field(default_factory=list)  # what the judge reads against, when not ``query``
    query_tokens: list[str] = field(default_factory=list)
    context_tokens: set[str] = field(default_factory=set)  # names carried over from earlier turns
    parts: list[tuple[str, np.ndarray, list[str]]] = field(default_factory=list)  # sub-questions
    vector: np.ndarray | None = None
    hits: list[Hit] = field(default_factory=list)
    ranked: list[Scored] = field(default_factory=list)
    part_best: list[Scored] = field(default_factory=list)
    part_top: list[tuple[str, list[Scored]]] = field(default_factory=list)  # each part's text and best few
    chosen: list[Scored] = field(default_factory=list)
    units: list[Unit] = field(default_factory=list)  # the span each chosen sentence is quoted with
    bank_sims: np.ndarray | None = None  # the question's cosine to every bank question (``bank.py``)
    bank_recalled: dict[int, float] = field(default_factory=dict)  # sentences of the nearest bank questions
    bank_covered: float = 0.0  # cosine of the nearest bank question the documents answer
    bank_uncovered: float = 0.0  # ... and of the nearest one they do not cover
    about: tuple[str, list[str]] | None = None  # a question about a document itself: (its id, the details asked)
    record: str | None = None  # the library's record of that document, shown as such (``about.py``)
    threshold: float | None = None  # abstain under this ``score`` (the judge's, else settings.abstain_threshold)
    answer: str = ""
    citations: list[Citation] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

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


def threshold(ctx: Context, kit: Kit) -> float:
    return ctx.threshold if ctx.threshold is not None else kit.settings.abstain_threshold
