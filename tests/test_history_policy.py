"""One conversation-history policy for every channel (issue 32): the web UI, the HTTP API (``/ask``), the
CLI (``--previous``, and batch lines with their ``history``) keep the same last turns of a long history.

The first test reads each channel's own path with no model: what the UI builds from its page turns, what
the API, a batch line and ``--previous`` pass on, each through ``parse_history`` (what ``Assistant.ask``
calls). The second asks one question with one long conversation through the real UI handler, a real app
over HTTP and a real CLI process, and gets one answer: before the policy, ``/ask`` and batch read all 14
turns, so a quote given seven answers earlier counted as "already given" there and not in the UI, and
the API answered with other sentences than the UI did.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from conftest import run_cli, running_app

from assistant.safety.inputs import HISTORY_WINDOW, parse_history, recent_history

QUESTION = "Which bodies are bound by the duty to co-operate?"  # stands alone: no follow-up reading
LIMIT = 500


def _conversation(pairs: int, first_answer: str = "The first answer.") -> list[dict]:
    """``pairs`` questions and answers, oldest first, as ``/ask`` takes them."""
    turns = [{"role": "user", "content": "What does the first document say?"},
             {"role": "assistant", "content": first_answer, "status": "answered"}]
    for k in range(1, pairs):
        turns += [{"role": "user", "content": f"Question number {k} about something else?"},
                  {"role": "assistant", "content": f"Answer number {k}.", "status": "answered"}]
    return turns


def _page(history: list[dict]) -> list[dict]:
    """The same conversation as the web UI keeps it on the page (one dict per question and its answer)."""
    return [{"question": q["content"], "answer": {"answer": a["content"], "status": a["status"], "abstained": False}}
            for q, a in zip(history[::2], history[1::2])]


def _dumped(turns) -> list[dict]:
    return [t.model_dump() for t in turns]


def test_every_channel_keeps_the_same_last_turns_of_a_long_history():
    from assistant.interfaces.batch import parse_item
    from assistant.interfaces.cli import build_parser
    from assistant.interfaces.web import history_of

    history = _conversation(10)  # 20 turns: accepted (the limit is 100), longer than the window
    want = _dumped(parse_history(history[-HISTORY_WINDOW:], LIMIT))
    ui = parse_history(history_of(_page(history)), LIMIT)
    api = parse_history(history, LIMIT)
    api_json = parse_history(json.dumps(history), LIMIT)  # /ask also takes the history as a JSON string
    line = json.dumps({"id": "x", "question": QUESTION, "history": history}).encode()
    batch = parse_history(parse_item(line)["history"], LIMIT)
    assert len(want) == HISTORY_WINDOW == 12
    assert _dumped(ui) == _dumped(api) == _dumped(api_json) == _dumped(batch) == want

    questions = [t["content"] for t in history if t["role"] == "user"]  # --previous: earlier questions only
    args = build_parser().parse_args(["ask", QUESTION, *(x for q in questions for x in ("--previous", q))])
    cli = parse_history(args.previous, LIMIT)
    assert [t.content for t in cli] == questions  # ten questions: all inside the window
    many = [f"Earlier question {k}?" for k in range(30)]
    args = build_parser().parse_args(["ask", QUESTION, *(x for q in many for x in ("--previous", q))])
    assert [t.content for t in parse_history(args.previous, LIMIT)] == many[-HISTORY_WINDOW:]

    # the same window however the turns arrive, and a short history is kept whole
    assert recent_history(history) == history[-HISTORY_WINDOW:]
    assert _dumped(parse_history(history[:4], LIMIT)) == _dumped(parse_history(history_of(_page(history[:4])), LIMIT))
    # the limits on what is accepted are unchanged: checked on the whole history, before the window
    too_long = _conversation(51)
    for given in (too_long, json.dumps(too_long)):
        try:
            parse_history(given, LIMIT, max_turns=100)
        except Exception as exc:
            assert "history has 102 turns; the limit is 100" in str(exc)
        else:
            raise AssertionError("a history over max_history_turns was accepted")


def _cited(answer: dict) -> list[tuple[str, int, int]]:
    return [(c["doc_id"], c["start"], c["end"]) for c in answer["citations"]]


def test_a_long_conversation_gets_one_answer_from_the_ui_the_api_and_the_cli(assistant, env_dirs, tmp_path):
    from gradio_client import Client

    from assistant.interfaces.web import UI

    alone = assistant.ask(QUESTION).model_dump(mode="json")
    assert alone["status"] == "answered" and alone["citations"]
    # The question was answered seven answers ago: outside the window, its quotes are not "already given".
    history = _conversation(7, first_answer=alone["answer"])
    assert len(history) == 14 and alone["citations"][0]["quote"] in history[1]["content"]

    # the UI: its real handler, on the page turns (the conversation, then the question, pending)
    turns, _, _ = UI(assistant).answer([*_page(history), {"question": QUESTION, "pending": True}])
    ui = turns[-1]["answer"]

    # the API: a real app over HTTP, on a copy of the same library and index
    base = tmp_path / "app"
    for part in ("corpus", "index"):
        shutil.copytree(Path(env_dirs[f"ASSISTANT_{part.upper()}_DIR"]), base / part)
    with running_app(base) as served:
        api = Client(served["url"], verbose=False).predict(QUESTION, history, api_name="/ask")

    # the CLI: a real process, the conversation as a batch line's history
    lines = tmp_path / "long.jsonl"
    lines.write_text(json.dumps({"id": "long", "question": QUESTION, "history": history}) + "\n", "utf-8")
    done = run_cli(["ask", "--json", "--batch", str(lines)], env_dirs)
    assert done.returncode == 0, done.stderr
    cli = json.loads(done.stdout.splitlines()[0])

    assert _cited(api) == _cited(ui) == _cited(cli) == _cited(alone), (_cited(api), _cited(ui), _cited(cli))
    assert api["answer"] == ui["answer"] == cli["answer"] == alone["answer"]
