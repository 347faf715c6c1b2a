"""The condense step (``condense``): a follow-up's own words decide what is searched; earlier turns fill its gaps.

Two kinds of follow-up, told apart by grammar words from ``data/dialogue.toml`` (no topic words):

* **ellipsis** — "What about secondary schools?", "And colleges?": the new words take the place of the
  phrase of the previous question they are most like (chosen by the sentence encoder), so "Do primary
  schools have to co-operate?" + "What about secondary schools?" searches "Do secondary schools have to
  co-operate?". When no phrase is clearly alike ("What about GPs?": the encoder does not know the
  acronym) the follow-up is read as a reference, below.
* **reference** — "Why did they say no to it?": the question is searched as asked, with the previous
  question and the start of the previous answer added in brackets, as what its pronouns point at.
  The judge reads the candidates with the follow-up's own words (alone, and with the previous
  question only), so its own words, not the previous topic, decide which sentence answers.

A question with neither (no opening "and"/"what about", no pronoun pointing back) stands on its own
and is searched alone, whatever came before it.
"""
from __future__ import annotations

import re
from functools import lru_cache

import numpy as np

from ..models import Turn
from ..text import STOPWORDS, entities, tokens
from .context import Context, Kit
from .dialogue import dialogue

# MiniLM's cosine between short phrases of one kind ("academies" / "schools", "primary schools" /
# "secondary schools") measured 0.58-0.84; between unrelated ones, and for acronyms it does not know
# ("GPs", "LGA"), 0.1-0.4. Under this, a guess at which phrase to replace is worse than none.
SUBSTITUTE_MIN_COSINE = 0.45
_NO_EVIDENCE_START = "The documents in this library don't cover that"
_WORDS = re.compile(r"[\w’'-]+")


@lru_cache(maxsize=1)
def _patterns() -> tuple[re.Pattern, re.Pattern, re.Pattern]:
    d = dialogue()
    openers = sorted(d["ellipsis_openers"], key=len, reverse=True)
    ellipsis = re.compile(r"^\W*(?:" + "|".join(re.escape(o) for o in openers) + r")\b[\s,]*(.*)$", re.I | re.S)
    leaning = sorted(d["referring_words"] + d["leaning_phrases"], key=len, reverse=True)
    refer = re.compile(r"\b(?:" + "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in leaning) + r")\b", re.I)
    demonstratives = "|".join(re.escape(w) for w in d["demonstratives"])
    demo = re.compile(r"\b(?:" + demonstratives + r")\b(?=\s*(?:[?.!,;]|$|(?:"
                      + "|".join(re.escape(w) for w in d["demonstrative_followers"]) + r")\b))"
                      + r"|\b(?:" + "|".join(re.escape(w) for w in d["demonstrative_after"]) + r")\s+(?:"
                      + demonstratives + r")\b", re.I)
    return ellipsis, refer, demo


def kind(question: str) -> tuple[str | None, str]:
    """("ellipsis", the new words) | ("reference", question) | (None, question) for a question that stands alone."""
    ellipsis, refer, demo = _patterns()
    m = ellipsis.match(question)
    if m:
        rest = m.group(1).strip().rstrip("?.! ")
        return "ellipsis", rest
    if refer.search(question) or demo.search(question):
        return "reference", question
    return None, question


def _phrases(text: str) -> list[tuple[int, int]]:
    """Spans of the noun phrases of ``text`` that an elliptical follow-up can replace: runs of content
    words, kept only where they follow a noun marker ("the", "which", "for", ...) when any does."""
    markers = {w.lower() for w in dialogue()["noun_markers"]}
    spans, start, end, after_marker, marked = [], None, None, True, []
    for m in _WORDS.finditer(text):
        word = m.group(0).lower().strip("'’")
        if word in STOPWORDS or word in markers:
            if start is not None:
                spans.append((start, end))
                marked.append(after_marker)
            start, after_marker = None, word in markers
            continue
        if start is None:
            start = m.start()
        end = m.end()
    if start is not None:
        spans.append((start, end))
        marked.append(after_marker)
    nouns = [s for s, ok in zip(spans, marked) if ok]
    return nouns or spans


def substitute(previous: str, new: str, embedder) -> str | None:
    """``previous`` with the phrase most like ``new`` (cosine of the sentence encoder) replaced by it;
    None when no phrase is clearly like it (then the follow-up is read with the previous turn as context)."""
    spans = _phrases(previous)
    if not spans:
        return None
    vectors = embedder.encode([new] + [previous[a:b] for a, b in spans])
    similarity = vectors[1:] @ vectors[0]
    best = int(np.argmax(similarity))
    if similarity[best] < SUBSTITUTE_MIN_COSINE:
        return None
    a, b = spans[best]
    if re.match(r"(?i)(the|an?)\s", new) and re.search(r"(?i)\b(the|an?|our|their|its)\s+$", previous[:a]):
        new = new.split(None, 1)[1]  # "the" once, not "the the"
    return previous[:a] + new + previous[b:]


def clip(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, at a word boundary where there is one: what one
    earlier turn may add to the searched question. (An earlier turn may be ten times the question
    limit; uncut, it would make the searched question that long.)"""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit + 1].rsplit(" ", 1)[0] if " " in text[:limit + 1] else text[:limit]
    return cut[:limit].rstrip()


def refusal(turn: Turn) -> bool:
    """Whether an earlier assistant turn was a refusal (no evidence, a question about today, bad input ...),
    which a follow-up must not be searched or judged with. The turn's ``status`` says so; a history that
    does not give it (an older client) falls back to the no-evidence message's opening words."""
    if turn.role != "assistant":
        return False
    if turn.status is not None:
        return turn.status != "answered"
    return turn.content.startswith(_NO_EVIDENCE_START)


def condense(ctx: Context, kit: Kit) -> None:
    """What is searched for a follow-up: the question made to stand alone (``ctx.query``, the kinds above);
    a question that stands alone is searched as asked. Stops nothing."""
    ctx.query = ctx.question
    bound = kit.settings.history_context_chars
    previous = [clip(t.content, bound) for t in ctx.history if t.role == "user" and t.content.strip()]
    if not previous:
        return
    answers = [t.content for t in ctx.history if t.role == "assistant" and not refusal(t)]
    found, words = kind(ctx.question)
    if found is None:
        return
    ctx.follow_up = True
    resolved = substitute(previous[-1], words, kit.embedder) if found == "ellipsis" and tokens(words) else None
    if resolved:
        ctx.query = resolved
    else:
        said = re.sub(r"\s*\[\d+\]", "", answers[-1]) if answers and answers[-1].strip() else ""
        said = clip(" ".join(said.split()[:30]), bound)
        ctx.query = f"{ctx.question} ({previous[-1]}{' ' + said if said else ''})"
        ctx.read_with = previous[-1]
        # The judge reads with the follow-up's own words: alone, and with the previous question as what
        # its pronouns point at (its logits averaged). The previous answer helps find the passages but,
        # read by the judge, pulls it back to the sentences already given.
        ctx.judge_queries = [ctx.question, f"{ctx.question} ({previous[-1]})"]
        last_turns = " ".join(t.content for t in ctx.history[-2:] if not refusal(t))
        ctx.context_tokens = {t for t in entities(last_turns) if t in kit.snapshot.idf}
