"""Binance RWA public market data: Binance spot's streams and REST (see
nexus.venues.binance.feed) for whitelisted symbols only; `symbol_of` refuses the others."""

from __future__ import annotations

from nexus.venues.binance.feed import _subscribe
from nexus.venues.binance_rwa import whitelist
from nexus.venues.registry import FeedSpec, Heartbeat


def _symbol_of(canonical: str) -> str:
    return whitelist.check(canonical.upper())


FEED = FeedSpec(
    "binance-rwa",
    "wss://stream.binance.com:9443/ws",
    "https://api.binance.com",
    _symbol_of,
    _subscribe,
    Heartbeat(0, None, None),
    lambda sym: f"/api/v3/depth?symbol={sym}&limit=1000",
    notes=f"whitelisted base assets from ${whitelist.ENV} (default {','.join(whitelist.DEFAULT_ASSETS)})",
    instruments_path=lambda sym: f"/api/v3/exchangeInfo?symbol={sym}",
)
