"""Crypto.com Exchange API v1 market WebSocket: where to connect and what to subscribe.
Source: https://exchange-docs.crypto.com/exchange/v1/rest-ws/index.html ("book.{instrument_name}
.{depth}" with book_subscription_type SNAPSHOT_AND_UPDATE and book_update_frequency 10 ms,
"trade.{instrument_name}", "Heartbeats": the server's public/heartbeat is answered with
public/respond-heartbeat carrying the same id, or the connection is closed).

`--symbol BTCUSDT` maps to the USD perpetual BTCUSD-PERP; a Crypto.com instrument name
(BTC_USDT, ETHUSD-PERP) is used as given."""

from __future__ import annotations

import re

from nexus.venues.registry import FeedSpec, Heartbeat, compact_json, split_symbol

BOOK_DEPTH = 50
_ID = re.compile(rb'"id"\s*:\s*(\d+)')


def instrument_name(canonical: str) -> str:
    if "-" in canonical or "_" in canonical:
        return canonical
    base, _ = split_symbol(canonical)
    return f"{base}USD-PERP"


def respond_heartbeat(request: bytes) -> bytes:
    m = _ID.search(request)
    return compact_json({"id": int(m.group(1)) if m else 0, "method": "public/respond-heartbeat"})


FEED = FeedSpec(
    "cryptocom",
    "wss://stream.crypto.com/exchange/v1/market",
    "https://api.crypto.com",
    instrument_name,
    lambda sym: [compact_json({"id": 1, "method": "subscribe", "params": {
        "channels": [f"book.{sym}.{BOOK_DEPTH}", f"trade.{sym}"],
        "book_subscription_type": "SNAPSHOT_AND_UPDATE", "book_update_frequency": 10}})],
    # The venue sends public/heartbeat every 30 s; WebSocket pings keep an idle client alive.
    Heartbeat(25, None, None, answer_marker=b'"public/heartbeat"', answer=respond_heartbeat),
    instruments_path=lambda sym: "/exchange/v1/public/get-instruments",
)
