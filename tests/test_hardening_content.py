"""Issue 12, items 5, 7, 8 and 9: what a document's *content* can do to an answer or an export.

* 5: the Markdown export renders document and user text as text (no links, images, autolinks, reference
  links or raw HTML); the PDF export shows a visible mark, and says so, for characters its font lacks.
* 7: a document's own "[2]" (a footnote mark) is never taken for a citation marker: the answer says
  where its markers are, and the UI (a real browser) shows the document's brackets as plain text.
* 8: no quote is longer than ``ASSISTANT_MAX_ANSWER_WORDS``, however long the document's sentence.
* 9: Word tables and page headers, and HTML text in ``<div>``s, are loaded in reading order; data URIs
  and other long runs with no spaces are not.

Real model, real Chroma store, the real app in a subprocess for the browser.
"""
from __future__ import annotations

import base64
import json
import os
import re
from pathlib import Path

import pytest

from conftest import ROOT, copy_corpus, run_cli, running_app

FOOTNOTE_TITLE = "Harbour lighthouse restoration notes"
FOOTNOTE_DOC = """Harbour lighthouse restoration notes

The harbour lighthouse was repainted in bright saffron yellow by the parish volunteers in 1921 [2], after the old red paint had peeled away in the winter storms.

Its paraffin lamp was replaced with an electric lamp in 1934 [3], and the keeper's cottage was let to the harbour master.

The parish volunteers repainted the lighthouse gallery railings in saffron yellow as well, so that fishermen could see them from the quarry headland.
"""
FOOTNOTE_Q = "What colour did the parish volunteers repaint the harbour lighthouse?"

LONG_TITLE = "Canal towpath survey"
LONG_Q = "Which canal lock gates did the carpenters of Ashbury mend with oak beams?"


def _long_sentence(clauses: int) -> str:
    """One sentence of ``clauses`` comma-separated clauses (about 14 words each), naming canal works."""
    nouns = "lock gate towpath culvert footbridge wharf sluice weir basin boathouse".split()
    people = "carpenters of Ashbury,masons of Dunmere,volunteers of Eldon,surveyors of Fulford".split(",")
    parts = [f"the {people[i % 4]} mended the {nouns[i % 10]} number {i} with oak beams from the old quarry"
             for i in range(clauses)]
    return "In the spring survey " + ", and ".join(parts) + "."


def _ask_words(text: str) -> int:
    from assistant.text import words

    return words(text)


# ---- the library these tests share ------------------------------------------------------------------
@pytest.fixture(scope="module")
def lib(tmp_path_factory):
    """The real corpus plus two made-up documents: one with footnote marks, one whose body is a single
    sentence of about 6,000 words (no sentence boundary anywhere in it)."""
    from assistant import Assistant

    base = tmp_path_factory.mktemp("content")
    copy_corpus(base / "corpus")
    incoming = base / "incoming"
    incoming.mkdir()
    (incoming / "lighthouse-notes.txt").write_text(FOOTNOTE_DOC, "utf-8")
    (incoming / "canal-survey.txt").write_text(f"{LONG_TITLE}\n\n{_long_sentence(420)}\n", "utf-8")
    a = Assistant(corpus_dir=base / "corpus", index_dir=base / "index", data_dir=base / "data")
    a.index()
    a.add([incoming / "lighthouse-notes.txt"], title=FOOTNOTE_TITLE, date="2008-05-01", status="parish record")
    a.add([incoming / "canal-survey.txt"], title=LONG_TITLE, date="2008-05-02", status="parish record")
    return {"base": base, "assistant": a}


def _env(base: Path) -> dict[str, str]:
    return {"ASSISTANT_CORPUS_DIR": str(base / "corpus"), "ASSISTANT_INDEX_DIR": str(base / "index"),
            "ASSISTANT_DATA_DIR": str(base / "data")}


# ---- item 5: the Markdown export renders text as text ---------------------------------------------
HOSTILE = ("See [the form](http://evil.example/form) and ![](http://evil.example/pixel.png) or "
           "[click](javascript:alert(1)) at <http://evil.example/auto> <b onmouseover=alert(1)>bold</b> "
           "<img src=http://evil.example/x.png> [ref][r1] [r1]")
HOSTILE_REF_LINE = "[r1]: http://evil.example/ref"


def _hostile_turns() -> list[dict]:
    quote = f"Schools will co-operate {HOSTILE}."
    answer = {"question": "q", "answer": f"{quote} [1]", "abstained": False, "status": "answered",
              "notice": f"Note {HOSTILE}",
              "citations": [{"n": 1, "doc_id": "d", "title": f"Title {HOSTILE}", "publisher": f"Pub {HOSTILE}",
                             "display_date": "3 July 2008", "status": "letter", "location": "paragraph 1",
                             "quote": quote}]}
    abstained = {"question": "q2", "answer": "", "abstained": True, "status": "no_evidence",
                 "message": f"Not covered {HOSTILE}", "citations": []}
    return [{"question": f"Who? {HOSTILE}\n{HOSTILE_REF_LINE}", "answer": answer},
            {"question": f"{HOSTILE_REF_LINE}", "answer": abstained}]


def test_markdown_export_renders_links_images_and_html_as_text():
    from markdown_it import MarkdownIt

    from assistant.export import to_markdown

    md = to_markdown(_hostile_turns())
    html = MarkdownIt("commonmark").render(md)
    tags = set(re.findall(r"<(\w+)", html))
    assert tags <= {"h1", "h2", "p", "em", "strong", "ol", "li", "blockquote", "br"}, f"the export renders {tags}"
    assert not re.search(r"<[^>]*(href|src|on\w+)=", html), "a tag with a link, a source or a handler"
    # still readable: the words and the addresses are there as text
    text = re.sub(r"<[^>]+>", "", html)
    assert "[the form](http://evil.example/form)" in text.replace("&quot;", '"')
    assert "![](http://evil.example/pixel.png)" in text
    assert "&lt;http://evil.example/auto&gt;" in html


MISSING_GLYPH = "\ufffd"  # the replacement character: a visible mark where a glyph is missing


def test_pdf_export_marks_characters_its_font_lacks(tmp_path):
    from pypdf import PdfReader

    from assistant.export import write_pdf

    turns = _hostile_turns()[:1]
    turns[0] = {"question": "Who runs the 学校 council? 🧑‍🏫", "answer": {
        **turns[0]["answer"], "answer": "Schools co-operate 学校 🦉. [1]",
        "citations": [{**turns[0]["answer"]["citations"][0], "quote": "Schools co-operate 学校 🦉."}]}}
    pdf = write_pdf(turns, tmp_path / "c.pdf")
    text = " ".join(p.extract_text() for p in PdfReader(str(pdf)).pages)
    assert "Schools co-operate" in text
    assert text.count(MISSING_GLYPH) >= 4, f"missing glyphs were dropped silently: {text[:600]!r}"
    assert "could not be shown" in text


def test_pdf_export_without_dejavu_marks_characters_too(tmp_path, monkeypatch):
    """A machine without DejaVu: the built-in Helvetica (Latin-1 only) marks the gaps as "[?]"."""
    from pypdf import PdfReader

    import assistant.export as export

    monkeypatch.setattr(export, "_font_dir", lambda: None)
    turns = [{"question": "Who runs the 学校 council?", "answer": {
        "answer": "Schools co-operate “fully” 学校. [1]", "abstained": False, "citations": [
            {"n": 1, "title": "T", "publisher": "P", "display_date": "3 July 2008", "status": "letter",
             "location": "paragraph 1", "quote": "Schools co-operate “fully” 学校."}]}}]
    pdf = export.write_pdf(turns, tmp_path / "c.pdf")
    text = " ".join(p.extract_text() for p in PdfReader(str(pdf)).pages)
    assert 'co-operate "fully" [?][?]' in text and "6 characters could not be shown" in text


# ---- item 7: a document's "[2]" is not a citation ---------------------------------------------------
def test_document_brackets_are_not_citation_markers(lib):
    a = lib["assistant"]
    answer = a.ask(FOOTNOTE_Q)
    assert answer.status == "answered", answer.message
    assert any(c.title == FOOTNOTE_TITLE and "[2]" in c.quote for c in answer.citations), answer.answer
    text = answer.answer
    data = json.loads(answer.model_dump_json())
    markers = data.get("markers")
    assert markers is not None, "the answer does not say where its citation markers are"
    numbers = [m["n"] for m in markers]
    assert sorted(numbers) == [c.n for c in answer.citations], (numbers, text)  # each citation: one marker
    for m in markers:
        assert text[m["start"]:m["end"]] == f"[{m['n']}]"
    for c in answer.citations:  # each marker follows its own verbatim quote
        assert a.document_text(c.doc_id)[c.start:c.end] == c.quote
        mark = next(m for m in markers if m["n"] == c.n)
        assert text[:mark["start"]].endswith(c.quote + " ")
    # the document's own "[2]" is inside a quote, not a marker
    own = text.index("1921 [2]") + len("1921 ")
    assert all(m["start"] != own for m in markers)


def test_markdown_export_keeps_document_brackets_apart_from_markers(lib):
    from markdown_it import MarkdownIt

    from assistant.export import to_markdown

    answer = lib["assistant"].ask(FOOTNOTE_Q)
    md = to_markdown([{"question": FOOTNOTE_Q, "answer": answer}])
    line = next(x for x in md.splitlines() if "1921" in x and "saffron" in x and not x.lstrip().startswith(">"))
    assert "1921 \\[2\\]" in line  # the document's bracket, escaped: shown as text
    assert line.count("**[") == len(answer.citations)  # the citation markers, one per citation
    html = MarkdownIt("commonmark").render(md)
    assert "1921 [2]" in html


@pytest.fixture(scope="module")
def served(lib):
    with running_app(lib["base"]) as app:
        yield app


@pytest.mark.skipif(not Path("/usr/bin/chromium").exists() and not os.environ.get("CI"),
                    reason="/usr/bin/chromium not installed")
def test_ui_shows_document_brackets_as_text(served):
    from playwright.sync_api import sync_playwright

    from test_ui_browser import CHROMIUM, CHROMIUM_ARGS

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page()
            page.set_default_timeout(30_000)
            page.goto(served["url"])
            page.wait_for_selector("#question textarea")
            page.fill("#question textarea", FOOTNOTE_Q)
            page.keyboard.press("Enter")
            page.wait_for_selector("#turn-0[data-state=done]", timeout=90_000)
            cards = page.locator("#turn-0 .cite").count()
            refs = page.locator("#turn-0 .a-text .ref")
            numbers = [refs.nth(i).get_attribute("data-n") for i in range(refs.count())]
            assert cards >= 1 and sorted(numbers) == [str(n) for n in range(1, cards + 1)], \
                f"{numbers} markers for {cards} sources"
            plain = page.evaluate("""() => { const p = document.querySelector('#turn-0 .a-text').cloneNode(true);
                p.querySelectorAll('.ref').forEach(b => b.remove()); return p.textContent; }""")
            assert "1921 [2]" in plain, plain  # the document's own bracket is text, not a link to source 2
        finally:
            browser.close()


# ---- item 8: no quote past the answer budget ------------------------------------------------------
def test_one_enormous_sentence_is_quoted_within_the_budget(lib):
    a = lib["assistant"]
    answer = a.ask(LONG_Q)
    assert answer.status == "answered", answer.message
    assert any(c.title == LONG_TITLE for c in answer.citations)
    assert _ask_words(answer.answer) <= a.settings.max_answer_words, f"{_ask_words(answer.answer)} words"
    for c in answer.citations:
        assert a.document_text(c.doc_id)[c.start:c.end] == c.quote


def test_cli_answer_stays_within_a_small_budget(lib):
    """Through the CLI, with ASSISTANT_MAX_ANSWER_WORDS=25: every answer (corpus questions whose best
    quote is longer, and the enormous sentence, whose pieces are longer too) holds the budget or abstains."""
    questions = [LONG_Q, "Which bodies are bound by the duty to co-operate?",
                 "What did Ed Balls say head teachers tell him?", "When was the Secretary of State's letter sent?"]
    batch = "\n".join(json.dumps({"id": str(i), "question": q}) for i, q in enumerate(questions))
    path = lib["base"] / "budget.jsonl"
    path.write_text(batch + "\n", "utf-8")
    r = run_cli(["ask", "--batch", str(path)], {**_env(lib["base"]), "ASSISTANT_MAX_ANSWER_WORDS": "25"})
    assert r.returncode == 0, r.stderr
    answers = [json.loads(line) for line in r.stdout.splitlines() if line.strip()]
    assert len(answers) == len(questions)
    for got in answers:
        if got["status"] == "answered":
            # the budget is the quotes': a question about a document itself also gets the library's record
            # of it (its catalogue details, labelled, like the notice), which is not quoted text
            assert _ask_words(got["quotes"]) <= 25, (got["question"], _ask_words(got["quotes"]))
    assert any(got["status"] == "answered" for got in answers), [got["status"] for got in answers]


def test_long_sentences_are_split_at_clause_boundaries():
    from assistant.library.chunking import split_sentences
    from assistant.config import Settings
    from assistant.text import words

    commas = _long_sentence(60)
    bare = "Then " + " ".join(f"word{i}" for i in range(1000)) + "."
    text = f"A short opening sentence here. {commas} {bare} A short closing sentence here."
    spans = split_sentences(text)
    pieces = [text[s.start:s.end] for s in spans]
    assert all(words(p) <= Settings().max_answer_words for p in pieces), max(words(p) for p in pieces)
    assert pieces[0] == "A short opening sentence here." and pieces[-1] == "A short closing sentence here."
    assert " ".join(pieces) == " ".join(text.split())  # nothing lost, nothing reordered
    inner = [p for p in pieces if "mended" in p]
    assert all(p.endswith(",") or p.endswith(".") for p in inner)  # split after a comma, not mid-clause


# ---- item 9: loaders keep tables, headers and all block text; drop non-prose ------------------------
def _docx(path: Path, header: str | None, paragraphs_before: list[str], rows: list[list[str]],
          paragraphs_after: list[str]) -> Path:
    import docx

    d = docx.Document()
    if header:
        d.sections[0].header.paragraphs[0].text = header
    for p in paragraphs_before:
        d.add_paragraph(p)
    if rows:
        table = d.add_table(rows=len(rows), cols=len(rows[0]))
        for r, row in enumerate(rows):
            for c, cell in enumerate(row):
                table.cell(r, c).text = cell
    for p in paragraphs_after:
        d.add_paragraph(p)
    d.save(path)
    return path


ROWS = [["Role", "Responsibility"],
        ["Attendance lead", "The attendance lead telephones every family on the first morning of an absence."],
        ["Governors", "The governing body reviews the attendance figures every term."]]


def test_docx_tables_and_headers_are_read_in_order(tmp_path):
    from assistant.library.loaders import load_text

    path = _docx(tmp_path / "policy.docx", "Oakfield Primary School attendance policy",
                 ["This policy explains how the school follows up absence."], ROWS,
                 ["The policy is reviewed every two years."])
    text = load_text(path)
    order = ["Oakfield Primary School attendance policy", "This policy explains", "Role", "Attendance lead",
             "telephones every family", "governing body reviews", "reviewed every two years"]
    at = [text.find(x) for x in order]
    assert -1 not in at and at == sorted(at), (at, text)
    assert "Attendance lead" in text.split("telephones")[0].splitlines()[-1]  # a row stays on one line


def test_table_only_docx_is_added_and_answers(lib, tmp_path):
    """Through the Python API (the CLI's and the admin tab's ``add``): was refused as a scanned image."""
    a = lib["assistant"]
    path = _docx(tmp_path / "attendance-table.docx", None, [], ROWS, [])
    report = a.add([path], title="Oakfield attendance table", date="2008-05-03", status="school policy")
    assert "telephones every family on the first morning" in a.document_text("attendance-table"), report
    answer = a.ask("Who telephones families on the first morning of an absence?")
    assert answer.status == "answered", answer.message
    assert "telephones every family" in answer.answer


def test_html_keeps_div_text_in_order_and_drops_blobs(tmp_path):
    from assistant.library.loaders import load_text

    blob = base64.b64encode(os.urandom(150_000)).decode()
    page = f"""<html><body>
<div class="intro">The school council meets every Tuesday in the library.</div>
<p>Pupils elect two council members from each class in September.</p>
<div><span>The council</span> <em>chooses</em> one charity to support each year.
  <p>Council minutes are posted on the hall noticeboard.</p>
  The head teacher attends one meeting each term.</div>
<p>Photo: <img src="data:image/png;base64,{blob[:5000]}"> data:image/png;base64,{blob[:3000]} {blob}</p>
<p>Meetings end at four o'clock.</p>
</body></html>"""
    path = tmp_path / "council.html"
    path.write_text(page, "utf-8")
    text = load_text(path)
    order = ["meets every Tuesday", "Pupils elect", "The council chooses one charity", "Council minutes",
             "head teacher attends", "Meetings end"]
    at = [text.find(x) for x in order]
    assert -1 not in at and at == sorted(at), (at, text[:800])
    assert blob[:40] not in text and "base64" not in text, f"{len(text)} characters: {text[:300]}"
    assert len(text) < 1000


def test_a_file_of_only_encoded_data_is_refused_and_changes_nothing(lib, tmp_path):
    from assistant.errors import LoadError
    from conftest import state_fingerprint

    a = lib["assistant"]
    blob = base64.b64encode(os.urandom(60_000)).decode()
    path = tmp_path / "pixel.html"
    path.write_text(f'<html><body><p><img src="data:image/png;base64,{blob}"></p><p>{blob}</p></body></html>', "utf-8")
    before = state_fingerprint(a)
    with pytest.raises(LoadError, match=r"^pixel\.html: the file holds only encoded data \(long runs of characters "
                                        r"with no spaces\), no readable text\.$"):
        a.add([path], title="Pixel", date="2008-05-04")
    assert state_fingerprint(a) == before
