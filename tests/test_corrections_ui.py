"""Readers' corrections and the question bank through the real app (issue 29 items 4 and 5): the app
(`python app.py`) in a subprocess on a copy of the corpus, driven over HTTP with gradio_client and in
headless Chromium with Playwright. Real model, real Chroma, nothing mocked.

* the loop: a question the library refuses, a correction pointing at a sentence (``/correct``), accepted in
  review (``/review``), and the next ask quotes that sentence first, with no restart;
* poisoning: 30 bad pending corrections change no answer, and rejecting them leaves the bank as it was;
* the browser: "Not helpful" → choose the sentence in the document viewer → "This answers my question" →
  the confirmation; the admin's review list shows it, and accepting it there changes the next answer.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from conftest import copy_corpus, running_app

PASSWORD = "corrections-test-password"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = "/usr/bin/chromium"
ANSWER_TIMEOUT_MS = 90_000
DOC = "cc-2008-07-schools-engage-ecm"
DUNFORD = "It was welcomed by John Dunford, general secretary of the Association of School and College Leaders"
REFUSED = "Do governors need training on this?"  # the library has nothing on it: refused before any correction
WAITING = "it won't change answers until a library manager accepts it"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    base = tmp_path_factory.mktemp("corrections-ui")
    copy_corpus(base / "corpus")
    with running_app(base, ASSISTANT_ADMIN_PASSWORD=PASSWORD) as served:
        yield {**served, "corpus": base / "corpus"}


@pytest.fixture(scope="module")
def client(app):
    from gradio_client import Client

    return Client(app["url"], verbose=False)


def _bank_files(corpus: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted((corpus / "bank").glob("*.toml"))}


def _answer(client, question: str) -> tuple:
    """What a reader sees: the status, the answer and each citation's source and offsets."""
    a = client.predict(question, api_name="/ask")
    return a["status"], a["answer"], [(c["doc_id"], c["start"], c["end"], c["quote"]) for c in a["citations"]]


def _offset(client, doc: str, sentence: str) -> int:
    text = client.predict(doc, api_name="/document")
    at = text.find(sentence)
    assert at >= 0, f"{sentence[:40]!r} is not in {doc}"
    return at


# ---- over HTTP ------------------------------------------------------------------------------------
def test_a_correction_accepted_in_review_answers_the_next_question_without_a_restart(app, client):
    question = "Is the colleges' association on board?"
    before = client.predict(question, api_name="/ask")
    assert before["status"] == "no_evidence", before["answer"]

    start = _offset(client, DOC, DUNFORD) + 10  # any character inside the sentence
    sent = client.predict(question, DOC, start, False, api_name="/correct")
    assert sent["kind"] == "answers" and sent["sentence"].startswith(DUNFORD) and sent["question"] == question
    assert client.predict(question, api_name="/ask")["status"] == "no_evidence"  # pending: nothing changes yet
    assert any(r["id"] == sent["id"] for r in client.predict(PASSWORD, api_name="/corrections"))

    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="admin password is not correct"):
        client.predict(sent["id"], "accept", "not-the-password", "", api_name="/review")
    assert client.predict(question, api_name="/ask")["status"] == "no_evidence"

    done = client.predict(sent["id"], "accept", PASSWORD, "", api_name="/review")
    assert done["action"] == "accept" and done["bank_size"] > 900
    assert question in (app["corpus"] / "bank" / "corrections.toml").read_text("utf-8")
    assert not any(r["id"] == sent["id"] for r in client.predict(PASSWORD, api_name="/corrections"))

    after = client.predict(question, api_name="/ask")  # the same running app: no restart
    assert after["status"] == "answered", after["answer"]
    first = after["citations"][0]
    text = client.predict(first["doc_id"], api_name="/document")
    assert first["doc_id"] == DOC and DUNFORD in text[first["start"]:first["end"]] == first["quote"]


def test_a_correction_must_point_at_a_sentence_of_the_library(client):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="No document with id 'no-such-doc'"):
        client.predict(REFUSED, "no-such-doc", 10, False, api_name="/correct")
    with pytest.raises(AppError, match="There is no sentence at character 999999"):
        client.predict(REFUSED, DOC, 999999, False, api_name="/correct")
    with pytest.raises(AppError, match="Say which document"):
        client.predict(REFUSED, "", None, False, api_name="/correct")
    with pytest.raises(AppError, match="admin password"):
        client.predict("", api_name="/corrections")


def test_a_flood_of_bad_corrections_changes_no_answer_and_rejecting_them_leaves_the_bank_unchanged(app, client):
    questions = ["Which bodies are bound by the duty to co-operate?", "When do the consultations close?",
                 "What did the ADCS say about the well-being duty?", "What duty did Ed Balls propose to place on schools?",
                 REFUSED]
    before = {q: _answer(client, q) for q in questions}
    assert sum(b[0] == "answered" for b in before.values()) == 4 and before[REFUSED][0] == "no_evidence"
    bank_before = _bank_files(app["corpus"])

    # each question pointed, six times over, at one wrong sentence: 30 corrections of the very questions asked.
    # Accepted, they would change two of these answers (the Ed Balls question would quote the March
    # consultation; the refused one would quote the local plans); pending, they must change none.
    text = client.predict(DOC, api_name="/document")
    wrong = [text.index(s) for s in ("John Chowcat, general secretary", "The proposal to bring schools under",
                                     "But children’s secretary Ed Balls said", "In March, the Department for Children",
                                     "Local children and young people’s plans")]
    sent = [client.predict(questions[k % 5], DOC, wrong[k % 5], False, api_name="/correct") for k in range(30)]
    assert len({s["id"] for s in sent}) == 30
    pending = {r["id"] for r in client.predict(PASSWORD, api_name="/corrections")}
    assert {s["id"] for s in sent} <= pending

    assert {q: _answer(client, q) for q in questions} == before  # pending corrections change nothing
    assert _bank_files(app["corpus"]) == bank_before

    for s in sent:
        assert client.predict(s["id"], "reject", PASSWORD, "", api_name="/review")["action"] == "reject"
    assert not {s["id"] for s in sent} & {r["id"] for r in client.predict(PASSWORD, api_name="/corrections")}
    assert _bank_files(app["corpus"]) == bank_before  # byte for byte: nothing written
    assert {q: _answer(client, q) for q in questions} == before


# ---- in the browser ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def page(app):
    if not Path(CHROMIUM).exists() and not os.environ.get("CI"):
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        context = browser.new_context(viewport={"width": 1366, "height": 900})
        pg = context.new_page()
        pg.set_default_timeout(30_000)
        pg.goto(app["url"])
        pg.wait_for_selector("#conversation .starter")
        yield pg
        browser.close()


def _tab(page, tab_id: str) -> None:
    page.locator(f"button[role=tab][data-tab-id={tab_id}]:visible").first.click()


def _ask(page, question: str, turn: int) -> None:
    page.fill("#question textarea", question)
    page.keyboard.press("Enter")
    page.wait_for_selector(f"#turn-{turn}[data-state=done]", timeout=ANSWER_TIMEOUT_MS)


def test_browser_not_helpful_then_this_answers_my_question_then_the_admin_accepts_it(page, app, client):
    question = "What was the reaction of the unions?"
    _ask(page, question, 0)
    assert page.locator("#turn-0 .a-abstained").count() == 1  # refused before the correction
    page.click("#turn-0 .fb-btn[data-rating=down]")
    page.wait_for_selector("#turn-0 .fix .fix-doc")
    page.select_option("#fix-doc-0", DOC)
    page.click("#turn-0 [data-action=fixdoc]")
    page.wait_for_selector(f"#source-view .src-pick[data-doc='{DOC}'] button.sent")
    assert page.locator("#source-view .pick-send").is_disabled()  # nothing chosen yet
    assert question in page.text_content("#source-view .pick-q")

    # the sentences can be reached and chosen with the keyboard: one tab stop, arrow keys, Enter
    page.focus("#source-view button.sent[tabindex='0']")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    second = page.locator("#source-view button.sent").nth(1)
    assert second.get_attribute("aria-pressed") == "true"
    assert second.text_content() in page.text_content("#source-view .pick-chosen")

    page.locator("#source-view button.sent", has_text="John Dunford").click()
    assert "John Dunford" in page.text_content("#source-view .pick-chosen")
    page.click("#source-view .pick-send")
    page.wait_for_selector("#source-view .msg-ok")
    assert WAITING in page.text_content("#source-view .msg-ok")
    page.wait_for_selector("#turn-0 .fix-done")
    assert "sent for review" in page.text_content("#turn-0 .fix-done")

    page.screenshot(path=str(ARTIFACTS / "desktop-corrections-1-picker.png"))

    # the review list shows it; the admin rewords the question and accepts it, which answers the next question
    _tab(page, "admin")
    page.fill("#admin-password input", PASSWORD)
    page.get_by_text("Corrections to review").click()
    page.click("#review-show")
    item = page.locator("#review-list .rv-item", has_text=question)
    item.wait_for()
    assert "John Dunford" in item.locator(".rv-sentence").text_content()
    assert "This sentence answers it" in item.text_content()
    item.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "desktop-corrections-2-review.png"))
    edited = "How did the unions react to the duty to co-operate?"
    item.locator(".rv-edit").fill(edited)
    item.locator("[data-do=edit]").click()
    page.wait_for_selector("#review-list .msg-ok")
    assert "edited question" in page.text_content("#review-list .msg-ok")
    assert page.locator("#review-list .rv-item", has_text=question).count() == 0
    kept = (app["corpus"] / "bank" / "corrections.toml").read_text("utf-8")
    assert edited in kept and question not in kept

    after = client.predict(edited, api_name="/ask")
    assert after["status"] == "answered" and DUNFORD in after["citations"][0]["quote"]


def test_browser_the_documents_dont_cover_this(page):
    _tab(page, "ask")
    page.click("#clear-btn")
    page.wait_for_selector("#conversation .welcome")
    _ask(page, "Which bodies are bound by the duty to co-operate?", 0)
    page.click("#turn-0 .fb-btn[data-rating=down]")
    page.click("#turn-0 [data-action=notcovered]")
    page.wait_for_selector("#turn-0 .fix-done")
    assert WAITING in page.text_content("#turn-0 .fix-done")
    _tab(page, "admin")
    page.click("#review-show")
    item = page.locator("#review-list .rv-item", has_text="Which bodies are bound by the duty to co-operate?")
    item.wait_for()
    assert "The documents don't cover this" in item.text_content()
    item.locator("[data-do=reject]").click()
    page.wait_for_selector("#review-list .msg-ok")
    assert "Rejected" in page.text_content("#review-list .msg-ok")
    page.screenshot(path=str(ARTIFACTS / "desktop-corrections-3-rejected.png"))


def _open_bank(page) -> None:
    """Manage library → Question bank, with this test document chosen."""
    _tab(page, "admin")
    page.fill("#admin-password input", PASSWORD)
    if page.locator("#bank-view .bk-sent").count():
        return
    page.get_by_text("Question bank", exact=True).click()
    page.click("#bank-doc input")
    page.get_by_role("option", name=f"({DOC})").click()
    page.wait_for_selector("#bank-view .bk-sent")


def test_browser_question_bank_lists_a_documents_sentences_and_adds_a_question_that_answers_at_once(page, client):
    question = "Which union leader had worries about it?"
    assert client.predict(question, api_name="/ask")["status"] == "no_evidence"
    _open_bank(page)
    sentence = page.locator("#bank-view .bk-sent", has_text="John Chowcat, general secretary")
    sentence.wait_for()
    assert page.locator("#bank-view .bk-sent").count() == 13  # every sentence of the document, in order
    assert sentence.locator(".bk-qs li").count() >= 6  # its bank questions
    headline = page.locator("#bank-view .bk-sent").first  # the headline has none: it answers as before
    assert "No bank questions yet" in headline.text_content()

    sentence.locator(".bk-add").fill(question)
    sentence.locator("[data-action=addq]").click()
    page.wait_for_selector("#bank-view .msg-ok")
    assert "answers from the next question on" in page.text_content("#bank-view .msg-ok")
    sentence = page.locator("#bank-view .bk-sent", has_text="John Chowcat, general secretary")
    assert question in [li.text_content() for li in sentence.locator(".bk-qs li").all()]

    page.screenshot(path=str(ARTIFACTS / "desktop-corrections-4-bank.png"))
    after = client.predict(question, api_name="/ask")
    assert after["status"] == "answered" and "John Chowcat" in after["citations"][0]["quote"]


def test_browser_adding_a_bank_question_needs_the_admin_password(page, app):
    before = _bank_files(app["corpus"])
    _open_bank(page)
    page.fill("#admin-password input", "wrong password")
    box = page.locator("#bank-view .bk-sent").nth(2)
    box.locator(".bk-add").fill("A question nobody should be able to add")
    box.locator("[data-action=addq]").click()
    page.wait_for_selector("#bank-view .msg-error")
    assert "admin password is not correct" in page.text_content("#bank-view .msg-error")
    assert _bank_files(app["corpus"]) == before
