"""The evaluation's variants of the answer path (ablations): each is ``ours`` with one component taken out,
as another list of steps (GOV.UK Chat passes a pipeline per strategy the same way). The product carries
no switch for them: a variant is ``assistant.answer.pipeline.STEPS`` with a step left out, or replaced by
the first version's step kept here.

    reranker           no judge: the first stage's score chooses, and abstains under ``ABSTAIN``
    judge_order        the judge only gates; the first stage orders what it accepts
    follow_up          the first version's ``condense``; earlier quotes not moved out of the judge's shortlist
    standalone_quotes  sentences quoted bare, not widened to stand alone
    vocabulary         no everyday words mapped to the documents' (no ``reword``)
    about              no library record for questions about a document itself
    spelling           misspellings not mended
    preface            a message's question sentences not read alone
    bank               no question bank

``using(assistant, name)`` yields an ``ask(question, history=..., id=...)`` for the variant ``name`` ("" is
the shipped path, ``Assistant.ask`` itself); ``traced(assistant, name)`` the same returning
``(Answer, trace)``. A variant runs the product's public pieces: ``pipeline.check``, ``Assistant.kit`` and
``pipeline.run`` with its steps.
"""
from __future__ import annotations

import contextlib
import re
import sys
from typing import Callable

from assistant.answer import judge as judge_steps
from assistant.answer import pipeline
from assistant.answer.about import about
from assistant.answer.bank import bank, preface
from assistant import identity
from assistant.answer.context import Context, Kit, Step
from assistant.answer.followup import clip
from assistant.answer.quotable import stand_alone
from assistant.answer.retrieve import reword, spelling
from assistant.library import health
from assistant.safety.inputs import parse_history
from assistant.text import entities

# The first version's settings, used only by the ``reranker`` variant (the judge's own are in data/judge.toml).
ABSTAIN = 0.44  # abstain when the best first-stage score is below this
RELATIVE_KEEP = 0.80  # a further sentence is quoted only if it scores at least this share of the best


def decide_first_stage(ctx: Context, kit: Kit) -> None:
    """``decide`` without the judge: the first stage's best score against ``ABSTAIN``."""
    ctx.threshold, ctx.keep = ABSTAIN, RELATIVE_KEEP
    if ctx.about:
        return
    if not ctx.ranked or ctx.ranked[0].score < ABSTAIN:
        ctx.stop("no_evidence", identity.of_settings(kit.settings).no_evidence)


def rank_gate_only(ctx: Context, kit: Kit) -> None:
    """``rank`` with the judge only gating: what it accepts (p at or over its threshold) first, in the first
    stage's order."""
    ctx.ranked.sort(key=lambda c: (c.p >= kit.judge.threshold, c.first), reverse=True)


# The first version's test: a follow-up word or a pronoun anywhere.
_FOLLOW_UP = re.compile(
    r"^\s*(and|but|also|so|what about|how about|what of|and what|does (that|it|this)|do (they|those)|is (that|it|this)|"
    r"are (they|those|these)|why|when|who else|which)\b|\b(it|they|them|this|that|those|these|there)\b", re.I)


def condense_first_version(ctx: Context, kit: Kit) -> None:
    """The first version's ``condense``, kept whole: join the previous question to anything short or with
    a follow-up word."""
    ctx.query = ctx.question
    focus = kit.snapshot.search_tokens(ctx.question)
    previous = [t.content for t in ctx.history if t.role == "user" and t.content.strip()]
    if previous and (_FOLLOW_UP.search(ctx.question) or len(focus) <= 3):
        ctx.read_with = clip(previous[-1], kit.settings.history_context_chars)
        ctx.query = f"{ctx.read_with} {ctx.question}"
        ctx.follow_up = True
        last_turns = " ".join(t.content for t in ctx.history[-2:]
                              if not t.content.startswith(identity.of_settings(kit.settings).no_evidence[:40]))  # not our abstention text
        ctx.context_tokens = {t for t in entities(last_turns) if t in kit.snapshot.idf}


def _without(*left_out: Step, **replaced: Step) -> list[Step]:
    """The shipped steps with ``left_out`` taken out and each step named in ``replaced`` swapped."""
    return [replaced.get(s.__name__, s) for s in pipeline.STEPS if s not in left_out]


VARIANTS: dict[str, Callable[[], list[Step]]] = {
    "reranker": lambda: _without(judge_steps.shortlist, judge_steps.fresh_first, judge_steps.judge, judge_steps.rank,
                                 decide=decide_first_stage),
    "judge_order": lambda: _without(rank=rank_gate_only),
    "follow_up": lambda: _without(judge_steps.fresh_first, condense=condense_first_version),
    "standalone_quotes": lambda: _without(stand_alone),
    "vocabulary": lambda: _without(reword),
    "about": lambda: _without(about),
    "spelling": lambda: _without(spelling),
    "preface": lambda: _without(preface),
    "bank": lambda: _without(bank),
}
NAMES = list(VARIANTS)


def steps(name: str) -> list[Step]:
    """The steps of variant ``name`` ("" : the shipped ones)."""
    if name and name not in VARIANTS:
        raise ValueError(f"unknown variant {name!r}; known: {', '.join(NAMES)}")
    return VARIANTS[name]() if name else list(pipeline.STEPS)


def runner(assistant, name: str) -> Callable[..., pipeline.Traced]:
    """``ask_traced`` for variant ``name``: the shipped checks, then the variant's steps on the live kit,
    then the note about documents missing from the index, as ``Assistant.ask`` adds it."""
    if not name:
        return assistant.ask_traced
    chosen = steps(name)

    def ask(question, history=None, id=None) -> pipeline.Traced:
        s = assistant.settings
        turns = parse_history(history, s.max_question_chars, s.max_history_turns, s.max_history_chars)
        ctx = Context(question=question or "", history=turns, id=id)
        if pipeline.check(ctx, s):
            return pipeline.Traced(pipeline.to_answer(ctx, None), ctx)
        kit = assistant.kit()
        traced = pipeline.run(ctx, kit, chosen)
        if note := health.missing_note(assistant.missing(set(kit.snapshot.docs))):
            traced.answer.notice = f"{traced.answer.notice} {note}" if traced.answer.notice else note
        return traced
    return ask


@contextlib.contextmanager
def traced(assistant, name: str):
    """Yields ``ask(question, history=..., id=...) -> Traced`` for variant ``name``."""
    yield runner(assistant, name)


@contextlib.contextmanager
def using(assistant, name: str):
    """Yields ``ask(question, history=..., id=...) -> Answer`` for variant ``name``."""
    ask = runner(assistant, name)
    yield lambda question, history=None, id=None: ask(question, history, id).answer


def ablation(env, questions: list[dict], components: list[str], progress: bool) -> tuple[dict, dict]:
    """Metric with and without each component, on every question set: ``{component: {set: aggregate}}``;
    and each component's paired test over the same questions (``paired.py``): ``{component: {part: ...}}``."""
    from tqdm import tqdm

    from .harness import CORRECTIONS_SAMPLE, corrected
    from .scoring import by_set, question_set
    from .metrics import score
    from .paired import paired
    from .systems import Ours

    out, scored = {}, {}
    for component in ["", *components]:
        ours = Ours(env, runner(env.assistant, component))
        res = [ours.answer(q) for q in tqdm(questions, desc=f"ablate {component or 'none':>10}", unit="q",
                                           disable=not progress, file=sys.stderr)]
        scored[component] = [score(q, r) for q, r in zip(questions, res)]
        out[component] = by_set(questions, scored[component])
    held_out = lambda q: question_set(q).endswith(("heldout", "sealed"))  # noqa: E731
    tested = {c: paired(questions, scored[""], scored[c], held_out) for c in components}
    if CORRECTIONS_SAMPLE.exists():  # the other way round: a component added, "with" against the shipped "without"
        with_corrections = corrected(env, questions, progress)
        out["+corrections"] = by_set(questions, with_corrections)
        tested["+corrections"] = paired(questions, with_corrections, scored[""], held_out)
    return out, tested
