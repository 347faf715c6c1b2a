"""The web UI in a real headless browser (Playwright + the system Chromium), against the real app.

Screenshots go to tests/artifacts/ (desktop 1366x900 and phone 390x844).
"""
from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from conftest import copy_corpus, running_app

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
ANSWER_TIMEOUT_MS = 90_000
QUESTION = "Which bodies are bound by the duty to co-operate?"

# Outside CI a missing browser skips; in CI (.ci/run sets CI) it fails, so the UI is always checked there.
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists() and not os.environ.get("CI"),
                                reason=f"{CHROMIUM} not installed (apt-get install chromium)")


# ---- fixtures ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def app(tmp_path_factory):
    base = tmp_path_factory.mktemp("ui-browser")
    copy_corpus(base / "corpus")
    with running_app(base, ASSISTANT_ADMIN_PASSWORD="browser-test-password") as served:
        yield {"url": served["url"], "data": base / "data", "log": served["log"]}


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


def _open(browser, app, viewport):
    """A fresh page on the app; records any request that would leave this machine."""
    context = browser.new_context(viewport=viewport, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url)
            if not r.url.startswith(("http://127.0.0.1", "data:", "blob:", "about:")) else None)
    page.goto(app["url"])
    page.wait_for_selector("#question textarea")
    page.wait_for_selector("#conversation .starter")
    return context, page, outside


@pytest.fixture
def desktop(browser, app):
    context, page, outside = _open(browser, app, DESKTOP)
    yield page
    context.close()
    assert outside == [], f"the page tried to reach the internet: {outside}"


@pytest.fixture
def phone(browser, app):
    context, page, outside = _open(browser, app, PHONE)
    yield page
    context.close()
    assert outside == [], f"the page tried to reach the internet: {outside}"


def _ask(page, question: str, turn: int) -> None:
    page.fill("#question textarea", question)
    page.keyboard.press("Enter")
    page.wait_for_selector(f"#turn-{turn}[data-state=done]", timeout=ANSWER_TIMEOUT_MS)


def _card_quote(page, turn: int, n: int) -> str:
    text = page.text_content(f"#turn-{turn} .cite[data-n='{n}'] .cite-quote")
    assert text[0] == "“" and text[-1] == "”"
    return text[1:-1]


def _settle(page) -> None:
    page.wait_for_timeout(400)  # let smooth scrolling finish before a screenshot


# ---- tests --------------------------------------------------------------------------------------------
def test_ask_then_open_citation_highlights_the_quote(desktop):
    page = desktop
    page.screenshot(path=str(ARTIFACTS / "desktop-1-welcome.png"))
    _ask(page, QUESTION, 0)
    answer = page.locator("#turn-0 .a-answered")
    assert answer.is_visible()
    assert "[1]" in answer.locator(".a-text").text_content()
    assert page.locator("#turn-0 .a-notice").is_visible()
    card = page.locator("#turn-0 .cite").first
    assert card.locator(".badge").text_content().startswith(("News report", "Proposal"))
    assert card.locator(".cite-title").text_content().strip()
    assert "paragraph" in card.locator(".cite-meta").text_content()
    quote = _card_quote(page, 0, 1)
    assert "Answer ready" in page.text_content("#announce")
    _settle(page)
    page.screenshot(path=str(ARTIFACTS / "desktop-2-answer.png"))

    page.click("#turn-0 .cite[data-n='1'] .open-src")
    mark = page.locator("#source-view mark.hl")
    mark.wait_for()
    assert mark.text_content() == quote
    assert page.evaluate("document.activeElement && document.activeElement.matches('mark.hl')")
    _settle(page)
    from playwright.sync_api import expect

    expect(mark).to_be_in_viewport()
    assert page.locator("#source-view .src-title").text_content() == card.locator(".cite-title").text_content()
    page.screenshot(path=str(ARTIFACTS / "desktop-3-source.png"))


def test_inline_reference_opens_source_and_follow_up(desktop):
    page = desktop
    _ask(page, "What duty did Ed Balls propose to place on schools?", 0)
    _ask(page, "What about academies?", 1)
    assert "Read as a follow-up" in page.text_content("#turn-1 .searched")
    n = page.locator("#turn-1 .ref").last.get_attribute("data-n")
    quote = _card_quote(page, 1, int(n))
    page.locator("#turn-1 .ref").last.click()
    page.wait_for_function("(q) => { const m = document.querySelector('#source-view mark.hl');"
                           " return m && m.textContent === q; }", arg=quote)
    # screen readers hear short status messages
    assert "Showing source" in page.text_content("#announce")
    # a new conversation starts from the welcome screen again
    page.click("#clear-btn")
    page.wait_for_selector("#conversation .welcome")
    assert page.locator("#conversation .turn").count() == 0
    assert page.locator("#source-view .src-empty").is_visible()
    assert page.is_disabled("#export-md")


def test_abstention_looks_different(desktop):
    page = desktop
    _ask(page, QUESTION, 0)
    _ask(page, "What is the capital of France?", 1)
    box = page.locator("#turn-1 .a-abstained")
    assert box.is_visible()
    assert page.locator("#turn-1 .cite").count() == 0
    assert "don't cover" in box.text_content() and "duty to co-operate" in box.text_content()
    answered_border = page.locator("#turn-0 .a").evaluate("e => getComputedStyle(e).borderStyle")
    abstained_border = box.evaluate("e => getComputedStyle(e).borderStyle")
    assert answered_border != abstained_border
    _settle(page)
    page.screenshot(path=str(ARTIFACTS / "desktop-4-abstention.png"))


def test_feedback_is_saved(desktop, app):
    page = desktop
    _ask(page, QUESTION, 0)
    page.fill("#fb-comment-0", "Clear, thank you")
    page.click("#turn-0 .fb-btn[data-rating=up]")
    page.wait_for_selector("#turn-0 .fb-done")
    with sqlite3.connect(app["data"] / "feedback.sqlite3") as db:
        rows = db.execute("SELECT rating, comment, question, citations FROM feedback WHERE comment = ?",
                          ("Clear, thank you",)).fetchall()
    assert rows and rows[-1][0] == "up" and rows[-1][2] == QUESTION and "doc_id" in rows[-1][3]


def test_export_markdown_and_pdf_downloads(desktop, tmp_path):
    page = desktop
    _ask(page, QUESTION, 0)
    quote = _card_quote(page, 0, 1)
    page.wait_for_selector("#export-md:not([disabled])")
    with page.expect_download() as md:
        page.click("#export-md")
    text = Path(md.value.path()).read_text("utf-8")
    assert QUESTION in text and quote in text
    with page.expect_download() as pdf:
        page.click("#export-pdf")
    assert Path(pdf.value.path()).read_bytes().startswith(b"%PDF")


def test_keyboard_only(desktop):
    page = desktop

    def tab_until(selector: str, back: bool = False, limit: int = 60) -> None:
        for _ in range(limit):
            page.keyboard.press("Shift+Tab" if back else "Tab")
            if page.evaluate("(s) => !!document.activeElement && document.activeElement.matches(s)", selector):
                return
        raise AssertionError(f"could not reach {selector} with the keyboard")

    tab_until("#question textarea")
    page.keyboard.type(QUESTION)
    page.keyboard.press("Enter")
    page.wait_for_selector("#turn-0[data-state=done]", timeout=ANSWER_TIMEOUT_MS)
    tab_until("#turn-0 .open-src", back=True)
    page.keyboard.press("Enter")
    page.wait_for_selector("#source-view mark.hl")
    page.wait_for_function("document.activeElement && document.activeElement.matches('mark.hl')")
    tab_until("#source-view .back", back=True)
    page.keyboard.press("Enter")
    page.wait_for_function("document.activeElement && document.activeElement.matches('#turn-0 .open-src')")


def test_user_text_is_shown_not_run(desktop):
    page = desktop
    _ask(page, "<img src=x onerror=\"window.__xss=1\"> duty to co-operate?", 0)
    assert page.locator("#conversation img").count() == 0
    assert "<img src=x" in page.text_content("#turn-0 .q-text")
    assert page.evaluate("window.__xss === undefined")


def test_sources_tab_lists_documents_and_shows_text(desktop):
    page = desktop
    page.get_by_role("tab", name="Sources").click()
    items = page.locator("#library .lib-item")
    items.first.wait_for()
    assert items.count() == 5
    letter = page.locator("#library .lib-item", has_text="Delivering The Children's Plan")
    assert "Proposal, 2008" in letter.locator(".badge").text_content()
    assert "passages" in letter.text_content()
    letter.locator(".open-doc").click()
    page.wait_for_selector("#library-view .src-text")
    assert "SECRETARY OF STATE" in page.text_content("#library-view .src-text")
    _settle(page)
    page.screenshot(path=str(ARTIFACTS / "desktop-5-sources.png"))


def test_admin_tab_refuses_without_password(desktop):
    page = desktop
    page.get_by_role("tab", name="Manage library").click()
    page.get_by_role("button", name="Add to library").click()
    msg = page.locator("#admin-message .msg-error")
    msg.wait_for()
    assert "password" in msg.text_content()
    page.screenshot(path=str(ARTIFACTS / "desktop-6-admin.png"))


def test_phone_layout(phone):
    page = phone
    page.screenshot(path=str(ARTIFACTS / "phone-1-welcome.png"))
    page.locator("#conversation .starter", has_text="bound by the duty").click()
    page.wait_for_selector("#turn-0[data-state=done]", timeout=ANSWER_TIMEOUT_MS)
    quote = _card_quote(page, 0, 1)
    _settle(page)
    page.screenshot(path=str(ARTIFACTS / "phone-2-answer.png"))
    page.click("#turn-0 .cite[data-n='1'] .open-src")
    mark = page.locator("#source-view mark.hl")
    mark.wait_for()
    assert mark.text_content() == quote
    _settle(page)
    from playwright.sync_api import expect

    expect(mark).to_be_in_viewport()
    page.screenshot(path=str(ARTIFACTS / "phone-3-source.png"))
    # nothing wider than the screen
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


XSS = ['<script>window.__xss_script=1</script>', '<img src=x onerror="window.__xss_img=1">',
       '<svg onload="window.__xss_svg=1"></svg>', '<iframe src="javascript:window.__xss_iframe=1"></iframe>',
       '<a href="javascript:window.__xss_link=1" id="xss-link">link</a>', '"><b id="xss-b">bold</b>']
XSS_FLAGS = "['__xss', '__xss_script', '__xss_img', '__xss_svg', '__xss_iframe', '__xss_link'].filter(k => k in window)"
INJECTED_ELEMENTS = "img[src=x], svg[onload], iframe, #xss-link, #xss-b, script:not([src]):not([type])"


def _no_xss(page) -> None:
    page.wait_for_timeout(300)  # give any injected handler time to run
    assert page.evaluate(XSS_FLAGS) == []
    for region in ("#conversation", "#source-view", "#library", "#library-view", "#admin-message"):
        assert page.locator(f"{region} :is({INJECTED_ELEMENTS})").count() == 0, region


def test_script_and_html_are_inert_in_questions_quotes_titles_and_sources(desktop, app, tmp_path):
    """SQL/HTML/script text in a question, and in a document's title and text, shows as text: no
    script runs (no window flag set) and no element is injected, in the chat, the citation cards, the
    source viewer and the Sources tab."""
    from gradio_client import Client, handle_file

    page = desktop
    doc = tmp_path / "xssville-minutes.txt"
    doc.write_text("Minutes of the Xssville governors.\n\nThe Xssville trust board meets every month to discuss "
                   f"the duty to co-operate {XSS[1]} with partners. {XSS[0]} {XSS[2]} {XSS[3]} {XSS[4]} {XSS[5]} "
                   "It also reviews the well-being policy each term.\n", "utf-8")
    client = Client(app["url"], verbose=False)
    message, *_ = client.predict(handle_file(str(doc)), f'{XSS[1]}Xssville minutes', "2008-09-01", None, None,
                                 "Xssville '; DROP TABLE sources; --", "browser-test-password", api_name="/add_document")
    assert "msg-ok" in message, message
    try:
        _ask(page, " ".join(XSS) + " '; DROP TABLE feedback; --", 0)
        assert "<script>window.__xss_script=1</script>" in page.text_content("#turn-0 .q-text")
        _ask(page, "How often does the Xssville trust board meet?", 1)
        cards = page.locator("#turn-1 .cite")
        assert cards.count() >= 1
        xss_card = page.locator("#turn-1 .cite", has_text="Xssville")
        assert '<img src=x onerror="window.__xss_img=1">Xssville minutes' in xss_card.first.text_content()
        xss_card.first.locator(".open-src").click()
        page.wait_for_selector("#source-view mark.hl")
        assert "<script>window.__xss_script=1</script>" in page.text_content("#source-view .src-text")
        _no_xss(page)
        page.get_by_role("tab", name="Sources").click()
        page.get_by_role("button", name="Refresh list").click()  # the document was added after the page loaded
        item = page.locator("#library .lib-item", has_text="Xssville")
        item.first.wait_for()
        item.first.locator(".open-doc").click()
        page.wait_for_selector("#library-view .src-text")
        assert 'onerror="window.__xss_img=1"' in page.text_content("#library-view .src-text")
        _no_xss(page)
    finally:
        client.predict("xssville-minutes", "browser-test-password", api_name="/remove_document")


def test_personal_data_warning_shown_and_kept_out_of_feedback_and_log(desktop, app):
    page = desktop
    _ask(page, "My pupil Jack Smith, aged 7, DOB 03/05/2016, email jack.smith@example.com: " + QUESTION, 0)
    warning = page.locator("#turn-0 .a-warning")
    assert warning.is_visible() and "personal information" in warning.text_content()
    assert page.locator("#turn-0 .a-answered").is_visible()  # still answered
    shown = page.text_content("#turn-0 .q-text")
    assert "[name removed]" in shown and "jack.smith@example.com" not in shown
    page.fill("#fb-comment-0", "Thanks - ring me on 07700 900123 or jack.smith@example.com")
    page.click("#turn-0 .fb-btn[data-rating=up]")
    page.wait_for_selector("#turn-0 .fb-done")
    with sqlite3.connect(app["data"] / "feedback.sqlite3") as db:
        stored = repr(db.execute("SELECT * FROM feedback").fetchall())
    assert "[phone number removed]" in stored
    for detail in ("Jack", "Smith", "03/05/2016", "jack.smith@example.com", "07700 900123"):
        assert detail not in stored and detail not in app["log"].read_text(), detail
