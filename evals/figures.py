"""Figures as the reports print them: a value, its interval, an ablation row's meaning. Shared by the report
(harness.py) and the README/docs tables (readme.py), which would otherwise import each other."""
from __future__ import annotations


def wilson(k: int, n: int, level: float = 0.95) -> dict:
    """``{"n", "k", "low", "high"}``: the Wilson interval of ``k`` yes out of ``n`` (a set's, or several
    sets' together)."""
    from scipy import stats

    ci = stats.binomtest(k, n).proportion_ci(level, method="wilson")
    return {"n": n, "k": k, "low": float(ci.low), "high": float(ci.high)}


def fmt(v, kind="rate") -> str:
    if v is None:
        return "n/a"
    if kind == "rate":
        return f"{v:.2f}"
    if kind == "ms":
        return f"{v:.1f}"
    if kind == "s":
        return f"{v:.2f}"
    if kind == "words":
        return f"{v:.0f}"
    return str(v)


def with_interval(agg: dict, key: str) -> str:
    """``0.86 (6/7; 0.49–0.97)`` for a yes/no metric, ``0.53 (n 10; 0.33–0.73)`` for a mean of fractions."""
    value = fmt(agg.get(key), "ms" if key.endswith("_ms") else "rate")
    ci = (agg.get("intervals") or {}).get(key)
    if ci is None or agg.get(key) is None:
        return value
    count = f"{ci['k']}/{ci['n']}" if "k" in ci else f"n {ci['n']}"
    return f"{value} ({count}; {ci['low']:.2f}–{ci['high']:.2f})"


ABLATION_NOTES = {
    "": "everything on (the shipped pipeline)",
    "vocabulary": "everyday words not mapped to the documents' words (corpus/vocabulary.toml)",
    "reranker": "no judge: the first stage's score (cosine + word overlap) chooses and abstains under abstain_threshold",
    "judge_order": "the judge only gates (p >= threshold); the first stage's score orders what it accepts",
    "follow_up": "the first version's condense: the previous question joined to any short or follow-up-worded question; "
                 "the judge's 12 places may go to sentences the conversation already quoted",
    "standalone_quotes": "sentences quoted alone, even when they lean on the one before or leave a quotation open",
    "about": "questions about a document itself (who wrote it, when) get no record line and may abstain",
    "spelling": "no word of the question mended (shipped: a word neither in the documents nor English becomes its closest document word)",
    "bank": "no question bank: no bank recall, and the judge reads no bank features (corpus/bank/)",
    "+corrections": "*with* 20 readers' corrections accepted (evals/corrections_sample.toml, written from the documents alone)",
    "preface": "a message's question sentence not also read alone: what is said before it (\"I'm a new governor.\") is read with it",
}
