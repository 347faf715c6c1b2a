"""Issue 12, items 1, 2, 3 and 14: the document library and its manifest (``corpus/sources.toml``).

All through the CLI (real ``python -m assistant`` subprocesses), on a small copy of the real library
(two seed documents with their manifest entries, a built index). A refused action must leave the
corpus, the manifest, the index and the feedback database exactly as they were (``state_fingerprint``).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import tomlkit

from conftest import ROOT, app_env, index_fingerprint, seed_corpus, state_fingerprint

SEEDS = ("dcsf-2008-07-03-letter", "cc-2008-07-balls-duty-to-cooperate")
OUTSIDE_TEXT = ("The private notes of the bursar say the heating budget is overspent. "
                "They were never meant to be shared with anyone.")


def _assistant(base: Path):
    from assistant import Assistant

    return Assistant(corpus_dir=base / "corpus", index_dir=base / "index", data_dir=base / "data",
                     refresh_seconds=0)


@pytest.fixture(scope="module")
def seed_library(tmp_path_factory) -> Path:
    """Two seed documents, their manifest entries (with the file's comment header) and a built index."""
    base = tmp_path_factory.mktemp("library-seed")
    seed_corpus(base / "corpus", SEEDS)
    a = _assistant(base)
    a.index()
    return base


@pytest.fixture
def lib(seed_library, tmp_path) -> dict:
    """A fresh copy of the seed library for one test: its folder, CLI environment, an ``Assistant`` for
    fingerprints, and the fingerprint it starts with."""
    base = tmp_path / "lib"
    for part in ("corpus", "index"):
        shutil.copytree(seed_library / part, base / part, symlinks=True)
    (base / "data").mkdir()
    a = _assistant(base)
    return {"base": base, "corpus": base / "corpus", "env": app_env(base), "a": a, "good": state_fingerprint(a)}


def cli(args: list[str], env: dict, timeout: int = 300) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "assistant", *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=timeout)
    assert "Traceback" not in done.stdout + done.stderr, done.stderr[-3000:]
    return done


def refused(done: subprocess.CompletedProcess) -> str:
    """The one plain error line of a refused command (exit 2)."""
    lines = [ln for ln in done.stderr.splitlines() if ln.strip() and not ln.startswith("warning:")]
    assert done.returncode == 2, f"exit {done.returncode}:\n{done.stdout}\n{done.stderr}"
    assert len(lines) == 1 and lines[0].startswith("error: "), f"one plain error line expected:\n{done.stderr}"
    assert not re.search(r"\b\w+(Error|Exception)\b", lines[0]), lines[0]  # no Python exception names
    return lines[0]


def sources(env: dict) -> dict[str, dict]:
    done = cli(["sources", "--json"], env)
    assert done.returncode == 0, done.stderr
    return {row["id"]: row for row in json.loads(done.stdout)}


def raw_state(a) -> tuple:
    """``state_fingerprint`` for a library whose manifest is not TOML (it cannot be parsed to compare):
    every corpus file's bytes, the index records and the feedback database's file."""
    files = {p.name: p.read_bytes() if p.is_file() else b"<dir>" for p in sorted(a.settings.corpus_dir.iterdir())}
    db = a.settings.data_dir / "feedback.sqlite3"
    return files, index_fingerprint(a), db.read_bytes() if db.exists() else b""


def outside_file(lib) -> Path:
    path = lib["base"] / "outside.txt"
    path.write_text(OUTSIDE_TEXT, "utf-8")
    return path


# ---- item 1: two `add` processes at once -----------------------------------------------------------
def test_two_concurrent_adds_keep_both_entries(lib, tmp_path):
    docs = {
        "first": ("The first note says governors meet on Mondays in the library. Minutes are kept.",
                  "Governors' meeting note", "2024-01-15", "school policy in force"),
        "second": ("The second note says pupils plant trees in the orchard each spring. Parents help.",
                   "Orchard planting note", "2023-03-20", "draft for discussion"),
    }
    procs = []
    for name, (text, title, date, status) in docs.items():
        path = tmp_path / f"{name}.txt"
        path.write_text(text, "utf-8")
        procs.append(subprocess.Popen([sys.executable, "-m", "assistant", "add", str(path), "--title", title,
                                       "--date", date, "--status", status], cwd=ROOT, env=lib["env"],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0 and out.startswith("added:"), err
    manifest = tomllib.loads((lib["corpus"] / "sources.toml").read_text("utf-8"))
    rows = sources(lib["env"])
    for name, (_, title, date, status) in docs.items():
        assert name in manifest, f"the manifest lost '{name}': {sorted(manifest)}"
        entry = manifest[name]
        assert (entry["title"], entry["date"], entry["status"]) == (title, date, status)
        assert (rows[name]["title"], rows[name]["date"], rows[name]["status"]) == (title, date, status)
    assert set(SEEDS) <= set(manifest) and set(SEEDS) <= set(rows)
    assert not [p.name for p in lib["corpus"].iterdir() if p.name.startswith(".staging") or p.suffix == ".tmp"]


# ---- item 2: links ---------------------------------------------------------------------------------
def test_add_refuses_a_symbolic_link(lib, tmp_path):
    link = tmp_path / "passwd.txt"
    link.symlink_to(outside_file(lib))
    line = refused(cli(["add", str(link)], lib["env"]))
    assert re.search(r"passwd\.txt: .*link", line), line
    assert state_fingerprint(lib["a"]) == lib["good"]


def test_index_skips_links_placed_in_the_corpus(lib):
    """A link dropped into corpus/ (no manifest entry), a manifest entry whose folder is a link out
    of the corpus, and a named pipe (not a regular file: opening it would wait for a writer): none is
    read; the rest of the library is indexed as before."""
    outside = outside_file(lib)
    (lib["corpus"] / "secret.txt").symlink_to(outside)
    os.mkfifo(lib["corpus"] / "pipe.txt")
    (lib["corpus"] / "elsewhere").symlink_to(outside.parent, target_is_directory=True)
    with (lib["corpus"] / "sources.toml").open("a", encoding="utf-8") as f:
        f.write('\n[via-folder]\nfile = "elsewhere/outside.txt"\ntitle = "Through a folder link"\n')
    done = cli(["index"], lib["env"], timeout=120)
    assert done.returncode == 2, done.stderr
    errors = [ln for ln in done.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 3, done.stderr
    assert any(re.search(r"pipe\.txt: not a regular file", ln) for ln in errors), errors
    assert any(re.search(r"secret\.txt: .*link", ln) for ln in errors), errors
    assert any(re.search(r"elsewhere/outside\.txt: .*(link|outside)", ln) for ln in errors), errors
    rows = sources(lib["env"])
    assert set(rows) == set(SEEDS)
    for doc_id in SEEDS:
        assert "bursar" not in cli(["show", doc_id], lib["env"]).stdout
    assert outside.read_text("utf-8") == OUTSIDE_TEXT


# ---- item 3: the manifest is checked, not trusted ------------------------------------------------
def _append(lib, text: str) -> None:
    with (lib["corpus"] / "sources.toml").open("a", encoding="utf-8") as f:
        f.write(text)


@pytest.mark.parametrize("file", ["../outside.txt", "{outside}", "sub/../../outside.txt"])
def test_manifest_path_outside_the_corpus_is_refused_and_never_deleted(lib, file):
    outside = outside_file(lib)
    _append(lib, f'\n[outside]\nfile = "{file.format(outside=outside)}"\ntitle = "Outside"\n')
    good = state_fingerprint(lib["a"])
    for args in (["index"], ["remove", "outside"]):
        line = refused(cli(args, lib["env"]))
        assert "sources.toml" in line and "[outside]" in line and "file" in line, line
        assert re.search(r"outside the corpus|inside the corpus", line), line
        assert outside.read_text("utf-8") == OUTSIDE_TEXT, f"{args}: the file outside the corpus was touched"
        assert state_fingerprint(lib["a"]) == good
    assert "outside" not in lib["a"].store.documents(with_text=False)


def test_a_damaged_manifest_is_named_with_its_line(lib):
    path = lib["corpus"] / "sources.toml"
    _append(lib, "\n[broken]\ntitle = = \"two equals signs\"\n")
    bad_line = path.read_text("utf-8").splitlines().index('title = = "two equals signs"') + 1
    good = raw_state(lib["a"])
    for args in (["index"], ["remove", SEEDS[0]]):
        line = refused(cli(args, lib["env"]))
        assert str(path) in line, line
        assert f"line {bad_line}" in line, line
        assert raw_state(lib["a"]) == good


@pytest.mark.parametrize("field, value, expect", [
    ("title", 5, r"must be text"),
    ("date_approximate", "perhaps", r"must be true or false"),
    ("status", ["a", "list"], r"must be text"),
])
def test_a_wrong_type_in_the_manifest_names_file_entry_and_field(lib, field, value, expect):
    path = lib["corpus"] / "sources.toml"
    doc = tomlkit.parse(path.read_text("utf-8"))
    doc[SEEDS[1]][field] = value
    path.write_text(tomlkit.dumps(doc), "utf-8")
    good = state_fingerprint(lib["a"])
    line = refused(cli(["index"], lib["env"]))
    assert str(path) in line and f"[{SEEDS[1]}]" in line and f"'{field}'" in line, line
    assert re.search(expect, line), line
    assert state_fingerprint(lib["a"]) == good


# ---- item 14: names and duplicates within one add ---------------------------------------------------
def test_two_identical_files_in_one_add_are_refused(lib, tmp_path):
    text = "The hall is booked for the governors' training on Thursday. Tea is provided."
    for name in ("training-note.txt", "training-note-copy.txt"):
        (tmp_path / name).write_text(text, "utf-8")
    line = refused(cli(["add", str(tmp_path / "training-note.txt"), str(tmp_path / "training-note-copy.txt")],
                       lib["env"]))
    assert re.search(r"training-note-copy\.txt: .*same text as training-note\.txt", line), line
    assert state_fingerprint(lib["a"]) == lib["good"]


def test_non_latin_file_names_get_distinct_readable_ids(lib, tmp_path):
    texts = {
        "политика.txt": "The policy says every pupil has a named mentor. Mentors meet pupils weekly.",
        "правила.txt": "The rules say pupils walk on the left in corridors. Staff remind them kindly.",
        "学校方針.txt": "The school plan says the library opens at eight. Pupils may read there before lessons.",
        "学校規則.txt": "The school code says phones stay in lockers. Lockers are checked each Friday.",
    }
    paths = []
    for name, text in texts.items():
        (tmp_path / name).write_text(text, "utf-8")
        paths.append(str(tmp_path / name))
    done = cli(["add", *paths], lib["env"])
    assert done.returncode == 0, done.stderr
    new = {doc_id: row for doc_id, row in sources(lib["env"]).items() if doc_id not in SEEDS}
    assert len(new) == 4, sorted(new)
    assert all(re.fullmatch(r"[a-z0-9][a-z0-9._-]*", doc_id) for doc_id in new), sorted(new)
    # Spelled in ASCII (anyascii), Cyrillic and Chinese alike: readable ids, not hashes.
    assert {"politika", "pravila", "xuexiaofangzhen", "xuexiaoguize"} == set(new), sorted(new)
    assert {row["title"] for row in new.values()} == {Path(n).stem.capitalize() for n in texts}


def test_whitespace_in_a_file_name_is_one_space_in_the_title(lib, tmp_path):
    path = tmp_path / "attendance\nnotes\tspring  term.txt"
    path.write_text("Attendance rose in the spring term. The office sends letters home on Fridays.", "utf-8")
    done = cli(["add", str(path)], lib["env"])
    assert done.returncode == 0, done.stderr
    row = sources(lib["env"])["attendance-notes-spring-term"]
    assert row["title"] == "Attendance notes spring term"
    bad = tmp_path / "empty\nfile.txt"
    bad.write_text("", "utf-8")
    line = refused(cli(["add", str(bad)], lib["env"]))
    assert "empty file.txt: the file is empty" in line, line
