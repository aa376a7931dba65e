"""How to reach each venue's public market data: default URLs (the real venues), the
subscribe messages for one symbol, the heartbeat each venue requires, and where the REST
order-book snapshot comes from. Sources: each venue's public WebSocket API documentation
(Binance Spot "WebSocket Streams" and USD-M Futures "WebSocket Market Streams", Bybit v5
"WebSocket Connect"/"Orderbook", OKX v5 "WebSocket" overview, Coinbase Advanced Trade
"WebSocket Channels", Kraken "Spot WebSocket v2", Hyperliquid "WebSocket" docs).

`--sim` or `--endpoint VENUE=URL` replace the URLs; nothing else changes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Callable

from nexus.exceptions import ConfigError


@dataclass(frozen=True)
class Heartbeat:
    """Application-level ping sent when the connection has been idle `idle_s` seconds.
    `ping` None means the venue uses WebSocket ping frames (answered automatically)."""

    idle_s: float
    ping: bytes | None
    pong_marker: bytes | None  # a substring identifying the venue's pong reply


@dataclass(frozen=True)
class VenueSpec:
    venue: str
    ws_url: str
    rest_url: str | None
    symbol_of: Callable[[str], str]  # canonical "BTCUSDT" -> the venue's symbol
    subscribe: Callable[[str], list[bytes]]  # venue symbol -> messages to send on open
    heartbeat: Heartbeat
    snapshot_path: Callable[[str], str] | None = None  # REST snapshot path for the venue symbol
    notes: str = field(default="")


def _j(obj) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def _split(canonical: str) -> tuple[str, str]:
    for quote in ("USDT", "USDC", "USD", "BTC", "EUR"):
        if canonical.endswith(quote) and len(canonical) > len(quote):
            return canonical[: -len(quote)], quote
    raise ConfigError(f"cannot split {canonical!r} into base and quote; use e.g. BTCUSDT")


def _binance_sub(sym: str) -> list[bytes]:
    s = sym.lower()
    return [_j({"method": "SUBSCRIBE", "params": [f"{s}@depth@100ms", f"{s}@aggTrade"], "id": 1})]


SPECS: dict[str, VenueSpec] = {
    "binance-spot": VenueSpec(
        "binance-spot",
        "wss://stream.binance.com:9443/ws",
        "https://api.binance.com",
        lambda c: c.upper(),
        _binance_sub,
        Heartbeat(0, None, None),  # the server pings every 20 s; picows answers with pong
        lambda sym: f"/api/v3/depth?symbol={sym}&limit=1000",
    ),
    "binance-perp": VenueSpec(
        "binance-perp",
        "wss://fstream.binance.com/ws",
        "https://fapi.binance.com",
        lambda c: c.upper(),
        _binance_sub,
        Heartbeat(0, None, None),
        lambda sym: f"/fapi/v1/depth?symbol={sym}&limit=1000",
    ),
    "bybit-perp": VenueSpec(
        "bybit-perp",
        "wss://stream.bybit.com/v5/public/linear",
        "https://api.bybit.com",
        lambda c: c.upper(),
        lambda sym: [_j({"op": "subscribe", "args": [f"orderbook.50.{sym}", f"publicTrade.{sym}"]})],
        Heartbeat(20, _j({"op": "ping"}), b'"pong"'),
    ),
    "okx-swap": VenueSpec(
        "okx-swap",
        "wss://ws.okx.com:8443/ws/v5/public",
        "https://www.okx.com",
        lambda c: "-".join(_split(c)) + "-SWAP",
        lambda sym: [_j({"op": "subscribe", "args": [{"channel": "books", "instId": sym}, {"channel": "trades", "instId": sym}]})],
        Heartbeat(25, b"ping", b"pong"),  # OKX drops connections idle for 30 s
    ),
    "coinbase": VenueSpec(
        "coinbase",
        "wss://advanced-trade-ws.coinbase.com",
        "https://api.coinbase.com",
        lambda c: (lambda b, q: f"{b}-{'USD' if q == 'USDT' else q}")(*_split(c)),
        lambda sym: [
            _j({"type": "subscribe", "product_ids": [sym], "channel": "level2"}),
            _j({"type": "subscribe", "product_ids": [sym], "channel": "market_trades"}),
            _j({"type": "subscribe", "channel": "heartbeats"}),  # keeps quiet connections open
        ],
        Heartbeat(0, None, None),
    ),
    "kraken": VenueSpec(
        "kraken",
        "wss://ws.kraken.com/v2",
        "https://api.kraken.com",
        lambda c: (lambda b, q: f"{b}/{'USD' if q == 'USDT' else q}")(*_split(c)),
        lambda sym: [
            _j({"method": "subscribe", "params": {"channel": "instrument"}}),
            _j({"method": "subscribe", "params": {"channel": "book", "symbol": [sym], "depth": 10}}),
            _j({"method": "subscribe", "params": {"channel": "trade", "symbol": [sym]}}),
        ],
        Heartbeat(30, _j({"method": "ping"}), b'"pong"'),
    ),
    "hyperliquid": VenueSpec(
        "hyperliquid",
        "wss://api.hyperliquid.xyz/ws",
        "https://api.hyperliquid.xyz",
        lambda c: _split(c)[0],
        lambda sym: [
            _j({"method": "subscribe", "subscription": {"type": "l2Book", "coin": sym}}),
            _j({"method": "subscribe", "subscription": {"type": "trades", "coin": sym}}),
        ],
        Heartbeat(30, _j({"method": "ping"}), b'"pong"'),  # closed after 60 s without a message
    ),
}

AGG_DEFAULT_VENUES = ("binance-perp", "binance-spot", "bybit-perp", "okx-swap", "hyperliquid")


def spec(venue: str) -> VenueSpec:
    try:
        return SPECS[venue]
    except KeyError:
        raise ConfigError(f"no live feed for venue {venue!r}; available: {', '.join(SPECS)}") from None


def parse_endpoints(values: tuple[str, ...]) -> dict[str, str]:
    """`--endpoint VENUE=URL` (repeatable) -> {venue: url}."""
    out = {}
    for v in values:
        venue, sep, url = v.partition("=")
        if not sep or not url.startswith(("ws://", "wss://", "http://", "https://")):
            raise ConfigError(f"--endpoint expects VENUE=ws://host:port/path, got {v!r}")
        spec(venue)
        out[venue] = url
    return out
