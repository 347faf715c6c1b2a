"""The compose step: which quotes make the answer, in which order, each one standing on its own."""
from __future__ import annotations

from ..library.retrieval import Snapshot
from ..text import words
from .. import identity
from .context import Context, Kit, Scored
from .quotable import headings
from .units import Unit


def compose(ctx: Context, kit: Kit) -> None:
    """Pick the quotes: the best-judged sentence first, then others close to it that add something new,
    within the sentence and word budgets (a quote longer than the whole word budget is never given, so
    ``max_answer_words`` holds for every answer). Each is quoted as ``ctx.quote`` says (``stand_alone``);
    quotes already given earlier in the conversation are not repeated unless nothing else answers.
    Stops with ``no_evidence`` when no sentence above the threshold can open an answer on its own."""
    snap, s = kit.snapshot, kit.settings
    floor = ctx.threshold if ctx.threshold is not None else float("inf")  # set by the judge (``judge``)
    keep = ctx.keep
    pool = [c for c in ctx.ranked if c.score >= floor]
    fresh = [c for c in pool if not ctx.quoted_before(snap.sentence_text(c.sentence))]
    pool = fresh or pool
    units: list[tuple[Scored, Unit]] = []
    budget = 0

    def unit_of(c: Scored) -> Unit | None:
        return ctx.quote(snap, c.sentence)

    def take(c: Scored, opening: bool = False) -> bool:
        nonlocal budget
        unit = unit_of(c)
        if unit is None or (opening and unit.leans) or any(u.start < unit.end and unit.start < u.end for _, u in units):
            return False
        n = words(snap.docs[_doc(snap, c)].text[unit.start:unit.end])
        if n > s.max_answer_words:  # not even as the only quote: the budget holds for every answer
            return False
        if units and (repeats(snap, c.sentence, [x for x, _ in units], s.dedup_threshold)
                      or budget + n > s.max_answer_words
                      or sum(len(u.sentences) for _, u in units) + len(unit.sentences) > s.max_sentences + 1):
            return False
        units.append((c, unit))
        budget += n
        return True

    def read_on(c: Scored) -> None:
        """The opening quote widened to take ``c``, the sentence after it, when ``c`` leans on it (its
        quote would take in the opening one, "It is important that these powers ..."): one quote, within
        the budgets."""
        nonlocal budget
        first, unit = units[opening]
        wider = unit_of(c)
        if wider is None or not (unit.start <= wider.start < unit.end < wider.end) \
                or any(u.start < wider.end and wider.start < u.end for k, (_, u) in enumerate(units) if k != opening):
            return
        text = snap.docs[_doc(snap, c)].text
        n = words(text[unit.start:wider.end]) - words(text[unit.start:unit.end])
        new = tuple(j for j in wider.sentences if j not in unit.sentences)
        if budget + n > s.max_answer_words or repeats(snap, c.sentence, [x for x, _ in units], s.dedup_threshold) \
                or sum(len(u.sentences) for _, u in units) + len(new) > s.max_sentences + 1:
            return
        units[opening] = (first, Unit(unit.start, wider.end, unit.sentences + new, unit.leans))
        budget += n

    if ctx.about:  # a question about a document itself: its heading lines first ("3 July 2008", "LETTER FROM ...")
        doc_id, fields = ctx.about
        for j in headings(snap, doc_id, with_title=bool({"title", "author", "recipient"} & set(fields))):
            take(Scored(j, 1.0, 0.0, p=1.0))
    opening = len(units)
    for c in pool:  # the first quote: the best sentence that stands on its own (does not lean back)
        if take(c, opening=not units):
            break
    if not units:
        return ctx.stop("no_evidence", identity.of_settings(kit.settings).no_evidence)
    if len(units) > opening:  # content quotes (a question about a document may have none above the floor)
        best = units[opening][0]
        for part in ctx.part_best:  # a two-part question gets an answer to each part
            if part.score >= floor and part in pool:
                take(part)
        after = next_in_passage(snap, units[opening])
        for cand in pool:  # the opening quote read on: the sentence after it, when it answers too, whatever its share
            if cand.sentence == after and not take(cand):
                read_on(cand)
        for cand in pool:
            if len(units) >= s.max_sentences + opening or cand.score < max(floor, keep * best.score):
                break
            take(cand)
    # Most direct first: by score, except that quotes from one passage that touch are joined in text order.
    first = opening + 1  # the heading lines (about a document) and the opening quote stay first
    units[first:] = sorted(units[first:], key=lambda cu: cu[0].score, reverse=True)
    merged: list[tuple[Scored, Unit]] = []
    for c, u in units:
        for k, (mc, mu) in enumerate(merged):
            if _doc(snap, c) == _doc(snap, mc) and _touch(snap, mu, u):
                lo, hi = (mu, u) if mu.start <= u.start else (u, mu)
                merged[k] = (mc, Unit(lo.start, hi.end, lo.sentences + hi.sentences))
                break
        else:
            merged.append((c, u))
    ctx.chosen = [c for c, _ in merged]
    ctx.units = [u for _, u in merged]
    ctx.answer = " ".join(f"{snap.docs[_doc(snap, c)].text[u.start:u.end]} [{n}]"
                          for n, (c, u) in enumerate(merged, start=1))
    if ctx.record:  # the library's record of the document asked about, labelled, before the quotes
        ctx.answer = f"{ctx.record}\n\n{ctx.answer}"


def next_in_passage(snap: Snapshot, chosen: tuple[Scored, Unit]) -> int | None:
    """The sentence that follows a quote in the passage of its judged sentence (None at the passage's end)."""
    c, unit = chosen
    sentences = sorted(snap.passages[snap.sentence_passage[c.sentence]].sentences, key=lambda j: snap.sentence_span[j][0])
    later = [j for j in sentences if snap.sentence_span[j][0] >= unit.end]
    return later[0] if later else None


def _doc(snap: Snapshot, c: Scored) -> str:
    return snap.passages[snap.sentence_passage[c.sentence]].doc_id


def _touch(snap: Snapshot, a: Unit, b: Unit) -> bool:
    """Two quotes of one document with nothing but white space between them read as one."""
    lo, hi = (a, b) if a.start <= b.start else (b, a)
    text = snap.docs[snap.passages[snap.sentence_passage[lo.sentences[0]]].doc_id].text
    return lo.end >= hi.start or not text[lo.end:hi.start].strip()


def repeats(snap: Snapshot, j: int, chosen: list[Scored], threshold: float) -> bool:
    """Whether sentence ``j`` says again what one of ``chosen`` says (close in meaning, or mostly the same
    words): not quoted beside it, nor given to a language model beside it (``generate.py``)."""
    v = snap.sentence_vectors[j]
    for c in chosen:
        if float(v @ snap.sentence_vectors[c.sentence]) > min(threshold, 0.85):
            return True
        a, b = snap.sentence_tokens[j], snap.sentence_tokens[c.sentence]
        if a and b and len(a & b) / len(a | b) > 0.6:
            return True
    return False
