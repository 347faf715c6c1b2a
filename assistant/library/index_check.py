"""The checks ``health.probe`` runs on the embedded index, in a child process of their own.

Run as ``python -I index_check.py INDEX_DIR PREFIX``: it imports only the standard library, numpy and
chromadb (never the ``assistant`` package), so a cold start pays little for it, and a Rust abort
inside Chroma ends this process, not the service. Exit 0: sound; exit 3 with the reason on standard
output: damaged; anything else (a full disk, an import error): no verdict.
"""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import sys
from pathlib import Path

DB = "chroma.sqlite3"
DAMAGED = 3


def check(index_dir: Path, prefix: str) -> str | None:
    """The checks themselves (run in the child): None when sound, else the first problem found."""
    db = index_dir / DB
    uri = f"file:{db}?mode=ro" + ("&immutable=1" if not os.access(index_dir, os.W_OK) else "")
    try:
        conn = sqlite3.connect(uri, uri=True)
        try:
            verdict = conn.execute("PRAGMA quick_check").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error as exc:
        return f"sqlite: {exc}"
    if verdict != "ok":
        return f"sqlite: {verdict}"
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    client = chromadb.PersistentClient(path=str(index_dir), settings=ChromaSettings(anonymized_telemetry=False))
    names = {c.name for c in client.list_collections()}
    got, found = {}, {}
    for kind in ("catalog", "chunks", "sentences", "bank", "state", "corrections"):
        if f"{prefix}_{kind}" in names:
            collection = client.get_collection(f"{prefix}_{kind}")
            got[kind], found[kind] = _read(collection, kind in ("catalog", "chunks", "sentences", "bank"))
            if collection.count() != len(got[kind]["ids"]):
                return f"{kind}: {collection.count()} records counted, {len(got[kind]['ids'])} read"
    for kind in ("catalog", "chunks", "sentences", "bank"):
        lost, damaged = found.get(kind, (False, 0))
        if lost:
            return f"{kind}: a record has lost its text"
        if damaged:
            return f"{kind}: {damaged} damaged vectors"
    return _check_documents(got) if "catalog" in got else None


def _read(collection, checked: bool) -> tuple[dict, tuple[bool, int]]:
    """Every record's id, metadata and text, read ``PAGE`` records at a time, each page's vectors checked
    (all unit length) and dropped: the vectors of the whole library at once were most of a start's
    memory (issue 33). With ``checked``: (a record lost its text, how many vectors are damaged)."""
    import numpy as np

    out: dict[str, list] = {"ids": [], "metadatas": [], "documents": []}
    lost, damaged, offset = False, 0, 0
    while True:
        page = collection.get(include=["metadatas", "documents", "embeddings"], limit=PAGE, offset=offset)
        for key in out:
            out[key] += list(page.get(key) or [])
        if checked:
            lost = lost or any(not isinstance(t, str) for t in page.get("documents") or [])
            vectors = page.get("embeddings")
            if vectors is not None and len(vectors):
                norms = np.linalg.norm(np.asarray(vectors, dtype=np.float64), axis=1)
                damaged += int(np.sum(~np.isfinite(norms) | (np.abs(norms - 1.0) > 1e-3)))
        if len(page["ids"]) < PAGE:
            return out, (lost, damaged)
        offset += PAGE


PAGE = 2000  # records read at once


def _check_documents(got: dict) -> str | None:
    """Every live document complete, each record the exact slice of its document's text."""
    catalog = got["catalog"]
    docs = {i: (m or {}, t or "") for i, m, t in zip(catalog["ids"], catalog["metadatas"], catalog["documents"])}
    for kind, count_key in (("chunks", "n_passages"), ("sentences", "n_sentences")):
        rows = got.get(kind, {"ids": [], "metadatas": [], "documents": []})
        seen = dict.fromkeys(docs, 0)
        for rid, meta, text in zip(rows["ids"], rows["metadatas"], rows["documents"]):
            meta = meta or {}
            doc = docs.get(meta.get("doc_id"))
            if doc is None or doc[0].get("version") != meta.get("version"):
                continue  # an orphan of an interrupted run: never read, tidied by the next index run
            seen[meta["doc_id"]] += 1
            start, end = meta.get("start"), meta.get("end")
            if not isinstance(start, int) or not isinstance(end, int) or doc[1][start:end] != text:
                return f"{kind}: record {rid} does not match its document's text"
        for doc_id, (meta, _) in docs.items():
            want = meta.get(count_key)
            if isinstance(want, int) and seen[doc_id] != want:
                return f"{kind}: document {doc_id} has {seen[doc_id]} of its {want} records"
    return None


def child(argv: list[str]) -> None:
    """The probe's child process: check INDEX_DIR (collections named PREFIX_*); exit DAMAGED with the
    reason on standard output, 0 when sound; any other failure is no verdict."""
    try:
        problem = check(Path(argv[0]), argv[1])
    except Exception as exc:  # chromadb/sqlite errors from a damaged file (a Rust panic arrives as one)
        full = any(m in str(exc).lower() for m in ("disk is full", "no space left", "disk quota"))
        if full or isinstance(exc, OSError) or shutil.disk_usage(argv[0]).free < 1024 * 1024:
            raise  # a full disk (Chroma writes even to read) is not damage: no verdict
        text = " ".join(str(exc).split())
        problem = f"{exc.__class__.__name__}: {text[:200]}"
    if problem:
        print(json.dumps(problem)[1:-1])
        sys.exit(DAMAGED)


if __name__ == "__main__":
    child(sys.argv[1:])
