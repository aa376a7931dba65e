"""Coinbase Advanced Trade market data: where to connect and what to subscribe. Source:
Coinbase Advanced Trade "WebSocket Channels" (level2, market_trades, heartbeats)."""

from __future__ import annotations

from nexus.venues.registry import FeedSpec, Heartbeat, compact_json, usd_pair


FEED = FeedSpec(
    "coinbase",
    "wss://advanced-trade-ws.coinbase.com",
    "https://api.coinbase.com",
    lambda c: usd_pair(c, "-"),
    lambda sym: [
        compact_json({"type": "subscribe", "product_ids": [sym], "channel": "level2"}),
        compact_json({"type": "subscribe", "product_ids": [sym], "channel": "market_trades"}),
        compact_json({"type": "subscribe", "channel": "heartbeats"}),  # keeps quiet connections open
    ],
    Heartbeat(0, None, None),
    instruments_path=lambda sym: f"/api/v3/brokerage/market/products?product_ids={sym}",
)
