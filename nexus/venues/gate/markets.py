"""Gate's markets as the order adapter names them: `BTCUSDT` (or BTC_USDT) the spot pair,
`BTCUSDT:USDT` the USDT-settled contract BTC_USDT; the API's paths and the client id's `text`
(https://www.gate.io/docs/developers/apiv4/en/; the SDK's docs/Order.md `text`: "t-" + at
most 28 characters)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from nexus.exec.orders import OrderError
from nexus.venues.gate.data import FUTURES_SUFFIX

API = "/api/v4"
FUTURES = "/futures/usdt"           # below API: USDT-settled futures
TEXT_PREFIX = "t-"
TEXT_MAX = 28                       # characters after "t-" (docs/Order.md `text`)


def _dec(text: Any) -> Decimal | None:
    return Decimal(str(text)) if text not in ("", None) else None


def is_futures(symbol: str) -> bool:
    return symbol.endswith(FUTURES_SUFFIX) or symbol.upper().endswith(FUTURES_SUFFIX)


def contract_of(symbol: str) -> str:
    """BTC_USDT from BTC_USDT:USDT or BTCUSDT:USDT (the USDT-settled contract)."""
    s = symbol.upper()[: -len(FUTURES_SUFFIX)]
    if "_" in s:
        return s
    from nexus.venues.gate.feed import _symbol
    return _symbol(s)


def pair_of(symbol: str) -> str:
    """BTC_USDT from BTC_USDT or BTCUSDT (a quote Nexus knows: USDT, USDC, BTC, ETH...)."""
    if "_" in symbol and ":" not in symbol and symbol.isupper():
        return symbol                      # already Gate's pair (an instrument's symbol)
    from nexus.venues.gate.feed import _symbol

    s = symbol.upper()
    if s.endswith(FUTURES_SUFFIX):
        raise OrderError(f"gate: {symbol} is a USDT futures contract, not a spot pair")
    return s if "_" in s else _symbol(s)


def _plain(d: Decimal) -> str:
    """A decimal as plain text (no exponent); str() is the fast path."""
    t = str(d)
    return format(d, "f") if "E" in t else t


def client_text(client_id: str) -> str:
    if len(client_id) > TEXT_MAX:
        raise OrderError(f"gate: client order id {client_id!r} is longer than Gate's {TEXT_MAX} characters "
                         "(order `text`): not sent")
    return TEXT_PREFIX + client_id
