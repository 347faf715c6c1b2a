"""One writer at a time for the library (corpus files and ``sources.toml``), across processes.

``add`` reads the manifest, copies files in, rewrites the manifest and indexes; two processes doing
that at once each wrote back the manifest they had read, so the first one's entry was lost. The
whole read-modify-write (and its rollback) therefore runs under an OS lock that every ``add``,
``remove`` and ``index`` takes, whichever process (CLI, app) runs it; the second writer waits.

The lock is ``flock`` on the corpus folder itself, not on a lock file: the manifest is replaced
atomically (a new inode each time), and a lock file in the corpus would be one more file in the
library that a refused action had created. Questions never take this lock. ``flock`` locks belong to
an open file description, so two threads (or two ``Assistant`` objects) of one process exclude each
other too; the same thread may re-enter (``add`` runs ``index`` inside it).
"""
from __future__ import annotations

import fcntl
import os
import threading
from pathlib import Path


class CorpusLock:
    """Re-entrant exclusive lock on a corpus folder, shared by threads and processes."""

    def __init__(self, corpus_dir: Path):
        self.corpus_dir = Path(corpus_dir)
        self._thread_lock = threading.RLock()
        self._depth = 0
        self._fd: int | None = None

    def __enter__(self) -> "CorpusLock":
        self._thread_lock.acquire()
        try:
            if self._depth == 0:
                self._fd = _lock_folder(self.corpus_dir)
            self._depth += 1
        except BaseException:
            self._thread_lock.release()
            raise
        return self

    def __exit__(self, *exc) -> None:
        try:
            self._depth -= 1
            if self._depth == 0 and self._fd is not None:
                fd, self._fd = self._fd, None
                os.close(fd)  # closing the last descriptor releases the flock
        finally:
            self._thread_lock.release()


def _lock_folder(folder: Path) -> int | None:
    """Block until this process holds the folder's lock; None when there is no folder yet (nothing
    to protect: ``add`` creates it, then locks)."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0))
    except (FileNotFoundError, NotADirectoryError):
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
    except BaseException:
        os.close(fd)
        raise
    return fd
