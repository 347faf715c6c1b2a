"""Several machines sharing one library (issue 33, item 3), as real processes over HTTP: one Chroma server
(``chroma run``), one managing instance (``app.py`` with the admin password) and two answering instances
(``app.py`` with ``ASSISTANT_READ_ONLY``), all on the one server.

* An upload on the manager is answered by both answering instances: every question asked once the refresh
  period (``ASSISTANT_REFRESH_SECONDS``) has passed after the upload quotes the new document.
* A rating and a "not covered" correction taken by each answering instance (the page's own events) are on the
  manager's lists (``/feedback`` and ``/corrections``, admin password) and in its CSV export (``assistant
  feedback --csv``), personal details removed; the answering instances keep no feedback file of their own.
* While the server is stopped an answering instance says so in one line naming the server; once it is started
  again on the same data, the same instance answers as before.

One set of processes serves every test of this file (they run in order).
"""
from __future__ import annotations

import contextlib
import os
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import CHROMA, Page, free_port, run_cli, running_app, seed_corpus, start_chroma, stop_chroma

pytestmark = pytest.mark.skipif(CHROMA is None and not os.environ.get("CI"),
                                reason="the chroma CLI (pip install chromadb) is not on PATH")

SEEDS = ("dcsf-2008-07-03-letter", "cc-2008-07-balls-duty-to-cooperate")
PASSWORD = "one library, three machines"
REFRESH = 1.0  # ASSISTANT_REFRESH_SECONDS of every instance
PREFIX = "t_fleet"
NEW_QUESTION = "Which governor did Testshire Primary nominate to the children's trust board?"
NEW_DOC = ("Governors in Testshire note\n\nThe governing body of Testshire Primary agreed to nominate Mrs Patel, "
           "its chair, to the Testshire children's trust board in July 2008.\n")
QUESTION = "Can the local authority make schools co-operate?"


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    """The server with two seed documents indexed on it, and the three app processes, started together."""
    from assistant import Assistant
    from gradio_client import Client

    base = tmp_path_factory.mktemp("fleet")
    (base / "chroma").mkdir()
    port = free_port()
    state = {"base": base, "port": port, "proc": start_chroma(base / "chroma", port)}
    state["server"] = server = {"CHROMA_HOST": "127.0.0.1", "CHROMA_PORT": str(port), "ASSISTANT_COLLECTION_PREFIX": PREFIX,
              "ASSISTANT_REFRESH_SECONDS": str(REFRESH), "ASSISTANT_CHROMA_TIMEOUT": "3"}
    try:
        corpus = seed_corpus(base / "manager" / "corpus", SEEDS)
        Assistant(corpus_dir=corpus, data_dir=base / "manager" / "data", chroma_host="127.0.0.1", chroma_port=port,
                  collection_prefix=PREFIX, refresh_seconds=0).index()
        roles = {"manager": {"ASSISTANT_ADMIN_PASSWORD": PASSWORD},
                 "reader1": {"ASSISTANT_READ_ONLY": "1"}, "reader2": {"ASSISTANT_READ_ONLY": "1"}}
        for role in roles:
            (base / role).mkdir(exist_ok=True)  # an answering instance needs no corpus: only its log is here
        with contextlib.ExitStack() as stack, ThreadPoolExecutor(len(roles)) as pool:
            started = {role: pool.submit(stack.enter_context, running_app(base / role, **server, **extra))
                       for role, extra in roles.items()}
            for role, future in started.items():
                state[role] = future.result()
                state[role]["client"] = Client(state[role]["url"], verbose=False)
            yield state
    finally:
        stop_chroma(state["proc"])


def _ask(app: dict, question: str) -> dict | str:
    """The /ask API's answer, or the message of the error it raised."""
    from gradio_client.exceptions import AppError

    try:
        return app["client"].predict(question, api_name="/ask")
    except AppError as exc:
        return str(exc)


def _cites(got, doc_id: str) -> bool:
    return isinstance(got, dict) and got["status"] == "answered" and doc_id in {c["doc_id"] for c in got["citations"]}


def test_an_upload_on_the_manager_is_answered_by_both_answering_instances(fleet):
    from gradio_client import handle_file

    readers = [fleet["reader1"], fleet["reader2"]]
    for app in readers:
        assert not _cites(_ask(app, NEW_QUESTION), "testshire-note")
    note = fleet["base"] / "testshire-note.txt"
    note.write_text(NEW_DOC, "utf-8")
    message, *_ = fleet["manager"]["client"].predict(
        handle_file(str(note)), "Testshire note", "2008-07-20", "news report", "news report of proposals",
        "Test Publisher", PASSWORD, api_name="/add_document")
    added = time.monotonic()
    assert "msg-ok" in message, message
    for app in readers:  # asked until answered; a question asked once the refresh period is over must be
        while True:
            asked = time.monotonic()
            got = _ask(app, NEW_QUESTION)
            if _cites(got, "testshire-note"):
                break
            assert asked - added < REFRESH + 0.2, f"still not answered {asked - added:.1f} s after the upload: {got}"
            time.sleep(0.1)
        print(f"{app['url']}: answered from the upload {time.monotonic() - added:.1f} s after it")


def test_feedback_and_corrections_from_each_answering_instance_reach_the_manager(fleet):
    from gradio_client import Client

    for n, role in enumerate(("reader1", "reader2"), 1):
        page = Page(fleet[role]["url"])
        page.ask(QUESTION)
        page.rate([("up", "")])
        page.rate([("down", f"reader {n}: Tom Baker says it missed the point, ring 07700 900456")])  # replaces it
        page.not_covered(1)
    manager = Client(fleet["manager"]["url"], verbose=False)
    ratings = manager.predict(PASSWORD, api_name="/feedback")
    assert sorted((r["rating"], r["comment"][:9]) for r in ratings) == [("down", "reader 1:"), ("down", "reader 2:")]
    for r in ratings:
        assert "removed]" in r["comment"] and "Tom Baker" not in r["comment"] and "900456" not in r["comment"]
        assert r["question"] == QUESTION and r["answer"]
    pending = manager.predict(PASSWORD, api_name="/corrections")
    assert [(c["question"], c["kind"]) for c in pending] == [(QUESTION, "not_covered")] * 2
    with pytest.raises(Exception, match="switched off"):  # an answering instance shows no one the list
        Client(fleet["reader1"]["url"], verbose=False).predict("", api_name="/feedback")

    out = fleet["base"] / "feedback.csv"  # the manager's export: `assistant feedback --csv` on its machine
    done = run_cli(["feedback", "--csv", str(out)], fleet["server"] | {
        "ASSISTANT_CORPUS_DIR": str(fleet["base"] / "manager" / "corpus"),
        "ASSISTANT_DATA_DIR": str(fleet["base"] / "manager" / "data")})
    assert done.returncode == 0 and done.stdout.startswith("2 ratings written"), done.stdout + done.stderr
    assert "reader 1:" in out.read_text("utf-8-sig") and "reader 2:" in out.read_text("utf-8-sig")
    for role in ("reader1", "reader2"):  # nothing stored on the answering machines
        assert not (fleet["base"] / role / "data" / "feedback.sqlite3").exists()


def test_an_answering_instance_says_the_server_is_down_and_answers_once_it_is_back(fleet):
    reader = fleet["reader1"]
    before = _ask(reader, QUESTION)
    assert before["status"] == "answered"
    stop_chroma(fleet["proc"])
    try:
        got = _ask(reader, QUESTION)
    finally:
        fleet["proc"] = start_chroma(fleet["base"] / "chroma", fleet["port"])  # the same data and port
    assert isinstance(got, str), got
    assert len(got.splitlines()) == 1 and "Traceback" not in got and "Error" not in got, got
    assert f"index server (Chroma at http://127.0.0.1:{fleet['port']}) cannot be reached" in got, got
    after = _ask(reader, QUESTION)
    assert isinstance(after, dict), after
    assert (after["answer"], after["citations"]) == (before["answer"], before["citations"])
    assert fleet["reader1"]["proc"].poll() is None and fleet["reader2"]["proc"].poll() is None
