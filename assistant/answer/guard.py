"""The guard check and the scope step: may this question be searched for at all?

Both run before anything is searched. ``guard`` checks the question itself and needs no model or index
(``pipeline.CHECKS``: the service runs it before they are loaded, so a bad question is refused at once,
and only once); ``scope`` checks it against the years the library covers (the first of ``pipeline.STEPS``).
"""
from __future__ import annotations

import re
from functools import lru_cache

from ..config import Settings
from ..safety import privacy
from ..safety.injection import reads_as_instruction
from ..safety.inputs import clean_question, mostly_non_latin, shown
from .. import identity
from .context import Context, Kit
from .dialogue import dialogue

_YEAR = re.compile(r"(?<![\d-])((?:19|20)\d\d)(?![\d])")


@lru_cache(maxsize=1)
def _present_day() -> re.Pattern:
    """The phrases of ``data/dialogue.toml`` that ask about the present ("nowadays", "this school year")."""
    phrases = sorted(dialogue()["present_day"], key=len, reverse=True)
    return re.compile(r"\b(?:" + "|".join(re.escape(p).replace(r"\ ", r"\s+") for p in phrases) + r")\b", re.I)


def guard(ctx: Context, settings: Settings) -> None:
    """Refuse what is not a question we can search for; the message says exactly why. Needs no model or
    index, so the service runs it before loading them.

    Stops with ``invalid_input`` (empty, too long, control characters, no words), ``unsafe_input`` (an
    instruction to the assistant rather than a question) or ``no_evidence`` (not in the Latin alphabet:
    the documents are in English). Personal details are removed first, with a warning, and never stop it."""
    said = identity.of_settings(settings)  # the library's own words (corpus/library.toml)
    q, problem = clean_question(ctx.question if isinstance(ctx.question, str) else "", settings.max_question_chars)
    if problem:
        q = shown(q, settings.max_question_chars)  # echoed back: safe to print and to store
    found = privacy.find(q)
    if found:  # removed before anything is searched, echoed, logged or stored
        ctx.warnings = [privacy.warning(found)]
        ctx.shown_question = privacy.redact(q, found)
        q = privacy.searchable(q, found) or ctx.shown_question
    ctx.history = [t.model_copy(update={"content": privacy.redact(t.content)}) for t in ctx.history]
    ctx.question = q
    if problem:
        return ctx.stop("invalid_input", problem)
    if reads_as_instruction(q):
        return ctx.stop("unsafe_input", said.unsafe_input)
    if mostly_non_latin(q):
        return ctx.stop("no_evidence", said.not_english)


def scope(ctx: Context, kit: Kit) -> None:
    """Questions about what happened after the sources were written cannot be answered from them: a
    year after the newest document, or a phrase of ``data/dialogue.toml``'s ``present_day`` ("today", "this
    year"). Stops with ``no_evidence``."""
    latest = kit.snapshot.latest_year
    if latest is None:
        return
    later = sorted({int(y) for y in _YEAR.findall(ctx.question) if int(y) > latest})
    if later or _present_day().search(ctx.question):
        when = f"in {later[0]}" if later else "today"
        ctx.stop("no_evidence", f"The library's documents date from {latest} or earlier, so they cannot say what "
                 f"happened or applies {when}. " + identity.of_settings(kit.settings).no_evidence.split(". ", 1)[1])
