"""The verify_draft step (last of ``pipeline.GENERATION``): check a generated answer sentence by sentence
against the passages it cites.

A sentence is kept only if (1) it carries [n] markers and every n was given to the model, (2) every
number and every name in it appears in a cited passage (or the source details shown with it), and
(3) its support — the mean of its content-word recall in the cited passages and its best cosine to
one of them — reaches a threshold calibrated on real data (``python -m evals.calibrate_verify``).
Anything else is removed; ``finish`` keeps the answer only when enough survives, else the extractive
answer is the fallback.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

import numpy as np

from ..encoders.embeddings import Embedder
from ..library.chunking import sentence_spans
from ..models import Answer, SentenceSupport
from ..text import ENTITY, STOPWORDS, SYNONYMS, tokens
from .cite import make_citation
from .context import Context, Kit
from .generate import NOTICE_LLM, Passage, fallback, ms

# [1], [1, 2], [1][2], [Passage 1], [1 and 2]
MARKER = re.compile(r"\[\s*(?:passages?\s*)?(\d+(?:\s*(?:,|;|and|&)\s*\d+)*)\s*\]", re.I)
_MARKERS_AFTER_STOP = re.compile(r"([.!?][”’\"')]*)((?:\s*\[\s*(?:passages?\s*)?\d+(?:\s*(?:,|;|and|&)\s*\d+)*\s*\])+)", re.I)
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")
_NUMBER = re.compile(r"\d+(?:[.,:]\d+)*")
_FIRST = re.compile(r"^[\"“‘(]?([A-Z][A-Za-z’'-]+)")
# Capitalised only because they open a sentence; any other first word must be in the cited passage.
_LOWER = re.compile(r"(?<![A-Za-z])[a-z][a-z'-]*")
OPENERS = frozenset("""according although another currently either even finally first following however
instead meanwhile moreover neither overall since though thus therefore yes yet""".split())
SYNONYM_CREDIT = 0.7  # a synonym of a passage word counts this much (as in sentence selection)


@dataclass
class Evidence:
    """What [n] points to: the verbatim quote, the source details shown with it, its unit vector."""

    n: int
    text: str
    context: str = ""
    vector: np.ndarray | None = None
    _tokens: set[str] = field(default_factory=set, repr=False)
    _numbers: set[str] = field(default_factory=set, repr=False)

    def __post_init__(self):
        both = f"{self.text} {self.context}"
        self._tokens = set(tokens(both))
        self._numbers = {_plain(x) for x in _NUMBER.findall(both)}


@dataclass
class Verdict:
    text: str            # the sentence without its markers
    markers: list[int]   # the passage numbers it cited, as the model wrote them
    lexical: float = 0.0
    dense: float = 0.0
    support: float = 0.0
    ok: bool = False
    reason: str | None = None


def _plain(number: str) -> str:
    return number.replace(",", "").rstrip(".:")


def split_sentences(draft: str) -> list[tuple[str, list[int]]]:
    """The answer's sentences as (text without markers, cited numbers), cut line by line where the documents
    are cut (``library.chunking.sentence_spans``). Markers written after the full stop ("... schools. [1]
    Next") belong to the sentence before them."""
    text = _MARKERS_AFTER_STOP.sub(lambda m: f"{m.group(2)}{m.group(1)}", (draft or "").strip())
    out = []
    for line in map(lambda ln: _BULLET.sub("", ln), text.splitlines()):  # "1. Schools must ..." is one sentence
        for start, end in sentence_spans(line):
            piece = line[start:end].strip()
            markers = [int(n) for m in MARKER.finditer(piece) for n in re.findall(r"\d+", m.group(1))]
            clean = MARKER.sub("", piece)
            clean = re.sub(r"\s+([.,;:!?])", r"\1", re.sub(r"\s+", " ", clean)).strip()
            if re.search(r"\w", clean):
                out.append((clean, list(dict.fromkeys(markers))))
    return out


def names_in(sentence: str, common: frozenset[str] = frozenset()) -> dict[str, list[str]]:
    """Names, bodies and acronyms as {word: its tokens}: capitalised words inside the sentence (as in
    ``text.entities``), and its first word unless it is an ordinary word (seen in lower case in ``common``,
    e.g. the corpus) or an opener ("However", ...): "Ofsted must co-operate" names Ofsted; "Local
    authorities must co-operate" names nobody."""
    text = sentence.strip()
    found = {m.group(1): tokens(m.group(1)) for m in ENTITY.finditer(text)}
    first = _FIRST.match(text)
    if first and _word(first.group(1)) not in OPENERS and _word(first.group(1)) not in common:
        found[first.group(1)] = tokens(first.group(1))
    return {w: [t for t in toks if t not in STOPWORDS] for w, toks in found.items() if any(t not in STOPWORDS for t in toks)}


def lowercase_words(texts) -> frozenset[str]:
    """Words that occur in lower case in ``texts``: ordinary words, not names."""
    return frozenset(_word(w) for t in texts for w in _LOWER.findall(t.replace("’", "'")))


def _word(word: str) -> str:
    return re.sub(r"'s$", "", word.lower().replace("’", "'"))


def _known(token: str, pooled: set[str]) -> bool:
    return token in pooled or bool(SYNONYMS.get(token, frozenset()) & pooled)


def lexical_recall(sentence_tokens: set[str], evidence_tokens: set[str]) -> float:
    """Share of the sentence's content words found in the evidence (a synonym counts ``SYNONYM_CREDIT``)."""
    if not sentence_tokens:
        return 0.0
    got = 0.0
    for t in sentence_tokens:
        if t in evidence_tokens:
            got += 1
        elif SYNONYMS.get(t, frozenset()) & evidence_tokens:
            got += SYNONYM_CREDIT
    return got / len(sentence_tokens)


def score(sentence: str, cited: list[Evidence], vector: np.ndarray) -> tuple[float, float]:
    """(lexical recall against all cited passages together, best cosine to one of them)."""
    pooled = set().union(*(e._tokens for e in cited))
    lexical = lexical_recall(set(tokens(sentence)), pooled)
    dense = max(float(vector @ e.vector) for e in cited) if all(e.vector is not None for e in cited) else 0.0
    return lexical, dense


def check(sentence: str, markers: list[int], evidence: dict[int, Evidence], vector: np.ndarray,
          threshold: float, common: frozenset[str] = frozenset()) -> Verdict:
    v = Verdict(sentence, markers)
    if not markers:
        v.reason = "cites no passage"
        return v
    missing = [n for n in markers if n not in evidence]
    if missing:
        v.reason = f"cites [{missing[0]}], which is not one of the passages given"
        return v
    cited = [evidence[n] for n in markers]
    v.lexical, v.dense = (round(x, 4) for x in score(sentence, cited, vector))
    v.support = round((v.lexical + v.dense) / 2, 4)
    where = " ".join(f"[{n}]" for n in markers)
    numbers = {_plain(x) for x in _NUMBER.findall(sentence)}
    absent = sorted(numbers - set().union(*(e._numbers for e in cited)))
    if absent:
        v.reason = f"the number {absent[0]} is not in {where}"
        return v
    pooled = set().union(*(e._tokens for e in cited))
    strange = [w for w, toks in names_in(sentence, common).items() if not all(_known(t, pooled) for t in toks)]
    if strange:
        v.reason = f"the name '{strange[0]}' is not in {where}"
        return v
    if v.support < threshold:
        v.reason = f"too little support from {where} ({v.support:.2f} < {threshold:.2f})"
        return v
    v.ok = True
    return v


def verify(draft: str, evidence: dict[int, Evidence], embedder: Embedder, threshold: float,
           common: frozenset[str] = frozenset()) -> list[Verdict]:
    """A verdict for every sentence of ``draft``, in order; ``common``: ordinary (lower-case) words."""
    sentences = split_sentences(draft)
    if not sentences:
        return []
    vectors = embedder.encode([s for s, _ in sentences])
    return [check(s, m, evidence, vec, threshold, common) for (s, m), vec in zip(sentences, vectors)]


def evidence_for(passages: list[Passage], kit: Kit) -> dict[int, Evidence]:
    snap = kit.snapshot
    return {p.n: Evidence(p.n, p.text, f"{p.title} {p.publisher} {p.date}", snap.sentence_vectors[p.scored.sentence])
            for p in passages}


_ORDINARY: dict[int, frozenset[str]] = {}


def ordinary_words(kit: Kit) -> frozenset[str]:
    """Words the library uses in lower case (so a capitalised first word that is not one is a name)."""
    key = id(kit.snapshot)
    if key not in _ORDINARY:
        _ORDINARY.clear()
        _ORDINARY[key] = lowercase_words(d.text for d in kit.snapshot.docs.values())
    return _ORDINARY[key]


def verify_draft(ctx: Context, kit: Kit) -> None:
    """Check what the model wrote (``ctx.draft``) against the passages it was given; ``ctx.generated`` is
    the verified answer, or the extractive one as the fallback. Nothing to do when ``generate`` already
    settled the answer (an abstention, no backend, a failed call)."""
    if ctx.generated is not None:
        return
    timings = dict(ctx.generation_timings)
    started = time.perf_counter()
    verdicts = verify(ctx.draft, evidence_for(ctx.passages, kit), kit.embedder, kit.settings.llm_support_threshold,
                      ordinary_words(kit))
    timings["verify"] = ms(started)
    ctx.generated = finish(ctx.extractive, kit, ctx.passages, ctx.draft, verdicts, timings)


def finish(extractive: Answer, kit: Kit, passages: list[Passage], draft: str, verdicts: list[Verdict],
           timings: dict[str, float]) -> Answer:
    """Keep the verified sentences, renumber their citations 1..k; fall back if too little survives."""
    by_n = {p.n: p for p in passages}
    kept = [v for v in verdicts if v.ok]
    numbering: dict[int, int] = {}
    for v in kept:
        for n in v.markers:
            numbering.setdefault(n, len(numbering) + 1)
    support = [SentenceSupport(text=v.text, kept=v.ok, cited=[numbering[n] for n in v.markers] if v.ok else [],
                               sources=[by_n[n].doc_id for n in v.markers if n in by_n], lexical=v.lexical,
                               dense=v.dense, support=v.support, reason=v.reason) for v in verdicts]
    if not draft:
        return fallback(extractive, "the language model returned no text", draft, support, timings)
    if not kept:
        return fallback(extractive, "no sentence of the language model's answer was supported by the passage "
                        "it cites", draft, support, timings)
    if len(kept) < kit.settings.llm_min_kept_share * len(verdicts):
        return fallback(extractive, f"only {len(kept)} of {len(verdicts)} sentences of the language model's answer "
                        "were supported by their passages", draft, support, timings)
    text = " ".join(_full_stop(v.text) + " " + " ".join(f"[{numbering[n]}]" for n in v.markers) for v in kept)
    citations = [make_citation(kit.snapshot, new, by_n[old].scored) for old, new in numbering.items()]
    notice = " ".join(x for x in (extractive.notice, NOTICE_LLM) if x)
    return extractive.model_copy(update={
        "answer": text, "citations": citations, "notice": notice, "mode": "llm", "support": support,
        "llm_draft": draft, "timings_ms": {**extractive.timings_ms, **timings}})


def _full_stop(text: str) -> str:
    text = text.strip()
    return text if text[-1:] in ".!?" else text + "."
