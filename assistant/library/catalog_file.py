"""A copy of the index's catalog in one JSON file beside it (``index/catalog.json``).

Why: listing or showing documents (``assistant sources``, ``show ID``, an unknown id) needs only each
document's metadata and cleaned text. Read from Chroma, they cost importing chromadb and opening the
store, and before this file the whole in-memory index and both models too: seconds for a one-line
answer. The file is written by the indexer at the end of every successful run and deleted when a run
starts, so a run that stops half-way leaves no file, and readers fall back to the index itself. It is
not used with a Chroma server (``CHROMA_HOST``): other machines may change that index.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..config import Settings
    from .store import DocRecord

FORMAT = 1
NAME = "catalog.json"


def location(settings: "Settings") -> Path | None:
    return None if settings.chroma_host else settings.index_dir / NAME


def invalidate(settings: "Settings") -> None:
    """Called before an index run changes anything."""
    path = location(settings)
    if path is not None:
        path.unlink(missing_ok=True)


def write(settings: "Settings", records: dict[str, "DocRecord"]) -> None:
    """The catalog as it is after a complete run; written aside and renamed into place."""
    path = location(settings)
    if path is None or not path.parent.is_dir():
        return
    rows = [{"id": r.doc_id, "version": r.version, "meta": r.meta, "text": r.text}
            for r in sorted(records.values(), key=lambda r: r.doc_id)]
    tmp = path.with_name(f".{NAME}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"format": FORMAT, "documents": rows}, ensure_ascii=False), "utf-8")
    os.replace(tmp, path)


def read(settings: "Settings") -> list[dict] | None:
    """The rows of the last complete run, or None when there is no usable file (then ask the index)."""
    path = location(settings)
    if path is None:
        return None
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("documents"), list):
        return None
    return data["documents"]
