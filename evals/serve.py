"""Run the real app (``python app.py``) in a subprocess on a given library, for the load test and the
tests: ``with running_app(base) as app: Client(app["url"])``."""
from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def app_env(base: Path, **extra: str) -> dict[str, str]:
    """Environment for the app (or the CLI) on the library under ``base``: corpus/, index/, data/."""
    env = {**os.environ, "ASSISTANT_CORPUS_DIR": str(base / "corpus"), "ASSISTANT_INDEX_DIR": str(base / "index"),
           "ASSISTANT_DATA_DIR": str(base / "data"), "ASSISTANT_HOST": "127.0.0.1",
           "GRADIO_ANALYTICS_ENABLED": "False", "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost",
           **extra}
    env.pop("ASSISTANT_DEBUG", None)
    return env


@contextlib.contextmanager
def running_app(base: Path, timeout: float = 240, command: list[str] | None = None, **extra: str):
    """Start the app on the library under ``base`` and wait until it serves its page; yields
    {"url", "proc", "log", "port"}; stops it afterwards. ``extra``: more environment variables."""
    port = free_port()
    env = app_env(base, ASSISTANT_PORT=str(port), **extra)
    log = Path(base) / f"app-{port}.log"
    with log.open("w") as out:
        proc = subprocess.Popen(command or [sys.executable, str(ROOT / "app.py")], cwd=ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"app exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(url, timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"app did not answer within {timeout} s:\n{log.read_text()[-3000:]}") from None
                time.sleep(0.3)
        yield {"url": url, "proc": proc, "log": log, "port": port}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=20)
