"""dYdX v4 indexer WebSocket: where to connect and what to subscribe. Source: dYdX Indexer
WebSocket documentation (wss://indexer.dydx.trade/v4/ws; the server pings every 30 s and
closes a connection that does not pong within 10 s: WebSocket pong frames, answered by the
client library; subscribe {"type":"subscribe","channel":"v4_orderbook","id":"BTC-USD"}).
`--symbol BTCUSDT` maps to the perpetual BTC-USD."""

from __future__ import annotations

from nexus.venues.registry import FeedSpec, Heartbeat, compact_json, split_symbol


def market(canonical: str) -> str:
    if "-" in canonical:
        return canonical
    return f"{split_symbol(canonical)[0]}-USD"


FEED = FeedSpec(
    "dydx",
    "wss://indexer.dydx.trade/v4/ws",
    "https://indexer.dydx.trade",
    market,
    lambda sym: [compact_json({"type": "subscribe", "channel": "v4_orderbook", "id": sym}),
                 compact_json({"type": "subscribe", "channel": "v4_trades", "id": sym})],
    Heartbeat(25, None, None),
    instruments_path=lambda sym: f"/v4/perpetualMarkets?ticker={sym}",
)
