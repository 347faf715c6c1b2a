"""The select step: the cheap first stage that shortlists sentences for the judge, and which sentences
may ever be quoted at all (not fragments, list lead-ins, a repeated title, or text addressed to an AI)."""
from __future__ import annotations

import re

from ..library.retrieval import Snapshot
from ..text import tokens
from .context import Context, Kit, Scored

# Text in a document that addresses an AI rather than a reader ("ignore previous instructions", "System:").
# Such sentences are never quoted: an extractive answer cannot be steered by what a document tells it.
_ADDRESSED_TO_AI = re.compile(
    r"\b(ignore|disregard|forget|override)\b.{0,40}\b(instructions?|prompts?|rules?|guidelines?)\b"
    r"|\b(system prompt|jailbreak|developer mode|you are now|language model|as an ai|ai assistant|chatbot)\b"
    r"|^\W*(system|assistant|user)\s*:"
    r"|\b(reply|respond|answer)\b.{0,40}\b(only|always)\b.{0,40}\bwith\b",
    re.I)
PART_K = 4  # candidates the judge reads for each part of a two-part question, with that part's words


def select(ctx: Context, kit: Kit) -> None:
    """The cheap first stage: every sentence of the retrieved passages scored by meaning (cosine to the
    question) and words (idf-weighted share of the question's words it has), so the judge reads the
    likeliest ``rerank_k``. With the judge switched off (ablation) this score decides alone. Stops
    nothing.

    The hand-set boosts the first version had here (names ×2.5, a follow-up's words ×2, synonyms 0.7,
    title credit 0.4, partial names ×0.3, number/date cues ×1.3, passage cosine) were removed in issue
    11: with the judge deciding, switching each off changed no metric on any question set."""
    snap = kit.snapshot
    quotable = _quotable_sentences(snap)
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
                                 float(d), lexical))
        scored.sort(key=lambda x: x.score, reverse=True)
        if not whole:
            ctx.part_best.append(scored[0])
            ctx.part_top.append((ctx.parts[len(ctx.part_top)][0], scored[:PART_K]))
        for sc in scored:
            if sc.sentence not in best or sc.score > best[sc.sentence].score:
                best[sc.sentence] = sc
    ctx.ranked = sorted(best.values(), key=lambda x: x.score, reverse=True)


def _quotable_sentences(snap: Snapshot) -> frozenset[int]:
    """The sentences that may ever be quoted (``_quotable``, and not a heading that repeats the title),
    worked out once per snapshot: ``select`` keeps only these, and ``retrieve`` gives a passage with
    none of them no place (instructions to an AI, fragments)."""
    if "_quotable" not in snap.__dict__:
        snap._quotable = frozenset(
            j for j in range(len(snap.sentence_span))
            if _quotable(snap.sentence_text(j), bool(snap.sentence_heading[j]))
            and not (snap.sentence_heading[j] and _is_title(snap, j)))
    return snap._quotable


def _usable_passages(snap: Snapshot) -> frozenset[int]:
    """Passages with at least one quotable sentence (memoised on the snapshot)."""
    if "_usable" not in snap.__dict__:
        snap._usable = frozenset(int(snap.sentence_passage[j]) for j in _quotable_sentences(snap))
    return snap._usable


def _is_title(snap: Snapshot, j: int) -> bool:
    """A heading line that repeats the document's recorded title: the citation card shows the title
    as the source's details, so it is never passed off as a quote."""
    doc = snap.docs[snap.passages[snap.sentence_passage[j]].doc_id]
    line = " ".join(tokens(snap.sentence_text(j), keep_stopwords=True))
    return bool(line) and line in " ".join(tokens(doc.source.title, keep_stopwords=True))


def _quotable(text: str, heading: bool = False) -> bool:
    """Fragments and list lead-ins ("Our proposals include:") do not answer anything on their own; a
    heading line does, about its document ("3 July 2008", "LETTER FROM ... TO ..."), from 3 words.
    Sentences addressed to an AI (injected instructions) are never quoted."""
    if _ADDRESSED_TO_AI.search(text):
        return False
    if heading:
        return len(text.split()) >= 3
    return len(text.split()) >= 5 and not text.rstrip().endswith(":")
