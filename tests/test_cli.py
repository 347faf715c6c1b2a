"""The CLI as a user and a script see it: a real subprocess, real model, real store."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from conftest import ROOT, run_cli

CONTRACT = {"id", "question", "answer", "abstained", "citations", "timings_ms", "status", "notice"}
CITATION = {"n", "doc_id", "title", "date", "status", "quote", "location", "score"}


def test_ask_json_contract(assistant, env_dirs):
    done = run_cli(["ask", "--json", "What is a schools forum?"], env_dirs)
    assert done.returncode == 0, done.stderr
    obj = json.loads(done.stdout)
    assert CONTRACT <= set(obj) and obj["abstained"] is False and obj["citations"]
    for c in obj["citations"]:
        assert CITATION <= set(c)
        assert c["quote"] in assistant.document_text(c["doc_id"])
    assert obj["timings_ms"]["total"] > 0


def test_ask_for_a_person_prints_answer_and_sources(assistant, env_dirs):
    done = run_cli(["ask", "Are GPs bound by the duty to co-operate?"], env_dirs)
    assert done.returncode == 0
    assert "Sources:" in done.stdout and "[1]" in done.stdout and "not legal advice" in done.stdout


def test_batch_keeps_ids_and_order(assistant, env_dirs, tmp_path):
    batch = tmp_path / "q.jsonl"
    lines = [{"id": "a", "question": "What is a schools forum?"},
             {"id": 7, "question": "What is the capital of France?"},
             {"id": "c", "question": "And what about academies?",
              "history": [{"role": "user", "content": "Will schools have a duty to co-operate?"}]},
             {"id": "d", "question": ""}]
    batch.write_text("\n".join(json.dumps(x) for x in lines) + "\nnot json\n", "utf-8")
    done = run_cli(["ask", "--json", "--batch", str(batch)], env_dirs)
    out = [json.loads(x) for x in done.stdout.splitlines()]
    assert [o["id"] for o in out[:4]] == ["a", 7, "c", "d"]  # as given, with its JSON type (issue 12, item 10)
    assert out[0]["abstained"] is False and out[1]["abstained"] is True
    assert out[2]["abstained"] is False and out[3]["status"] == "invalid_input"
    assert "line 5" in out[4]["error"]
    assert done.returncode == 2 and "Traceback" not in done.stderr


def test_errors_are_plain_and_non_zero(assistant, env_dirs, tmp_path):
    empty = run_cli(["ask", ""], env_dirs)
    assert empty.returncode == 2 and "Please type a question" in empty.stdout + empty.stderr
    missing = run_cli(["ask", "--json", "--batch", str(tmp_path / "nope.jsonl")], env_dirs)
    assert missing.returncode == 2 and "file not found" in missing.stderr
    unreadable = tmp_path / "scan.pdf"
    unreadable.write_bytes(b"%PDF-1.7 garbage")
    bad_add = run_cli(["add", str(unreadable)], env_dirs)
    assert bad_add.returncode == 2 and "scan.pdf" in bad_add.stderr
    unknown = run_cli(["remove", "no-such-doc"], env_dirs)
    assert unknown.returncode == 2 and "No document with id" in unknown.stderr
    for done in (empty, missing, bad_add, unknown):
        assert "Traceback" not in done.stderr


def test_index_and_sources_commands(assistant, env_dirs):
    done = run_cli(["index"], env_dirs)
    assert done.returncode == 0 and "5 unchanged" in done.stdout
    listed = json.loads(run_cli(["sources", "--json"], env_dirs).stdout)
    assert {s["id"] for s in listed} >= {"dcsf-2008-07-03-letter"} and all(s["passages"] > 0 for s in listed)


HEAVY = {"torch", "transformers", "sentence_transformers", "onnxruntime", "chromadb", "gradio", "pypdf", "fpdf",
         "docx", "bs4", "sklearn", "langchain_core"}


def _imported(args: list[str], env_dirs) -> set[str]:
    """Top-level packages a CLI command imports (``python -X importtime``), heavy ones only."""
    env = {**os.environ, **env_dirs}
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "assistant", *args], capture_output=True,
                          text=True, env=env, cwd=ROOT, timeout=300)
    names = {line.rsplit("|", 1)[-1].strip().split(".")[0] for line in done.stderr.splitlines()
             if line.startswith("import time:")}
    return names & HEAVY


def test_commands_load_only_what_they_need(assistant, env_dirs):
    """Listing or showing documents, or an unknown id, answers from the catalog file: no model, no
    chromadb. Training needs the index's sentences but no model. Answering needs onnxruntime and
    chromadb, never torch or transformers (the encoder runs on onnxruntime)."""
    assert _imported(["sources"], env_dirs) == set()
    assert _imported(["show", "no-such-id"], env_dirs) == set()
    doc = assistant.sources()[0]["id"]
    assert _imported(["show", doc], env_dirs) == set()
    assert _imported(["duties"], env_dirs) <= {"chromadb"}
    assert _imported(["ask", "Which bodies are bound by the duty to co-operate?"], env_dirs) <= {"chromadb", "onnxruntime"}


def test_add_without_metadata_warns_and_answers_say_so(tmp_path):
    """A note added with no --date/--status is not dated by the file's modification time: it is undated
    unless its text gives a date, `add` says how to set both, and every answer quoting it says that its
    status is not recorded."""
    base = tmp_path / "lib"
    dirs = {"ASSISTANT_CORPUS_DIR": str(base / "corpus"), "ASSISTANT_INDEX_DIR": str(base / "index"),
            "ASSISTANT_DATA_DIR": str(base / "data")}
    (base / "corpus").mkdir(parents=True)
    note = tmp_path / "staff-note.txt"
    note.write_text("Staff note\n\nThe lighthouse committee will repaint the harbour wall every spring.\n", "utf-8")
    dated = tmp_path / "minutes.txt"
    dated.write_text("Minutes of the meeting of 3 March 2009\n\nThe orchard trust agreed to plant forty pear trees.\n",
                     "utf-8")
    done = run_cli(["add", str(note)], dirs)
    assert done.returncode == 0, done.stderr
    assert "without its date or status" in done.stderr and "--date" in done.stderr and "--status" in done.stderr
    assert "sources.toml" in done.stderr and "assistant edit staff-note" in done.stderr
    done = run_cli(["add", str(dated)], dirs)
    assert "without its status" in done.stderr, done.stderr
    rows = {r["id"]: r for r in json.loads(run_cli(["sources", "--json"], dirs).stdout)}
    assert rows["staff-note"]["display_date"] == "undated" and rows["staff-note"]["date"] == ""
    assert rows["minutes"]["display_date"] == "c. March 2009"
    answer = json.loads(run_cli(["ask", "--json", "How often will the harbour wall be repainted?"], dirs).stdout)
    assert answer["status"] == "answered" and answer["citations"][0]["doc_id"] == "staff-note", answer
    assert "The date and status of “Staff note” are not recorded" in answer["notice"], answer["notice"]
