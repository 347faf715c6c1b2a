"""The tutorial-style RAG baseline: raw files → RecursiveCharacterTextSplitter(500, 50) →
``langchain_chroma.Chroma`` dense top-k, plus rank-bm25 over the same chunks (whitespace tokens).

Deliberately plain (what a LangChain tutorial does), so the comparison shows what our pipeline adds.
It never abstains and ignores conversation history.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

SUFFIXES = (".txt", ".md")
CHUNK_SIZE, CHUNK_OVERLAP = 500, 50
ADD_BATCH = 1000


def doc_ids(corpus_dir: Path) -> dict[str, str]:
    """file name → document id: the manifest's id, else a slug of the file stem (as the assistant does)."""
    manifest = Path(corpus_dir) / "sources.toml"
    by_file = {}
    if manifest.exists():
        for key, value in tomllib.loads(manifest.read_text("utf-8")).items():
            if isinstance(value, dict) and "file" in value:
                by_file[value["file"]] = key
    out = {}
    for path in sorted(Path(corpus_dir).iterdir()):
        if path.suffix.lower() in SUFFIXES and not path.name.startswith("."):
            out[path.name] = by_file.get(path.name) or re.sub(r"[^a-z0-9]+", "-", path.stem.lower()).strip("-")
    return out


def load_documents(corpus_dir: Path) -> list:
    """One LangChain ``Document`` per raw file (no cleaning), like ``TextLoader``."""
    from langchain_core.documents import Document

    ids = doc_ids(corpus_dir)
    return [Document(page_content=(Path(corpus_dir) / name).read_text("utf-8"),
                     metadata={"doc_id": doc_id, "source": name}) for name, doc_id in ids.items()]


def split(documents: list) -> list:
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP, add_start_index=True)
    return splitter.split_documents(documents)


def chunk_ids(chunks: list) -> list[str]:
    return [f"{c.metadata['doc_id']}:{c.metadata['start_index']}:{i}" for i, c in enumerate(chunks)]


def _client_settings():
    from chromadb.config import Settings

    return Settings(anonymized_telemetry=False)


def open_store(persist_dir: Path, embeddings, collection: str = "tutorial"):
    from langchain_chroma import Chroma

    return Chroma(collection_name=collection, embedding_function=embeddings, persist_directory=str(persist_dir),
                  client_settings=_client_settings())


def build_store(chunks: list, embeddings, persist_dir: Path, collection: str = "tutorial"):
    """Embed and add every chunk (re-running it re-embeds everything: no change detection)."""
    store = open_store(persist_dir, embeddings, collection)
    ids = chunk_ids(chunks)
    for i in range(0, len(chunks), ADD_BATCH):
        store.add_documents(chunks[i:i + ADD_BATCH], ids=ids[i:i + ADD_BATCH])
    return store


def bm25_tokens(text: str) -> list[str]:
    return text.lower().split()


@dataclass
class BM25Index:
    chunks: list
    bm25: object

    @classmethod
    def build(cls, chunks: list) -> "BM25Index":
        from rank_bm25 import BM25Okapi

        return cls(chunks, BM25Okapi([bm25_tokens(c.page_content) for c in chunks]))

    def top(self, question: str, k: int = 5) -> list[tuple[int, float]]:
        import numpy as np

        scores = self.bm25.get_scores(bm25_tokens(question))
        order = np.argsort(-scores)[:k]
        return [(int(i), float(scores[i])) for i in order]
