"""MEXC spot v3 public market data. Source: MEXC Spot v3 API docs, "Websocket Market Streams"
(https://mexcdevelop.github.io/apidocs/spot_v3_en/#websocket-market-streams): base
wss://wbs-api.mexc.com/ws, {"method":"SUBSCRIPTION","params":[...]}; the server closes a
connection with no subscription after 30 s and one without traffic after 60 s: the client
sends {"method":"PING"} (answered {"id":0,"code":0,"msg":"PONG"}). REST base
https://api.mexc.com: GET /api/v3/depth (snapshot), GET /api/v3/exchangeInfo (instruments)."""

from __future__ import annotations

from nexus.venues.registry import FeedSpec, Heartbeat, compact_json

PING = compact_json({"method": "PING"})
PING_EVERY_S = 20.0


def _subscribe(sym: str) -> list[bytes]:
    return [compact_json({"method": "SUBSCRIPTION", "params": [
        f"spot@public.aggre.depth.v3.api.pb@100ms@{sym}",
        f"spot@public.aggre.deals.v3.api.pb@100ms@{sym}",
    ]})]


FEED = FeedSpec(
    "mexc",
    "wss://wbs-api.mexc.com/ws",
    "https://api.mexc.com",
    str.upper,
    _subscribe,
    Heartbeat(PING_EVERY_S, PING, b'"PONG"', every_s=PING_EVERY_S),
    lambda sym: f"/api/v3/depth?symbol={sym}&limit=1000",
    instruments_path=lambda sym: f"/api/v3/exchangeInfo?symbol={sym}",
)
