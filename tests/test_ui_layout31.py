"""Issue 31, the UI's layout and the start-up output, checked the way they were found: the real app in
headless Chromium (desktop 1366x768, a projector's size, and phone 390x844), its own terminal output, and
``make run``'s output.

* Opening every tab twice leaves exactly five labelled tabs, on a desktop and on a phone (no phantom
  second "Manage library", no unlabelled "⋯" menu).
* The switched-off Manage library tab says how to switch library management on; on a phone its form
  fields each take the screen's width.
* The Duties page is a few screens, not 18 (desktop) or 36 (phone): collapsible cards that list their
  sources once; the glossary has no empty space under short entries.
* Trainer mode at 1366x768: once a question is shown, the question, its options and Reveal are on screen
  together, and the quiz settings are folded away.
* Start-up prints no warnings and no "set share=True" hint; an answer (with its PDF export) adds no
  ``fontTools`` lines to the log; ``make run`` prints one line per stage; the editable install has no
  boxed setuptools warning.

Screenshots and the measured page heights go to tests/artifacts/ (``*-ui31-*``).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT, copy_corpus, running_app
from test_ui_browser import ARTIFACTS, CHROMIUM, PHONE, QUESTION, _ask, _open, browser  # noqa: F401 (fixture)

PROJECTOR = {"width": 1366, "height": 768}
SCREENS = {"desktop": PROJECTOR, "phone": PHONE}
TABS = ["Ask", "Sources", "Duties", "Quiz", "Manage library"]

needs_browser = pytest.mark.skipif(not Path(CHROMIUM).exists() and not os.environ.get("CI"),
                                   reason=f"{CHROMIUM} not installed (apt-get install chromium)")


# ---- fixtures ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """The real app, as ``make run`` starts it: no admin password, so Manage library is switched off."""
    base = tmp_path_factory.mktemp("ui31")
    (ARTIFACTS / "ui31-measurements.json").unlink(missing_ok=True)  # this run's figures only
    copy_corpus(base / "corpus")
    with running_app(base, ASSISTANT_ADMIN_PASSWORD="") as served:
        deadline = time.monotonic() + 30  # the ready line is printed just after the server answers
        while "Ready:" not in served["log"].read_text() and time.monotonic() < deadline:
            time.sleep(0.2)
        yield {"url": served["url"], "log": served["log"]}


@pytest.fixture(params=sorted(SCREENS))
def page(request, browser, app):  # noqa: F811
    context, page, outside = _open(browser, app, SCREENS[request.param])
    page.screen = request.param
    yield page
    context.close()
    assert outside == [], f"the page tried to reach the internet: {outside}"


def _shot(page, name: str, full_page: bool = False) -> None:
    page.wait_for_timeout(400)
    page.screenshot(path=str(ARTIFACTS / f"{page.screen}-ui31-{name}.png"), full_page=full_page)


def _tabs(page) -> list[str]:
    """The labels of the tabs a person can see and click, plus anything in Gradio's "more tabs" menu."""
    return page.evaluate("""() => {
      const shown = [...document.querySelectorAll('[role=tablist] [role=tab]')]
        .filter(t => t.offsetParent !== null && t.getBoundingClientRect().width > 0).map(t => t.textContent.trim());
      const menu = [...document.querySelectorAll('.overflow-dropdown button')].map(b => '⋯ ' + b.textContent.trim());
      return shown.concat(menu); }""")


def _open_tab(page, name: str) -> None:
    page.get_by_role("tab", name=name, exact=True).click()  # fails if the tab is hidden in a menu
    page.wait_for_selector(f"[role=tab][aria-selected=true]:has-text('{name}')")


# The share of the glossary cards' area that is empty: below the end of a card's text (a card stretched
# to the height of a longer one beside it).
GLOSSARY_EMPTY_JS = """() => {
  let empty = 0, area = 0;
  for (const item of document.querySelectorAll('#duties .gl-item')) {
    const r = item.getBoundingClientRect(), pad = parseFloat(getComputedStyle(item).paddingBottom);
    const text = Math.max(...[...item.querySelectorAll('dt, dd > *')].map(x => x.getBoundingClientRect().bottom));
    empty += r.width * Math.max(0, r.bottom - pad - text - 2); area += r.width * r.height;
  }
  return empty / area; }"""


def _record(key: str, value) -> None:
    """Keep a measurement beside the screenshots (tests/artifacts/ui31-measurements.json)."""
    path = ARTIFACTS / "ui31-measurements.json"
    data = json.loads(path.read_text()) if path.exists() else {}
    data[key] = value
    path.write_text(json.dumps(data, indent=1, sort_keys=True))


# ---- 1, 7: the tab bar --------------------------------------------------------------------------------
@needs_browser
def test_every_tab_opens_twice_and_the_bar_keeps_five_labelled_tabs(page):
    assert _tabs(page) == TABS
    for round_ in (1, 2):
        for name in TABS[1:] + TABS[:1]:
            _open_tab(page, name)
            page.wait_for_timeout(250)
            assert _tabs(page) == TABS, f"round {round_}, after opening {name}: {_tabs(page)}"
    _open_tab(page, "Manage library")
    _record(f"{page.screen}-tabs-after-two-rounds", _tabs(page))
    _shot(page, "1-tabs-after-two-rounds")
    bar = page.locator("[role=tablist]").bounding_box()
    assert bar["x"] >= 0 and bar["x"] + bar["width"] <= SCREENS[page.screen]["width"]
    for name in TABS:  # every label is inside the window, readable
        box = page.get_by_role("tab", name=name, exact=True).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= SCREENS[page.screen]["width"], name


# ---- 3, 10: the switched-off Manage library tab; its form on a phone -------------------------------------
@needs_browser
def test_switched_off_manage_library_says_how_to_switch_it_on(page):
    _open_tab(page, "Manage library")
    note = page.locator("#admin-off")
    note.wait_for()
    text = note.text_content()
    assert "switched off" in text and "ASSISTANT_ADMIN_PASSWORD=" in text and "make run" in text
    assert "Admin password" in text  # and where the password goes afterwards
    assert page.is_disabled("#admin-password input")
    _shot(page, "3-admin-switched-off")
    width = page.locator("#admin-tab").bounding_box()["width"]
    labels = ["Title", "Publisher", "Date (YYYY-MM-DD)", "Kind", "Status (what the text is)"]
    widths = {label: page.get_by_label(label, exact=True).bounding_box()["width"] for label in labels}
    _record(f"{page.screen}-admin-field-widths", {"tab": width, **widths})
    if page.screen == "phone":  # one field to a line, each as wide as the form
        assert all(w >= 0.75 * width for w in widths.values()), widths
        page.get_by_label("Title", exact=True).scroll_into_view_if_needed()
        _shot(page, "10-admin-form")


# ---- 10: the Duties page ---------------------------------------------------------------------------------
@needs_browser
def test_duties_page_is_a_few_screens_with_sources_once_per_card(page):
    _open_tab(page, "Duties")
    page.wait_for_selector("#duties .duty-card")
    page.wait_for_timeout(500)
    viewport = SCREENS[page.screen]["height"]
    screens = page.evaluate("document.documentElement.scrollHeight") / viewport
    _record(f"{page.screen}-duties-screens", round(screens, 1))
    _shot(page, "10-duties-closed")
    assert screens <= {"desktop": 6, "phone": 12}[page.screen], f"the Duties page is {screens:.1f} screens"
    assert page.locator("#duties .duty-card").count() == 5
    cards = page.locator("#duties details.duty-card")
    assert cards.count() == 5 and all(not cards.nth(i).evaluate("d => d.open") for i in range(5))

    card = page.locator("#duty-duty-to-co-operate")
    card.locator("summary").click()
    assert card.evaluate("d => d.open")
    assert "are bound by the act’s duty to co-operate" in card.text_content()
    quotes = card.locator(".duty-quote").count()
    titles = card.locator(".tr-src-label").all_text_contents()
    assert quotes > len(titles) >= 2, "each source is listed once, not once per quote"
    assert len(set(titles)) == len(titles)
    refs = card.locator(".tr-ref")
    assert refs.count() == quotes  # every quote still says which source and what status it has
    for i in range(quotes):
        ref = refs.nth(i)
        assert ref.locator(".badge").count() == 1
        target = ref.locator("a.tr-ref-n").get_attribute("href")
        assert card.locator(target).count() == 1, f"quote {i + 1} points to {target}, which is not listed"
    card.locator("summary").scroll_into_view_if_needed()
    _shot(page, "10-duty-card-open")
    _shot(page, "10-duties-whole-page", full_page=True)

    # the glossary: its sources listed once too, and entries flow in columns, so short ones leave no empty
    # space beside long ones
    page.locator("#glossary-head").scroll_into_view_if_needed()
    glossary = page.locator("#duties .glossary")
    listed = page.locator("#duties .gl-sources .tr-src-label").all_text_contents()
    assert glossary.locator(".tr-ref").count() == glossary.locator(".duty-quote").count() > len(listed) >= 2
    assert len(set(listed)) == len(listed) and glossary.locator(".tr-src-label").count() == 0
    _shot(page, "10-glossary")
    empty = page.evaluate(GLOSSARY_EMPTY_JS)
    _record(f"{page.screen}-glossary-empty-share", round(empty, 3))
    assert empty <= 0.03, f"{empty:.0%} of the glossary cards' area is empty space below their text"


# ---- 5: trainer mode on a projector ------------------------------------------------------------------------
def _longest_quiz(url: str) -> int:
    """The quiz number (1-10) whose five questions include the longest question and options to show."""
    from gradio_client import Client

    client = Client(url, verbose=False)
    size = {seed: max(len(q["question"]) + sum(len(c) for c in q["choices"])
                      for q in client.predict(5, seed, "", api_name="/quiz")) for seed in range(1, 11)}
    return max(size, key=size.get)


@needs_browser
def test_trainer_question_options_and_reveal_fit_a_projector_screen(browser, app):  # noqa: F811
    context, page, outside = _open(browser, app, PROJECTOR)
    page.screen = "desktop"
    try:
        _open_tab(page, "Quiz")
        page.wait_for_selector("#quiz-card .qz-intro")
        assert page.locator("#quiz-start").is_visible()
        seed = _longest_quiz(app["url"])  # of quizzes 1-10, the one with the longest question to show
        seed_box = page.locator("#quiz-seed input")
        seed_box.fill(str(seed))
        seed_box.press("Tab")
        page.click("#quiz-start")  # trainer mode, all duties, 5 questions: the defaults
        fits = []
        for i in range(1, 6):
            page.wait_for_selector(f"#quiz-card .qz-card[data-q='{i}'][data-state=asking]")
            page.locator("#quiz-start").wait_for(state="hidden", timeout=5_000)  # the settings fold away
            page.wait_for_timeout(500)
            span = page.evaluate("""() => {
              const top = document.querySelector('#quiz-card .qz-card').getBoundingClientRect().top;
              const r = document.querySelector('#quiz-reveal').getBoundingClientRect();
              const opts = document.querySelector('#quiz-choice').getBoundingClientRect();
              return {top, bottom: r.bottom, options_bottom: opts.bottom, height: window.innerHeight}; }""")
            fits.append(span)
            if i == 1:
                _shot(page, "5-trainer-question")
            assert span["top"] >= 0 and span["bottom"] <= span["height"], \
                f"question {i}: the card starts at {span['top']:.0f} px and Reveal ends at {span['bottom']:.0f} px"
            page.click("#quiz-reveal")
            page.wait_for_selector(f"#quiz-card .qz-card[data-q='{i}'][data-state=revealed]")
            if i == 1:
                _shot(page, "5-trainer-revealed")
            page.click("#quiz-next")
        _record("desktop-trainer-question-spans", {"quiz": seed, "spans": fits})
        page.wait_for_selector("#quiz-card .qz-final")
        page.locator("#quiz-start").wait_for(state="visible")  # the settings open again for the next quiz
        _shot(page, "5-trainer-final")
    finally:
        context.close()
    assert outside == []


# ---- 9: what the terminal shows ------------------------------------------------------------------------------
def test_start_up_prints_a_ready_line_and_no_warning_or_share_hint(app):
    log = app["log"].read_text()
    assert f"Ready: open {app['url']} in your browser" in log, log[-2000:]
    assert "share=True" not in log and "public link" not in log, log[-2000:]
    assert "warning" not in log.lower() and "gr.Tabs()" not in log, log[-2000:]


@needs_browser
def test_an_answer_and_its_pdf_add_no_fonttools_lines_to_the_log(browser, app):  # noqa: F811
    context, page, outside = _open(browser, app, PROJECTOR)
    try:
        _ask(page, QUESTION, 0)
        page.wait_for_selector("#export-pdf:not([disabled])")  # the PDF was written (fpdf2 subsets its font)
    finally:
        context.close()
    log = app["log"].read_text()
    assert "fontTools" not in log, f"{log.count('fontTools')} fontTools lines in the log"


def test_make_run_prints_one_line_per_stage(tmp_path):
    """``make run`` on a fresh clone, with stand-ins for pip and python in the venv (what is checked is
    the Makefile's own output: a line per stage, no commands or comments echoed)."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    for tool in ("python", "pip", "assistant"):
        stub = venv / "bin" / tool
        stub.write_text("#!/bin/sh\nexit 0\n")
        stub.chmod(0o755)
    done = subprocess.run(["make", "--no-print-directory", "-C", str(ROOT), "run", f"VENV={venv}"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    lines = [x for x in done.stdout.splitlines() if x.strip()]
    assert len(lines) >= 5 and all(x.startswith("==> ") for x in lines), done.stdout
    assert any("PyTorch" in x for x in lines) and any("index" in x for x in lines) and "web UI" in lines[-1]
    assert done.stderr == ""


def test_editable_install_has_no_setuptools_warning(tmp_path):
    """The editable build ``make setup`` does (pip install -e .), run with the installed setuptools on a
    copy of the project: it must not print setuptools' boxed "Editable installation" warning."""
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, tmp_path / name)
    for name in ("assistant", "evals"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__", "out"))
    done = subprocess.run([sys.executable, "-W", "default", "-c",
                           "from setuptools import build_meta; build_meta.build_editable('wheel-out')"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    output = done.stdout + done.stderr
    assert "Please be careful" not in output and "Warning" not in output and "!!" not in output, output[-3000:]
