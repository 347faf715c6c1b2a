"""The facade's two services (issue 32): the live index (``assistant/live.py``) and the library manager
(``assistant/library/manager.py``), through their public attributes, on a real two-document index."""
from __future__ import annotations

import pytest

from assistant import Assistant

from conftest import two_document_corpus

DOC_C = "Children's trusts bring local partners together. Each trust publishes a plan for children."


@pytest.fixture
def small(tmp_path):
    corpus = two_document_corpus(tmp_path / "corpus")
    a = Assistant(corpus_dir=corpus, index_dir=tmp_path / "index", collection_prefix="t", refresh_seconds=0)
    a.index()
    return a


def test_a_write_serves_the_old_kit_until_it_ends_then_publishes_the_new_one(small):
    """While this process writes, questions use the Kit that was live when the write started (even with
    refresh_seconds=0); when the last writer ends, the new Kit is live."""
    live, library = small.live, small.library
    before = live.kit_ready()
    assert set(before.snapshot.docs) == {"alpha", "beta"}
    with library.writing():
        with library.writing():  # nested, as an add's own index run is
            (small.settings.corpus_dir / "gamma.txt").write_text(DOC_C, "utf-8")
            library.sync()
            assert library.writers == 2
        assert set(live.kit_ready().snapshot.docs) == {"alpha", "beta"}  # one writer still at work
    assert library.writers == 0
    after = live.kit_ready()
    assert after is not before and set(after.snapshot.docs) == {"alpha", "beta", "gamma"}
    assert small.ask("What does each children's trust publish?").citations[0].doc_id == "gamma"


def test_a_dropped_kit_is_rebuilt_and_a_shared_store_is_used(small):
    """``drop_kit``: the next question builds the Kit afresh (the evaluation does this after changing the
    settings); ``use_store``: a second Assistant answers from the first one's open store."""
    kit = small.live.kit_ready()
    small.live.drop_kit()
    assert small.live.kit_ready() is not kit
    other = Assistant(small.settings)
    other.live.use_store(small.store)
    assert other.store is small.store
    answer = other.ask("How often is the well-being policy reviewed?")
    assert answer.status == "answered" and answer.citations[0].doc_id == "alpha"
