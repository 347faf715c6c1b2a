"""Load test: many concurrent gradio_client clients asking questions through the app's /ask API.

    python -m evals.load [--clients 20] [--questions 200] [--url URL] [--time-limit 600] [--json]

Without ``--url`` it starts the real app (``python app.py``) on a temporary copy of the corpus, over
loopback, waits until it has answered once (model and index loaded), then starts the clients
together. Each client has its own ``gradio_client.Client`` (its own session) and takes the next
question from a shared list (the evaluation set, repeated) until ``--questions`` have been asked or
``--time-limit`` seconds have passed. Printed: errors, latency p50/p95/max per question (as a client
sees it: queueing included) and throughput. Exit status 1 if any request failed or was not done in time.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path

from .serve import ROOT, running_app

QUESTIONS = Path(__file__).resolve().parent / "questions.jsonl"


def questions(n: int) -> list[str]:
    pool = [json.loads(line)["question"] for line in QUESTIONS.read_text("utf-8").splitlines() if line.strip()]
    return [pool[i % len(pool)] for i in range(n)]


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system, all threads) a process has used, from /proc; None if unknown."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def run(url: str, clients: int, total: int, time_limit: float, server_pid: int | None = None) -> dict:
    """Ask ``total`` questions with ``clients`` concurrent clients; returns the measurements, with the
    CPU seconds per answer of the server (when its pid is known) and of these clients: both share the
    machine's cores, so together they bound the throughput."""
    from gradio_client import Client

    todo = questions(total)
    lock = threading.Lock()
    latencies: list[float] = []
    errors: list[str] = []
    statuses: dict[str, int] = {}
    start = threading.Barrier(clients + 1)
    deadline = [0.0]
    next_index = [0]

    def client_loop(number: int) -> None:
        try:
            client = Client(url, verbose=False)
        except Exception as exc:  # counted, and the barrier still releases
            with lock:
                errors.append(f"client {number}: could not connect: {exc}")
            start.wait()
            return
        start.wait()
        while time.monotonic() < deadline[0]:
            with lock:
                if next_index[0] >= len(todo):
                    return
                question = todo[next_index[0]]
                next_index[0] += 1
            began = time.perf_counter()
            try:
                result = client.predict(question, api_name="/ask")
                took = time.perf_counter() - began
                with lock:
                    latencies.append(took)
                    statuses[result["status"]] = statuses.get(result["status"], 0) + 1
            except Exception as exc:
                with lock:
                    errors.append(f"client {number}: {exc.__class__.__name__}: {exc}"[:300])

    threads = [threading.Thread(target=client_loop, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    deadline[0] = time.monotonic() + time_limit + 120  # set before the clients are released (connecting takes a while)
    start.wait()
    began = time.monotonic()
    server_cpu0, client_cpu0 = cpu_seconds(server_pid) if server_pid else None, time.process_time()
    deadline[0] = began + time_limit
    for t in threads:
        t.join(timeout=max(0.0, deadline[0] - time.monotonic()) + 60)
    wall = time.monotonic() - began
    done = len(latencies)
    server_cpu = cpu_seconds(server_pid) if server_pid and server_cpu0 is not None else None
    per = max(done, 1)
    return {"clients": clients, "questions": total, "answered_requests": done, "errors": len(errors),
            "not_done": total - done - len(errors), "error_samples": errors[:5], "statuses": statuses,
            "p50_ms": round(percentile(latencies, 50) * 1000, 1), "p95_ms": round(percentile(latencies, 95) * 1000, 1),
            "max_ms": round(max(latencies, default=float("nan")) * 1000, 1), "wall_s": round(wall, 2),
            "throughput_qps": round(done / wall, 2) if wall else 0.0,
            "server_cpu_ms_per_answer": round((server_cpu - server_cpu0) / per * 1000, 1) if server_cpu is not None else None,
            "client_cpu_ms_per_answer": round((time.process_time() - client_cpu0) / per * 1000, 1)}


def report(r: dict) -> str:
    return (f"{r['clients']} clients, {r['questions']} questions: {r['answered_requests']} done, {r['errors']} errors, "
            f"{r['not_done']} not done in time\n"
            f"latency per question p50 {r['p50_ms']:.0f} ms, p95 {r['p95_ms']:.0f} ms, max {r['max_ms']:.0f} ms\n"
            f"throughput {r['throughput_qps']:.2f} questions/s over {r['wall_s']:.1f} s "
            f"(server concurrency {r.get('concurrency', '?')}, {os.cpu_count()} CPUs)\n"
            f"statuses: {r['statuses']}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m evals.load", description=__doc__.split("\n")[0])
    p.add_argument("--clients", type=int, default=20, help="concurrent clients (default 20)")
    p.add_argument("--questions", type=int, default=200, help="questions in all (default 200)")
    p.add_argument("--url", help="an app already running (default: start one on a copy of the corpus)")
    p.add_argument("--concurrency", type=int, help="ASSISTANT_CONCURRENCY for the app this starts")
    p.add_argument("--time-limit", type=float, default=600, help="stop asking after this many seconds")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    args = p.parse_args(argv)
    if args.clients < 1 or args.questions < 1:
        p.error("--clients and --questions must be at least 1")

    with ExitStack() as stack:
        url, pid = args.url, None
        if not url:
            work = Path(tempfile.mkdtemp(prefix="evals-load-"))
            stack.callback(shutil.rmtree, work, True)
            shutil.copytree(ROOT / "corpus", work / "corpus")
            extra = {"ASSISTANT_CONCURRENCY": str(args.concurrency)} if args.concurrency else {}
            app = stack.enter_context(running_app(work, **extra))
            url, pid = app["url"], app["proc"].pid
        from gradio_client import Client

        Client(url, verbose=False).predict(questions(1)[0], api_name="/ask")  # warm: model and index loaded
        result = run(url, args.clients, args.questions, args.time_limit, pid)
    result["concurrency"] = args.concurrency or (os.environ.get("ASSISTANT_CONCURRENCY") or "4 (default)")
    print(json.dumps(result) if args.json else report(result))
    return 0 if result["errors"] == 0 and result["not_done"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
