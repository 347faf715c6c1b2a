"""Run a Python program with every network call it tries recorded (PEP 578 audit hook), for
``test_security``: ``python tests/netaudit.py LOG -m assistant index`` or ``... LOG app.py``.

Each attempt to resolve a name or to connect/send to an address is appended to LOG as one JSON line
{"event", "host", "local"}; nothing is blocked here (the app's own guard may block it afterwards, but
the attempt is recorded first, since this hook is installed before anything else runs).
"""
from __future__ import annotations

import json
import runpy
import socket
import sys
import threading

LOG = sys.argv[1]
_lock = threading.Lock()
_LOCAL = ("127.", "::1", "0.0.0.0", "::", "localhost", "::ffff:127.")


def _host(event: str, args: tuple):
    if event.startswith("socket.geth") or event == "socket.getaddrinfo":
        return args[0] if args else None
    sock, address = args[0], (args[1] if len(args) > 1 else None)
    if getattr(sock, "family", None) == getattr(socket, "AF_UNIX", object()):
        return None
    return address[0] if isinstance(address, tuple) and address else address


def hook(event: str, args: tuple) -> None:
    if event not in ("socket.connect", "socket.sendto", "socket.sendmsg", "socket.getaddrinfo",
                     "socket.gethostbyname", "socket.gethostbyname_ex", "socket.gethostbyaddr"):
        return
    host = _host(event, args)
    if host is None:
        return
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    host = str(host)
    local = host == "" or host.lower().startswith(_LOCAL)
    with _lock, open(LOG, "a") as f:
        f.write(json.dumps({"event": event, "host": host, "local": local}) + "\n")


sys.addaudithook(hook)
rest = sys.argv[2:]
if rest[0] == "-m":
    sys.argv = [rest[1], *rest[2:]]
    runpy.run_module(rest[1], run_name="__main__", alter_sys=True)
elif rest[0] == "-c":
    sys.argv = ["-c", *rest[2:]]
    exec(compile(rest[1], "<netaudit -c>", "exec"), {"__name__": "__main__"})
else:
    sys.argv = rest
    sys.path.insert(0, str(__import__("pathlib").Path(rest[0]).resolve().parent))
    runpy.run_path(rest[0], run_name="__main__")
