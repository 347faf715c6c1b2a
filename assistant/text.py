"""Word-level helpers shared by BM25, sentence scoring and answer checks."""
from __future__ import annotations

import re
from functools import lru_cache

STOPWORDS = frozenset("""
a about above after again against all am an and any are as at be because been before being below
between both but by can could did do does doing down during each few for from further had has have
having he her here hers herself him himself his how i if in into is it its itself just me more most
my myself no nor not now of off on once only or other our ours ourselves out over own same she should
so some such than that the their theirs them themselves then there these they this those through to
too under until up very was we were what when where which while who whom why will with would you
your yours yourself yourselves tell me please explain say says said does mean also get like us may
might must shall much many also whether whats hows whos
""".split())

_WORD = re.compile(r"[a-z0-9]+(?:[-‐‑][a-z0-9]+)*")


def normalise(text: str) -> str:
    """Lower-case and unify apostrophes and hyphens."""
    text = text.lower().replace("’", "'").replace("‘", "'").replace("‐", "-").replace("‑", "-")
    return re.sub(r"'s\b", "", text)


def _expand(word: str) -> list[str]:
    """A hyphenated word counts as itself joined and as its parts: well-being ~ wellbeing ~ well being."""
    if "-" not in word:
        return [word]
    parts = word.split("-")
    return ["".join(parts)] + [p for p in parts if len(p) > 2 or p.isdigit() and len(p) == 4]


@lru_cache(maxsize=1 << 16)
def stem(word: str) -> str:
    """A deliberately light stemmer: plural and common verb endings (academies → academy), final e.
    Memoised: start-up tokenises every sentence and passage, and a library repeats its words (the 100×
    benchmark library stems 343k words, 764 of them distinct; loading it takes ~0.25 s less)."""
    if len(word) <= 3 or word.isdigit():
        return word
    for suffix, repl in (("ies", "y"), ("sses", "ss"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            if suffix == "s" and word.endswith(("ss", "us", "is")):
                return word
            if suffix == "es" and not word.endswith(("ches", "shes", "xes", "sses", "zes")):
                continue
            word = word[: -len(suffix)] + repl
            break
    # A final "e" goes too, so close / closing / closed and include / included all meet.
    return word[:-1] if len(word) > 4 and word.endswith("e") and not word.endswith("ee") else word


def tokens(text: str, keep_stopwords: bool = False) -> list[str]:
    words = [w for found in _WORD.findall(normalise(text)) for w in _expand(found)]
    return [stem(w) for w in words if keep_stopwords or w not in STOPWORDS]


def words(text: str) -> int:
    return len(re.findall(r"\S+", re.sub(r"\[\d+\]", "", text)))


def _load_synonyms() -> dict[str, frozenset[str]]:
    """Word groups that count as the same word (stemmed), from ``data/synonyms.toml``: LLM-answer
    verification (``verify.py``) accepts a synonym of a cited passage's word as support."""
    import tomllib
    from pathlib import Path

    groups = tomllib.loads((Path(__file__).resolve().parent / "data" / "synonyms.toml").read_text("utf-8"))["groups"]
    out: dict[str, frozenset[str]] = {}
    for group in ({stem(w) for w in g} for g in groups):
        for word in group:
            out[word] = out.get(word, frozenset()) | frozenset(group - {word})
    return out


SYNONYMS: dict[str, frozenset[str]] = _load_synonyms()

_ENTITY = re.compile(r"(?<![.?!]\s)(?<!^)\b([A-Z][A-Za-z’']+|[A-Z]{2,})\b")


def entities(text: str) -> set[str]:
    """Stemmed tokens of capitalised words that are not sentence-initial (names, bodies, acronyms)."""
    found = set()
    for match in _ENTITY.finditer(text.strip()):
        found.update(tokens(match.group(1)))
    return found
