"""FXCM Socket REST API: the access token, the socket.io connection, then the REST subscribe.

Source: FXCM Socket REST API User Guide (https://fxcm-rest.readthedocs.io/en/latest/
socketrestapispecs.html): 2.2/3.1 the socket is opened with the REST API token in the
handshake query (`access_token`); REST requests carry "Authorization: Bearer " + socket id +
token (the socket id is the engine.io open packet's `sid`); 4.2 POST /subscribe with the
form body pairs=EUR/USD; 5.3 GET /trading/get_model?models=Offer (ratePrecision per symbol).
engine.io v3 (EIO=3): the client pings "2" every pingInterval (25 s), the server answers "3".

The token comes from the environment only (NEXUS_FXCM_TOKEN) and is never logged or written.
Symbols: BTCUSDT -> "BTC/USD", EURUSD -> "EUR/USD".
"""

from __future__ import annotations

import json
import os
from urllib.parse import quote, urlencode

from nexus.exceptions import ConfigError
from nexus.feeds.session import Session, rest_call
from nexus.venues.registry import FeedSpec, Heartbeat, usd_pair

TOKEN_ENV = "NEXUS_FXCM_TOKEN"
HEARTBEAT = Heartbeat(0, b"2", None, every_s=25.0)
SOCKET_QUERY = "EIO=3&transport=websocket"


def token() -> str:
    t = os.environ.get(TOKEN_ENV)
    if not t:
        raise ConfigError(f"fxcm needs its REST API token in the environment: {TOKEN_ENV} not set")
    return t


def open_packet(first: bytes) -> dict:
    if first[:1] != b"0":
        raise ConnectionError("fxcm: the socket did not open with an engine.io open packet")
    doc = json.loads(first[1:])
    if not isinstance(doc, dict) or not isinstance(doc.get("sid"), str):
        raise ConnectionError("fxcm: the open packet has no sid")
    return doc


async def prepare(ws_url: str, rest_url: str | None, sym: str) -> Session:
    if not rest_url:
        raise ConfigError("fxcm needs its REST address to subscribe")
    tok = token()
    sep = "&" if "?" in ws_url else "?"
    url = ws_url + sep + ("" if "EIO=" in ws_url else SOCKET_QUERY + "&") + "access_token=" + quote(tok, safe="")

    async def on_open(first: bytes) -> list[bytes]:
        sid = open_packet(first)["sid"]
        auth = {"Authorization": f"Bearer {sid}{tok}", "Accept": "application/json"}
        offers = await rest_call(rest_url + "/trading/get_model?models=Offer", headers=auth)
        sub = await rest_call(rest_url + "/subscribe", "POST", urlencode({"pairs": sym}).encode(),
                              dict(auth, **{"Content-Type": "application/x-www-form-urlencoded"}))
        return [offers, sub]

    return Session(url, [], HEARTBEAT, on_open=on_open)


FEED = FeedSpec(
    "fxcm",
    "wss://api-demo.fxcm.com/socket.io/",
    "https://api-demo.fxcm.com",
    lambda c: usd_pair(c, "/"),
    lambda sym: [],          # subscribing is a REST request once the socket is open: see prepare
    HEARTBEAT,
    prepare=prepare,
)
