"""Shared fixtures: a real model, a real Chroma store in a temp dir, a copy of the real corpus."""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import tomllib
import urllib.request
import uuid
from pathlib import Path

import numpy as np
import pytest

from evals.serve import app_env, free_port, running_app  # noqa: F401  (the real app in a subprocess)

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
FURNITURE = [
    "More from Community Care", "Comments are closed", "Related articles", "More information",
    "Sanctuary Buildings", "SW1P 3BT", "0870 0012345", "dcsf.ministers@dcsf.gsi.gov.uk",
    "Handwritten signature", "department for\n", "Expert guide to children", "Rt Hon Ed Balls MP",
    "Information on the Every Child Matters agenda", "download the consultation document", "New Asset",
]


def copy_corpus(dest: Path) -> Path:
    shutil.copytree(CORPUS, dest)
    return dest


# Two tiny documents of different kinds (.txt, .md): a library small enough to index in a second.
DOC_A = "The governing body must publish its well-being policy. It reviews the policy every year."
DOC_B = "Schools Forums advise the local authority on funding. The forum meets each term."


def two_document_corpus(dest: Path) -> Path:
    """A corpus folder holding ``DOC_A`` (alpha.txt) and ``DOC_B`` (beta.md), no manifest; returns ``dest``."""
    dest.mkdir()
    (dest / "alpha.txt").write_text(DOC_A, "utf-8")
    (dest / "beta.md").write_text(DOC_B, "utf-8")
    return dest


def seed_corpus(dest: Path, seeds) -> Path:
    """A corpus folder of only the documents ``seeds`` (ids), their manifest entries kept with the file's
    comment header; returns ``dest``."""
    import tomlkit

    dest.mkdir(parents=True)
    manifest = tomlkit.parse((CORPUS / "sources.toml").read_text("utf-8"))
    for key in list(manifest.keys()):
        if key not in seeds:
            del manifest[key]
    (dest / "sources.toml").write_text(tomlkit.dumps(manifest), "utf-8")
    shutil.copy(CORPUS / "library.toml", dest / "library.toml")  # the library's words and furniture rules
    for doc_id in seeds:
        shutil.copy(CORPUS / f"{doc_id}.txt", dest / f"{doc_id}.txt")
    return dest


@pytest.fixture(scope="session")
def env_dirs(tmp_path_factory) -> dict[str, str]:
    base = tmp_path_factory.mktemp("assistant")
    corpus = copy_corpus(base / "corpus")
    return {"ASSISTANT_CORPUS_DIR": str(corpus), "ASSISTANT_INDEX_DIR": str(base / "index"),
            "ASSISTANT_DATA_DIR": str(base / "data")}


@pytest.fixture(scope="session")
def assistant(env_dirs):
    from assistant import Assistant

    a = Assistant(corpus_dir=env_dirs["ASSISTANT_CORPUS_DIR"], index_dir=env_dirs["ASSISTANT_INDEX_DIR"],
                  data_dir=env_dirs["ASSISTANT_DATA_DIR"])
    a.index()
    return a


_WORDS = {
    "adj": "bright quiet early muddy windy golden narrow crowded hidden ancient sunny frosty".split(),
    "noun": "orchard harbour lighthouse meadow bakery railway canal quarry windmill glasshouse bandstand ferry".split(),
    "verb": "repainted cleared measured photographed restored mapped visited surveyed".split(),
    "who": "volunteers surveyors gardeners painters fishermen cyclists walkers carpenters".split(),
    "when": "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split(),
}


def synthetic_documents(dest: Path, n: int, sentences: int = 12, seed: int = 0) -> list[Path]:
    """``n`` made-up documents (about harbours and orchards, nothing to do with the library's subject),
    each distinct, to index in bulk without changing any answer about the real documents."""
    import random

    rng = random.Random(seed)
    dest.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        lines = [f"Parish notes number {i}", ""]
        for j in range(sentences):
            w = {k: rng.choice(v) for k, v in _WORDS.items()}
            lines.append(f"On {w['when']} the {w['who']} {w['verb']} the {w['adj']} {w['noun']} near marker "
                         f"{i}-{j}, and counted {rng.randint(2, 999)} stones along its {rng.choice(_WORDS['adj'])} edge.")
            if j % 3 == 2:
                lines.append("")
        path = dest / f"parish-notes-{i:04d}.txt"
        path.write_text("\n".join(lines) + "\n", "utf-8")
        paths.append(path)
    return paths


def run_cli(args: list[str], env_dirs: dict[str, str], stdin: str | None = None, timeout: int = 300):
    env = {**os.environ, **env_dirs}
    env.pop("ASSISTANT_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "assistant", *args], capture_output=True, text=True,
                          env=env, input=stdin, timeout=timeout, cwd=ROOT)


def index_fingerprint(a) -> dict:
    """Everything stored: catalog entries with versions, and every passage and sentence record."""
    store = a.store
    docs = {d.doc_id: (d.version, d.raw_hash, d.text, sorted(d.meta.items())) for d in store.documents().values()}
    chunks = store.chunks.get(include=["documents", "metadatas"])
    sents = store.sentences.get(include=["documents", "metadatas"])
    return {"docs": docs,
            "chunks": sorted(zip(chunks["ids"], chunks["documents"], [json.dumps(m, sort_keys=True) for m in chunks["metadatas"]])),
            "sentences": sorted(zip(sents["ids"], sents["documents"], [json.dumps(m, sort_keys=True) for m in sents["metadatas"]]))}


def _digest(values) -> str:
    return hashlib.sha256(json.dumps(values, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def state_fingerprint(a) -> str:
    """One content hash of everything the assistant stores: every file in the corpus folder (hidden
    staging files included; the manifest compared as parsed TOML, since a rewrite may change its
    whitespace only), the index (``index_fingerprint`` plus every embedding), and feedback rows."""
    s = a.settings
    corpus = {}
    for p in sorted(s.corpus_dir.iterdir()):
        if p.name == "sources.toml":
            corpus[p.name] = tomllib.loads(p.read_text("utf-8"))
        else:
            corpus[p.name] = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "<dir>"
    index = index_fingerprint(a)
    vectors = {}
    for name in ("catalog", "chunks", "sentences"):
        got = getattr(a.store, name).get(include=["embeddings"])
        vectors[name] = hashlib.sha256(b"".join(
            rid.encode() + np.asarray(v, dtype=np.float32).tobytes()
            for rid, v in sorted(zip(got["ids"], got["embeddings"]), key=lambda x: x[0]))).hexdigest()
    db = s.data_dir / "feedback.sqlite3"
    feedback = []
    if db.exists():
        with contextlib.closing(sqlite3.connect(db)) as conn:
            feedback = [list(r) for r in conn.execute("SELECT * FROM feedback ORDER BY id")]
    return _digest({"corpus": corpus, "index": index, "vectors": vectors, "feedback": feedback})


# ---- the page's own events over HTTP (what its JavaScript sends), without a browser ------------------------
class Page:
    """One browser session of the app, sending the page's events as its JavaScript does."""

    def __init__(self, url: str):
        self.url, self.session = url, uuid.uuid4().hex[:11]
        import httpx

        self.http = httpx.Client(timeout=120)
        config = self.http.get(url + "config").json()
        self.ids = {c.get("props", {}).get("elem_id"): c["id"] for c in config["components"]}
        self.deps = config["dependencies"]

    def _dep(self, elem_id: str, event: str) -> dict:
        return next(d for d in self.deps if [self.ids[elem_id], event] in [list(t) for t in d["targets"]])

    def _then(self, dep: dict) -> dict:
        return next(d for d in self.deps if d.get("trigger_after") == dep["id"])

    def _body(self, dep: dict, data: list, event_data=None, trigger: str | None = None) -> dict:
        return {"data": data, "fn_index": dep["id"], "session_hash": self.session, "event_data": event_data,
                "trigger_id": self.ids.get(trigger)}

    def run(self, dep: dict, data: list, event_data=None, trigger=None) -> dict:
        """An event the page sends outside the queue (queue=False)."""
        r = self.http.post(self.url + "gradio_api/run/predict", json=self._body(dep, data, event_data, trigger))
        r.raise_for_status()
        return r.json()

    def queued(self, dep: dict, calls: list[tuple[list, dict | None]], trigger=None) -> list[dict]:
        """Queue every call, then read the session's event stream until each has completed; their outputs."""
        ids = []
        for data, event_data in calls:
            r = self.http.post(self.url + "gradio_api/queue/join", json=self._body(dep, data, event_data, trigger))
            r.raise_for_status()
            ids.append(r.json()["event_id"])
        done: dict[str, dict] = {}
        while len(done) < len(ids):
            with self.http.stream("GET", self.url + f"gradio_api/queue/data?session_hash={self.session}") as stream:
                for line in stream.iter_lines():
                    if not line.startswith("data:"):
                        continue
                    msg = json.loads(line[5:])
                    if msg.get("msg") == "process_completed" and msg.get("event_id") in ids:
                        assert msg.get("success"), msg
                        done[msg["event_id"]] = msg["output"]
                    if len(done) == len(ids):
                        break
        return [done[i] for i in ids]

    def ask(self, question: str) -> None:
        start = self._dep("question", "submit")
        self.run(start, [question, None], trigger="question")
        self.queued(self._then(start), [([None], None)])

    def rate(self, ratings: list[tuple[str, str]], turn: int = 0) -> list[dict]:
        return self.queued(self._dep("conversation", "feedback"),
                           [([None], {"turn": turn, "rating": r, "comment": c}) for r, c in ratings],
                           trigger="conversation")

    def not_covered(self, times: int, turn: int = 0) -> None:
        self.queued(self._dep("conversation", "notcovered"), [([None], {"turn": turn})] * times,
                    trigger="conversation")


# ---- a real Chroma server (``chroma run``, from the installed chromadb package) ----------------------
CHROMA = shutil.which("chroma", path=str(Path(sys.executable).parent)) or shutil.which("chroma")


def start_chroma(data: Path, port: int, timeout: float = 60) -> subprocess.Popen:
    """``chroma run`` on 127.0.0.1:``port``, its data in ``data/db`` (the same folder again after a restart),
    its log appended to ``data/server.log``, telemetry off; returns once it answers a heartbeat."""
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False", "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"}
    with (data / "server.log").open("a") as log:
        proc = subprocess.Popen([CHROMA, "run", "--path", str(data / "db"), "--host", "127.0.0.1", "--port", str(port)],
                                stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}/api/v2/heartbeat"
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return proc
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(f"chroma run did not start:\n{(data / 'server.log').read_text()[-2000:]}") from None
            time.sleep(0.2)


def stop_chroma(proc: subprocess.Popen) -> None:
    """Stop the server (continued first, in case a test left it stopped with SIGSTOP)."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGCONT)
        proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# ---- network peers of a process, from /proc (sees native code too) -------------------------------
def remote_peers(pid: int) -> set[str]:
    """Remote addresses of the process's TCP sockets right now, from /proc (native code included)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = fd.readlink().as_posix()
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    peers = set()
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            cols = line.split()
            if cols[9] in inodes:
                ip_hex = cols[2].split(":")[0]
                peers.add(ip_hex)
    return peers


def is_local_hex(ip_hex: str) -> bool:
    if len(ip_hex) == 8:  # IPv4, little-endian
        return ip_hex.endswith("7F") or ip_hex == "00000000"
    return ip_hex in ("00000000000000000000000000000000", "00000000000000000000000001000000") or \
        ip_hex.startswith("0000000000000000FFFF0000") and ip_hex.endswith("7F")
