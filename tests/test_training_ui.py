"""The Duties and Quiz tabs in a real browser (Playwright + system Chromium) against the real app,
plus the named API endpoints over HTTP. Screenshots go to tests/artifacts/training-*.png.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from test_ui_browser import ARTIFACTS, DESKTOP, PHONE, _open, app, browser  # noqa: F401 (fixtures)

TOPIC = "duty-to-co-operate"
TOPIC_NAME = "The duty to co-operate"


@pytest.fixture(scope="module")
def client(app):  # noqa: F811
    from gradio_client import Client

    return Client(app["url"], verbose=False)


@pytest.fixture
def page_at(browser, app):  # noqa: F811
    opened = []

    def make(viewport):
        context, page, outside = _open(browser, app, viewport)
        opened.append((context, outside))
        return page

    yield make
    for context, outside in opened:
        context.close()
        assert outside == [], f"the page tried to reach the internet: {outside}"


def _tab(page, name: str) -> None:
    """Open a tab; on a phone Gradio moves the tabs that don't fit into a "more" menu."""
    tab = page.get_by_role("tab", name=name)
    if tab.count() and tab.first.is_visible():
        tab.first.click()
        return
    page.locator(".overflow-menu button[aria-label='More tabs']").click()
    page.wait_for_selector(".overflow-dropdown:not(.hide)")
    page.locator(".overflow-dropdown button", has_text=name).first.click()
    page.wait_for_selector(f"[role=tab][aria-selected=true]:has-text('{name}'), .overflow-item-selected:has-text('{name}')")


def _settle(page) -> None:
    page.wait_for_timeout(400)


def _open_quiz(page, mode: str, n: int, seed: int, topic_name: str | None = TOPIC_NAME) -> None:
    _tab(page, "Quiz")
    page.wait_for_selector("#quiz-card .qz-intro")
    page.get_by_label("Trainer: one screen for the room" if mode == "trainer" else "Self-study: one governor").check()
    if topic_name:
        page.wait_for_function("() => true")
        dropdown = page.locator("#quiz-topic input")
        dropdown.click()
        page.get_by_role("option", name=topic_name).click()
        assert dropdown.input_value() == topic_name
    number = page.locator("#quiz-n input[type=number]")
    number.fill(str(n))
    number.press("Tab")
    seed_box = page.locator("#quiz-seed input")
    seed_box.fill(str(seed))
    seed_box.press("Tab")
    page.click("#quiz-start")
    page.wait_for_selector("#quiz-card .qz-card[data-q='1'][data-state=asking]")


def _pick(page, label_start: str) -> None:
    page.locator("#quiz-choice label", has_text=label_start).first.click()


def test_api_endpoints(client):
    cards = client.predict(api_name="/duties")
    assert [c["id"] for c in cards][0] == TOPIC and len(cards) == 5
    assert all(line["citation"]["quote"] for c in cards for f in c["fields"] for line in f["lines"])
    glossary = client.predict(api_name="/glossary")
    assert any(g["term"] == "Schools Forum" for g in glossary)
    questions = client.predict(4, 9, TOPIC, api_name="/quiz")
    assert len(questions) == 4 and client.predict(4, 9, TOPIC, api_name="/quiz") == questions
    assert all(TOPIC in q["topics"] and q["answer"] in q["choices"] for q in questions)


def test_trainer_round_with_reveal_and_room_score(page_at, client):
    page = page_at(DESKTOP)
    _tab(page, "Quiz")
    page.wait_for_selector("#quiz-card .qz-intro")
    page.screenshot(path=str(ARTIFACTS / "training-desktop-1-quiz-setup.png"))
    expected = client.predict(3, 2, TOPIC, api_name="/quiz")
    _open_quiz(page, "trainer", 3, 2)
    assert "Room" in page.text_content("#quiz-score") or page.text_content("#quiz-score").strip()
    plan = ["right", "wrong", "none"]  # what the room answers to questions 1, 2, 3
    for i, (q, what) in enumerate(zip(expected, plan), start=1):
        card = page.locator(f"#quiz-card .qz-card[data-q='{i}']")
        card.wait_for()
        assert f"Question {i} of 3" in card.locator(".qz-progress").text_content()
        assert "The duty to co-operate" in card.locator(".qz-progress").text_content()
        shown = card.locator(".qz-text").text_content()
        assert shown.strip("“”") == q["question"].split("“", 1)[1][:-1]
        labels = [x.strip() for x in page.locator("#quiz-choice label").all_text_contents()]
        assert labels == [f"{'ABCD'[k]}. {c}" for k, c in enumerate(q["choices"])]
        assert "room" in page.locator("#quiz-choice").text_content().lower()
        if what == "right":
            _pick(page, f"{'ABCD'[q['answer_index']]}. ")
        elif what == "wrong":
            _pick(page, f"{'ABCD'[(q['answer_index'] + 1) % len(q['choices'])]}. ")
        if i == 1:
            _settle(page)
            page.screenshot(path=str(ARTIFACTS / "training-desktop-2-question.png"))
        page.click("#quiz-reveal")
        page.wait_for_selector(f"#quiz-card .qz-card[data-q='{i}'][data-state=revealed]")
        result = card.locator(".qz-result")
        assert {"right": "qz-right", "wrong": "qz-wrong", "none": "qz-shown"}[what] in result.get_attribute("class")
        assert f"{'ABCD'[q['answer_index']]}. {q['answer']}" in result.locator(".qz-verdict").text_content()
        assert result.locator(".duty-quote").text_content().strip("“”") == q["citation"]["quote"]
        assert result.locator("mark.qz-key").text_content() == q["key_term"]
        assert result.locator(".badge").first.text_content().startswith(("News report", "Proposal"))
        assert page.is_disabled("#quiz-choice input >> nth=0")
        score = page.text_content("#quiz-score")
        assert f"Room score: {1 if i >= 1 else 0}" in score and f"out of {min(i, 2)} answered" in score
        if i == 1:
            _settle(page)
            page.screenshot(path=str(ARTIFACTS / "training-desktop-3-revealed.png"))
        page.click("#quiz-next")
    final = page.locator("#quiz-card .qz-final")
    final.wait_for()
    assert "The room scored 1 out of 3" in final.text_content()
    assert page.locator("#quiz-card .qz-review li").count() == 3
    assert not page.locator("#quiz-reveal").is_visible() and not page.locator("#quiz-choice").is_visible()
    _settle(page)
    page.screenshot(path=str(ARTIFACTS / "training-desktop-4-final.png"))
    with page.expect_download() as pdf:
        page.click("#pack-pdf")
    assert Path(pdf.value.path()).read_bytes().startswith(b"%PDF")
    with page.expect_download() as md:
        page.click("#pack-md")
    text = Path(md.value.path()).read_text("utf-8")
    assert all(q["citation"]["quote"] in text for q in expected)


def test_self_study_needs_an_answer_and_gives_feedback_by_keyboard(page_at, client):
    page = page_at(DESKTOP)
    expected = client.predict(2, 5, "", api_name="/quiz")
    _open_quiz(page, "self", 2, 5, topic_name=None)
    assert page.text_content("#quiz-reveal").strip() == "Check my answer"
    page.click("#quiz-reveal")  # nothing chosen yet
    page.wait_for_function("document.querySelector('#announce').textContent.includes('Choose an answer first')")
    assert page.locator("#quiz-card .qz-card[data-state=asking]").count() == 1
    # the keyboard user is taken to the choices (the first one), not left on the button
    page.wait_for_function("document.activeElement && document.activeElement.matches('#quiz-choice input')")
    q = expected[0]
    page.locator("#quiz-choice input").nth(q["answer_index"]).focus()
    page.keyboard.press("Space")
    page.wait_for_function(f"document.querySelectorAll('#quiz-choice input')[{q['answer_index']}].checked")
    page.locator("#quiz-reveal").focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("#quiz-card .qz-card[data-q='1'][data-state=revealed] .qz-right")
    assert "Correct" in page.text_content("#quiz-card .qz-verdict")
    page.wait_for_function("document.activeElement && document.activeElement.matches('#quiz-card .qz-verdict')")
    assert "Your score: 1" in page.text_content("#quiz-score")
    page.locator("#quiz-next").focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("#quiz-card .qz-card[data-q='2'][data-state=asking]")
    page.wait_for_function("document.activeElement && document.activeElement.matches('#quiz-card .qz-prompt')")


def test_duties_tab_shows_cited_cards_and_glossary(page_at):
    page = page_at(DESKTOP)
    _tab(page, "Duties")
    page.wait_for_selector("#duties .duty-card")
    assert page.locator("#duties .duty-card").count() == 5
    card = page.locator("#duty-duty-to-co-operate")
    assert "Proposal" in " ".join(card.locator(".duty-badges .badge").all_text_contents()) or \
        "proposal" in card.locator(".duty-badges").text_content()
    fields = card.locator(".duty-field").all_text_contents()
    assert fields[:3] == ["What it is", "Who holds it now (Children Act 2004, as reported in 2008)",
                          "Who is proposed to be added"]
    assert "are bound by the act’s duty to co-operate" in card.text_content()
    assert card.locator(".tr-ref .badge").count() == card.locator(".duty-quote").count()  # each quote's status
    assert page.locator("#duties .gl-item").count() >= 15
    page.screenshot(path=str(ARTIFACTS / "training-desktop-5-duties.png"))


def test_phone_trainer_round_and_duties(page_at):
    page = page_at(PHONE)
    _open_quiz(page, "trainer", 2, 3)
    _settle(page)
    page.screenshot(path=str(ARTIFACTS / "training-phone-1-question.png"), full_page=True)
    for i in (1, 2):
        page.click("#quiz-reveal")
        page.wait_for_selector(f"#quiz-card .qz-card[data-q='{i}'][data-state=revealed]")
        if i == 1:
            _settle(page)
            page.screenshot(path=str(ARTIFACTS / "training-phone-2-revealed.png"), full_page=True)
        page.click("#quiz-next")
    page.wait_for_selector("#quiz-card .qz-final")
    assert "The room scored 0 out of 2" in page.text_content("#quiz-card .qz-final")
    _settle(page)
    page.screenshot(path=str(ARTIFACTS / "training-phone-3-final.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    _tab(page, "Duties")
    page.wait_for_selector("#duties .duty-card")
    _settle(page)
    page.screenshot(path=str(ARTIFACTS / "training-phone-4-duties.png"))
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
