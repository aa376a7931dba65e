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


_parsed: dict[str, tuple[str, ...]] = {}       # the variable's text -> its assets (order entry asks per order)
_symbols: dict[tuple[str, str], bool] = {}      # (the variable's text, symbol) -> allowed
MEMO_MAX = 4096


def assets() -> tuple[str, ...]:
    raw = os.environ.get(ENV, "")
    got = _parsed.get(raw)
    if got is None:
        got = tuple(a.strip().upper() for a in raw.split(",") if a.strip()) or DEFAULT_ASSETS
        if len(_parsed) < MEMO_MAX:
            _parsed[raw] = got
    return got


def allowed(symbol: str, base: str | None = None) -> bool:
    if base is not None:
        return base.upper() in assets()
    key = (os.environ.get(ENV, ""), symbol)
    ok = _symbols.get(key)
    if ok is None:
        s = symbol.upper()
        ok = any(s.startswith(a) and s[len(a):] in QUOTES for a in assets())
        if len(_symbols) < MEMO_MAX:
            _symbols[key] = ok
    return ok


def refusal(symbol: str) -> str:
    return (f"binance-rwa: {symbol!r} is not a whitelisted real-world-asset symbol (whitelisted "
            f"base assets: {', '.join(assets())}; set {ENV} to change the list)")


def check(symbol: str) -> str:
    if not allowed(symbol):
        raise ConfigError(refusal(symbol))
    return symbol
