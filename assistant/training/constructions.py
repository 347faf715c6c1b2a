"""Does a quoted sentence do its heading's job? A definition must say what the term IS, not only name it.

Issue 31: cards and the glossary showed sentences that named a term without defining it ("In the
Children's Plan we set out our shared ambition ...") and left a duty undefined that the library does
define. The constructions that answer each heading ("X is/are/means/refers to", "a duty to", "This
means", "applies to", "proposes", "must/should/may", ...) are data, in ``data/constructions.toml``,
so they are shared by the build (which refuses a line without one) and by the content tests.
"""
from __future__ import annotations

import re
import tomllib
from functools import lru_cache
from pathlib import Path

CONSTRUCTIONS_FILE = Path(__file__).resolve().parents[1] / "data" / "constructions.toml"
DEFINITION = "definition"


def plain(text: str) -> str:
    """One kind of apostrophe and of quotation mark, single spaces: what the patterns are written for."""
    text = text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
    return re.sub(r"\s+", " ", text)


@lru_cache(maxsize=1)
def constructions() -> dict[str, list[str]]:
    """Patterns by heading: ``definition`` (with ``{term}``) and one list per card field key."""
    data = tomllib.loads(CONSTRUCTIONS_FILE.read_text("utf-8"))
    return {DEFINITION: list(data.get(DEFINITION, [])), **{k: list(v) for k, v in data.get("fields", {}).items()}}


def term_pattern(names: list[str] | tuple[str, ...]) -> str:
    """A regular expression for any of ``names`` (a leading "the" optional, a plural -s allowed)."""
    alts = []
    for n in sorted({plain(n).strip().lower() for n in names if n.strip()}, key=len, reverse=True):
        n = re.sub(r"^the\s+", "", n)
        n = re.sub(r"s$", "", n) if len(n) > 3 else n
        alts.append(r"(?<![\w-])" + re.escape(n).replace(r"\ ", r"\s+") + r"(?:s|es)?(?![\w-])")
    return "(?:" + "|".join(alts) + ")"


def construction(quote: str, heading: str, names: list[str] | tuple[str, ...] = ()) -> str | None:
    """The first pattern of ``heading`` that ``quote`` contains (None when none does). Definition
    patterns are about the term: their ``{term}`` is any of ``names``."""
    patterns = constructions().get(heading)
    if patterns is None:
        return "(no construction needed)"
    text = plain(quote)
    term = term_pattern(names) if names else r"(?!x)x"
    for p in patterns:
        if re.search(p.replace("{term}", term), text, re.I):
            return p
    return None
