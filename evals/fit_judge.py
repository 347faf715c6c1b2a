"""Fit the answer judge (``assistant/data/judge.toml``) from labelled (question, sentence) pairs.

    python -m evals.fit_judge [--rerank-k 12] [--context title|none] [--dry-run]

Pairs come from the pipeline itself: every question of ``questions.jsonl`` and the **dev** part of
``questions_everyday.jsonl`` and of ``questions_blind.jsonl`` is run up to the judge, and each candidate
the cross-encoder reads is one pair. A candidate is labelled 1 when it is related to a gold passage (the
evaluation's own rule, ``metrics.related``) or comes from a gold document and holds a key fact; every
candidate of an unanswerable question is labelled 0. The held-out questions (``split = "heldout"``, and
every question of ``questions_fresh.jsonl``) are never read here.

Fitted: a logistic regression on ``assistant.answer.judge.FEATURES`` (cross-encoder logit, sentence cosine to
the question, heading line, read with a follow-up's own words); then the abstention
threshold from a second logistic regression, over questions: answerable or not, from the log-odds of
the best candidate's p (classes weighted equally; the threshold is where it gives one half), and the share of the best probability a
further sentence needs (``keep``), chosen for the mean of key-fact recall and citation precision.
"""
from __future__ import annotations

import argparse
import json
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

from .harness import load_questions
from .metrics import has_fact, related
from assistant.answer.judge import FEATURES, PLAIN, REFUSAL, JudgeModel

HERE = Path(__file__).resolve().parent


def training_questions() -> list[dict]:
    """Every development question (all of ``DEFAULT_QUESTIONS``); never the sealed set (``evals/sealed/``)."""
    from .harness import DEFAULT_QUESTIONS

    qs = [q for path in DEFAULT_QUESTIONS for q in load_questions(path)]
    assert not any(q.get("split") == "sealed" for q in qs)
    return qs


@dataclass(frozen=True)
class Reading(JudgeModel):
    """The judge reading each candidate with other text before it than the shipped ``source`` (who wrote the
    document, and its title): the speaker alone, the title alone, or nothing, for comparing fits."""

    reading: str = "source"

    def text(self, source, sentence: str) -> str:
        if self.reading == "speaker":
            who = source.author or source.publisher
            return f"{who}: {sentence}" if who else sentence
        if self.reading == "title":
            return f"{source.title}. {sentence}"
        if self.reading == "none":
            return sentence
        return super().text(source, sentence)


def collect(questions: list[dict], rerank_k: int, context: str, index_dir: Path) -> list[dict]:
    """For each question: its candidates' features and label, and whether it is answerable."""
    from dataclasses import replace

    from assistant import Assistant
    from assistant.models import Turn
    from assistant.answer.pipeline import Context, STEPS
    from assistant.answer.bank import has_bank, similarity

    a = Assistant(index_dir=index_dir)
    a.index()
    kit = replace(a.kit(), judge=Reading((1.0,) + (0.0,) * (len(FEATURES) - 1), 0.0, 0.5, 0.5, rerank_k,
                                           reading=context))  # raw logits
    steps = STEPS[:STEPS.index(next(s for s in STEPS if s.__name__ == "rank")) + 1]  # up to the judge's order
    snap = kit.snapshot
    out = []
    for q in questions:
        ctx = Context(question=q["question"], history=[Turn(**t) for t in q.get("history") or []])
        for step in steps:
            step(ctx, kit)
            if ctx.status:
                break
        rows = []
        gold, docs, facts = q.get("gold_passages") or [], set(q.get("gold_doc_ids") or []), q.get("key_facts") or []
        for c in ctx.ranked:
            if c.logit is None:
                continue
            text = snap.sentence_text(c.sentence)
            doc = snap.passages[snap.sentence_passage[c.sentence]].doc_id
            label = bool(q.get("answerable")) and (any(related(text, g) for g in gold)
                                                    or (doc in docs and any(has_fact(text, f) for f in facts)))
            heading = int(snap.sentence_heading[c.sentence])
            rows.append({"logit": c.logit, "dense": 0.0 if heading else c.dense, "heading": heading,  # as JudgeModel
                         "own_words": int(bool(ctx.judge_queries)),
                         "bank": similarity(ctx, kit, c.sentence), "has_bank": int(has_bank(ctx, kit, c.sentence)),
                         "first": c.first, "label": int(label), "gold_doc": int(doc in docs), "text": text,
                         "doc": doc})
        out.append({"id": q["id"], "answerable": bool(q.get("answerable")), "stopped": ctx.status, "rows": rows,
                    "gold": gold, "docs": sorted(docs), "facts": facts,
                    "bank_covered": ctx.bank_covered, "bank_uncovered": ctx.bank_uncovered})
    return out


def _answer_quality(q: dict, prob, threshold: float, keep: float, most: int = 4) -> float:
    """(key-fact recall + citation precision) / 2 of the quotes compose would choose for ``q``."""
    ranked = sorted(q["rows"], key=prob, reverse=True)
    best = prob(ranked[0])
    if best < threshold:
        return 0.0
    chosen = [r for r in ranked if prob(r) >= max(threshold, keep * best)][:most]
    answer = " ".join(r["text"] for r in chosen)
    facts = sum(has_fact(answer, f) for f in q["facts"]) / len(q["facts"]) if q["facts"] else 1.0
    right = [any(related(r["text"], g) for g in q["gold"]) or (r["doc"] in q["docs"] and any(has_fact(r["text"], f)
             for f in q["facts"])) for r in chosen]
    return (facts + sum(right) / len(right)) / 2


def fit(data: list[dict]) -> dict:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    rows = [r for q in data for r in q["rows"]]
    X = np.array([[r[f] for f in FEATURES] for r in rows], dtype=float)
    y = np.array([r["label"] for r in rows])
    model = LogisticRegression(C=1.0, max_iter=1000).fit(X, y)
    p_all = model.predict_proba(X)[:, 1]
    auc = {"logit": roc_auc_score(y, X[:, 0]), "dense": roc_auc_score(y, X[:, 1]), "combined": roc_auc_score(y, p_all),
           "first stage (not used)": roc_auc_score(y, [r["first"] for r in rows])}
    coef, intercept = model.coef_[0].tolist(), float(model.intercept_[0])

    def prob(r):
        return 1 / (1 + np.exp(-(intercept + sum(c * r[f] for c, f in zip(coef, FEATURES)))))

    # Threshold: a second, one-feature logistic regression over questions (answerable or not, from the
    # log-odds of the best candidate's p), classes weighted equally; abstain where it gives 1/2. Smooth
    # in every question, unlike the step of a grid search, so one question moves it little.
    judged = [q for q in data if q["rows"]]
    best_p = np.array([max(prob(r) for r in q["rows"]) for q in judged])
    answerable = np.array([q["answerable"] for q in judged])
    z = np.log(best_p / (1 - best_p)).reshape(-1, 1)
    gate = LogisticRegression(class_weight="balanced", max_iter=1000).fit(z, answerable)
    z0 = -gate.intercept_[0] / gate.coef_[0][0]
    threshold = float(np.round(1 / (1 + np.exp(-z0)), 3))
    balanced = (np.mean(best_p[answerable] >= threshold) + np.mean(best_p[~answerable] < threshold)) / 2
    # Refusal with the bank: the same regression over questions, reading also how close the bank's nearest
    # covered and not-covered questions are (assistant.answer.judge.REFUSAL).
    Z = np.column_stack([z[:, 0], [q["bank_covered"] for q in judged], [q["bank_uncovered"] for q in judged]])
    refusal = LogisticRegression(class_weight="balanced", max_iter=1000).fit(Z, answerable)
    says = refusal.decision_function(Z) >= 0
    refusal_balanced = (np.mean(says[answerable]) + np.mean(~says[~answerable])) / 2
    # The plain judge, for sentences with no bank (a school's document added without one): the same pairs,
    # without the bank features, and its own threshold, as the judge was fitted before the bank existed.
    plain = LogisticRegression(C=1.0, max_iter=1000).fit(X[:, :len(PLAIN)], y)
    plain_p = plain.predict_proba(X[:, :len(PLAIN)])[:, 1]
    starts = np.cumsum([0] + [len(q["rows"]) for q in judged])
    plain_best = np.array([plain_p[a:b].max() for a, b in zip(starts[:-1], starts[1:])])
    pz = np.log(plain_best / (1 - plain_best)).reshape(-1, 1)
    plain_gate = LogisticRegression(class_weight="balanced", max_iter=1000).fit(pz, answerable)
    plain_threshold = float(np.round(1 / (1 + np.exp(plain_gate.intercept_[0] / plain_gate.coef_[0][0])), 3))
    # keep: the share of the best p a further sentence needs. Chosen for the evaluation's own two answer
    # metrics on these questions: the mean of key-fact recall (more quotes find more facts) and citation
    # precision (more quotes risk wrong ones), as compose would quote (best first, at most 4).
    keeps = np.round(np.arange(0.3, 1.0, 0.05), 2)
    quality = [float(np.mean([_answer_quality(q, prob, threshold, k) for q in judged if q["answerable"]]))
               for k in keeps]
    keep = float(keeps[int(np.argmax(quality))])
    return {"coef": coef, "intercept": intercept, "threshold": threshold, "keep": keep, "auc": auc,
            "refusal_coef": refusal.coef_[0].tolist(), "refusal_intercept": float(refusal.intercept_[0]),
            "refusal_balanced_accuracy": float(refusal_balanced),
            "plain_coef": plain.coef_[0].tolist(), "plain_intercept": float(plain.intercept_[0]),
            "plain_threshold": plain_threshold, "plain_auc": roc_auc_score(y, plain_p),
            "balanced_accuracy": float(balanced), "keep_quality": float(max(quality)), "n_pairs": len(rows),
            "n_positive": int(y.sum()), "n_questions": len(data)}


def write(path: Path, result: dict, rerank_k: int, context: str) -> None:
    auc = ", ".join(f"{k} {v:.3f}" for k, v in result["auc"].items())
    path.write_text(f"""# The answer judge: p = sigmoid(intercept + coef . (cross-encoder logit, sentence cosine to the question, heading line,
# read with a follow-up's own words, cosine to the sentence's nearest bank question, the sentence has a bank)).
# Written by `python -m evals.fit_judge` on {date.today().isoformat()}; do not edit by hand, re-fit.
# Fitted on {result['n_pairs']} (question, sentence) pairs ({result['n_positive']} answering) from {result['n_questions']}
# development questions (every set of evals/ but evals/sealed/, which the fit never reads).
# ROC AUC on those pairs: {auc}. Abstention balanced accuracy {result['balanced_accuracy']:.3f}; answer quality at keep {result['keep_quality']:.3f}.
features = {json.dumps(list(FEATURES))}
coef = [{", ".join(f"{c:.6f}" for c in result["coef"])}]
intercept = {result['intercept']:.6f}
threshold = {result['threshold']}  # abstain when the best sentence's p is below this
keep = {result['keep']}  # a further sentence needs p >= max(threshold, keep * best p)
rerank_k = {rerank_k}  # candidates the cross-encoder reads per question
context = "{context}"  # what the cross-encoder sees before the sentence

# Whether to answer at all: answer when intercept + coef . (log-odds of the best p, cosine of the nearest bank
# question the documents answer, of the nearest one they do not cover) >= 0. Balanced accuracy on the fit's
# questions {result['refusal_balanced_accuracy']:.3f} (the threshold alone: {result['balanced_accuracy']:.3f}).
[plain]  # sentences with no bank: p = sigmoid(intercept + coef . (logit, cosine, heading, own words)); ROC AUC {result['plain_auc']:.3f}
features = {json.dumps(list(PLAIN))}
coef = [{", ".join(f"{c:.6f}" for c in result["plain_coef"])}]
intercept = {result['plain_intercept']:.6f}
threshold = {result['plain_threshold']}

[refusal]
features = {json.dumps(list(REFUSAL))}
coef = [{", ".join(f"{c:.6f}" for c in result["refusal_coef"])}]
intercept = {result['refusal_intercept']:.6f}
""", "utf-8")


def main(argv: list[str] | None = None) -> int:
    from assistant.answer.judge import JUDGE_FILE

    p = argparse.ArgumentParser(prog="python -m evals.fit_judge", description=__doc__.split("\n")[0])
    p.add_argument("--rerank-k", type=int, default=24)
    p.add_argument("--context", choices=["speaker", "source", "title", "none"], default="source")
    p.add_argument("--index-dir", type=Path, default=None)
    p.add_argument("--dry-run", action="store_true", help="print the fit, do not write judge.toml")
    p.add_argument("--out", type=Path, default=JUDGE_FILE)
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="fit-judge-") as tmp:
        data = collect(training_questions(), args.rerank_k, args.context, args.index_dir or Path(tmp))
    result = fit(data)
    print(json.dumps({k: v for k, v in result.items()}, indent=1))
    if not args.dry_run and args.context != "source":
        print("only a fit with --context source is written: the product's judge reads that (see Reading)")
    elif not args.dry_run:
        write(args.out, result, args.rerank_k, args.context)
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
