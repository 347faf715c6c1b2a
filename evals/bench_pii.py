"""How long the personal-data detector (assistant/safety/pii.py) takes: load once, then per call.

    python -m evals.bench_pii            # one line: load s, ms per short text, ms per answer-sized text

Why it matters: the detector runs where text is stored (feedback, corrections), not on the question path,
because spaCy's load (seconds) and a call (tens of milliseconds on a busy 2-core machine) would cost every
question; the questions keep privacy.py's patterns (microseconds). Run it on a quiet machine: the figures
scale with CPU contention (the load average is printed with them).
"""
from __future__ import annotations

import os
import statistics
import sys
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    texts = tomllib.loads((ROOT / "tests" / "data" / "pii_sentences.toml").read_text("utf-8"))
    short = [p["text"] for p in texts["personal"]] + [c["text"] for c in texts["clean"]]
    long_text = " ".join(c["text"] for c in texts["clean"][:12])  # about an answer's length (120 words)
    start = time.perf_counter()
    from assistant.safety import pii, privacy

    pii.find("warm up")
    load_s = time.perf_counter() - start

    def per_call(fn, items, reps=1) -> float:
        times = []
        for _ in range(reps):
            for t in items:
                s = time.perf_counter()
                fn(t)
                times.append((time.perf_counter() - s) * 1000)
        return statistics.median(times)

    short_ms = per_call(pii.find, short)
    long_ms = per_call(pii.find, [long_text], reps=10)
    fast_ms = per_call(privacy.find, short, reps=5)
    print(f"pii detector: load {load_s:.1f} s; median {short_ms:.1f} ms per sentence ({len(short)}), "
          f"{long_ms:.1f} ms per ~{len(long_text.split())}-word text; question patterns {fast_ms:.2f} ms; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
