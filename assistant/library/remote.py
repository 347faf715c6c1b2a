"""A Chroma server reached over HTTP, with every wait bounded and every outage said plainly.

chromadb's ``HttpClient`` makes its httpx session with ``timeout=None`` (chromadb 1.5,
``chromadb/api/fastapi.py``) and offers no setting for it, so a server that is frozen (stopped,
swapping, a hung disk or VM) held a question for as long as it stayed frozen, and a server that was
gone surfaced as a bare ``httpx.ConnectError``. Here the server must answer a heartbeat within
``ASSISTANT_CHROMA_TIMEOUT`` before a client is made, the client's session gets that timeout, and a
transport error from any collection call becomes one ``StoreError`` that names the index server and
its address. Answers resume as soon as the server is back: every call tries again (a dead keep-alive
connection is replaced by httpx).

Questions that arrive while another has just waited out the timeout (the UI answers several at once,
and the service checks the catalog under one lock) would each wait the full timeout in turn; for
``chroma_timeout`` seconds after a timeout, a call first asks for a heartbeat with a short timeout,
so they fail within about a second instead, and go ahead at once if the server answers.
"""
from __future__ import annotations

import functools
import logging
import threading
import time
from typing import Any

import httpx

from ..config import Settings
from ..errors import StoreError

log = logging.getLogger(__name__)
PROBE_SECONDS = 1.0  # a heartbeat does no work on the server: a live one answers well within this
_timed_out_at: dict[str, float] = {}  # server address -> when a request to it last timed out (monotonic)
_timed_out_lock = threading.Lock()


def server_url(settings: Settings) -> str:
    """The server's address as a person would type it (``CHROMA_HOST`` may already be a URL)."""
    host = settings.chroma_host or ""
    return host.rstrip("/") if host.startswith(("http://", "https://")) else f"http://{host}:{settings.chroma_port}"


def timeout(settings: Settings) -> httpx.Timeout:
    """The longest wait for connecting to, writing to or hearing from the server (each, per request)."""
    return httpx.Timeout(settings.chroma_timeout)


def is_unreachable(exc: BaseException) -> bool:
    """The server did not answer (refused, reset, timed out): a network fault, not a bad index."""
    return isinstance(exc, httpx.TransportError)


def reason(exc: BaseException, settings: Settings) -> str:
    """Why the server could not be used, in a few plain words that name it."""
    where = f"the index server (Chroma at {server_url(settings)})"
    if isinstance(exc, httpx.TimeoutException):
        return (f"{where} did not answer within {settings.chroma_timeout:g} s (ASSISTANT_CHROMA_TIMEOUT); "
                "it may be stopped or overloaded")
    if isinstance(exc, httpx.ConnectError):
        return f"{where} cannot be reached (is it running? CHROMA_HOST/CHROMA_PORT say where it is)"
    return f"{where} dropped the connection ({exc.__class__.__name__})"


def unreachable(exc: BaseException, settings: Settings) -> StoreError:
    """The one-line error a person sees; the question can simply be asked again once the server is back."""
    log.warning("Chroma server %s: %s: %s", server_url(settings), exc.__class__.__name__, exc)
    text = reason(exc, settings)
    return StoreError(f"{text[0].upper()}{text[1:]}. Nothing was lost; try again once it is back.")


def open_client(settings: Settings, chroma_settings: Any) -> "Guarded":
    """An ``HttpClient`` whose every request is bounded by ``ASSISTANT_CHROMA_TIMEOUT`` (and reported by
    ``Guarded``)."""
    import chromadb

    _probe_if_recently_down(settings)
    try:  # the client's constructor itself makes unbounded requests: check the server answers first
        httpx.get(f"{server_url(settings)}/api/v2/heartbeat", timeout=timeout(settings)).raise_for_status()
    except httpx.TransportError as exc:
        if isinstance(exc, httpx.TimeoutException):
            _note_timeout(settings)
        raise unreachable(exc, settings) from None
    except httpx.HTTPStatusError as exc:  # something else listens there (chromadb's own error is blank)
        raise StoreError(f"The index server address {server_url(settings)} answered a Chroma heartbeat with HTTP "
                         f"{exc.response.status_code}: is a Chroma server there (CHROMA_HOST/CHROMA_PORT)?") from None
    client = chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings)
    session = getattr(getattr(client, "_server", None), "_session", None)
    if isinstance(session, httpx.Client):
        session.timeout = timeout(settings)
    else:  # a chromadb release that no longer keeps its session there: say so rather than hang silently
        log.warning("could not set the Chroma client's timeout (chromadb changed); requests may wait unbounded")
    return Guarded(client, settings)


def _probe_if_recently_down(settings: Settings) -> None:
    """Raise at once if the server timed out lately and still does not answer a heartbeat."""
    url = server_url(settings)
    with _timed_out_lock:
        at = _timed_out_at.get(url)
    if at is None or time.monotonic() - at > settings.chroma_timeout:
        return
    try:
        httpx.get(f"{url}/api/v2/heartbeat", timeout=min(PROBE_SECONDS, settings.chroma_timeout)).raise_for_status()
    except httpx.TransportError as exc:
        raise unreachable(exc, settings) from None
    except httpx.HTTPStatusError:
        pass  # it answers: let the real call say what is wrong
    with _timed_out_lock:
        _timed_out_at.pop(url, None)


def _note_timeout(settings: Settings) -> None:
    with _timed_out_lock:
        _timed_out_at[server_url(settings)] = time.monotonic()


class Guarded:
    """A Chroma client or collection whose calls raise ``StoreError`` (naming the server) instead of a transport
    error; everything else passes through unchanged."""

    def __init__(self, target: Any, settings: Settings):
        self._target = target
        self._settings = settings

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._target, name)
        if not callable(attr):
            return attr

        @functools.wraps(attr)
        def call(*args, **kwargs):
            _probe_if_recently_down(self._settings)
            try:
                return attr(*args, **kwargs)
            except httpx.TransportError as exc:
                if isinstance(exc, httpx.TimeoutException):
                    _note_timeout(self._settings)
                raise unreachable(exc, self._settings) from None

        return call
