"""HTTP and WebSocket serving for the simulator: one port, one path prefix per venue.

    ws://HOST:PORT/<venue><venue's WebSocket path>     e.g. ws://127.0.0.1:8790/okx-swap/ws/v5/public
    http://HOST:PORT/<venue><venue's REST path>        e.g. http://127.0.0.1:8790/okx-swap/api/v5/public/instruments
    http://HOST:PORT/labels                            ground truth of the injected patterns, and the faults
    http://HOST:PORT/                                  this layout as JSON

aiohttp serves both on one port (picows' server answers only GET upgrade requests and
small GET replies; Hyperliquid's info endpoint is a POST with a JSON body). Each connection
has a bounded outgoing queue drained by its own writer task, so a slow client never stalls
the market clock; a client that falls 20 000 frames behind is dropped, as venues do.
"""

from __future__ import annotations

import asyncio
import inspect
import json
from typing import Any, Callable

from aiohttp import WSMsgType, web

from nexus.sim.core import ALL_CONNECTIONS, SimCore
from nexus.sim.feed import Feed, SimRequest
from nexus.sim.fmt import Raw

QUEUE_MAX = 20_000
_PING = object()

# Each venue's production WebSocket and REST base, so users see what the simulator stands in for.
REAL_URLS: dict[str, tuple[str, str]] = {
    "binance-spot": ("wss://stream.binance.com:9443/ws", "https://api.binance.com"),
    "binance-perp": ("wss://fstream.binance.com/ws", "https://fapi.binance.com"),
    "bybit-perp": ("wss://stream.bybit.com/v5/public/linear", "https://api.bybit.com"),
    "okx-swap": ("wss://ws.okx.com:8443/ws/v5/public", "https://www.okx.com"),
    "coinbase": ("wss://advanced-trade-ws.coinbase.com", "https://api.coinbase.com"),
    "kraken": ("wss://ws.kraken.com/v2", "https://api.kraken.com"),
    "hyperliquid": ("wss://api.hyperliquid.xyz/ws", "https://api.hyperliquid.xyz"),
    "kucoin": ("wss://ws-api-spot.kucoin.com/", "https://api.kucoin.com"),
    "gate": ("wss://api.gateio.ws/ws/v4/", "https://api.gateio.ws"),
    "tradovate": ("wss://md.tradovateapi.com/v1/websocket", "https://live.tradovateapi.com"),
    "fxcm": ("wss://api-demo.fxcm.com/socket.io/", "https://api-demo.fxcm.com"),
}


def real_urls(venue: str) -> tuple[str, str | None]:
    """The venue's real endpoints: the table above, else its feed spec (venues added later)."""
    if venue in REAL_URLS:
        return REAL_URLS[venue]
    from nexus.venues.registry import feed_spec

    spec = feed_spec(venue)
    return spec.ws_url, spec.rest_url


class ServerConn:
    """One WebSocket connection (implements nexus.sim.feed.Conn)."""

    def __init__(self, server: "SimServer", feed: Feed, ws: web.WebSocketResponse, request: web.Request) -> None:
        self.server = server
        self.feed = feed
        self.venue = feed.venue
        self.ws = ws
        self.request = request
        self.subs: set[str] = set()
        self.state: dict = {}
        self.opened_ns = server.core.t_ns
        self.last_sent_ns = self.opened_ns
        self.path = request.path[len(feed.venue) + 1:]
        self.query = dict(request.query)
        self.queue: asyncio.Queue = asyncio.Queue(maxsize=QUEUE_MAX)
        self.closed = False
        self.sent = 0
        self.writer = asyncio.get_running_loop().create_task(self._write())

    def send(self, text: str) -> None:
        if self.closed:
            return
        try:
            self.queue.put_nowait(text)
        except asyncio.QueueFull:
            self.abort()
            return
        self.last_sent_ns = self.server.core.t_ns

    def ping(self, payload: bytes) -> None:
        if not self.closed:
            try:
                self.queue.put_nowait((_PING, payload))
            except asyncio.QueueFull:
                self.abort()

    def subscribe(self, channel: str) -> None:
        self.subs.add(channel)
        self.server.index(self, channel, True)

    def unsubscribe(self, channel: str) -> None:
        self.subs.discard(channel)
        self.server.index(self, channel, False)

    def close(self, code: int = 1000, reason: str = "") -> None:
        if self.closed:
            return
        self.closed = True
        asyncio.get_running_loop().create_task(self.ws.close(code=code, message=reason.encode()))

    def abort(self) -> None:
        """Drop the TCP connection without a close frame (what a venue outage looks like)."""
        if self.closed:
            return
        self.closed = True
        transport = self.request.transport
        if transport is not None:
            transport.abort()
        self.writer.cancel()

    async def _write(self) -> None:
        try:
            while True:
                item = await self.queue.get()
                if isinstance(item, tuple) and item and item[0] is _PING:
                    await self.ws.ping(item[1])
                elif type(item) is bytes:  # a binary frame (MEXC's protocol buffers)
                    await self.ws.send_bytes(item)
                    self.sent += 1
                else:
                    await self.ws.send_str(item)
                    self.sent += 1
        except (ConnectionError, RuntimeError, asyncio.CancelledError):
            pass


class SimServer:
    def __init__(self, core: SimCore, host: str, port: int) -> None:
        self.core = core
        self.host = host
        self.port = port
        self.conns: dict[str, set[ServerConn]] = {v: set() for v in core.feeds}
        self.by_channel: dict[str, dict[str, set[ServerConn]]] = {v: {} for v in core.feeds}
        self.refuse_until: dict[str, int] = {}
        self.runner: web.AppRunner | None = None
        self.site: web.TCPSite | None = None
        self.app = self._build()
        core.sink = self

    # -- URLs -------------------------------------------------------------------------------
    def base(self, scheme: str) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.port}"

    def ws_url(self, venue: str) -> str:
        return f"{self.base('ws')}/{venue}{self.core.feeds[venue].ws_path}"

    def rest_url(self, venue: str) -> str:
        return f"{self.base('http')}/{venue}"

    def endpoints(self) -> dict[str, Any]:
        return {
            "host": self.host, "port": self.port, "seed": self.core.seed, "symbol": self.core.market.symbol,
            "epoch_ns": self.core.epoch_ns,
            "venues": {v: {"ws": self.ws_url(v), "rest": self.rest_url(v), "symbol": f.spec.symbol,
                           "real_ws": real_urls(v)[0], "real_rest": real_urls(v)[1]}
                       for v, f in self.core.feeds.items()},
            "labels": f"{self.base('http')}/labels",
            "faults": [f.spec() for f in self.core.faults],
        }

    # -- app ----------------------------------------------------------------------------------
    def _build(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/", self._index)
        app.router.add_get("/labels", self._labels)
        for venue, feed in self.core.feeds.items():
            for path in feed.ws_routes():
                app.router.add_get(f"/{venue}{path}", self._ws_handler(feed))
            for (method, path), handler in feed.rest_routes().items():
                app.router.add_route(method, f"/{venue}{path}", self._rest_handler(handler))
            for (method, path), handler in feed.private_routes().items():
                app.router.add_route(method, f"/{venue}{path}", self._private_handler(venue, handler))
        return app

    async def start(self) -> None:
        self.runner = web.AppRunner(self.app, access_log=None, handle_signals=False)
        await self.runner.setup()
        self.site = web.TCPSite(self.runner, self.host, self.port, reuse_address=True)
        await self.site.start()
        if self.port == 0:
            server = self.site._server  # the bound port of an ephemeral listen
            self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        for conns in self.conns.values():
            for c in list(conns):
                c.abort()
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None

    async def _index(self, request: web.Request) -> web.Response:
        return web.json_response(self.endpoints())

    async def _labels(self, request: web.Request) -> web.Response:
        return web.json_response({"t_ns": self.core.t_ns, "labels": self.core.labels(),
                                  "faults": self.core.fault_log()})

    def _rest_handler(self, handler: Callable) -> Callable:
        async def handle(request: web.Request) -> web.Response:
            query = dict(request.query)
            query.update(request.match_info)
            body = None
            if request.can_read_body:
                try:
                    body = json.loads(await request.text())
                except ValueError:
                    return web.json_response("Failed to deserialize the JSON body", status=400)
            status, payload = handler(query, body)
            # A venue that writes bare JSON numbers (Deribit) hands its body pre-rendered (fmt.Raw).
            text = payload if isinstance(payload, Raw) else json.dumps(payload, separators=(",", ":"))
            return web.Response(status=status, text=text,
                                content_type="application/json")
        return handle

    def _private_handler(self, venue: str, handler: Callable) -> Callable:
        async def handle(request: web.Request) -> web.Response:
            body = await request.text() if request.can_read_body else ""
            req = SimRequest(request.method, request.path[len(venue) + 1:], request.query_string, dict(request.query),
                             {k.lower(): v for k, v in request.headers.items()}, body)
            result = handler(req)
            if inspect.isawaitable(result):     # an answer that comes late (a test-only fault)
                result = await result
            # (status, body) or (status, body, headers): a venue whose answers carry a header
            # clients read (FXCM's Date: its server time, here the simulator's clock)
            status, payload = result[0], result[1]
            headers = result[2] if len(result) > 2 else None
            text = payload if isinstance(payload, str) else json.dumps(payload, separators=(",", ":"))
            return web.Response(status=status, text=text, content_type="application/json", headers=headers)
        return handle

    def _ws_handler(self, feed: Feed) -> Callable:
        async def handle(request: web.Request) -> web.StreamResponse:
            if request.headers.get("Upgrade", "").lower() != "websocket":
                v = feed.venue
                return web.json_response({"venue": v, "ws": self.ws_url(v), "rest": self.rest_url(v),
                                          "symbol": feed.spec.symbol})
            if self.core.t_ns < self.refuse_until.get(feed.venue, 0):
                return web.Response(status=503, text="simulated outage: reconnect later")
            ws = web.WebSocketResponse(autoping=True, max_msg_size=1 << 20, compress=False)
            await ws.prepare(request)
            conn = ServerConn(self, feed, ws, request)
            self.conns[feed.venue].add(conn)
            try:
                feed.on_open(conn)
                async for msg in ws:
                    if msg.type == WSMsgType.TEXT:
                        feed.on_text(conn, msg.data)
                    elif msg.type == WSMsgType.ERROR:
                        break
            finally:
                conn.closed = True
                conn.writer.cancel()
                self.conns[feed.venue].discard(conn)
                for ch in list(conn.subs):
                    self.index(conn, ch, False)
            return ws
        return handle

    # -- core sink ------------------------------------------------------------------------------
    def index(self, conn: ServerConn, channel: str, on: bool) -> None:
        chans = self.by_channel[conn.venue]
        if on:
            chans.setdefault(channel, set()).add(conn)
        else:
            s = chans.get(channel)
            if s is not None:
                s.discard(conn)

    def subscribed(self, venue: str) -> bool:
        return any(self.by_channel[venue].values())

    def deliver(self, venue: str, events) -> None:
        chans = self.by_channel[venue]
        feed = self.core.feeds[venue]
        for channel, payload in events:
            if channel == ALL_CONNECTIONS:
                for c in list(self.conns[venue]):
                    c.send(payload)
                continue
            targets = chans.get(channel)
            if not targets:
                continue
            for c in list(targets):
                text = feed.render(c, channel, payload)
                if text is not None:
                    c.send(text)

    def disconnect(self, venue: str, refuse_until_ns: int) -> None:
        self.refuse_until[venue] = refuse_until_ns
        for c in list(self.conns[venue]):
            c.abort()

    def second(self, t_ns: int) -> None:
        for venue, conns in self.conns.items():
            feed = self.core.feeds[venue]
            if feed.faults.silent(t_ns):
                continue
            for c in list(conns):
                if not c.closed:
                    feed.on_second(c, t_ns)
