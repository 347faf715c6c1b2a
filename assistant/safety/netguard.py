"""Nothing leaves the machine: refuse outbound network connections in this process.

``install()`` adds an audit hook (PEP 578) that raises ``PermissionError`` when Python code tries to
resolve a host name or connect to an address that is not this machine (loopback, or a Unix socket),
except the Chroma server named in the settings. The CLI and the UI install it at start-up, so a
library that tries to phone home (telemetry, a model hub, a URL given to the app) fails at once
instead of leaving the machine. ``ASSISTANT_ALLOW_NETWORK=1`` leaves the network alone.

It sees what goes through Python's ``socket`` module (every HTTP client we use); code in a native
extension that opens its own sockets is not covered, so the telemetry switches in ``config`` stay.
"""
from __future__ import annotations

import ipaddress
import socket
import sys
import threading

_installed = threading.Event()
_allowed: set[str] = set()
LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback", ""}


class NetworkBlocked(PermissionError):
    """An outbound connection was refused by the guard."""


def is_local(host) -> bool:
    """True for this machine: loopback names and addresses (``127.0.0.0/8``, ``::1``), any-address."""
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if host is None:
        return True
    if not isinstance(host, str):
        return False
    host = host.strip("[]").split("%")[0].lower()
    if host in LOCAL_NAMES:
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_loopback or ip.is_unspecified


def allowed(host) -> bool:
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    return is_local(host) or (isinstance(host, str) and host.strip("[]").lower() in _allowed)


def _hook(event: str, args: tuple) -> None:
    if event in ("socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex", "socket.gethostbyaddr"):
        host = args[0] if args else None
        if not allowed(host):
            raise NetworkBlocked(f"network access to {host!r} is switched off in this app (nothing leaves this "
                                 "machine; set ASSISTANT_ALLOW_NETWORK=1 to allow it)")
    elif event in ("socket.connect", "socket.sendto", "socket.sendmsg"):
        sock, address = args[0], args[1] if len(args) > 1 else None
        if getattr(sock, "family", None) == getattr(socket, "AF_UNIX", None) or address is None:
            return
        host = address[0] if isinstance(address, tuple) and address else address
        if not allowed(host):
            raise NetworkBlocked(f"connection to {host!r} refused: this app does not use the network "
                                 "(set ASSISTANT_ALLOW_NETWORK=1 to allow it)")


def install(also_allow: list[str | None] | tuple = ()) -> None:
    """Install the guard once per process; ``also_allow``: extra hosts (e.g. the Chroma server)."""
    for host in also_allow:
        if not host:
            continue
        _allowed.add(host.lower())
        try:  # resolve the allowed server's own name once, so its addresses are allowed too
            for info in socket.getaddrinfo(host, None):
                _allowed.add(str(info[4][0]).lower())
        except OSError:
            pass
    if not _installed.is_set():
        _installed.set()
        sys.addaudithook(_hook)


def install_from_settings(settings) -> bool:
    """Install unless ``settings.allow_network``; returns whether the guard is on."""
    if settings.allow_network:
        return False
    install([settings.chroma_host])
    return True
