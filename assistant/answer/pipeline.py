"""The answer path, the whole of it in three lists, run top to bottom on one shared ``Context``.

    CHECKS      need no model or index: the service runs them before loading either
    STEPS       the extractive answer, from the live index (``Kit``)
    GENERATION  only with an LLM backend, on the answer ``STEPS`` gave

Each step is a function in its own module, whose docstring says what it decides and which statuses it
may stop with. A stop ends the run; the status is part of the public result, so the CLI exit code, the
UI and the evaluation all read the same thing. Otherwise the answer is ``answered``.

    list        step         module       decides                                    may stop with
    CHECKS      guard        guard.py     is this a question we can search for?      invalid_input, unsafe_input, no_evidence
    STEPS       scope        guard.py     is it about the years the documents cover? no_evidence
                condense     followup.py  what a follow-up means on its own          -
                spelling     retrieve.py  misspelt words mended, for search and judge -
                reword       retrieve.py  the documents' words for everyday ones     -
                retrieve     retrieve.py  which passages might answer                -
                preface      bank.py      the question sentences of a longer message -
                bank         bank.py      which sentences answer questions like it   -
                about        about.py     is it about a document itself (who, when)? -
                stand_alone  quotable.py  each sentence as the span it is quoted with -
                select       select.py    which sentences the judge reads (first)    -
                shortlist    judge.py     the first stage's best ``rerank_k``        -
                fresh_first  judge.py     ... sentences not quoted earlier first     -
                judge        judge.py     how likely each one answers (p)            -
                rank         judge.py     the candidates in the judge's order        -
                decide       judge.py     whether the best one answers well enough   no_evidence (not for ``about``)
                compose      compose.py   which quotes, in which order               no_evidence
                cite         cite.py      each [n] as a verbatim quote of its source -
    GENERATION  generate     generate.py  the model's answer from numbered passages  (falls back, never stops)
                verify_draft verify.py    each generated sentence against its source (falls back)

``run`` returns the ``Answer`` with its trace, the final ``Context`` (what every step decided), so the
evaluation and the tests read inside an answer without running it again. What the steps share
(``Context``, ``Kit``, the messages) is in ``context.py``. The evaluation's variants (``evals/variants.py``)
are other lists of steps, run with these same functions.
"""
from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from typing import Callable, Iterator

from ..config import Settings
from ..models import Answer
from .about import about
from .bank import bank, preface
from .cite import cite
from .compose import compose
from .. import identity
from .context import Context, Kit, Step
from .followup import condense
from .generate import generate
from .guard import guard, scope
from .judge import decide, fresh_first, judge, rank, shortlist
from .quotable import stand_alone
from .retrieve import retrieve, reword, spelling
from .select import select
from .verify import verify_draft

Check = Callable[[Context, Settings], None]

CHECKS: list[Check] = [guard]
STEPS: list[Step] = [scope, condense, spelling, reword, retrieve, preface, bank, about, stand_alone, select,
                     shortlist, fresh_first, judge, rank, decide, compose, cite]
GENERATION: list[Step] = [generate, verify_draft]


@dataclass
class Traced:
    """An answer and its trace: the final ``Context`` of the run that gave it."""

    answer: Answer
    trace: Context

    def __iter__(self):  # answer, trace = assistant.ask_traced(...)
        return iter((self.answer, self.trace))


def check(ctx: Context, settings: Settings, checks: list[Check] = CHECKS) -> bool:
    """Run the checks that need no model; True when one stopped the question (``to_answer(ctx)`` says why)."""
    started = time.perf_counter()
    for c in checks:
        c(ctx, settings)
        if ctx.status:
            break
    ctx.timings["guard"] = round((time.perf_counter() - started) * 1000, 2)
    return bool(ctx.status)


def run(ctx: Context, kit: Kit, steps: list[Step] = STEPS) -> Traced:
    """Run the steps in order until one stops the run (the checks have passed); each step's time goes into
    ``ctx.timings`` under its name (``timings_ms`` of the answer)."""
    started = time.perf_counter()
    with kit.reranker.question() if kit.reranker else contextlib.nullcontext():  # see Reranker.score
        for step in steps:
            t = time.perf_counter()
            step(ctx, kit)
            ctx.timings[step.__name__] = round((time.perf_counter() - t) * 1000, 2)
            if ctx.status:
                break
    ctx.timings["total"] = round((time.perf_counter() - started) * 1000, 2)
    return Traced(to_answer(ctx, kit), ctx)


def generation(ctx: Context, kit: Kit, steps: list[Step] = GENERATION) -> Iterator[str]:
    """Run the generation steps on ``ctx.extractive`` (the answer ``run`` gave), yielding the model's text
    as it arrives; ``ctx.generated`` is then the final answer (verified, or the fallback)."""
    for step in steps:
        out = step(ctx, kit)
        if out is not None:  # a step that streams (``generate``)
            yield from out


def to_answer(ctx: Context, kit: Kit | None) -> Answer:
    """The public result: ``answered`` unless a step stopped the run, with the notice its sources call for."""
    status = ctx.status or "answered"
    answered = status == "answered"
    notice = None
    if answered:
        sources = [kit.snapshot.docs[c.doc_id].source for c in ctx.citations]
        said = identity.of_settings(kit.settings)
        notice = said.notice_proposals if any(s.concerns_proposals for s in sources) else said.notice_general
        unknown = {f"“{s.title}”": " and ".join(s.unrecorded) for s in sources if s.unrecorded}
        if unknown:  # a school's own note added without metadata must not pass for current, official text
            notice += " " + " ".join(f"The {what} of {title} {'are' if ' and ' in what else 'is'} not recorded, so it "
                                     "may not be current or official." for title, what in unknown.items())
    return Answer(id=ctx.id, question=ctx.shown_question or ctx.question, answer=ctx.answer if answered else (ctx.message or ""),
                  abstained=not answered, status=status, message=None if answered else ctx.message,
                  notice=notice, citations=ctx.citations if answered else [], record=ctx.record if answered else None,
                  standalone_question=((ctx.shown_question or ctx.query) if ctx.query == ctx.question else ctx.query) or None,
                  follow_up=ctx.follow_up, read_with=ctx.read_with,
                  warnings=ctx.warnings, timings_ms=ctx.timings)


__all__ = ["CHECKS", "GENERATION", "STEPS", "Context", "Kit", "Traced", "check", "generation", "run", "to_answer"]
