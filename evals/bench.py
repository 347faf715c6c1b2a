"""Performance benchmark: what a bigger library costs, at 1×, 10×, 100× (and 1,000×) the five documents.

    python -m evals.bench [--sizes 1,10,100] [--quick] [--out evals/out] [--profile] [--cold-reps 3]
    python -m evals.bench --library copies [--no-bank] [--bank-scale 1]   # the copied libraries, with the tutorial

The default library (``--library distinct``, ``bench_distinct``): the five documents plus distinct text
about (N − 1)× their size, the docstrings of the Python standard library and then of site-packages, one
``.txt`` per module (long ones split) with a ``sources.toml`` entry each, built the same way on every run;
the shipped question bank joins once the documents are indexed. Copies of the five (``--library copies``)
are merged by the indexer, so they understate a big library (issue 33). Measured at each size, each role
in a process of its own (``bench_runs``) and printed (never asserted; ``bench_report``):

* index build: sentences/s against the raw encoder (sentence-transformers, same weights, a sample of the
  same sentences), the unchanged re-index, the shipped bank's ``sync_bank``;
* warm: the first answer in a fresh process, then p50/p95 over the 92 evaluation questions (× ``--reps``),
  the judge's p50/p95, judge pairs per question (the (question, sentence) pairs the cross-encoder scored,
  its own counter), the process's peak RSS;
* cold ``assistant ask``: process start → printed answer, median of ``--cold-reps`` after one untimed run,
  with that process's peak RSS (``wait4``).

``--library copies`` runs the earlier comparison: the same measures for ours and the tutorial baseline
(raw files → RecursiveCharacterTextSplitter(500, 50) → langchain_chroma dense top-5 + rank-bm25 top-5),
with a question bank proportional to the copies (``bench_library.make_bank``: each copy's sentences carry
a marker word so the bank's anchors are distinct; ``--no-bank``: identical copies, no bank).

Figures and machines: docs/PERFORMANCE.md ("Distinct documents"). 1× to 100× takes ~15-30 min on 2 CPUs;
1,000× (~20 MB, ~4,000 documents) an index build of tens of minutes, so it is never run in CI:

    python -m evals.bench --sizes 1,10,100
    python -m evals.bench --sizes 1000 --cold-reps 3 --index-timeout 7200
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from .bench_distinct import make_distinct_corpus
from .bench_library import make_bank, make_corpus
from .bench_report import fmt, gb, render
from .bench_runs import CHILDREN, COLD_QUESTION, ENV, HERE, ROOT, cold_start, run_child



def run_distinct(args, res: dict, work: Path, log) -> None:
    """The distinct libraries (the default): at each size, index the documents (rate against the raw encoder),
    add the shipped bank (``sync_bank`` timed), query warm (p50/p95, judge pairs, first answer, RSS), then time
    cold ``assistant ask`` runs (median, peak RSS)."""
    sizes, reps, raw_cap, cold_reps = res["sizes"], res["reps"], res["raw_cap"], res["cold_reps"]
    for n in sizes:
        corpus, ix = work / f"corpus-{n}", work / f"ours-{n}"
        info = make_distinct_corpus(ROOT / "corpus", corpus, n, bank=False)
        log(f"{n}×: {info['documents']} documents ({info['from_stdlib']} standard library, {info['from_site_packages']} "
            f"site-packages), {info['bytes'] / 1e6:.2f} MB = {info['multiple_achieved']:.2f}× the five")
        run = res["runs"][str(n)] = {"corpus": info}
        run["ours_index"] = o = run_child("ours-index", {"corpus": str(corpus), "index": str(ix), "raw_cap": raw_cap},
                                          timeout=args.index_timeout)
        log(f"{n}× index: {o['sentences']} sentences, {o['passages']} passages in {o['index_s']:.1f} s ({o['rate']:.0f}/s; "
            f"raw encoder {o['raw_rate']:.0f}/s); re-index {o['reindex_wall_s']:.2f} s")
        if (ROOT / "corpus" / "bank").is_dir():
            shutil.copytree(ROOT / "corpus" / "bank", corpus / "bank")
            run["ours_bank"] = b = run_child("ours-bank", {"corpus": str(corpus), "index": str(ix)}, timeout=3600)
            log(f"{n}× shipped bank: {b['bank_rows']} rows, sync_bank {b['sync_bank_s']:.1f} s")
        profile_out = str(args.out / "bench_profile.txt") if args.profile and n == sizes[-1] else None
        run["ours_query"] = o = run_child("ours-query", {"corpus": str(corpus), "index": str(ix), "reps": reps,
                                                         "profile": bool(profile_out), "profile_out": profile_out})
        log(f"{n}× warm: first {o['first_ms']:.0f} ms, p50 {o['p50_ms']:.1f} ms, p95 {o['p95_ms']:.1f} ms, "
            f"{o['pairs_per_question']:.1f} pairs/question, RSS {gb(o['peak_rss'])}")
        if profile_out:
            res["profile"] = profile_out
        env = {"ASSISTANT_CORPUS_DIR": str(corpus), "ASSISTANT_INDEX_DIR": str(ix)}
        res["cold"][str(n)] = c = {"ours": cold_start(ask_command(), env, cold_reps)}
        log(f"{n}× cold ask: median {c['ours']['median_s']:.2f} s ({c['ours']['min_s']:.2f}–{c['ours']['max_s']:.2f}), "
            f"peak RSS {gb(c['ours']['peak_rss_median'])}")
        (args.out / "bench.partial.json").write_text(json.dumps(res, indent=1), "utf-8")  # a later size may fail
        if not args.keep:
            shutil.rmtree(corpus, ignore_errors=True), shutil.rmtree(ix, ignore_errors=True)


def ask_command() -> list[str]:
    script = Path(sys.executable).parent / "assistant"
    return ([str(script)] if script.exists() else [sys.executable, "-m", "assistant"]) + ["ask", COLD_QUESTION]


def run_copies(args, res: dict, work: Path, log) -> None:
    """The copied libraries (``--library copies``): ours and the tutorial, with the proportional bank."""
    sizes, reps, raw_cap, cold_reps = res["sizes"], res["reps"], res["raw_cap"], res["cold_reps"]
    for n in sizes:
        corpus, ours_ix, tut_ix = work / f"corpus-{n}", work / f"ours-{n}", work / f"tutorial-{n}"
        info = make_corpus(ROOT / "corpus", corpus, n, mark=args.bank)
        anchors = info.pop("anchors")
        log(f"{n}×: {info['documents']} documents, {info['bytes'] / 1e6:.1f} MB")
        run = res["runs"][str(n)] = {"corpus": info}
        if args.bank:  # written aside; it joins the corpus once the documents are indexed and queried
            run["bank"] = b = make_bank(ROOT / "corpus", work / f"bank-{n}", n, anchors, args.bank_scale)
            log(f"{n}× bank: {b['questions']} questions in {b['files']} files")
        # The documents alone: the corpus has no bank folder yet (as before the bank).
        run["ours_index"] = o = run_child("ours-index", {"corpus": str(corpus), "index": str(ours_ix), "raw_cap": raw_cap})
        log(f"{n}× ours index: {o['sentences']} sentences in {o['index_s']:.1f} s ({o['rate']:.0f}/s; raw {o['raw_rate']:.0f}/s); "
            f"re-index {o['reindex_wall_s']:.2f} s")
        profile_out = str(args.out / "bench_profile.txt") if args.profile and n == sizes[-1] else None
        query_args = {"corpus": str(corpus), "index": str(ours_ix), "reps": reps}
        if args.bank:
            run["ours_query_nobank"] = o = run_child("ours-query", query_args)
            log(f"{n}× ours query without the bank: p50 {o['p50_ms']:.1f} ms, p95 {o['p95_ms']:.1f} ms, RSS {gb(o['peak_rss'])}")
            shutil.copytree(work / f"bank-{n}", corpus / "bank")
            run["ours_bank"] = b = run_child("ours-bank", {"corpus": str(corpus), "index": str(ours_ix)}, timeout=3600)
            log(f"{n}× bank index: {b['bank_rows']} rows, sync_bank {b['sync_bank_s']:.1f} s (encode {b['bank_encode_s']:.1f} s, "
                f"{fmt(b['bank_rate'], '{:.0f}')} questions/s), {b['bank_problems']} problems; re-index {b['reindex_wall_s']:.2f} s")
        run["ours_query"] = o = run_child("ours-query", {**query_args, "profile": bool(profile_out), "profile_out": profile_out})
        log(f"{n}× ours query{' with the bank' if args.bank else ''}: p50 {o['p50_ms']:.1f} ms, p95 {o['p95_ms']:.1f} ms, "
            f"RSS {gb(o['peak_rss'])}; bank {o['bank_rows']} rows, step {o['steps_mean_ms'].get('bank', 0):.1f} ms")
        run["tutorial_index"] = t = run_child("tutorial-index", {"corpus": str(corpus), "index": str(tut_ix),
                                                                "raw_cap": raw_cap, "reindex": n <= args.tutorial_reindex_max})
        log(f"{n}× tutorial index: {t['chunks']} chunks in {t['index_s']:.1f} s ({t['rate']:.0f}/s; raw {t['raw_rate']:.0f}/s)")
        run["tutorial_query"] = t = run_child("tutorial-query", {"corpus": str(corpus), "index": str(tut_ix), "reps": reps})
        log(f"{n}× tutorial query: p50 {t['p50_ms']:.1f} ms, p95 {t['p95_ms']:.1f} ms, RSS {gb(t['peak_rss'])}")
        if profile_out:
            res["profile"] = profile_out
    script = Path(sys.executable).parent / "assistant"
    ours_cmd = ([str(script)] if script.exists() else [sys.executable, "-m", "assistant"]) + ["ask", COLD_QUESTION]
    for n in dict.fromkeys([sizes[0], sizes[-1]]):
        env = {"ASSISTANT_CORPUS_DIR": str(work / f"corpus-{n}"), "ASSISTANT_INDEX_DIR": str(work / f"ours-{n}")}
        tut_cmd = [sys.executable, "-m", "evals.tutorial_cold", "--store", str(work / f"tutorial-{n}"),
                   "--question", COLD_QUESTION]
        reps_n = cold_reps if n == sizes[0] else 1
        res["cold"][str(n)] = c = {"ours": cold_start(ours_cmd, env, reps_n), "tutorial": cold_start(tut_cmd, {}, reps_n)}
        log(f"{n}× cold start: ours {c['ours']['median_s']:.2f} s, tutorial {c['tutorial']['median_s']:.2f} s")


def main(argv: list[str] | None = None, prog: str = "python -m evals.bench") -> int:
    p = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n")[0])
    p.add_argument("--sizes", default=None, help="corpus multiples, default 1,10,100 (--quick: 1,10)")
    p.add_argument("--quick", action="store_true", help="sizes 1,10, one query round, one cold-start run")
    p.add_argument("--reps", type=int, default=None, help="rounds over the 92 questions per size (default 2; quick 1)")
    p.add_argument("--raw-cap", type=int, default=None, help="most texts for the raw-encoder rate (default 1000; --quick 500)")
    p.add_argument("--tutorial-reindex-max", type=int, default=10, help="re-run the tutorial build up to this size")
    p.add_argument("--out", type=Path, default=HERE / "out")
    p.add_argument("--profile", action="store_true", help="pyinstrument one query round at the largest size")
    p.add_argument("--keep", action="store_true", help="keep the temporary corpora and indexes")
    p.add_argument("--bank", action=argparse.BooleanOptionalAction, default=True,
                   help="a question bank proportional to each size (default; --no-bank: the corpus and "
                        "measurements as before the bank, with no bank at all)")
    p.add_argument("--bank-scale", type=float, default=1.0,
                   help="share of the shipped bank's questions varied for each copy (default 1: N × 904)")
    p.add_argument("--library", choices=("distinct", "copies"), default="distinct",
                   help="distinct documents (default) or copies of the five (with the tutorial and the proportional bank)")
    p.add_argument("--index-timeout", type=int, default=3600, help="seconds one size's index build may take")
    p.add_argument("--cold-reps", type=int, default=None, help="timed cold `assistant ask` runs per size (default 3; quick 1)")
    p.add_argument("--child", choices=sorted(CHILDREN), help=argparse.SUPPRESS)
    p.add_argument("--child-args", help=argparse.SUPPRESS)
    p.add_argument("--child-out", help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args.child:
        os.environ.update(ENV)
        result = CHILDREN[args.child](json.loads(args.child_args))
        Path(args.child_out).write_text(json.dumps(result), "utf-8")
        return 0

    sizes = [int(x) for x in (args.sizes or ("1,10" if args.quick else "1,10,100")).split(",") if x.strip()]
    reps = args.reps or (1 if args.quick else 2)
    raw_cap = args.raw_cap if args.raw_cap is not None else (500 if args.quick else 1000)
    cold_reps = args.cold_reps or (1 if args.quick else 3)
    started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="evals-bench-"))
    args.out.mkdir(parents=True, exist_ok=True)
    res = {"sizes": sizes, "quick": args.quick, "cpus": os.cpu_count(), "raw_cap": raw_cap, "reps": reps,
           "bank": args.bank, "bank_scale": args.bank_scale, "library": args.library,
           "cold_reps": cold_reps, "when": time.strftime("%Y-%m-%d %H:%M"), "runs": {}, "cold": {},
           "load_start": ", ".join(f"{x:.2f}" for x in os.getloadavg())}

    def log(msg: str) -> None:
        print(f"[{time.perf_counter() - started:6.0f} s] {msg}", file=sys.stderr, flush=True)

    try:
        (run_distinct if args.library == "distinct" else run_copies)(args, res, work, log)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    res["wall_s"] = time.perf_counter() - started
    res["load_end"] = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    (args.out / "bench.json").write_text(json.dumps(res, indent=1), "utf-8")  # first: kept if the report fails
    text = render(res)
    (args.out / "bench.md").write_text(text, "utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
