"""Issue 12, items 10-13: the batch API, history size, the /quiz endpoint, and training after a removal.

Through the channel where each was found: the CLI (``python -m assistant``, a real subprocess), the
Python API (``Assistant``) and the Gradio API over HTTP (the real app in a subprocess). Real model,
real Chroma store. A refused action leaves the library exactly as it was (``state_fingerprint``).
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import httpx
import pytest

from conftest import ROOT, copy_corpus, running_app, state_fingerprint
from evals.serve import app_env

GOOD_Q = "Which bodies are bound by the duty to co-operate?"
DEEP = 100_000
PYTHON_TEXT = re.compile(r"Traceback|RecursionError|BrokenPipeError|CancelledError|sys\.set_int_max_str_digits|"
                         r"invalid literal|OverflowError|unexpected|NoneType|object has no attribute")


# ---- the library: built once, copied for the app and for the removal tests ---------------------------------
def _assistant(base: Path):
    from assistant import Assistant

    return Assistant(corpus_dir=base / "corpus", index_dir=base / "index", data_dir=base / "data",
                     refresh_seconds=0)


@pytest.fixture(scope="module")
def lib(tmp_path_factory):
    base = tmp_path_factory.mktemp("hardening-batch")
    copy_corpus(base / "corpus")
    a = _assistant(base)
    a.index()
    return {"base": base, "a": a, "env": app_env(base, ASSISTANT_REFRESH_SECONDS="0"), "good": state_fingerprint(a)}


def _copy(lib, dest: Path) -> Path:
    for part in ("corpus", "index"):
        shutil.copytree(lib["base"] / part, dest / part)
    return dest


@pytest.fixture(scope="module")
def app(lib, tmp_path_factory):
    base = _copy(lib, tmp_path_factory.mktemp("hardening-batch-app"))
    with running_app(base, ASSISTANT_REFRESH_SECONDS="0", ASSISTANT_ADMIN_PASSWORD="pw-batch") as served:
        a = _assistant(base)
        httpx.post(f"{served['url']}gradio_api/call/sources", json={"data": []}, timeout=60)
        yield {**served, "base": base, "a": a}


def _cli(args: list, env: dict, stdin: bytes | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    env = {k: v for k, v in env.items() if k != "ASSISTANT_DEBUG"}
    done = subprocess.run([sys.executable, "-m", "assistant", *args], input=stdin, capture_output=True, env=env,
                          cwd=ROOT, timeout=timeout)
    return subprocess.CompletedProcess(done.args, done.returncode, done.stdout.decode("utf-8"),
                                       done.stderr.decode("utf-8", "replace"))


def _call(url: str, api_name: str, body: str, timeout: float = 120) -> tuple[str, object]:
    """One Gradio API call over plain HTTP with a raw JSON body: ("complete"|"error", payload)."""
    base = f"{url}gradio_api/call/{api_name}"
    r = httpx.post(base, content=body, headers={"content-type": "application/json"}, timeout=timeout)
    if r.status_code != 200:
        return "http", r.text
    stream = httpx.get(f"{base}/{r.json()['event_id']}", timeout=timeout).text
    # Gradio sends "heartbeat" events while a slow answer is running (every 15 s): read the first other one.
    kind, data = next((k, d) for k, d in re.findall(r"event: (\w+)\ndata: (.*)", stream) if k != "heartbeat")
    return kind, json.loads(data)


def _error_text(payload) -> str:
    return payload.get("error") or "" if isinstance(payload, dict) else str(payload)


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


# ================================================================ item 10: the batch API, line by line
def _batch_lines() -> list[tuple[bytes, dict]]:
    """(raw line, what must come back for it). Each line must succeed or fail on its own."""
    sep = "Who is bound by it?\u2028Which bodies are bound by the duty\u2029 to co-operate\u0085 now?"
    return [
        (b"\xef\xbb\xbf" + json.dumps({"id": 7, "question": GOOD_Q}).encode(), {"id": 7, "status": "answered"}),
        (_nested(DEEP).encode(), {"id": None, "error": r"nested (more than \d+ levels|too deeply)"}),
        (json.dumps({"id": {"a": 1}, "question": sep}, ensure_ascii=False).encode(),
         {"id": {"a": 1}, "status": "answered"}),
        (b'{"id": "latin", "question": "Caf\xe9 duty?"}', {"id": None, "error": r"not UTF-8"}),
        (('{"id": "deep-history", "question": "What about academies?", "history": ' + _nested(DEEP) + "}").encode(),
         {"id": None, "error": r"nested (more than \d+ levels|too deeply)"}),
        (('{"id": ' + "9" * 5000 + ', "question": "Who must co-operate?"}').encode(),
         {"id": None, "error": r"number .*(digits|too long)"}),
        (json.dumps({"id": 7, "question": "Who must co-operate?"}).encode(), {"id": 7, "error": r"id 7 .*line 1"}),
        (json.dumps({"id": [1, "x"], "question": 5}).encode(), {"id": [1, "x"], "error": r"question"}),
        (json.dumps({"id": 2.5, "question": GOOD_Q}).encode(), {"id": 2.5, "status": "answered"}),
    ]


def test_batch_every_line_succeeds_or_fails_on_its_own_with_its_line_number(lib, tmp_path):
    cases = _batch_lines()
    path = tmp_path / "batch.jsonl"
    path.write_bytes(b"\n".join(raw for raw, _ in cases) + b"\n")
    done = _cli(["ask", "--json", "--batch", str(path)], lib["env"])
    assert not PYTHON_TEXT.search(done.stdout + done.stderr), done.stderr[-2000:]
    out = [json.loads(x) for x in done.stdout.split("\n") if x]
    assert len(out) == len(cases), done.stdout[-3000:]
    for number, ((_, want), got) in enumerate(zip(cases, out), start=1):
        assert got["id"] == want["id"] and type(got["id"]) is type(want["id"]), (number, got.get("id"))
        if "error" in want:
            assert got["line"] == number and got["error"].startswith(f"line {number}: "), got
            assert re.search(want["error"], got["error"], re.I), got["error"]
            assert len(got["error"]) < 300, got["error"]
        else:
            assert got["status"] == want["status"], (number, got)
    assert out[2]["question"].startswith("Who is bound by it?")  # the separators stayed inside the question
    assert done.returncode == 2  # some lines were refused
    assert state_fingerprint(lib["a"]) == lib["good"]


def test_batch_output_has_no_line_separators_inside_a_line(lib, tmp_path):
    """An answer echoing U+2028 must not split for a reader using ``str.splitlines``."""
    path = tmp_path / "batch.jsonl"
    path.write_text(json.dumps({"id": "s", "question": "Who\u2028is bound\u0085by the duty to co-operate?"},
                               ensure_ascii=False) + "\n", "utf-8")
    done = _cli(["ask", "--json", "--batch", str(path)], lib["env"])
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == 1 and json.loads(done.stdout)["id"] == "s"


def test_batch_into_a_closed_pipe_ends_quietly_and_each_line_is_flushed(lib, tmp_path):
    path = tmp_path / "batch.jsonl"
    path.write_text("\n".join(json.dumps({"id": i, "question": GOOD_Q}) for i in range(12)) + "\n", "utf-8")
    env = {k: v for k, v in lib["env"].items() if k != "ASSISTANT_DEBUG"}
    proc = subprocess.Popen([sys.executable, "-m", "assistant", "ask", "--json", "--batch", str(path)], cwd=ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = json.loads(proc.stdout.readline())
    assert first["id"] == 0 and first["status"] == "answered"
    assert proc.poll() is None, "the first answer must arrive while later lines are still being answered"
    proc.stdout.close()  # as `| head -1` does
    rc = proc.wait(timeout=300)
    err = proc.stderr.read().decode("utf-8", "replace")
    assert rc == 0 and not PYTHON_TEXT.search(err), (rc, err[-2000:])


def test_api_deep_nesting_is_an_input_error(lib):
    from assistant.errors import InputError

    a = lib["a"]
    for history in (_nested(DEEP), '[{"role": "user", "content": ' + _nested(DEEP) + "}]"):
        with pytest.raises(InputError, match=r"nested|history") as got:
            a.ask("What about academies?", history=history)
        assert not PYTHON_TEXT.search(str(got.value)), got.value


def test_gradio_deep_history_is_a_plain_error_without_a_traceback(app):
    for body in ('{"data": ["What about academies?", ' + json.dumps(_nested(DEEP)) + "]}",
                 '{"data": ["What about academies?", ' + _nested(DEEP) + "]}"):
        before = app["log"].read_text()
        kind, payload = _call(app["url"], "ask", body)
        assert kind in ("error", "http"), payload
        text = _error_text(payload)
        assert not PYTHON_TEXT.search(text), text[:500]
        if kind == "error":
            assert re.search(r"nested|history", text, re.I), text[:500]
        log = app["log"].read_text()[len(before):]
        assert "Traceback" not in log and "RecursionError" not in log, log[-3000:]


# ================================================================ item 11: history and the question limit
def test_a_long_previous_turn_does_not_stretch_the_searched_question(lib):
    a = lib["a"]
    s = a.settings
    long_turn = "Will schools have a duty to co-operate with the children's trust " + "and so on " * 1990
    assert len(long_turn) <= 10 * s.max_question_chars  # an accepted turn
    history = [{"role": "user", "content": long_turn},
               {"role": "assistant", "content": ("Schools " + "will co-operate " * 5000)[:19_000]}]
    for question in ("Why did they say no to it?", "What about academies?"):
        answer = a.ask(question, history=history)
        assert answer.status in ("answered", "no_evidence"), answer.message
        searched = answer.standalone_question or ""
        bound = len(question) + 2 * s.history_context_chars + 8
        assert len(searched) <= bound, (question, len(searched), bound)


def _huge_history() -> list[dict]:
    return [{"role": "user" if i % 2 == 0 else "assistant", "content": ("Will schools co-operate? " * 800)[:20_000]}
            for i in range(100)]


def test_api_history_over_the_total_limit_is_refused_naming_it(lib):
    from assistant.errors import InputError

    a = lib["a"]
    limit = a.settings.max_history_chars
    with pytest.raises(InputError, match=rf"history is 2,000,000 characters long; the limit is {limit:,}"):
        a.ask("What about academies?", history=_huge_history())
    assert state_fingerprint(a) == lib["good"]


def test_gradio_history_over_the_total_limit_is_refused_naming_it(app):
    kind, payload = _call(app["url"], "ask", json.dumps({"data": ["What about academies?", _huge_history()]}))
    assert kind == "error", str(payload)[:300]
    assert re.search(r"history is 2,000,000 characters long; the limit is [\d,]+", _error_text(payload)), payload
    # one long turn is accepted, and adds at most the context bound (default 300) to the searched question
    long_turn = "Will schools have a duty to co-operate with the children's trust " + "and so on " * 1990
    question = "Why did they say no to it?"
    kind, payload = _call(app["url"], "ask", json.dumps({"data": [question, [{"role": "user", "content": long_turn}]]}))
    assert kind == "complete", str(payload)[:300]
    assert len(payload[0]["standalone_question"]) <= len(question) + 2 * 300 + 8, payload[0]["standalone_question"]


# ================================================================ item 12: /quiz arguments
QUIZ_BAD = [
    ("seed of 2**64", "[3, 18446744073709551616, \"\"]", r"quiz number must be a whole number from 0 to [\d,]+"),
    ("seed of 1e400", "[3, 1e400, \"\"]", r"quiz number must be a whole number from 0 to [\d,]+"),
    ("seed that is text", "[3, \"abc\", \"\"]", r"quiz number must be a whole number"),
    ("n of None", "[null, 1, \"\"]", r"number of questions must be a whole number from 1 to 50"),
    ("n that is text", "[\"abc\", 1, \"\"]", r"number of questions must be a whole number from 1 to 50"),
    ("n of 2.5", "[2.5, 1, \"\"]", r"number of questions must be a whole number from 1 to 50"),
    ("a list as topic", "[3, 1, [\"duty-to-co-operate\"]]", r"topic must be one duty id"),
]


@pytest.mark.parametrize("data,expect", [c[1:] for c in QUIZ_BAD], ids=[c[0] for c in QUIZ_BAD])
def test_gradio_quiz_arguments_get_a_plain_message(app, data, expect):
    before = app["log"].read_text()
    kind, payload = _call(app["url"], "quiz", '{"data": ' + data + "}")
    text = _error_text(payload)
    assert kind == "error" and re.search(expect, text), (kind, str(payload)[:400])
    assert not PYTHON_TEXT.search(text) and not PYTHON_TEXT.search(app["log"].read_text()[len(before):])


def test_gradio_quiz_still_accepts_good_arguments(app):
    kind, payload = _call(app["url"], "quiz", '{"data": [2, 9007199254740991, "duty-to-co-operate"]}')
    assert kind == "complete" and len(payload[0]) == 2 and payload[0][0]["seed"] == 9007199254740991


@pytest.mark.parametrize("kw,expect", [({"seed": 2 ** 64}, r"quiz number"), ({"seed": 1e400}, r"quiz number"),
                                       ({"n": None}, r"number of questions"), ({"n": "abc"}, r"number of questions"),
                                       ({"topic": ["x"]}, r"topic must be one duty id")])
def test_api_quiz_arguments_raise_input_error(lib, kw, expect):
    from assistant.errors import InputError

    with pytest.raises(InputError, match=expect):
        lib["a"].quiz(**{"n": 3, "seed": 1, **kw})


# ================================================================ item 13: removing a document the training uses
SEED_DOC = "dcsf-2008-07-03-letter"


def _uses(doc_id: str) -> int:
    spec = tomllib.loads((ROOT / "corpus" / "training.toml").read_text("utf-8"))
    lines = [x for d in spec["duties"] for f in d["fields"] for x in f["lines"]]
    lines += [x for g in spec["glossary"] for x in g["lines"]]
    return sum(1 for x in lines if x.get("doc") == doc_id)


def test_cli_remove_warns_and_training_degrades_per_line(lib, tmp_path):
    base = _copy(lib, tmp_path / "lib")
    env = app_env(base, ASSISTANT_REFRESH_SECONDS="0")
    n = _uses(SEED_DOC)
    assert n > 0
    removed = _cli(["remove", SEED_DOC], env)
    assert removed.returncode == 0, removed.stderr
    assert re.search(rf"warning: .*training .*quotes '{SEED_DOC}' in {n} lines", removed.stderr), removed.stderr
    duties = _cli(["duties", "--json"], env)
    assert duties.returncode == 0, duties.stderr
    cards = json.loads(duties.stdout)
    quoted = [line["citation"]["doc_id"] for c in cards for f in c["fields"] for line in f["lines"]]
    missing = [m for c in cards for f in c["fields"] for m in f["missing"]]
    assert quoted and SEED_DOC not in quoted
    assert missing and all(f"'{SEED_DOC}'" in m and "not in the library" in m for m in missing), missing[:3]
    glossary = _cli(["glossary", "--json"], env)
    assert glossary.returncode == 0, glossary.stderr
    entries = json.loads(glossary.stdout)
    assert len(missing) + sum(len(g["missing"]) for g in entries) == n
    quiz = _cli(["quiz", "--n", "3", "--seed", "2", "--topic", "duty-to-co-operate", "--json"], env)
    assert quiz.returncode == 0 and len(quiz.stdout.splitlines()) == 3, quiz.stderr
    text = _cli(["duties"], env)
    assert text.returncode == 0 and "not in the library" in text.stdout
    other = _cli(["remove", "cc-2008-06-sector-doubtful"], env)  # a second one: still no error
    assert other.returncode == 0 and "warning:" in other.stderr
    assert _cli(["glossary"], env).returncode == 0


def test_api_training_says_which_lines_use_a_document(lib):
    assert len(lib["a"].training_uses(SEED_DOC)) == _uses(SEED_DOC)
    assert lib["a"].training_uses("no-such-document") == []


def test_ui_remove_warns_and_the_duties_endpoint_still_works(app):
    """Last of the app tests: it changes the app's library."""
    n = _uses(SEED_DOC)
    kind, payload = _call(app["url"], "remove_document", json.dumps({"data": [SEED_DOC, "pw-batch"]}), timeout=300)
    assert kind == "complete", payload
    message = re.sub(r"<[^>]+>", "", payload[0])
    assert "Removed" in message and re.search(rf"training .*quotes it in {n} lines", message), message
    kind, cards = _call(app["url"], "duties", '{"data": []}')
    assert kind == "complete" and cards[0], cards
    kind, questions = _call(app["url"], "quiz", '{"data": [2, 5, ""]}')
    assert kind == "complete" and len(questions[0]) == 2, questions
