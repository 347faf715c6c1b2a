"""The bank step: which sentences the question bank says answer questions like this one.

Every bank question (``corpus/bank/*.toml``, ``library/bank.py``) points at the sentences that answer it.
The question's vector is compared with every bank question's (one matrix product over vectors held in
memory, as the sentences' are); a sentence's bank similarity is its nearest bank question's cosine. The
sentences of the ``bank_k`` nearest bank questions join the candidates (their passages are added to the
retrieved ones, so the first stage and the judge see them even when neither retriever found them), and
the judge reads how close each candidate's nearest bank question is, whether it has a bank at all, and
how close the nearest question the documents do *not* cover is. Stops nothing.
"""
from __future__ import annotations

import numpy as np

from ..library.chunking import split_sentences
from ..library.retrieval import Hit
from .context import Context, Kit

BANK_K = 8  # nearest bank questions whose sentences join the candidates


def bank(ctx: Context, kit: Kit) -> None:
    """Score the bank against the question (and each part of a two-part question: the better counts)."""
    view = kit.snapshot.bank
    if not len(view) or ctx.vector is None:
        return
    # What the judge reads the question as: a follow-up that points back in its own words (``followup.py``),
    # else the question as searched and each of its parts.
    vectors = list(kit.embedder.encode(ctx.judge_queries)) if ctx.judge_queries else [ctx.vector] + [v for _, v, _ in ctx.parts]
    if ctx.asked:  # a message that says something before it asks: its question sentence alone too, as the judge reads it
        vectors.append(kit.embedder.encode([ctx.asked])[0])
    sims = np.max(view.vectors @ np.asarray(vectors, dtype=np.float32).T, axis=1)
    # Rows that point at no live sentence never join the candidates: -inf, so one pass finds both the nearest
    # covered question and the bank_k nearest (a partition, not a sort of every row: ~1 ms at 90k rows).
    covered = np.where(view.covered, sims, -np.inf)
    n_covered = view.n_covered
    ctx.bank_covered = float(covered.max()) if n_covered else 0.0
    ctx.bank_uncovered = float(np.max(sims, where=view.not_covered, initial=-np.inf)) if view.n_not_covered else 0.0
    ctx.bank_sims = sims
    k = min(BANK_K, n_covered)
    if not k:
        return
    kth = np.partition(covered, len(covered) - k)[len(covered) - k]  # the k-th nearest covered question
    top = np.flatnonzero(covered >= kth)  # ties with it included, then nearest first (row order among equals)
    top = top[np.argsort(-sims[top], kind="stable")][:k]
    seen = {h.passage for h in ctx.hits}
    snap = kit.snapshot
    limit = kit.settings.dedup_threshold
    for row in top:
        for j in view.sentences[row]:
            p = int(snap.sentence_passage[j])
            if p not in seen:
                # A passage nearly the same as one already a candidate is left out, as retrieval does (a report
                # repeating the letter; a library of copies): the judge would read the same sentence twice.
                v = snap.passage_vectors[p]
                if any(float(v @ snap.passage_vectors[h.passage]) > limit for h in ctx.hits):
                    continue
                seen.add(p)
                ctx.hits.append(Hit(p, 0.0, float(v @ ctx.vector)))
            ctx.bank_recalled.setdefault(j, float(sims[row]))


def preface(ctx: Context, kit: Kit) -> None:
    """A message that says something before it asks ("I'm a new governor. What is a schools forum?"):
    ``ctx.asked`` = its question sentences alone, which the bank and the judge read too (``asked``). Not for a
    follow-up read with its own words. Stops nothing."""
    ctx.asked = asked(ctx.query) if not ctx.judge_queries else None


def asked(message: str) -> str | None:
    """The question sentences of a message that also says other things ("We're a small primary. Do we
    have to co-operate?" → "Do we have to co-operate?"); None when every sentence asks, or none does.
    Both the bank and the judge read such a message's question sentences alone too (the ``preface`` step)."""
    sentences = [message[s.start:s.end] for s in split_sentences(message)]
    asks = [s for s in sentences if s.rstrip().endswith("?")]
    return " ".join(asks) if asks and len(asks) < len(sentences) else None


def similarity(ctx: Context, kit: Kit, sentence: int) -> float:
    """The cosine of the question to the nearest bank question of ``sentence`` (0 without a bank)."""
    rows = kit.snapshot.bank.by_sentence.get(sentence)
    if ctx.bank_sims is None or rows is None or not len(rows):
        return 0.0
    return float(ctx.bank_sims[rows].max())


def has_bank(ctx: Context, kit: Kit, sentence: int) -> bool:
    """Whether ``sentence`` has bank questions the question was compared with (none when the ``bank`` step
    did not run: the judge then reads it as a sentence with no bank)."""
    return ctx.bank_sims is not None and sentence in kit.snapshot.bank.by_sentence
