"""Hyperliquid WebSocket: where to connect and what to subscribe. Source: Hyperliquid
"WebSocket" docs (l2Book and trades subscriptions; connections are closed after 60 s
without a message)."""

from __future__ import annotations

from nexus.venues.registry import FeedSpec, Heartbeat, compact_json, split_symbol

FEED = FeedSpec(
    "hyperliquid",
    "wss://api.hyperliquid.xyz/ws",
    "https://api.hyperliquid.xyz",
    lambda c: split_symbol(c)[0],
    lambda sym: [
        compact_json({"method": "subscribe", "subscription": {"type": "l2Book", "coin": sym}}),
        compact_json({"method": "subscribe", "subscription": {"type": "trades", "coin": sym}}),
    ],
    Heartbeat(30, compact_json({"method": "ping"}), b'"pong"'),
    instruments_path=lambda sym: "/info",
    instruments_body=lambda sym: compact_json({"type": "meta"}),
)
