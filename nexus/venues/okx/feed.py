"""OKX v5 public WebSocket: where to connect and what to subscribe. Source: OKX v5
"WebSocket" overview (connections idle for 30 s are dropped; the text "ping" keeps them)."""

from __future__ import annotations

from nexus.venues.registry import FeedSpec, Heartbeat, compact_json, split_symbol

FEED = FeedSpec(
    "okx-swap",
    "wss://ws.okx.com:8443/ws/v5/public",
    "https://www.okx.com",
    lambda c: "-".join(split_symbol(c)) + "-SWAP",
    lambda sym: [compact_json({"op": "subscribe", "args": [{"channel": "books", "instId": sym},
                                                           {"channel": "trades", "instId": sym}]})],
    Heartbeat(25, b"ping", b"pong"),
    instruments_path=lambda sym: f"/api/v5/public/instruments?instType=SWAP&instId={sym}",
)
