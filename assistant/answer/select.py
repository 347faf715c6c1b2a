"""The select step: the cheap first stage that ranks the quotable sentences (``quotable.py``) of the
retrieved passages, so the judge reads the likeliest."""
from __future__ import annotations

from .context import Context, Kit, Scored
from .quotable import quotable_sentences

PART_K = 4  # candidates the judge reads for each part of a two-part question, with that part's words


def select(ctx: Context, kit: Kit) -> None:
    """The cheap first stage: every sentence of the retrieved passages scored by meaning (cosine to the
    question) and words (idf-weighted share of the question's words it has), so the judge reads the
    likeliest ``rerank_k`` (``Scored.first``). Without the judge (an evaluation variant) this score decides
    alone. Stops nothing.

    The hand-set boosts the first version had here (names ×2.5, a follow-up's words ×2, synonyms 0.7,
    title credit 0.4, partial names ×0.3, number/date cues ×1.3, passage cosine) were removed in issue
    11: with the judge deciding, switching each off changed no metric on any question set."""
    snap = kit.snapshot
    quotable = quotable_sentences(snap)
    candidates = [j for h in ctx.hits for j in snap.passages[h.passage].sentences if j in quotable]
    if not candidates:
        return
    queries = [(ctx.vector, ctx.query_tokens, True)] + [(v, k, False) for _, v, k in ctx.parts]
    best: dict[int, Scored] = {}
    ctx.part_best, ctx.part_top = [], []
    for vector, toks, whole in queries:
        weights = {t: snap.idf.get(t, snap.max_idf) for t in toks}
        if whole:  # names carried over from the previous turn of a follow-up
            for t in ctx.context_tokens - set(weights):
                weights[t] = snap.idf.get(t, snap.max_idf)
        total = sum(weights.values()) or 1.0
        dense = snap.sentence_vectors[candidates] @ vector
        scored = []
        for j, d in zip(candidates, dense):
            lexical = sum(w for t, w in weights.items() if t in snap.sentence_tokens[j]) / total
            scored.append(Scored(j, kit.settings.weight_dense * float(d) + kit.settings.weight_lexical * lexical,
                                 float(d)))
        scored.sort(key=lambda x: x.score, reverse=True)
        if not whole:
            ctx.part_best.append(scored[0])
            ctx.part_top.append((ctx.parts[len(ctx.part_top)][0], scored[:PART_K]))
        for sc in scored:
            if sc.sentence not in best or sc.score > best[sc.sentence].score:
                best[sc.sentence] = sc
    ctx.ranked = sorted(best.values(), key=lambda x: x.score, reverse=True)

