"""Bitget v2 public WebSocket: where to connect and what to subscribe. Source: Bitget API
docs, Common > Websocket API ("Set a timer of 30 seconds ... send a String 'ping'. Expect a
'pong'"; the server disconnects after 2 minutes without one), Spot/Futures > Websocket >
Public > Depth Channel and Trade Channel; instruments: Spot > Market > Get Symbol Info,
Futures > Market > Get Contract Config.

The symbol picks the market (see data.py): `BTCUSDT` is spot, `BTCUSDT:USDT-FUTURES` the
USDT-margined perpetual."""

from __future__ import annotations

from nexus.venues.bitget.data import split
from nexus.venues.registry import FeedSpec, Heartbeat, compact_json

PING_EVERY_S = 30


def _subscribe(sym: str) -> list[bytes]:
    inst_type, inst_id = split(sym)
    return [compact_json({"op": "subscribe", "args": [
        {"instType": inst_type, "channel": "books", "instId": inst_id},
        {"instType": inst_type, "channel": "trade", "instId": inst_id},
    ]})]


def _instruments(sym: str) -> str:
    inst_type, inst_id = split(sym)
    if inst_type == "SPOT":
        return f"/api/v2/spot/public/symbols?symbol={inst_id}"
    return f"/api/v2/mix/market/contracts?productType={inst_type}&symbol={inst_id}"


FEED = FeedSpec(
    "bitget",
    "wss://ws.bitget.com/v2/ws/public",
    "https://api.bitget.com",
    lambda c: c.upper(),
    _subscribe,
    Heartbeat(PING_EVERY_S, b"ping", b"pong", every_s=PING_EVERY_S),
    instruments_path=_instruments,
)
