"""Venue ids: the command-line names (a contract, see ARCHITECTURE.md) and the stable small
integers carried in `Record.venue_id`. One module per venue lives beside this file."""

from __future__ import annotations

from nexus.exceptions import ConfigError

# Never renumber: recordings and rings carry these integers.
VENUE_IDS: dict[str, int] = {
    "binance-spot": 1,
    "binance-perp": 2,
    "bybit-perp": 3,
    "okx-swap": 4,
    "coinbase": 5,
    "kraken": 6,
    "hyperliquid": 7,
    "kucoin": 8,
    "bitfinex": 9,
    "mexc": 10,
    "gate": 11,
    "bitget": 12,
    "deribit": 13,
    "cryptocom": 14,
    "dydx": 15,
    "sim": 255,
}
VENUE_NAMES: dict[int, str] = {v: k for k, v in VENUE_IDS.items()}
assert len(VENUE_NAMES) == len(VENUE_IDS)
assert max(VENUE_IDS.values()) < 1 << 16


def venue_id(name: str) -> int:
    try:
        return VENUE_IDS[name]
    except KeyError:
        known = ", ".join(k for k in VENUE_IDS if k != "sim")
        raise ConfigError(f"unknown venue {name!r}; known venues: {known}") from None
