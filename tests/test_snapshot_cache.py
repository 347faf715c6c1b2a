"""The live index's snapshot persisted on this machine (``library/snapshot_cache.py``, issue 33): a second
process answers from it without reading the library's records from Chroma; a damaged or half-written
one is rebuilt, a changed library gets a new one, and with a Chroma server each machine keeps its own.
Real model, real Chroma (embedded and ``chroma run``), real processes."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from conftest import CHROMA, copy_corpus, free_port, run_cli, start_chroma, stop_chroma

QUESTION = "Which bodies are bound by the duty to co-operate?"


def _env(base: Path) -> dict[str, str]:
    return {"ASSISTANT_CORPUS_DIR": str(base / "corpus"), "ASSISTANT_INDEX_DIR": str(base / "index"),
            "ASSISTANT_DATA_DIR": str(base / "data")}


def _ask(env: dict[str, str], question: str = QUESTION) -> dict:
    done = run_cli(["ask", "--json", question], env)
    assert done.returncode == 0, done.stderr[-2000:]
    answer = json.loads(done.stdout)
    return {k: answer[k] for k in ("status", "answer", "citations")}


def _snapshots(root: Path) -> list[Path]:
    return sorted(p for p in root.glob("snapshot-*/*") if not p.name.startswith("."))


@pytest.fixture(scope="module")
def library(tmp_path_factory) -> tuple[dict[str, str], dict]:
    """A library indexed by one process, which answered once (and so saved its snapshot)."""
    base = tmp_path_factory.mktemp("snapshot")
    copy_corpus(base / "corpus")
    env = _env(base)
    assert run_cli(["index"], env).returncode == 0
    return env, _ask(env)


def _chroma(env: dict[str, str]):
    import chromadb
    from chromadb.config import Settings

    return chromadb.PersistentClient(path=env["ASSISTANT_INDEX_DIR"], settings=Settings(anonymized_telemetry=False))


def test_a_second_process_answers_from_the_saved_snapshot(library, tmp_path):
    """The first answer saved one snapshot; a second process answers the same from it even when every
    sentence vector in Chroma is replaced by one same vector (it reads none of them), and it quotes the
    saved texts."""
    env, first = library
    copy = tmp_path / "copy"  # the test's own copy: the other tests keep the intact library
    shutil.copytree(Path(env["ASSISTANT_INDEX_DIR"]).parent, copy)
    env = _env(copy)
    client = _chroma(env)
    sentences = client.get_collection("wellbeing_sentences")
    ids = sentences.get(include=[])["ids"]
    same = [1.0] + [0.0] * 383  # a unit vector (the index check accepts it): every sentence alike
    sentences.update(ids=ids, embeddings=[same] * len(ids))
    assert np.allclose(sentences.get(ids=ids[:3], include=["embeddings"])["embeddings"], [same] * 3)
    del client, sentences
    assert _ask(env) == first  # every sentence vector (and span, and text) came from the saved snapshot
    saved = _snapshots(Path(env["ASSISTANT_INDEX_DIR"]))
    assert len(saved) == 1 and (saved[0] / "header.json").is_file()

    # The quoted text is the snapshot's: a sentence's letters changed there (same bytes) are quoted so.
    folder = saved[0]
    quote = first["citations"][0]["quote"]
    texts = np.load(folder / "texts.npy")
    at = bytes(texts).find(quote.encode("utf-8"))
    assert at >= 0
    marked = quote.replace("duty", "DUTY") if "duty" in quote else quote[:1].swapcase() + quote[1:]
    assert marked != quote
    texts[at:at + len(quote.encode("utf-8"))] = np.frombuffer(marked.encode("utf-8"), dtype=np.uint8)
    np.save(folder / "texts.npy", texts)
    assert marked in [c["quote"] for c in _ask(env)["citations"]]


@pytest.mark.parametrize("damage", ["truncated", "half-written", "wrong-shape"])
def test_a_damaged_or_half_written_snapshot_is_rebuilt(library, tmp_path, damage):
    """A snapshot whose files do not match its header (a truncated array, a folder without its header as a
    killed writer leaves it, an array of another shape) is never read: it is rebuilt, the answer unchanged."""
    env, first = library
    copy = tmp_path / "copy"
    shutil.copytree(Path(env["ASSISTANT_INDEX_DIR"]).parent, copy)
    env = _env(copy)
    folder = _snapshots(Path(env["ASSISTANT_INDEX_DIR"]))[0]
    vectors = folder / "sentence_vectors.npy"
    if damage == "truncated":
        with open(vectors, "r+b") as f:
            f.truncate(vectors.stat().st_size // 2)
    elif damage == "half-written":
        (folder / "header.json").unlink()
    else:
        np.save(vectors, np.zeros((3, 7), np.float32))
    assert _ask(env) == first
    header = json.loads((folder / "header.json").read_text())
    assert np.load(vectors, mmap_mode="r").shape == tuple(header["arrays"]["sentence_vectors"][1])
    assert header["arrays"]["sentence_vectors"][1][0] > 3


def test_no_snapshot_is_saved_where_it_would_leave_the_disk_too_full(library, tmp_path):
    """Chroma needs free space even to read an embedded index: a snapshot that would leave less than
    ``ASSISTANT_MIN_FREE_BYTES`` free is not written (the answer is the same); with room, it is."""
    env, first = library
    copy = tmp_path / "copy"
    shutil.copytree(Path(env["ASSISTANT_INDEX_DIR"]).parent, copy, ignore=shutil.ignore_patterns("snapshot-*"))
    env = _env(copy)
    # a reserve far above the disk's free space (free space itself moves while other processes run)
    assert _ask({**env, "ASSISTANT_MIN_FREE_BYTES": str(shutil.disk_usage(copy).free + 10**15)}) == first
    assert _snapshots(Path(env["ASSISTANT_INDEX_DIR"])) == []
    assert _ask({**env, "ASSISTANT_MIN_FREE_BYTES": "1000000"}) == first
    assert len(_snapshots(Path(env["ASSISTANT_INDEX_DIR"]))) == 1


def test_a_changed_library_gets_a_new_snapshot(library, tmp_path):
    """Removing a document changes the catalog: the next answer reads a new snapshot (the old one is
    removed), and it no longer cites the removed document."""
    env, first = library
    copy = tmp_path / "copy"
    shutil.copytree(Path(env["ASSISTANT_INDEX_DIR"]).parent, copy)
    env = _env(copy)
    before = _snapshots(Path(env["ASSISTANT_INDEX_DIR"]))
    gone = first["citations"][0]["doc_id"]
    done = run_cli(["remove", gone], env)
    assert done.returncode == 0, done.stderr[-2000:]
    after_answer = _ask(env)
    after = _snapshots(Path(env["ASSISTANT_INDEX_DIR"]))
    assert len(after) == 1 and after != before
    assert gone not in {c["doc_id"] for c in after_answer["citations"]}
    doc_ids = bytes(np.load(after[0] / "list_doc_ids.npy")).decode().split("\n")
    assert gone not in doc_ids and len(doc_ids) == 4


@pytest.mark.skipif(CHROMA is None and not os.environ.get("CI"), reason="the chroma CLI is not on PATH")
def test_with_a_chroma_server_each_machine_keeps_its_own_snapshot(tmp_path):
    """Two instances (two data folders: two machines) of one Chroma server: each saves the snapshot under
    its own data folder on its first answer, nothing beside the server's index; both answer the same."""
    server = tmp_path / "server"
    server.mkdir()
    port = free_port()
    proc = start_chroma(server, port)
    try:
        copy_corpus(tmp_path / "corpus")
        envs = [{"ASSISTANT_CORPUS_DIR": str(tmp_path / "corpus"), "ASSISTANT_DATA_DIR": str(tmp_path / f"machine{i}"),
                 "ASSISTANT_INDEX_DIR": str(tmp_path / "no-index"), "CHROMA_HOST": "127.0.0.1",
                 "CHROMA_PORT": str(port), "ASSISTANT_COLLECTION_PREFIX": "t_snap"} for i in (1, 2)]
        assert run_cli(["index"], envs[0]).returncode == 0
        answers = []
        for env in envs:
            answers.append(_ask(env))
            saved = [p for p in (Path(env["ASSISTANT_DATA_DIR"]) / "snapshot").glob("*/*") if not p.name.startswith(".")]
            assert len(saved) == 1 and (saved[0] / "header.json").is_file(), saved
            assert _ask(env) == answers[-1]  # again, from the saved snapshot
        assert answers[0] == answers[1]
        assert not (tmp_path / "no-index").exists()
    finally:
        stop_chroma(proc)
