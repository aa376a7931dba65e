"""Gate v4 public market data: where to connect and what to subscribe, spot or futures by the
symbol's spelling (`BTCUSDT` spot BTC_USDT, `BTCUSDT:USDT` the USDT-settled futures contract).

Sources: Gate API v4 WebSocket docs, spot (wss://api.gateio.ws/ws/v4/: spot.order_book_update
with payload [pair, "100ms"], spot.trades [pair], spot.ping) and futures
(wss://fx-ws.gateio.ws/v4/ws/usdt: futures.order_book_update [contract, "100ms", "100"],
futures.trades [contract], futures.ping); REST https://api.gateio.ws/api/v4 order books with
with_id=true, currency pairs and contracts.

The spot and futures WebSockets have different addresses: `prepare` picks the futures one for
a futures symbol (the production one, or the same server's `/v4/ws/usdt` path where the spot
address was overridden, as with `--sim`).
"""

from __future__ import annotations

import time

from nexus.feeds.session import Session
from nexus.venues.gate.data import FUTURES_SUFFIX
from nexus.venues.registry import FeedSpec, Heartbeat, compact_json, split_symbol

WS_URL = "wss://api.gateio.ws/ws/v4/"
FUTURES_WS_URL = "wss://fx-ws.gateio.ws/v4/ws/usdt"
SPOT_WS_PATH = "/ws/v4/"
FUTURES_WS_PATH = "/v4/ws/usdt"
REST_URL = "https://api.gateio.ws"
BOOK_LIMIT = 100


def is_futures(sym: str) -> bool:
    return sym.endswith(FUTURES_SUFFIX)


def _symbol(canonical: str) -> str:
    c = canonical.upper()
    settle = ""
    if ":" in c:
        c, _, settle = c.partition(":")
        if settle != FUTURES_SUFFIX[1:]:
            from nexus.exceptions import ConfigError
            raise ConfigError(f"gate: only USDT-settled futures are served ({canonical!r}); use e.g. BTCUSDT:USDT")
    pair = "_".join(split_symbol(c))
    return pair + FUTURES_SUFFIX if settle else pair


def _subscribe(sym: str) -> list[bytes]:
    t = int(time.time())
    if is_futures(sym):
        c = sym[: -len(FUTURES_SUFFIX)]
        return [compact_json({"time": t, "channel": "futures.order_book_update", "event": "subscribe",
                              "payload": [c, "100ms", str(BOOK_LIMIT)]}),
                compact_json({"time": t, "channel": "futures.trades", "event": "subscribe", "payload": [c]})]
    return [compact_json({"time": t, "channel": "spot.order_book_update", "event": "subscribe",
                          "payload": [sym, "100ms"]}),
            compact_json({"time": t, "channel": "spot.trades", "event": "subscribe", "payload": [sym]})]


def _snapshot_path(sym: str) -> str:
    if is_futures(sym):
        return f"/api/v4/futures/usdt/order_book?contract={sym[: -len(FUTURES_SUFFIX)]}&limit={BOOK_LIMIT}&with_id=true"
    return f"/api/v4/spot/order_book?currency_pair={sym}&limit={BOOK_LIMIT}&with_id=true"


def _instruments_path(sym: str) -> str:
    if is_futures(sym):
        return f"/api/v4/futures/usdt/contracts/{sym[: -len(FUTURES_SUFFIX)]}"
    return f"/api/v4/spot/currency_pairs/{sym}"


def futures_url(ws_url: str) -> str:
    if ws_url == WS_URL:
        return FUTURES_WS_URL
    if ws_url.endswith(SPOT_WS_PATH):
        return ws_url[: -len(SPOT_WS_PATH)] + FUTURES_WS_PATH
    return ws_url  # an explicit futures address


async def prepare(ws_url: str, rest_url: str | None, sym: str) -> Session:
    return Session(futures_url(ws_url) if is_futures(sym) else ws_url, _subscribe(sym))


FEED = FeedSpec(
    "gate",
    WS_URL,
    REST_URL,
    _symbol,
    _subscribe,
    # WebSocket ping frames when idle 20 s (Gate also answers spot.ping / futures.ping)
    Heartbeat(20, None, None),
    _snapshot_path,
    notes="spot BTCUSDT, futures BTCUSDT:USDT",
    instruments_path=_instruments_path,
    prepare=prepare,
)
