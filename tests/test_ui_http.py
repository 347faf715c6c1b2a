"""The web UI over HTTP: the real app (`python app.py`) in a subprocess, driven with gradio_client.

Also covers the UI's own modules that need no server: feedback storage/CSV, Markdown/PDF export and
HTML escaping.
"""
from __future__ import annotations

import csv
import json
import re
import urllib.request
from pathlib import Path

import pytest

from conftest import copy_corpus, running_app

PASSWORD = "test-admin-password"


# ---- fixtures: the real app in a subprocess -----------------------------------------------------------
@pytest.fixture(scope="module")
def app(tmp_path_factory):
    base = tmp_path_factory.mktemp("ui-http")
    copy_corpus(base / "corpus")
    with running_app(base, ASSISTANT_ADMIN_PASSWORD=PASSWORD) as served:
        yield {**served, "corpus": base / "corpus", "data": base / "data"}


@pytest.fixture(scope="module")
def client(app):
    from gradio_client import Client

    return Client(app["url"], verbose=False)


def _snapshot(corpus: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(corpus.iterdir()) if p.is_file()}


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


# ---- HTTP ---------------------------------------------------------------------------------------------
def test_home_page_is_served(app):
    with urllib.request.urlopen(app["url"], timeout=10) as r:
        assert r.status == 200
        body = r.read().decode("utf-8", "replace")
    assert "2008 proposals assistant" in body  # the page title


def test_api_lists_named_endpoints(client):
    names = set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])
    assert {"/ask", "/sources", "/document", "/add_document", "/remove_document"} <= names


def test_ask_returns_cited_verbatim_quotes(app, client):
    result = client.predict("What duty did Ed Balls propose to place on schools?", api_name="/ask")
    from assistant.models import Answer

    answer = Answer.model_validate(result)  # the same JSON object as `assistant ask --json`
    assert set(result) == set(Answer.model_fields) | set(Answer.model_computed_fields)  # + markers (issue 12)
    assert answer.status == "answered" and not answer.abstained
    assert answer.citations, "an answer must cite its sources"
    assert answer.notice
    docs = {s["id"]: s for s in client.predict(api_name="/sources")}
    for c in answer.citations:
        assert f"[{c.n}]" in answer.answer
        text = client.predict(c.doc_id, api_name="/document")
        assert text[c.start:c.end] == c.quote
        assert c.quote in text
        # and independently of the app: the quote's words are in the file on disk
        raw = (app["corpus"] / docs[c.doc_id]["file"]).read_text("utf-8")
        assert _norm(c.quote) in _norm(raw)


def test_follow_up_uses_history(client):
    first = "What duty did Ed Balls propose to place on schools?"
    history = [{"role": "user", "content": first},
               {"role": "assistant", "content": "Schools under a duty to co-operate. [1]"}]
    result = client.predict("What about academies?", history, api_name="/ask")
    assert result["status"] == "answered"
    # the follow-up's word takes the place of the matching phrase of the previous question
    assert result["standalone_question"] == "What duty did Ed Balls propose to place on academies?"
    # history may also be given as a JSON string, or left out
    again = client.predict("What about academies?", json.dumps(history), api_name="/ask")
    assert again["standalone_question"] == result["standalone_question"]
    alone = client.predict("What about academies?", api_name="/ask")
    assert first not in (alone["standalone_question"] or "")


def test_abstains_when_documents_do_not_cover_it(client):
    result = client.predict("What is the capital of France?", api_name="/ask")
    assert result["abstained"] is True
    assert result["status"] == "no_evidence"
    assert result["citations"] == []
    assert "cover" in result["message"]  # says what the library does cover


def test_bad_history_is_refused_plainly(client):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="history"):
        client.predict("What about academies?", "not json", api_name="/ask")


def _upload_args(path: Path, password: str):
    from gradio_client import handle_file

    return (handle_file(str(path)), "Uploaded test", "2008-07-20", "news report", "news report of proposals",
            "Test Publisher", password)


def _new_doc(tmp_path: Path) -> Path:
    doc = tmp_path / "governors-testshire-note.txt"
    doc.write_text("Governors in Testshire note\n\nThe governing body of Testshire Primary discussed the "
                   "duty to co-operate with the local authority at its meeting in July 2008, and agreed to "
                   "nominate a governor to the Testshire children's trust board.\n", "utf-8")
    return doc


@pytest.mark.parametrize("password", ["", "wrong-password"])
def test_upload_refused_without_admin_password(app, client, tmp_path, password):
    before_files, before_sources = _snapshot(app["corpus"]), client.predict(api_name="/sources")
    message, *_ = client.predict(*_upload_args(_new_doc(tmp_path), password), api_name="/add_document")
    assert "password" in message and "not been changed" in message
    assert "msg-error" in message
    assert _snapshot(app["corpus"]) == before_files
    assert client.predict(api_name="/sources") == before_sources


def test_remove_refused_without_admin_password(app, client):
    before_files, before_sources = _snapshot(app["corpus"]), client.predict(api_name="/sources")
    message, *_ = client.predict("dcsf-2008-07-03-letter", "nope", api_name="/remove_document")
    assert "password" in message and "not been changed" in message
    assert _snapshot(app["corpus"]) == before_files
    assert client.predict(api_name="/sources") == before_sources


def test_admin_can_add_then_remove_a_document(app, client, tmp_path):
    before_files = _snapshot(app["corpus"])
    message, library_html, *_ = client.predict(*_upload_args(_new_doc(tmp_path), PASSWORD), api_name="/add_document")
    assert "msg-ok" in message, message
    added = {s["id"]: s for s in client.predict(api_name="/sources")}["governors-testshire-note"]
    assert added["title"] == "Uploaded test" and added["status"] == "news report of proposals"
    assert "Uploaded test" in library_html
    result = client.predict("Which governor did Testshire Primary nominate to the children's trust board?",
                            api_name="/ask")
    assert any(c["doc_id"] == "governors-testshire-note" for c in result["citations"])

    # a file that can't be used is refused plainly and nothing changes
    from gradio_client.exceptions import AppError

    middle = _snapshot(app["corpus"])
    broken = tmp_path / "broken-minutes.pdf"
    broken.write_bytes(b"this is not really a PDF")
    message, *_ = client.predict(*_upload_args(broken, PASSWORD), api_name="/add_document")
    assert "msg-error" in message and "not been changed" in message, message
    exe = tmp_path / "notes.exe"
    exe.write_text("x")
    with pytest.raises(AppError, match="file type"):
        client.predict(*_upload_args(exe, PASSWORD), api_name="/add_document")
    assert _snapshot(app["corpus"]) == middle

    message, *_ = client.predict("governors-testshire-note", PASSWORD, api_name="/remove_document")
    assert "msg-ok" in message, message
    assert "governors-testshire-note" not in {s["id"] for s in client.predict(api_name="/sources")}
    assert _snapshot(app["corpus"]) == before_files  # the manifest too, byte for byte


# ---- the UI's own modules (no server) -----------------------------------------------------------------
def _answer_dump(quote_text: str = "Schools will <b>co-operate</b> & more.") -> dict:
    return {
        "id": None, "question": "Who <script>alert(1)</script>?", "answer": f"{quote_text} [1]", "abstained": False,
        "status": "answered", "message": None, "notice": "Based on 2008 proposals; not legal advice.",
        "citations": [{"n": 1, "doc_id": "d1", "title": "Title <i>x</i>", "publisher": "Pub \"q\"",
                       "date": "2008-07-04", "date_approximate": True, "display_date": "c. July 2008",
                       "kind": "news report", "status": "news report of proposals", "label": "L",
                       "quote": quote_text, "location": "paragraph 2", "paragraph": 2, "start": 0,
                       "end": len(quote_text), "score": 0.7}],
        "standalone_question": "Who <script>alert(1)</script>?", "mode": "extractive", "timings_ms": {},
    }


def test_feedback_is_stored_and_exported_as_csv(tmp_path):
    from assistant import get_settings
    from assistant.library.feedback import export_csv, record, rows

    settings = get_settings(data_dir=tmp_path / "data")
    record(_answer_dump(), "up", "Useful", settings)
    record(_answer_dump(), "down", "=HYPERLINK(\"http://x\")", settings)
    got = rows(settings)
    assert [r["rating"] for r in got] == ["up", "down"]
    assert json.loads(got[0]["citations"])[0]["quote"] == "Schools will <b>co-operate</b> & more."
    assert (tmp_path / "data" / "feedback.sqlite3").exists()
    out = tmp_path / "feedback.csv"
    assert export_csv(out, settings) == 2
    with out.open(encoding="utf-8-sig", newline="") as fh:
        table = list(csv.DictReader(fh))
    assert table[0]["comment"] == "Useful" and table[0]["question"].startswith("Who <script>")
    assert table[1]["comment"].startswith("'=")  # no spreadsheet formula injection
    with pytest.raises(Exception, match="Rating"):
        record(_answer_dump(), "meh", "", settings)


def test_export_markdown_and_pdf(tmp_path):
    from pypdf import PdfReader

    from assistant.export import to_markdown, write_pdf

    abstained = {**_answer_dump(), "abstained": True, "status": "no_evidence", "citations": [],
                 "message": "The documents in this library don't cover that."}
    turns = [{"question": "Who co-operates?", "answer": _answer_dump("Schools will co-operate “fully” – now.")},
             {"question": "Capital of France?", "answer": abstained},
             {"question": "pending one", "pending": True}]
    md = to_markdown(turns)
    assert "## 1. Who co-operates?" in md and "“Schools will co-operate “fully” – now.”" in md
    assert "c. July 2008" in md and "news report of proposals" in md and "paragraph 2" in md
    assert "Not answered from the documents" in md and "pending one" not in md
    pdf = write_pdf(turns, tmp_path / "c.pdf")
    assert pdf.read_bytes().startswith(b"%PDF")
    text = _norm(" ".join(p.extract_text() for p in PdfReader(str(pdf)).pages))
    assert "Who co-operates?" in text and "fully" in text and "not legal advice" in text.lower()


def test_html_escapes_user_and_document_text():
    from assistant.interfaces.web import render_conversation, render_source

    html = render_conversation([{"question": "<img src=x onerror=alert(1)>", "answer": _answer_dump()}])
    assert "<img" not in html and "<script>" not in html and "<i>x</i>" not in html and "<b>co" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    text = "Intro. <script>bad()</script> Schools will co-operate. End."
    start = text.index("Schools")
    src = render_source({"id": "d\"1", "title": "<t>", "status": "x", "kind": "k", "date": "", "display_date": "",
                         "publisher": "<p>"}, text, (start, start + len("Schools will co-operate.")), 1, "turn-0")
    assert "<script>" not in src and "&lt;script&gt;" in src and "<t>" not in src
    assert '<mark class="hl" id="hl" tabindex="-1">Schools will co-operate.</mark>' in src


def test_upload_without_date_or_status_says_how_to_set_them(app, client, tmp_path):
    """The upload form's date and status are optional; left empty, the document is undated (not the
    file's date), status not recorded, and the admin is told so and where on the form to set them (the
    form's fields, not the CLI's flags: tests/test_admin_words.py)."""
    from gradio_client import handle_file

    note = tmp_path / "harbour-rota.txt"
    note.write_text("Harbour rota\n\nThe harbour volunteers will repaint the lighthouse railings each May.\n", "utf-8")
    message, *_ = client.predict(handle_file(str(note)), "", "", None, None, "", PASSWORD, api_name="/add_document")
    try:
        assert "msg-ok" in message and "without its date or status" in message and "Date and Status" in message, message
        assert "--date" not in message and "sources.toml" not in message, message
        row = {s["id"]: s for s in client.predict(api_name="/sources")}["harbour-rota"]
        assert row["display_date"] == "undated" and row["status"] == "unspecified"
    finally:
        client.predict("harbour-rota", PASSWORD, api_name="/remove_document")


def test_a_question_about_a_document_gets_its_record_apart_from_the_quotes(client):
    """Over HTTP: the record is its own field and opens the answer; rendered, it is a labelled line of
    its own, and the quotes after it keep their source buttons."""
    from assistant.interfaces.web_html import render_conversation

    result = client.predict("Who signed the government letter, and when was it sent?", api_name="/ask")
    assert result["status"] == "answered"
    assert result["record"].startswith("Library record (not a quote):") and "Ed Balls" in result["record"]
    assert result["answer"].startswith(result["record"])
    assert all("Library record" not in c["quote"] for c in result["citations"])
    html = render_conversation([{"question": result["question"], "answer": result}])
    record_line = html.split('<p class="a-record">', 1)[1].split("</p>", 1)[0]
    assert "Ed Balls" in record_line and 'data-action="cite"' not in record_line
    quotes = html.split('<p class="a-text">', 1)[1].split("</p>", 1)[0]
    assert "Library record" not in quotes and 'data-n="1"' in quotes


def test_a_first_question_in_everyday_words_is_not_called_a_follow_up(client):
    """A first question whose everyday words were given the documents' words ("family doctors (GPs)") is
    searched as reworded, and the UI says so, but it is not a follow-up and offers no "Ask as a new
    question". A follow-up says so: one searched with the earlier question as context names that question
    (not the whole search text), one rewritten into a question of its own shows it."""
    from assistant.interfaces.web_html import render_conversation

    first = client.predict("Do family doctors have to co-operate with schools?", api_name="/ask")
    assert first["follow_up"] is False and "(GPs)" in first["standalone_question"]
    html = render_conversation([{"question": first["question"], "answer": first}])
    assert '<p class="reworded">' in html and "(GPs)" in html.split('<p class="reworded">', 1)[1].split("</p>", 1)[0]
    assert "Read as a follow-up" not in html and 'data-action="reask"' not in html
    earlier = "What did the Local Government Association say about new legislation on children's trusts?"
    later = client.predict("Did they support any part of it?", [{"role": "user", "content": earlier}], api_name="/ask")
    assert later["follow_up"] is True and later["read_with"] == earlier  # searched with it as context
    html = render_conversation([{"question": earlier, "answer": first}, {"question": later["question"], "answer": later}])
    line = html.split('id="turn-1"', 1)[1].split('<p class="searched">', 1)[1].split("</p>", 1)[0]
    assert line.startswith("Read as a follow-up to <q>What did the Local Government Association")  # not the search text
    assert 'data-action="reask" data-turn="1"' in line
    rewritten = client.predict("What about academies?", [{"role": "user", "content": "Will schools have a duty to co-operate?"}],
                               api_name="/ask")  # an ellipsis: rewritten into a question of its own, shown as such
    assert rewritten["follow_up"] is True and rewritten["read_with"] is None
    html = render_conversation([{"question": "What about academies?", "answer": rewritten}])
    assert f'Read as a follow-up: <q>{rewritten["standalone_question"]}</q>' in html
