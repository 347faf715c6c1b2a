"""What may be quoted, and as what: the one home of that idea.

A sentence may be quoted when it says something on its own: not a fragment or a list lead-in ("Our
proposals include:"), not a heading that repeats the document's recorded title (the citation card shows
the title), and not text addressed to an AI (``safety/injection.py``). Worked out once per snapshot
(``memo.py``): ``select`` ranks only these sentences, ``retrieve`` gives a passage with none of them no
place, and ``compose`` quotes a document's heading lines from them. The ``stand_alone`` step says *as
what*: each sentence widened to the span a reader understands alone (``units.py``).
"""
from __future__ import annotations

from ..library.retrieval import Snapshot
from ..safety.injection import addressed_to_ai
from ..text import tokens
from .context import Context, Kit
from .memo import per_snapshot
from .units import unit_for


def quotable(text: str, heading: bool = False) -> bool:
    """Fragments and list lead-ins ("Our proposals include:") do not answer anything on their own; a
    heading line does, about its document ("3 July 2008", "LETTER FROM ... TO ..."), from 3 words.
    Sentences addressed to an AI (injected instructions) are never quoted."""
    if addressed_to_ai(text):
        return False
    if heading:
        return len(text.split()) >= 3
    return len(text.split()) >= 5 and not text.rstrip().endswith(":")


def is_title(snap: Snapshot, j: int) -> bool:
    """A heading line that repeats the document's recorded title: the citation card shows the title
    as the source's details, so it is never passed off as a quote."""
    doc = snap.docs[snap.passages[snap.sentence_passage[j]].doc_id]
    line = " ".join(tokens(snap.sentence_text(j), keep_stopwords=True))
    return bool(line) and line in " ".join(tokens(doc.source.title, keep_stopwords=True))


def quotable_sentences(snap: Snapshot) -> frozenset[int]:
    """The sentences that may ever be quoted (``quotable``, and not a heading that repeats the title)."""
    return per_snapshot(snap, "quotable", lambda: frozenset(
        j for j in range(len(snap.sentence_span))
        if quotable(snap.sentence_text(j), bool(snap.sentence_heading[j]))
        and not (snap.sentence_heading[j] and is_title(snap, j))))


def usable_passages(snap: Snapshot) -> frozenset[int]:
    """Passages with at least one quotable sentence: the only ones retrieval gives a place."""
    return per_snapshot(snap, "usable", lambda: frozenset(int(snap.sentence_passage[j])
                                                          for j in quotable_sentences(snap)))


def headings(snap: Snapshot, doc_id: str, with_title: bool = False) -> list[int]:
    """A document's heading lines (date line, "LETTER FROM ... TO ..."), in text order: what a question
    about the document itself quotes. Lines that repeat its recorded title ("LETTER FROM ... TO ...", when
    the title has it) only when the title, author or recipient is asked (the record line names the
    title). Only lines ``quotable`` accepts as headings (3 words or more, not addressed to an AI)."""
    found = [j for p in snap.passages if p.doc_id == doc_id for j in p.sentences
             if snap.sentence_heading[j] and quotable(snap.sentence_text(j), True)
             and (with_title or not is_title(snap, j))]
    return sorted(set(found), key=lambda j: snap.sentence_span[j][0])


def stand_alone(ctx: Context, kit: Kit) -> None:
    """Quotes that stand on their own: the judge reads, and ``compose`` quotes, each sentence widened to
    the span a reader understands alone (``units.unit_for``: with the sentence it leans on, its quotation
    marks balanced), not the bare sentence. Stops nothing."""
    ctx.quote = unit_for
