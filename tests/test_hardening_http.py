"""Issue 30, items 12 and 13, over HTTP against the real app (``python app.py`` in a subprocess).

* 12: one rating per answer per session. The UI's own events (ask, then "feedback" on the answer) are sent
  the way the page sends them (Gradio's ``/run/predict``, ``/queue/join`` and the ``/queue/data`` stream), 300
  times with 2,000-character comments: the feedback database keeps one row, the last rating; another session
  rating the same answer has a row of its own. "Not helpful" corrections are one per answer per session too.
* 11: a rating's comment and question with personal data (lower-case names, 0044 numbers, an NHS number,
  an address) are stored without it: the feedback database's bytes hold none of the details.
* 13: a bad id on ``/document`` answers with a plain not-found message and writes one log line, no traceback
  (the server's stdout and stderr are captured in its log file).
"""
from __future__ import annotations

import sqlite3

import httpx
import pytest

from conftest import Page, running_app, seed_corpus

SEEDS = ("dcsf-2008-07-03-letter", "cc-2008-07-balls-duty-to-cooperate")
QUESTION = "Can the local authority make schools co-operate?"
PASSWORD = "correct horse battery staple 30"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """Two seed documents, a built index, and the real app serving them (admin password set)."""
    from assistant import Assistant

    base = tmp_path_factory.mktemp("http30")
    corpus = seed_corpus(base / "corpus", SEEDS)
    Assistant(corpus_dir=corpus, index_dir=base / "index", data_dir=base / "data", refresh_seconds=0).index()
    with running_app(base, ASSISTANT_ADMIN_PASSWORD=PASSWORD) as served:
        yield {**served, "base": base}


def _feedback_rows(base) -> list[tuple]:
    with sqlite3.connect(base / "data" / "feedback.sqlite3") as db:
        return db.execute("SELECT rating, comment, question FROM feedback ORDER BY id").fetchall()


def test_one_rating_per_answer_per_session(app):
    first = Page(app["url"])
    first.ask(QUESTION)
    for batch in range(6):  # 300 ratings of the one answer, each with a 2,000-character comment
        first.rate([("up" if i % 2 else "down", f"{batch}-{i} " + "x" * 1990) for i in range(50)])
    first.rate([("down", "The last word: it missed the point.")])
    rows = _feedback_rows(app["base"])
    assert len(rows) == 1, f"{len(rows)} rows stored for one answer in one session"
    assert rows[0][:2] == ("down", "The last word: it missed the point."), rows[0][:2]  # the later one replaced it

    second = Page(app["url"])  # another reader, the same question: a rating of their own
    second.ask(QUESTION)
    second.rate([("up", "")] * 5)
    rows = _feedback_rows(app["base"])
    assert [r[0] for r in rows] == ["down", "up"], rows

    # "Not helpful" then "The documents don't cover this", sent 40 times: one correction on the review list
    first.not_covered(40)
    from gradio_client import Client

    pending = Client(app["url"], verbose=False).predict(PASSWORD, api_name="/corrections")
    assert len(pending) == 1, f"{len(pending)} corrections waiting for one answer in one session"


def test_a_rating_with_personal_data_is_stored_without_it(app):
    page = Page(app["url"])
    page.ask("my pupil jack smith is in care: can the local authority make schools co-operate?")
    page.rate([("down", "Tom Baker has ADHD and was excluded twice; his dad is on 0044 7700 900456, "
                        "NHS number 943 476 5919, they live at 12 Oak Road")])
    assert any("removed]" in r[1] for r in _feedback_rows(app["base"]))
    stored = b"".join(p.read_bytes() for p in (app["base"] / "data").rglob("*") if p.is_file())
    for detail in ("jack smith", "Tom Baker", "7700 900456", "943 476 5919", "12 Oak Road"):
        assert detail.encode() not in stored, detail


@pytest.mark.parametrize("bad", ["no-such-document", "../../etc/passwd", "x" * 5000, 7])
def test_a_bad_document_id_is_one_log_line_not_a_traceback(app, bad):
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    log = app["log"]
    before = log.read_text()
    with pytest.raises(AppError) as caught:
        Client(app["url"], verbose=False).predict(bad, api_name="/document")
    assert str(caught.value).startswith("No document with id"), caught.value
    assert len(str(caught.value)) < 200, "the message echoes the whole id"
    r = httpx.post(app["url"] + "gradio_api/run/document", json={"data": [bad]}, timeout=60)
    assert r.status_code >= 400 and "No document with id" in r.text, (r.status_code, r.text[:300])
    added = log.read_text()[len(before):]
    assert "Traceback" not in added, added[-3000:]
    lines = [ln for ln in added.splitlines() if ln.strip()]
    assert len(lines) == 2 and all("No document with id" in ln for ln in lines), lines  # one per request
    assert all(len(ln) < 300 for ln in lines), lines
