"""Everyday wording as data: corpus/vocabulary.toml maps a reader's words to the documents' words."""
from __future__ import annotations

import shutil

import pytest

from assistant.errors import InputError
from assistant.answer.vocabulary import Vocabulary
from tests.conftest import CORPUS


def test_everyday_words_get_the_documents_words():
    v = Vocabulary.load(CORPUS)
    assert v.expand("Do family doctors have to help?") == "Do family doctors (GPs) have to help?"
    assert v.expand("What did the council say?") == "What did the council (local authority) say?"
    assert "(head teachers' associations)" in v.expand("What did the heads’ unions think?")  # curly apostrophe


def test_the_documents_own_words_are_left_alone():
    v = Vocabulary.load(CORPUS)
    for q in ("Do GPs have to co-operate?", "Which bodies are bound by the duty?"):
        assert v.expand(q) == q
    assert v.expand("Is the councillor's view known?") == "Is the councillor's view known?"  # whole words only


def test_a_school_can_edit_the_vocabulary(tmp_path):
    (tmp_path / "vocabulary.toml").write_text('[[term]]\nsay = ["SENCO"]\ndocuments = "special needs co-ordinator"\n')
    assert Vocabulary.load(tmp_path).expand("What does the SENCO do?") == \
        "What does the SENCO (special needs co-ordinator) do?"
    assert Vocabulary.load(tmp_path / "missing").expand("What does the SENCO do?") == "What does the SENCO do?"


@pytest.mark.parametrize("text, message", [("[[term]\nsay=", "not valid TOML"),
                                           ('[[term]]\nsay = "GP"\ndocuments = "GPs"\n', "term 1 needs")])
def test_a_damaged_vocabulary_is_a_clear_error(tmp_path, text, message):
    (tmp_path / "vocabulary.toml").write_text(text)
    with pytest.raises(InputError, match=message) as err:
        Vocabulary.load(tmp_path)
    assert "vocabulary.toml" in str(err.value)


def test_an_everyday_question_is_answered_with_the_documents_term(assistant):
    answer = assistant.ask("Should family doctors come under the duty to co-operate?")
    assert answer.status == "answered"
    assert "(GPs)" in answer.standalone_question
    assert "GPs" in answer.citations[0].quote


def test_without_the_vocabulary_the_same_question_misses(tmp_path):
    """Everyday words are data: with an empty vocabulary file and no question bank the GP sentence is not the
    first quote; the bank alone (its questions say "family doctors") or the vocabulary alone finds it."""
    from assistant import Assistant
    from evals.variants import using

    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    (corpus / "vocabulary.toml").write_text("")
    question = "Should family doctors come under the duty to co-operate?"
    a = Assistant(corpus_dir=corpus, index_dir=tmp_path / "index", data_dir=tmp_path / "data")
    a.index()
    with using(a, "bank") as ask:  # the shipped steps without the bank step
        answer = ask(question)
    assert answer.abstained or "GPs" not in answer.citations[0].quote
    with_bank = a.ask(question)
    assert with_bank.status == "answered" and "GPs" in with_bank.citations[0].quote


def test_only_words_that_are_not_english_are_mended(assistant):
    """A misspelling is mended to the closest word of the documents; an everyday English word the
    documents happen not to use is left as it is (it was once "mended": meals → means, policy → police)."""
    snap = assistant.kit().snapshot
    assert snap.correct_text("Which acadamies did the goverment mean?") == "Which academies did the government mean?"
    for q in ("Do free school meals count?", "What is our policy on talking to parents?",
              "I heard the minister wanted that"):
        assert snap.correct_text(q) == q
    assert snap.correct_text("Forum or forum?") == "Forum or forum?"  # a word keeps its own capitals
    assert "academy" in snap.search_tokens("acadamies") and "mean" not in snap.search_tokens("school meals")


@pytest.mark.parametrize("question, term", [
    ("Can the council take over a struggling school?", "schools causing concern"),
    ("Does the letter say anything about early help?", "early intervention"),
])
def test_sector_wording_finds_the_documents_term(assistant, question, term):
    """Entries written from the documents' own terms (issue 11, fifth pass): today's sector wording for a
    2008 term is searched with that term, and the answer quotes the sentence that uses it (without the
    entry both questions were abstained on)."""
    answer = assistant.ask(question)
    assert f"({term})" in answer.standalone_question
    assert answer.status == "answered"
    assert any(term in c.quote for c in answer.citations)


def _entries():
    import tomllib

    return tomllib.loads((CORPUS / "vocabulary.toml").read_text("utf-8"))["term"]


def test_every_phrase_of_the_vocabulary_gets_its_own_entry_s_words():
    """Over every `say` phrase of the shipped file: the longest phrase that matches wins, whatever the
    order of the entries ("councils' association" gets the LGA, not "council" → local authority inside it)."""
    v = Vocabulary.load(CORPUS)
    wrong = []
    for entry in _entries():
        for say in entry["say"]:
            question = f"What did {say} say about it?"
            if entry["documents"].lower() in question.lower():
                continue  # already in the documents' words: nothing is added
            if f"{say} ({entry['documents']})" not in v.expand(question):
                wrong.append((say, v.expand(question)))
    assert not wrong, wrong


def test_a_possessive_stays_attached_to_its_word():
    """Over every `say` phrase: the documents' words go after the possessive ("the council's (local
    authority) view"), never between a word and its apostrophe ("councils (local authority)' view")."""
    v = Vocabulary.load(CORPUS)
    wrong = []
    for entry in _entries():
        for say in entry["say"]:
            if say.endswith(("'", "’", "s")):
                continue
            for mark in ("'s", "’s"):
                question = f"What was {say}{mark} view?"
                out = v.expand(question)
                if entry["documents"].lower() in question.lower():
                    continue
                if f"{say}'s ({entry['documents']}) view" not in out:
                    wrong.append((say, out))
        plural = [s for s in entry["say"] if s.endswith("s") and not s.endswith(("'s", "ss"))]
        for say in plural:
            out = v.expand(f"What was {say}' view?")
            if entry["documents"].lower() not in say.lower() and f"{say}' ({entry['documents']}) view" not in out:
                wrong.append((say, out))
    assert not wrong, wrong


def _swaps(word: str):
    """``word`` with two neighbouring inner letters swapped, each way that changes it."""
    for i in range(1, len(word) - 2):
        swapped = word[:i] + word[i + 1] + word[i] + word[i + 2:]
        if swapped != word:
            yield swapped


def test_a_swap_of_two_letters_in_any_document_word_is_mended_back(assistant):
    """Over every word of the library of 5 letters or more, each swap of two neighbouring inner letters that
    is neither a word of the documents nor English: the mender gives the document's word back. Measured
    2340 of 2343 (the rest tie with another word of the documents one edit away: "maeks" → marks, not
    makes); 2318 (0.989) with difflib's ratio, which preferred "bring" for "bieng" and "third" for "tehir"."""
    import re

    from assistant.library.retrieval import english_word

    snap = assistant.kit().snapshot
    cases = [(w, t) for w in snap.surface if re.fullmatch(r"[a-z]{5,}", w) for t in _swaps(w)
             if t not in snap._surface_set and not english_word(t)]
    assert len(cases) > 1000
    wrong = [(t, snap.correct_text(t)) for w, t in cases if snap.correct_text(t) != w]
    assert len(wrong) <= 0.002 * len(cases), wrong
    assert all(fixed in snap._surface_set for _, fixed in wrong), wrong  # a tie: still a word of the documents


def test_a_misspelt_singular_of_a_document_word_is_mended_to_it(assistant):
    """The documents say "Schools Forums", never "forum": a question's "schools fourm" is the forum, not
    the documents' "form". Over every plural of the documents whose singular is English but unused."""
    import re

    from assistant.library.retrieval import english_word

    snap = assistant.kit().snapshot
    assert snap.correct_text("Who sits on the schools fourm?") == "Who sits on the schools forum?"
    singulars = [w[:-1] for w in snap.surface if re.fullmatch(r"[a-z]{5,}s", w) and not w.endswith("ss")
                 and w[:-1] not in snap._surface_set and english_word(w[:-1])]
    cases = [(w, t) for w in singulars for t in _swaps(w) if t not in snap._surface_set and not english_word(t)]
    assert len(cases) > 100
    right = sum(snap.correct_text(t) == w for w, t in cases)
    assert right >= 0.95 * len(cases), (right, len(cases))
