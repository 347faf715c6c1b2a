"""Scoring a run: per-question values, each set's aggregate and its 95% intervals, by category, and the
LLM answers' figures. The harness (``harness.py``) scores; the report (``report.py``) formats."""
from __future__ import annotations

from collections import Counter, defaultdict

import numpy as np

from .figures import wilson
from .metrics import answered_correctly

CATEGORY_METRICS = [("doc_hit@1", "doc@1"), ("psg_hit@5", "psg@5"), ("first_cite_gold", "1st-cite gold"),
                    ("key_fact_recall", "key facts"), ("cite_recall", "cite recall"),
                    ("cite_precision", "cite prec.")]


def _mean(values) -> float | None:
    vals = [float(v) for v in values if v is not None]
    return float(np.mean(vals)) if vals else None


ABSTAIN_BY_CATEGORY = {"abstention_recall_oos": "out-of-scope", "abstention_recall_injection": "injection",
                       "abstention_recall_offtopic": "off-topic"}


def per_question(questions: list[dict], scores: list[dict], key: str) -> list:
    """The per-question values a set's metric is the mean of: ``aggregate`` averages them, and ``intervals``
    resamples the same values, so a figure and its interval cannot drift apart."""
    ans = [(q, s) for q, s in zip(questions, scores) if q.get("answerable")]
    un = [(q, s) for q, s in zip(questions, scores) if not q.get("answerable")]
    if key == "answered_rate":
        return [bool(s["answered"]) for _, s in ans]
    if key == "abstention_recall":
        return [not s["answered"] for _, s in un]
    if key in ABSTAIN_BY_CATEGORY:
        return [not s["answered"] for q, s in un if q.get("category") == ABSTAIN_BY_CATEGORY[key]]
    if key == "follow_up_correct":
        return [answered_correctly(s) for q, s in ans if q.get("category") == "follow-up"]
    if key == "right":  # the headline: answerable answered correctly, unanswerable refused
        return [answered_correctly(s) if q.get("answerable") else not s["answered"] for q, s in zip(questions, scores)]
    return [s.get(key) for _, s in ans if s.get(key) is not None]


def aggregate(questions: list[dict], scores: list[dict]) -> dict:
    n_answerable = sum(bool(q.get("answerable")) for q in questions)
    out: dict = {"n": len(questions), "n_answerable": n_answerable, "n_unanswerable": len(questions) - n_answerable}
    for key in ("doc_hit@1", "doc_hit@3", "doc_hit@5", "doc_mrr", "psg_hit@1", "psg_hit@3", "psg_hit@5",
                "psg_mrr", "first_cite_gold", "key_fact_recall", "cite_recall", "cite_precision", "answered_rate",
                "abstention_recall", *ABSTAIN_BY_CATEGORY, "follow_up_correct", "right"):
        out[key] = _mean(per_question(questions, scores, key))
    ok = sum(s["verbatim"][0] for s in scores)
    total = sum(s["verbatim"][1] for s in scores)
    out["verbatim"] = ok / total if total else None
    out["n_citations"] = total
    out["only_quotes"] = _mean(s["only_quotes"] for s in scores if s["only_quotes"] is not None)
    words = [s["words"] for q, s in zip(questions, scores) if q.get("answerable") and s["answered"]]
    out["words_mean"] = float(np.mean(words)) if words else None
    out["words_median"] = float(np.median(words)) if words else None
    abstained = [not s["answered"] for s in scores]
    tp = sum(a and not q.get("answerable") for a, q in zip(abstained, questions))
    out["abstention_precision"] = tp / sum(abstained) if sum(abstained) else None
    out["n_follow_up"] = len(per_question(questions, scores, "follow_up_correct"))
    lat = [s["latency_ms"] for s in scores]
    out["latency_p50_ms"] = float(np.percentile(lat, 50)) if lat else None
    out["latency_p95_ms"] = float(np.percentile(lat, 95)) if lat else None
    out["latency_mean_ms"] = float(np.mean(lat)) if lat else None
    return out


def question_set(q: dict) -> str:
    """Which set a question belongs to: the original questions, or the everyday ones' dev / held-out half."""
    return q.get("_set", "original") if "split" not in q else f"{q.get('_set', 'everyday')}-{q['split']}"


def by_set(questions: list[dict], scores: list[dict]) -> dict:
    """Each question set's aggregate, with ``intervals`` (95%) for the metrics a set's size makes uncertain."""
    sets: dict[str, list[int]] = defaultdict(list)
    for i, q in enumerate(questions):
        sets[question_set(q)].append(i)
    out = {}
    for name, idx in sets.items():
        qs, ss = [questions[i] for i in idx], [scores[i] for i in idx]
        out[name] = aggregate(qs, ss)
        out[name]["intervals"] = intervals(qs, ss)
    return out


# Metrics that are a share of questions (a yes/no each) get a Wilson interval; means of per-question
# fractions (key facts, citations) a percentile bootstrap over the set's questions.
YES_NO = {"first_cite_gold", "answered_rate", "abstention_recall", "abstention_recall_offtopic", "follow_up_correct",
          "right"}
FRACTIONS = {"key_fact_recall", "cite_precision", "cite_recall"}


def intervals(questions: list[dict], scores: list[dict], level: float = 0.95) -> dict:
    """``{metric: {"n", "k" (yes/no metrics), "low", "high"}}``: how far a set's figure could move with other
    questions like these. Why: the held-out sets have 7 to 31 questions per metric, where one question
    moves a rate by 0.03 to 0.14, so a target read off one figure needs its interval beside it."""
    from scipy import stats

    out = {}
    for key in (*YES_NO, *FRACTIONS):
        values = per_question(questions, scores, key)
        if not values:
            continue
        if key in YES_NO:
            out[key] = wilson(sum(bool(v) for v in values), len(values), level)
            continue
        data = np.asarray(values, dtype=float)
        if len(data) < 2 or np.ptp(data) == 0:  # the bootstrap has nothing to resample
            low = high = float(data.mean())
        else:
            ci = stats.bootstrap((data,), np.mean, confidence_level=level, n_resamples=2000, method="percentile",
                                 random_state=np.random.default_rng(0)).confidence_interval
            low, high = float(ci.low), float(ci.high)
        out[key] = {"n": len(values), "low": low, "high": high}
    return out


def _reason_kind(reason: str) -> str:
    for key, kind in (("cites no passage", "no [n] marker"), ("which is not one of", "[n] not given"),
                      ("the number", "number not in passage"), ("the name", "name not in passage"),
                      ("too little support", "support under threshold")):
        if key in reason:
            return kind
    return reason


def llm_stats(results) -> dict:
    """How the LLM answers fared: used vs fell back (over answered questions), sentences kept, support."""
    answered = [r for r in results if not r.abstained and (r.diag or {}).get("mode")]
    if not answered:
        return {}
    modes = Counter(r.diag["mode"] for r in answered)
    sentences = [s for r in answered for s in r.diag.get("support") or []]
    kept = [s for s in sentences if s["kept"]]
    reasons = Counter(_reason_kind(s["reason"]) for s in sentences if not s["kept"] and s.get("reason"))
    return {"llm_used": modes["llm"] / len(answered), "fallback_rate": modes["extractive-fallback"] / len(answered),
            "n_llm": modes["llm"], "n_fallback": modes["extractive-fallback"],
            "sentences_generated": len(sentences), "sentences_kept": len(kept) / len(sentences) if sentences else None,
            "support_kept_mean": float(np.mean([s["support"] for s in kept])) if kept else None,
            "removed_reasons": dict(reasons.most_common()),
            "fallback_reasons": dict(Counter((r.diag.get("fallback_reason") or "")[:80] for r in answered
                                             if r.diag["mode"] == "extractive-fallback").most_common())}


def by_category(questions: list[dict], scores: list[dict]) -> dict:
    groups: dict[str, list[int]] = defaultdict(list)
    for i, q in enumerate(questions):
        groups[q.get("category", "?")].append(i)
    out = {}
    for cat, idx in groups.items():
        qs = [questions[i] for i in idx]
        ss = [scores[i] for i in idx]
        row = {"n": len(idx), "answerable": bool(qs[0].get("answerable"))}
        for key, _ in CATEGORY_METRICS:
            row[key] = _mean(s.get(key) for q, s in zip(qs, ss) if q.get("answerable"))
        row["answered_rate"] = _mean(s["answered"] for s in ss)
        row["words_mean"] = _mean(s["words"] for s in ss if s["answered"])
        out[cat] = row
    return out
