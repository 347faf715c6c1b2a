"""The benchmark's timed runs: each in a child process of its own (``python -m evals.bench --child MODE``),
so ``ru_maxrss`` is that process's own peak; and the cold ``assistant ask``, timed from process start to
printed answer, with its peak RSS from ``wait4``.
"""
from __future__ import annotations

import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
QUESTIONS = HERE / "questions.jsonl"
COLD_QUESTION = "Which bodies are bound by the duty to co-operate?"
GOALS = {"ratio": 0.9, "reindex_s": 1.0, "p95_ms": 250.0, "rss_gb": 1.0, "cold_s": 1.5}
ENV = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False",
       "TOKENIZERS_PARALLELISM": "false", "HF_HUB_DISABLE_TELEMETRY": "1"}


# ---- helpers ------------------------------------------------------------------------------------
def peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB


def pct(values: list[float], q: float) -> float | None:
    return float(np.percentile(values, q)) if values else None


def load_questions() -> list[dict]:
    return [json.loads(l) for l in QUESTIONS.read_text("utf-8").splitlines() if l.strip()]



def sample(texts: list[str], cap: int) -> list[str]:
    return texts if not cap or len(texts) <= cap else random.Random(0).sample(texts, cap)


def raw_encoder(path: Path):
    """The reference: a plain SentenceTransformer on the same weights (what the indexer is compared to)."""
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(path), device="cpu", local_files_only=True)


def encode_rate(model, texts: list[str]) -> tuple[float, int, float]:
    t = time.perf_counter()
    model.encode(texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
    dt = time.perf_counter() - t
    return len(texts) / dt, len(texts), dt


# ---- child processes ----------------------------------------------------------------------------
def child_ours_index(a: dict) -> dict:
    from assistant import Assistant
    from assistant.encoders.embeddings import get_embedder
    from assistant.library.ingest import ingest

    t = time.perf_counter()
    emb = get_embedder()
    emb.encode(["warm up the model"] * 4)
    model_s = time.perf_counter() - t
    assistant = Assistant(corpus_dir=a["corpus"], index_dir=a["index"])
    assistant.store  # open Chroma first: like the model load, not part of the indexing rate
    t, cpu0 = time.perf_counter(), time.process_time()
    report = assistant.index()
    index_wall, index_cpu = time.perf_counter() - t, time.process_time() - cpu0
    rss_index = peak_rss_bytes()
    # the raw encoder on the same sentence texts the indexer embedded
    texts = []
    for source in assistant.manifest().sources():
        doc = ingest(source, Path(a["corpus"]), emb.name)
        texts += [doc.clean.text[s.start:s.end] for c in doc.chunks for s in c.sentences]
    raw_rate, raw_n, raw_s = encode_rate(raw_encoder(emb.path), sample(texts, a["raw_cap"]))
    # re-index of the unchanged corpus, as a new `assistant index` run would (fresh Assistant)
    again = Assistant(corpus_dir=a["corpus"], index_dir=a["index"])
    t = time.perf_counter()
    r2 = again.index()
    reindex_wall = time.perf_counter() - t
    return {"model_s": model_s, "documents": len(report.added), "failed": len(report.failed),
            "sentences": report.sentences, "passages": report.passages,
            "index_s": report.seconds, "index_wall_s": index_wall, "index_cpu_s": index_cpu,
            "rate": report.sentences / report.seconds if report.seconds else None,
            "raw_rate": raw_rate, "raw_n": raw_n, "raw_total": len(texts), "raw_s": raw_s,
            "reindex_s": r2.seconds, "reindex_wall_s": reindex_wall, "reindex_unchanged": len(r2.unchanged),
            "reindex_changed": r2.changed, "peak_rss_index": rss_index, "peak_rss": peak_rss_bytes()}


def child_ours_bank(a: dict) -> dict:
    """The bank's share of indexing: the documents are already indexed (``ours-index``), the bank files
    are now in ``corpus/bank``; ``assistant.index()`` finds every document unchanged and runs ``sync_bank``,
    timed on its own (and its encode calls within it). Then an unchanged re-index with the bank."""
    from assistant import Assistant
    from assistant.library import indexer

    t = time.perf_counter()
    assistant = Assistant(corpus_dir=a["corpus"], index_dir=a["index"])
    emb = assistant.embedder
    emb.encode(["warm up the model"] * 4)
    assistant.store  # noqa: B018
    model_s = time.perf_counter() - t
    timing = {"sync_bank_s": 0.0, "encode_s": 0.0, "encoded": 0}
    plain_sync_bank, plain_encode = indexer.sync_bank, emb.encode

    def timed_sync_bank(*args, **kwargs):
        t0 = time.perf_counter()
        try:
            return plain_sync_bank(*args, **kwargs)
        finally:
            timing["sync_bank_s"] += time.perf_counter() - t0

    def timed_encode(texts, *args, **kwargs):
        t0 = time.perf_counter()
        try:
            return plain_encode(texts, *args, **kwargs)
        finally:
            timing["encode_s"] += time.perf_counter() - t0
            timing["encoded"] += len(texts)

    indexer.sync_bank, emb.encode = timed_sync_bank, timed_encode
    rss_before = peak_rss_bytes()
    t = time.perf_counter()
    report = assistant.index()
    index_wall = time.perf_counter() - t
    rss_bank = peak_rss_bytes()
    bank_timing = dict(timing)
    timing.update(sync_bank_s=0.0, encode_s=0.0, encoded=0)
    again = Assistant(corpus_dir=a["corpus"], index_dir=a["index"])
    t = time.perf_counter()
    r2 = again.index()
    reindex_wall = time.perf_counter() - t
    indexer.sync_bank, emb.encode = plain_sync_bank, plain_encode
    rows = assistant.store.bank.count()
    return {"model_s": model_s, "bank_rows": rows, "bank_added": report.bank_added, "bank_size": report.bank_size,
            "bank_problems": len(report.bank_problems), "bank_problem_sample": report.bank_problems[:5],
            "docs_unchanged": len(report.unchanged), "docs_changed": report.changed,
            "index_wall_s": index_wall, "sync_bank_s": bank_timing["sync_bank_s"],
            "bank_encode_s": bank_timing["encode_s"], "bank_encoded": bank_timing["encoded"],
            "bank_rate": bank_timing["encoded"] / bank_timing["encode_s"] if bank_timing["encode_s"] else None,
            "bank_write_s": bank_timing["sync_bank_s"] - bank_timing["encode_s"],
            "reindex_wall_s": reindex_wall, "reindex_sync_bank_s": timing["sync_bank_s"],
            "reindex_bank_added": r2.bank_added, "peak_rss_before": rss_before, "peak_rss_bank": rss_bank,
            "peak_rss": peak_rss_bytes()}


def child_ours_query(a: dict) -> dict:
    from assistant import Assistant

    questions = load_questions()
    t = time.perf_counter()
    assistant = Assistant(corpus_dir=a["corpus"], index_dir=a["index"])
    assistant.embedder  # noqa: B018
    model_s = time.perf_counter() - t
    t = time.perf_counter()
    first = assistant.ask(questions[0]["question"])
    first_ms = (time.perf_counter() - t) * 1000
    for q in questions[:5]:
        assistant.ask(q["question"], history=q.get("history") or [])
    lat, steps, statuses = [], defaultdict(list), Counter()
    from assistant.encoders.reranker import get_reranker

    reranker = get_reranker(assistant.settings.reranker_path)
    pairs_before = reranker.pairs

    def one_round():
        for q in questions:
            t0 = time.perf_counter()
            ans = assistant.ask(q["question"], history=q.get("history") or [])
            lat.append((time.perf_counter() - t0) * 1000)
            statuses[ans.status] += 1
            for k, v in ans.timings_ms.items():
                steps[k].append(v)

    profile_text = None
    cpu0 = time.process_time()
    for rep in range(a["reps"]):
        if a.get("profile") and rep == 0:
            from pyinstrument import Profiler

            prof = Profiler(interval=0.0005)
            prof.start()
            one_round()
            prof.stop()
            profile_text = prof.output_text(unicode=False, color=False, show_all=False)
        else:
            one_round()
    cpu_ms = (time.process_time() - cpu0) * 1000 / max(len(lat), 1)
    if profile_text and a.get("profile_out"):
        Path(a["profile_out"]).write_text(profile_text, "utf-8")
    bank = _bank_cost(assistant)
    return {"model_s": model_s, "first_ms": first_ms, "first_status": first.status, "n": len(lat), **bank,
            "p50_ms": pct(lat, 50), "p95_ms": pct(lat, 95), "mean_ms": float(np.mean(lat)),
            "judge_p50_ms": pct(steps.get("judge", []), 50), "judge_p95_ms": pct(steps.get("judge", []), 95),
            "pairs_per_question": (reranker.pairs - pairs_before) / max(len(lat), 1), "cpu_ms_per_question": cpu_ms,
            "steps_mean_ms": {k: float(np.mean(v)) for k, v in steps.items()},
            "statuses": dict(statuses), "peak_rss": peak_rss_bytes()}


def _rss_now() -> int:
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _bank_cost(assistant) -> dict:
    """The bank as the answer path holds it (``BankView``): rows, the vectors' bytes, and one more load of it
    timed, with the process's resident memory before and after (the copy is kept alive until measured)."""
    from assistant.library.retrieval import BankView

    snap = assistant.kit().snapshot
    view = snap.bank
    texts = [snap.sentence_text(j) for j in range(len(snap.sentence_passage))]
    before = _rss_now()
    t = time.perf_counter()
    again = BankView.load(assistant.store, texts, snap.sentence_vectors.shape[1])
    load_s = time.perf_counter() - t
    grown = _rss_now() - before
    assert len(again) == len(view)
    return {"bank_rows": len(view), "bank_covered_rows": int(view.covered.sum()),
            "bank_sentences": len(view.by_sentence), "bank_vectors_bytes": int(view.vectors.nbytes),
            "bank_load_s": load_s, "bank_load_rss_bytes": grown}


def child_tutorial_index(a: dict) -> dict:
    from . import tutorial
    from .lc_embeddings import OfflineEmbeddings

    t = time.perf_counter()
    emb = OfflineEmbeddings.standalone()
    emb.embed_documents(["warm up the model"] * 4)
    model_s = time.perf_counter() - t
    t = time.perf_counter()
    chunks = tutorial.split(tutorial.load_documents(Path(a["corpus"])))
    split_s = time.perf_counter() - t
    t = time.perf_counter()
    tutorial.build_store(chunks, emb, Path(a["index"]))
    build_s = time.perf_counter() - t
    t = time.perf_counter()
    tutorial.BM25Index.build(chunks)
    bm25_s = time.perf_counter() - t
    rss_index = peak_rss_bytes()
    raw_rate, raw_n, raw_s = encode_rate(emb.model, sample([c.page_content for c in chunks], a["raw_cap"]))
    reindex_s = None
    if a["reindex"]:  # a tutorial has no change detection: a re-run re-splits and re-embeds everything
        t = time.perf_counter()
        again = tutorial.split(tutorial.load_documents(Path(a["corpus"])))
        tutorial.build_store(again, emb, Path(a["index"]))
        tutorial.BM25Index.build(again)
        reindex_s = time.perf_counter() - t
    total = split_s + build_s + bm25_s
    return {"model_s": model_s, "chunks": len(chunks), "split_s": split_s, "build_s": build_s, "bm25_s": bm25_s,
            "index_s": total, "rate": len(chunks) / total, "raw_rate": raw_rate, "raw_n": raw_n,
            "raw_total": len(chunks), "raw_s": raw_s, "reindex_s": reindex_s,
            "peak_rss_index": rss_index, "peak_rss": peak_rss_bytes()}


def child_tutorial_query(a: dict) -> dict:
    from . import tutorial
    from .lc_embeddings import OfflineEmbeddings

    questions = load_questions()
    t = time.perf_counter()
    emb = OfflineEmbeddings.standalone()
    store = tutorial.open_store(Path(a["index"]), emb)
    bm25 = tutorial.BM25Index.build(tutorial.split(tutorial.load_documents(Path(a["corpus"]))))
    load_s = time.perf_counter() - t
    t = time.perf_counter()
    store.similarity_search(questions[0]["question"], k=5)
    first_ms = (time.perf_counter() - t) * 1000
    for q in questions[:5]:
        store.similarity_search(q["question"], k=5)
        bm25.top(q["question"], 5)
    lat, dense, lexical = [], [], []
    for _ in range(a["reps"]):
        for q in questions:
            t0 = time.perf_counter()
            store.similarity_search(q["question"], k=5)
            t1 = time.perf_counter()
            bm25.top(q["question"], 5)
            t2 = time.perf_counter()
            lat.append((t2 - t0) * 1000)
            dense.append((t1 - t0) * 1000)
            lexical.append((t2 - t1) * 1000)
    return {"load_s": load_s, "first_ms": first_ms, "n": len(lat), "p50_ms": pct(lat, 50), "p95_ms": pct(lat, 95),
            "mean_ms": float(np.mean(lat)), "dense_p50_ms": pct(dense, 50), "dense_p95_ms": pct(dense, 95),
            "bm25_p50_ms": pct(lexical, 50), "bm25_p95_ms": pct(lexical, 95), "peak_rss": peak_rss_bytes()}


CHILDREN = {"ours-index": child_ours_index, "ours-bank": child_ours_bank, "ours-query": child_ours_query,
            "tutorial-index": child_tutorial_index, "tutorial-query": child_tutorial_query}


def run_child(mode: str, args: dict, timeout: int = 1800) -> dict:
    with tempfile.NamedTemporaryFile("r", suffix=".json", delete=False) as f:
        out = f.name
    try:
        cmd = [sys.executable, "-m", "evals.bench", "--child", mode, "--child-args", json.dumps(args), "--child-out", out]
        proc = subprocess.run(cmd, cwd=ROOT, env={**os.environ, **ENV}, capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0:
            raise RuntimeError(f"{mode} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
        return json.loads(Path(out).read_text("utf-8"))
    finally:
        Path(out).unlink(missing_ok=True)


def cold_start(cmd: list[str], env: dict, reps: int) -> dict:
    """Process start → printed answer of ``cmd``, ``reps`` times after one untimed run, and each run's peak
    RSS (``wait4``'s ``ru_maxrss`` of that child alone; the command's own process, not its children)."""
    def once() -> tuple[float, int, str]:
        with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
            t = time.perf_counter()
            proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **ENV, **env}, stdout=out, stderr=err, text=True)
            _, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - t
            proc.returncode = os.waitstatus_to_exitcode(status)
            out.seek(0), err.seek(0)
            if proc.returncode != 0:
                raise RuntimeError(f"{' '.join(cmd)} failed: {err.read()[-2000:]}")
            return wall, usage.ru_maxrss * 1024, out.read(), usage.ru_utime + usage.ru_stime

    once()  # untimed: fills the OS file cache, as on any machine that has run it once
    runs = [once() for _ in range(reps)]
    walls, rss = [r[0] for r in runs], [r[1] for r in runs]
    return {"median_s": statistics.median(walls), "min_s": min(walls), "max_s": max(walls), "runs": walls,
            "peak_rss_median": statistics.median(rss), "peak_rss_runs": rss, "answer_head": runs[-1][2][:200],
            "cpu_median_s": statistics.median(r[3] for r in runs), "cpu_runs": [r[3] for r in runs]}
