"""Where a quiz round stands: which question is on screen, what the room (trainer mode) or the governor
(self-study) chose for each, which are marked right or wrong, the score, whether the answer is shown and
whether the round is over.

Plain Python, no Gradio (issue 32, "one home per idea"): the web Quiz tab keeps the events and the layout
and asks this for every step, so the rules of a round (an answer is optional for the room but needed for
self-study; the score counts right answers only; "next" after the last question ends the round) have one
home and their own unit tests. A session is immutable: each step returns a new one, as Gradio's
``gr.State`` expects of a value it keeps per browser tab.

The questions are ``Question.model_dump()`` dicts (what the page renders); only ``"answer"`` is read here.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from ..errors import InputError

MODES = ("trainer", "self")
Verdict = Literal["right", "wrong", "shown"]


@dataclass(frozen=True)
class QuizSession:
    questions: tuple[dict, ...]
    mode: str = "trainer"  # "trainer": one screen for the room; "self": one governor
    seed: int = 1
    topic: str | None = None
    topic_names: dict[str, str] | None = None  # duty id -> the duty's name, for the card's heading
    i: int = 0  # the question on screen (the last one once the round is finished)
    picks: tuple[str | None, ...] = ()  # the choice given for each question (None: none)
    marked: tuple[bool | None, ...] = ()  # right (True), wrong (False) or not answered (None)
    revealed: bool = False  # the answer of question ``i`` is shown
    finished: bool = False  # past the last question: the final score is shown

    @classmethod
    def start(cls, questions: list[dict], mode: str | None, seed: int, topic: str | None = None,
              topic_names: dict[str, str] | None = None) -> QuizSession:
        """A new round on its first question; ``mode`` empty means trainer mode."""
        if not questions:
            raise InputError("The documents support no questions on this topic.")
        mode = mode or "trainer"
        if mode not in MODES:
            raise InputError(f"The quiz mode must be one of: {', '.join(MODES)}.")
        n = len(questions)
        return cls(tuple(questions), mode, seed, topic, dict(topic_names or {}), picks=(None,) * n,
                   marked=(None,) * n)

    # ---- what the screen shows -----------------------------------------------------------------------
    @property
    def trainer(self) -> bool:
        return self.mode == "trainer"

    @property
    def question(self) -> dict:
        return self.questions[self.i]

    @property
    def pick(self) -> str | None:
        return self.picks[self.i]

    @property
    def last(self) -> bool:
        """The question on screen is the round's last one."""
        return self.i == len(self.questions) - 1

    @property
    def score(self) -> int:
        return sum(1 for x in self.marked if x)

    @property
    def answered(self) -> int:
        """How many questions have a choice marked (the room may reveal without one)."""
        return sum(1 for x in self.marked if x is not None)

    def verdict(self) -> Verdict | None:
        """For the question on screen once revealed: ``right``, ``wrong``, or ``shown`` (no choice was
        given); None while it is still being asked."""
        if not self.revealed:
            return None
        if self.pick is None:
            return "shown"
        return "right" if self.pick == self.question["answer"] else "wrong"

    # ---- steps ---------------------------------------------------------------------------------------
    def reveal(self, pick: str | None) -> QuizSession:
        """Show the answer of the question on screen, marking ``pick`` (the choice as written in the
        question's ``choices``). The room's answer is optional; a governor studying alone must choose one
        (``InputError`` otherwise, and nothing changes)."""
        if not pick and not self.trainer:
            raise InputError("Choose an answer first.")
        picks, marked = list(self.picks), list(self.marked)
        picks[self.i] = pick or None
        marked[self.i] = None if not pick else pick == self.question["answer"]
        return replace(self, picks=tuple(picks), marked=tuple(marked), revealed=True)

    def next(self) -> QuizSession:
        """The next question, asked afresh; after the last one, the round is finished (the last question
        stays the one on screen)."""
        if self.i + 1 >= len(self.questions):
            return replace(self, revealed=False, finished=True)
        return replace(self, i=self.i + 1, revealed=False)
