"""The training commands as a script and a trainer see them: real subprocesses, real index."""
from __future__ import annotations

import json

from conftest import run_cli

QUESTION = {"id", "number", "kind", "question", "choices", "answer", "answer_index", "citation", "topic", "seed"}
CITATION = {"doc_id", "quote", "title", "date", "display_date", "status", "location", "start", "end"}


def test_quiz_json_contract_and_same_seed_same_output(assistant, env_dirs):
    args = ["quiz", "--n", "6", "--seed", "11", "--topic", "childrens-trust-boards", "--json"]
    first = run_cli(args, env_dirs)
    assert first.returncode == 0, first.stderr
    lines = first.stdout.splitlines()
    assert len(lines) == 6
    for line in lines:
        q = json.loads(line)
        assert QUESTION <= set(q) and CITATION <= set(q["citation"])
        assert q["answer"] in q["choices"] and q["topic"] == "childrens-trust-boards" and q["seed"] == 11
        text = assistant.document_text(q["citation"]["doc_id"])
        assert text[q["citation"]["start"]:q["citation"]["end"]] == q["citation"]["quote"]
        assert q["key_term"] in q["citation"]["quote"]
    again = run_cli(args, env_dirs)
    assert again.stdout == first.stdout  # a new process, the same quiz
    assert [q.model_dump_json() for q in assistant.quiz(n=6, seed=11, topic="childrens-trust-boards")] == lines


def test_quiz_for_a_trainer_and_bad_input(assistant, env_dirs):
    done = run_cli(["quiz", "--n", "2", "--seed", "3"], env_dirs)
    assert done.returncode == 0 and "Quiz number 3" in done.stdout and "Answers" in done.stdout
    assert "A. " in done.stdout and "not the law in force today" in done.stdout
    unknown = run_cli(["quiz", "--topic", "ofsted"], env_dirs)
    assert unknown.returncode == 2 and unknown.stderr.startswith("error: Unknown topic 'ofsted'")
    assert "duty-to-co-operate" in unknown.stderr and "Traceback" not in unknown.stderr
    too_many = run_cli(["quiz", "--n", "500"], env_dirs)
    assert too_many.returncode == 2 and "1 to 50" in too_many.stderr


def test_duties_and_glossary_json(assistant, env_dirs):
    done = run_cli(["duties", "--json"], env_dirs)
    assert done.returncode == 0, done.stderr
    cards = json.loads(done.stdout)
    assert [c["id"] for c in cards] == [c.id for c in assistant.duties()]
    for card in cards:
        assert {f["key"] for f in card["fields"]} == {"what", "holds", "added", "strength", "status", "governors"}
        for f in card["fields"]:
            for line in f["lines"]:
                c = line["citation"]
                assert assistant.document_text(c["doc_id"])[c["start"]:c["end"]] == c["quote"]
    glossary = run_cli(["glossary", "--json"], env_dirs)
    assert glossary.returncode == 0 and len(json.loads(glossary.stdout)) == len(assistant.glossary())


def test_pack_writes_markdown_and_a_valid_pdf(assistant, env_dirs, tmp_path):
    done = run_cli(["pack", "--out", str(tmp_path / "pack"), "--n", "4", "--seed", "2", "--json"], env_dirs)
    assert done.returncode == 0, done.stderr
    written = json.loads(done.stdout)
    md = open(written["markdown"], encoding="utf-8").read()
    for q in assistant.quiz(n=4, seed=2):
        assert q.citation.quote in md
    assert md.count("### ") == 5  # a summary of each duty
    from pypdf import PdfReader

    reader = PdfReader(written["pdf"])
    assert len(reader.pages) >= 3 and "Governor training pack" in reader.pages[0].extract_text()
    (tmp_path / "taken").write_text("x")
    bad = run_cli(["pack", "--out", str(tmp_path / "taken")], env_dirs)
    assert bad.returncode == 2 and "not a folder" in bad.stderr and "Traceback" not in bad.stderr
