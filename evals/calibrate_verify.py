"""Calibrate the LLM-answer verifier's support threshold on real sentences and passages.

    python -m evals.calibrate_verify [--index-dir DIR] [--out evals/out]

Supported pairs: every sentence the extractive pipeline quotes for the answerable questions of
``questions.jsonl`` against its own citation (trivially supported, the ceiling), and the hand-written
paraphrases of ``verify_calibration.jsonl`` against the sentence they restate. Unsupported pairs: those
same sentences against a wrong passage (another quote of the same answer, the next question's quote,
and for paraphrases the most similar other sentence of the same document — the hard case), and the
hand-written wrong-number / wrong-name / fabricated sentences against the passage they pretend to use.
Prints, for a range of thresholds, how many of each group the full check (markers, numbers, names,
support) keeps, and the threshold that best separates paraphrases from unsupported pairs.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m evals.calibrate_verify", description=__doc__.split("\n")[0])
    p.add_argument("--index-dir", type=Path, default=None)
    p.add_argument("--out", type=Path, default=HERE / "out")
    args = p.parse_args(argv)

    from assistant import Assistant
    from assistant.answer.verify import Evidence, check, ordinary_words

    index_dir = args.index_dir or Path(tempfile.mkdtemp(prefix="calibrate-index-"))
    a = Assistant(index_dir=index_dir)
    kit = a.kit()
    snap, emb = kit.snapshot, kit.embedder
    common = ordinary_words(kit)

    def evidence(j: int) -> Evidence:
        doc = snap.docs[snap.passages[snap.sentence_passage[j]].doc_id].source
        return Evidence(1, snap.sentence_text(j), f"{doc.title} {doc.publisher} {doc.display_date}",
                        snap.sentence_vectors[j])

    def find(quote: str) -> int:
        hits = [j for j in range(len(snap.sentence_span)) if quote in snap.sentence_text(j)]
        if not hits:
            raise SystemExit(f"calibration quote not found in the corpus: {quote!r}")
        return hits[0]

    def doc_of(j: int) -> str:
        return snap.passages[snap.sentence_passage[j]].doc_id

    # extractive quotes: (sentence index) per answer, answer order kept
    answers: list[list[int]] = []
    for line in (HERE / "questions.jsonl").read_text("utf-8").splitlines():
        q = json.loads(line)
        if not q.get("answerable"):
            continue
        ans = a.ask(q["question"], history=q.get("history") or [])
        if ans.abstained:
            continue
        answers.append([find(c.quote) for c in ans.citations])

    pairs: list[tuple[str, str, int]] = []  # (group, sentence, passage sentence index)
    seen = set()
    for i, quotes in enumerate(answers):
        nxt = answers[(i + 1) % len(answers)]
        for k, j in enumerate(quotes):
            if j in seen:
                continue
            seen.add(j)
            text = snap.sentence_text(j)
            pairs.append(("own quote", text, j))
            others = [o for o in quotes if o != j]
            if others:
                pairs.append(("wrong passage: same answer", text, others[0]))
            wrong = next((o for o in nxt if o != j), None)
            if wrong is not None:
                pairs.append(("wrong passage: next question", text, wrong))
    crafted = [json.loads(x) for x in (HERE / "verify_calibration.jsonl").read_text("utf-8").splitlines() if x.strip()]
    for c in crafted:
        j = find(c["quote"])
        if c["label"] == "supported":
            pairs.append(("paraphrase" if c["kind"] == "paraphrase" else "loose paraphrase", c["sentence"], j))
            same_doc = [o for o in range(len(snap.sentence_span)) if o != j and doc_of(o) == doc_of(j)
                        and len(snap.sentence_text(o).split()) >= 5]
            sims = snap.sentence_vectors[same_doc] @ snap.sentence_vectors[j]
            pairs.append(("paraphrase vs nearest other sentence", c["sentence"], same_doc[int(np.argmax(sims))]))
        else:
            pairs.append((f"crafted {c['kind']}", c["sentence"], j))

    vectors = emb.encode([s for _, s, _ in pairs])
    supported_groups = {"own quote", "paraphrase", "loose paraphrase"}
    rows = []
    for (group, sentence, j), vec in zip(pairs, vectors):
        v = check(sentence, [1], {1: evidence(j)}, vec, 0.0, common)
        rows.append({"group": group, "supported": group in supported_groups, "sentence": sentence,
                     "passage": snap.sentence_text(j), "lexical": v.lexical, "dense": v.dense,
                     "support": v.support, "facts_ok": v.ok, "reason": v.reason})

    groups = sorted({r["group"] for r in rows}, key=lambda g: (g not in supported_groups, g))
    thresholds = [round(t, 2) for t in np.arange(0.30, 0.91, 0.02)]

    def kept(r, t):
        return r["facts_ok"] and r["support"] >= t

    para = [r for r in rows if r["group"] in ("paraphrase", "loose paraphrase")]
    bad = [r for r in rows if not r["supported"]]
    # Youden's J (paraphrases kept + unsupported removed - 1) on a fine grid; the middle of the best plateau
    grid = [round(t, 3) for t in np.arange(0.30, 0.95, 0.005)]
    js = [float(np.mean([kept(r, t) for r in para]) + np.mean([not kept(r, t) for r in bad]) - 1) for t in grid]
    best_j = max(js)
    plateau = [t for t, j in zip(grid, js) if j >= best_j - 1e-9]
    best_t = round(float(np.median(plateau)) * 50) / 50  # to 0.02
    table = ["| group | n | support mean (min–max) | kept at " + " | kept at ".join(
        f"{t:.2f}" for t in thresholds[::3]) + " |", "|---|---|---|" + "---|" * len(thresholds[::3])]
    for g in groups:
        rs = [r for r in rows if r["group"] == g]
        s = [r["support"] for r in rs]
        table.append(f"| {g}{' (supported)' if g in supported_groups else ''} | {len(rs)} | "
                     f"{np.mean(s):.2f} ({min(s):.2f}–{max(s):.2f}) | "
                     + " | ".join(f"{np.mean([kept(r, t) for r in rs]):.2f}" for t in thresholds[::3]) + " |")
    summary = {"threshold": best_t, "youden_j": round(float(best_j), 4), "best_plateau": [min(plateau), max(plateau)],
               "paraphrase_kept": float(np.mean([kept(r, best_t) for r in para])),
               "own_quote_kept": float(np.mean([kept(r, best_t) for r in rows if r["group"] == "own quote"])),
               "unsupported_rejected": float(np.mean([not kept(r, best_t) for r in bad])),
               "by_group_at_threshold": {g: float(np.mean([kept(r, best_t) for r in rows if r["group"] == g]))
                                         for g in groups},
               "n": {g: sum(r["group"] == g for r in rows) for g in groups}}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "verify_calibration.json").write_text(json.dumps({"summary": summary, "pairs": rows}, indent=1,
                                                                 ensure_ascii=False), "utf-8")
    print("\n".join(table))
    print(f"\nbest threshold {best_t:.2f} (Youden's J {best_j:.3f}): paraphrases kept {summary['paraphrase_kept']:.2f}, "
          f"own quotes kept {summary['own_quote_kept']:.2f}, unsupported rejected {summary['unsupported_rejected']:.2f}")
    for g, v in summary["by_group_at_threshold"].items():
        print(f"  {g}: kept {v:.2f}")
    print(f"Youden's J is at its best ({best_j:.3f}) for thresholds {min(plateau):.3f}–{max(plateau):.3f}")
    missed = [r for r in para if not kept(r, best_t)]
    leaked = [r for r in bad if kept(r, best_t)]
    for label, rs in (("paraphrases removed", missed), ("unsupported kept", leaked)):
        for r in rs:
            print(f"{label}: {r['support']:.2f} {r['reason'] or ''} | {r['sentence'][:90]} || {r['passage'][:60]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
