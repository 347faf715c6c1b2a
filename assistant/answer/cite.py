"""The cite step: every [n] of the answer becomes a ``Citation``, a verbatim slice of its document
(``text[start:end]``) with the source's title, date, kind, status and location."""
from __future__ import annotations

from ..library.retrieval import Snapshot
from ..models import Citation
from .context import Context, Kit, Scored

def cite(ctx: Context, kit: Kit) -> None:
    """Resolve every [n] to a verbatim quote with its source's metadata; drop anything not verbatim.
    Stops nothing (a quote that is not verbatim in the answer is a bug, and fails loudly)."""
    citations = []
    for n, c in enumerate(ctx.chosen, start=1):
        unit = ctx.units[n - 1] if len(ctx.units) == len(ctx.chosen) else None
        citation = make_citation(kit.snapshot, n, c, (unit.start, unit.end) if unit else None)
        assert citation.quote and f"{citation.quote} [{n}]" in ctx.answer, "a quote must appear verbatim in the answer"
        citations.append(citation)
    ctx.citations = citations


def make_citation(snap: Snapshot, n: int, c: Scored, span: tuple[int, int] | None = None) -> Citation:
    """Citation ``[n]`` for sentence ``c`` (or the wider ``span`` it is quoted with): the verbatim slice of
    its document, with the source's metadata."""
    passage = snap.passages[snap.sentence_passage[c.sentence]]
    doc = snap.docs[passage.doc_id]
    start, end = span or snap.sentence_span[c.sentence]
    src = doc.source
    return Citation(
        n=n, doc_id=src.id, title=src.title, publisher=src.publisher, author=src.author, date=src.date,
        date_approximate=src.date_approximate, display_date=src.display_date, kind=src.kind,
        status=src.status, label=src.citation_label, quote=doc.text[start:end],
        location=f"paragraph {passage.paragraph}", paragraph=passage.paragraph, start=start, end=end,
        score=round(c.score, 4))
