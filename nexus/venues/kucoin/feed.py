"""KuCoin public market data: the token flow, then where to connect and what to subscribe.

Sources: KuCoin API docs, "Apply Connect Token" (POST /api/v1/bullet-public -> token,
instanceServers[{endpoint, pingInterval, pingTimeout}]), "Create connection"
(`{endpoint}?token=...&connectId=...`, a `welcome` frame first), "Ping" (a
`{"id":..,"type":"ping"}` every pingInterval ms, answered `{"id":..,"type":"pong"}`; the server
closes a connection that stays silent past pingTimeout), "Orderbook - Increment", "Match
Execution Data", "Get Part OrderBook", "Get All Symbols".

Token expiry: a token is asked for again before every connection attempt (`prepare` runs
before each one), so a connection the server closed because its token expired comes back
with a fresh token; the book is resynced from a new REST snapshot on every connect.
The WebSocket address is the `endpoint` the bullet answer names, unless an override was
given (`--endpoint kucoin=URL`, `--sim`): then that address, with the token.
"""

from __future__ import annotations

import json

from nexus.exceptions import NexusError
from nexus.feeds.session import Session, rest_call
from nexus.venues.registry import FeedSpec, Heartbeat, compact_json, split_symbol

WS_URL = "wss://ws-api-spot.kucoin.com/"
REST_URL = "https://api.kucoin.com"
BULLET_PATH = "/api/v1/bullet-public"
PING = b'{"id":"nexus-ping","type":"ping"}'
PING_INTERVAL_MS_MIN = 1000


def _symbol(canonical: str) -> str:
    return "-".join(split_symbol(canonical.upper()))


def _subscribe(sym: str) -> list[bytes]:
    return [compact_json({"id": "nexus-l2", "type": "subscribe", "topic": f"/market/level2:{sym}",
                          "privateChannel": False, "response": True}),
            compact_json({"id": "nexus-match", "type": "subscribe", "topic": f"/market/match:{sym}",
                          "privateChannel": False, "response": True})]


def session_of(body: bytes, ws_override: str | None, sym: str) -> Session:
    """The bullet-public answer -> the connection to open (token URL, ping period)."""
    try:
        doc = json.loads(body)
        if doc.get("code") != "200000":
            raise NexusError(f"kucoin bullet-public refused: {doc.get('code')} {doc.get('msg')}")
        token = doc["data"]["token"]
        server = doc["data"]["instanceServers"][0]
        interval_ms = int(server["pingInterval"])
        endpoint = ws_override or server["endpoint"]
    except (ValueError, KeyError, IndexError, TypeError, AttributeError) as e:
        raise NexusError(f"kucoin bullet-public answer not understood: {e!r}") from None
    if not isinstance(token, str) or not token or interval_ms < PING_INTERVAL_MS_MIN:
        raise NexusError("kucoin bullet-public answer without a token or with a bad pingInterval")
    sep = "&" if "?" in endpoint else "?"
    hb = Heartbeat(0, PING, b'"pong"', every_s=interval_ms / 1000)
    return Session(f"{endpoint}{sep}token={token}&connectId=nexus", _subscribe(sym), hb)


async def prepare(ws_url: str, rest_url: str | None, sym: str) -> Session:
    body = await rest_call((rest_url or REST_URL) + BULLET_PATH, "POST", b"",
                           {"Content-Type": "application/json"})
    return session_of(body, None if ws_url == WS_URL else ws_url, sym)


FEED = FeedSpec(
    "kucoin",
    WS_URL,
    REST_URL,
    _symbol,
    _subscribe,
    Heartbeat(0, PING, b'"pong"', every_s=18.0),  # replaced by the bullet's pingInterval
    lambda sym: f"/api/v1/market/orderbook/level2_100?symbol={sym}",
    notes="token from POST /api/v1/bullet-public before every connection",
    instruments_path=lambda sym: f"/api/v2/symbols/{sym}",
    prepare=prepare,
)
