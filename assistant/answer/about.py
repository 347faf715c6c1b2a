"""The about step: questions about a document itself ("Who signed the letter, and when?").

Such a question is answered from what the library records about the document (author, publisher,
date, kind: ``corpus/sources.toml``), shown as the library's record and never passed off as a quote,
and from the document's own heading lines (its date line, "LETTER FROM ... TO ..."), which are quoted
first. The judge still reads the text for anything else the question asks.

Which phrasings ask for which detail, and which words name a document, is data
(``data/about.toml``); which document is meant is read off the documents' own details: the one whose
title, kind, publisher, author and label share the most (rarest) words with the question.
"""
from __future__ import annotations

import math
import re
import tomllib
from functools import lru_cache
from pathlib import Path

from ..library.retrieval import Snapshot
from ..library.sources import Source
from ..text import tokens
from .context import Context, Kit
from .memo import per_snapshot

ABOUT_FILE = Path(__file__).resolve().parents[1] / "data" / "about.toml"


def _phrase(words: list[str]) -> re.Pattern:
    alternatives = sorted({re.escape(w.strip().replace("’", "'")) for w in words if w.strip()}, key=len, reverse=True)
    return re.compile(r"(?<![\w'])(?:" + "|".join(alternatives) + r")(?![\w'])", re.I)


@lru_cache(maxsize=1)
def _data() -> dict:
    return tomllib.loads(ABOUT_FILE.read_text("utf-8"))


@lru_cache(maxsize=1)
def _cues() -> tuple[dict[str, tuple[re.Pattern, re.Pattern | None]], re.Pattern]:
    data = _data()
    fields = {name: (_phrase(f["ask"]), _phrase(f["when_verbs"]) if f.get("when_verbs") else None)
              for name, f in data["fields"].items()}
    return fields, _phrase(data["document_nouns"])


@lru_cache(maxsize=1)
def _kinds() -> frozenset[str]:
    """The document nouns as the question's tokens are written ("letters" → the token of "letter")."""
    return frozenset(tokens(" ".join(_data()["document_nouns"])))


def asked_fields(question: str) -> list[str]:
    """The recorded details ``question`` asks for, in the order of ``data/about.toml``; [] for none, or
    when it names no kind of document ("When did the duty start?" asks about the duty, not a paper)."""
    fields, nouns = _cues()
    text = question.replace("’", "'")
    if not nouns.search(text):
        return []
    found = []
    for name, (ask, when_verbs) in fields.items():
        if ask.search(text) or (when_verbs and re.search(r"\bwhen\b", text, re.I) and when_verbs.search(text)):
            found.append(name)
    return found


def _describing_tokens(source: Source) -> set[str]:
    return set(tokens(f"{source.title} {source.kind} {source.publisher} {source.author} {source.label}"))


def named_document(question: str, snap: Snapshot) -> str | None:
    """The document ``question`` names: the one whose details share the most words with it, each word
    weighted by how few documents' details have it (so "letter" names the one letter, while "children's
    trusts", in several titles, counts little). A document whose details have the kind of document the
    question names ("the letter", ``document_nouns``) comes before one that shares only other words ("want"
    in a headline). None when no document's details share a word, or two tie."""
    described = per_snapshot(snap, "described", lambda: {doc_id: _describing_tokens(view.source)
                                                         for doc_id, view in snap.docs.items()})
    asked = set(tokens(question))
    n = len(described)
    df: dict[str, int] = {}
    for toks in described.values():
        for t in toks & asked:
            df[t] = df.get(t, 0) + 1
    kinds = _kinds() & asked  # "the letter": the kind of document named
    scores = sorted(((bool(toks & kinds), sum(math.log(1 + n / df[t]) for t in toks & asked), doc_id)
                     for doc_id, toks in described.items()), reverse=True)
    if not scores or scores[0][1] <= 0 or (len(scores) > 1 and scores[0][0] == scores[1][0]
                                           and math.isclose(scores[0][1], scores[1][1])):
        return None
    return scores[0][2]


def record_line(source: Source, fields: list[str]) -> str:
    """The library's record of a document, labelled as such: its title and kind, then what was asked
    (author, publisher, date), saying so when a detail is not recorded."""
    details = []
    for name in fields:
        if name == "author":
            details.append(f"written by {source.author}" if source.author else "its author is not recorded")
        elif name == "publisher":
            details.append(f"published by {source.publisher}" if source.publisher not in ("", "unknown")
                           else "its publisher is not recorded")
        elif name == "date":
            details.append(f"dated {source.display_date}" if source.date else "its date is not recorded")
    if "publisher" not in fields and source.publisher not in ("", "unknown"):
        details.append(f"published by {source.publisher}")
    described = f"“{source.title}” ({source.kind})"
    return f"Library record (not a quote): {described}" + (f", {'; '.join(details)}." if details else ".")


def about(ctx: Context, kit: Kit) -> None:
    """Notice a question about a document itself: ``ctx.about`` = (document id, the details asked) and
    ``ctx.record`` = the library's record of it. ``compose`` then quotes that document's heading lines
    first and ``decide`` does not abstain (the record answers). Read from the question as asked
    (``ctx.question``), not what a follow-up borrowed from earlier turns. Stops nothing."""
    fields = asked_fields(ctx.question)
    if not fields:
        return
    doc_id = named_document(ctx.question, kit.snapshot)
    if doc_id is None:
        return
    ctx.about = (doc_id, fields)
    ctx.record = record_line(kit.snapshot.docs[doc_id].source, fields)
