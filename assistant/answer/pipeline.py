"""The answer pipeline: an ordered list of small steps sharing one ``Context``.

guard → scope → condense → reword → retrieve → select → decide → compose → cite. Any step may stop the run by
setting a named status (``invalid_input``, ``unsafe_input``, ``no_evidence``); the status is part of
the public result, so the CLI exit code, the UI and the evaluation all read the same thing.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..safety import privacy
from ..config import Settings
from ..encoders.embeddings import Embedder
from ..safety.inputs import clean_question, mostly_non_latin, shown
from ..models import Answer, Citation, Turn
from ..library.retrieval import Hit, Retriever, Snapshot
from ..text import entities, normalise, tokens, words
from .vocabulary import Vocabulary
from .followup import clip, condense as resolve_follow_up
from .judge import JudgeModel, judge
from .units import Unit, unit_for

COVERAGE = ("2008 proposals to extend the Children Act 2004 \"duty to co-operate\" to schools, children's "
            "trusts and Children's Trust Boards, Children and Young People's Plans, and schools' duty to "
            "promote pupils' well-being")
NO_EVIDENCE = ("The documents in this library don't cover that. They cover " + COVERAGE + ". For anything "
               "else, or for the law as it stands today, please ask your local authority or your clerk to governors.")
NOT_ENGLISH = ("The library's documents are in English, so I can only search them for questions asked in "
               "English. Please ask in English, for example: \"Which bodies are bound by the duty to co-operate?\"")
NOTICE_PROPOSALS = ("Based on 2008 proposals and news reports of them, not law in force; not legal advice. "
                    "Check the current position with your local authority or clerk.")
NOTICE_GENERAL = "Quoted from the library's documents; not legal advice."

_INJECTION = re.compile(
    r"\b(ignore|disregard|forget|override)\b.{0,40}\b(instructions?|prompts?|rules?|guidelines?|above|previous|system)\b"
    r"|\b(system prompt|your prompt|jailbreak|developer mode|you are now|act as|pretend (to be|you are))\b"
    r"|^\s*(system|assistant)\s*:"
    r"|</?\s*(context|system|instructions?|prompt|documents?)\s*>"  # fake markup closing "our" context
    r"|\bnew (instructions?|rules?|task)\b|\b(administrator|admin|developer|operator)\s*(says|:)",
    re.I)
# Text in a document that addresses an AI rather than a reader ("ignore previous instructions", "System:").
# Such sentences are never quoted: an extractive answer cannot be steered by what a document tells it.
_ADDRESSED_TO_AI = re.compile(
    r"\b(ignore|disregard|forget|override)\b.{0,40}\b(instructions?|prompts?|rules?|guidelines?)\b"
    r"|\b(system prompt|jailbreak|developer mode|you are now|language model|as an ai|ai assistant|chatbot)\b"
    r"|^\W*(system|assistant|user)\s*:"
    r"|\b(reply|respond|answer)\b.{0,40}\b(only|always)\b.{0,40}\bwith\b",
    re.I)
_FOLLOW_UP = re.compile(
    r"^\s*(and|but|also|so|what about|how about|what of|and what|does (that|it|this)|do (they|those)|is (that|it|this)|"
    r"are (they|those|these)|why|when|who else|which)\b|\b(it|they|them|this|that|those|these|there)\b", re.I)
_YEAR = re.compile(r"(?<![\d-])((?:19|20)\d\d)(?![\d])")
_PRESENT_DAY = re.compile(r"\b(today|nowadays|these days|as of now|in force now|still in force|"
                          r"(this|next) (academic |school |financial )?(year|term))\b", re.I)
_PARTS = re.compile(r"\s*(?:[,;]\s*(?:and|but)?|\?|\band\b)\s+(?=(?:how|what|when|who|which|why|where|whose|is|are|does|do|did|will|would|can|could)\b)", re.I)


@dataclass
class Kit:
    """What the steps need: settings, the model and the live index."""

    settings: Settings
    embedder: Embedder
    snapshot: Snapshot
    retriever: Retriever
    vocabulary: Vocabulary = field(default_factory=Vocabulary)
    reranker: object | None = None  # reranker.Reranker; None when the judge is switched off (ablation)
    judge: JudgeModel | None = None


@dataclass
class Scored:
    sentence: int
    score: float
    dense: float
    lexical: float
    first: float = 0.0  # the first stage's score (``select``), kept when the judge replaces ``score``
    logit: float | None = None  # the cross-encoder's logit, when it read this sentence
    p: float = 0.0  # the judge's probability that this sentence answers the question


@dataclass
class Context:
    question: str
    history: list[Turn] = field(default_factory=list)
    id: str | None = None
    status: str | None = None
    message: str | None = None
    warnings: list[str] = field(default_factory=list)
    shown_question: str | None = None  # the question as echoed back, when it differs from what is searched
    query: str = ""
    follow_up: bool = False  # the question was joined to the previous one (condense)
    focus: list[str] = field(default_factory=list)  # the follow-up's own (spelling-mended) words
    query_tokens: list[str] = field(default_factory=list)
    context_tokens: set[str] = field(default_factory=set)  # names carried over from earlier turns
    parts: list[tuple[str, np.ndarray, list[str]]] = field(default_factory=list)  # sub-questions
    vector: np.ndarray | None = None
    hits: list[Hit] = field(default_factory=list)
    ranked: list[Scored] = field(default_factory=list)
    part_best: list[Scored] = field(default_factory=list)
    part_top: list[tuple[str, list[Scored]]] = field(default_factory=list)  # each part's text and best few
    chosen: list[Scored] = field(default_factory=list)
    units: list[Unit] = field(default_factory=list)  # the span each chosen sentence is quoted with
    threshold: float | None = None  # abstain under this ``score`` (the judge's, else settings.abstain_threshold)
    answer: str = ""
    citations: list[Citation] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    def stop(self, status: str, message: str) -> None:
        self.status, self.message = status, message


Step = Callable[[Context, Kit], None]


def guard(ctx: Context, kit: Kit) -> None:
    """Refuse what is not a question we can search for; the message says exactly why."""
    check_question(ctx, kit.settings)


def check_question(ctx: Context, settings: Settings) -> None:
    """``guard`` without the index: the service runs it before loading the model, so a bad
    question is refused at once. Idempotent (``guard`` runs it again inside the pipeline)."""
    q, problem = clean_question(ctx.question if isinstance(ctx.question, str) else "", settings.max_question_chars)
    if problem:
        q = shown(q, settings.max_question_chars)  # echoed back: safe to print and to store
    found = privacy.find(q)
    if found:  # removed before anything is searched, echoed, logged or stored
        ctx.warnings = [privacy.warning(found)]
        ctx.shown_question = privacy.redact(q, found)
        q = privacy.searchable(q, found) or ctx.shown_question
    ctx.history = [t.model_copy(update={"content": privacy.redact(t.content)}) for t in ctx.history]
    ctx.question = q
    if problem:
        return ctx.stop("invalid_input", problem)
    if _INJECTION.search(q):
        return ctx.stop("unsafe_input", "That reads as an instruction to the assistant, not a question about the "
                        "documents. I only quote the library's sources; please ask about the duty to co-operate, "
                        "children's trusts or pupils' well-being.")
    if mostly_non_latin(q):
        return ctx.stop("no_evidence", NOT_ENGLISH)


def scope(ctx: Context, kit: Kit) -> None:
    """Questions about what happened after the sources were written cannot be answered from them."""
    latest = kit.snapshot.latest_year
    if latest is None:
        return
    later = sorted({int(y) for y in _YEAR.findall(ctx.question) if int(y) > latest})
    if later or _PRESENT_DAY.search(ctx.question):
        when = f"in {later[0]}" if later else "today"
        ctx.stop("no_evidence", f"The library's documents date from {latest} or earlier, so they cannot say what "
                 f"happened or applies {when}. " + NO_EVIDENCE.split(". ", 1)[1])


def condense(ctx: Context, kit: Kit) -> None:
    """Make a follow-up stand alone (``followup.py``); with ``follow_up`` switched off (ablation), the
    first version: join the previous question to anything short or with a follow-up word."""
    if kit.settings.uses("follow_up"):
        return resolve_follow_up(ctx, kit)
    ctx.query = ctx.question
    ctx.focus = kit.snapshot.correct(tokens(ctx.question))
    previous = [t.content for t in ctx.history if t.role == "user" and t.content.strip()]
    if previous and (_FOLLOW_UP.search(ctx.question) or len(ctx.focus) <= 3):
        ctx.query = f"{clip(previous[-1], kit.settings.history_context_chars)} {ctx.question}"
        ctx.follow_up = True
        last_turns = " ".join(t.content for t in ctx.history[-2:]
                              if not t.content.startswith(NO_EVIDENCE[:40]))  # not our abstention text
        ctx.context_tokens = {t for t in entities(last_turns) if t in kit.snapshot.idf}


def reword(ctx: Context, kit: Kit) -> None:
    """Everyday words get the documents' words added (``corpus/vocabulary.toml``): "family doctors" →
    "family doctors (GPs)", so both retrievers and the sentence scorer see the documents' term."""
    if kit.settings.uses("vocabulary"):
        ctx.query = kit.vocabulary.expand(ctx.query)


def retrieve(ctx: Context, kit: Kit) -> None:
    """Search with the whole question; a two-part question also searches with each part."""
    snap = kit.snapshot
    texts = [ctx.query]
    parts = [p for p in _PARTS.split(ctx.query) if p and len(tokens(p)) >= 2] if not ctx.follow_up else []
    if len(parts) >= 2:
        texts += parts[:3]
    token_lists = [snap.correct(tokens(t)) for t in texts]
    vectors = kit.embedder.encode([snap.correct_text(t) for t in texts])
    ctx.query_tokens, ctx.vector = token_lists[0], vectors[0]
    ctx.parts = [(t, v, k) for t, v, k in zip(texts[1:], vectors[1:], token_lists[1:])]
    seen: dict[int, Hit] = {}
    usable = _usable_passages(snap)
    for vector, toks in zip(vectors, token_lists):
        for hit in kit.retriever.search(vector, toks, usable.__contains__):
            seen.setdefault(hit.passage, hit)
    ctx.hits = list(seen.values())


def select(ctx: Context, kit: Kit) -> None:
    """The cheap first stage: every sentence of the retrieved passages scored by meaning (cosine to the
    question) and words (idf-weighted share of the question's words it has), so the judge reads the
    likeliest ``rerank_k``. With the judge switched off (ablation) this score decides alone.

    The hand-set boosts the first version had here (names ×2.5, a follow-up's words ×2, synonyms 0.7,
    title credit 0.4, partial names ×0.3, number/date cues ×1.3, passage cosine) were removed in issue
    11: with the judge deciding, switching each off changed no metric on any question set."""
    snap = kit.snapshot
    quotable = _quotable_sentences(snap)
    candidates = [j for h in ctx.hits for j in snap.passages[h.passage].sentences if j in quotable]
    if not candidates:
        return
    queries = [(ctx.vector, ctx.query_tokens, True)] + [(v, k, False) for _, v, k in ctx.parts]
    best: dict[int, Scored] = {}
    ctx.part_best, ctx.part_top = [], []
    for vector, toks, whole in queries:
        weights = {t: snap.idf.get(t, snap.max_idf) for t in toks}
        if whole:  # names carried over from the previous turn of a follow-up
            for t in ctx.context_tokens - set(weights):
                weights[t] = snap.idf.get(t, snap.max_idf)
        total = sum(weights.values()) or 1.0
        dense = snap.sentence_vectors[candidates] @ vector
        scored = []
        for j, d in zip(candidates, dense):
            lexical = sum(w for t, w in weights.items() if t in snap.sentence_tokens[j]) / total
            scored.append(Scored(j, kit.settings.weight_dense * float(d) + kit.settings.weight_lexical * lexical,
                                 float(d), lexical))
        scored.sort(key=lambda x: x.score, reverse=True)
        if not whole:
            ctx.part_best.append(scored[0])
            ctx.part_top.append((ctx.parts[len(ctx.part_top)][0], scored[:PART_K]))
        for sc in scored:
            if sc.sentence not in best or sc.score > best[sc.sentence].score:
                best[sc.sentence] = sc
    ctx.ranked = sorted(best.values(), key=lambda x: x.score, reverse=True)


def _quotable_sentences(snap: Snapshot) -> frozenset[int]:
    """The sentences that may ever be quoted (``_quotable``, and not a heading that repeats the title),
    worked out once per snapshot: ``select`` keeps only these, and ``retrieve`` gives a passage with
    none of them no place (instructions to an AI, fragments)."""
    if "_quotable" not in snap.__dict__:
        snap._quotable = frozenset(
            j for j in range(len(snap.sentence_span))
            if _quotable(snap.sentence_text(j), bool(snap.sentence_heading[j]))
            and not (snap.sentence_heading[j] and _is_title(snap, j)))
    return snap._quotable


def _usable_passages(snap: Snapshot) -> frozenset[int]:
    """Passages with at least one quotable sentence (memoised on the snapshot)."""
    if "_usable" not in snap.__dict__:
        snap._usable = frozenset(int(snap.sentence_passage[j]) for j in _quotable_sentences(snap))
    return snap._usable


def _is_title(snap: Snapshot, j: int) -> bool:
    """A heading line that repeats the document's recorded title: the citation card shows the title
    as the source's details, so it is never passed off as a quote."""
    doc = snap.docs[snap.passages[snap.sentence_passage[j]].doc_id]
    line = " ".join(tokens(snap.sentence_text(j), keep_stopwords=True))
    return bool(line) and line in " ".join(tokens(doc.source.title, keep_stopwords=True))


PART_K = 4  # candidates the judge reads for each part of a two-part question, with that part's words


def _quotable(text: str, heading: bool = False) -> bool:
    """Fragments and list lead-ins ("Our proposals include:") do not answer anything on their own; a
    heading line does, about its document ("3 July 2008", "LETTER FROM ... TO ..."), from 3 words.
    Sentences addressed to an AI (injected instructions) are never quoted."""
    if _ADDRESSED_TO_AI.search(text):
        return False
    if heading:
        return len(text.split()) >= 3
    return len(text.split()) >= 5 and not text.rstrip().endswith(":")


def threshold(ctx: Context, kit: Kit) -> float:
    return ctx.threshold if ctx.threshold is not None else kit.settings.abstain_threshold


def decide(ctx: Context, kit: Kit) -> None:
    """Abstain when no sentence answers well enough: the judge's probability (or, with the judge
    switched off, the first-stage score) of the best sentence is under the threshold."""
    if not ctx.ranked or ctx.ranked[0].score < threshold(ctx, kit):
        ctx.stop("no_evidence", NO_EVIDENCE)


def compose(ctx: Context, kit: Kit) -> None:
    """Pick the quotes: the best-judged sentence first, then others close to it that add something new,
    within the sentence and word budgets (a quote longer than the whole word budget is never given, so
    ``max_answer_words`` holds for every answer). Each becomes a quote that stands on its own (``units.py``);
    quotes already given earlier in the conversation are not repeated unless nothing else answers."""
    snap, s = kit.snapshot, kit.settings
    floor = threshold(ctx, kit)
    keep = kit.judge.keep if ctx.threshold is not None and kit.judge else s.relative_keep
    given = " ".join(t.content for t in ctx.history if t.role == "assistant")
    pool = [c for c in ctx.ranked if c.score >= floor]
    fresh = [c for c in pool if snap.sentence_text(c.sentence) not in given]
    pool = fresh or pool
    units: list[tuple[Scored, Unit]] = []
    budget = 0

    def unit_of(c: Scored) -> Unit | None:
        return (unit_for(snap, c.sentence) if s.uses("standalone_quotes")
                else Unit(*snap.sentence_span[c.sentence], (c.sentence,)))

    def take(c: Scored, opening: bool = False) -> bool:
        nonlocal budget
        unit = unit_of(c)
        if unit is None or (opening and unit.leans) or any(u.start < unit.end and unit.start < u.end for _, u in units):
            return False
        n = words(snap.docs[_doc(snap, c)].text[unit.start:unit.end])
        if n > s.max_answer_words:  # not even as the only quote: the budget holds for every answer
            return False
        if units and (_repeats(snap, c.sentence, [x for x, _ in units], s.dedup_threshold)
                      or budget + n > s.max_answer_words
                      or sum(len(u.sentences) for _, u in units) + len(unit.sentences) > s.max_sentences + 1):
            return False
        units.append((c, unit))
        budget += n
        return True

    for c in pool:  # the first quote: the best sentence that stands on its own (does not lean back)
        if take(c, opening=True):
            break
    if not units:
        return ctx.stop("no_evidence", NO_EVIDENCE)
    best = units[0][0]
    for part in ctx.part_best:  # a two-part question gets an answer to each part
        if part.score >= floor and part in pool:
            take(part)
    for cand in pool:
        if len(units) >= s.max_sentences or cand.score < max(floor, keep * best.score):
            break
        take(cand)
    # Most direct first: by score, except that quotes from one passage that touch are joined in text order.
    units[1:] = sorted(units[1:], key=lambda cu: cu[0].score, reverse=True)  # the opening quote stays first
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


def _doc(snap: Snapshot, c: Scored) -> str:
    return snap.passages[snap.sentence_passage[c.sentence]].doc_id


def _touch(snap: Snapshot, a: Unit, b: Unit) -> bool:
    """Two quotes of one document with nothing but white space between them read as one."""
    lo, hi = (a, b) if a.start <= b.start else (b, a)
    text = snap.docs[snap.passages[snap.sentence_passage[lo.sentences[0]]].doc_id].text
    return lo.end >= hi.start or not text[lo.end:hi.start].strip()


def _repeats(snap: Snapshot, j: int, chosen: list[Scored], threshold: float) -> bool:
    v = snap.sentence_vectors[j]
    for c in chosen:
        if float(v @ snap.sentence_vectors[c.sentence]) > min(threshold, 0.85):
            return True
        a, b = snap.sentence_tokens[j], snap.sentence_tokens[c.sentence]
        if a and b and len(a & b) / len(a | b) > 0.6:
            return True
    return False


def cite(ctx: Context, kit: Kit) -> None:
    """Resolve every [n] to a verbatim quote with its source's metadata; drop anything not verbatim."""
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


STEPS: list[Step] = [guard, scope, condense, reword, retrieve, select, judge, decide, compose, cite]


def run(ctx: Context, kit: Kit, steps: list[Step] = STEPS) -> Answer:
    started = time.perf_counter()
    for step in steps:
        t = time.perf_counter()
        step(ctx, kit)
        ctx.timings[step.__name__] = round((time.perf_counter() - t) * 1000, 2)
        if ctx.status:
            break
    ctx.timings["total"] = round((time.perf_counter() - started) * 1000, 2)
    return to_answer(ctx, kit)


def to_answer(ctx: Context, kit: Kit) -> Answer:
    status = ctx.status or "answered"
    answered = status == "answered"
    notice = None
    if answered:
        sources = [kit.snapshot.docs[c.doc_id].source for c in ctx.citations]
        notice = NOTICE_PROPOSALS if any(s.concerns_proposals for s in sources) else NOTICE_GENERAL
        unknown = {f"“{s.title}”": " and ".join(s.unrecorded) for s in sources if s.unrecorded}
        if unknown:  # a school's own note added without metadata must not pass for current, official text
            notice += " " + " ".join(f"The {what} of {title} {'are' if ' and ' in what else 'is'} not recorded, so it "
                                     "may not be current or official." for title, what in unknown.items())
    return Answer(id=ctx.id, question=ctx.shown_question or ctx.question, answer=ctx.answer if answered else (ctx.message or ""),
                  abstained=not answered, status=status, message=None if answered else ctx.message,
                  notice=notice, citations=ctx.citations if answered else [],
                  standalone_question=((ctx.shown_question or ctx.query) if ctx.query == ctx.question else ctx.query) or None,
                  warnings=ctx.warnings, timings_ms=ctx.timings)


__all__ = ["Context", "Kit", "STEPS", "run", "normalise"]
