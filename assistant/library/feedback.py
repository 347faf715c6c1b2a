"""Reader feedback on answers, kept where the library is kept, so every instance shares one list.

    from assistant.library.feedback import record, rows, export_csv
    record(answer, rating="up", comment="Useful")      # from the UI (any instance)
    export_csv("feedback.csv")                          # -> number of rows written (the managing instance)

Where the rows live:

* **Embedded** (no ``CHROMA_HOST``): a SQLite file, ``feedback.sqlite3`` under ``settings.data_dir``, as
  before. Not the embedded Chroma folder: that folder is derived from the corpus, so a damaged one is moved
  aside and rebuilt (``index.broken-*``) and ``assistant index --rebuild`` replaces it; feedback is not in
  the corpus and would be lost with it. One process writes it (plus the CLI), so a file is all it needs.
* **A Chroma server** (``CHROMA_HOST``): the ``<prefix>_feedback`` collection on the server, one record
  per row (the row as JSON in the record's document), so the ratings taken by every answering instance
  reach the managing instance's one list and its export. Its vector is a fixed ``[1.0]``: the rows are
  only listed, never searched, and no embedding function is given (Chroma's default one downloads a model).
  A server that does not answer is one plain ``StoreError`` naming it (``remote.Guarded``).

Each row keeps what the reader saw (question, answer text, citations as JSON), the rating ("up" /
"down"), the optional comment and the time (UTC, ISO 8601). Personal details (names in any case, phone,
NHS and NI numbers, addresses, postcodes, e-mail addresses, ...) are removed before a row is written, by
the personal-data detector (``safety.pii``), so nothing it flags reaches either store.

One rating per answer per session: the UI passes ``rating_key(session, answer)`` and a later rating of
the same answer replaces the earlier row (a script clicking 300 times leaves one row, not 300).
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import sqlite3
import threading
import time
import uuid
from contextlib import closing
from pathlib import Path

from ..config import Settings, get_settings
from ..errors import InputError, StoreError
from ..safety import pii
from . import remote

DB_NAME = "feedback.sqlite3"
RATINGS = ("up", "down")
MAX_COMMENT_CHARS = 2000
COLUMNS = ("id", "created_at", "rating", "comment", "question", "answer", "status", "answer_id", "citations")
VECTOR = [1.0]  # every server record's vector: rows are listed, never searched

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at  TEXT NOT NULL,
    rating      TEXT NOT NULL CHECK (rating IN ('up', 'down')),
    comment     TEXT NOT NULL DEFAULT '',
    question    TEXT NOT NULL,
    answer      TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT '',
    answer_id   TEXT,
    citations   TEXT NOT NULL DEFAULT '[]',
    rating_key  TEXT
)
"""
_KEY_INDEX = "CREATE UNIQUE INDEX IF NOT EXISTS feedback_rating_key ON feedback (rating_key)"


def db_path(settings: Settings | None = None) -> Path:
    """The embedded store's file (unused with a Chroma server)."""
    return (settings or get_settings()).data_dir / DB_NAME


def rating_key(session: str, answer) -> str:
    """What makes a rating the same rating again: the session and the answer (its question and text, so the
    same answer given twice in a session is rated once). A hash: nothing of the question is readable in it."""
    data = answer.model_dump() if hasattr(answer, "model_dump") else dict(answer)
    parts = (str(session or ""), str(data.get("question") or ""), str(data.get("answer") or ""))
    return hashlib.sha256("\x00".join(parts).encode("utf-8", "replace")).hexdigest()


def record(answer, rating: str, comment: str = "", settings: Settings | None = None,
           key: str | None = None) -> int | str:
    """Store one rating of ``answer`` (an ``Answer`` or its ``model_dump()``); returns the row id (a number in
    the SQLite file, text on a Chroma server). With ``key`` (``rating_key``), a row stored earlier with the
    same key is replaced: one rating per answer per session."""
    data = answer.model_dump() if hasattr(answer, "model_dump") else dict(answer)
    if rating not in RATINGS:
        raise InputError(f"Rating must be 'up' or 'down', not {rating!r}.")
    settings = settings or get_settings()
    comment = pii.redact((comment or "").strip(), settings)
    if len(comment) > MAX_COMMENT_CHARS:
        raise InputError(f"The comment is {len(comment):,} characters long; the limit is {MAX_COMMENT_CHARS:,}.")
    citations = [{k: c.get(k) for k in ("n", "doc_id", "title", "display_date", "status", "location", "quote",
                                        "start", "end")} for c in data.get("citations") or []]
    row = {"created_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), "rating": rating,
           "comment": comment, "question": pii.redact(str(data.get("question") or ""), settings),
           "answer": pii.redact(str(data.get("answer") or ""), settings), "status": str(data.get("status") or ""),
           "answer_id": data.get("id"), "citations": json.dumps(citations, ensure_ascii=False)}
    if settings.chroma_host:
        return _server_record(settings, row, key)
    with closing(_connect(db_path(settings))) as conn, conn:
        cur = conn.execute("INSERT INTO feedback (created_at, rating, comment, question, answer, status, answer_id, "
                           "citations, rating_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (rating_key) DO "
                           "UPDATE SET created_at = excluded.created_at, rating = excluded.rating, comment = "
                           "excluded.comment, citations = excluded.citations RETURNING id",
                           (*(row[c] for c in COLUMNS[1:]), key))
        return int(cur.fetchone()[0])


def rows(settings: Settings | None = None) -> list[dict]:
    """Every feedback row, oldest first (on a Chroma server: every instance's)."""
    settings = settings or get_settings()
    if settings.chroma_host:
        return _server_rows(settings)
    path = db_path(settings)
    if not path.exists():
        return []
    with closing(_connect(path)) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute(f"SELECT {', '.join(COLUMNS)} FROM feedback ORDER BY id")]


def export_csv(path: str | Path, settings: Settings | None = None) -> int:
    """Write all feedback to ``path`` as CSV (UTF-8 with BOM, so Excel reads it); returns the row count.

    Cells that a spreadsheet would run as a formula (starting with = + - @) are prefixed with '.
    """
    path = Path(path)
    data = rows(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(COLUMNS)
        for r in data:
            writer.writerow([_cell(r[c]) for c in COLUMNS])
    return len(data)


def _cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


# ---- embedded: a SQLite file -------------------------------------------------------------------------
def _connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=10)
    conn.execute(_SCHEMA)
    if "rating_key" not in {row[1] for row in conn.execute("PRAGMA table_info(feedback)")}:  # a database from before
        try:
            conn.execute("ALTER TABLE feedback ADD COLUMN rating_key TEXT")
        except sqlite3.OperationalError:  # another process added it first
            pass
    conn.execute(_KEY_INDEX)
    return conn


# ---- a Chroma server: one collection that every instance writes ---------------------------------------
_collections: dict[tuple, object] = {}
_collections_lock = threading.Lock()


def _collection(settings: Settings):
    """The server's feedback collection, opened once per process (a client is a heartbeat and a few requests)."""
    where = (remote.server_url(settings), settings.collection_prefix, settings.chroma_timeout)
    with _collections_lock:
        got = _collections.get(where)
    if got is None:
        from .store import make_client

        name = f"{settings.collection_prefix}_feedback"
        got = remote.Guarded(make_client(settings).get_or_create_collection(name, embedding_function=None), settings)
        with _collections_lock:
            _collections[where] = got
    return got


def _on_server(settings: Settings, call):
    """``call(collection)``; once more with the collection opened again if the server no longer knows it (its
    data was replaced while this process kept the old collection's id)."""
    try:
        return call(_collection(settings))
    except StoreError:
        raise
    except Exception:
        with _collections_lock:
            _collections.clear()
        return call(_collection(settings))


def _server_record(settings: Settings, row: dict, key: str | None) -> str:
    rid = "f-" + (key or uuid.uuid4().hex)
    meta = {"created_at": row["created_at"], "order": time.time_ns(), "rating": row["rating"]}
    _on_server(settings, lambda c: c.upsert(ids=[rid], embeddings=[VECTOR],
                                            documents=[json.dumps(row, ensure_ascii=False)], metadatas=[meta]))
    return rid


def _server_rows(settings: Settings) -> list[dict]:
    got = _on_server(settings, lambda c: c.get(include=["documents", "metadatas"]))
    found = sorted(zip(got["metadatas"], got["ids"], got["documents"]), key=lambda r: (r[0].get("order", 0), r[1]))
    return [{"id": rid, **json.loads(doc)} for _, rid, doc in found]
