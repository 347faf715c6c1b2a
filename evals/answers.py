"""Every evaluation answer as JSON lines, and a comparison of two such files: the check that a change
which should not change behaviour (a refactoring) left every answer byte-identical.

    python -m evals.answers dump OUT.jsonl [--variant NAME ...] [--index-dir DIR]
    python -m evals.answers compare BEFORE.jsonl AFTER.jsonl

``dump`` asks every development question (``harness.DEFAULT_QUESTIONS`` and the sealed set, which has been
read and is a development set now) through ``Assistant.ask`` and writes what a user sees of each answer
(text, status, message, notice, citations with their offsets, the standalone question, warnings), not its
timings. ``--variant`` also dumps each named ablation (``evals/variants.py``), so the evaluation's
alternatives are compared too. ``compare`` prints each question whose answer differs and exits 1 if any does.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .harness import DEFAULT_QUESTIONS, HERE, load_questions

SEALED = HERE / "sealed" / "questions_sealed.jsonl"


def questions() -> list[dict]:
    return [q for path in [*DEFAULT_QUESTIONS, SEALED] for q in load_questions(path)]


def visible(answer) -> dict:
    """What a user sees of an ``Answer``: everything but its timings."""
    d = answer.model_dump(mode="json")
    d.pop("timings_ms", None)
    return d


def dump(out: Path, variants: list[str], index_dir: Path | None) -> int:
    from .systems import Env
    from .variants import using

    env = Env(index_dir)
    try:
        with out.open("w", encoding="utf-8") as f:
            for variant in ["", *variants]:
                with using(env.assistant, variant) as ask:
                    for q in questions():
                        ans = ask(q["question"], history=q.get("history") or [], id=q["id"])
                        f.write(json.dumps({"variant": variant, "id": q["id"], "answer": visible(ans)},
                                           ensure_ascii=False, sort_keys=True) + "\n")
    finally:
        env.close()
    return 0


def compare(before: Path, after: Path) -> int:
    def read(p: Path) -> dict:
        return {(r["variant"], r["id"]): r["answer"] for r in map(json.loads, p.read_text("utf-8").splitlines())}

    a, b = read(before), read(after)
    differ = [k for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
    for variant, qid in differ:
        print(f"{variant or 'shipped'} {qid}:\n  before: {json.dumps(a.get((variant, qid)), ensure_ascii=False)}\n"
              f"  after:  {json.dumps(b.get((variant, qid)), ensure_ascii=False)}")
    print(f"{len(a)} answers before, {len(b)} after; {len(differ)} differ.")
    return 1 if differ else 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m evals.answers", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("dump")
    d.add_argument("out", type=Path)
    d.add_argument("--variant", action="append", default=[])
    d.add_argument("--index-dir", type=Path, default=None)
    c = sub.add_parser("compare")
    c.add_argument("before", type=Path)
    c.add_argument("after", type=Path)
    args = p.parse_args(argv)
    if args.cmd == "dump":
        return dump(args.out, args.variant, args.index_dir)
    return compare(args.before, args.after)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
