"""Venues: one package per venue below this folder (decoder and sync rules, live-feed spec,
simulator wire format), found by nexus.venues.registry. This module holds the venue ids:
the command-line names (a contract, see ARCHITECTURE.md) and the stable small integers
carried in `Record.venue_id`.

Adding a venue: its package (nexus/venues/<name>/, declaring `VENUES`) and one line in
`VENUE_IDS` below. See the README's "How to add a venue".
"""

from __future__ import annotations

from nexus.exceptions import ConfigError

# Never renumber: recordings and rings carry these integers. Only venues that exist are
# listed.
VENUE_IDS: dict[str, int] = {
    "binance-spot": 1,
    "binance-perp": 2,
    "bybit-perp": 3,
    "okx-swap": 4,
    "coinbase": 5,
    "kraken": 6,
    "hyperliquid": 7,
    "kucoin": 8,
    "gate": 11,
    "bitfinex": 9,
    "bitget": 12,
    "mexc": 10,
    "aster": 16,
    "binance-rwa": 19,
    "deribit": 13,
    "cryptocom": 14,
    "dydx": 15,
    "tradovate": 17,
    "fxcm": 18,
}
# Not a venue: the synthetic records of `nexus demo` and the ring benchmarks.
SYNTHETIC_VENUE_ID = 255
SYNTHETIC_VENUE_NAME = "sim"

VENUE_NAMES: dict[int, str] = {v: k for k, v in VENUE_IDS.items()}
VENUE_NAMES[SYNTHETIC_VENUE_ID] = SYNTHETIC_VENUE_NAME
assert len(VENUE_NAMES) == len(VENUE_IDS) + 1
assert max(VENUE_NAMES) < 1 << 16


def venue_id(name: str) -> int:
    try:
        return VENUE_IDS[name]
    except KeyError:
        raise ConfigError(f"unknown venue {name!r}; known venues: {', '.join(VENUE_IDS)}") from None
