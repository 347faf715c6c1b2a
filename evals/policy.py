"""A school's own policy added in three formats: does it answer without a bank, and what do six admin-added
bank questions per key sentence gain? (The issue's acceptance: "The school policy added in three formats
(DOCX, PDF, HTML): no regression without a bank; with six admin-added bank questions per key sentence,
measured gain.")

    python -m evals.policy [--formats docx pdf html] [--out evals/out/policy.json]

The policy is tests/data/school_policy (one text, policy.txt, made into policy.docx/.pdf/.html by make.py),
with its 14 questions (10 it answers, 4 it does not cover) and bank.toml (six questions for each of its 8 key
sentences, in words shared with neither the sentence nor the 14 questions). For each format, in a fresh copy
of corpus/ and a fresh index:

* the library is indexed with its bank folder emptied, the policy added with ``Assistant.add``, and the 14
  asked twice: with the bank switched off (the ``bank`` variant of ``evals/variants.py``, ``off``) and with the empty bank
  folder (``empty``): the system as it was before the bank existed;
* the library's bank files are put back and indexed (``library``): the shipped library, a school's document
  added without a bank of its own;
* the 48 bank questions are added one by one with ``Assistant.bank.add`` (the admin's path, as Manage
  library and ``assistant bank add`` do) and the 14 asked again (``policy bank``).

A question is right when an answerable one is answered, its first citation is from the policy and the answer
holds at least half its key facts (``evals.metrics.answered_correctly``'s rule), or an unanswerable one is
not answered. Regression on the library: the first 20 questions of evals/questions.jsonl, asked of the
library without the policy and then with it (without and with its bank), scored by the same rule against
their own gold documents.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
import tomllib
from pathlib import Path

from .harness import load_questions
from .metrics import has_fact
from .variants import using

ROOT = Path(__file__).resolve().parents[1]
POLICY = ROOT / "tests" / "data" / "school_policy"
FORMATS = ("docx", "pdf", "html")
META = {"title": "Pupil well-being and working with partners policy (Ashgrove Primary School)",
        "date": "2009-10-14", "kind": "school policy", "status": "school policy",
        "publisher": "Ashgrove Primary School"}
CONDITIONS = ("off", "empty", "library", "policy bank")
LABELS = {"off": "bank off (the bank step left out)", "empty": "bank folder empty",
          "library": "library bank, no policy bank", "policy bank": "library + policy bank (48 added)"}


def policy_questions() -> list[dict]:
    return load_questions(POLICY / "questions.jsonl")


def policy_bank() -> list[tuple[str, str]]:
    """(question, sentence) for each of bank.toml's questions, in file order."""
    data = tomllib.loads((POLICY / "bank.toml").read_text("utf-8"))
    return [(q, e["sentence"]) for e in data["answers"] for q in e["questions"]]


def library_questions(n: int = 20) -> list[dict]:
    return load_questions(ROOT / "evals" / "questions.jsonl")[:n]


def is_right(q: dict, ans) -> bool:
    """Answerable: answered, first citation from a gold document, at least half the key facts in the answer.
    Unanswerable: not answered."""
    if not q.get("answerable"):
        return bool(ans.abstained)
    if ans.abstained or not ans.citations or ans.citations[0].doc_id not in set(q.get("gold_doc_ids") or []):
        return False
    facts = q.get("key_facts") or []
    return not facts or sum(has_fact(ans.answer, f) for f in facts) / len(facts) >= 0.5


def ask_all(ask, questions: list[dict]) -> list[dict]:
    """Each question through ``ask`` (``Assistant.ask``, or a variant's, ``evals/variants.py``)."""
    out = []
    for q in questions:
        ans = ask(q["question"], history=q.get("history") or [])
        first = ans.citations[0] if ans.citations else None
        out.append({"id": q["id"], "right": is_right(q, ans), "status": ans.status,
                    "first_doc": first.doc_id if first else None,
                    "first_quote": first.quote[:160] if first else None})
    return out


def summary(rows: list[dict], questions: list[dict]) -> dict:
    answerable = {q["id"] for q in questions if q.get("answerable")}
    return {"right": sum(r["right"] for r in rows), "of": len(rows),
            "answerable_right": sum(r["right"] for r in rows if r["id"] in answerable),
            "answerable": len(answerable),
            "refused_right": sum(r["right"] for r in rows if r["id"] not in answerable),
            "unanswerable": len(rows) - len(answerable)}


def fresh_library(base: Path, with_bank: bool = True):
    """A copy of corpus/ (its bank folder emptied unless ``with_bank``) and an Assistant on a new index."""
    from assistant import Assistant

    corpus = shutil.copytree(ROOT / "corpus", base / "corpus")
    aside = base / "bank-aside"
    if not with_bank:
        shutil.move(str(corpus / "bank"), aside)
        (corpus / "bank").mkdir()
    a = Assistant(corpus_dir=corpus, index_dir=base / "index", data_dir=base / "data")
    a.index()
    return a, aside


def add_policy(a, fmt: str):
    return a.add([POLICY / f"policy.{fmt}"], **META)


def add_policy_bank(a) -> None:
    for question, sentence in policy_bank():
        a.bank.add(question, [sentence])


def run_format(fmt: str, base: Path, lib_q: list[dict], log=print) -> dict:
    qs = policy_questions()
    t0 = time.perf_counter()
    a, aside = fresh_library(base, with_bank=False)
    add_policy(a, fmt)
    doc_text = a.document_text("policy")
    res: dict = {"format": fmt, "conditions": {}, "library_questions": {}}

    with using(a, "bank") as ask:  # the bank step left out (evals/variants.py)
        res["conditions"]["off"] = ask_all(ask, qs)
    res["conditions"]["empty"] = ask_all(a.ask, qs)

    shutil.rmtree(a.settings.corpus_dir / "bank")
    shutil.copytree(aside, a.settings.corpus_dir / "bank")
    report = a.index()
    assert not report.bank_problems, report.bank_problems
    res["conditions"]["library"] = ask_all(a.ask, qs)
    res["library_questions"]["with policy, library bank"] = ask_all(a.ask, lib_q)

    add_policy_bank(a)
    res["conditions"]["policy bank"] = ask_all(a.ask, qs)
    res["library_questions"]["with policy and its bank"] = ask_all(a.ask, lib_q)
    res["summary"] = {c: summary(rows, qs) for c, rows in res["conditions"].items()}
    res["policy_chars"] = len(doc_text)
    res["seconds"] = round(time.perf_counter() - t0, 1)
    log(f"{fmt}: " + ", ".join(f"{c} {s['right']}/{s['of']}" for c, s in res["summary"].items())
        + f" ({res['seconds']} s)")
    return res


def table(results: list[dict], baseline: list[dict]) -> str:
    head = "| format | " + " | ".join(LABELS[c] for c in CONDITIONS) + " | gain (policy bank − library) |"
    lines = [head, "|" + "---|" * (len(CONDITIONS) + 2)]
    for r in results:
        s = r["summary"]
        cells = [f"{s[c]['right']}/{s[c]['of']} ({s[c]['answerable_right']}/{s[c]['answerable']} answered, "
                 f"{s[c]['refused_right']}/{s[c]['unanswerable']} refused)" for c in CONDITIONS]
        gain = s["policy bank"]["right"] - s["library"]["right"]
        lines.append(f"| {r['format']} | " + " | ".join(cells) + f" | {gain:+d} |")
    base_right = sum(x["right"] for x in baseline)
    lines += ["", f"Library questions (first {len(baseline)} of evals/questions.jsonl) right without the policy: "
              f"{base_right}/{len(baseline)}"]
    for r in results:
        for cond, rows in r["library_questions"].items():
            right = sum(x["right"] for x in rows)
            lost = [b["id"] for b, x in zip(baseline, rows) if b["right"] and not x["right"]]
            won = [b["id"] for b, x in zip(baseline, rows) if x["right"] and not b["right"]]
            lines.append(f"  {r['format']}, {cond}: {right}/{len(rows)}; lost {lost or 'none'}, gained {won or 'none'}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--formats", nargs="+", choices=FORMATS, default=list(FORMATS))
    ap.add_argument("--out", type=Path, default=ROOT / "evals" / "out" / "policy.json")
    args = ap.parse_args(argv)
    lib_q = library_questions()
    results = []
    with tempfile.TemporaryDirectory(prefix="policy-eval-") as tmp:
        tmp = Path(tmp)
        a, _ = fresh_library(tmp / "baseline")
        baseline = ask_all(a.ask, lib_q)
        del a
        for fmt in args.formats:
            results.append(run_format(fmt, tmp / fmt, lib_q, log=lambda m: print(m, file=sys.stderr, flush=True)))
    text = table(results, baseline)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"conditions": LABELS, "library_baseline": baseline, "formats": results},
                                   indent=1, ensure_ascii=False) + "\n", "utf-8")
    print(f"\nwritten to {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
