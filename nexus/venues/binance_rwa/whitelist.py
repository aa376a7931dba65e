"""The RWA whitelist: which Binance spot symbols the `binance-rwa` venue accepts.

The whitelist is a set of base assets, read from the environment variable
NEXUS_BINANCE_RWA_ASSETS (comma-separated, e.g. "PAXG,XAUT") every time it is consulted;
unset or empty, it is DEFAULT_ASSETS. A symbol is whitelisted when it is a whitelisted base
asset followed by one of Binance's quote assets (PAXGUSDT, PAXGBTC). Anything else is
refused with a ConfigError (at start) or a DecodeError (a message for it), never served.
"""

from __future__ import annotations

import os

from nexus.exceptions import ConfigError

ENV = "NEXUS_BINANCE_RWA_ASSETS"
# PAX Gold: the tokenized real-world asset (one fine troy ounce of London Good Delivery gold per
# token) listed on Binance spot.
DEFAULT_ASSETS = ("PAXG",)
QUOTES = ("USDT", "USDC", "FDUSD", "TUSD", "USD1", "BTC", "ETH", "BNB", "EUR", "TRY", "BRL", "JPY")


def assets() -> tuple[str, ...]:
    raw = os.environ.get(ENV, "")
    got = tuple(a.strip().upper() for a in raw.split(",") if a.strip())
    return got or DEFAULT_ASSETS


def allowed(symbol: str, base: str | None = None) -> bool:
    s = symbol.upper()
    wl = assets()
    if base is not None:
        return base.upper() in wl
    return any(s.startswith(a) and s[len(a):] in QUOTES for a in wl)


def refusal(symbol: str) -> str:
    return (f"binance-rwa: {symbol!r} is not a whitelisted real-world-asset symbol (whitelisted "
            f"base assets: {', '.join(assets())}; set {ENV} to change the list)")


def check(symbol: str) -> str:
    if not allowed(symbol):
        raise ConfigError(refusal(symbol))
    return symbol
