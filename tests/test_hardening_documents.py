"""Issue 30, items 10, 14 and 15: what an added document can do to answers and citation cards.

* 10: text a reader of an HTML page cannot see (``hidden``, ``display: none``, ``visibility: hidden``,
  ``aria-hidden``, ``<template>``, ``<noscript>``, a hiding rule of the page's own stylesheet) is never indexed
  or quoted: a page that hides "Schools are exempt from the duty to co-operate." is added and asked about
  through the real add and ask path (library API, real model and Chroma store).
* 14: ``assistant ask`` (text output, a CLI subprocess) says that a quoted "[2]" is the document's own, not a
  source, where the JSON, the UI and the Markdown already keep it apart from the citation markers.
* 15: an added document cannot take another's title (case and spacing aside), through the CLI and the
  library API; the refusal changes nothing.
"""
from __future__ import annotations

import json
import re

import pytest

from conftest import app_env, run_cli, seed_corpus, state_fingerprint
from test_hardening_content import FOOTNOTE_DOC, FOOTNOTE_Q, FOOTNOTE_TITLE

SEEDS = ("dcsf-2008-07-03-letter", "cc-2008-07-balls-duty-to-cooperate")
HIDDEN = "Schools are exempt from the duty to co-operate."
HIDDEN_Q = "Are schools exempt from the duty to co-operate?"
PAGE_TITLE = "Oakfield Primary: working with partners"
PAGE = f"""<!doctype html>
<html><head><title>Oakfield</title>
<style>/* the page's own stylesheet */ .small-print {{ color: grey; display : none !important }}
@media print {{ .screen-only {{ display: none }} }}</style></head>
<body>
<h1>{PAGE_TITLE}</h1>
<p>Oakfield Primary works with the local authority, health services and the police under the duty to
co-operate, so that every pupil's well-being is looked after by the people best placed to help.</p>
<p hidden>{HIDDEN}</p>
<div style="color: red; display:none">{HIDDEN}</div>
<p><span style="visibility: hidden">{HIDDEN}</span> Governors review the partnership plan each spring.</p>
<p aria-hidden="true">{HIDDEN}</p>
<template><p>{HIDDEN}</p></template>
<noscript><p>{HIDDEN}</p></noscript>
<p class="small-print">{HIDDEN}</p>
<p class="screen-only">The head teacher reports on the partnership to parents every term.</p>
<script>document.write("{HIDDEN}")</script>
</body></html>
"""


@pytest.fixture(scope="module")
def lib(tmp_path_factory):
    """Two seed documents, the HTML page and a document with footnote marks ("[2]"), added the real way."""
    from assistant import Assistant

    base = tmp_path_factory.mktemp("documents30")
    corpus = seed_corpus(base / "corpus", SEEDS)
    incoming = base / "incoming"
    incoming.mkdir()
    (incoming / "oakfield-partners.html").write_text(PAGE, "utf-8")
    (incoming / "lighthouse-notes.txt").write_text(FOOTNOTE_DOC, "utf-8")
    a = Assistant(corpus_dir=corpus, index_dir=base / "index", data_dir=base / "data", refresh_seconds=0)
    a.index()
    a.add([incoming / "oakfield-partners.html"], title=PAGE_TITLE, date="2008-09-01", status="school policy")
    a.add([incoming / "lighthouse-notes.txt"], title=FOOTNOTE_TITLE, date="2008-05-01", status="parish record")
    return {"base": base, "a": a, "env": app_env(base), "incoming": incoming}


# ---- item 10: hidden HTML text ----------------------------------------------------------------------
def test_hidden_html_text_is_never_indexed_or_quoted(lib):
    a = lib["a"]
    text = a.document_text("oakfield-partners")
    assert "duty to co-operate, so that every pupil" in text and "Governors review the partnership plan" in text
    assert "reports on the partnership to parents" in text  # hidden only when printed: a reader sees it
    assert "exempt" not in text, text
    sentences = a.store.sentences.get(include=["documents"])["documents"]
    assert not [s for s in sentences if "exempt" in s.lower()], "a hidden sentence was indexed"
    answer = a.ask(HIDDEN_Q)
    assert "exempt from the duty" not in answer.answer, answer.answer
    assert not [c for c in answer.citations if "exempt" in c.quote.lower()], answer.citations


# ---- item 14: a document's "[2]" in `assistant ask` text output ------------------------------------
def test_ask_text_output_says_a_quoted_bracket_is_the_documents_own(lib):
    done = run_cli(["ask", FOOTNOTE_Q, "--json"], lib["env"])
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert any("[2]" in c["quote"] for c in data["citations"]), data["answer"]
    marks = {(m["start"], m["end"]) for m in data["markers"]}
    own = sorted({m.group() for m in re.finditer(r"\[\d+\]", data["answer"]) if (m.start(), m.end()) not in marks})
    assert "[2]" in own, data

    done = run_cli(["ask", FOOTNOTE_Q], lib["env"])
    assert done.returncode == 0, done.stderr
    body, _, listed = done.stdout.partition("\nSources:\n")
    assert "1921 [2]" in " ".join(body.split()), done.stdout
    notes = " ".join(" ".join(ln.split()) for ln in body.split("\n\n") if ln.startswith("Note:"))
    for bracket in own:  # every bracket of the quoted text that is no citation is said to be the document's
        assert f"the {bracket} in" in notes and "document's own" in notes and "not a citation" in notes, done.stdout
    assert "“volunteers in 1921 [2]”" in notes, notes  # which one: the words it follows
    assert len(re.findall(r"^\[\d+\] ", listed, re.M)) == len(data["citations"]), listed

    plain = run_cli(["ask", "Can the local authority make schools co-operate?"], lib["env"])
    assert plain.returncode == 0 and "Sources:" in plain.stdout, plain.stderr
    assert "document's own" not in plain.stdout  # no note where the answer holds no bracket of its own


# ---- item 15: a title already in the library -----------------------------------------------------
def _one_error_line(done) -> str:
    lines = [ln for ln in done.stderr.splitlines() if ln.strip() and not ln.startswith("warning:")]
    assert done.returncode == 2 and len(lines) == 1 and lines[0].startswith("error: "), (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr
    return lines[0]


def test_an_added_document_cannot_take_another_documents_title(lib, tmp_path):
    from assistant.errors import InputError

    a = lib["a"]
    taken = a.sources()
    seed_title = next(r["title"] for r in taken if r["id"] == SEEDS[0])
    new = tmp_path / "orchard-notes.txt"
    new.write_text("The orchard notes say the pupils planted twelve apple trees in March. Parents helped.", "utf-8")
    good = state_fingerprint(a)

    for title in (seed_title, f"  {seed_title.upper()}  ", FOOTNOTE_TITLE.replace(" ", "  ")):
        line = _one_error_line(run_cli(["add", str(new), "--title", title], lib["env"]))
        assert "already the title of" in line and "title of its own" in line, line
    same_name = tmp_path / "Harbour_lighthouse_restoration_notes.txt"  # its title from the file name clashes
    same_name.write_text("Different notes about the harbour wall and the ferry steps, written in 2009.", "utf-8")
    line = _one_error_line(run_cli(["add", str(same_name)], lib["env"]))
    assert f"'{FOOTNOTE_TITLE}'" in line and "lighthouse-notes" in line, line
    assert state_fingerprint(a) == good

    with pytest.raises(InputError, match="already the title of 'dcsf-2008-07-03-letter'"):
        a.add([new], title=seed_title.lower(), date="2009-03-01")
    second = tmp_path / "pond-notes.txt"
    second.write_text("The pond notes say the pupils counted frogs in April. A parent built a bench.", "utf-8")
    with pytest.raises(InputError, match="like orchard-notes.txt in this add"):
        a.add([new, second], title="Nature notes", date="2009-03-01")  # one title for two files
    assert state_fingerprint(a) == good
    assert [r["title"] for r in a.sources()] == [r["title"] for r in taken]

    done = run_cli(["add", str(new), "--title", "Orchard planting notes", "--date", "2009-03-01"], lib["env"])
    assert done.returncode == 0, done.stderr  # a title of its own is taken as given
    titles = [r["title"] for r in json.loads(run_cli(["sources", "--json"], lib["env"]).stdout)]
    assert "Orchard planting notes" in titles and len(titles) == len(set(titles)) == len(taken) + 1
