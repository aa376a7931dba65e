"""Currencies and their smallest units. Money is an integer in the ledger (wei, token units,
cents); `Decimal` strings only at the edges. Conversion is exact: more decimals than the
currency has is an error, never a rounding."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, localcontext

from nexus.broker.errors import Invalid


@dataclass(frozen=True)
class Currency:
    code: str
    decimals: int
    crypto: bool
    native: bool = False  # native coin of its chain (pays the gas)

    @property
    def unit(self) -> int:
        return 10**self.decimals


ETH = Currency("ETH", 18, crypto=True, native=True)
USDT = Currency("USDT", 6, crypto=True, native=False)
EUR = Currency("EUR", 2, crypto=False)

CRYPTOS: dict[str, Currency] = {c.code: c for c in (ETH, USDT)}
FIATS: dict[str, Currency] = {EUR.code: EUR}
CURRENCIES: dict[str, Currency] = {**CRYPTOS, **FIATS}

# Limits (named, and related by assertion).
FIAT_CENTS_MAX = 100_000_00  # one transaction: at most 100 000.00 EUR
FIAT_CENTS_MIN = 1  # and at least 0.01 EUR
AMOUNT_DIGITS_MAX = 40  # digits a decimal amount string may carry in total
# the smallest crypto a Buy or Gift sends (configurable: `broker serve --min-send`); the
# network fee of the send is a second floor (nexus.broker.orders)
SEND_UNITS_MIN = {"ETH": 10**15, "USDT": 10**6}  # 0.001 ETH, 1 USDT
assert FIAT_CENTS_MIN > 0 and FIAT_CENTS_MAX > FIAT_CENTS_MIN

AMOUNT_PATTERN = r"^[0-9]{1,22}(\.[0-9]{1,18})?$"
_AMOUNT_RE = re.compile(AMOUNT_PATTERN)


def currency(code: str) -> Currency:
    try:
        return CURRENCIES[code]
    except KeyError:
        raise Invalid(f"unknown currency {code!r} (known: {', '.join(CURRENCIES)})", code="unknown_currency") from None


def crypto(code: str) -> Currency:
    c = CRYPTOS.get(code)
    if c is None:
        raise Invalid(f"unknown crypto {code!r} (known: {', '.join(CRYPTOS)})", code="unknown_currency")
    return c


def to_units(text: str, cur: Currency, *, field: str = "amount") -> int:
    """"1.5" ETH -> 1500000000000000000. Refuses signs, exponents, and too many decimals."""
    if not isinstance(text, str) or not _AMOUNT_RE.match(text):
        raise Invalid(f"{field}: {text!r} is not a plain decimal string like \"12.34\"", code="invalid_amount")
    whole, _, frac = text.partition(".")
    if len(frac) > cur.decimals:
        raise Invalid(f"{field}: {text} has more than {cur.decimals} decimals for {cur.code}", code="invalid_amount")
    return int(whole) * cur.unit + int(frac.ljust(cur.decimals, "0") or "0")


def to_str(units: int, cur: Currency) -> str:
    """Integer smallest units -> decimal string with exactly the currency's decimals."""
    sign = "-" if units < 0 else ""
    q, r = divmod(abs(int(units)), cur.unit)
    if cur.decimals == 0:
        return f"{sign}{q}"
    return f"{sign}{q}.{str(r).rjust(cur.decimals, '0')}"


def dec(units: int, cur: Currency) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = 80
        return Decimal(int(units)).scaleb(-cur.decimals)
