"""The terms a quiz asks about and where a sentence names them (the spec's ``[quiz] types``: who is
bound or proposed, how strong, under which law; people, organisations and dates only so that a wrong
choice is never also right).

A term is an ``Entity`` (every spelling of one thing, and words that only refer to it); ``Terms.find``
gives its ``Mention``s in a text, leftmost-longest and never overlapping; ``Terms.display`` writes a
wrong choice in the answer's spelling style, so the style never gives the answer away. Split out of
``quiz.py`` (issue 32: modules under 400 lines); the question-making rules stay there.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .quotes import Sentence

_SMALL_WORDS = {"and", "of", "the", "for", "in", "to"}


@dataclass(frozen=True)
class Entity:
    type: str
    key: str
    forms: tuple[str, ...]
    also: tuple[str, ...] = ()  # other words for it that are never blanked ("the association")
    affiliations: tuple[str, ...] = ()  # keys of the organisations a person speaks for


@dataclass(frozen=True)
class Mention:
    entity: Entity
    start: int  # offsets within the sentence text
    end: int
    surface: str


@dataclass
class Candidate:
    """A question the library supports: a sentence, the term to blank, and the wrong choices that cannot
    also be right."""
    sentence: Sentence
    mention: Mention
    distractors: list[Entity]
    topics: list[str] = field(default_factory=list)


def norm(text: str) -> str:
    """``text`` for comparing claims: straight quotes, single spaces, lower case."""
    text = text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
    return re.sub(r"\s+", " ", text).strip().lower()


class Terms:
    """The spec's term types (``conf``: its ``[quiz]`` table) made into patterns."""

    def __init__(self, conf: dict):
        fixed = conf.get("fixed_phrases", [])
        self._fixed = re.compile("|".join(re.escape(f) for f in fixed), re.I) if fixed else None
        self.types: dict[str, list[Entity]] = {}
        self._patterns: list[tuple[re.Pattern, Entity]] = []
        for t in conf.get("types", []):
            flags = 0 if t.get("case_sensitive", t["name"] not in ("body", "number")) else re.I
            entities = []
            for term in t.get("terms", []):
                forms = tuple(term["forms"])
                entity = Entity(t["name"], forms[0], forms, tuple(term.get("also", [])), tuple(term.get("with", [])))
                entities.append(entity)
                for form in forms + entity.also:
                    also = re.I if form in entity.also else 0
                    self._patterns.append((re.compile(rf"(?<![\w‐-]){re.escape(form)}(?![\w‐-])", flags | also), entity))
            self.types[t["name"]] = sorted(entities, key=lambda e: e.key)
        self.case_style = {t["name"]: bool(t.get("case_style")) for t in conf.get("types", [])}

    def find(self, text: str) -> list[Mention]:
        """Known terms in ``text``, leftmost-longest, never overlapping; a spelling of a term wins over a
        word that only refers to it ("the Association of Directors ..." is not "the association"), and
        nothing inside a fixed phrase ("schools causing concern") is a term."""
        fixed = [m.span() for m in self._fixed.finditer(text)] if self._fixed else []
        found = sorted(((m.start(), -(m.end() - m.start()), m.end(), e, m.group(0)) for p, e in self._patterns
                        for m in p.finditer(text) if not any(a <= m.start() < b for a, b in fixed)),
                       key=lambda x: (x[0], x[1], x[3].key))
        also = {x for x in found if x[4].lower() in {a.lower() for a in x[3].also}}
        proper = [x for x in found if x not in also]
        found = sorted(proper + [x for x in also if not any(p[0] < x[2] and x[0] < p[2] for p in proper)],
                       key=lambda x: (x[0], x[1], x[3].key))
        out: list[Mention] = []
        for start, _, end, entity, _surface in found:
            if out and start < out[-1].end:
                continue
            out.append(Mention(entity, start, end, text[start:end]))
        return out

    def display(self, entity: Entity, like: Mention, text: str) -> str:
        """How a wrong choice is written so that it looks like the answer ``like`` in the sentence ``text``
        (same spelling style)."""
        forms = entity.forms
        alias = like.entity.forms.index(like.surface) if like.surface in like.entity.forms else 0
        form = forms[alias] if 0 < alias < len(forms) else forms[0]
        at_start = like.start == 0 or text[:like.start].rstrip().endswith((".", "“", "–"))
        if self.case_style.get(entity.type):
            style = _style(like.surface, at_start)
            lower = [f for f in forms if f[:1].islower()]
            if style == "lower" and lower:
                form = lower[0]
            elif style == "title":
                form = " ".join(w if w.lower() in _SMALL_WORDS or _acronym(w) else w[:1].upper() + w[1:]
                                for w in form.split())
        if at_start:
            form = form[:1].upper() + form[1:]
        return form


def _acronym(word: str) -> bool:
    return any(ch.isupper() for ch in word[1:])


def _style(surface: str, at_start: bool) -> str:
    """'lower' (councils), 'title' (Primary Care Trusts) or 'keep' (GPs) for a term as written."""
    words = [w for w in surface.split() if w.lower() not in _SMALL_WORDS]
    if any(_acronym(w) for w in words):
        return "keep"
    if surface[:1].islower() or (at_start and len(words) == 1):
        return "lower"
    return "title" if all(w[:1].isupper() for w in words) else "lower"
