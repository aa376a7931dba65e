"""Instrument registry: each instrument's price and quantity decimal exponents, tick size,
lot size and contract value, and exact conversion between decimal strings and the
integers the record carries.

An integer price `p` at exponent `e` means p * 10**-e. Conversion never rounds: a string
with more decimals than the exponent, or a price not on the tick grid, raises DecimalError.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Iterable

from nexus import _native
from nexus.exceptions import ConfigError, DecimalError, UnknownInstrument

CONTRACT_KINDS = ("spot", "linear", "inverse")


def decimals_of(value: str | Decimal) -> int:
    """Number of fractional digits needed to write `value` exactly ("0.010" -> 2, "5" -> 0)."""
    d = Decimal(value).normalize()
    exp = d.as_tuple().exponent
    return max(0, -exp) if isinstance(exp, int) else 0


@dataclass(frozen=True)
class Instrument:
    venue: str
    symbol: str
    tick_size: str
    lot_size: str
    contract_value: str = "1"
    contract_kind: str = "spot"
    base: str = ""
    quote: str = ""
    # Exponents default to the tick/lot decimals; a venue may send finer quantities than
    # its lot size (aggregated books), so they can be set wider explicitly.
    price_exponent: int = -1
    qty_exponent: int = -1
    instrument_id: int = field(default=0, compare=False)

    def __post_init__(self) -> None:
        for name in ("tick_size", "lot_size", "contract_value"):
            v = getattr(self, name)
            try:
                ok = Decimal(v) > 0
            except Exception:
                ok = False
            if not ok:
                raise ConfigError(f"{self.venue} {self.symbol}: {name} must be a positive decimal string, got {v!r}")
        if self.contract_kind not in CONTRACT_KINDS:
            raise ConfigError(f"contract_kind must be one of {CONTRACT_KINDS}, got {self.contract_kind!r}")
        pe = self.price_exponent if self.price_exponent >= 0 else decimals_of(self.tick_size)
        qe = self.qty_exponent if self.qty_exponent >= 0 else decimals_of(self.lot_size)
        if pe < decimals_of(self.tick_size) or qe < decimals_of(self.lot_size):
            raise ConfigError(f"{self.venue} {self.symbol}: exponent narrower than tick or lot size")
        if max(pe, qe) > _native.EXPONENT_MAX:
            raise ConfigError(f"{self.venue} {self.symbol}: exponent above {_native.EXPONENT_MAX}")
        object.__setattr__(self, "price_exponent", pe)
        object.__setattr__(self, "qty_exponent", qe)
        object.__setattr__(self, "instrument_id", instrument_id_of(self.venue, self.symbol))
        object.__setattr__(self, "_tick_units", _native.parse_scaled(self.tick_size, pe))

    # -- conversion (exact) --------------------------------------------------------------
    def price_to_int(self, s: str) -> int:
        """Decimal string -> integer price; off the tick grid is an error."""
        v = _native.parse_scaled(s, self.price_exponent)
        if v % self._tick_units:  # type: ignore[attr-defined]
            raise DecimalError(f"{s!r}: not a multiple of the tick size {self.tick_size} of {self.venue} {self.symbol}")
        return v

    def qty_to_int(self, s: str) -> int:
        """Decimal string -> integer quantity (at the quantity exponent)."""
        return _native.parse_scaled(s, self.qty_exponent)

    def price_str(self, v: int) -> str:
        return _native.format_scaled(v, self.price_exponent)

    def qty_str(self, v: int) -> str:
        return _native.format_scaled(v, self.qty_exponent)

    def base_qty(self, qty: int, price: int | None = None) -> Decimal:
        """A quantity in base-coin units: contracts x contract value; inverse contracts by
        notional / price (needs the price)."""
        q = Decimal(qty).scaleb(-self.qty_exponent) * Decimal(self.contract_value)
        if self.contract_kind == "inverse":
            if not price:
                raise ConfigError(f"{self.venue} {self.symbol} is inverse: base quantity needs a price")
            return q / Decimal(price).scaleb(-self.price_exponent)
        return q


def instrument_id_of(venue: str, symbol: str) -> int:
    """Stable across processes and runs (so rings and recordings agree): CRC32 of venue:symbol."""
    return zlib.crc32(f"{venue}:{symbol}".encode()) & 0x7FFFFFFF


class Registry:
    """Instruments by (venue, symbol) and by id. Ids are stable hashes; a collision is an error."""

    def __init__(self, instruments: Iterable[Instrument] = ()) -> None:
        self._by_key: dict[tuple[str, str], Instrument] = {}
        self._by_id: dict[int, Instrument] = {}
        for inst in instruments:
            self.add(inst)

    def add(self, inst: Instrument) -> Instrument:
        other = self._by_id.get(inst.instrument_id)
        if other is not None and (other.venue, other.symbol) != (inst.venue, inst.symbol):
            raise ConfigError(f"instrument id collision: {inst.venue} {inst.symbol} vs {other.venue} {other.symbol}")
        self._by_key[(inst.venue, inst.symbol)] = inst
        self._by_id[inst.instrument_id] = inst
        return inst

    def get(self, venue: str, symbol: str) -> Instrument:
        try:
            return self._by_key[(venue, symbol)]
        except KeyError:
            raise UnknownInstrument(
                f"no instrument {symbol!r} on {venue}; load the venue's metadata or register it"
            ) from None

    def by_id(self, instrument_id: int) -> Instrument:
        try:
            return self._by_id[instrument_id]
        except KeyError:
            raise UnknownInstrument(f"no instrument with id {instrument_id}") from None

    def __contains__(self, key: tuple[str, str]) -> bool:
        return key in self._by_key

    def __iter__(self):
        return iter(self._by_key.values())

    def __len__(self) -> int:
        return len(self._by_key)
