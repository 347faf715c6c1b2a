"""The fault matrix of issue 30, for the library's own faults: {damaged store (8 seeds), kill -9 during
``index --rebuild``, kill -9 during ``add``, read-only disk, a typo in a data file} × {CLI ask (a
subprocess), app ask (the real app, over HTTP)}.

Each cell ends in a correct answer or one plain message; after recovery every document in the
manifest answers again (one question per document, from evals/questions.jsonl, answered from that
document); no process aborts (no signal, no traceback, no Rust panic). The index is built once and
copied into each case, so the matrix runs in minutes. Real processes, a real Chroma store, real
signals, a real read-only mount (``unshare -rm``).
"""
from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT, app_env, copy_corpus, running_app

TESTS = Path(__file__).resolve().parent
GOOD_Q = "Which bodies are bound by the duty to co-operate?"
PASSWORD = "fault-matrix-admin-password"
APP = {"ASSISTANT_ADMIN_PASSWORD": PASSWORD, "ASSISTANT_REFRESH_SECONDS": "0"}
ONE_DOC_GROUPS = {"ASSISTANT_INDEX_GROUP_SENTENCES": "12"}  # one "indexed ..." line per document
SEEDS = range(8)
ADDED = "cc-2008-07-schools-engage-ecm"  # removed from the base library, added back by the add row


def per_document_questions() -> dict[str, str]:
    """One evaluation question per document of the manifest, whose gold answer is in that document only."""
    import tomllib

    ids = set(tomllib.loads((ROOT / "corpus" / "sources.toml").read_text("utf-8")))
    found: dict[str, str] = {}
    for line in (ROOT / "evals" / "questions.jsonl").read_text("utf-8").splitlines():
        q = json.loads(line)
        gold = q.get("gold_doc_ids") or []
        if q.get("answerable") and len(gold) == 1 and gold[0] in ids:
            found.setdefault(gold[0], q["question"])
    assert set(found) == ids, ids - set(found)
    return found


QUESTIONS = per_document_questions()


# ---- running things --------------------------------------------------------------------------------
def cli(base: Path, *args: str, timeout: int = 600, **env: str) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "assistant", *args], cwd=ROOT, env=app_env(base, **env),
                          capture_output=True, text=True, timeout=timeout)
    no_abort(done.returncode, done.stderr)
    return done


def no_abort(returncode: int, text: str) -> None:
    assert returncode >= 0, f"killed by signal {-returncode}: {text[-2000:]}"
    assert "Traceback" not in text and "panicked" not in text, text[-3000:]


def every_document_answers(base: Path, **env: str) -> subprocess.CompletedProcess:
    """The CLI answers one question per manifest document, each from that document (one process)."""
    batch = base / "questions.jsonl"
    batch.write_text("".join(json.dumps({"id": d, "question": q}) + "\n" for d, q in QUESTIONS.items()), "utf-8")
    done = cli(base, "ask", "--json", "--batch", str(batch), **env)
    assert done.returncode == 0, done.stderr[-2000:]
    answers = [json.loads(line) for line in done.stdout.splitlines()]
    assert {a["id"] for a in answers} == set(QUESTIONS)
    for a in answers:
        answered_from(a, a["id"])
    return done


def answered_from(answer: dict, doc_id: str | None = None) -> None:
    assert answer["status"] == "answered", answer
    if doc_id:
        assert doc_id in {c["doc_id"] for c in answer["citations"]}, (doc_id, answer["answer"])
    assert "not in the index" not in (answer.get("notice") or ""), answer["notice"]


def app_answers(base: Path, questions: dict[str, str], **env: str) -> tuple[list[dict], str]:
    """Ask the real app over HTTP; (answers, the app's log)."""
    from gradio_client import Client

    with running_app(base, **APP, **env) as app:
        client = Client(app["url"], verbose=False)
        got = [client.predict(q, api_name="/ask") for q in questions.values()]
        assert app["proc"].poll() is None  # the app is still up
        log = app["log"].read_text()
    no_abort(0, log)
    return got, log


def one_warning(stderr: str, pattern: str) -> None:
    lines = [line for line in stderr.splitlines() if line.startswith(("warning:", "error:"))]
    assert len(lines) == 1 and re.search(pattern, lines[0]), stderr[-2000:]


# ---- the libraries ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """The real corpus, indexed once; every case works on a copy."""
    base = tmp_path_factory.mktemp("matrix-built")
    copy_corpus(base / "corpus")
    done = cli(base, "index")
    assert done.returncode == 0, done.stderr
    return base


def library(built: Path, dest: Path) -> Path:
    shutil.copytree(built / "corpus", dest / "corpus")
    shutil.copytree(built / "index", dest / "index")
    return dest


def damage(db: Path, seed: int) -> int:
    """Overwrite 40 random bytes at a random offset of the sqlite file; the offset."""
    rng = random.Random(seed)
    offset = rng.randrange(0, db.stat().st_size - 40)
    with db.open("r+b") as f:
        f.seek(offset)
        f.write(bytes(rng.randrange(256) for _ in range(40)))
    return offset


DAMAGED = r"^warning: The index at .* could not be read \(.+\); it was moved to .*index\.broken-.* and is rebuilt"


# ---- damaged store -------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", SEEDS)
def test_damaged_store_cli(built, tmp_path, seed):
    """Any of the eight damages is found at open, set aside and rebuilt, told in one line; then every
    document answers (in the same process that found it)."""
    base = library(built, tmp_path)
    damage(base / "index" / "chroma.sqlite3", seed)
    done = every_document_answers(base)
    one_warning(done.stderr, DAMAGED)
    assert len(list(base.glob("index.broken-*"))) == 1


@pytest.mark.parametrize("seed", [0, 3])  # a Rust error (with a panic in Chroma's log thread); noise in vectors
def test_damaged_store_app(built, tmp_path, seed):
    base = library(built, tmp_path)
    damage(base / "index" / "chroma.sqlite3", seed)
    got, log = app_answers(base, {"good": GOOD_Q, **QUESTIONS})
    for answer, doc_id in zip(got, [None, *QUESTIONS]):
        answered_from(answer, doc_id)
    assert len(re.findall(r"could not be read .*moved to .*index\.broken-", log)) == 1, log[-3000:]
    assert len(list(base.glob("index.broken-*"))) == 1


@pytest.mark.parametrize("seed, command", [(3, ["index"]), (0, ["index", "--rebuild"])])
def test_damaged_store_index_repairs_it(built, tmp_path, seed, command):
    """What the messages advise works on a damaged store: `index` sets it aside and rebuilds it,
    `index --rebuild` builds a new one beside it without reading it."""
    base = library(built, tmp_path)
    damage(base / "index" / "chroma.sqlite3", seed)
    done = cli(base, *command)
    assert done.returncode == 0 and done.stdout.startswith("5 added"), done.stdout + done.stderr
    every_document_answers(base)


# ---- kill -9 during index --rebuild ----------------------------------------------------------------
def kill_when(base: Path, args: list[str], ready, **env: str) -> None:
    """Run the CLI, SIGKILL it (its whole group) as soon as ``ready(line)`` is true of a standard error
    line, or when ``ready()`` (no argument) polls true."""
    proc = subprocess.Popen([sys.executable, "-m", "assistant", *args], cwd=ROOT, env=app_env(base, **env),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        for line in proc.stderr:
            if ready(line):
                os.killpg(proc.pid, signal.SIGKILL)
                break
    finally:
        proc.wait(timeout=120)
    assert proc.returncode == -signal.SIGKILL, "finished before it could be killed"


def test_kill_during_rebuild(built, tmp_path):
    """The rebuild is built aside: killed after its first document, the last good index stays live for
    the CLI and the app, with nothing said missing; the next rebuild completes and swaps in."""
    base = library(built, tmp_path)
    kill_when(base, ["index", "--rebuild", "--verbose"], lambda line: line.startswith("indexed "), **ONE_DOC_GROUPS)
    done = every_document_answers(base)
    assert "warning" not in done.stderr, done.stderr
    sources = cli(base, "sources")
    assert sources.returncode == 0 and "not in the index" not in sources.stderr
    got, _ = app_answers(base, QUESTIONS)
    for answer, doc_id in zip(got, QUESTIONS):
        answered_from(answer, doc_id)
    rebuilt = cli(base, "index", "--rebuild")
    assert rebuilt.returncode == 0 and rebuilt.stdout.startswith("5 added"), rebuilt.stdout + rebuilt.stderr
    assert not list(base.glob("index.*")), list(base.glob("index.*"))  # nothing left beside the index
    every_document_answers(base)


def test_a_rebuild_swapped_in_under_the_running_app_is_the_one_it_uses(built, tmp_path):
    """The app keeps serving while another process rebuilds and swaps; afterwards it reads and writes the
    new index, not the old folder the swap deleted: a document the admin adds is there for the CLI."""
    from gradio_client import Client, handle_file

    base = library(built, tmp_path)
    note = tmp_path / "garden-benches.txt"
    note.write_text("The school garden has three new benches, paid for by the parents' association.\n", "utf-8")
    with running_app(base, **APP) as app:
        client = Client(app["url"], verbose=False)
        answered_from(client.predict(GOOD_Q, api_name="/ask"))
        assert cli(base, "index", "--rebuild").returncode == 0
        answered_from(client.predict(GOOD_Q, api_name="/ask"))
        added = client.predict(handle_file(str(note)), "", "", None, None, "", PASSWORD, api_name="/add_document")
        assert "Added" in str(added), added
    listed = json.loads(cli(base, "sources", "--json").stdout)
    assert "garden-benches" in {r["id"] for r in listed}
    every_document_answers(base)


# ---- kill -9 during add ----------------------------------------------------------------------------
@pytest.fixture
def killed_add(built, tmp_path) -> tuple[Path, Path]:
    """A library of four documents whose `add` of the fifth was killed after the manifest was saved,
    before it was indexed; a second copy of that state for the other channel."""
    base = library(built, tmp_path / "cli")
    held = tmp_path / f"{ADDED}.txt"
    shutil.copy(base / "corpus" / f"{ADDED}.txt", held)
    assert cli(base, "remove", ADDED).returncode == 0
    manifest = base / "corpus" / "sources.toml"

    def saved(_line: str | None = None) -> bool:
        return f"[{ADDED}]" in manifest.read_text("utf-8")

    proc = subprocess.Popen([sys.executable, "-m", "assistant", "add", str(held)], cwd=ROOT, env=app_env(base),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 120
    while not saved() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL and saved()
    other = tmp_path / "app"
    shutil.copytree(base, other)
    return base, other


def test_kill_during_add_cli(killed_add):
    """Start-up finishes the half-done add: the added document answers, as do the others."""
    base, _ = killed_add
    every_document_answers(base)
    listed = json.loads(cli(base, "sources", "--json").stdout)
    assert ADDED in {r["id"] for r in listed}


def test_kill_during_add_app(killed_add):
    _, base = killed_add
    got, _ = app_answers(base, QUESTIONS)
    for answer, doc_id in zip(got, QUESTIONS):
        answered_from(answer, doc_id)


def test_missing_documents_are_named_while_the_index_lacks_them(killed_add):
    """Where the half-done add cannot be finished (a read-only instance), every answer and `sources`
    say which document is missing."""
    base, _ = killed_add
    done = cli(base, "ask", "--json", GOOD_Q, ASSISTANT_READ_ONLY="1")
    answer = json.loads(done.stdout)
    assert answer["status"] == "answered"
    assert re.search(rf"1 document in sources.toml is not in the index yet.*\({ADDED}\)", answer["notice"]), answer
    sources = cli(base, "sources", ASSISTANT_READ_ONLY="1")
    one_warning(sources.stderr, rf"^warning: 1 document in sources\.toml is not in the index yet.*\({ADDED}\)")


@pytest.mark.skipif(not Path("/usr/bin/chromium").exists() and not os.environ.get("CI"),
                    reason="/usr/bin/chromium not installed")
def test_remove_list_offers_a_document_not_indexed_yet(killed_add):
    """The admin's Remove list comes from the manifest: the half-added document is offered, marked
    "not indexed yet" (a read-only instance, which cannot finish the add)."""
    from playwright.sync_api import sync_playwright

    from test_ui_browser import CHROMIUM, CHROMIUM_ARGS

    _, base = killed_add
    with running_app(base, **APP, ASSISTANT_READ_ONLY="1") as app, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page()
            page.set_default_timeout(60_000)
            page.goto(app["url"])
            page.get_by_role("tab", name="Manage library").click()
            page.get_by_text("Remove a document", exact=True).click()
            page.get_by_label("Document to remove").click()
            option = page.get_by_role("option", name=re.compile(rf"\({ADDED}\) — not indexed yet"))
            option.wait_for()
            assert page.get_by_role("option", name=re.compile("not indexed yet")).count() == 1
        finally:
            browser.close()


# ---- read-only disk ------------------------------------------------------------------------------
def _can_mount() -> bool:
    if not shutil.which("unshare"):
        return False
    probe = subprocess.run(["unshare", "-rm", "sh", "-c", "d=$(mktemp -d) && mount --bind -o ro $d $d && "
                            "umount $d && rmdir $d"], capture_output=True)
    return probe.returncode == 0


def _read_only_driver(base: str) -> None:
    """Runs inside ``unshare -rm``: corpus/ and index/ mounted read-only; results to result.json."""
    base = Path(base)
    for folder in ("corpus", "index"):
        subprocess.run(["mount", "--bind", "-o", "ro", str(base / folder), str(base / folder)], check=True)
    out = {}
    for name, args in (("ask", ["ask", "--json", GOOD_Q]), ("add", ["add", str(base / "note.txt")]),
                       ("index", ["index"]), ("rebuild", ["index", "--rebuild"])):
        done = subprocess.run([sys.executable, "-m", "assistant", *args], cwd=ROOT, env=app_env(base),
                              capture_output=True, text=True, timeout=600)
        out[name] = {"rc": done.returncode, "stdout": done.stdout, "stderr": done.stderr}
    try:
        got, log = app_answers(base, QUESTIONS)
        out["app"] = {"answers": got, "log": log}
    except Exception as exc:  # reported by the test
        out["app"] = {"error": repr(exc)}
    (base / "result.json").write_text(json.dumps(out))


@pytest.mark.skipif(not _can_mount(), reason="cannot mount read-only here (no user namespaces)")
def test_read_only_disk(built, tmp_path):
    """A read-only index is served (CLI and app); writers say plainly that the folder is read-only."""
    base = library(built, tmp_path)
    (base / "note.txt").write_text("A note about the school garden and its new benches.\n", "utf-8")
    code = f"import sys; sys.path.insert(0, {str(TESTS)!r}); import test_fault_matrix as m; m._read_only_driver({str(base)!r})"
    done = subprocess.run(["unshare", "-rm", sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          timeout=1200)
    assert done.returncode == 0, done.stderr[-3000:]
    r = json.loads((base / "result.json").read_text())
    for name in ("ask", "add", "index", "rebuild"):
        no_abort(r[name]["rc"], r[name]["stderr"])
    assert r["ask"]["rc"] == 0, r["ask"]["stderr"]
    answered_from(json.loads(r["ask"]["stdout"]))
    for name in ("add", "index", "rebuild"):
        assert r[name]["rc"] == 2, r[name]
        one_warning(r[name]["stderr"], r"^error: The folder .*/corpus is read-only, so documents cannot be added")
    assert "answers" in r["app"], r["app"]
    for answer, doc_id in zip(r["app"]["answers"], QUESTIONS):
        answered_from(answer, doc_id)
    every_document_answers(base)  # writable again: nothing was lost


# ---- a typo in a data file -------------------------------------------------------------------------
TYPO = "\n[[term]\nsay = [\"heads\"\n"  # an unclosed table header, after the good entries


def typo_line(path: Path) -> int:
    import tomllib

    with pytest.raises(tomllib.TOMLDecodeError) as caught:
        tomllib.loads(path.read_text("utf-8"))
    return int(re.search(r"at line (\d+)", str(caught.value)).group(1))


def test_vocabulary_typo_app_then_restart(built, tmp_path):
    """A typo in corpus/vocabulary.toml while the app runs: reported once in its log with file and line,
    the upload that follows reported stored, every question answered; after a restart the CLI says
    it uses the last good vocabulary, and every document answers."""
    from gradio_client import Client, handle_file

    base = library(built, tmp_path)
    vocabulary = base / "corpus" / "vocabulary.toml"
    note = tmp_path / "garden-note.txt"
    note.write_text("The school garden has three new benches, paid for by the parents' association.\n", "utf-8")
    with running_app(base, **APP) as app:
        client = Client(app["url"], verbose=False)
        assert client.predict(GOOD_Q, api_name="/ask")["status"] == "answered"
        vocabulary.write_text(vocabulary.read_text("utf-8") + TYPO, "utf-8")
        line = typo_line(vocabulary)
        added = client.predict(handle_file(str(note)), "", "", None, None, "", PASSWORD, api_name="/add_document")
        assert "Added" in str(added) and "could not" not in str(added), added
        for question in [GOOD_Q, *QUESTIONS.values()]:
            assert client.predict(question, api_name="/ask")["status"] == "answered", question
            time.sleep(0.2)  # refresh_seconds=0: every question checks the index again
        log = app["log"].read_text()
    no_abort(0, log)
    reports = re.findall(r"vocabulary\.toml, line (\d+): not valid TOML.*last good vocabulary", log)
    assert reports == [str(line)], log[-3000:]
    done = every_document_answers(base)  # a restart: the last good vocabulary, said once
    one_warning(done.stderr, rf"vocabulary\.toml, line {line}: not valid TOML.*questions use the last good vocabulary")


def test_vocabulary_typo_cli_without_a_last_good_copy(built, tmp_path):
    """No copy was ever kept (a fresh data folder): questions use the built-in vocabulary and say so."""
    base = library(built, tmp_path)
    vocabulary = base / "corpus" / "vocabulary.toml"
    vocabulary.write_text(vocabulary.read_text("utf-8") + TYPO, "utf-8")
    done = every_document_answers(base)
    one_warning(done.stderr, r"vocabulary\.toml, line \d+: not valid TOML.*questions use the built-in vocabulary")
    got, log = app_answers(base, {"good": GOOD_Q})
    answered_from(got[0])
    assert len(re.findall(r"vocabulary\.toml, line \d+: not valid TOML", log)) == 1


# ---- full temp disk × CLI ask (the app's row is tests/test_ui_uploads.py) -----------------------------
def _can_mount_tmpfs() -> bool:
    if not shutil.which("unshare"):
        return False
    probe = subprocess.run(["unshare", "-rm", "sh", "-c", "mount -t tmpfs -o size=1m tmpfs /mnt"],
                           capture_output=True, text=True)
    return probe.returncode == 0


@pytest.mark.skipif(not _can_mount_tmpfs() and not os.environ.get("CI"),
                    reason="needs unprivileged user namespaces (unshare -rm) for a tmpfs")
def test_full_temp_disk_cli(built, tmp_path):
    """The CLI's temp folder (TMPDIR) is a real 4 MB tmpfs filled to its last byte before it starts: every
    manifest document still answers (an answer writes nothing to disk), no abort, no raw errno."""
    base = library(built, tmp_path / "lib")
    temp = tmp_path / "temp"
    temp.mkdir()
    batch = base / "questions.jsonl"
    batch.write_text("".join(json.dumps({"id": d, "question": q}) + "\n" for d, q in QUESTIONS.items()), "utf-8")
    script = ('mount -t tmpfs -o size=4m tmpfs "$TMPDIR" && { dd if=/dev/zero of="$TMPDIR/fill" bs=64k 2>/dev/null; '
              'test "$(df --output=avail "$TMPDIR" | tail -1 | tr -d " ")" = 0 || exit 97; } && '
              'exec "$0" -m assistant ask --json --batch "$1"')
    done = subprocess.run(["unshare", "-rm", "sh", "-c", script, sys.executable, str(batch)], cwd=ROOT,
                          env={**app_env(base), "TMPDIR": str(temp)}, capture_output=True, text=True, timeout=600)
    assert done.returncode != 97, "the tmpfs was not full"
    no_abort(done.returncode, done.stderr)
    assert done.returncode == 0 and "Errno" not in done.stderr, done.stderr[-2000:]
    answers = [json.loads(line) for line in done.stdout.splitlines()]
    assert {a["id"] for a in answers} == set(QUESTIONS)
    for a in answers:
        answered_from(a, a["id"])


def test_a_fresh_index_built_by_this_process_is_not_mistaken_for_a_swap(tmp_path, monkeypatch):
    """An app that builds its own first index must keep the one store it opened: taking the index file's
    appearance for another process's swap reopened Chroma on the same folder beside the live client, and
    later questions failed with "Error creating hnsw segment reader: Nothing found on disk" (seen in CI)."""
    from assistant import Assistant

    copy_corpus(tmp_path / "corpus")
    for key, value in app_env(tmp_path, ASSISTANT_REFRESH_SECONDS="0").items():
        if key.startswith("ASSISTANT_"):
            monkeypatch.setenv(key, value)
    a = Assistant()
    opened = a.store  # opened before the index's file exists; the first question builds it
    for question in QUESTIONS.values():
        answered_from(a.ask(question).model_dump())
        assert a.store is opened, "the store was reopened though no other process swapped the index"
