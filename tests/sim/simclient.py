"""Test-side clients for the simulator: a plain picows WebSocket client (a different library
from the aiohttp server, so the framing is cross-checked), small HTTP helpers, and book
rebuilding written from the venues' documented sync rules — independent of nexus.sim."""

from __future__ import annotations

import asyncio
import json
import time
from decimal import Decimal

import aiohttp
from picows import WSFrame, WSListener, WSMsgType, WSTransport, ws_connect


def run(coro, timeout: float = 60):
    return asyncio.run(asyncio.wait_for(coro, timeout))


class _Listener(WSListener):
    def __init__(self) -> None:
        self.q: asyncio.Queue = asyncio.Queue()
        self.disconnected = asyncio.Event()
        self.close_frame = False
        self.pings = 0

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        if frame.msg_type == WSMsgType.TEXT:
            self.q.put_nowait((time.monotonic(), frame.get_payload_as_utf8_text()))
        elif frame.msg_type == WSMsgType.BINARY:  # MEXC's protobuf pushes: kept as bytes
            self.q.put_nowait((time.monotonic(), frame.get_payload_as_bytes()))
        elif frame.msg_type == WSMsgType.PING:
            self.pings += 1
        elif frame.msg_type == WSMsgType.CLOSE:
            self.close_frame = True

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        self.disconnected.set()
        self.q.put_nowait((time.monotonic(), None))


class Client:
    def __init__(self, transport: WSTransport, listener: _Listener) -> None:
        self.transport = transport
        self.listener = listener

    @classmethod
    async def connect(cls, url: str) -> "Client":
        transport, listener = await ws_connect(_Listener, url)
        return cls(transport, listener)

    def send(self, obj) -> None:
        text = obj if isinstance(obj, str) else json.dumps(obj)
        self.transport.send(WSMsgType.TEXT, text.encode())

    async def recv(self, timeout: float = 5.0) -> str | None:
        """Next text frame; None when the connection is gone; raises TimeoutError."""
        _, text = await asyncio.wait_for(self.listener.q.get(), timeout)
        return text

    async def recv_timed(self, timeout: float = 5.0) -> tuple[float, str | None]:
        return await asyncio.wait_for(self.listener.q.get(), timeout)

    async def json(self, timeout: float = 5.0):
        text = await self.recv(timeout)
        return None if text is None else json.loads(text)

    async def until(self, pred, timeout: float = 5.0):
        """Skip messages until pred(parsed) is true; returns that message."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no matching message")
            m = await self.json(left)
            if m is None:
                raise ConnectionError("disconnected")
            if pred(m):
                return m

    def close(self) -> None:
        self.transport.disconnect()


def _body(text: str, content_type: str):
    return json.loads(text) if content_type == "application/json" else text


async def http_get(url: str):
    async with aiohttp.ClientSession() as s:
        async with s.get(url) as r:
            return r.status, _body(await r.text(), r.content_type)


async def http_post(url: str, body):
    async with aiohttp.ClientSession() as s:
        async with s.post(url, json=body) as r:
            return r.status, _body(await r.text(), r.content_type)


# -- books rebuilt by the documented rules ---------------------------------------------------

class Book:
    """price string -> size string per side, deletes on a zero size (compared numerically)."""

    def __init__(self) -> None:
        self.bids: dict[str, str] = {}
        self.asks: dict[str, str] = {}

    def clear(self) -> None:
        self.bids.clear()
        self.asks.clear()

    def apply(self, side: str, price: str, size: str) -> None:
        book = self.bids if side == "bid" else self.asks
        if Decimal(size) == 0:
            book.pop(price, None)
        else:
            book[price] = size

    def top(self, side: str, n: int | None = None) -> list[list[str]]:
        book = self.bids if side == "bid" else self.asks
        keys = sorted(book, key=Decimal, reverse=(side == "bid"))
        return [[k, book[k]] for k in keys[:n]]

    def truncate(self, depth: int) -> None:
        for side in ("bid", "ask"):
            book = self.bids if side == "bid" else self.asks
            for p, _ in self.top(side)[depth:]:
                del book[p]

    def crossed(self) -> bool:
        return bool(self.bids and self.asks) and max(map(Decimal, self.bids)) >= min(map(Decimal, self.asks))
