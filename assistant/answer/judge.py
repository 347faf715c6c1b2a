"""The shortlist, fresh_first, judge, rank and decide steps: does this sentence answer the question? One calibrated probability per
candidate, and no answer when the best one is under the fitted threshold.

The hybrid first stage (``select.py``) is cheap and recall-minded: it ranks every sentence of
the retrieved passages by cosine and word overlap. The judge reads only its best ``rerank_k``
candidates with a cross-encoder (``reranker.py``) and combines the cross-encoder's logit with the
sentence encoder's cosine to the question, and whether the candidate is a heading line (a date line
or "LETTER FROM ... TO ...", which answers only questions about its document), in a logistic regression:

    p = sigmoid(intercept + sum(coef[i] * feature[i]))

The coefficients, the abstention threshold and how many candidates are read live in
``data/judge.toml``, written by ``python -m evals.fit_judge`` from labelled (question, sentence)
pairs of the original and the everyday *dev* questions only; the held-out questions are never read
by the fit. The first stage's hand-set weights only decide which sentences are read, not the
verdict (in the fit they carried over worse to new wording). ``p`` then drives both which sentences are quoted (``compose``) and whether to abstain
(``decide``): one learned judgement instead of a pile of hand-set weights.
"""
from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import StoreError
from .bank import has_bank, similarity as bank_similarity
from .. import identity
from .context import Context, Kit, Scored

JUDGE_FILE = Path(__file__).resolve().parents[1] / "data" / "judge.toml"
# cross-encoder logit; sentence cosine to the question; 1 for a heading line; 1 when read with a follow-up's own
# words; cosine of the question to the sentence's nearest bank question; 1 when the sentence has a bank at all
FEATURES = ("logit", "dense", "heading", "own_words", "bank", "has_bank")
# A sentence with no bank (a document a school added without one) is read by the judge fitted without the bank
# features, so it is judged as it was before the bank existed, not as a sentence no bank question is near.
PLAIN = FEATURES[:4]
# Whether to answer at all, per question: the best candidate's log-odds, and how close the nearest bank
# question the documents answer, and the nearest one they do not cover, are to the question.
REFUSAL = ("best", "bank_covered", "bank_uncovered")


@dataclass(frozen=True)
class JudgeModel:
    coef: tuple[float, ...]
    intercept: float
    threshold: float  # abstain when the best candidate's p is below this
    keep: float  # a further sentence is quoted only when its p is at least this share of the best p
    rerank_k: int  # candidates read by the cross-encoder per question
    refuse_coef: tuple[float, ...] = ()  # over REFUSAL; empty: the threshold alone decides
    refuse_intercept: float = 0.0
    plain_coef: tuple[float, ...] = ()  # over PLAIN, for sentences with no bank; empty: the full model reads them
    plain_intercept: float = 0.0
    plain_threshold: float = 0.0

    @classmethod
    def load(cls, path: Path = JUDGE_FILE) -> "JudgeModel":
        try:
            data = tomllib.loads(Path(path).read_text("utf-8"))
            features = tuple(data["features"])
            if features != FEATURES:
                raise ValueError(f"features {features} are not {FEATURES}; re-fit with python -m evals.fit_judge")
            if data.get("context", "source") != "source":
                raise ValueError(f"context {data['context']!r} is not 'source'; re-fit with python -m evals.fit_judge")
            refuse, plain = data.get("refusal", {}), data.get("plain", {})
            if refuse and tuple(refuse.get("features", ())) != REFUSAL:
                raise ValueError(f"refusal features are not {REFUSAL}; re-fit with python -m evals.fit_judge")
            if plain and tuple(plain.get("features", ())) != PLAIN:
                raise ValueError(f"plain features are not {PLAIN}; re-fit with python -m evals.fit_judge")
            return cls(tuple(float(c) for c in data["coef"]), float(data["intercept"]), float(data["threshold"]),
                       float(data.get("keep", 0.5)), int(data.get("rerank_k", 12)),
                       tuple(float(c) for c in refuse.get("coef", ())), float(refuse.get("intercept", 0.0)),
                       tuple(float(c) for c in plain.get("coef", ())), float(plain.get("intercept", 0.0)),
                       float(plain.get("threshold", data["threshold"])))
        except (OSError, KeyError, ValueError, TypeError, tomllib.TOMLDecodeError) as exc:
            raise StoreError(f"{path}: the answer judge's coefficients could not be read ({exc}).") from None

    def probability(self, logit: float, dense: float, heading: bool = False, own_words: bool = False,
                    bank: float = 0.0, has_bank: bool = False) -> float:
        """A heading line's cosine is not counted: a title is always *on* the topic of its document, which
        says nothing about whether it answers; only the cross-encoder's reading (and the heading's own
        coefficient) does. ``own_words``: read with a follow-up's own words, which are fewer and share
        fewer words with the answer than a whole question, so its scores run lower; its coefficient
        (fitted like the rest) puts them on one scale with the others."""
        dense = 0.0 if heading else dense
        if not has_bank and self.plain_coef:
            return _sigmoid(self.plain_intercept + sum(c * x for c, x in zip(
                self.plain_coef, (logit, dense, float(heading), float(own_words)))))
        z = (self.intercept + self.coef[0] * logit + self.coef[1] * dense + self.coef[2] * float(heading)
             + self.coef[3] * float(own_words) + self.coef[4] * bank + self.coef[5] * float(has_bank))
        return _sigmoid(z)

    def text(self, source, sentence: str) -> str:
        """What the cross-encoder reads for one candidate: the sentence after who wrote its document and its
        title, so "I enclose ..." in a letter or "the association said" in a report can be judged with the
        speaker in view (``data/judge.toml``'s ``context = "source"``; ``evals/fit_judge.py`` compares others)."""
        who = source.author or source.publisher
        return f"{who}, {source.title}: {sentence}" if who else f"{source.title}: {sentence}"

    def answers(self, best_p: float, bank_covered: float, bank_uncovered: float, has_bank: bool = True) -> bool:
        """Whether the question is answered at all: the best candidate's p against the threshold, or, when
        the fit has refusal coefficients, a second logistic regression over the question that also reads how
        close the bank's nearest covered and not-covered questions are."""
        if best_p < 1e-9:
            return False
        if not has_bank and self.plain_coef:  # judged without the bank: its own fitted threshold
            return best_p >= self.plain_threshold
        if not self.refuse_coef:
            return best_p >= self.threshold
        best = math.log(best_p / max(1.0 - best_p, 1e-9))
        z = self.refuse_intercept + sum(c * x for c, x in zip(self.refuse_coef, (best, bank_covered, bank_uncovered)))
        return z >= 0.0


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(min(z, 40.0), -40.0)))


def as_quoted(ctx: Context, snap, j: int) -> str:
    """The sentence as it would be quoted (``ctx.quote``): with the sentence it leans on ("The duty will also
    apply to ..." is judged after the sentence that says which duty), so the judge reads what the reader reads."""
    unit = ctx.quote(snap, j)
    if unit is None:
        return snap.sentence_text(j)
    return snap.docs[snap.passages[snap.sentence_passage[j]].doc_id].text[unit.start:unit.end]


def keep_better(judged: dict[int, tuple[float, float, float]], verdicts: dict[int, tuple[float, float, float]]) -> None:
    """Merge a second reading into ``judged``: a sentence keeps whichever verdict has the higher p, so a
    sentence that answers one reading of the message (its question sentence alone, one part of a two-part
    question) counts as answering it."""
    for j, verdict in verdicts.items():
        if j not in judged or verdict[0] > judged[j][0]:
            judged[j] = verdict


def shortlist(ctx: Context, kit: Kit) -> None:
    """The candidates the cross-encoder reads (``ctx.shortlist``): the first stage's best ``rerank_k``.
    Stops nothing."""
    ctx.shortlist = ctx.ranked[:kit.judge.rerank_k]


def fresh_first(ctx: Context, kit: Kit) -> None:
    """In a conversation, the shortlist is the ``rerank_k`` best that have *not* been quoted already, then
    those that have: a follow-up is searched with the earlier turns in view, so the sentences they quoted
    rank high, and ``compose`` gives them again only when nothing new answers; left in the ``rerank_k``,
    they take the places of new sentences the judge then never reads. (A few more pairs, and only when an
    earlier quote was among the best.) Stops nothing."""
    text = kit.snapshot.sentence_text
    quoted = [c for c in ctx.shortlist if ctx.quoted_before(text(c.sentence))]
    if quoted:
        ctx.shortlist = [c for c in ctx.ranked if not ctx.quoted_before(text(c.sentence))][:kit.judge.rerank_k] + quoted


def _with_bank(ctx: Context, top: list[Scored]) -> list[Scored]:
    """The sentences of the bank questions nearest the question are read too, wherever the first stage
    ranked them: the bank knows wording the first stage's cosine and word overlap do not."""
    if not ctx.bank_recalled:
        return top
    have = {c.sentence for c in top}
    extra = [c for c in ctx.ranked if c.sentence in ctx.bank_recalled and c.sentence not in have]
    return top + extra


def judge(ctx: Context, kit: Kit) -> None:
    """Read the shortlist (and the bank's sentences, ``_with_bank``) with the cross-encoder and give each
    its calibrated probability of answering the question (``Scored.p``; ``Scored.first`` keeps the first
    stage's score); ``rank`` then orders the candidates by it.

    The query is the question as searched (``ctx.query``: follow-ups resolved, everyday words mapped),
    so the judge and the retrievers see the same words; except for a follow-up that points back
    ("Did they support any of it?"), read with its own words (``ctx.judge_queries``, ``followup.py``).
    Sentences the cross-encoder did not read keep p = 0 and can never be quoted. Stops nothing: ``decide``
    abstains on the result.
    """
    if not ctx.ranked:
        return
    model, snap = kit.judge, kit.snapshot

    def read(queries: list[str], candidates, own: bool = False) -> dict[int, tuple[float, float, float]]:
        """sentence → (p, logit, cosine) for ``candidates`` read against ``queries``, their logits (and, with
        ``own``, their cosines, instead of the searched question's) averaged."""
        texts = [model.text(snap.docs[snap.passages[snap.sentence_passage[c.sentence]].doc_id].source,
                            as_quoted(ctx, snap, c.sentence)) for c in candidates]
        corrected = [ctx.correct(q) for q in queries]  # as for retrieval
        logits = np.mean([kit.reranker.score(q, texts) for q in corrected], axis=0)
        if own:
            vectors = kit.embedder.encode(corrected)
            dense = (snap.sentence_vectors[[c.sentence for c in candidates]] @ vectors.T).mean(axis=1)
        else:
            dense = [c.dense for c in candidates]
        return {c.sentence: (model.probability(float(x), float(d), snap.sentence_heading[c.sentence], own,
                                               bank_similarity(ctx, kit, c.sentence), has_bank(ctx, kit, c.sentence)),
                             float(x), float(d))
                for c, x, d in zip(candidates, logits, dense)}

    candidates = ctx.shortlist = _with_bank(ctx, ctx.shortlist)  # the trace shows what was read
    judged = read(ctx.judge_queries or [ctx.query], candidates, own=bool(ctx.judge_queries))
    # A message that says something before it asks ("I'm a new governor. What is a schools forum?"): the
    # question sentence is read alone too, and a sentence's p is its better reading, so a preface that
    # says nothing about the documents does not drown the question, and one that names what "it" is
    # still counts (the whole message is the other reading).
    if ctx.asked:
        keep_better(judged, read([ctx.asked], candidates))
    # A two-part question: each part's best few are also read against that part alone; a sentence
    # answers the question if it answers a part ("Are schools bound now, and what is proposed?").
    part_best = []
    for text, top in ctx.part_top:
        verdicts = read([text], top)
        keep_better(judged, verdicts)
        part_best.append(max(verdicts, key=lambda j: verdicts[j][0]))
    for c in ctx.ranked:
        c.p, c.logit, c.dense = judged.get(c.sentence, (0.0, None, c.dense))  # the cosine as judged
    by_sentence = {c.sentence: c for c in ctx.ranked}
    ctx.part_best = [by_sentence[j] for j in part_best if j in by_sentence]
    ctx.threshold, ctx.keep = model.threshold, model.keep


def rank(ctx: Context, kit: Kit) -> None:
    """The candidates in the judge's order: most likely to answer first (``compose`` quotes in this
    order). Stops nothing."""
    ctx.ranked.sort(key=lambda c: c.score, reverse=True)


def decide(ctx: Context, kit: Kit) -> None:
    """Abstain when no sentence answers well enough: the judge's probability of the best sentence is
    under the threshold (fitted, in ``data/judge.toml``). Stops with ``no_evidence``; not for a question
    about a document itself (``about.py``), which the library's record of it answers."""
    if ctx.about:
        return
    if not ctx.ranked:
        ctx.stop("no_evidence", identity.of_settings(kit.settings).no_evidence)
    elif not kit.judge.answers(ctx.ranked[0].score, ctx.bank_covered, ctx.bank_uncovered,
                               has_bank(ctx, kit, ctx.ranked[0].sentence)):
        ctx.stop("no_evidence", identity.of_settings(kit.settings).no_evidence)
    elif ctx.threshold is not None and ctx.ranked[0].score < ctx.threshold:
        ctx.threshold = ctx.ranked[0].score  # answered on the bank's word: the best sentence may open
