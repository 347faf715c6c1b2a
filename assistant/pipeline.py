"""The answer pipeline: an ordered list of small steps sharing one ``Context``.

guard → condense → retrieve → select → decide → compose → cite. Any step may stop the run by
setting a named status (``invalid_input``, ``unsafe_input``, ``no_evidence``); the status is part of
the public result, so the CLI exit code, the UI and the evaluation all read the same thing.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .config import Settings
from .embeddings import Embedder
from .models import Answer, Citation, Turn
from .retrieval import Hit, Retriever, Snapshot
from .text import normalise, tokens, words

COVERAGE = ("2008 proposals to extend the Children Act 2004 \"duty to co-operate\" to schools, children's "
            "trusts and Children's Trust Boards, Children and Young People's Plans, and schools' duty to "
            "promote pupils' well-being")
NO_EVIDENCE = ("The documents in this library don't cover that. They cover " + COVERAGE + ". For anything "
               "else, or for the law as it stands today, please ask your local authority or your clerk to governors.")
NOTICE_PROPOSALS = ("Based on 2008 proposals and news reports of them, not law in force; not legal advice. "
                    "Check the current position with your local authority or clerk.")
NOTICE_GENERAL = "Quoted from the library's documents; not legal advice."

_INJECTION = re.compile(
    r"\b(ignore|disregard|forget|override)\b.{0,40}\b(instructions?|prompts?|rules?|guidelines?|above|previous|system)\b"
    r"|\b(system prompt|your prompt|jailbreak|developer mode|you are now|act as|pretend (to be|you are))\b"
    r"|^\s*(system|assistant)\s*:",
    re.I)
_FOLLOW_UP = re.compile(
    r"^\s*(and|but|also|so|what about|how about|what of|and what|does (that|it|this)|do (they|those)|is (that|it|this)|"
    r"are (they|those|these)|why|when|who else|which)\b|\b(it|they|them|this|that|those|these|there)\b", re.I)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass
class Kit:
    """What the steps need: settings, the model and the live index."""

    settings: Settings
    embedder: Embedder
    snapshot: Snapshot
    retriever: Retriever


@dataclass
class Scored:
    sentence: int
    score: float
    dense: float
    lexical: float


@dataclass
class Context:
    question: str
    history: list[Turn] = field(default_factory=list)
    id: str | None = None
    status: str | None = None
    message: str | None = None
    query: str = ""
    focus: list[str] = field(default_factory=list)
    query_tokens: list[str] = field(default_factory=list)
    vector: np.ndarray | None = None
    hits: list[Hit] = field(default_factory=list)
    ranked: list[Scored] = field(default_factory=list)
    chosen: list[Scored] = field(default_factory=list)
    answer: str = ""
    citations: list[Citation] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    def stop(self, status: str, message: str) -> None:
        self.status, self.message = status, message


Step = Callable[[Context, Kit], None]


def guard(ctx: Context, kit: Kit) -> None:
    """Refuse what is not a question we can search for; the message says exactly why."""
    q = _CONTROL.sub(" ", ctx.question or "")
    q = re.sub(r"\s+", " ", q).strip()
    limit = kit.settings.max_question_chars
    if not q:
        return ctx.stop("invalid_input", "Please type a question, for example: \"Which bodies are bound by the duty to co-operate?\"")
    if len(q) > limit:
        return ctx.stop("invalid_input", f"The question is {len(q):,} characters long; the limit is {limit:,}. Please shorten it.")
    if not re.search(r"\w", q):
        return ctx.stop("invalid_input", "The question has no words in it. Please type a question in words.")
    if _INJECTION.search(q):
        return ctx.stop("unsafe_input", "That reads as an instruction to the assistant, not a question about the "
                        "documents. I only quote the library's sources; please ask about the duty to co-operate, "
                        "children's trusts or pupils' well-being.")
    ctx.question = q


def condense(ctx: Context, kit: Kit) -> None:
    """Make a follow-up ("what about academies?") stand alone by joining the previous question."""
    ctx.query = ctx.question
    ctx.focus = kit.snapshot.correct(tokens(ctx.question))
    previous = [t.content for t in ctx.history if t.role == "user" and t.content.strip()]
    if previous and (_FOLLOW_UP.search(ctx.question) or len(ctx.focus) <= 3):
        ctx.query = f"{previous[-1].strip()} {ctx.question}"


def retrieve(ctx: Context, kit: Kit) -> None:
    ctx.query_tokens = kit.snapshot.correct(tokens(ctx.query))
    corrected = " ".join(ctx.query_tokens) if ctx.query_tokens != tokens(ctx.query) else ""
    ctx.vector = kit.embedder.encode_one(ctx.query + (f" ({corrected})" if corrected else ""))
    ctx.hits = kit.retriever.search(ctx.vector, ctx.query_tokens)


def select(ctx: Context, kit: Kit) -> None:
    """Score every sentence of the retrieved passages: meaning (cosine) and words (idf-weighted overlap)."""
    snap, s = kit.snapshot, kit.settings
    candidates = [j for h in ctx.hits for j in snap.passages[h.passage].sentences]
    if not candidates:
        return
    dense = snap.sentence_vectors[candidates] @ ctx.vector
    weights = {t: snap.idf.get(t, snap.max_idf) for t in set(ctx.query_tokens)}
    for t in set(ctx.focus) - set(tokens(ctx.query)) | (set(ctx.focus) if ctx.query != ctx.question else set()):
        weights[t] = weights.get(t, snap.max_idf) * 2  # the follow-up's own words count double
    total = sum(weights.values()) or 1.0
    scored = []
    for j, d in zip(candidates, dense):
        text = snap.sentence_text(j)
        if len(text.split()) < 5 or text.rstrip().endswith(":"):
            continue  # fragments and list lead-ins do not answer anything on their own
        lexical = sum(w for t, w in weights.items() if t in snap.sentence_tokens[j]) / total
        scored.append(Scored(j, 0.6 * float(d) + 0.4 * lexical, float(d), lexical))
    ctx.ranked = sorted(scored, key=lambda x: x.score, reverse=True)


def decide(ctx: Context, kit: Kit) -> None:
    if not ctx.ranked or ctx.ranked[0].score < kit.settings.abstain_threshold:
        ctx.stop("no_evidence", NO_EVIDENCE)


def compose(ctx: Context, kit: Kit) -> None:
    """Pick 1–4 sentences: the best, then others close to it that add something new, within budget."""
    snap, s = kit.snapshot, kit.settings
    best = ctx.ranked[0]
    chosen, budget = [best], words(snap.sentence_text(best.sentence))
    for cand in ctx.ranked[1:]:
        if len(chosen) >= s.max_sentences or cand.score < max(s.abstain_threshold, s.relative_keep * best.score):
            break
        n = words(snap.sentence_text(cand.sentence))
        if budget + n > s.max_answer_words or _repeats(snap, cand.sentence, chosen, s.dedup_threshold):
            continue
        chosen.append(cand)
        budget += n
    # Readable order: documents in order of their best sentence, each document's sentences in text order.
    doc_rank: dict[str, int] = {}
    for c in chosen:
        doc_rank.setdefault(snap.passages[snap.sentence_passage[c.sentence]].doc_id, len(doc_rank))
    chosen.sort(key=lambda c: (doc_rank[snap.passages[snap.sentence_passage[c.sentence]].doc_id],
                               snap.sentence_span[c.sentence][0]))
    ctx.chosen = chosen
    ctx.answer = " ".join(f"{snap.sentence_text(c.sentence)} [{n}]" for n, c in enumerate(chosen, start=1))


def _repeats(snap: Snapshot, j: int, chosen: list[Scored], threshold: float) -> bool:
    v = snap.sentence_vectors[j]
    for c in chosen:
        if float(v @ snap.sentence_vectors[c.sentence]) > min(threshold, 0.85):
            return True
        a, b = snap.sentence_tokens[j], snap.sentence_tokens[c.sentence]
        if a and b and len(a & b) / len(a | b) > 0.6:
            return True
    return False


def cite(ctx: Context, kit: Kit) -> None:
    """Resolve every [n] to a verbatim quote with its source's metadata; drop anything not verbatim."""
    snap = kit.snapshot
    citations = []
    for n, c in enumerate(ctx.chosen, start=1):
        passage = snap.passages[snap.sentence_passage[c.sentence]]
        doc = snap.docs[passage.doc_id]
        start, end = snap.sentence_span[c.sentence]
        quote = doc.text[start:end]
        assert quote and quote in ctx.answer, "a quote must appear verbatim in the answer"
        src = doc.source
        citations.append(Citation(
            n=n, doc_id=src.id, title=src.title, publisher=src.publisher, date=src.date,
            date_approximate=src.date_approximate, display_date=src.display_date, kind=src.kind,
            status=src.status, label=src.citation_label, quote=quote,
            location=f"paragraph {passage.paragraph}", paragraph=passage.paragraph, start=start, end=end,
            score=round(c.score, 4)))
    ctx.citations = citations


STEPS: list[Step] = [guard, condense, retrieve, select, decide, compose, cite]


def run(ctx: Context, kit: Kit, steps: list[Step] = STEPS) -> Answer:
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
    status = ctx.status or "answered"
    answered = status == "answered"
    notice = None
    if answered:
        proposals = any(kit.snapshot.docs[c.doc_id].source.concerns_proposals for c in ctx.citations)
        notice = NOTICE_PROPOSALS if proposals else NOTICE_GENERAL
    return Answer(id=ctx.id, question=ctx.question, answer=ctx.answer if answered else (ctx.message or ""),
                  abstained=not answered, status=status, message=None if answered else ctx.message,
                  notice=notice, citations=ctx.citations if answered else [],
                  standalone_question=ctx.query or None, timings_ms=ctx.timings)


__all__ = ["Context", "Kit", "STEPS", "run", "normalise"]
