"""Checks on what people type: questions, conversation history, document ids and metadata.

Shared by the pipeline's ``guard`` step, the ``Assistant`` service, the CLI and the UI, so a bad
input gets the same plain message whichever way it arrives. Nothing here loads the model or the
index: a bad question is refused before either is opened.
"""
from __future__ import annotations

import json
import math
import re
import unicodedata
from typing import Any

from .. import identity
from ..errors import InputError
from typing import get_args

from ..models import Status, Turn

STATUSES = get_args(Status)  # what an assistant turn of the history may say its answer was

# C0 controls except tab, newline, vertical tab, form feed and carriage return (pasted text has
# those), DEL, and C1 controls except NEL (U+0085, a line break like newline: text from some
# systems has it, and JSON writers leave it raw inside strings).
CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f]")
# Invisible formatting: soft hyphen, zero-width characters, bidirectional overrides, BOM. They are
# dropped silently: they change how text looks (or hides), never what it says.
INVISIBLE = re.compile(r"[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
SURROGATE = re.compile(r"[\ud800-\udfff]")  # half of a broken UTF-16 pair: not text at all
LINE_BREAKS = re.compile(r"[\t\n\v\f\r\x1c-\x1e\x85\u2028\u2029]+")  # a message is one line; so is a name
MAX_HISTORY_TURNS = 100
# The conversation history policy, one for every channel (see ``recent_history``): the turns a question reads.
HISTORY_WINDOW = 12  # the last six questions and their answers
MAX_METADATA_CHARS = 300
# JSON from outside (a batch line, a history string): deeper nesting than any real request needs is
# refused before parsing, so no input can exhaust Python's recursion limit; longer numbers than
# Python converts by default are refused with a plain message, not ``sys.set_int_max_str_digits``'s.
MAX_JSON_DEPTH = 32
MAX_NUMBER_DIGITS = 4300
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


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
    characters and pictographs (emoji) are removed and compatibility forms unified (NFKC: full-width
    letters, ligatures).
    """
    if SURROGATE.search(raw):
        return raw, ("The question contains characters that are not valid text (broken Unicode). "
                     "Please retype it.")
    if CONTROL.search(raw):
        return raw, ("The question contains control characters (such as NUL bytes) that cannot be searched. "
                     "Please retype it without them.")
    q = re.sub(r"\s+", " ", unicodedata.normalize("NFKC", INVISIBLE.sub("", raw))).strip()
    if not q:
        return q, identity.current().empty_question  # with the library's example question
    if len(q) > limit:
        return q, f"The question is {len(q):,} characters long; the limit is {limit:,}. Please shorten it."
    if not re.search(r"[^\W_]", q):
        return q, "The question has no words in it, only symbols or emoji. Please type a question in words."
    # Emoji and other pictographs say nothing the documents could: searched without them, a question with a
    # "🙏" is the question without it (the encoder and the bank would otherwise read it as a word).
    words = re.sub(r"\s+", " ", "".join(ch for ch in q if unicodedata.category(ch) != "So")).strip()
    return words, None


def mostly_non_latin(text: str) -> bool:
    """True when most letters are from a non-Latin script (the library is in English)."""
    letters = [c for c in text if c.isalpha()]
    if len(letters) < 2:
        return False
    latin = sum(1 for c in letters if "LATIN" in unicodedata.name(c, ""))
    return latin < len(letters) / 2


def json_depth(text: str, stop: int = MAX_JSON_DEPTH) -> int:
    """How deeply ``text``'s arrays and objects nest (brackets inside strings do not count); counting
    stops past ``stop``. A scan, not a parse: it cannot recurse, however deep the input."""
    depth = deepest = 0
    for ch in _NOT_BRACKET.sub("", _JSON_STRING.sub("", text)):
        depth += 1 if ch in "[{" else -1
        if depth > deepest:
            deepest = depth
            if deepest > stop:
                break
    return deepest


def _json_int(digits: str) -> int:
    n = len(digits.lstrip("-"))
    if n > MAX_NUMBER_DIGITS:
        raise InputError(f"a number has {n:,} digits; the most accepted is {MAX_NUMBER_DIGITS:,}.")
    return int(digits)


def _json_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise InputError(f"the number {shown(text, 40)} is too large to be kept exactly.")
    return value


def _json_constant(name: str) -> Any:
    raise InputError(f"{name} is not a number that JSON allows.")


def parse_json(text: str, what: str = "the JSON", invalid: str | None = None) -> Any:
    """``text`` parsed as JSON, or ``InputError`` with one plain message (``what`` names the input;
    ``invalid`` replaces the message for text that is not JSON at all). Too-deep nesting, over-long
    numbers and non-finite numbers are refused, so what is parsed can always be written back as JSON."""
    if json_depth(text) > MAX_JSON_DEPTH:
        raise InputError(f"{what} is nested more than {MAX_JSON_DEPTH} levels deep.")
    try:
        return json.loads(text, parse_int=_json_int, parse_float=_json_float, parse_constant=_json_constant)
    except RecursionError:  # the scan above makes this unreachable; kept as the last line of defence
        raise InputError(f"{what} is nested more than {MAX_JSON_DEPTH} levels deep.") from None
    except json.JSONDecodeError as exc:
        raise InputError(invalid or f"{what} is not valid JSON ({exc.msg}, column {exc.colno}).") from None


def recent_history(turns: list) -> list:
    """The one conversation-history policy, the same for the web UI, the HTTP API (``/ask``), the CLI's
    ``--previous`` and batch lines: a question reads the last ``HISTORY_WINDOW`` turns of its history (six
    questions and their answers) and nothing before them, for its follow-up reading and for which quotes
    it has already given. Every channel reaches it through ``parse_history`` (``Assistant.ask`` calls
    it), which first refuses a history over ``max_history_turns`` turns or ``max_history_chars``
    characters; the web UI, which keeps the whole session on the page, applies it to the turns it sends,
    so a long session is never refused. ``turns``: oldest first, of any kind (dicts or ``Turn``)."""
    return list(turns)[-HISTORY_WINDOW:]


def parse_history(history: Any, limit: int, max_turns: int = 100, max_chars: int | None = None) -> list[Turn]:
    """Earlier turns of a conversation: a list of ``{"role", "content", "status"?}`` (or ``Turn``, or plain
    strings for earlier questions), a JSON string of such a list, or empty. ``limit`` caps each
    turn's length (earlier questions were subject to the same limit as new ones), ``max_turns`` their
    number and ``max_chars`` their total length: a follow-up only draws on the last turns, so a longer
    history is refused (naming the limit) before any of it is scanned. Of an accepted history, the
    turns kept are ``recent_history``'s (the policy every channel shares)."""
    if history is None or history == "" or history == [] or history == {}:
        return []
    if isinstance(history, str):
        history = parse_json(history, "history",
                             invalid="history must be a JSON list of {\"role\", \"content\"} objects.")
    if isinstance(history, (tuple, set)) or type(history).__name__ in ("generator", "dict_values"):
        history = list(history)
    if not isinstance(history, list):
        raise InputError("history must be a list of {\"role\", \"content\"} objects, "
                         f"not {type(history).__name__}.")
    if len(history) > max_turns:
        raise InputError(f"history has {len(history):,} turns; the limit is {max_turns}.")
    given = []
    for i, t in enumerate(history):
        if isinstance(t, Turn):
            t = t.model_dump()
        elif isinstance(t, str):
            t = {"role": "user", "content": t}
        if not (isinstance(t, dict) and isinstance(t.get("content"), str)
                and t.get("role", "user") in ("user", "assistant")):
            raise InputError(f"history item {i} must be {{\"role\": \"user\"|\"assistant\", \"content\": \"...\"}}.")
        if len(t["content"]) > 10 * limit:
            raise InputError(f"history item {i} is {len(t['content']):,} characters long; the limit is {10 * limit:,}.")
        status = t.get("status")
        if status is not None and status not in STATUSES:
            raise InputError(f"history item {i} has status {str(status)[:40]!r}; it must be one of {', '.join(STATUSES)}.")
        given.append((t.get("role", "user"), t["content"], status))
    total = sum(len(content) for _, content, _ in given)
    if max_chars is not None and total > max_chars:
        raise InputError(f"history is {total:,} characters long; the limit is {max_chars:,}. "
                         "Send only the last turns of the conversation.")
    return [Turn(role=role, content=SURROGATE.sub("\ufffd", CONTROL.sub(" ", content)), status=status)
            for role, content, status in recent_history(given)]


def whole_number(value: Any, low: int, high: int, what: str) -> int:
    """``value`` as an int when it is a whole number from ``low`` to ``high``: an int, or a float with no
    fraction (JSON clients and number boxes send 3.0); otherwise ``InputError`` saying what is allowed
    (text is refused: a form layer converts its fields first). No input reaches ``int()`` with an
    infinity, and every check is on numbers, never on Python's own messages."""
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, float) and math.isfinite(value) and value.is_integer() and abs(value) <= 2 ** 63:
        number = int(value)
    if number is None or not low <= number <= high:
        raise InputError(f"The {what} must be a whole number from {low:,} to {high:,}.")
    return number


def clean_metadata(field: str, value: str | None) -> str | None:
    """A title, kind, status or publisher given by a person: one line, no control characters."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InputError(f"The {field} must be text.", field=field)
    if SURROGATE.search(value) or CONTROL.search(value.replace("\t", " ")):
        raise InputError(f"The {field} contains control characters; please retype it.", field=field)
    value = re.sub(r"\s+", " ", INVISIBLE.sub("", value)).strip()
    if len(value) > MAX_METADATA_CHARS:
        raise InputError(f"The {field} is {len(value):,} characters long; the limit is {MAX_METADATA_CHARS}.",
                         field=field)
    return value or None


def name_from_filename(name: str) -> str:
    """The last part of a file name however it arrived (``../x``, ``C:\\x``, ``/x``), made printable;
    runs of white space (a newline in a name) are one space, since titles and ids come from it."""
    base = re.split(r"[\\/]", name)[-1]
    base = SURROGATE.sub("", CONTROL.sub("", INVISIBLE.sub("", re.sub(r"\s+", " ", base))))
    return base.lstrip(". ") or "document"
