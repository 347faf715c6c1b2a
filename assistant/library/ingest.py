"""One document, from file to chunks: load (by type) → clean → chunk, with the hashes that drive
incremental indexing."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from .chunking import Chunk, chunk_document
from .. import identity
from .cleaning import CLEANER_VERSION, CleanText, clean
from ..errors import LoadError
from .loaders import load_text, open_regular
from .sources import Source, corpus_file

PIPELINE_VERSION = f"clean{CLEANER_VERSION}-chunk4"  # chunk3: front-matter heading lines indexed; chunk4: over-long
# sentences capped at clause boundaries, Word tables and headers, all HTML blocks, no data runs (issue 12)
# A loader whose output changed since: files of its type are read again at the next index; the others keep
# their hash and are not re-indexed for it. html2: a page's hidden text dropped (issue 30).
LOADER_VERSIONS = {".html": "-html2", ".htm": "-html2"}


@dataclass
class Document:
    source: Source
    raw_hash: str
    version: str  # hash of the cleaned text and of how it was chunked and embedded
    clean: CleanText
    chunks: list[Chunk]


def raw_hash(path: Path, model_name: str, furniture_key: str = "") -> str:
    """Hash of the file's bytes and of the processing versions (the library's furniture rules among
    them); unchanged → skip without parsing. A link or anything but a regular file is refused
    (``LoadError``) before a byte is read."""
    h = hashlib.sha256()
    h.update(f"{PIPELINE_VERSION}{LOADER_VERSIONS.get(Path(path).suffix.lower(), '')}|{model_name}|".encode())
    if furniture_key:
        h.update(f"furniture:{furniture_key}|".encode())
    with open_regular(path) as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def ingest(source: Source, corpus_dir: Path, model_name: str, max_bytes: int | None = None,
           max_chars: int | None = None, shown_name: str | None = None,
           library: identity.Identity | None = None) -> Document:
    """``shown_name``: how messages name the file (a staged copy's name would confuse). ``library``: the
    library's identity (``identity.of_settings``), whose furniture rules clean the text."""
    path = corpus_file(corpus_dir, source.file)  # never through a folder link out of the corpus
    text = load_text(path, max_bytes, max_chars, shown_name)
    library = library or identity.current()
    cleaned = clean(text, library.furniture)
    chunks = chunk_document(source.id, cleaned)
    if not chunks:
        raise LoadError(f"{shown_name or path.name}: no sentences left after cleaning; nothing to index.")
    version = hashlib.sha256(f"{PIPELINE_VERSION}|{model_name}|{cleaned.text}".encode()).hexdigest()
    return Document(source, raw_hash(path, model_name, library.furniture_key), version, cleaned, chunks)
