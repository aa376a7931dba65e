"""Positions, average entry and realised / unrealised PnL from fills, exact, per venue and
symbol.

A position is a signed quantity (long > 0, short < 0, in the instrument's order units) with
the average entry price of what is open. A fill in the position's direction adds to it at a
new quantity-weighted average; a fill against it closes at the fill price, realising
(fill - entry) * closed * direction * contract value; a fill larger than the position closes
it and opens the rest the other way at the fill's price. Fees are realised as they are
charged. Nothing is rounded: the open cost and realised PnL are kept as exact fractions
(a partial close at an average entry divides by the quantity, which a decimal cannot
always hold: 0.12 / 11), and shown as decimals to `DECIMALS_SHOWN` places; the `*_exact`
values are what invariants and the risk gate compare.

`unrealised(mark)` values what is open at a mark price (the touch or mid the caller
chooses); inverse contracts are out of scope here (the seed's execution venues quote linear
and spot instruments).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction

from nexus.exec.orders import Side

ZERO = Decimal(0)
DECIMALS_SHOWN = 18
_QUANTUM = Decimal(1).scaleb(-DECIMALS_SHOWN)


def shown(x: Fraction) -> Decimal:
    """An exact fraction as a decimal, rounded half-even at DECIMALS_SHOWN places only when
    it does not terminate there."""
    d = Decimal(x.numerator) / Decimal(x.denominator)
    return d if Fraction(d) == x else d.quantize(_QUANTUM, rounding=ROUND_HALF_EVEN)


@dataclass
class Position:
    venue: str
    symbol: str
    contract_value: Decimal = Decimal(1)
    qty: Decimal = ZERO            # signed: long > 0, short < 0
    cost_exact: Fraction = Fraction(0)      # entry price * qty over what is open (signed like qty)
    realised_exact: Fraction = Fraction(0)  # closed PnL minus fees, in the quote currency
    fees: Decimal = ZERO
    fills: int = 0

    @property
    def realised(self) -> Decimal:
        return shown(self.realised_exact)

    @property
    def avg_entry(self) -> Decimal | None:
        return shown(self.cost_exact / Fraction(self.qty)) if self.qty else None

    @property
    def side(self) -> Side | None:
        return None if not self.qty else (Side.BUY if self.qty > 0 else Side.SELL)

    def apply(self, side: Side, qty: Decimal, price: Decimal, fee: Decimal = ZERO) -> Decimal:
        """Apply one fill; returns the PnL it realised (fee included)."""
        if qty <= 0 or price <= 0:
            raise ValueError(f"a fill needs a positive quantity and price, got {qty} @ {price}")
        signed = qty * side.sign
        realised = -Fraction(fee)
        if self.qty and (self.qty > 0) != (signed > 0):  # against the position: close first
            closing = min(qty, abs(self.qty))
            direction = 1 if self.qty > 0 else -1
            closed_cost = self.cost_exact * Fraction(closing) / Fraction(abs(self.qty))
            realised += (Fraction(price * closing * direction) - closed_cost) * Fraction(self.contract_value)
            self.cost_exact -= closed_cost
            self.qty -= closing * direction
            signed += closing * direction  # what is left opens the other way
            if not self.qty:
                self.cost_exact = Fraction(0)
        if signed:
            self.qty += signed
            self.cost_exact += Fraction(price * signed)
        self.realised_exact += realised
        self.fees += fee
        self.fills += 1
        return shown(realised)

    def unrealised_exact(self, mark: Decimal) -> Fraction:
        if not self.qty:
            return Fraction(0)
        return (Fraction(mark * self.qty) - self.cost_exact) * Fraction(self.contract_value)

    def unrealised(self, mark: Decimal) -> Decimal:
        return shown(self.unrealised_exact(mark))

    def reduces(self, side: Side, qty: Decimal) -> bool:
        """Whether an order of `side` and `qty` only reduces this position (never opens,
        increases or flips it): what reduce-only promises."""
        return bool(self.qty) and (self.qty > 0) != (side is Side.BUY) and qty <= abs(self.qty)


@dataclass
class Positions:
    """Every position of a session, by (venue, symbol)."""

    book: dict[tuple[str, str], Position] = field(default_factory=dict)

    def get(self, venue: str, symbol: str, contract_value: Decimal | str = "1") -> Position:
        key = (venue, symbol)
        p = self.book.get(key)
        if p is None:
            p = self.book[key] = Position(venue, symbol, Decimal(contract_value))
        return p

    def open(self) -> list[Position]:
        return [p for p in self.book.values() if p.qty]

    def realised(self) -> Decimal:
        return shown(sum((p.realised_exact for p in self.book.values()), Fraction(0)))
