"""A bounded run of the load test (``python -m evals.load``): 20 concurrent gradio_client clients,
40 questions, over loopback against the real app. Asserts no errors; timings are printed, not asserted."""
from __future__ import annotations

import json
import subprocess
import sys
import time

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


def test_questions_are_answered_while_a_document_is_indexed(tmp_path):
    """An admin upload must not freeze everyone's questions: while a large document is being indexed
    through the app, a question is answered from the library as it was (the new document is not yet
    quoted), before the upload finishes; once it is published, the next question can quote it."""
    from gradio_client import Client, handle_file

    from conftest import copy_corpus, running_app, synthetic_documents

    copy_corpus(tmp_path / "corpus")
    big = synthetic_documents(tmp_path / "upload", 1, sentences=4000, seed=7)[0]
    with running_app(tmp_path, ASSISTANT_ADMIN_PASSWORD="pw") as app:
        client = Client(app["url"], verbose=False)
        question = "Which duty did the government propose to extend to schools?"
        assert client.predict(question, api_name="/ask")["status"] == "answered"  # the library is loaded
        upload = client.submit(handle_file(str(big)), "Parish notes", "2008-05-01", None, None, "", "pw",
                               api_name="/add_document")
        manifest = tmp_path / "corpus" / "sources.toml"
        deadline = time.monotonic() + 120
        while "parish-notes-0000" not in manifest.read_text("utf-8") and not upload.done():  # indexing has begun
            assert time.monotonic() < deadline, app["log"].read_text()[-2000:]
            time.sleep(0.1)
        answer = client.predict(question, api_name="/ask")
        still_indexing = not upload.done()
        assert answer["status"] == "answered", answer
        assert still_indexing, "the question waited for the whole upload to be indexed"
        assert all(c["doc_id"] != "parish-notes-0000" for c in answer["citations"]), answer
        message = upload.result(timeout=600)[0]
        assert "msg-ok" in message, message
        after = client.predict("What did the surveyors count along the edge near marker 0-5?", api_name="/ask")
        assert any(c["doc_id"] == "parish-notes-0000" for c in after["citations"]), after
