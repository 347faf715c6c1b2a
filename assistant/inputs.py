"""Checks on what people type: questions, conversation history, document ids and metadata.

Shared by the pipeline's ``guard`` step, the ``Assistant`` service, the CLI and the UI, so a bad
input gets the same plain message whichever way it arrives. Nothing here loads the model or the
index: a bad question is refused before either is opened.
"""
from __future__ import annotations

import json
import re
import unicodedata
from typing import Any

from .errors import InputError
from .models import Turn

# C0 controls except tab, newline, vertical tab, form feed and carriage return (pasted text has
# those), DEL, and C1 controls.
CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")
# Invisible formatting: soft hyphen, zero-width characters, bidirectional overrides, BOM. They are
# dropped silently: they change how text looks (or hides), never what it says.
INVISIBLE = re.compile(r"[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
SURROGATE = re.compile(r"[\ud800-\udfff]")  # half of a broken UTF-16 pair: not text at all
LINE_BREAKS = re.compile(r"[\t\n\v\f\r\x1c-\x1e\x85\u2028\u2029]+")  # a message is one line; so is a name
MAX_HISTORY_TURNS = 100
MAX_METADATA_CHARS = 300


def shown(value: Any, limit: int = 80) -> str:
    """``value`` made safe to echo in a message: line breaks and tabs made spaces (an error is one
    line), other control characters and broken Unicode replaced, cut to ``limit`` characters."""
    text = value if isinstance(value, str) else repr(value)
    text = SURROGATE.sub("\ufffd", CONTROL.sub("\ufffd", LINE_BREAKS.sub(" ", text)))
    return text if len(text) <= limit else text[:limit] + "…"


def clean_question(raw: str, limit: int) -> tuple[str, str | None]:
    """(the question as it will be searched, a message for the person if it cannot be).

    Refused: broken Unicode, control characters (NUL bytes and the like), nothing but spaces, more
    than ``limit`` characters, no words at all (symbols or emoji only). Invisible formatting
    characters are removed and compatibility forms unified (NFKC: full-width letters, ligatures).
    """
    if SURROGATE.search(raw):
        return raw, ("The question contains characters that are not valid text (broken Unicode). "
                     "Please retype it.")
    if CONTROL.search(raw):
        return raw, ("The question contains control characters (such as NUL bytes) that cannot be searched. "
                     "Please retype it without them.")
    q = re.sub(r"\s+", " ", unicodedata.normalize("NFKC", INVISIBLE.sub("", raw))).strip()
    if not q:
        return q, "Please type a question, for example: \"Which bodies are bound by the duty to co-operate?\""
    if len(q) > limit:
        return q, f"The question is {len(q):,} characters long; the limit is {limit:,}. Please shorten it."
    if not re.search(r"[^\W_]", q):
        return q, "The question has no words in it, only symbols or emoji. Please type a question in words."
    return q, None


def mostly_non_latin(text: str) -> bool:
    """True when most letters are from a non-Latin script (the library is in English)."""
    letters = [c for c in text if c.isalpha()]
    if len(letters) < 2:
        return False
    latin = sum(1 for c in letters if "LATIN" in unicodedata.name(c, ""))
    return latin < len(letters) / 2


def parse_history(history: Any, limit: int) -> list[Turn]:
    """Earlier turns of a conversation: a list of ``{"role", "content"}`` (or ``Turn``, or plain
    strings for earlier questions), a JSON string of such a list, or empty. ``limit`` caps each
    turn's length (earlier questions were subject to the same limit as new ones)."""
    if history is None or history == "" or history == [] or history == {}:
        return []
    if isinstance(history, str):
        try:
            history = json.loads(history)
        except json.JSONDecodeError:
            raise InputError("history must be a JSON list of {\"role\", \"content\"} objects.") from None
    if isinstance(history, (tuple, set)) or type(history).__name__ in ("generator", "dict_values"):
        history = list(history)
    if not isinstance(history, list):
        raise InputError("history must be a list of {\"role\", \"content\"} objects, "
                         f"not {type(history).__name__}.")
    if len(history) > MAX_HISTORY_TURNS:
        raise InputError(f"history has {len(history):,} turns; the limit is {MAX_HISTORY_TURNS}.")
    turns = []
    for i, t in enumerate(history):
        if isinstance(t, Turn):
            t = t.model_dump()
        elif isinstance(t, str):
            t = {"role": "user", "content": t}
        if not (isinstance(t, dict) and isinstance(t.get("content"), str)
                and t.get("role", "user") in ("user", "assistant")):
            raise InputError(f"history item {i} must be {{\"role\": \"user\"|\"assistant\", \"content\": \"...\"}}.")
        content = SURROGATE.sub("\ufffd", CONTROL.sub(" ", t["content"]))
        if len(content) > 10 * limit:
            raise InputError(f"history item {i} is {len(content):,} characters long; the limit is {10 * limit:,}.")
        turns.append(Turn(role=t.get("role", "user"), content=content))
    return turns


def clean_metadata(field: str, value: str | None) -> str | None:
    """A title, kind, status or publisher given by a person: one line, no control characters."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InputError(f"The {field} must be text.")
    if SURROGATE.search(value) or CONTROL.search(value.replace("\t", " ")):
        raise InputError(f"The {field} contains control characters; please retype it.")
    value = re.sub(r"\s+", " ", INVISIBLE.sub("", value)).strip()
    if len(value) > MAX_METADATA_CHARS:
        raise InputError(f"The {field} is {len(value):,} characters long; the limit is {MAX_METADATA_CHARS}.")
    return value or None


def name_from_filename(name: str) -> str:
    """The last part of a file name however it arrived (``../x``, ``C:\\x``, ``/x``), made printable;
    runs of white space (a newline in a name) are one space, since titles and ids come from it."""
    base = re.split(r"[\\/]", name)[-1]
    base = SURROGATE.sub("", CONTROL.sub("", INVISIBLE.sub("", re.sub(r"\s+", " ", base))))
    return base.lstrip(". ") or "document"
