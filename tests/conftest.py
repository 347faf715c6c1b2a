"""Shared fixtures: a real model, a real Chroma store in a temp dir, a copy of the real corpus."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
FURNITURE = [
    "More from Community Care", "Comments are closed", "Related articles", "More information",
    "Sanctuary Buildings", "SW1P 3BT", "0870 0012345", "dcsf.ministers@dcsf.gsi.gov.uk",
    "Handwritten signature", "department for\n", "Expert guide to children", "Rt Hon Ed Balls MP",
    "Information on the Every Child Matters agenda", "download the consultation document", "New Asset",
]


def copy_corpus(dest: Path) -> Path:
    shutil.copytree(CORPUS, dest)
    return dest


@pytest.fixture(scope="session")
def env_dirs(tmp_path_factory) -> dict[str, str]:
    base = tmp_path_factory.mktemp("assistant")
    corpus = copy_corpus(base / "corpus")
    return {"ASSISTANT_CORPUS_DIR": str(corpus), "ASSISTANT_INDEX_DIR": str(base / "index"),
            "ASSISTANT_DATA_DIR": str(base / "data")}


@pytest.fixture(scope="session")
def assistant(env_dirs):
    from assistant import Assistant

    a = Assistant(corpus_dir=env_dirs["ASSISTANT_CORPUS_DIR"], index_dir=env_dirs["ASSISTANT_INDEX_DIR"],
                  data_dir=env_dirs["ASSISTANT_DATA_DIR"])
    a.index()
    return a


def run_cli(args: list[str], env_dirs: dict[str, str], stdin: str | None = None, timeout: int = 300):
    env = {**os.environ, **env_dirs}
    env.pop("ASSISTANT_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "assistant", *args], capture_output=True, text=True,
                          env=env, input=stdin, timeout=timeout, cwd=ROOT)


def index_fingerprint(a) -> dict:
    """Everything stored: catalog entries with versions, and every passage and sentence record."""
    store = a.store
    docs = {d.doc_id: (d.version, d.raw_hash, d.text, sorted(d.meta.items())) for d in store.documents().values()}
    chunks = store.chunks.get(include=["documents", "metadatas"])
    sents = store.sentences.get(include=["documents", "metadatas"])
    return {"docs": docs,
            "chunks": sorted(zip(chunks["ids"], chunks["documents"], [json.dumps(m, sort_keys=True) for m in chunks["metadatas"]])),
            "sentences": sorted(zip(sents["ids"], sents["documents"], [json.dumps(m, sort_keys=True) for m in sents["metadatas"]]))}
