"""Aster futures public market data. Source: Aster Finance Futures API docs
(github.com/asterdex/api-docs): WebSocket base wss://fstream.asterdex.com (raw /ws, SUBSCRIBE
method as Binance), REST base https://fapi.asterdex.com (GET /fapi/v1/depth,
GET /fapi/v1/exchangeInfo). The server pings every 5 minutes; picows answers with a pong."""

from __future__ import annotations

from nexus.venues.registry import FeedSpec, Heartbeat, compact_json


def _subscribe(sym: str) -> list[bytes]:
    s = sym.lower()
    return [compact_json({"method": "SUBSCRIBE", "params": [f"{s}@depth@100ms", f"{s}@aggTrade"], "id": 1})]


FEED = FeedSpec(
    "aster",
    "wss://fstream.asterdex.com/ws",
    "https://fapi.asterdex.com",
    str.upper,
    _subscribe,
    Heartbeat(0, None, None),
    lambda sym: f"/fapi/v1/depth?symbol={sym}&limit=1000",
    instruments_path=lambda sym: "/fapi/v1/exchangeInfo",
)
