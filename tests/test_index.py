"""Incremental indexing (add, change, remove), atomic swaps, and nothing lost after a failed add."""
from __future__ import annotations

import shutil

import pytest

from assistant import Assistant
from assistant.errors import InputError

from conftest import CORPUS, DOC_A, index_fingerprint, two_document_corpus


@pytest.fixture
def small(tmp_path):
    corpus = two_document_corpus(tmp_path / "corpus")
    return Assistant(corpus_dir=corpus, index_dir=tmp_path / "index", collection_prefix="t")


def counts(a):
    return a.store.catalog.count(), a.store.chunks.count(), a.store.sentences.count()


def test_add_change_remove_is_incremental(small):
    first = small.index()
    assert sorted(first.added) == ["alpha", "beta"] and first.sentences == 4
    assert counts(small) == (2, 2, 4)
    again = small.index()
    assert again.sentences == 0 and sorted(again.unchanged) == ["alpha", "beta"] and not again.changed
    corpus = small.settings.corpus_dir
    (corpus / "alpha.txt").write_text(DOC_A + " It was last changed in 2008.", "utf-8")
    (corpus / "gamma.txt").write_text("A third document about children's trusts. It has two sentences.", "utf-8")
    changed = small.index()
    assert changed.updated == ["alpha"] and changed.added == ["gamma"] and changed.unchanged == ["beta"]
    assert changed.sentences == 5  # only the changed and new documents were embedded
    assert counts(small) == (3, 3, 7)  # old version's records deleted, no duplicates
    (corpus / "beta.md").unlink()
    removed = small.index()
    assert removed.removed == ["beta"] and counts(small) == (2, 2, 5)
    assert "last changed in 2008" in small.document_text("alpha")


def test_first_ask_builds_a_missing_index(tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    a = Assistant(corpus_dir=corpus, index_dir=tmp_path / "fresh-index")
    answer = a.ask("What is a schools forum?")
    assert answer.status == "answered" and a.store.catalog.count() == 5


def test_interrupted_write_leaves_previous_version_live(small):
    """Records of a new version written without the catalog flip (a crash) are ignored, then tidied."""
    small.index()
    before = small.ask("How often is the well-being policy reviewed?")
    store = small.store
    vec = small.embedder.encode_one("orphan")
    store.write_version("alpha", "f" * 64, [{"id": "orphan", "embedding": vec.tolist(), "text": "Orphan text here.",
                                             "meta": {"paragraph": 1, "start": 0, "end": 17}}], [])
    after = small.ask("How often is the well-being policy reviewed?")
    assert after.answer == before.answer
    small.index()
    assert "orphan" not in store.chunks.get()["ids"]


def test_failed_add_changes_nothing(small, tmp_path):
    small.index()
    before = index_fingerprint(small)
    manifest_before = (small.settings.corpus_dir / "sources.toml").exists()
    files_before = sorted(p.name for p in small.settings.corpus_dir.iterdir())
    good = tmp_path / "good.txt"
    good.write_text("A perfectly good policy about pupils' well-being. It is fine.", "utf-8")
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"%PDF-1.4 broken")
    with pytest.raises(InputError, match="bad.pdf"):
        small.add([good, bad])  # one bad file: nothing is added
    with pytest.raises(InputError, match="already in the library"):
        small.add([small.settings.corpus_dir / "alpha.txt"], doc_id="alpha-copy")
    with pytest.raises(InputError, match="not a date"):
        small.add([good], date="July 2008")
    assert index_fingerprint(small) == before
    assert sorted(p.name for p in small.settings.corpus_dir.iterdir()) == files_before
    assert (small.settings.corpus_dir / "sources.toml").exists() == manifest_before


def test_add_and_remove_with_metadata(small, tmp_path):
    small.index()
    doc = tmp_path / "Our Wellbeing Policy.txt"
    doc.write_text("Our school promotes the well-being of every pupil. The head teacher reports to governors.", "utf-8")
    report = small.add([doc], title="Our well-being policy", date="2024-09-01", kind="school policy",
                       status="school policy in force")
    assert report.added == ["our-wellbeing-policy"]
    src = {s["id"]: s for s in small.sources()}["our-wellbeing-policy"]
    assert src["title"] == "Our well-being policy" and src["status"] == "school policy in force"
    answer = small.ask("Who does the head teacher report to?")
    assert answer.citations and answer.citations[0].doc_id == "our-wellbeing-policy"
    assert answer.notice and "2008" not in answer.notice  # not a proposal: no proposal caveat
    small.remove("our-wellbeing-policy")
    assert "our-wellbeing-policy" not in {s["id"] for s in small.sources()}
    with pytest.raises(InputError, match="No document with id"):
        small.remove("our-wellbeing-policy")
