"""Kraken spot WebSocket v2: where to connect and what to subscribe. Source: Kraken "Spot
WebSocket v2" (instrument, book depth 10, trade; ping)."""

from __future__ import annotations

from nexus.venues.registry import FeedSpec, Heartbeat, compact_json, usd_pair


FEED = FeedSpec(
    "kraken",
    "wss://ws.kraken.com/v2",
    "https://api.kraken.com",
    lambda c: usd_pair(c, "/"),
    lambda sym: [
        compact_json({"method": "subscribe", "params": {"channel": "instrument"}}),
        compact_json({"method": "subscribe", "params": {"channel": "book", "symbol": [sym], "depth": 10}}),
        compact_json({"method": "subscribe", "params": {"channel": "trade", "symbol": [sym]}}),
    ],
    Heartbeat(30, compact_json({"method": "ping"}), b'"pong"'),
    # Every pair (the listing names pairs by legacy codes, XBT/USD, so no filter by the v2
    # symbol); the `instrument` channel subscribed above then refreshes it.
    instruments_path=lambda sym: "/0/public/AssetPairs",
)
