"""Normalisation into common units, from instrument metadata only.

Prices go onto one grid per symbol: the finest price exponent among the venues, so every
venue's price converts exactly (price * 10^(common - venue)). Quantities go to base-coin
units at a common quantity exponent (default 8: 1e-8 of a coin): contracts x contract
value for linear contracts, notional / price for inverse ones (truncated toward zero at
the common exponent, the only inexact conversion, and documented as such).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from nexus import _native
from nexus.exceptions import ConfigError
from nexus.instruments import Instrument, decimals_of

COMMON_QTY_EXPONENT = 8


@dataclass(frozen=True)
class Scale:
    price_mul: int
    qty_mul: int
    qty_div: int
    inverse: bool


@dataclass(frozen=True)
class Grid:
    price_exponent: int
    qty_exponent: int


def common_grid(instruments: list[Instrument], qty_exponent: int = COMMON_QTY_EXPONENT) -> Grid:
    if not instruments:
        raise ConfigError("the aggregator needs at least one venue")
    return Grid(max(i.price_exponent for i in instruments), qty_exponent)


def grid_tick(instruments: list[Instrument], grid: Grid) -> int:
    """The largest price step (grid units) every venue's tick is a multiple of: the consensus
    book's ladder step. A hint only: a price off it is still kept exactly."""
    tick = 0
    for inst in instruments:
        tick = math.gcd(tick, _native.parse_scaled(inst.tick_size, grid.price_exponent))
    return tick or 1


def scale_for(inst: Instrument, grid: Grid) -> Scale:
    if inst.price_exponent > grid.price_exponent:
        raise ConfigError(f"{inst.venue} {inst.symbol}: price grid finer than the common grid")
    price_mul = 10 ** (grid.price_exponent - inst.price_exponent)
    cv = Decimal(inst.contract_value)
    cv_exp = decimals_of(cv)
    cv_int = int(cv.scaleb(cv_exp))
    # linear: qty_c = q * cv_int * 10^(cq - qe - cv_exp)
    # inverse: qty_c = q * cv_int * 10^(cq + cpe - qe - cv_exp) / price_c
    e = grid.qty_exponent - inst.qty_exponent - cv_exp
    if inst.contract_kind == "inverse":
        e += grid.price_exponent
    mul, div = (cv_int * 10**e, 1) if e >= 0 else (cv_int, 10**-e)
    return Scale(price_mul, mul, div, inst.contract_kind == "inverse")


def to_common_price(v: int, scale: Scale) -> int:
    return v * scale.price_mul


def to_common_qty(q: int, scale: Scale, price_c: int) -> int:
    """Python mirror of the native VenueScale::qty (used by tests and the pure-Python baseline)."""
    if scale.inverse:
        return (q * scale.qty_mul) // (price_c * scale.qty_div) if price_c else 0
    return q * scale.qty_mul // scale.qty_div
