"""Word-level helpers shared by BM25, sentence scoring and answer checks."""
from __future__ import annotations

import re

STOPWORDS = frozenset("""
a about above after again against all am an and any are as at be because been before being below
between both but by can could did do does doing down during each few for from further had has have
having he her here hers herself him himself his how i if in into is it its itself just me more most
my myself no nor not now of off on once only or other our ours ourselves out over own same she should
so some such than that the their theirs them themselves then there these they this those through to
too under until up very was we were what when where which while who whom why will with would you
your yours yourself yourselves tell me please explain say says said does mean also get like us may
might must shall much many also whether
""".split())

_WORD = re.compile(r"[a-z0-9]+")
_JOINED = re.compile(r"(?<=[a-z])[-‐‑](?=[a-z])")


def normalise(text: str) -> str:
    """Lower-case, unify apostrophes, and join hyphenated words (well-being → wellbeing)."""
    text = text.lower().replace("’", "'").replace("‘", "'")
    text = re.sub(r"'s\b", "", text)
    return _JOINED.sub("", text)


def stem(word: str) -> str:
    """A deliberately light stemmer: plural and common verb endings (academies → academy)."""
    if len(word) <= 3 or word.isdigit():
        return word
    for suffix, repl in (("ies", "y"), ("sses", "ss"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            if suffix == "s" and word.endswith(("ss", "us", "is")):
                return word
            if suffix == "es" and not word.endswith(("ches", "shes", "xes", "sses", "zes")):
                continue
            return word[: -len(suffix)] + repl
    return word


def tokens(text: str, keep_stopwords: bool = False) -> list[str]:
    words = _WORD.findall(normalise(text))
    return [stem(w) for w in words if keep_stopwords or w not in STOPWORDS]


def words(text: str) -> int:
    return len(re.findall(r"\S+", re.sub(r"\[\d+\]", "", text)))
