"""The web app's temporary files: one folder the app owns, and limits on Gradio's upload route.

Gradio's ``/upload`` route takes files from any client before any event runs (the admin's password is
checked only when "Add to library" is pressed), and by default keeps them in the shared system temp
folder for ever. So:

* every Gradio temp file goes to ``Settings.temp_dir`` (default ``<data_dir>/tmp``): created owner-only
  (0700), emptied when the app starts (a killed app's leftovers go too), and swept by age
  (``temp_max_age``) by a background thread;
* ``UploadGuard`` (ASGI middleware in front of Gradio) refuses an upload, in one plain line, when no
  admin password is set (nobody could use it), when it is larger than ``max_upload_bytes`` (checked
  from Content-Length before a byte is stored; Gradio's ``max_file_size`` checks each file again while
  streaming), when the uploads waiting already fill ``upload_space_bytes`` / ``upload_space_files``, or
  when the disk has no room for it; a write that still fails (the disk filled meanwhile) is answered
  507 with the same line instead of a 500 traceback.

An upload reaches "Add to library" only as a path inside Gradio's upload folder (``uploaded_path``: never
a link, a URL or another server file), and is deleted once read or refused (``discard``).

Answers never need this folder (exports are made in memory, ``web_export.py``), so a full temp disk
costs uploads only.
"""
from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from ..config import Settings
from ..errors import InputError

log = logging.getLogger("assistant.ui")

SLACK_BYTES = 64 * 1024  # multipart headers and boundaries around one file
SPACE_FULL = "The server has no room for more uploads just now; try again later (waiting uploads are deleted within the hour)."


def temp_dir(settings: Settings) -> Path:
    """The folder the app owns. A shared folder given by mistake (world-writable, as /tmp is) is never
    emptied: the app uses a folder of its own inside it instead."""
    folder = Path(settings.temp_dir or settings.data_dir / "tmp")
    try:
        shared = bool(folder.stat().st_mode & 0o002)
    except OSError:
        shared = False
    return folder / f"wellbeing-assistant-{os.getuid()}" if shared else folder


def prepare(settings: Settings) -> Path:
    """Make the app's temp folder (owner-only), empty it, and point Gradio at it (GRADIO_TEMP_DIR is
    read when the Blocks and the server are made, so call this first). A folder that cannot be made
    (read-only data folder) falls back to a fresh private folder in the system temp folder."""
    folder = temp_dir(settings)
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(folder, 0o700)
        sweep(folder, max_age=0)
    except OSError as exc:
        try:
            fallback = Path(tempfile.mkdtemp(prefix="assistant-web-"))
        except OSError:  # no room anywhere: answers need no temp files; uploads are refused (UploadGuard)
            log.warning("temp folder %s cannot be used (%s); uploads are off", folder, exc.strerror or exc)
        else:
            log.warning("temp folder %s cannot be used (%s); using %s", folder, exc.strerror or exc, fallback)
            folder = fallback
    os.environ["GRADIO_TEMP_DIR"] = str(folder)
    return folder


def sweep(folder: Path, max_age: float) -> int:
    """Delete every file under ``folder`` last written more than ``max_age`` seconds ago, then the
    folders left empty. Returns the number of files deleted."""
    cutoff, removed = time.time() - max_age, 0
    for root, dirs, files in os.walk(folder, topdown=False):
        for name in files:
            path = os.path.join(root, name)
            try:
                if os.lstat(path).st_mtime <= cutoff:
                    os.unlink(path)
                    removed += 1
            except FileNotFoundError:
                continue
        for name in dirs:
            with_path = os.path.join(root, name)
            try:
                if not os.listdir(with_path) and os.lstat(with_path).st_mtime <= cutoff:
                    os.rmdir(with_path)
            except OSError:
                continue
    return removed


def start_sweeper(folder: Path, max_age: float) -> threading.Thread:
    """Sweep ``folder`` every tenth of ``max_age`` (at least every 10 s, at most every 10 min)."""
    every = min(max(max_age / 10, 10.0), 600.0)

    def run():
        while True:
            time.sleep(every)
            try:
                sweep(folder, max_age)
            except Exception:  # never let cleaning take the app down
                log.exception("cleaning the temp folder failed")
    thread = threading.Thread(target=run, name="assistant-temp-sweeper", daemon=True)
    thread.start()
    return thread


def usage(folder: Path) -> tuple[int, int]:
    """(files, bytes) under ``folder``."""
    files = size = 0
    for root, _, names in os.walk(folder):
        for name in names:
            try:
                size += os.lstat(os.path.join(root, name)).st_size
                files += 1
            except FileNotFoundError:
                continue
    return files, size


def uploaded_path(file: Any) -> Path:
    """The server path of a file that was uploaded through this app, from the raw FileData the
    browser or gradio_client sends. A link, or a path outside Gradio's upload folder (``/etc/...``,
    ``../``), is refused: the app never fetches URLs and never reads server files for a client."""
    raw = file.get("path") if isinstance(file, dict) else getattr(file, "path", None) or file
    if not isinstance(raw, str) or not raw:
        raise InputError("The upload could not be read; choose the file again.")
    if re.match(r"^[a-z][a-z0-9+.-]*://", raw, re.I):
        raise InputError("Documents must be uploaded from your computer; links are not fetched.")
    from gradio.utils import get_upload_folder

    path = Path(raw).resolve()
    if Path(get_upload_folder()).resolve() not in path.parents:
        raise InputError("That file was not uploaded through this app; upload it from your computer.")
    return path


def discard(paths: list[Path]) -> None:
    """Uploads that have been read (copied into the corpus) or refused: they no longer wait in the app's
    temp folder, counting against its upload caps."""
    for path in paths:
        path.unlink(missing_ok=True)
        try:
            path.parent.rmdir()
        except OSError:
            pass


class UploadGuard:
    """ASGI middleware: the limits above on every POST to Gradio's upload route."""

    def __init__(self, app, settings: Settings, folder: Path):
        self.app, self.settings, self.folder = app, settings, folder
        self.admin_on = bool(settings.admin_password and settings.admin_password.get_secret_value())

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "POST" or not scope["path"].rstrip("/").endswith("/upload"):
            return await self.app(scope, receive, send)
        refusal = self.refusal(dict(scope.get("headers") or []))
        if refusal:
            if refusal[0] in (403, 507):  # read (and drop) a body of allowed size, so the client gets to read the reply
                await _drain(receive, self.settings.max_upload_bytes + SLACK_BYTES)
            return await _reply(send, *refusal)
        started = False

        async def tracking_send(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)
        try:
            await self.app(scope, receive, tracking_send)
        except OSError as exc:  # the disk filled while the file was being written
            log.warning("an upload could not be stored: %s", exc.strerror or exc)
            if started:
                raise
            await _reply(send, 507, SPACE_FULL)

    def refusal(self, headers: dict[bytes, bytes]) -> tuple[int, str] | None:
        s = self.settings
        if not self.admin_on:
            return 403, "Uploading is switched off on this server (no admin password is set)."
        try:
            length = int(headers.get(b"content-length", b""))
        except ValueError:
            return 411, "An upload must state its size (Content-Length)."
        if length > s.max_upload_bytes + SLACK_BYTES:
            return 413, f"That file is too large: the limit is {s.max_upload_bytes / 1024 / 1024:.0f} MB."
        files, size = usage(self.folder)
        if files >= s.upload_space_files or size + length > s.upload_space_bytes:
            return 507, SPACE_FULL
        try:
            free = shutil.disk_usage(self.folder).free
        except OSError:
            free = 0
        if free < length + SLACK_BYTES:
            return 507, SPACE_FULL
        return None


def middleware(settings: Settings, folder: Path):
    """``UploadGuard`` as FastAPI's ``middleware=`` entry (Blocks.launch(app_kwargs=...))."""
    from starlette.middleware import Middleware

    return Middleware(UploadGuard, settings=settings, folder=folder)


async def _drain(receive, limit: int) -> None:
    seen = 0
    while seen <= limit:
        message = await receive()
        seen += len(message.get("body", b""))
        if message["type"] != "http.request" or not message.get("more_body"):
            return


async def _reply(send, status: int, message: str) -> None:
    body = message.encode()  # plain text, as Gradio's own upload errors: its page shows "HTTP 507: <message>"
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
