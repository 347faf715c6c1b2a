"""The spelling, reword and retrieve steps: what is searched, and which passages come back."""
from __future__ import annotations

import re
from functools import lru_cache

from ..library.retrieval import Hit
from ..text import tokens
from .context import Context, Kit
from .dialogue import dialogue
from .quotable import usable_passages


@lru_cache(maxsize=1)
def _parts() -> re.Pattern:
    """Where a message's second question starts (grammar words from data/dialogue.toml)."""
    d = dialogue()
    wh = "|".join(re.escape(w) for w in d["question_words"])
    aux = "|".join(re.escape(w) for w in d["question_auxiliaries"])
    return re.compile(r"\s*(?:[,;]\s*(?:and|but)?|\?|\band\b)\s+(?=(?:(?:" + wh + r")(?:['’]?s)?|" + aux + r")\b)", re.I)


def split_parts(question: str) -> list[str]:
    """The questions a message asks, when it asks more than one ("Who is bound, and has the guidance been
    published?"): the pieces between a comma, semicolon, "and" or question mark and a word that opens a
    question, each of two words or more. One piece (or none) for a question that asks one thing."""
    return [p for p in _parts().split(question) if p and len(tokens(p)) >= 2]


def spelling(ctx: Context, kit: Kit) -> None:
    """Misspelt words are mended before anything is searched or judged ("bodys ... co-operat" → "bodies
    ... co-operate"): ``ctx.correct`` becomes the library's speller (``Snapshot.correct_text``), which
    ``retrieve`` and ``judge`` read every text through. Stops nothing."""
    ctx.correct = kit.snapshot.correct_text


def reword(ctx: Context, kit: Kit) -> None:
    """Everyday words get the documents' words added (``corpus/vocabulary.toml``): "family doctors" →
    "family doctors (GPs)", so both retrievers and the sentence scorer see the documents' term. Stops
    nothing."""
    ctx.query = kit.vocabulary.expand(ctx.query)
    ctx.judge_queries = [kit.vocabulary.expand(q) for q in ctx.judge_queries]


def retrieve(ctx: Context, kit: Kit) -> None:
    """Which passages might answer: dense (Chroma) + BM25, fused by reciprocal rank, searched with the
    whole question and, for a two-part question, with each part too. Passages with no quotable
    sentence take no place (``quotable.usable_passages``). Stops nothing: no hit leaves ``select``
    nothing to rank, and ``decide`` abstains."""
    snap = kit.snapshot
    texts = [ctx.query]
    parts = split_parts(ctx.query) if not ctx.follow_up else []
    if len(parts) >= 2:
        texts += parts[:3]
    corrected = [ctx.correct(t) for t in texts]
    token_lists = [tokens(t) for t in corrected]
    vectors = kit.embedder.encode(corrected)
    ctx.query_tokens, ctx.vector = token_lists[0], vectors[0]
    ctx.parts = [(t, v, k) for t, v, k in zip(texts[1:], vectors[1:], token_lists[1:])]
    seen: dict[int, Hit] = {}
    usable = usable_passages(snap)
    for vector, toks in zip(vectors, token_lists):
        for hit in kit.retriever.search(vector, toks, usable.__contains__):
            seen.setdefault(hit.passage, hit)
    ctx.hits = list(seen.values())
