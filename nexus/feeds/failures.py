"""Why a venue connection failed, in the words an operator acts on.

`describe(exc, url)` names the class of failure first (connection refused, DNS, TLS, HTTP status
of a refused WebSocket upgrade, timeout, network) and then the detail, e.g.
"connection refused by 127.0.0.1:1" or "HTTP 403 Forbidden: the server refused the WebSocket
upgrade". `nexus run` shows it per venue (`error`, with `attempts`), and says it when no venue
became LIVE.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import urllib.error
from urllib.parse import urlsplit

from picows import WSHandshakeError


class PrepareError(Exception):
    """A REST call made before a connection (the venue's instrument listing) failed; its text
    names the call and the cause."""

    @classmethod
    def of(cls, what: str, url: str, exc: BaseException) -> "PrepareError":
        cause = exc.reason if isinstance(exc, urllib.error.URLError) and isinstance(exc.reason, BaseException) else exc
        return cls(f"{what} {url}: {describe(cause, url)}")


def describe(exc: BaseException, url: str) -> str:
    if isinstance(exc, PrepareError):
        return str(exc)
    parts = urlsplit(url)
    host = parts.hostname or url
    where = f"{host}:{parts.port}" if parts.port else host
    if isinstance(exc, WSHandshakeError):
        resp = exc.response
        if resp is not None and resp.status is not None:
            return f"HTTP {int(resp.status)} {resp.status.phrase}: the server refused the WebSocket upgrade"
        return f"WebSocket handshake failed: {exc}"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"TLS: the certificate of {host} is not trusted: {exc.verify_message or exc.reason}"
    if isinstance(exc, ssl.SSLError):
        return f"TLS: handshake with {where} failed: {exc.reason or exc}"
    if isinstance(exc, socket.gaierror):
        return f"DNS: cannot resolve {host}: {exc.strerror or exc}"
    if isinstance(exc, ConnectionRefusedError):
        return f"connection refused by {where}"
    if isinstance(exc, (TimeoutError, asyncio.TimeoutError)):
        return f"timed out connecting to {where}"
    if isinstance(exc, OSError):
        return f"network: {where}: {exc.strerror or exc}"
    return f"{type(exc).__name__}: {exc}"


def reasons(venues: dict[str, tuple[str | None, int]]) -> str:
    """One line for venue -> (last error, attempts): "okx-swap: connection refused by
    127.0.0.1:1 (5 attempts); kraken: …"."""
    out = []
    for venue, (error, attempts) in venues.items():
        plural = "" if attempts == 1 else "s"
        out.append(f"{venue}: {error or 'connected, but not LIVE'} ({attempts} attempt{plural})")
    return "; ".join(out)
