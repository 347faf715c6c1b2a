"""Drawing a quiz from the questions the library supports (issue 31), split out of ``quiz.py``.

Consecutive quiz numbers take consecutive slices of one shuffled order of the pool's sentences, so a
series of quizzes (1, 2, 3, ...) goes through the library before it repeats a sentence; within a quiz,
one question per sentence, the kinds of answer spread out, and no answer (True and False included) or
term more than its share of the quiz where the pool allows it. Everything is drawn with
``random.Random`` from fixed seeds, so one quiz number always gives one quiz.
"""
from __future__ import annotations

import random
from collections import Counter

from .quotes import Sentence
from .terms import Candidate

TF_SHARE = 0.3  # share of true/false questions when both kinds are possible
MC_CHOICES = 4

Pick = tuple[Candidate, str, str]  # (candidate, kind, answer)


def kinds(c: Candidate, rng: random.Random) -> list[tuple[str, str]]:
    """(kind, answer) in the order to try them: the drawn one first, then the others."""
    mc_ok = len(c.distractors) >= MC_CHOICES - 1
    first_tf = "True" if rng.random() < 0.5 else "False"
    tf = [("true_false", first_tf), ("true_false", "False" if first_tf == "True" else "True")]
    if mc_ok and rng.random() >= TF_SHARE:
        return [("multiple_choice", c.mention.entity.key), *tf]
    return [tf[0], ("multiple_choice", c.mention.entity.key), tf[1]] if mc_ok else tf


def draw(by_sentence: dict[Sentence, list[Candidate]], n: int, seed: int, topic: str | None,
         max_share: float) -> tuple[list[Pick], random.Random]:
    """Quiz number ``seed`` of ``n`` questions from ``by_sentence`` (the pool, by sentence, in library
    order), and the random generator its questions are then made with."""
    # a series of quizzes 1, 2, 3 ... goes through one shuffled order of the sentences: each quiz takes the
    # sentences that the quizzes before it in the series have not used, its own slice first
    order = list(by_sentence)
    per_series = max(1, -(-len(order) // n))  # quizzes in a series: enough to use every sentence once
    series, slot = divmod(max(int(seed), 1) - 1, per_series)
    random.Random(f"{topic}|{n}|{series}").shuffle(order)
    taken: set[Sentence] = set()
    for j in range(slot + 1):
        rng = random.Random(seed if j == slot else series * per_series + j + 1)
        mine = order[j * n:(j + 1) * n] + order[(j + 1) * n:] + order[:j * n]
        picked = _one(by_sentence, mine, n, rng, taken, max_share)
        taken |= {c.sentence for c, _, _ in picked}
    return picked, rng


def _one(by_sentence: dict[Sentence, list[Candidate]], order: list[Sentence], n: int,
         rng: random.Random, taken: set[Sentence], max_share: float) -> list[Pick]:
    """Up to ``n`` (candidate, kind, answer), one per sentence, preferring sentences not ``taken`` by
    the quizzes before this one in its series, and no answer (or term) over its share of the quiz."""
    cap = max(1, int(n * max_share + 1e-9))
    picked: list[Pick] = []
    counts: Counter = Counter()
    # within the share: untaken, then any fresh sentence; over it: the same; last, a sentence again
    for strict, untaken, fresh in ((True, True, True), (True, False, True), (False, True, True),
                                   (False, False, True), (False, False, False)):
        used = {c.sentence for c, _, _ in picked}
        for s in order:
            if len(picked) >= n:
                break
            if (fresh and s in used) or (untaken and s in taken):
                continue
            options = list(by_sentence[s])
            rng.shuffle(options)
            options.sort(key=lambda c: counts["type:" + c.mention.entity.type])  # spread the kinds of answer
            for c in options:
                if any(c is p for p, _, _ in picked):
                    continue
                ok = [(kind, answer) for kind, answer in kinds(c, rng)
                      if not strict or (counts[answer.lower()] < cap and counts["term:" + c.mention.entity.key] < cap)]
                if ok:
                    kind, answer = ok[0]
                    picked.append((c, kind, answer))
                    counts[answer.lower()] += 1
                    counts["term:" + c.mention.entity.key] += 1
                    counts["type:" + c.mention.entity.type] += 1
                    used.add(s)
                    break
    return picked
