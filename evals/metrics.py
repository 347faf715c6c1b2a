"""Metric definitions, independent of ``assistant`` internals (its tokenizer may change under tuning).

Matching is deliberately simple and written down in the report:

* ``norm``: lower case, curly quotes → straight, Unicode hyphens → "-", whitespace collapsed.
* ``toks``: the set of ``[a-z0-9]+`` words of ``norm(text)`` minus a short stop-word list.
* ``covers(item, gold)``: at least 60 % of the gold passage's tokens occur in ``item``.
* ``related(quote, gold)``: ``covers(quote, gold)`` or ``covers(gold, quote)`` (the quote covers the
  gold passage, or lies within it).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

OVERLAP = 0.6
K_MAX = 10  # MRR@10 / ranked lists are cut at 10

_STOP = frozenset("""a about after all also an and any are as at be been being but by can could did do does
for from had has have he her his how i if in into is it its of on or our she should so than that the their
them then there these they this those to under was we were what when where which while who whom why will
with would you your""".split())
_WORD = re.compile(r"[a-z0-9]+")


def norm(text: str) -> str:
    text = (text or "").lower()
    for a, b in (("’", "'"), ("‘", "'"), ("“", '"'), ("”", '"'), ("‐", "-"), ("‑", "-"), ("–", "-"), ("—", "-")):
        text = text.replace(a, b)
    return re.sub(r"\s+", " ", text).strip()


def toks(text: str) -> set[str]:
    return {w for w in _WORD.findall(norm(text).replace("'s ", " ")) if w not in _STOP}


def covers(item: str, gold: str, threshold: float = OVERLAP) -> bool:
    g = toks(gold)
    return bool(g) and len(g & toks(item)) / len(g) >= threshold


def related(quote: str, gold: str) -> bool:
    return covers(quote, gold) or covers(gold, quote)


def has_fact(text: str, fact: str) -> bool:
    return norm(fact) in norm(text)


def n_words(text: str) -> int:
    return len(re.findall(r"\S+", re.sub(r"\[\d+\]", "", text or "")))


@dataclass
class Cite:
    doc_id: str
    quote: str
    start: int | None = None
    end: int | None = None
    n: int | None = None
    verbatim: bool | None = None  # filled by the system: quote == source[start:end] and quote in source


@dataclass
class Result:
    """One system's answer to one question, in a system-neutral form."""

    qid: str
    system: str
    answer: str
    abstained: bool
    status: str
    cites: list[Cite]
    ranked: list[tuple[str, str]]  # (doc_id, text), best first: what the system retrieved
    latency_ms: float
    only_quotes: bool | None = None  # answer consists of its cited quotes and [n] markers only
    diag: dict = field(default_factory=dict)


def answered_correctly(s: dict) -> bool:
    """An answerable question is answered correctly when it is answered, its first citation is from a gold
    document, and the answer holds at least half of its key facts (for a follow-up: it answered the
    follow-up, not the question before). The follow-up metric and the ablation's paired test both use it."""
    facts = s.get("key_fact_recall")
    return bool(s["answered"] and s.get("first_cite_gold") and (facts is None or facts >= 0.5))


def first_rank(items: list, predicate) -> int | None:
    for i, item in enumerate(items[:K_MAX]):
        if predicate(item):
            return i
    return None


def score(q: dict, r: Result) -> dict:
    """Per-question metrics; ``None`` where a metric does not apply to this question."""
    gold_docs = set(q.get("gold_doc_ids") or [])
    gold = q.get("gold_passages") or []
    facts = q.get("key_facts") or []
    answerable = bool(q.get("answerable"))
    m: dict = {"answered": not r.abstained, "words": n_words(r.answer) if not r.abstained else 0,
               "latency_ms": r.latency_ms, "n_cites": len(r.cites),
               "verbatim": (sum(bool(c.verbatim) for c in r.cites), len(r.cites)),
               "only_quotes": r.only_quotes}
    if answerable:
        doc_rank = first_rank(r.ranked, lambda it: it[0] in gold_docs) if gold_docs else None
        psg_rank = first_rank(r.ranked, lambda it: any(covers(it[1], g) for g in gold)) if gold else None
        for name, rank, applies in (("doc", doc_rank, bool(gold_docs)), ("psg", psg_rank, bool(gold))):
            for k in (1, 3, 5):
                m[f"{name}_hit@{k}"] = (rank is not None and rank < k) if applies else None
            m[f"{name}_mrr"] = (1.0 / (rank + 1) if rank is not None else 0.0) if applies else None
        if r.abstained:
            m.update(first_cite_gold=False, key_fact_recall=0.0 if facts else None,
                     cite_recall=0.0 if gold else None, cite_precision=None)
        else:
            m["first_cite_gold"] = bool(r.cites) and r.cites[0].doc_id in gold_docs
            m["key_fact_recall"] = (sum(has_fact(r.answer, f) for f in facts) / len(facts)) if facts else None
            m["cite_recall"] = (sum(any(covers(c.quote, g) for c in r.cites) for g in gold) / len(gold)) if gold else None
            ok = [any(related(c.quote, g) for g in gold)
                  or (c.doc_id in gold_docs and any(has_fact(c.quote, f) for f in facts)) for c in r.cites]
            m["cite_precision"] = (sum(ok) / len(ok)) if ok else 0.0
            m["cite_ok"] = ok
    return m
