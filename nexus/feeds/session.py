"""What a connection attempt needs before it can open, for venues that hand out a WebSocket
address or a token over REST first (KuCoin's `bullet-public`, Tradovate's and FXCM's access
tokens): `FeedSpec.prepare` returns a `Session`, and `rest_call` is the REST request it makes.

`prepare(ws_url, rest_url, venue_symbol)` runs before every connection attempt (tokens expire;
a reconnect asks again). Its failure counts as a failed attempt: logged, then the usual
backoff. `ws_url` is the spec's or the `--endpoint`/`--sim` override, so a simulator serving
the token endpoint works unchanged.
"""

from __future__ import annotations

import asyncio
import urllib.request
from dataclasses import dataclass
from typing import Awaitable, Callable

from nexus.venues.registry import Heartbeat

REST_TIMEOUT_S = 10


@dataclass(frozen=True)
class Session:
    """One connection attempt: the address to open, and (None: the spec's) the messages to
    send on open and the keep-alive to use.

    `metadata`: instrument listing bodies fetched by the token flow (Tradovate's contract/find
    and product/find need the token), loaded into the decoder with `load_metadata` before
    the connection opens. `open_frame`: hold the subscribe messages until the server sends
    a message equal to this (Tradovate's SockJS-style "o"); that message still reaches the
    decoder.

    `on_open`: see below."""

    url: str
    subscribe: list[bytes] | None = None
    heartbeat: Heartbeat | None = None
    metadata: tuple[bytes, ...] = ()
    open_frame: bytes | None = None
    # Run with the connection's first message (FXCM's socket.io open packet, which holds the
    # socket id its REST subscribe needs): returns bodies (the venue's instrument listing, the
    # subscribe answer) that are then handled as messages of this connection. A failure
    # drops the connection (the next attempt starts over).
    on_open: Callable[[bytes], Awaitable[list[bytes]]] | None = None


def _call(url: str, method: str, body: bytes | None, headers: dict[str, str] | None) -> bytes:
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    with urllib.request.urlopen(req, timeout=REST_TIMEOUT_S) as r:  # noqa: S310 (venue URL)
        return r.read()


async def rest_call(url: str, method: str = "GET", body: bytes | None = None,
                    headers: dict[str, str] | None = None) -> bytes:
    """One REST request off the event loop; HTTP errors raise (urllib.error.HTTPError)."""
    return await asyncio.to_thread(_call, url, method, body, headers)
