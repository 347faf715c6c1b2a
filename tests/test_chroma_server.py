"""The same code against a real Chroma server: ``chroma run`` (from the installed chromadb package)
on 127.0.0.1, reached through ``CHROMA_HOST``/``CHROMA_PORT`` (``HttpClient``), gives the same
answers as the embedded store; several instances share it, and see each other's changes."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from conftest import (CHROMA, ROOT, app_env, copy_corpus, free_port, is_local_hex, remote_peers, running_app,
                      start_chroma, stop_chroma)

QUESTIONS = [json.loads(x) for x in (ROOT / "evals" / "questions.jsonl").read_text("utf-8").splitlines() if x.strip()]

# Outside CI a missing tool skips; in CI (.ci/run sets CI) it fails, so the claim is always checked there.
pytestmark = pytest.mark.skipif(CHROMA is None and not os.environ.get("CI"),
                                reason="the chroma CLI (pip install chromadb) is not on PATH")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``chroma run`` on a free loopback port, data in a temp folder, telemetry off."""
    data = tmp_path_factory.mktemp("chroma-server")
    port = free_port()
    proc = start_chroma(data, port)
    try:
        yield {"host": "127.0.0.1", "port": port, "proc": proc, "data": data}
    finally:
        stop_chroma(proc)


@pytest.fixture(scope="module")
def remote(server, tmp_path_factory):
    """An Assistant whose index lives on the server (same corpus as the embedded session fixture)."""
    from assistant import Assistant

    base = tmp_path_factory.mktemp("remote")
    copy_corpus(base / "corpus")
    a = Assistant(corpus_dir=base / "corpus", data_dir=base / "data", chroma_host=server["host"],
                  chroma_port=server["port"], collection_prefix="t_remote", refresh_seconds=0)
    report = a.index()
    assert len(report.added) == 5
    assert not (base / "index").exists()  # nothing embedded on disk
    return a


def _comparable(answer) -> tuple:
    return (answer.status, answer.answer, [(c.doc_id, c.start, c.end, c.quote) for c in answer.citations])


def test_server_gives_the_same_answers_as_the_embedded_store(assistant, remote):
    """All 92 evaluation questions (with their history): identical status, answer and citations."""
    assert remote.store.client.get_settings().chroma_api_impl.endswith("FastAPI")  # over HTTP
    assert not assistant.store.client.get_settings().chroma_api_impl.endswith("FastAPI")  # embedded
    different = []
    for q in QUESTIONS:
        here, there = assistant.ask(q["question"], q.get("history")), remote.ask(q["question"], q.get("history"))
        if _comparable(here) != _comparable(there):
            different.append(q["id"])
    assert different == [], different
    assert {s["id"]: s["passages"] for s in remote.sources()} == {s["id"]: s["passages"] for s in assistant.sources()}


def test_cli_uses_chroma_host_and_port(server, remote, assistant):
    """``CHROMA_HOST``/``CHROMA_PORT`` (and the ``ASSISTANT_`` spelling) select the server; no local index."""
    base = remote.settings.corpus_dir.parent
    question = "Which bodies are bound by the duty to co-operate?"
    expected = assistant.ask(question).answer
    for names in (("CHROMA_HOST", "CHROMA_PORT"), ("ASSISTANT_CHROMA_HOST", "ASSISTANT_CHROMA_PORT")):
        env = app_env(base, **{names[0]: server["host"], names[1]: str(server["port"]),
                               "ASSISTANT_COLLECTION_PREFIX": "t_remote"})
        env["ASSISTANT_INDEX_DIR"] = str(base / "must-not-be-created")
        done = subprocess.run([sys.executable, "-m", "assistant", "ask", "--json", question], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["answer"] == expected
        assert not (base / "must-not-be-created").exists()


def test_several_instances_share_one_server(server, remote, tmp_path):
    """One managing instance and a read-only one (as on a second machine): the read-only instance
    notices the other's change within ASSISTANT_REFRESH_SECONDS, and refuses to change the library."""
    from assistant import Assistant
    from assistant.errors import InputError

    reader = Assistant(corpus_dir=tmp_path / "empty-corpus", data_dir=tmp_path / "data", chroma_host=server["host"],
                       chroma_port=server["port"], collection_prefix="t_remote", read_only=True, refresh_seconds=0.5)
    question = "Which governor did Testshire Primary nominate to the children's trust board?"
    assert reader.ask(question).status == "no_evidence"
    note = tmp_path / "testshire-note.txt"
    note.write_text("Governors in Testshire note\n\nThe governing body of Testshire Primary agreed to nominate Mrs "
                    "Patel, its chair, to the Testshire children's trust board in July 2008.\n", "utf-8")
    remote.add([note])
    try:
        time.sleep(0.6)
        got = reader.ask(question)
        assert got.status == "answered" and got.citations[0].doc_id == "testshire-note"
        for change in (lambda: reader.add([note]), lambda: reader.remove("testshire-note"), reader.index):
            with pytest.raises(InputError, match="read-only"):
                change()
    finally:
        remote.remove("testshire-note")
    time.sleep(0.6)
    assert reader.ask(question).status == "no_evidence"
    assert not (tmp_path / "empty-corpus").exists()  # the read-only instance wrote nothing


def test_the_app_runs_against_the_server(server, remote, tmp_path, assistant):
    from gradio_client import Client

    copy_corpus(tmp_path / "corpus")
    with running_app(tmp_path, CHROMA_HOST=server["host"], CHROMA_PORT=str(server["port"]),
                     ASSISTANT_COLLECTION_PREFIX="t_remote", ASSISTANT_READ_ONLY="true") as app:
        got = Client(app["url"], verbose=False).predict("What is a schools forum?", api_name="/ask")
    assert got["answer"] == assistant.ask("What is a schools forum?").answer
    assert not (tmp_path / "index").exists()


def test_the_server_talks_to_nothing_but_loopback(server, remote):
    """The Chroma server (a native binary: no Python audit hook sees it) has only loopback peers."""
    remote.ask("What is a schools forum?")
    peers = remote_peers(server["proc"].pid)
    assert peers and all(is_local_hex(p) for p in peers), peers
