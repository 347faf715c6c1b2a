"""The quiz round's rules (``training/session.py``) without Gradio or a browser: the web Quiz tab
asks the session for every step, so these are the rules the trainer and the governor see."""
from __future__ import annotations

import pytest

from assistant.errors import InputError
from assistant.training.session import QuizSession


def _questions(n: int = 3) -> list[dict]:
    return [{"number": k + 1, "answer": f"right {k}", "choices": [f"right {k}", f"wrong {k}"]} for k in range(n)]


def test_a_new_round_asks_the_first_question_with_nothing_marked():
    s = QuizSession.start(_questions(), "", seed=7, topic="t", topic_names={"t": "Topic"})
    assert (s.mode, s.trainer, s.i, s.question["number"], s.seed) == ("trainer", True, 0, 1, 7)
    assert (s.score, s.answered, s.revealed, s.finished, s.verdict(), s.last) == (0, 0, False, False, None, False)
    assert s.picks == (None, None, None) and s.marked == (None, None, None)


def test_refuses_an_empty_round_and_an_unknown_mode():
    with pytest.raises(InputError, match="no questions"):
        QuizSession.start([], "trainer", seed=1)
    with pytest.raises(InputError, match="mode"):
        QuizSession.start(_questions(), "exam", seed=1)


def test_trainer_round_the_rooms_answer_is_optional_and_only_right_ones_score():
    s = QuizSession.start(_questions(), "trainer", seed=1)
    s = s.reveal("right 0")
    assert (s.revealed, s.verdict(), s.score, s.answered) == (True, "right", 1, 1)
    s = s.next()
    assert (s.i, s.revealed, s.verdict(), s.pick) == (1, False, None, None)
    s = s.reveal(None)  # the room did not answer: the answer is shown, nothing is marked
    assert (s.verdict(), s.score, s.answered, s.marked[1]) == ("shown", 1, 1, None)
    s = s.next().reveal("wrong 2")
    assert (s.verdict(), s.score, s.answered, s.marked) == ("wrong", 1, 2, (True, None, False))
    assert s.last and not s.finished


def test_self_study_needs_an_answer_and_changes_nothing_without_one():
    s = QuizSession.start(_questions(), "self", seed=1)
    for empty in (None, ""):
        with pytest.raises(InputError, match="Choose an answer first"):
            s.reveal(empty)
    assert s.revealed is False and s.picks == (None,) * 3
    assert s.reveal("right 0").verdict() == "right"


def test_next_after_the_last_question_finishes_and_keeps_the_last_on_screen():
    s = QuizSession.start(_questions(2), "self", seed=1).reveal("right 0").next().reveal("wrong 1")
    done = s.next()
    assert (done.finished, done.i, done.revealed, done.score, done.answered) == (True, 1, False, 1, 2)
    assert done.next().finished and done.next().i == 1


def test_steps_return_new_sessions_and_leave_the_old_one_as_it_was():
    s = QuizSession.start(_questions(), "trainer", seed=1)
    shown = s.reveal("right 0")
    assert s.revealed is False and s.picks[0] is None and shown.picks[0] == "right 0"
    with pytest.raises(AttributeError):
        s.i = 2  # frozen: Gradio keeps the value per browser tab; a step never edits it in place
