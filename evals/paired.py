"""Does each component earn its place? A paired test over the same questions, with and without it.

The ablation table gives each set's figure with a component switched off, but on 7 to 31 questions a
set one question moves a figure by 0.03 to 0.14, so a difference there may be luck. Here every question
is one paired trial: it is *right* when an answerable question is answered from a gold document with at
least half of its key facts, or an unanswerable one is abstained on. Only the questions on which the
two pipelines disagree say anything; under "the component makes no difference" each of them is equally
likely to go either way, so the exact two-sided sign test (McNemar's exact test) gives a p-value. The
training questions (the ones the judge is fitted on) and the held-out ones are counted apart.
"""
from __future__ import annotations

from .metrics import answered_correctly


def right(question: dict, s: dict) -> bool:
    """One yes/no per question: the right answer (or the right abstention)."""
    return answered_correctly(s) if question.get("answerable") else not s["answered"]


def sign_test(better: int, worse: int) -> float:
    """Exact two-sided p-value of ``better`` against ``worse`` discordant questions (1.0 when there are none)."""
    from scipy.stats import binomtest

    n = better + worse
    return 1.0 if n == 0 else float(binomtest(better, n, 0.5).pvalue)


def paired(questions: list[dict], shipped: list[dict], ablated: list[dict], held_out) -> dict:
    """``{"training"|"held-out": {"better", "worse", "n", "p"}}``: on how many questions the shipped
    pipeline is right and the ablated one wrong (better), the reverse (worse), out of ``n``."""
    out = {}
    for part in ("training", "held-out"):
        idx = [i for i, q in enumerate(questions) if held_out(q) == (part == "held-out")]
        a = [right(questions[i], shipped[i]) for i in idx]
        b = [right(questions[i], ablated[i]) for i in idx]
        better = sum(x and not y for x, y in zip(a, b))
        worse = sum(y and not x for x, y in zip(a, b))
        out[part] = {"better": better, "worse": worse, "n": len(idx), "p": sign_test(better, worse)}
    return out


def paired_table(results: dict, notes: dict) -> str:
    """One row per component switched off: shipped better / worse on the training and held-out questions."""
    head = ["Without", "what changes", "first dev sets: shipped right, ablated wrong", "first dev sets: the reverse",
            "first dev sets: p", "former held-out / sealed: shipped right, ablated wrong",
            "former held-out / sealed: the reverse", "former held-out / sealed: p"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for component, parts in results.items():
        cells = []
        for part in ("training", "held-out"):
            r = parts[part]
            cells += [str(r["better"]), str(r["worse"]), p_text(r["p"])]
        lines.append("| " + " | ".join([f"`{component}`", notes.get(component, ""), *cells]) + " |")
    return "\n".join(lines)


def p_text(p: float) -> str:
    """A p-value as read: two decimals, three under 0.01, and "< 0.001" below that (never "0.000")."""
    return f"{p:.2f}" if p >= 0.01 else f"{p:.3f}" if p >= 0.001 else "< 0.001"
