"""A bounded run of the load test (``python -m evals.load``): 20 concurrent gradio_client clients,
40 questions, over loopback against the real app. Asserts no errors; timings are printed, not asserted."""
from __future__ import annotations

import json
import subprocess
import sys

from conftest import ROOT


def test_twenty_concurrent_clients_no_errors():
    done = subprocess.run([sys.executable, "-m", "evals.load", "--clients", "20", "--questions", "40",
                           "--time-limit", "300", "--json"], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    print(result)
    assert result["clients"] == 20 and result["questions"] == 40
    assert result["errors"] == 0 and result["not_done"] == 0 and result["answered_requests"] == 40, result
    assert sum(result["statuses"].values()) == 40
    assert set(result["statuses"]) <= {"answered", "no_evidence", "unsafe_input", "invalid_input"}
    assert result["p50_ms"] > 0 and result["throughput_qps"] > 0
