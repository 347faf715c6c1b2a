"""The grammar words of ``data/dialogue.toml``: what opens a follow-up, what makes a sentence lean on the
one before it, what asks about the present day, where a second question starts. Data, not code, so a
school can edit them; read once."""
from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path

DIALOGUE_FILE = Path(__file__).resolve().parents[1] / "data" / "dialogue.toml"


@lru_cache(maxsize=1)
def dialogue() -> dict:
    return tomllib.loads(DIALOGUE_FILE.read_text("utf-8"))
