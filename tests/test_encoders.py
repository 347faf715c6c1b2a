"""The sentence encoder on onnxruntime against the sentence-transformers reference, and the index's
record of which encoder built it (a different encoder means a re-index, never mixed vectors)."""
from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from conftest import ROOT, copy_corpus


def _sentences(assistant, n: int = 300) -> list[str]:
    """Real corpus sentences (every n-th, so all documents are sampled) and the evaluation questions."""
    snap = assistant.kit().snapshot
    texts = [snap.sentence_text(j) for j in range(len(snap.sentence_span))]
    step = max(1, len(texts) // n)
    questions = [json.loads(line)["question"] for line in (ROOT / "evals" / "questions.jsonl").open()]
    return texts[::step][:n] + questions


@pytest.fixture(scope="module")
def reference(assistant):
    from sentence_transformers import SentenceTransformer

    from assistant.encoders.embeddings import default_model_path

    texts = _sentences(assistant)
    model = SentenceTransformer(str(default_model_path()), device="cpu")
    return texts, model.encode(texts, normalize_embeddings=True, convert_to_numpy=True)


def test_onnx_gives_sentence_transformers_vectors(reference):
    """The fp32 export is the same model: cosine ≥ 0.999 to sentence-transformers for every text."""
    from assistant.encoders.embeddings import get_embedder

    texts, ref = reference
    got = get_embedder(kind="onnx").encode(texts)
    cos = (got * ref).sum(1)
    print(f"fp32: {len(texts)} texts, cosine min {cos.min():.6f} mean {cos.mean():.6f}")
    assert got.shape == ref.shape and cos.min() >= 0.999


def test_onnx_int8_is_close_and_ranks_alike(reference):
    """int8 weights move each vector a little: cosine to the reference ≥ 0.97 for every text and ≥ 0.99
    on average (measured: min ≈ 0.987, mean ≈ 0.994). What matters is that search ranks alike: for each
    evaluation question, int8's nearest sentence is among the reference's three nearest for ≥ 90% of
    the questions. The index is built and searched with the same encoder; it is opt-in because on the
    evaluation sets it still moved some answers (README, "Start-up")."""
    from assistant.encoders.embeddings import get_embedder

    texts, ref = reference
    got = get_embedder(kind="onnx-int8").encode(texts)
    cos = (got * ref).sum(1)
    print(f"int8: cosine min {cos.min():.4f} mean {cos.mean():.4f}")
    assert cos.min() >= 0.97 and cos.mean() >= 0.99
    questions = [i for i, t in enumerate(texts) if t.endswith("?")]
    corpus = [i for i in range(len(texts)) if i not in set(questions)]
    agree = 0
    for q in questions:
        ours = max(corpus, key=lambda i: float(got[q] @ got[i]))
        top3 = sorted(corpus, key=lambda i: -float(ref[q] @ ref[i]))[:3]
        agree += ours in top3
    print(f"int8 nearest sentence in reference top 3: {agree}/{len(questions)}")
    assert agree >= 0.9 * len(questions)


@pytest.mark.parametrize("kind", ["onnx", "onnx-int8"])
def test_a_vector_depends_only_on_its_text(kind):
    """Encoded alone or among others (of any length), a text gets the same vector: the index is
    reproducible whatever documents are indexed together."""
    from assistant.encoders.embeddings import get_embedder

    texts = ["Schools Forums", "Which bodies are bound by the duty to co-operate?",
             "Children’s secretary Ed Balls yesterday proposed to place schools under a duty to co-operate. " * 9]
    embedder = get_embedder(kind=kind)
    together = embedder.encode(texts)
    alone = np.stack([embedder.encode_one(t) for t in texts])
    assert np.abs(together - alone).max() < 1e-6


def test_export_is_named_by_the_weights_hash():
    """The cached export is keyed by the SHA-256 of the weights it came from, so other weights can never
    be read through a stale file; the encoder id recorded by the index carries the same hash."""
    from assistant.encoders.embeddings import default_model_path, encoder_id
    from assistant.encoders.onnx_embedder import onnx_path

    model = default_model_path()
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in sorted(model.glob("*.safetensors")))).hexdigest()
    path, recorded = onnx_path(model, "fp32")
    assert recorded == digest and digest[:16] in path.name and path.is_file()
    assert encoder_id(None, "onnx") == f"{model.name}:onnx-fp32-v1:{digest[:12]}"
    assert encoder_id(None, "onnx-int8") == f"{model.name}:onnx-int8-v1:{digest[:12]}"
    assert encoder_id(None, "sentence-transformers") == f"{model.name}:sentence-transformers"


def test_a_damaged_export_is_reported_and_made_again(tmp_path, monkeypatch):
    from assistant.encoders.embeddings import default_model_path
    from assistant.errors import StoreError
    from assistant.encoders.onnx_embedder import OnnxEmbedder, onnx_path

    monkeypatch.setenv("ASSISTANT_ENCODER_CACHE", str(tmp_path / "cache"))
    path, _ = onnx_path(default_model_path(), "fp32")
    path.write_bytes(b"not a model")
    with pytest.raises(StoreError, match="could not be loaded"):
        OnnxEmbedder(default_model_path(), "fp32")
    assert not path.exists()
    assert OnnxEmbedder(default_model_path(), "fp32").encode_one("duty to co-operate").shape == (384,)


def test_the_index_records_its_encoder_and_another_one_rebuilds_it(tmp_path):
    """An index built with the ONNX encoder and then opened with ASSISTANT_EMBEDDER=sentence-transformers
    is re-indexed (with a notice) before the first answer; never searched with mixed vectors."""
    from assistant import Assistant

    corpus = copy_corpus(tmp_path / "corpus")
    dirs = dict(corpus_dir=corpus, index_dir=tmp_path / "index", data_dir=tmp_path / "data")
    first = Assistant(embedder="onnx", **dirs)
    first.index()
    metas = first.store.catalog.get(include=["metadatas"])["metadatas"]
    assert metas and {m["encoder"] for m in metas} == {first.model_name}
    assert first.model_name.split(":")[1] == "onnx-fp32-v1"

    second = Assistant(embedder="sentence-transformers", **dirs)
    answer = second.ask("Which duty did the government propose to extend to schools?")
    assert answer.status == "answered"
    assert any("another encoder" in n for n in second.notices), second.notices
    metas = second.store.catalog.get(include=["metadatas"])["metadatas"]
    assert {m["encoder"] for m in metas} == {second.model_name} and second.model_name.endswith(":sentence-transformers")
    assert not second.index().changed  # now consistent: nothing more to do
