"""Issue 14, "The web UI": what a new user noticed in the first ten minutes, checked where it was seen.

* The conversation grows with the page (no inner scroll hiding the sources), the newest answer is
  scrolled into view, and on a phone the source panel appears only once a source is selected.
* "Save as Markdown"/"Save as PDF" are disabled before the first answer and enabled as soon as each
  answer is shown, to the eye and in the accessibility tree.
* ``python app.py`` honours Gradio's own GRADIO_SERVER_NAME / GRADIO_SERVER_PORT (ASSISTANT_HOST /
  ASSISTANT_PORT win when both are set; --host/--port win over everything).
* A question read as a follow-up offers "Ask as a new question", which re-asks it without history.

Browser tests run the real app in headless Chromium (desktop 1366x900 and phone 390x844) and write a
screenshot of each checked state to tests/artifacts/ (``*-ui14-*.png``).
"""
from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import ROOT, app_env, copy_corpus, free_port, running_app
from test_ui_browser import (ANSWER_TIMEOUT_MS, ARTIFACTS, CHROMIUM, DESKTOP, PHONE, QUESTION, _ask, _card_quote,
                             _open, browser)  # noqa: F401  (browser: the shared headless Chromium fixture)
from test_llm import llm_assistant, llm_url, smollm2_gguf  # noqa: F401  (the real local LLM server, for LLM mode)

PLAN_Q = "What is the children's and young people's plan?"  # answered with three sources
FIRST_Q = "What duty did Ed Balls propose to place on schools?"
FOLLOW_UP = "What about academies?"
SCREENS = {"desktop": DESKTOP, "phone": PHONE}

needs_browser = pytest.mark.skipif(not Path(CHROMIUM).exists() and not os.environ.get("CI"),
                                   reason=f"{CHROMIUM} not installed (apt-get install chromium)")


# ---- fixtures ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def app(tmp_path_factory):
    base = tmp_path_factory.mktemp("ui14")
    copy_corpus(base / "corpus")
    with running_app(base) as served:
        yield {"url": served["url"], "log": served["log"]}


@pytest.fixture(params=sorted(SCREENS))
def page(request, browser, app):  # noqa: F811
    """A fresh page on the app, once at desktop size and once at phone size."""
    context, page, outside = _open(browser, app, SCREENS[request.param])
    page.screen = request.param
    yield page
    context.close()
    assert outside == [], f"the page tried to reach the internet: {outside}"


def _shot(page, name: str, full_page: bool = False) -> Path:
    page.wait_for_timeout(400)  # let smooth scrolling finish
    path = ARTIFACTS / f"{page.screen}-ui14-{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def _no_inner_scroll(page) -> None:
    """Nothing of the conversation is hidden behind a scroll bar of its own."""
    sizes = page.evaluate("() => { const c = document.querySelector('#conversation');"
                          " return [c.scrollHeight, c.clientHeight]; }")
    assert sizes[0] <= sizes[1] + 2, f"the conversation scrolls inside itself (content {sizes[0]} px, box {sizes[1]} px)"


def _wait_in_view(page, selector: str) -> None:
    """Wait until the top of ``selector`` is on screen, in the top half of the window unless the page is
    scrolled to its end (smooth scrolling takes a moment)."""
    page.wait_for_function("(s) => { const r = document.querySelector(s).getBoundingClientRect();"
                           " const end = window.scrollY + window.innerHeight >= document.documentElement.scrollHeight - 2;"
                           " return r.top >= 0 && (r.top < window.innerHeight * 0.5 || (end && r.top < window.innerHeight * 0.8)); }",
                           arg=selector, timeout=5_000)


def _visible_at_centre(page, selector: str) -> bool:
    """Scroll ``selector`` to the middle of the window; is it what is drawn there (nothing covers it)?"""
    return page.evaluate("(s) => { const el = document.querySelector(s); el.scrollIntoView({block: 'center'});"
                         " const r = el.getBoundingClientRect();"
                         " const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);"
                         " return !!hit && el.contains(hit) && r.bottom <= window.innerHeight && r.top >= 0; }",
                         selector)


# ---- 1. the conversation grows with the page; the phone shows the source only when selected ----------
@needs_browser
def test_conversation_grows_with_the_page_and_the_newest_answer_is_in_view(page):
    _ask(page, QUESTION, 0)
    _ask(page, PLAN_Q, 1)
    _wait_in_view(page, "#turn-1")
    _no_inner_scroll(page)
    cards = page.locator("#turn-1 .cite")
    assert cards.count() >= 1
    _shot(page, "1-newest-answer-in-view")
    from playwright.sync_api import expect

    for n in range(1, cards.count() + 1):  # every source card can be seen, none hidden or covered
        assert _visible_at_centre(page, f"#turn-1 .cite[data-n='{n}']"), f"source card {n} cannot be seen"
    expect(page.locator("#question textarea")).to_be_in_viewport()  # the question box stays at hand
    _shot(page, "1-last-source-card")
    _shot(page, "1-whole-conversation", full_page=True)
    # the last card opens its source, and the highlighted quote is on screen beside (or below) it
    last = cards.count()
    quote = _card_quote(page, 1, last)
    page.click(f"#turn-1 .cite[data-n='{last}'] .open-src")
    mark = page.locator("#source-view mark.hl")
    mark.wait_for()
    assert mark.text_content() == quote
    page.wait_for_timeout(400)
    expect(mark).to_be_in_viewport()
    _shot(page, "1-source-of-last-card")
    assert page.evaluate("document.documentElement.scrollWidth") <= SCREENS[page.screen]["width"]


@needs_browser
def test_phone_shows_the_source_panel_only_when_a_source_is_selected(browser, app):  # noqa: F811
    from playwright.sync_api import expect

    context, page, outside = _open(browser, app, PHONE)
    page.screen = "phone"
    try:
        panel = page.locator("#source-panel")
        expect(panel).to_be_hidden()  # no empty "Source document" placeholder under the chat
        _ask(page, PLAN_Q, 0)
        expect(panel).to_be_hidden()
        _shot(page, "1-answer-without-empty-source-panel")
        page.click("#turn-0 .cite[data-n='1'] .open-src")
        page.locator("#source-view mark.hl").wait_for()
        expect(panel).to_be_visible()
        page.wait_for_timeout(400)
        expect(page.locator("#source-view mark.hl")).to_be_in_viewport()
        _shot(page, "1-source-selected")
        page.click("#source-view .back")
        expect(page.locator("#turn-0 .cite[data-n='1'] .open-src")).to_be_in_viewport()
        page.click("#clear-btn")
        page.wait_for_selector("#conversation .welcome")
        expect(panel).to_be_hidden()  # a new conversation has nothing selected again
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    finally:
        context.close()
    assert outside == [], outside


@needs_browser
def test_desktop_keeps_the_source_panel_in_place(browser, app):  # noqa: F811
    """On a wide screen the empty source panel stays beside the chat (it says what it is for)."""
    from playwright.sync_api import expect

    context, page, _ = _open(browser, app, DESKTOP)
    try:
        expect(page.locator("#source-panel .src-empty")).to_be_visible()
    finally:
        context.close()


# ---- 2. the export buttons follow the answers -----------------------------------------------------------
BUTTON_STATE = """(turn) => {
  const t = document.querySelector(`#turn-${turn}`);
  if (!t || t.dataset.state !== 'done') return null;   // not shown yet: keep waiting
  return ['#export-md', '#export-pdf'].map((s) => { const b = document.querySelector(s); const st = getComputedStyle(b);
    return {id: s, disabled: b.disabled || b.getAttribute('aria-disabled') === 'true', opacity: st.opacity,
            cursor: st.cursor}; });
}"""


def _export_state(page, turn: int) -> list[dict]:
    """The buttons' state in the first frame in which answer ``turn`` is shown (no grace period)."""
    return page.wait_for_function(BUTTON_STATE, arg=turn, timeout=ANSWER_TIMEOUT_MS).json_value()


@needs_browser
def test_save_buttons_are_enabled_as_soon_as_each_answer_is_shown(page):
    from playwright.sync_api import expect

    md = page.get_by_role("button", name="Save as Markdown")
    pdf = page.get_by_role("button", name="Save as PDF")
    for button in (md, pdf):  # before the first answer: disabled, in the accessibility tree too
        expect(button).to_be_disabled()
        assert "[disabled]" in button.aria_snapshot()
        assert float(button.evaluate("b => getComputedStyle(b).opacity")) < 1
    _shot(page, "2-save-disabled-before-first-answer")
    for turn, question in enumerate([QUESTION, FOLLOW_UP, PLAN_Q]):
        page.fill("#question textarea", question)
        page.keyboard.press("Enter")
        state = _export_state(page, turn)
        for b in state:
            assert not b["disabled"], f"answer {turn + 1} is shown but {b['id']} is still disabled: {state}"
            assert b["opacity"] == "1" and b["cursor"] != "not-allowed", f"{b['id']} still looks disabled: {state}"
        for button in (md, pdf):
            expect(button).to_be_enabled(timeout=1)
            assert "[disabled]" not in button.aria_snapshot()
        _shot(page, f"2-save-enabled-after-answer-{turn + 1}")
    for attempt in range(5):  # the file holds the whole conversation so far; a click while the last answer's
        with page.expect_download() as download:  # event is still finishing (a loaded machine) saves the
            md.click()  # conversation up to the answer before it, so a second click a moment later is fair
        text = Path(download.value.path()).read_text("utf-8")
        if PLAN_Q in text:
            break
        page.wait_for_timeout(1000)
    assert all(q in text for q in (QUESTION, FOLLOW_UP, PLAN_Q)), text[:500]
    page.click("#clear-btn")
    page.wait_for_selector("#conversation .welcome")
    expect(md).to_be_disabled()
    expect(pdf).to_be_disabled()


# ---- 4. a follow-up that was read wrongly can be asked as a new question --------------------------------
@needs_browser
def test_a_follow_up_can_be_asked_again_as_a_new_question(page, app):
    from gradio_client import Client
    from playwright.sync_api import expect

    _ask(page, FIRST_Q, 0)
    _ask(page, FOLLOW_UP, 1)
    line = page.locator("#turn-1 .searched")
    assert "Read as a follow-up" in line.text_content()
    again = page.locator("#turn-1").get_by_role("button", name="Ask as a new question")
    expect(again).to_be_visible()
    _shot(page, "4-follow-up-offers-new-question")
    again.click()
    page.wait_for_selector("#turn-2[data-state=done]", timeout=ANSWER_TIMEOUT_MS)
    assert page.text_content("#turn-2 .q-text") == FOLLOW_UP
    assert "new question" in page.text_content("#turn-2 .q")  # says how it was asked
    assert page.locator("#turn-2 .searched").count() == 0  # not read as a follow-up this time
    fresh = Client(app["url"], verbose=False).predict(FOLLOW_UP, [], api_name="/ask")  # the same, with no history
    if fresh["abstained"]:
        assert page.locator("#turn-2 .a-abstained").is_visible()
    else:
        shown = " ".join(page.text_content("#turn-2 .a-answered .a-text").split())
        assert shown == " ".join(fresh["answer"].split())
    _wait_in_view(page, "#turn-2")
    _shot(page, "4-asked-as-new-question")


def test_history_starts_again_at_a_question_asked_as_new():
    """Follow-ups after a re-asked question build on it, not on the turns before it."""
    from assistant.interfaces.web import history_of

    done = {"answer": "A.", "abstained": False, "status": "answered"}
    said = {"role": "assistant", "content": "A.", "status": "answered"}  # the answer's status travels with it
    turns = [{"question": "Q1", "answer": done}, {"question": "Q2", "answer": done},
             {"question": "Q2", "answer": done, "fresh": True}, {"question": "Q3", "pending": True}]
    assert history_of(turns[:2]) == [{"role": "user", "content": "Q1"}, said, {"role": "user", "content": "Q2"}, said]
    assert history_of(turns[:3]) == [{"role": "user", "content": "Q2"}, said]
    assert history_of([*turns[:2], {"question": "Q2", "pending": True, "fresh": True}]) == []


# ---- 3. GRADIO_SERVER_NAME / GRADIO_SERVER_PORT ------------------------------------------------------------
def test_settings_read_gradio_server_name_and_port(monkeypatch):
    from assistant.config import get_settings

    for name in ("ASSISTANT_HOST", "ASSISTANT_PORT", "GRADIO_SERVER_NAME", "GRADIO_SERVER_PORT"):
        monkeypatch.delenv(name, raising=False)
    assert (get_settings().host, get_settings().port) == ("127.0.0.1", 7860)
    monkeypatch.setenv("GRADIO_SERVER_NAME", "0.0.0.0")
    monkeypatch.setenv("GRADIO_SERVER_PORT", "7899")
    assert (get_settings().host, get_settings().port) == ("0.0.0.0", 7899)
    monkeypatch.setenv("ASSISTANT_HOST", "127.0.0.1")
    monkeypatch.setenv("ASSISTANT_PORT", "7901")
    assert (get_settings().host, get_settings().port) == ("127.0.0.1", 7901)  # ours win when both are set
    monkeypatch.delenv("ASSISTANT_PORT")
    monkeypatch.setenv("GRADIO_SERVER_PORT", "eighty")
    with pytest.raises(Exception, match="GRADIO_SERVER_PORT") as bad:
        get_settings()
    assert "ValidationError" not in str(bad.value)


def _serves(url: str, proc: subprocess.Popen, log: Path, timeout: float = 240) -> None:
    """Wait until ``url`` answers 200 (no proxy), or fail with the app's log."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise AssertionError(f"app exited with {proc.returncode} before serving {url}:\n{log.read_text()[-3000:]}")
        try:
            with opener.open(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            served = re.search(r"Running on local URL:\s*(\S+)", log.read_text())
            if served and served.group(1).rstrip("/") != url.rstrip("/"):
                raise AssertionError(f"the app serves on {served.group(1)}, not {url}") from None
            if time.monotonic() > deadline:
                raise AssertionError(f"nothing served at {url} within {timeout} s:\n{log.read_text()[-3000:]}") from None
            time.sleep(0.3)


def _start(base: Path, env: dict[str, str], args: list[str]) -> tuple[subprocess.Popen, Path]:
    log = base / f"app-{len(list(base.glob('app-*.log')))}.log"
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, str(ROOT / "app.py"), *args], cwd=ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT)
    return proc, log


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=20)


@pytest.fixture(scope="module")
def tiny_library(tmp_path_factory) -> Path:
    """A one-document library: these tests only check where the app listens."""
    base = tmp_path_factory.mktemp("ui14-ports")
    (base / "corpus").mkdir()
    (base / "corpus" / "note.txt").write_text("The trust board meets every term to plan services.\n", "utf-8")
    return base


@pytest.mark.parametrize("case", ["gradio-only", "both-set", "flags"])
def test_app_listens_where_it_is_told(tiny_library, case):
    """``GRADIO_SERVER_PORT=7899 python app.py`` must serve on 7899 (it served on 7860). Our own
    ASSISTANT_HOST/ASSISTANT_PORT win over Gradio's names, and --host/--port over everything."""
    env = app_env(tiny_library, NO_PROXY="127.0.0.1,127.0.0.2,localhost", no_proxy="127.0.0.1,127.0.0.2,localhost")
    for name in ("ASSISTANT_HOST", "ASSISTANT_PORT", "GRADIO_SERVER_NAME", "GRADIO_SERVER_PORT"):
        env.pop(name, None)
    gradio_port, ours, flag = free_port(), free_port(), free_port()
    # 127.0.0.2 is a loopback address too on Linux: listening there proves the host setting was used
    env.update(GRADIO_SERVER_NAME="127.0.0.2", GRADIO_SERVER_PORT=str(gradio_port))
    args: list[str] = []
    if case == "gradio-only":
        expected = f"http://127.0.0.2:{gradio_port}/"
    elif case == "both-set":
        env.update(ASSISTANT_HOST="127.0.0.1", ASSISTANT_PORT=str(ours))
        expected = f"http://127.0.0.1:{ours}/"
    else:
        env.update(ASSISTANT_HOST="127.0.0.1", ASSISTANT_PORT=str(ours))
        args = ["--host", "127.0.0.2", "--port", str(flag)]
        expected = f"http://127.0.0.2:{flag}/"
    proc, log = _start(tiny_library, env, args)
    try:
        _serves(expected, proc, log)
    finally:
        _stop(proc)


def test_llm_mode_enables_the_save_buttons_with_the_verified_answer(llm_assistant):
    """LLM mode streams drafts first: the buttons stay as they are while drafting, and the update that
    shows the verified answer enables both (the real local model server); the file is made on click
    (issue 30: ``web_export``), and holds the answer."""
    import gradio as gr

    from assistant.interfaces.web import UI

    ui = UI(llm_assistant)
    updates = list(ui.answer_stream_with_exports([{"question": "When do the consultations close?", "pending": True}]))
    assert len(updates) >= 2
    for *_, md, pdf in updates[:-1]:  # drafts leave the buttons alone
        assert md == gr.skip() and pdf == gr.skip()
    turns, html, said, md, pdf = updates[-1]
    assert "pending" not in turns[0] and 'class="cite"' in html
    assert md["interactive"] is True and pdf["interactive"] is True
    assert "value" not in md and "value" not in pdf  # no file per answer
    from assistant.interfaces.web_export import payload

    assert "When do the consultations close?" in base64.b64decode(json.loads(payload(turns, "md"))["data"]).decode()
    assert base64.b64decode(json.loads(payload(turns, "pdf"))["data"]).startswith(b"%PDF")
