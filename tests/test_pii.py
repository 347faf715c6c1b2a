"""Issue 30, item 11: the personal-data detector on what is stored (assistant/safety/pii.py).

Measured with the real detector (Presidio's analyzer, spaCy's small English model) on the labelled list
tests/data/pii_sentences.toml: recall over its personal sentences (caught only when every labelled detail is
gone from the redacted text) and the false-positive rate over its clean questions. Then, through the real
storage, that what it flags never reaches the feedback database or the corrections' review list and bank.
"""
from __future__ import annotations

import json
import time
import tomllib
from pathlib import Path

import pytest

from conftest import ROOT, copy_corpus, running_app

LIST = tomllib.loads((ROOT / "tests" / "data" / "pii_sentences.toml").read_text("utf-8"))
RECALL_FLOOR, FP_CEILING = 0.95, 0.05
# the issue's own examples, each with the detail that must not be stored
ISSUE = {"Tom Baker has ADHD and was excluded twice": "Tom Baker",
         "my pupil jack smith is in care": "jack smith",
         "JACK SMITH IN YEAR 4": "JACK SMITH",
         "Call his dad on 0044 7700 900456": "7700 900456",
         "Her NHS number is 943 476 5919": "943 476 5919",
         "Mia Khan (Y5) has autism": "Mia Khan",
         "They live at 12 Oak Road": "12 Oak Road"}


def _missed(redact) -> list[tuple[str, str]]:
    return [(p["text"], redact(p["text"])) for p in LIST["personal"]
            if any(detail in redact(p["text"]) for detail in p["details"])]


def test_the_labelled_list_is_big_and_varied_enough():
    personal, clean = LIST["personal"], LIST["clean"]
    assert len(personal) >= 60 and len(clean) >= 60
    kinds = {k for p in personal for k in p["contains"]}
    assert {"name", "health", "phone", "nhs", "address", "postcode", "email"} <= kinds
    names = [d for p in personal if "name" in p["contains"] for d in p["details"]]
    assert any(n.islower() for n in names) and any(n.isupper() for n in names)  # names in any case
    for p in personal:
        assert all(detail in p["text"] for detail in p["details"]), p["text"]


def test_recall_on_personal_sentences_and_false_positives_on_clean_questions():
    from assistant.safety import pii

    from assistant.safety import privacy

    missed = _missed(pii.redact)
    recall = 1 - len(missed) / len(LIST["personal"])
    before = 1 - len(_missed(privacy.redact)) / len(LIST["personal"])  # the questions' fast patterns alone
    flagged = [(c["text"], pii.find(c["text"])) for c in LIST["clean"]]
    flagged = [(q, [q[f.start:f.end] for f in found]) for q, found in flagged if found]
    fp_rate = len(flagged) / len(LIST["clean"])
    print(f"\nrecall {recall:.3f} (patterns alone: {before:.3f}; {len(LIST['personal']) - len(missed)}/{len(LIST['personal'])}), "
          f"false positives {fp_rate:.3f} ({len(flagged)}/{len(LIST['clean'])})")
    assert recall >= RECALL_FLOOR, missed
    assert fp_rate <= FP_CEILING, flagged


@pytest.mark.parametrize("text", list(ISSUE))
def test_the_issues_examples_are_removed(text):
    from assistant.safety import pii

    redacted = pii.redact(text)
    assert ISSUE[text] not in redacted and "removed]" in redacted, redacted


def test_names_in_the_librarys_own_text_are_allowed():
    """Policy: a name or address the documents themselves print (a minister, an author, the DCSF's
    address) is not personal data about a pupil; the same question about a pupil is flagged."""
    from assistant.safety import pii

    for question in ("What did Ed Balls say about the duty?", "what did ed balls say about the duty?",
                     "WHAT DID ED BALLS SAY ABOUT THE DUTY?", "Did John Dunford welcome the duty?",
                     "Is the DCSF at Great Smith Street, London SW1P 3BT?"):
        assert pii.find(question) == [], question
    assert pii.find("Did Amir Dunford in Year 5 get help from the duty?")
    assert "David" not in pii.redact("My son David has ADHD")  # a first name of David Hawker's is no licence


def test_detector_speed(capsys):
    """Reported, not a floor: load once per process, then milliseconds a call (README, docs/EVALUATION.md)."""
    from assistant.safety import pii

    start = time.perf_counter()
    pii.find("warm up")
    load_s = time.perf_counter() - start
    texts = [p["text"] for p in LIST["personal"]] + [c["text"] for c in LIST["clean"]]
    start = time.perf_counter()
    for t in texts:
        pii.find(t)
    per_call_ms = (time.perf_counter() - start) * 1000 / len(texts)
    with capsys.disabled():
        print(f"\npii detector: loaded in {load_s:.1f} s (0 if already loaded), {per_call_ms:.1f} ms a call "
              f"over {len(texts)} texts")
    assert per_call_ms < 1000


def test_a_flagged_feedback_comment_is_not_stored(tmp_path):
    """Through the real SQLite file: none of the details is in the database's bytes."""
    from assistant import get_settings
    from assistant.library.feedback import record, rows

    settings = get_settings(data_dir=tmp_path / "data", corpus_dir=ROOT / "corpus")
    comments = list(ISSUE) + ["Email karen.hughes72@example.com or ring 020 7946 0958",
                              "oliver jones in year 6 has an EHCP; 9 church close, leeds ls1 4dy"]
    answer = {"question": "my pupil jack smith is in care: who must co-operate?", "answer": "Schools [1]",
              "status": "answered", "citations": []}
    for comment in comments:
        record(answer, "down", comment, settings)
    stored = b"".join(p.read_bytes() for p in (tmp_path / "data").iterdir())
    details = list(ISSUE.values()) + ["karen.hughes72", "7946 0958", "oliver jones", "church close", "ls1 4dy"]
    for detail in details:
        assert detail.encode() not in stored, detail
    kept = rows(settings)
    assert len(kept) == len(comments) and all("removed]" in r["comment"] for r in kept)
    assert kept[0]["question"] == "my pupil [name removed] is in care: who must co-operate?"


def test_a_flagged_correction_is_not_stored(assistant):
    """Through the real Chroma store (its files' bytes) and the bank file an accepted correction is written to."""
    desk, settings = assistant.bank, assistant.settings
    sent = desk.correct("Mia Khan (Y5) has autism and noah williams has cerebral palsy: must the trust help?",
                        not_covered=True)
    assert "Mia Khan" not in sent["question"] and "noah williams" not in sent["question"]
    index_bytes = b"".join(p.read_bytes() for p in Path(settings.index_dir).rglob("*") if p.is_file())
    for detail in (b"Mia Khan", b"noah williams"):
        assert detail not in index_bytes
    desk.review(sent["id"], "edit", question="What must the trust do for OSCAR DAVIES, who is in care?")
    bank = (Path(settings.corpus_dir) / "bank" / "corrections.toml").read_text("utf-8")
    assert "OSCAR DAVIES" not in bank and "[name removed]" in bank
    assert json.dumps(desk.pending()).count("Mia Khan") == 0


def test_the_detector_loads_and_runs_without_the_network(tmp_path):
    """Presidio downloads a missing spaCy model and tldextract fetches the public suffix list by default:
    loading the detector and checking an e-mail address (tldextract's job) must try no connection at all."""
    import subprocess
    import sys

    log = tmp_path / "net.jsonl"
    code = tmp_path / "run.py"
    code.write_text("from assistant.safety import pii\n"
                    "print(pii.redact('Write to karen.hughes72@example.com or ring 0044 7700 900456'))\n", "utf-8")
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}  # a fresh, empty cache dir
    done = subprocess.run([sys.executable, str(ROOT / "tests" / "netaudit.py"), str(log), str(code)], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "karen.hughes72" not in done.stdout and "[phone number removed]" in done.stdout, done.stdout
    attempts = [json.loads(x) for x in log.read_text().splitlines()] if log.exists() else []
    assert attempts == [], attempts


def test_a_correction_sent_to_the_app_over_http_is_stored_without_the_details(tmp_path):
    """The channel a reader uses: the real app in a subprocess, ``/correct`` over HTTP; then the review list
    (``/corrections``), the index's files and the app's log hold none of the details."""
    from gradio_client import Client

    copy_corpus(tmp_path / "corpus")
    question = "LUCAS MORGAN Y7 has ADHD, mum on 0044 7700 900456: does the trust have to help him?"
    with running_app(tmp_path, ASSISTANT_ADMIN_PASSWORD="pii-test-password") as app:
        client = Client(app["url"], verbose=False)
        sent = client.predict(question, "", None, True, api_name="/correct")
        pending = client.predict("pii-test-password", api_name="/corrections")
    assert "removed]" in sent["question"], sent
    stored = b"".join(p.read_bytes() for p in tmp_path.rglob("*") if p.is_file() and "corpus" not in p.parts)
    for detail in ("LUCAS MORGAN", "Lucas Morgan", "7700 900456"):
        assert detail not in json.dumps(pending) and detail.encode() not in stored, detail
