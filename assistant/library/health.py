"""The live embedded index kept answerable: damage found before it can hurt, rebuilds built aside.

Why: 40 random bytes written over ``index/chroma.sqlite3`` showed every way a damaged Chroma store
fails: a sqlite error (the one that used to be caught), a raw Rust error, an ``AttributeError``, a
SIGABRT that takes the whole interpreter down, and, most often, nothing at all: vectors in Chroma's
log silently turned to noise, so every question was refused. So, before a process opens the store,
``probe`` reads it in a child process (an abort there cannot take the service down) and checks what
the index promises: sqlite's own ``quick_check``; every stored vector finite and of unit length (the
indexer stores unit vectors only); every live document complete; every sentence and passage the
verbatim slice of its document's text it claims to be. A store that fails is moved aside and rebuilt
from ``corpus/`` (``Assistant.store``), and the person is told in one line.

``rebuild_aside`` builds ``index --rebuild`` in a sibling folder and swaps it in only when complete,
so a rebuild that is killed leaves the last good index live; ``recover_swap`` finishes or undoes a
swap cut short between its two renames. ``readable_copy`` serves a read-only index (Chroma writes even
to read) from a private copy. ``missing`` names the manifest's documents that the index lacks.
"""
from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, TypeVar

from ..config import Settings
from ..errors import StoreError
from .store import release_client

log = logging.getLogger(__name__)
T = TypeVar("T")
DB = "chroma.sqlite3"
DAMAGED = 3  # index_check.py's exit status for "damaged"; 0 is sound; anything else is not a verdict
PROBE_SECONDS = 180


# ---- the probe -------------------------------------------------------------------------------------
def probe(settings: Settings) -> str | None:
    """None when the embedded index is sound (or absent, or a Chroma server); else why it is damaged.

    Runs ``index_check.py`` in a new interpreter on the index; a child that aborts or is killed by a
    signal (a Rust panic, SIGABRT, SIGSEGV) has read a damaged store. A child that fails otherwise
    (no memory, a timeout) gives no verdict: the store is then opened as before and reports itself."""
    if settings.chroma_host or not (settings.index_dir / DB).is_file():
        return None
    # -I: the child imports chromadb and numpy only, never this package (whose start-up it need not pay)
    command = [sys.executable, "-I", str(Path(__file__).with_name("index_check.py")), str(settings.index_dir),
               settings.collection_prefix]
    try:
        child_process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    except OSError as exc:
        log.warning("could not check the index before opening it (%s)", exc)
        return None
    try:
        import chromadb  # noqa: F401  (this process needs it next: imported while the child reads the index)
    except ImportError:
        pass
    try:
        out, err = child_process.communicate(timeout=PROBE_SECONDS)
    except subprocess.TimeoutExpired:
        child_process.kill()
        child_process.communicate()
        log.warning("the index check took over %s s; opening the index unchecked", PROBE_SECONDS)
        return None
    done = subprocess.CompletedProcess(command, child_process.returncode, out, err)
    if done.returncode < 0:
        return f"reading it stopped the reader with {signal.Signals(-done.returncode).name}"
    if done.returncode == DAMAGED:
        return " ".join(done.stdout.replace("\\n", " ").split())[:160] or "damaged"
    if done.returncode != 0:
        log.warning("the index check gave no verdict (exit %s): %s", done.returncode, done.stderr[-500:])
    return None


# ---- setting a damaged index aside -----------------------------------------------------------------
def set_aside(settings: Settings, exc: BaseException | str) -> str:
    """Move the damaged embedded index aside (the next step rebuilds it from the corpus); the notice
    to give the person. A Chroma server's data, or a read-only index, is never touched."""
    s = settings
    reason = exc if isinstance(exc, str) else str(exc).split(": ", 1)[-1] if isinstance(exc, StoreError) \
        else f"{exc.__class__.__name__}: {exc}"
    if s.chroma_host or s.read_only or not writable(s.index_dir.parent) or not writable(s.index_dir):
        raise StoreError(f"The index is damaged ({reason}). Rebuild it with `assistant index --rebuild` "
                         "where the library is managed.")
    release_client(s)
    aside = s.index_dir.with_name(f"{s.index_dir.name}.broken-{time.strftime('%Y%m%d-%H%M%S')}")
    while aside.exists():  # set aside twice within a second
        aside = aside.with_name(aside.name + "-")
    try:
        s.index_dir.rename(aside)
    except OSError as err:
        raise StoreError(f"The index at {s.index_dir} is damaged ({reason}) and could not be moved aside "
                         f"({err.strerror}). Move or delete that folder, then run `assistant index`; "
                         "the documents in the corpus are safe.") from None
    notice = (f"The index at {s.index_dir} could not be read ({reason}); it was moved to {aside} and is "
              f"rebuilt from the corpus ({s.corpus_dir}), which is unchanged.")
    log.warning(notice)
    return notice


# ---- rebuilding aside ------------------------------------------------------------------------------
def _building(settings: Settings) -> Path:
    return settings.index_dir.with_name(f"{settings.index_dir.name}.rebuilding")


def _previous(settings: Settings) -> Path:
    return settings.index_dir.with_name(f"{settings.index_dir.name}.previous")


COMPLETE = ".complete"


def rebuild_aside(settings: Settings, build: Callable[[Settings], T]) -> T:
    """``build`` a whole index in a sibling folder; when it returns, swap it in for the live one.

    Until the swap, questions (this process's and others') read the live index; a rebuild killed
    part-way leaves only a half-built sibling, removed by the next run."""
    new = _building(settings)
    shutil.rmtree(new, ignore_errors=True)
    aside = settings.model_copy(update={"index_dir": new})
    try:
        result = build(aside)
    finally:
        release_client(aside)
    (new / COMPLETE).touch()
    _swap(settings)
    return result


def _swap(settings: Settings) -> None:
    live, new, old = settings.index_dir, _building(settings), _previous(settings)
    shutil.rmtree(old, ignore_errors=True)
    release_client(settings)
    if live.exists():
        live.rename(old)
    new.rename(live)
    (live / COMPLETE).unlink(missing_ok=True)
    shutil.rmtree(old, ignore_errors=True)


def recover_swap(settings: Settings, writer: bool = False) -> None:
    """Finish a swap cut short between its renames (the new index was complete), or drop what a killed
    rebuild left; the live index is never the thing removed. Only with the library lock: ``writer``
    (this process holds it), or taken here without waiting (if a writer runs, its folders are its own)."""
    s = settings
    if s.chroma_host or not writable(s.index_dir.parent) or not (_building(s).exists() or _previous(s).exists()):
        return
    new, old = _building(s), _previous(s)
    try:
        held = None if writer else _no_writer(s.corpus_dir)
    except OSError:
        return
    if held is None and not writer:  # a writer is running
        return
    try:
        if (new / COMPLETE).exists() and not s.index_dir.exists():
            new.rename(s.index_dir)
            (s.index_dir / COMPLETE).unlink(missing_ok=True)
        elif old.exists() and not s.index_dir.exists():
            old.rename(s.index_dir)
        if new.exists() and not (new / COMPLETE).exists():
            shutil.rmtree(new, ignore_errors=True)
        if s.index_dir.exists():
            shutil.rmtree(old, ignore_errors=True)
    except OSError:
        log.warning("could not tidy an interrupted rebuild beside %s", s.index_dir, exc_info=True)
    finally:
        if held is not None:
            os.close(held)


def _no_writer(corpus_dir: Path) -> int | None:
    """The corpus folder's library lock (``corpus_lock``) taken without waiting, or None when a writer
    holds it; the caller closes the descriptor to release it."""
    import fcntl

    fd = os.open(corpus_dir, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def forget_client(settings: Settings) -> None:
    """Drop chromadb's cached client of the index path without stopping it: a Kit still serving
    questions may hold it, and the next open gets the folder now at that path."""
    from chromadb.api.shared_system_client import SharedSystemClient as Shared

    for key in {str(settings.index_dir), str(Path(settings.index_dir).resolve())}:
        Shared._identifier_to_system.pop(key, None)
        Shared._identifier_to_refcount.pop(key, None)


def identity(settings: Settings) -> tuple:
    """Which index folder is live (changes when another process swaps a rebuild in)."""
    try:
        st = (settings.index_dir / DB).stat()
        return st.st_dev, st.st_ino
    except OSError:
        return ()


# ---- a read-only index -----------------------------------------------------------------------------
def writable(folder: Path) -> bool:
    """False on a read-only disk (or folder); a folder not made yet counts as writable."""
    folder = Path(folder)
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return os.access(folder, os.W_OK)


def readable_copy(settings: Settings) -> Settings:
    """Settings that read a read-only embedded index: Chroma writes to its sqlite file even to read
    (a migration check, its log), so a read-only index is served from a private copy in the temp
    folder (owner-only, removed at exit). Writers refuse (``LibraryManager.check_writable``)."""
    s = settings
    if s.chroma_host or not (s.index_dir / DB).is_file() or writable(s.index_dir) and os.access(s.index_dir / DB, os.W_OK):
        return s
    import atexit

    tmp = Path(tempfile.mkdtemp(prefix="assistant-index-"))
    atexit.register(shutil.rmtree, tmp, True)
    copy = tmp / "index"
    shutil.copytree(s.index_dir, copy)
    log.info("the index at %s is read-only; serving it from a private copy", s.index_dir)
    return s.model_copy(update={"index_dir": copy})


def read_only_folder(settings: Settings) -> str | None:
    """What a writer says when the library's folders cannot be written (a read-only disk), or None."""
    folders = [settings.corpus_dir] + ([] if settings.chroma_host else [settings.index_dir])
    for folder in folders:
        if not writable(folder):
            return (f"The folder {folder} is read-only, so documents cannot be added, removed or indexed here; "
                    "questions are still answered from the index as it is.")
    return None


def drop_staging(corpus_dir: Path) -> None:
    """Remove the hidden ``.staging-*`` copies an ``add`` killed before its manifest was saved left in
    the corpus (called by a writer holding the library lock, so no other add is using them)."""
    for staged in Path(corpus_dir).glob(".staging-*"):
        try:
            staged.unlink()
        except OSError:
            log.warning("could not remove %s", staged)


# ---- documents in the manifest that the index lacks ------------------------------------------------
_titles: dict[Path, tuple[tuple, dict[str, str]]] = {}


def missing(corpus_dir: Path, live: set[str]) -> list[tuple[str, str]]:
    """(id, title) of each document in sources.toml that is not in ``live`` (the live index's ids).
    The manifest is read again only when it changes; one that cannot be read names nothing here (the
    indexer reports it)."""
    from .sources import Manifest

    path = Path(corpus_dir) / "sources.toml"
    try:
        st = path.stat()
        stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
    except OSError:
        return []
    cached = _titles.get(path)
    if cached is None or cached[0] != stamp:
        if _all_live(path, live):  # the usual case, without parsing every entry with tomlkit (issue 33:
            return []  # at 100× documents that was a second of every cold start)
        try:
            titles = {i: e.title for i, e in Manifest(Path(corpus_dir)).entries().items()}
        except Exception:  # a damaged manifest: `assistant index` says what is wrong with it
            titles = {}
        _titles[path] = cached = (stamp, titles)
    return [(i, t) for i, t in cached[1].items() if i not in live]
def _all_live(path: Path, live: set[str]) -> bool:
    """True when every key of the manifest is a live document: read with the standard library's tomllib
    (fast), no entry checked. False when it cannot tell (then the manifest is read as before)."""
    import tomllib

    try:
        st = path.stat()
        stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        if _keys.get(path, (None,))[0] != stamp:
            _keys[path] = (stamp, frozenset(tomllib.loads(path.read_text("utf-8"))))
        return _keys[path][1] <= live
    except (OSError, ValueError):
        return False


_keys: dict[Path, tuple[tuple, frozenset]] = {}  # the manifest's keys, read again when it changes


def missing_note(missing: list[tuple[str, str]]) -> str | None:
    """One line naming the manifest's documents that are not in the live index, or None."""
    if not missing:
        return None
    names = "; ".join(f"“{title}” ({doc_id})" for doc_id, title in missing)
    n = len(missing)
    return (f"{n} document{'s' if n != 1 else ''} in sources.toml {'are' if n != 1 else 'is'} not in the index "
            f"yet, so no answer can quote {'them' if n != 1 else 'it'}: {names}. Run `assistant index` to add "
            f"{'them' if n != 1 else 'it'}.")
