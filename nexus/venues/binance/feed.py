"""Binance public market data: where to connect and what to subscribe. Sources: Binance Spot
"WebSocket Streams" and USD-M Futures "WebSocket Market Streams"; REST depth snapshots from
"Order book" (spot /api/v3/depth, futures /fapi/v1/depth)."""

from __future__ import annotations

from nexus.venues.registry import FeedSpec, Heartbeat, compact_json


def _subscribe(sym: str) -> list[bytes]:
    s = sym.lower()
    return [compact_json({"method": "SUBSCRIBE", "params": [f"{s}@depth@100ms", f"{s}@aggTrade"], "id": 1})]


def _upper(canonical: str) -> str:
    return canonical.upper()


SPOT = FeedSpec(
    "binance-spot",
    "wss://stream.binance.com:9443/ws",
    "https://api.binance.com",
    _upper,
    _subscribe,
    Heartbeat(0, None, None),  # the server pings every 20 s; picows answers with pong
    lambda sym: f"/api/v3/depth?symbol={sym}&limit=1000",
    instruments_path=lambda sym: f"/api/v3/exchangeInfo?symbol={sym}",
)
PERP = FeedSpec(
    "binance-perp",
    "wss://fstream.binance.com/ws",
    "https://fapi.binance.com",
    _upper,
    _subscribe,
    Heartbeat(0, None, None),
    lambda sym: f"/fapi/v1/depth?symbol={sym}&limit=1000",
    instruments_path=lambda sym: "/fapi/v1/exchangeInfo",  # USD-M takes no symbol filter
)
