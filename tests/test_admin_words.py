"""Issue 31, items 2, 8 and 10: admin in the web's words, a document's details edited without removing it,
and the CLI as people type it.

* The web form's messages speak of its fields and buttons (Date, Status, "Edit a document's details",
  "Save details", "Remove a document"), never the CLI's flags; the CLI speaks of its flags
  (``assistant edit ID --date … --status …``). The library's errors carry the data (``IdTaken``,
  ``UnknownDocument``, ``field``) and each interface words it.
* An uploaded document's title is its own heading; "unknown" / "unspecified" read "not recorded", with an
  "Edit details" link in the Sources tab that opens the edit section with the document chosen.
* ``add`` then ``remove`` leaves ``corpus/sources.toml`` byte for byte as it was (CLI and web).
* CLI: bare ``assistant`` prints the help; ``quiz -n 3``; ``duties`` prints the topic ids ``--topic`` takes;
  ``assistant eval --help`` names itself; ``ask --previous`` says how the follow-up was read; output wrapped
  to the terminal's width, the quotes one paragraph with single spaces.

The app runs for real in a subprocess (HTTP with gradio_client; headless Chromium for the edit flow, with
screenshots in tests/artifacts/ ``*-adminwords-*.png``); the CLI runs as a subprocess.
"""
from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest

from conftest import copy_corpus, run_cli, running_app
from test_training_ui import _tab  # a tab, or on a phone the "more tabs" menu
from test_ui_browser import ARTIFACTS, CHROMIUM, DESKTOP, PHONE, _open, browser  # noqa: F401  (shared Chromium)

PASSWORD = "adminwords-password"
CLI_WORDS = re.compile(r"--[a-z]|`assistant |sources\.toml|assistant (add|edit|index|remove)")
ROTA = "Harbour rota for the summer term\n\nThe harbour volunteers will repaint the lighthouse railings each May.\n"


def _text(html: str) -> str:
    import html as html_lib

    return html_lib.unescape(re.sub(r"<[^>]+>", " ", html))


# ---- the real app ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def app(tmp_path_factory):
    base = tmp_path_factory.mktemp("adminwords")
    copy_corpus(base / "corpus")
    with running_app(base, ASSISTANT_ADMIN_PASSWORD=PASSWORD) as served:
        yield {**served, "corpus": base / "corpus", "base": base}


@pytest.fixture(scope="module")
def client(app):
    from gradio_client import Client

    return Client(app["url"], verbose=False)


def _sources(client) -> dict:
    return {s["id"]: s for s in client.predict(api_name="/sources")}


def test_web_upload_edit_and_remove_speak_of_the_form(app, client, tmp_path):
    from gradio_client import handle_file

    manifest = app["corpus"] / "sources.toml"
    before = manifest.read_bytes()
    rota = tmp_path / "harbour-rota-2008.txt"
    rota.write_text(ROTA, "utf-8")
    message, library_html, *lists = client.predict(handle_file(str(rota)), "", "", None, None, "", PASSWORD,
                                                   api_name="/add_document")
    said = _text(message)
    assert "msg-ok" in message and "without its date or status" in said, said
    assert "Date and Status" in said and "Edit a document's details" in said and "Save details" in said, said
    assert not CLI_WORDS.search(said), said  # no flags, commands or file names of the CLI
    assert lists[-1]["value"] == "harbour-rota-2008"  # chosen in the edit section, ready for its Date and Status
    row = _sources(client)["harbour-rota-2008"]
    assert row["title"] == "Harbour rota for the summer term"  # its own heading, not "Harbour rota 2008"
    item = re.search(r'<li class="lib-item">(?:(?!</li>).)*harbour-rota-2008(?:(?!</li>).)*</li>', library_html, re.S)[0]
    assert "Publisher not recorded" in item and "Status: not recorded" in item, item
    assert "unknown" not in _text(item) and "unspecified" not in _text(item), item
    assert 'data-action="edit" data-doc="harbour-rota-2008"' in item

    # the same file again: the id is taken; the form's way out is named, not --id
    again, *_ = client.predict(handle_file(str(rota)), "", "", None, None, "", PASSWORD, api_name="/add_document")
    said = _text(again)
    assert "msg-error" in again and "already in the library" in said and "Remove a document" in said, said
    assert "rename the file" in said and not CLI_WORDS.search(said), said

    # a wrong date: the Date field is named, not --date
    bad, *_ = client.predict("harbour-rota-2008", row["title"], "May 2008", None, "statutory guidance", "", PASSWORD,
                             api_name="/edit_document")
    said = _text(bad)
    assert "msg-error" in bad and said.strip().startswith("Date:") and not CLI_WORDS.search(said), said
    assert _sources(client)["harbour-rota-2008"]["status"] == "unspecified"  # nothing changed

    refused, *_ = client.predict("harbour-rota-2008", row["title"], "2008-05-01", None, "statutory guidance", "",
                                 "wrong-password", api_name="/edit_document")
    assert "msg-error" in refused and "not been changed" in refused, refused
    assert _sources(client)["harbour-rota-2008"]["status"] == "unspecified"

    saved, library_html, *_ = client.predict("harbour-rota-2008", row["title"], "2008-05-01", None,
                                             "statutory guidance", "Harbour trust", PASSWORD, api_name="/edit_document")
    said = _text(saved)
    assert "msg-ok" in saved and "Date" in said and "Status" in said and not CLI_WORDS.search(said), said
    row = _sources(client)["harbour-rota-2008"]
    assert (row["date"], row["display_date"], row["status"], row["publisher"]) == \
        ("2008-05-01", "1 May 2008", "statutory guidance", "Harbour trust")
    assert row["passages"] >= 1  # still indexed: edited, not removed
    answer = client.predict("When will the harbour volunteers repaint the lighthouse railings?", api_name="/ask")
    quoted = [c for c in answer["citations"] if c["doc_id"] == "harbour-rota-2008"]
    assert quoted and quoted[0]["status"] == "statutory guidance" and quoted[0]["display_date"] == "1 May 2008"

    gone, *_ = client.predict("harbour-rota-2008", PASSWORD, api_name="/remove_document")
    assert "msg-ok" in gone, gone
    assert manifest.read_bytes() == before  # byte for byte, no blank line left behind
    missing, *_ = client.predict("harbour-rota-2008", PASSWORD, api_name="/remove_document")
    said = _text(missing)
    assert "No document with id 'harbour-rota-2008'" in said and "choose a document from the list" in said, said
    assert not CLI_WORDS.search(said), said


@pytest.mark.parametrize("screen", ["desktop", "phone"])
def test_edit_details_from_the_sources_tab_in_a_browser(app, client, browser, tmp_path, screen):  # noqa: F811
    """"Edit details" beside a document whose status is not recorded opens Manage library's edit section
    with the document chosen; Date and Status saved there show in the Sources tab."""
    from gradio_client import handle_file

    doc_id = f"orchard-notes-{screen}"
    note = tmp_path / f"{doc_id}.txt"
    note.write_text(f"Orchard notes ({screen})\n\nThe orchard trust agreed to plant forty pear trees by the "
                    f"{screen} gate.\n", "utf-8")
    message, *_ = client.predict(handle_file(str(note)), "", "", None, None, "", PASSWORD, api_name="/add_document")
    assert "msg-ok" in message, message
    context, page, outside = _open(browser, app, DESKTOP if screen == "desktop" else PHONE)
    try:
        _tab(page, "Sources")
        item = page.locator("#library .lib-item", has_text=f"Orchard notes ({screen})")
        item.locator(".lib-facts", has_text="Status: not recorded").wait_for()
        item.scroll_into_view_if_needed()
        page.wait_for_timeout(400)  # a closing menu or smooth scroll settles first
        page.screenshot(path=str(ARTIFACTS / f"{screen}-adminwords-1-not-recorded.png"))
        item.get_by_role("button", name=re.compile("Edit the details")).click()
        page.locator("#edit-title input, #edit-title textarea").first.wait_for()
        page.wait_for_function(f"() => (document.querySelector('#edit-title textarea, #edit-title input') || {{}}).value"
                               f" === 'Orchard notes ({screen})'")
        assert page.locator("#edit-doc input").input_value() .startswith(f"Orchard notes ({screen})")
        assert page.locator("#edit-date input, #edit-date textarea").first.input_value() == ""
        page.locator("#admin-password input").fill(PASSWORD)
        page.locator("#edit-date input, #edit-date textarea").first.fill("2008-09-01")
        status = page.locator("#edit-status input")
        status.fill("statutory guidance")
        status.press("Enter")
        page.locator("#edit-date input, #edit-date textarea").first.scroll_into_view_if_needed()
        page.wait_for_timeout(400)  # a closing menu or smooth scroll settles first
        page.screenshot(path=str(ARTIFACTS / f"{screen}-adminwords-2-edit-section.png"))
        page.locator("#edit-save").click()
        ok = page.locator("#admin-message .msg-ok")
        ok.wait_for(timeout=120_000)
        said = ok.inner_text()
        assert "Saved the new Date and Status" in said and not CLI_WORDS.search(said), said
        ok.scroll_into_view_if_needed()
        page.wait_for_timeout(400)  # a closing menu or smooth scroll settles first
        page.screenshot(path=str(ARTIFACTS / f"{screen}-adminwords-3-saved.png"))
        _tab(page, "Sources")
        item = page.locator("#library .lib-item", has_text=f"Orchard notes ({screen})")
        item.locator(".lib-facts", has_text="Status: statutory guidance").wait_for()
        assert "1 September 2008" in item.inner_text() and item.locator(".edit-doc").count() == 1  # publisher still not recorded
        item.scroll_into_view_if_needed()
        page.wait_for_timeout(400)  # a closing menu or smooth scroll settles first
        page.screenshot(path=str(ARTIFACTS / f"{screen}-adminwords-4-sources-after.png"))
    finally:
        context.close()
        client.predict(doc_id, PASSWORD, api_name="/remove_document")
    assert outside == [], outside


# ---- the CLI ------------------------------------------------------------------------------------------
@pytest.fixture
def lib(tmp_path, assistant, env_dirs):
    """A private copy of the indexed library (corpus and index), so a test may change it."""
    base = tmp_path / "lib"
    shutil.copytree(env_dirs["ASSISTANT_CORPUS_DIR"], base / "corpus")
    shutil.copytree(env_dirs["ASSISTANT_INDEX_DIR"], base / "index")
    return {"ASSISTANT_CORPUS_DIR": str(base / "corpus"), "ASSISTANT_INDEX_DIR": str(base / "index"),
            "ASSISTANT_DATA_DIR": str(base / "data"), "base": base}


def test_cli_add_edit_remove_in_its_own_words(lib, tmp_path):
    env = {k: v for k, v in lib.items() if k != "base"}
    manifest = lib["base"] / "corpus" / "sources.toml"
    before = manifest.read_bytes()
    rota = tmp_path / "harbour-rota-2008.txt"
    rota.write_text(ROTA, "utf-8")
    added = run_cli(["add", str(rota)], env)
    assert added.returncode == 0, added.stderr
    assert "assistant edit harbour-rota-2008 --date YYYY-MM-DD --status" in added.stderr, added.stderr
    listed = run_cli(["sources"], env).stdout.split("harbour-rota-2008\n")[1].split("\n\n")[0]
    assert "publisher not recorded" in listed and "status: not recorded" in listed, listed
    assert "unknown" not in listed and "unspecified" not in listed, listed
    again = run_cli(["add", str(rota)], env)
    assert again.returncode == 2 and "--id" in again.stderr and "assistant remove harbour-rota-2008" in again.stderr

    edited = run_cli(["edit", "harbour-rota-2008", "--date", "2008-05-01", "--status", "statutory guidance"], env)
    assert edited.returncode == 0, edited.stderr
    assert "warning" not in edited.stderr, edited.stderr  # date and status recorded now
    rows = {r["id"]: r for r in json.loads(run_cli(["sources", "--json"], env).stdout)}
    row = rows["harbour-rota-2008"]
    assert (row["title"], row["display_date"], row["status"]) == \
        ("Harbour rota for the summer term", "1 May 2008", "statutory guidance")
    assert row["passages"] >= 1
    bad = run_cli(["edit", "harbour-rota-2008", "--date", "May 2008"], env)
    assert bad.returncode == 2 and bad.stderr.startswith("error: --date:"), bad.stderr
    unknown = run_cli(["edit", "no-such-doc", "--status", "enacted law"], env)
    assert unknown.returncode == 2 and "No document with id 'no-such-doc'" in unknown.stderr
    assert "assistant sources" in unknown.stderr

    removed = run_cli(["remove", "harbour-rota-2008"], env)
    assert removed.returncode == 0, removed.stderr
    assert manifest.read_bytes() == before  # byte for byte


def test_bare_assistant_prints_the_help(env_dirs):
    bare = run_cli([], env_dirs)
    assert bare.returncode == 0 and bare.stdout.startswith("usage: assistant") and "commands:" in bare.stdout
    assert bare.stderr == ""


def test_eval_is_not_a_product_command_and_says_where_it_is(env_dirs):
    """The evaluation lives beside the product (issue 32): `assistant eval` says how to run it instead."""
    for name, tool in (("eval", "python -m evals"), ("bench", "python -m evals.bench")):
        done = run_cli([name, "--help"], env_dirs)
        assert done.returncode == 2 and done.stdout == "", done.stdout[:200]
        assert done.stderr.count("\n") == 1 and f"`{tool}`" in done.stderr, done.stderr


def test_quiz_dash_n_and_duties_print_the_topic_ids(assistant, env_dirs):
    quiz = run_cli(["quiz", "-n", "3", "--seed", "4", "--json"], env_dirs)
    assert quiz.returncode == 0, quiz.stderr
    assert len(quiz.stdout.splitlines()) == 3
    duties = run_cli(["duties"], env_dirs)
    ids = re.findall(r"topic id: ([a-z0-9-]+)", duties.stdout)
    assert sorted(ids) == sorted(c.id for c in assistant.duties()), duties.stdout[:500]
    topic = run_cli(["quiz", "-n", "2", "--topic", ids[0], "--json"], env_dirs)
    assert topic.returncode == 0, topic.stderr


def test_cli_answer_says_how_a_follow_up_was_read_and_fits_the_terminal(assistant, env_dirs):
    env = {**env_dirs, "COLUMNS": "60"}
    follow = run_cli(["ask", "--previous", "Which bodies are bound by the duty to co-operate?", "What about schools?"],
                     env)
    assert follow.returncode == 0, follow.stderr
    json_answer = json.loads(run_cli(["ask", "--json", "--previous", "Which bodies are bound by the duty to co-operate?",
                                      "What about schools?"], env).stdout)
    assert json_answer["follow_up"]
    lead = "Read as a follow-up to" if json_answer["read_with"] else "Read as a follow-up:"
    assert " ".join(follow.stdout.split()).startswith(f"{lead} “{json_answer['read_with'] or json_answer['standalone_question']}”"), \
        follow.stdout[:300]

    plain = run_cli(["ask", "What duty did Ed Balls propose to place on schools?"], env)
    assert plain.returncode == 0, plain.stderr
    lines = plain.stdout.splitlines()
    assert max(map(len, lines)) <= 60, [line for line in lines if len(line) > 60]
    body = re.split(r"\n(?:Note:|Sources:)", plain.stdout)[0].strip()  # the quotes, before the note
    assert "\n\n" not in body and "  " not in body, body  # one paragraph: no break inside a citation group
    sources = plain.stdout.split("\nSources:")[1]
    assert not any("  " in line.strip() for line in sources.splitlines()), sources  # a quote over a paragraph break
    one_line = " ".join(body.split())
    assert re.search(r"\[1\].*\[2\]", one_line), one_line


def test_editing_details_changes_only_those_lines_of_sources_toml(tmp_path):
    """No model needed: the manifest keeps its comments, its order and every other entry as they were."""
    import difflib

    from assistant.library.details import edit

    corpus = copy_corpus(tmp_path / "corpus")
    before = (corpus / "sources.toml").read_text("utf-8")
    old, new = edit(corpus, "cc-2008-06-sector-doubtful", {"status": "enacted law", "date": "2008-06-02", "kind": None})
    after = (corpus / "sources.toml").read_text("utf-8")
    changed = [line for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
               if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    assert sorted(changed) == sorted(['-date = "2008-06-15"', '-date_approximate = true', '-status = "news report of proposals"',
                                      '+date = "2008-06-02"', '+date_approximate = false', '+status = "enacted law"'])
    assert (new.kind, new.title) == (old.kind, old.title)
