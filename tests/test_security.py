"""Privacy and security: personal data in questions, no network at run time, the admin password."""
from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT, app_env, copy_corpus, is_local_hex, remote_peers, running_app

TESTS = Path(__file__).resolve().parent
GOOD_Q = "Which bodies are bound by the duty to co-operate?"
PERSONAL = {  # question -> the details that must never be stored or logged
    "My pupil Jack Smith, aged 7, DOB 03/05/2016, email jack.smith@example.com: " + GOOD_Q:
        ["Jack", "Smith", "03/05/2016", "jack.smith@example.com"],
    GOOD_Q + " Ring me on 07700 900123 or +44 20 7946 0958.": ["07700 900123", "7946 0958"],
    "Her NI number is AB 12 34 56 C and she lives at SW1A 1AA; " + GOOD_Q: ["AB 12 34 56 C", "SW1A 1AA"],
    "A child called Amy Jones in Year 4 is in care. " + GOOD_Q: ["Amy", "Jones"],
    "Olivia Brown, 9 years old, who has ADHD, was born on 3 March 2015. " + GOOD_Q: ["Olivia", "Brown", "3 March 2015"],
}


# ---- personal data --------------------------------------------------------------------------------
@pytest.mark.parametrize("text,kinds", [
    ("email me at head.teacher@school.sch.uk", ["an e-mail address"]),
    ("call 01632 960001", ["a phone number"]),
    ("mobile +44 7700 900123", ["a phone number"]),
    ("NI QQ123456C", ["a National Insurance number"]),
    ("date of birth: 12/09/2015", ["a date of birth"]),
    ("she was born on 1st May 2016", ["a date of birth"]),
    ("my daughter Lily has autism", ["a child's name with details about them"]),
    ("Tom Baker (aged 11) was excluded", ["a child's name with details about them"]),
    ("Noah in Year 6", ["a child's name with details about them"]),
    ("postcode M1 1AE", ["a postcode"]),
    ("What did Ed Balls say on 3 July 2008?", []),
    ("Which schools in Year 7 transition does the duty cover?", []),
    ("What happens when a child in care moves school?", []),
    ("Does the letter of 25/09/2008 apply to academies?", []),
])
def test_personal_data_is_found(text, kinds):
    from assistant.safety.privacy import find

    assert [f.kind for f in find(text)] == kinds


def test_no_evaluation_question_is_flagged():
    from assistant.safety.privacy import find

    questions = [json.loads(x)["question"] for x in (ROOT / "evals" / "questions.jsonl").read_text().splitlines()]
    assert [q for q in questions if find(q)] == []


@pytest.mark.parametrize("question", list(PERSONAL), ids=[f"pii-{i}" for i in range(len(PERSONAL))])
def test_personal_data_gets_a_warning_and_is_removed(assistant, question):
    answer = assistant.ask(question)
    assert answer.warnings and "personal information" in answer.warnings[0]
    assert "not stored" in answer.warnings[0]
    for detail in PERSONAL[question]:
        assert detail not in answer.model_dump_json(), detail
    assert answer.status == "answered"  # the question itself is still answered
    assert answer.answer == assistant.ask(GOOD_Q).answer


def test_feedback_never_stores_personal_data(tmp_path):
    from assistant import get_settings
    from assistant.library.feedback import record, rows

    settings = get_settings(data_dir=tmp_path)
    answer = {"question": "My son Tom Baker (aged 11) was excluded; who must co-operate?", "answer": "x [1]",
              "status": "answered", "citations": []}
    record(answer, "down", "Please ring me on 07700 900123 or email tom.parent@example.com", settings)
    stored = json.dumps(rows(settings))
    for detail in ("Tom", "Baker", "07700 900123", "tom.parent@example.com"):
        assert detail not in stored
    assert "[phone number removed]" in stored and "[e-mail address removed]" in stored


def test_cli_warns_in_json(assistant, env_dirs):
    from conftest import run_cli

    question = next(iter(PERSONAL))
    done = run_cli(["ask", "--json", question], env_dirs)
    assert done.returncode == 0, done.stderr
    obj = json.loads(done.stdout)
    assert obj["warnings"] and all(d not in done.stdout + done.stderr for d in PERSONAL[question])


# ---- zero network calls at run time --------------------------------------------------------------------
def _audited(log: Path, *args: str) -> list[str]:
    return [sys.executable, str(TESTS / "netaudit.py"), str(log), *args]


def _attempts(log: Path) -> list[dict]:
    return [json.loads(x) for x in log.read_text().splitlines()] if log.exists() else []


def test_the_audit_hook_sees_an_outbound_connection(tmp_path):
    """Control: the recorder does see a connection attempt (to TEST-NET, refused or timing out)."""
    log = tmp_path / "net.jsonl"
    code = ("import socket\ntry:\n    socket.create_connection(('192.0.2.1', 80), timeout=0.2)\nexcept OSError:\n    pass\n"
            "try:\n    socket.getaddrinfo('example.com', 443)\nexcept OSError:\n    pass\n")
    subprocess.run(_audited(log, "-c", code), check=True, timeout=60)
    hosts = {a["host"] for a in _attempts(log) if not a["local"]}
    assert {"192.0.2.1", "example.com"} <= hosts


def test_netguard_refuses_outbound_connections():
    code = ("from assistant.safety.netguard import install, NetworkBlocked\nimport socket\ninstall()\n"
            "try:\n    socket.create_connection(('192.0.2.1', 80), timeout=5)\n    print('connected')\n"
            "except NetworkBlocked as e:\n    print('blocked', e)\n"
            "try:\n    socket.socket().connect(('192.0.2.1', 80))\n    print('connected')\n"
            "except NetworkBlocked as e:\n    print('blocked', e)\n"
            "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen()\n"
            "socket.create_connection(s.getsockname(), timeout=5); print('loopback ok')\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "blocked network access to '192.0.2.1' is switched off" in done.stdout  # the name lookup
    assert "blocked connection to '192.0.2.1' refused" in done.stdout  # a bare connect
    assert "connected" not in done.stdout.replace("loopback", "") and "loopback ok" in done.stdout


def test_index_ask_and_the_app_make_no_network_calls(tmp_path):
    """index + ask in the CLI, then the app (page, ask, sources, document, upload, remove), each with an
    audit hook recording every name lookup and connection: nothing but loopback is ever tried."""
    from gradio_client import Client, handle_file

    copy_corpus(tmp_path / "corpus")
    log = tmp_path / "net.jsonl"
    env = app_env(tmp_path, ASSISTANT_ADMIN_PASSWORD="net-test")
    for args in (["-m", "assistant", "index"], ["-m", "assistant", "ask", "--json", GOOD_Q],
                 ["-m", "assistant", "sources", "--json"]):
        done = subprocess.run(_audited(log, *args), cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-3000:]
    cli_attempts = _attempts(log)

    note = tmp_path / "note.txt"
    note.write_text("Governors' note. The board discussed the duty to co-operate with the council in July.", "utf-8")
    with running_app(tmp_path, command=_audited(log, str(ROOT / "app.py")), ASSISTANT_ADMIN_PASSWORD="net-test") as app:
        import urllib.request

        with urllib.request.urlopen(app["url"], timeout=30) as page:
            assert page.status == 200
        client = Client(app["url"], verbose=False)
        assert client.predict(GOOD_Q, api_name="/ask")["status"] == "answered"
        docs = client.predict(api_name="/sources")
        assert client.predict(docs[0]["id"], api_name="/document")
        message, *_ = client.predict(handle_file(str(note)), "", "", None, None, "", "net-test", api_name="/add_document")
        assert "msg-ok" in message
        message, *_ = client.predict("note", "net-test", api_name="/remove_document")
        assert "msg-ok" in message
        peers = remote_peers(app["proc"].pid)
    attempts = _attempts(log)
    outside = [a for a in attempts if not a["local"]]
    print(f"{len(attempts)} network calls recorded ({len(cli_attempts)} by the CLI), {len(outside)} not loopback; "
          f"app peers now: {sorted(peers)}")
    assert outside == [], outside
    assert len(attempts) > len(cli_attempts), "the app's own loopback traffic should have been seen"
    assert all(is_local_hex(p) for p in peers), peers


# ---- admin password: constant time, rate-limited -------------------------------------------------------
def test_password_is_compared_in_constant_time(monkeypatch):
    from assistant import get_settings
    from assistant.interfaces import web_admin as ui

    calls = []
    real = ui.hmac.compare_digest
    monkeypatch.setattr(ui.hmac, "compare_digest", lambda a, b: calls.append((a, b)) or real(a, b))
    monkeypatch.setattr(ui, "WRONG_PASSWORD_DELAY_S", 0)
    gate = ui.AdminGate(get_settings(admin_password="s3cret"))
    assert gate.check("s3cret", "1.2.3.4") is None
    assert "not correct" in gate.check("guess", "1.2.3.4")
    assert calls == [(b"s3cret", b"s3cret"), (b"guess", b"s3cret")]


def test_lockout_doubles_and_is_per_client(monkeypatch):
    from assistant import get_settings
    from assistant.interfaces import web_admin as ui

    monkeypatch.setattr(ui, "WRONG_PASSWORD_DELAY_S", 0)
    now = [1000.0]
    gate = ui.AdminGate(get_settings(admin_password="s3cret", admin_max_failures=3, admin_lockout_seconds=10),
                        clock=lambda: now[0])
    for _ in range(2):
        assert gate.check("x", "a") == "That admin password is not correct."
    assert "locked for 10 seconds" in gate.check("x", "a")
    assert "try again in 10 seconds" in gate.check("s3cret", "a")  # even the right password, while locked
    assert gate.check("s3cret", "b") is None  # another address is not affected
    now[0] += 10
    for _ in range(2):
        gate.check("x", "a")
    assert "locked for 20 seconds" in gate.check("x", "a")  # the second lockout doubles
    now[0] += 20
    assert gate.check("s3cret", "a") is None  # a correct password resets
    for _ in range(2):
        gate.check("x", "a")
    assert "locked for 10 seconds" in gate.check("x", "a")


def test_failed_admin_attempts_are_rate_limited_over_http(tmp_path):
    from gradio_client import Client

    copy_corpus(tmp_path / "corpus")
    with running_app(tmp_path, ASSISTANT_ADMIN_PASSWORD="right-one", ASSISTANT_ADMIN_MAX_FAILURES="3",
                     ASSISTANT_ADMIN_LOCKOUT_SECONDS="4") as app:
        client = Client(app["url"], verbose=False)

        def remove(password: str) -> str:
            return client.predict("no-such-document", password, api_name="/remove_document")[0]

        assert "No document with id" in remove("right-one")  # the right password gets through to the check
        assert "not correct" in remove("wrong-1")
        assert "not correct" in remove("wrong-2")
        third = remove("wrong-3")
        assert "locked for 4 seconds" in third
        started = time.monotonic()
        locked = remove("right-one")
        assert "Too many wrong admin passwords" in locked and "not been changed" in locked
        # the uploads endpoint is locked too
        assert "Too many wrong admin passwords" in client.predict(None, "", "", None, None, "", "right-one",
                                                                  api_name="/add_document")[0]
        time.sleep(max(0.0, 4.2 - (time.monotonic() - started)))
        assert "No document with id" in remove("right-one")
        assert "2008" in json.dumps(client.predict(api_name="/sources"))  # nothing changed meanwhile


def test_forwarded_headers_do_not_escape_the_admin_lockout(tmp_path):
    """A client cannot pose as another address with X-Forwarded-For: by default no proxy is trusted,
    so the header is ignored (12 guesses, each with a new header value, still lock; the right password
    with a fresh header is refused during the lockout). Only with ASSISTANT_TRUSTED_PROXIES naming the
    proxy is the header read, and then each forwarded address has its own count."""
    from gradio_client import Client

    copy_corpus(tmp_path / "corpus")

    def remove(url: str, password: str, forwarded: str) -> str:
        client = Client(url, verbose=False, headers={"X-Forwarded-For": forwarded})
        return client.predict("no-such-document", password, api_name="/remove_document")[0]

    with running_app(tmp_path, ASSISTANT_ADMIN_PASSWORD="right-one", ASSISTANT_ADMIN_MAX_FAILURES="3",
                     ASSISTANT_ADMIN_LOCKOUT_SECONDS="30") as app:
        replies = [remove(app["url"], f"wrong-{i}", f"203.0.113.{i}") for i in range(3)]
        assert "locked for 30 seconds" in replies[-1], replies
        locked = remove(app["url"], "right-one", "198.51.100.7")
        assert "Too many wrong admin passwords" in locked, locked

    with running_app(tmp_path, ASSISTANT_ADMIN_PASSWORD="right-one", ASSISTANT_ADMIN_MAX_FAILURES="3",
                     ASSISTANT_ADMIN_LOCKOUT_SECONDS="30", ASSISTANT_TRUSTED_PROXIES="127.0.0.1") as app:
        replies = [remove(app["url"], f"wrong-{i}", "203.0.113.9") for i in range(3)]
        assert "locked for 30 seconds" in replies[-1], replies  # the forwarded address is locked
        assert "Too many wrong admin passwords" in remove(app["url"], "right-one", "203.0.113.9")
        # a different forwarded address (a different user behind the trusted proxy) is not
        assert "No document with id" in remove(app["url"], "right-one", "198.51.100.7")


@pytest.mark.parametrize("value", ["proxy.local", "*", "10.0.0.300"])
def test_trusted_proxies_must_be_addresses(monkeypatch, value):
    """A typo or ``*`` would make uvicorn trust nobody or everybody without a word: refused at start."""
    from assistant.config import get_settings
    from assistant.errors import InputError

    monkeypatch.setenv("ASSISTANT_TRUSTED_PROXIES", f"127.0.0.1, {value}")
    with pytest.raises(InputError, match="ASSISTANT_TRUSTED_PROXIES"):
        get_settings()
    monkeypatch.setenv("ASSISTANT_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/24")
    assert get_settings().trusted_proxies == "127.0.0.1,10.0.0.0/24"
