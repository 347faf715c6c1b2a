"""Duty explainers and a glossary for governor training, built from quoted sentences only.

The curated specification (``training.toml`` beside the corpus, see its header) says which
sentence answers which field of each card: who holds the duty, who is proposed to be added, how
strong it is, its status and what it means for a governing body. Each line is resolved against the
live library when the cards are built, so every line shown is a verbatim quote with its location
and its source's status. A line whose document has been removed from the library is left out, and
its field says why (``missing``): removing one document must not take every card, the glossary and
the quiz with it. A line whose document is there but no longer matches raises ``SpecError`` (the
specification needs updating; that is caught when it is built, never shown as a stale quote).

Each line must also do its label's job (the rules are written out in ``training.toml``): no line
leans on the sentence before it (the openers answers use, ``data/dialogue.toml``), and a definition
line ("What it is", every glossary line) names its term or an alias the specification states, before
any word that points back ("this", "they"). A term the library never defines on its own has no line
and a ``note`` saying so, rather than a sentence that does not define it.
"""
from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from .constructions import DEFINITION, construction
from .quotes import Library, Quote, SpecError
from ..answer.dialogue import dialogue
from ..answer.units import depends_on_previous

SPEC_NAME = "training.toml"
FIELD_KEYS = ("what", "holds", "added", "strength", "status", "governors")
DEFINITION_FIELDS = ("what",)  # fields whose lines say what the duty or body is
# The notice over every card, quiz and pack is the library's own: ``training_notice`` in corpus/library.toml.


class Line(BaseModel):
    """One quoted sentence on a card, with an optional short field label."""

    tag: str | None = Field(None, description="Short label, e.g. '2008 proposal' (not a claim).")
    level: str | None = Field(None, description="Strength label; its `term` appears verbatim in the quote.")
    term: str | None = None
    citation: Quote


class CardField(BaseModel):
    key: str
    label: str
    lines: list[Line]
    missing: list[str] = Field([], description="Lines of the specification not shown, each saying why "
                               "(their document is not in the library).")
    note: str | None = Field(None, description="Why the field quotes nothing: no sentence of the library does "
                             "its job on its own (from the specification).")


class Badge(BaseModel):
    label: str
    kind: Literal["law", "proposal", "other"] = "other"


class DutyCard(BaseModel):
    id: str
    name: str
    badges: list[Badge]
    fields: list[CardField]
    topic_terms: list[str] = []

    def field(self, key: str) -> CardField | None:
        return next((f for f in self.fields if f.key == key), None)

    def quotes(self) -> list[Quote]:
        return [line.citation for f in self.fields for line in f.lines]


class GlossaryEntry(BaseModel):
    term: str
    lines: list[Line]
    missing: list[str] = Field([], description="Definitions not shown, each saying why.")
    note: str | None = Field(None, description="Why the term has no quoted definition: no sentence of the "
                             "library defines it on its own (from the specification).")


def spec_path(corpus_dir: Path, override: Path | None = None) -> Path:
    return Path(override) if override else Path(corpus_dir) / SPEC_NAME


def load_spec(path: Path) -> dict:
    """The parsed specification; a plain error when it is missing or malformed."""
    try:
        return tomllib.loads(Path(path).read_text("utf-8"))
    except FileNotFoundError:
        raise SpecError(f"No training specification at {path}: the duty cards, glossary and quiz need it "
                        "(see corpus/training.toml in the repository).") from None
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{path} is not valid TOML: {exc}") from None


def _lines(library: Library, raws: list[dict], where: str, names: list[str] | None = None,
           heading: str | None = None, spoken: list[str] | None = None) -> tuple[list[Line], list[str]]:
    """(the lines that resolve, why each other one is not shown): a line is left out only when its
    document is not in the library. With ``names``, every line is a definition of that term. Every
    line must contain a construction that answers ``heading`` (``data/constructions.toml``); with
    ``spoken`` (the term's names as written), definition patterns are about that term."""
    lines, missing = [], []
    for i, raw in enumerate(raws):
        doc = raw.get("doc") if isinstance(raw, dict) else None
        if isinstance(doc, str) and doc not in library.docs:
            missing.append(f"line {i + 1} not shown: it quotes '{doc}', which is not in the library "
                           "(it may have been removed).")
            continue
        line = _line(library, raw, f"{where} / line {i + 1}")
        joined = bool(raw.get("with_previous"))
        problem = definition_problem(line.citation.quote, names, points_back=not joined) if names else None
        if not problem and heading and construction(line.citation.quote, heading, spoken or ()) is None:
            problem = (f"does not answer its heading: it has none of the constructions listed for '{heading}' "
                       "in assistant/data/constructions.toml (naming the term is not enough)")
        if depends_on_previous(line.citation.quote):
            problem = "leans on the sentence before it (it opens with words such as “However”, “This” or “The association also”)"
        if problem:
            raise SpecError(f"training spec ({where} / line {i + 1}): “{line.citation.quote}” {problem}; "
                            "choose a sentence that stands on its own, or give a 'note' instead of lines.")
        lines.append(line)
    return lines, missing


def _norm(text: str) -> str:
    """Lower case, one kind of apostrophe and quotation mark, no plural -s: for matching a term's name."""
    text = text.lower().replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
    return re.sub(r"s\b", "", re.sub(r"\s+", " ", text))


def term_names(name: str, aliases: list[str] | tuple[str, ...] = ()) -> list[str]:
    """What names a term in a sentence: the term (without a leading "The", a parenthesised short form
    or a ": subtitle"), that short form, and the aliases the specification states."""
    found = [name, *aliases, *re.findall(r"\(([^)]+)\)", name), re.sub(r"\s*\([^)]*\)|:.*$", "", name)]
    return sorted({_norm(re.sub(r"^the\s+", "", n.strip(), flags=re.I)) for n in found if n.strip()})


def spoken_names(name: str, aliases: list[str] | tuple[str, ...] = ()) -> list[str]:
    """A term's names as written (for the construction patterns): the term, its aliases, the short form in
    brackets and the term without it or a ": subtitle"."""
    found = [name, *aliases, *re.findall(r"\(([^)]+)\)", name), re.sub(r"\s*\([^)]*\)|:.*$", "", name)]
    return sorted({n.strip() for n in found if n.strip()})


def definition_problem(sentence: str, names: list[str], points_back: bool = True) -> str | None:
    """Why ``sentence`` does not define the term ``names`` name on its own (None when it does): it must
    name the term, and no word that points back ("this", "they", from ``data/dialogue.toml``) may come
    before the name ("The government has supported this by placing ... a duty to promote ...")."""
    text = _norm(sentence)
    at = [text.find(n) for n in names if n and n in text]
    if not at:
        return f"does not name the term ({' / '.join(names)}; add an alias if it names it otherwise)"
    if not points_back:  # a line quoted with the sentence it leans on
        return None
    grammar = dialogue()
    pointing = set(grammar["referring_words"]) | set(grammar["demonstratives"])
    before = sorted(set(re.findall(r"[a-z']+", text[:min(at)])) & pointing)
    if before:
        return f"points back (“{'”, “'.join(before)}”) before it names the term"
    return None


def _resolved(library: Library, raw: dict, where: str, names: list[str] | None = None,
              heading: str | None = None, spoken: list[str] | None = None) -> tuple[list[Line], list[str], str | None]:
    """A field's or a glossary entry's lines, what is missing, and its note: an empty list of lines
    needs a note that says why (the library has no sentence that does this job on its own)."""
    note = raw.get("note")
    if not raw.get("lines"):
        if not isinstance(note, str) or not note.strip():
            raise SpecError(f"training spec ({where}): give at least one quoted line, or a 'note' saying why "
                            "no sentence of the library will do.")
        return [], [], note.strip()
    lines, missing = _lines(library, raw["lines"], where, names, heading, spoken)
    return lines, missing, note


def lines_quoting(spec: dict, doc_id: str) -> list[str]:
    """Where the specification quotes ``doc_id`` ("duty-to-co-operate / holds / line 3", ...): what
    removing that document takes off the duty cards and the glossary."""
    def hits(lines) -> list[int]:
        return [i + 1 for i, line in enumerate(lines if isinstance(lines, list) else [])
                if isinstance(line, dict) and line.get("doc") == doc_id]

    found = []
    for raw in (d for d in spec.get("duties", []) if isinstance(d, dict)):
        for f in (f for f in raw.get("fields", []) if isinstance(f, dict)):
            found += [f"{raw.get('id', '?')} / {f.get('key', '?')} / line {i}" for i in hits(f.get("lines"))]
    for raw in (g for g in spec.get("glossary", []) if isinstance(g, dict)):
        found += [f"glossary / {raw.get('term', '?')} / line {i}" for i in hits(raw.get("lines"))]
    return found


def _line(library: Library, raw: dict, where: str) -> Line:
    try:
        doc, find = raw["doc"], raw["find"]
    except (KeyError, TypeError) as exc:
        raise SpecError(f"training spec ({where}): a line needs 'doc' and 'find' (missing {exc}).") from None
    sentence = library.find(doc, find, where)
    citation = library.quote(sentence)
    if raw.get("with_previous"):  # it leans on the sentence before: quote both, one verbatim slice
        before = library.previous(sentence)
        if before is None or not depends_on_previous(sentence.text):
            raise SpecError(f"training spec ({where}): 'with_previous' is for a sentence that leans on the one "
                            f"before it in its paragraph; “{sentence.text}” does not.")
        citation = library.quote_span(before, sentence)
    term = raw.get("term")
    if raw.get("level") and not term:
        raise SpecError(f"training spec ({where}): a strength 'level' needs the 'term' that shows it.")
    if term and term not in citation.quote:
        raise SpecError(f"training spec ({where}): “{term}” is not in the quoted sentence “{citation.quote}”.")
    return Line(tag=raw.get("tag"), level=raw.get("level"), term=term, citation=citation)


def build_cards(library: Library, spec: dict) -> list[DutyCard]:
    """Every duty card of the specification, each line resolved to a verbatim quote."""
    cards = []
    for raw in spec.get("duties", []):
        card_id = raw.get("id", "?")
        names = term_names(raw.get("name", card_id), raw.get("aliases", []))
        spoken = spoken_names(raw.get("name", card_id), raw.get("aliases", []))
        fields = []
        for f in raw.get("fields", []):
            key = f.get("key", "")
            if key not in FIELD_KEYS:
                raise SpecError(f"training spec ({card_id}): unknown field '{key}'; use one of {', '.join(FIELD_KEYS)}.")
            definition = key in DEFINITION_FIELDS
            lines, missing, note = _resolved(library, f, f"{card_id} / {key}", names if definition else None,
                                             DEFINITION if definition else key, spoken)
            fields.append(CardField(key=key, label=f.get("label", key), lines=lines, missing=missing, note=note))
        _no_repeats(card_id, fields)
        cards.append(DutyCard(id=card_id, name=raw.get("name", card_id), fields=fields,
                              badges=[Badge(**b) for b in raw.get("badges", [])],
                              topic_terms=list(raw.get("topic_terms", []))))
    return cards


def _no_repeats(card_id: str, fields: list[CardField]) -> None:
    """A sentence is quoted under one heading of a card only (issue 31): a heading it would repeat under
    says where it is answered (a ``note``) instead."""
    seen: list[tuple[str, int, int, str]] = []
    for f in fields:
        for line in f.lines:
            c = line.citation
            clash = next((k for d, a, b, k in seen if d == c.doc_id and a < c.end and c.start < b), None)
            if clash:
                raise SpecError(f"training spec ({card_id} / {f.key}): “{c.quote}” is already quoted under "
                                f"'{clash}' on this card; quote it once and give this heading a 'note'.")
            seen.append((c.doc_id, c.start, c.end, f.key))


def build_glossary(library: Library, spec: dict) -> list[GlossaryEntry]:
    """Every glossary term with its quoted definition(s), in alphabetical order."""
    entries = []
    for raw in spec.get("glossary", []):
        term = raw.get("term", "?")
        lines, missing, note = _resolved(library, raw, f"glossary / {term}", term_names(term, raw.get("aliases", [])),
                                         DEFINITION, spoken_names(term, raw.get("aliases", [])))
        entries.append(GlossaryEntry(term=term, lines=lines, missing=missing, note=note))
    return sorted(entries, key=lambda g: re.sub(r"^the ", "", g.term.lower()))


def summary(card: DutyCard) -> list[Line]:
    """A short summary of a duty for the training pack: the first line of each field (that has one)."""
    return [f.lines[0] for f in card.fields if f.lines]
