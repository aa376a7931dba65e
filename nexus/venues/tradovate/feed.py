"""Tradovate market data: the access-token flow, then the md WebSocket.

Sources (partner.tradovate.com): Access > "Acquire an access token" (POST
/v1/auth/accesstokenrequest with name, password, appId, appVersion, cid, sec; the answer
holds accessToken and mdAccessToken, or errorText), WebSockets (after the server's "o" frame
the client sends "authorize\\n<id>\\n\\n<token>"; "[]" is the client's heartbeat, every 2.5 s),
Market data (md/subscribeDOM, md/subscribeQuote with {"symbol": name}), REST contract/find
and product/find (authorized with the access token as a Bearer header).

Credentials come from the environment only and are never logged or written:
NEXUS_TRADOVATE_USERNAME, NEXUS_TRADOVATE_PASSWORD, NEXUS_TRADOVATE_APP_ID,
NEXUS_TRADOVATE_CID, NEXUS_TRADOVATE_SEC (NEXUS_TRADOVATE_APP_VERSION, default "1.0").
Every connection attempt asks for a new token (tokens expire; a reconnect asks again) and
loads the contract and product listings into the decoder (Session.metadata).

Symbols: a contract name (`--symbol MBTZ6`) is used as given; a canonical symbol maps to the
front month of the CME micro future of its base (BTCUSDT -> MBT, ETHUSDT -> MET).
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from urllib.parse import quote

from nexus.exceptions import ConfigError
from nexus.feeds.session import Session, rest_call
from nexus.venues.registry import FeedSpec, Heartbeat, compact_json, split_symbol
from nexus.venues.tradovate.data import CONTRACT_RE, PRODUCTS, front_month, product_of

AUTH_PATH = "/v1/auth/accesstokenrequest"
HEARTBEAT = Heartbeat(0, b"[]", None, every_s=2.5)
OPEN_FRAME = b"o"
ENV = {"name": "NEXUS_TRADOVATE_USERNAME", "password": "NEXUS_TRADOVATE_PASSWORD",
       "appId": "NEXUS_TRADOVATE_APP_ID", "cid": "NEXUS_TRADOVATE_CID", "sec": "NEXUS_TRADOVATE_SEC"}


def symbol_of(canonical: str) -> str:
    if CONTRACT_RE.fullmatch(canonical):
        return canonical
    base, _ = split_symbol(canonical)
    if base not in PRODUCTS:
        raise ConfigError(f"tradovate: no CME micro future for {base}; give the contract name (e.g. MBTZ6)")
    return front_month(PRODUCTS[base], datetime.now(timezone.utc).date())


def request(endpoint: str, rid: int, body: str = "") -> bytes:
    """A Tradovate WebSocket request frame: endpoint, id, query, body on their own lines."""
    return f"{endpoint}\n{rid}\n\n{body}".encode()


def subscriptions(token: str, sym: str) -> list[bytes]:
    body = compact_json({"symbol": sym}).decode()
    return [request("authorize", 0, token), request("md/subscribeDOM", 1, body),
            request("md/subscribeQuote", 2, body)]


def credentials_body() -> bytes:
    missing = [v for v in ENV.values() if not os.environ.get(v)]
    if missing:
        raise ConfigError(f"tradovate needs its API credentials in the environment: {', '.join(missing)} not set")
    creds = {k: os.environ[v] for k, v in ENV.items()}
    try:
        creds["cid"] = int(creds["cid"])
    except ValueError:
        raise ConfigError("NEXUS_TRADOVATE_CID is not an integer") from None
    creds["appVersion"] = os.environ.get("NEXUS_TRADOVATE_APP_VERSION", "1.0")
    return compact_json(creds)


async def prepare(ws_url: str, rest_url: str | None, sym: str) -> Session:
    if not rest_url:
        raise ConfigError("tradovate needs its REST address for the access token")
    raw = await rest_call(rest_url + AUTH_PATH, "POST", credentials_body(), {"Content-Type": "application/json"})
    doc = json.loads(raw)
    if not isinstance(doc, dict) or "accessToken" not in doc:
        err = doc.get("errorText") if isinstance(doc, dict) else None
        raise ConnectionError(f"tradovate: no access token: {err or 'unexpected answer'}")
    auth = {"Authorization": f"Bearer {doc['accessToken']}"}
    contract = await rest_call(f"{rest_url}/v1/contract/find?name={quote(sym)}", headers=auth)
    product = await rest_call(f"{rest_url}/v1/product/find?name={quote(product_of(sym))}", headers=auth)
    return Session(ws_url, subscriptions(doc.get("mdAccessToken") or doc["accessToken"], sym), HEARTBEAT,
                   metadata=(contract, product), open_frame=OPEN_FRAME)


FEED = FeedSpec(
    "tradovate",
    "wss://md.tradovateapi.com/v1/websocket",
    "https://live.tradovateapi.com",
    symbol_of,
    lambda sym: [],         # sent after "o", with the token: see prepare
    HEARTBEAT,
    prepare=prepare,
)
