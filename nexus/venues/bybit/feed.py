"""Bybit v5 public linear stream: where to connect and what to subscribe. Source: Bybit v5
"WebSocket Connect" (ping every 20 s) and "Orderbook"/"Trade" topics."""

from __future__ import annotations

from nexus.venues.registry import FeedSpec, Heartbeat, compact_json

FEED = FeedSpec(
    "bybit-perp",
    "wss://stream.bybit.com/v5/public/linear",
    "https://api.bybit.com",
    lambda c: c.upper(),
    lambda sym: [compact_json({"op": "subscribe", "args": [f"orderbook.50.{sym}", f"publicTrade.{sym}"]})],
    Heartbeat(20, compact_json({"op": "ping"}), b'"pong"'),
    instruments_path=lambda sym: f"/v5/market/instruments-info?category=linear&symbol={sym}",
)
