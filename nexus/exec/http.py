"""What the JSON-over-HTTPS venue adapters share (Bybit, OKX): one HTTP client, the
server-time offset, and the mapping of transport failures and clock refusals onto
nexus.exec.client's errors.

Server time: the venue's time endpoint on connect and every `RESYNC_S`; the offset is the
server time minus the midpoint of the round trip, and every timestamp sent is local clock
+ offset. When the venue refuses a timestamp, `drift_error` re-syncs and names the drift
that was used, the window and the fix (seed 000, Troubleshooting: "server-time drift").
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any, Awaitable, Callable

import httpx

from nexus.exec.client import ClockDrift, VenueUnreachable
from nexus.exec.orders import OrderError
from nexus.venues.binance.orders import CLOCK_FIX, WITHDRAWAL_ADVICE

TIMEOUT_S = 10.0
RESYNC_S = 300.0

__all__ = ["CLOCK_FIX", "WITHDRAWAL_ADVICE", "HttpVenue", "TIMEOUT_S", "RESYNC_S"]


class HttpVenue:
    """Base of an adapter: `venue`, `rest_url`, `http`, the clock and its offset."""

    venue = ""

    def __init__(self, rest_url: str, *, timeout_s: float = TIMEOUT_S,
                 clock_ms: Callable[[], int] | None = None) -> None:
        self.rest_url = rest_url.rstrip("/")
        self.host = httpx.URL(self.rest_url).netloc.decode()
        self.clock_ms = clock_ms or (lambda: time.time_ns() // 1_000_000)
        self.offset_ms = 0
        self.rtt_ms = 0
        self.synced_at = float("-inf")
        self.max_leverage: dict[str, int] = {}
        self.http = httpx.AsyncClient(timeout=timeout_s)

    def now_ms(self) -> int:
        return self.clock_ms() + self.offset_ms

    async def check_leverage(self, symbol: str, leverage: int) -> None:
        """Refuse, before sending, a leverage above the symbol's maximum (`max_leverage`, filled
        by the adapter's `instrument()`)."""
        if symbol not in self.max_leverage:
            await self.instrument(symbol)
        cap = self.max_leverage[symbol]
        if leverage > cap:
            raise OrderError(f"leverage {leverage} is above {self.venue}'s maximum {cap} for {symbol}: not sent")

    def stale(self) -> bool:
        return time.monotonic() - self.synced_at > RESYNC_S

    async def send(self, method: str, path: str, *, query: str = "", body: str = "",
                   headers: dict[str, str] | None = None) -> httpx.Response:
        url = f"{self.rest_url}{path}" + (f"?{query}" if query else "")
        try:
            return await self.http.request(method, url, content=body or None, headers=headers)
        except httpx.TimeoutException:
            raise VenueUnreachable(f"{self.venue}: {method} {path} timed out") from None
        except httpx.TransportError as e:
            raise VenueUnreachable(f"{self.venue}: {method} {path}: {type(e).__name__}") from None

    async def instrument(self, symbol: str):
        raise NotImplementedError

    def auth_headers(self, method: str, path: str, query: str, body: str) -> dict[str, str]:
        raise NotImplementedError

    async def request_json(self, method: str, path: str, params: str, signed: bool) -> tuple[httpx.Response, Any]:
        """Send `params` (GET: the query string; else: the JSON body, both exactly as signed),
        re-syncing the clock first when stale; the response and its JSON (a 5xx or a body
        that is not JSON: VenueUnreachable)."""
        if signed and self.stale():
            await self.resync()
        query, body = (params, "") if method == "GET" else ("", params)
        headers = self.auth_headers(method, path, query, body) if signed else {}
        if body:
            headers["Content-Type"] = "application/json"
        r = await self.send(method, path, query=query, body=body, headers=headers)
        if r.status_code >= 500:
            raise VenueUnreachable(f"{self.venue}: {method} {path}: HTTP {r.status_code}")
        try:
            return r, r.json()
        except ValueError:
            raise VenueUnreachable(f"{self.venue}: {method} {path}: HTTP {r.status_code}, not JSON") from None

    async def resync(self) -> None:
        raise NotImplementedError

    async def sync_time(self, server_ms: Callable[[httpx.Response], int], path: str) -> None:
        t0 = self.clock_ms()
        r = await self.send("GET", path)
        try:
            server = server_ms(r)
        except (ValueError, KeyError, IndexError, TypeError) as e:
            raise VenueUnreachable(f"{self.venue}: server time: {type(e).__name__}") from None
        t1 = self.clock_ms()
        self.rtt_ms = t1 - t0
        self.offset_ms = server - (t0 + t1) // 2
        self.synced_at = time.monotonic()

    async def drift_error(self, code, msg: str, window: str, resync: Callable[[], Awaitable[None]]) -> ClockDrift:
        used = self.offset_ms
        await resync()
        drift = used - self.offset_ms
        return ClockDrift(self.venue, code, f"{msg} The request's timestamp was {drift:+d} ms off {self.venue}'s "
                                            f"server time (round trip {self.rtt_ms} ms, {window}): {CLOCK_FIX}. "
                                            "Nothing was placed.")

    def stream_updates(self, msg: dict) -> list:
        raise NotImplementedError

    async def private_stream(self, on_update: Callable, ready: asyncio.Event | None,
                             handshake: Callable[[Any], Awaitable[None]], ping_text: str, ping_s: float,
                             url: str | None = None) -> None:
        """The venue's private WebSocket at `self.ws_url` (or `url`, for a venue with one per
        market, e.g. Gate spot and futures): `handshake(ws)` (login, subscribe), then every
        message through `stream_updates` to `on_update`, `ping_text` every `ping_s`."""
        import aiohttp

        try:
            async with aiohttp.ClientSession() as s, s.ws_connect(url or self.ws_url, heartbeat=None) as ws:
                await handshake(ws)
                if ready is not None:
                    ready.set()
                pinger = asyncio.get_running_loop().create_task(_ping(ws, ping_text, ping_s))
                try:
                    async for m in ws:
                        if m.type == aiohttp.WSMsgType.TEXT and m.data != "pong":
                            for upd in self.stream_updates(json.loads(m.data)):
                                on_update(upd)
                finally:
                    pinger.cancel()
        except aiohttp.ClientError as e:
            raise VenueUnreachable(f"{self.venue}: private stream: {type(e).__name__}") from None

    async def close(self) -> None:
        await self.http.aclose()


async def _ping(ws, text: str, every_s: float) -> None:
    while True:
        await asyncio.sleep(every_s)
        await ws.send_str(text)
