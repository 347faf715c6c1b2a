"""The reword and retrieve steps: what is searched, and which passages come back."""
from __future__ import annotations

import re

from ..library.retrieval import Hit
from ..text import tokens
from .context import Context, Kit
from .select import _usable_passages

_PARTS = re.compile(r"\s*(?:[,;]\s*(?:and|but)?|\?|\band\b)\s+(?=(?:how|what|when|who|which|why|where|whose|is|are|does|do|did|will|would|can|could)\b)", re.I)


def reword(ctx: Context, kit: Kit) -> None:
    """Everyday words get the documents' words added (``corpus/vocabulary.toml``): "family doctors" →
    "family doctors (GPs)", so both retrievers and the sentence scorer see the documents' term. Stops
    nothing."""
    if kit.settings.uses("vocabulary"):
        ctx.query = kit.vocabulary.expand(ctx.query)
        ctx.judge_queries = [kit.vocabulary.expand(q) for q in ctx.judge_queries]


def retrieve(ctx: Context, kit: Kit) -> None:
    """Which passages might answer: dense (Chroma) + BM25, fused by reciprocal rank, searched with the
    whole question and, for a two-part question, with each part too. Passages with no quotable
    sentence take no place (``select._usable_passages``). Stops nothing: no hit leaves ``select``
    nothing to rank, and ``decide`` abstains."""
    snap = kit.snapshot
    texts = [ctx.query]
    parts = [p for p in _PARTS.split(ctx.query) if p and len(tokens(p)) >= 2] if not ctx.follow_up else []
    if len(parts) >= 2:
        texts += parts[:3]
    mend = kit.settings.uses("spelling")
    token_lists = [snap.search_tokens(t, mend) for t in texts]
    vectors = kit.embedder.encode([snap.correct_text(t, mend) for t in texts])
    ctx.query_tokens, ctx.vector = token_lists[0], vectors[0]
    ctx.parts = [(t, v, k) for t, v, k in zip(texts[1:], vectors[1:], token_lists[1:])]
    seen: dict[int, Hit] = {}
    usable = _usable_passages(snap)
    for vector, toks in zip(vectors, token_lists):
        for hit in kit.retriever.search(vector, toks, usable.__contains__):
            seen.setdefault(hit.passage, hit)
    ctx.hits = list(seen.values())
