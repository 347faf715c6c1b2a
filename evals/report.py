"""The evaluation report's tables, chart and definitions (Markdown), from what ``scoring.py`` computed."""
from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

from .figures import ABLATION_NOTES
from .figures import fmt as _fmt
from .figures import with_interval as _with_interval
from .metrics import OVERLAP, has_fact
from .scoring import CATEGORY_METRICS

# (key, label, kind) — kind: "rate" (0–1, higher better), "ms"/"s"/"words" (lower better), "n"
ROWS = [
    ("right", "Right (answerable answered correctly, off-topic refused)", "rate"),
    ("doc_hit@1", "Doc hit@1", "rate"), ("doc_hit@3", "Doc hit@3", "rate"), ("doc_hit@5", "Doc hit@5", "rate"),
    ("doc_mrr", "Doc MRR@10", "rate"),
    ("psg_hit@1", "Gold-passage hit@1", "rate"), ("psg_hit@3", "Gold-passage hit@3", "rate"),
    ("psg_hit@5", "Gold-passage hit@5", "rate"), ("psg_mrr", "Gold-passage MRR@10", "rate"),
    ("cite_precision", "Citation precision", "rate"), ("cite_recall", "Citation recall", "rate"),
    ("verbatim", "Quotes verbatim", "rate"), ("only_quotes", "Answer made only of cited quotes", "rate"), ("key_fact_recall", "Key-fact recall", "rate"),
    ("first_cite_gold", "First citation from gold doc", "rate"), ("answered_rate", "Answered (answerable)", "rate"),
    ("abstention_precision", "Abstention precision", "rate"), ("abstention_recall", "Abstention recall (all unanswerable)", "rate"),
    ("abstention_recall_oos", "Abstention recall (out-of-scope)", "rate"),
    ("abstention_recall_injection", "Abstention recall (injection)", "rate"),
    ("abstention_recall_offtopic", "Abstention recall (off-topic school questions)", "rate"),
    ("follow_up_correct", "Follow-ups answered correctly", "rate"),
    ("llm_used", "LLM answer used (of answered)", "rate"), ("fallback_rate", "Fell back to extractive (of answered)", "rate"),
    ("sentences_kept", "Generated sentences kept by verification", "rate"),
    ("support_kept_mean", "Support of kept sentences (mean)", "rate"),
    ("words_mean", "Answer length, words (mean)", "words"),
    ("latency_p50_ms", "Latency p50 (ms)", "ms"), ("latency_p95_ms", "Latency p95 (ms)", "ms"),
    ("setup_s", "Setup: index/build (s)", "s"), ("total_s", "Total wall time (s)", "s"),
]
README_ROWS = ["doc_hit@1", "psg_hit@5", "cite_precision", "cite_recall", "key_fact_recall", "first_cite_gold",
               "answered_rate", "abstention_recall", "verbatim", "words_mean", "latency_p95_ms"]
LLM_README_ROWS = ["only_quotes", "llm_used", "fallback_rate", "sentences_kept", "support_kept_mean"]
LOSS_METRICS = ["doc_hit@1", "doc_mrr", "psg_hit@5", "psg_mrr", "key_fact_recall", "cite_recall", "cite_precision",
                "first_cite_gold", "answered_rate"]

DEFINITIONS = f"""\
* **Ranked list** (retrieval metrics, answerable questions only, cut at 10): baselines — their top-10
  passages/chunks; ours — the cited sentences in citation order, then the passages the hybrid retriever
  returned (read from a second, identical pipeline run), so an abstention is still scored on what it retrieved.
* **Doc hit@k / MRR**: a ranked item from any `gold_doc_ids` document. **Gold-passage hit@k / MRR**: a
  ranked item that *covers* a gold passage — at least {OVERLAP:.0%} of the gold passage's content words
  (lower-cased, stop words removed) occur in it. Long chunks cover more easily; that favours the baselines.
* **Citation precision** (ALCE-style, per answered answerable question, then averaged): a citation is
  correct when its quote is *related* to a gold passage (covers it, or {OVERLAP:.0%} of the quote's words lie
  within it), or it comes from a gold document **and** contains a key fact.
* **Citation recall**: share of the gold passages covered by at least one cited quote (same {OVERLAP:.0%} rule);
  an abstention scores 0. A baseline's single "citation" is its whole top passage/chunk.
* **Quotes verbatim**: share of citations whose quote equals `document_text[start:end]` and occurs in the
  document (ours: the cleaned text the assistant serves; dense baseline: the raw file). Must be 100 %.
* **Key-fact recall**: share of `key_facts` found in the answer text (case-insensitive substring after
  normalising quotes, hyphens and spaces); an abstention scores 0.
* **First citation from gold doc** / **Answered**: over answerable questions; an abstention counts as a miss.
* **Abstention precision / recall**: over all questions, treating "abstained" (ours: status
  `no_evidence`, `unsafe_input` or `invalid_input`) as the prediction of "unanswerable".
  The baselines never abstain (recall 0, precision undefined) and ignore conversation history.
* **Latency**: wall time of one question (ours: `Assistant.ask`, warm; baselines: the search call).
  **Setup**: building the index (ours: `Assistant.index()` on a fresh temporary index; dense: split +
  embed + add to Chroma; bm25: reading our index and building BM25). Model load is reported once, separately.
* **LLM mode** (system `llm`, `--backend llm`): ours, then a language model rewords the answer from
  numbered passages and every generated sentence is verified against the passage it cites. **LLM
  answer used / fell back**: over answered questions, the share shown in `llm` mode vs returned as
  `extractive-fallback` (nothing or too little survived verification, or the model failed). **Sentences
  kept**: generated sentences that passed verification. Its citations are still verbatim quotes, so
  "Quotes verbatim" applies; "Answer made only of cited quotes" does not (the wording is the model's).
"""


SET_ROWS = [("right", "Right (answerable answered correctly, off-topic refused)"),
            ("first_cite_gold", "First citation from gold doc"), ("key_fact_recall", "Key-fact recall"),
            ("answered_rate", "Answered (answerable)"), ("abstention_recall", "Abstained (unanswerable)"),
            ("abstention_recall_offtopic", "Abstained (off-topic)"), ("follow_up_correct", "Follow-ups correct"),
            ("cite_precision", "Citation precision"), ("cite_recall", "Citation recall"), ("verbatim", "Quotes verbatim"),
            ("latency_p95_ms", "Latency p95 (ms)")]


def set_table(sets: dict, systems: list[str], labels: dict) -> str:
    names = list(next(iter(sets.values())))
    head = ["Metric"] + [f"{n} ({labels[s].split(' ')[0]})" for n in names for s in systems]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for key, label in SET_ROWS:
        row = [label] + [_with_interval(sets[s][n], key) for n in names for s in systems]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


ABLATION_ROWS = [("right", "right"), ("first_cite_gold", "1st cite"), ("key_fact_recall", "facts"), ("answered_rate", "answered"),
                 ("abstention_recall", "abstained"), ("cite_precision", "cite prec."), ("follow_up_correct", "follow-ups")]


PAIRED_NOTE = ("A question is *right* when an answerable one is answered from a gold document with at least half of its "
               "key facts, or an unanswerable one is abstained on. Counted: the questions the shipped pipeline gets "
               "right and the one without the component gets wrong, and the reverse; p is the exact two-sided sign "
               "test on those (McNemar's exact test). Training = the questions the judge is fitted on (original, "
               "dev); held-out = the rest.\n")


def ablation_table(results: dict) -> str:
    names = list(results[""])
    head = ["Without", "what changes"] + [f"{n}: {lab}" for n in names for _, lab in ABLATION_ROWS]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for component, sets in results.items():
        cells = []
        for n in names:
            for key, _ in ABLATION_ROWS:
                v, base = sets[n].get(key), results[""][n].get(key)
                delta = "" if not component or v is None or base is None or abs(v - base) < 5e-3 else f" ({v - base:+.2f})"
                cells.append(_fmt(v) + delta)
        lines.append("| " + " | ".join([f"`{component}`" if component else "(nothing)", ABLATION_NOTES.get(component, "")] + cells) + " |")
    return "\n".join(lines)


def _ratio(base, ours) -> str:
    if base is None or ours is None or ours == 0:
        return "n/a"
    return f"{base / ours:.2f}×"


def side_by_side(overall: dict, systems: list[str], labels: dict) -> str:
    head = ["Metric"] + [labels[s] for s in systems]
    others = [s for s in systems if s not in ("ours", "llm")] if "ours" in systems else []
    head += [f"{labels[s].split(' ')[0]} / ours" for s in others]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for key, label, kind in ROWS:
        vals = [overall[s].get(key) for s in systems]
        if all(v is None for v in vals):
            continue
        row = [label] + [_fmt(v, kind) for v in vals]
        row += [_ratio(overall[s].get(key), overall["ours"].get(key)) for s in others]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def category_table(cats: dict, systems: list[str]) -> str:
    short = {"bm25": "B", "dense": "D", "ours": "O", "llm": "L"}
    head = ["Category", "n"] + [f"{lab} ({'/'.join(short[s] for s in systems)})" for _, lab in CATEGORY_METRICS]
    head.append(f"answered ({'/'.join(short[s] for s in systems)})")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    first = cats[systems[0]]
    for cat in sorted(first, key=lambda c: (not first[c]["answerable"], c)):
        row = [cat, str(first[cat]["n"])]
        for key, _ in CATEGORY_METRICS:
            row.append(" / ".join(_fmt(cats[s][cat].get(key)) for s in systems))
        row.append(" / ".join(_fmt(cats[s][cat].get("answered_rate")) for s in systems))
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


MODES = {
    "abstained": "abstained on an answerable question: best sentence's p below the judge's threshold (lever: the judge's features and fit, `evals/fit_judge.py`), or no sentence above it could open the answer on its own (lever: `units.py`, max_answer_words)",
    "refused": "refused by the input guard (lever: guard patterns)",
    "retrieval miss": "no gold passage among the fused passages (lever: dense_k/bm25_k/fused_k, query expansion)",
    "selection miss": "gold passage retrieved but its sentence not quoted (lever: sentence scoring weights, relative_keep, max_sentences)",
    "non-gold first citation": "first citation from a document outside gold_doc_ids (lever: sentence scoring, doc ordering in compose)",
    "key facts missing": "answer lacks some key facts (often in a neighbouring sentence or another document; lever: max_sentences, relative_keep)",
    "false answer": "answered an unanswerable question (lever: the judge's threshold and features)",
}


def diagnose(q: dict, s: dict, r) -> list[tuple[str, str]]:
    """Why ours missed on one question, as (mode, detail), from the scores and the pipeline trace."""
    d = r.diag or {}
    why = []
    if q.get("answerable"):
        if r.abstained:
            if r.status != "no_evidence":
                why.append(("refused", f"refused as {r.status}"))
            else:
                best, floor = d.get("best_score"), d.get("threshold")
                if best is not None and floor is not None and best >= floor:  # compose found no opening quote
                    why.append(("abstained", f"abstained: best sentence {best} >= threshold {floor}, but no sentence "
                                "above the threshold could open the answer standing on its own within the word budget"))
                else:
                    why.append(("abstained", f"abstained: best sentence {best} < threshold {floor}"))
        if d.get("gold_retrieved") is False:
            why.append(("retrieval miss", f"retrieval miss: no gold passage among the {d.get('n_retrieved')} fused passages"))
        elif d.get("gold_retrieved") and not s.get("cite_recall"):
            gr, gs = d.get("gold_sentence_rank"), d.get("gold_sentence_score")
            why.append(("selection miss", "selection miss: gold passage retrieved, its sentence "
                        + (f"ranked {gr + 1} (score {gs})" if gr is not None else "not scored (fragment/lead-in?)")))
        if not r.abstained and r.cites and not s.get("first_cite_gold"):
            why.append(("non-gold first citation", f"first citation from non-gold doc {r.cites[0].doc_id}"))
        if not r.abstained and (s.get("key_fact_recall") or 0) < 1 and s.get("key_fact_recall") is not None:
            missing = [f for f in q.get("key_facts") or [] if not has_fact(r.answer, f)]
            why.append(("key facts missing", f"key facts {s.get('key_fact_recall'):.2f} (missing: {', '.join(missing)})"))
    elif not r.abstained:
        why.append(("false answer", f"answered an unanswerable question (best sentence {d.get('best_score')}, "
                    f"threshold {d.get('threshold')}): “{(r.cites[0].quote if r.cites else r.answer)[:90]}…”"))
    return why


def losses(questions, cats, scores, results, systems) -> tuple[list[str], list[dict]]:
    """Where ours is beaten (per category and metric), with the failure modes behind it."""
    if "ours" not in systems:
        return [], []
    lines, rows = [], []
    bases = [s for s in systems if s not in ("ours", "llm")]
    idx_by_cat = defaultdict(list)
    for i, q in enumerate(questions):
        idx_by_cat[q.get("category", "?")].append(i)
    for cat in sorted(cats["ours"]):
        beaten = []
        for key in LOSS_METRICS:
            if key == "answered_rate" and not cats["ours"][cat]["answerable"]:
                continue
            o = cats["ours"][cat].get(key)
            if o is None:
                continue
            best = max(bases, key=lambda b: cats[b][cat].get(key) or -1, default=None)
            if best and (cats[best][cat].get(key) or 0) > o + 1e-9:
                beaten.append(f"{key} {o:.2f} vs {best} {cats[best][cat][key]:.2f}")
        if not beaten:
            continue
        modes = Counter()
        for i in idx_by_cat[cat]:
            for mode, _ in diagnose(questions[i], scores["ours"][i], results["ours"][i]):
                modes[mode] += 1
        words = {s: cats[s][cat].get("words_mean") for s in systems}
        lines.append(f"* **{cat}** (n={cats['ours'][cat]['n']}): " + "; ".join(beaten) + ". Failure modes of ours: "
                     + (", ".join(f"{k} ×{v}" for k, v in modes.most_common()) or "none recorded")
                     + ". Mean answer words: " + ", ".join(f"{s} {_fmt(w, 'words')}" for s, w in words.items()) + ".")
    for i, q in enumerate(questions):
        why = diagnose(q, scores["ours"][i], results["ours"][i])
        if why:
            rows.append({"id": q["id"], "category": q.get("category"), "question": q["question"],
                         "modes": [m for m, _ in why], "why": [w for _, w in why]})
    return lines, rows


def chart(overall: dict, systems: list[str], labels: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = [("doc_hit@1", "doc hit@1"), ("psg_hit@5", "passage hit@5"), ("cite_precision", "cite precision"),
            ("cite_recall", "cite recall"), ("key_fact_recall", "key facts"), ("first_cite_gold", "1st cite gold"),
            ("answered_rate", "answered"), ("abstention_recall", "abstain (unans.)"), ("verbatim", "verbatim")]
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(13, 4.6), gridspec_kw={"width_ratios": [3.2, 1]})
    x = np.arange(len(keys))
    w = 0.8 / len(systems)
    for j, s in enumerate(systems):
        vals = [overall[s].get(k) or 0 for k, _ in keys]
        ax.bar(x + (j - (len(systems) - 1) / 2) * w, vals, w, label=labels[s])
    ax.set_xticks(x, [lab for _, lab in keys], rotation=30, ha="right")
    ax.set_ylim(0, 1.05)
    ax.set_title("Quality (higher is better)")
    ax.legend(fontsize=8, loc="lower left")
    x2 = np.arange(2)
    for j, s in enumerate(systems):
        vals = [overall[s].get("latency_p50_ms") or 0, overall[s].get("latency_p95_ms") or 0]
        ax2.bar(x2 + (j - (len(systems) - 1) / 2) * w, vals, w, label=labels[s])
    ax2.set_xticks(x2, ["p50", "p95"])
    ax2.set_ylabel("ms per question")
    ax2.set_title("Latency (lower is better)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def readme_table(overall: dict, systems: list[str], labels: dict, n: int) -> str:
    lab = {k: (l, kind) for k, l, kind in ROWS}
    lines = [f"| Metric ({n} questions) | " + " | ".join(labels[s] for s in systems) + " |",
             "|---|" + "---|" * len(systems)]
    keys = README_ROWS + (LLM_README_ROWS if "llm" in systems else [])
    for key in keys:
        label, kind = lab[key]
        lines.append(f"| {label} | " + " | ".join(_fmt(overall[s].get(key), kind) for s in systems) + " |")
    lines.append("")
    lines.append("Baselines never abstain and ignore conversation history; retrieval and citation metrics are "
                 "defined in `evals/out/report.md`. Reproduce with `make eval` (`python -m evals --readme README.md docs/EVALUATION.md`).")
    return "\n".join(lines) + "\n"
