"""Questions about a document itself (issue 11, item 4): answered from the library's record of the
document, labelled as such and never passed off as a quote, and from its own heading lines, quoted."""
from __future__ import annotations

import pytest

from assistant.answer.about import asked_fields, named_document, record_line


@pytest.mark.parametrize("question, fields", [
    ("Who signed the letter?", ["author"]),
    ("When was the minister's letter sent out, and who was it addressed to?", ["recipient", "date"]),
    ("What's the title of the report?", ["title"]),
    ("Who published that article?", ["publisher"]),
    # no kind of document named: a question about the duty, not about a paper
    ("When did the duty to co-operate start?", []),
    ("Who wrote to schools about the duty?", []),
    ("What does the letter propose for schools?", []),  # a document, but no detail of it asked
])
def test_which_details_a_question_asks_for(question, fields):
    assert asked_fields(question) == fields


def test_the_document_meant_is_read_off_the_documents_own_details(assistant):
    snap = assistant.kit().snapshot
    # "letter" is in one document's details; "children's trusts" in several, so it counts little
    assert named_document("Who sent the letter about children's trusts?", snap) == "dcsf-2008-07-03-letter"
    assert named_document("Who published the piece on the ADCS response?", snap) == "cc-2008-09-adcs-wellbeing-duty"
    assert named_document("Who wrote the paper?", snap) is None  # no document's details share a word
    # "letter" names the kind of document; "want" in another document's headline does not outweigh it
    assert named_document("How many papers came with the letter, and what did the minister want back?", snap) == \
        "dcsf-2008-07-03-letter"


def test_an_unrecorded_detail_is_said_to_be_unrecorded(assistant):
    source = assistant.kit().snapshot.docs["cc-2008-06-sector-doubtful"].source
    line = record_line(source, ["author", "date"])
    assert line.startswith("Library record (not a quote): “Children's trusts: sector doubtful over legislation”")
    assert "its author is not recorded" in line and "dated c. June 2008" in line


def test_a_question_about_a_document_is_answered_from_its_record_and_heading_lines(assistant):
    a = assistant.ask("Who signed the government letter on children's trusts, and what date is on it?")
    assert a.status == "answered"
    assert a.record and a.answer.startswith(a.record + "\n\n")
    assert "written by Ed Balls, Secretary of State" in a.record and "dated 3 July 2008" in a.record
    assert a.citations[0].quote.startswith("3 July 2008")  # the letter's own date line, quoted first
    # the quoted part alone, as the UI shows it and the word budget counts it
    assert a.quotes == a.answer[len(a.record) + 2:] and "Library record" not in a.quotes
    assert a.quotes.startswith(a.citations[0].quote) and a.model_dump()["quotes"] == a.quotes
    for c in a.citations:  # the record is never a quote; every quote is verbatim in its document
        assert "Library record" not in c.quote
        assert assistant.document_text(c.doc_id)[c.start:c.end] == c.quote


def test_a_question_about_the_text_gets_no_record(assistant):
    a = assistant.ask("Which bodies are bound by the duty to co-operate?")
    assert a.record is None and not a.answer.startswith("Library record")
    assert a.quotes == a.answer  # nothing to take off
