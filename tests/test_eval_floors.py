"""Quality floors on our own evaluation set (evals/questions.jsonl), ours only for speed (~15 s).

Floors sit just under the numbers measured when they were set; raise them as answer quality
improves, never lower them to make a change pass. `python -m evals` prints the full comparison.
"""
from __future__ import annotations

import json

import pytest

FLOOR_FIRST_CITATION_GOLD_DOC = 0.94  # measured 0.956: first citation from a gold document (answerable)
FLOOR_ABSTAIN_OUT_OF_SCOPE = 0.90     # measured 0.944 (17/18): out-of-scope questions abstained on
FLOOR_ABSTAIN_INJECTION = 1.00        # measured 1.00: injection attempts refused
FLOOR_ANSWERED_RATE = 0.98            # measured 1.00: answerable questions answered (not abstained)
FLOOR_VERBATIM = 1.00                 # every quote == document_text[start:end]; never lower this
FLOOR_ONLY_QUOTES = 1.00              # answers are cited quotes and [n] markers only; never lower this


@pytest.fixture(scope="module")
def ours(tmp_path_factory) -> dict:
    from evals.harness import main

    out = tmp_path_factory.mktemp("eval-out")
    index = tmp_path_factory.mktemp("eval-index")
    assert main(["--systems", "ours", "--out", str(out), "--index-dir", str(index), "--no-progress", "--quiet"]) == 0
    report = json.loads((out / "report.json").read_text("utf-8"))
    assert (out / "report.md").exists() and (out / "chart.png").exists() and (out / "readme_table.md").exists()
    return report["overall"]["ours"]


@pytest.mark.parametrize("metric, floor", [
    ("first_cite_gold", FLOOR_FIRST_CITATION_GOLD_DOC),
    ("abstention_recall_oos", FLOOR_ABSTAIN_OUT_OF_SCOPE),
    ("abstention_recall_injection", FLOOR_ABSTAIN_INJECTION),
    ("answered_rate", FLOOR_ANSWERED_RATE),
    ("verbatim", FLOOR_VERBATIM),
    ("only_quotes", FLOOR_ONLY_QUOTES),
])
def test_floor(ours, metric, floor):
    assert ours[metric] is not None, f"{metric} was not measured"
    assert ours[metric] >= floor, f"{metric} = {ours[metric]:.3f} fell below its floor {floor:.2f}"


def test_every_answer_cites(ours):
    assert ours["n_citations"] > 0
