"""The answer pipeline: the ordered steps, run top to bottom on one shared ``Context``.

Each step is a function ``step(ctx, kit)`` in its own module, whose docstring says what it decides and
which statuses it may stop with. A stop ends the run; the status is part of the public result, so the
CLI exit code, the UI and the evaluation all read the same thing. Otherwise the answer is ``answered``.

    step      module       decides                                     may stop with
    guard     guard.py     is this a question we can search for?       invalid_input, unsafe_input, no_evidence
    scope     guard.py     is it about the years the documents cover?  no_evidence
    condense  followup.py  what a follow-up means on its own           -
    reword    retrieve.py  the documents' words for everyday ones      -
    retrieve  retrieve.py  which passages might answer                 -
    bank      bank.py      which sentences answer questions like it    -
    about     about.py     is it about a document itself (who, when)?  -
    select    select.py    which sentences the judge reads             -
    judge     judge.py     how likely each one answers (p)             -
    decide    judge.py     whether the best one answers well enough    no_evidence (not for ``about``)
    compose   compose.py   which quotes, in which order                no_evidence
    cite      cite.py      each [n] as a verbatim quote of its source  -

What the steps share (``Context``, ``Kit``, the messages) is in ``context.py``. The optional LLM
answers (``generate.py``, then ``verify.py``) run after ``cite``, on answered questions only.
"""
from __future__ import annotations

import time

from ..models import Answer
from .about import about
from .bank import bank
from .cite import cite
from .compose import compose
from .. import identity
from .context import Context, Kit, Step
from .followup import condense
from .guard import check_question, guard, scope
from .judge import decide, judge
from .retrieve import retrieve, reword
from .select import select

STEPS: list[Step] = [guard, scope, condense, reword, retrieve, bank, about, select, judge, decide, compose, cite]


def run(ctx: Context, kit: Kit, steps: list[Step] = STEPS) -> Answer:
    """Run the steps in order until one stops the run; each step's time goes into ``ctx.timings``
    under its name (``timings_ms`` of the answer)."""
    started = time.perf_counter()
    for step in steps:
        t = time.perf_counter()
        step(ctx, kit)
        ctx.timings[step.__name__] = round((time.perf_counter() - t) * 1000, 2)
        if ctx.status:
            break
    ctx.timings["total"] = round((time.perf_counter() - started) * 1000, 2)
    return to_answer(ctx, kit)


def to_answer(ctx: Context, kit: Kit) -> Answer:
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


__all__ = ["Context", "Kit", "STEPS", "check_question", "run", "to_answer"]
