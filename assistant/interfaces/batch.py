"""The batch API (``assistant ask --json --batch FILE``): one JSON object per input line, one per output line.

Evaluation scripts depend on it, so each line succeeds or fails on its own, with its own line number:

* the file is read as bytes and split on ``\\n`` only (``str.splitlines`` would also split on U+2028,
  U+2029 and U+0085, which ``json.dumps(ensure_ascii=False)`` writes raw inside strings); a UTF-8
  byte-order mark before line 1 is skipped; a line that is not UTF-8 fails alone;
* each line is parsed with ``inputs.parse_json`` (bounded nesting and number length), so no line can
  end the batch with a RecursionError or leak Python's messages;
* the ``id`` comes back exactly as given, with its JSON type, in answers and errors alike; an id
  already used by an earlier line is an error for the later line (not answered): a script that joins
  answers to questions by id could not tell two answers with one id apart;
* every output line is written and flushed as soon as it is ready; the separators above are
  escaped in the output, so a reader using ``splitlines`` sees one object per line.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import IO, Any, Iterator

from ..errors import InputError
from ..safety.inputs import parse_json, shown

BOM = b"\xef\xbb\xbf"
# Line breaks for str.splitlines that JSON leaves raw inside strings (control characters it escapes).
_SEPARATORS = {"\u0085": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def read_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """(line number, raw bytes without the line break) for every line of ``path``, streamed."""
    try:
        f = path.open("rb")
    except FileNotFoundError:
        raise InputError(f"{path}: file not found.") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a folder, not a file of questions.") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror or exc.__class__.__name__}).") from None
    with f:
        for number, raw in enumerate(f, start=1):  # binary files split on b"\n" only
            if number == 1 and raw.startswith(BOM):
                raw = raw[len(BOM):]
            yield number, raw.rstrip(b"\r\n")


def parse_item(raw: bytes) -> dict:
    """One line as ``{"id"?, "question", "history"?}``; ``InputError`` (message without the line number)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte {exc.start + 1} is 0x{raw[exc.start]:02x}).") from None
    item = parse_json(text, "the line")
    if not isinstance(item, dict):
        raise InputError("expected an object {\"id\", \"question\", \"history\"?}.")
    return item


def dumps(obj: Any) -> str:
    """Compact JSON on one line, even for a reader that splits on Unicode line separators."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    for raw, escaped in _SEPARATORS.items():
        text = text.replace(raw, escaped)  # only ever inside strings, where the escape means the same
    return text


def run_batch(assistant, path: Path, out: IO[str] | None = None) -> int:
    """Answer every line of ``path``; returns the number of lines that failed."""
    out = out or sys.stdout
    seen: dict[str, int] = {}
    bad = 0

    def emit(obj: dict) -> None:
        out.write(dumps(obj) + "\n")
        out.flush()

    for number, raw in read_lines(path):
        if not raw.strip():
            continue
        given: Any = None
        try:
            item = parse_item(raw)
            given = item.get("id")
            if given is not None:
                key = json.dumps(given, sort_keys=True)
                if key in seen:
                    raise InputError(f"id {shown(key, 60)} was already used on line {seen[key]}; each line needs "
                                     "its own id (this line was not answered).")
                seen[key] = number
            if not isinstance(item.get("question"), str):
                raise InputError("\"question\" must be text.")
            answer = assistant.ask(item["question"], history=item.get("history") or [])
            emit({**answer.model_dump(mode="json"), "id": given})
        except (InputError, RecursionError) as exc:
            bad += 1
            why = str(exc) if isinstance(exc, InputError) else "the line is nested too deeply."
            emit({"id": given, "line": number, "error": f"line {number}: {why}"})
    return bad
