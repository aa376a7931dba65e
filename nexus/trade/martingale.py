"""SMART sizing (seed 000, "Auto-trader modules"): the base size is captured when AUTO turns
on; after each losing trade the next size is raised so that one take-profit recovers every
loss of the streak plus the base trade's own profit; after a win it goes back to the base.
The streak is shown; the size never exceeds the risk gate's max order quantity.

    size = base + ceil_lot(losses / (tp_ticks * tick * contract_value))

where `losses` is the streak's summed loss in the quote currency. Exact decimals: the
division is exact to DIVISION_DIGITS significant digits and then rounded UP to the lot (a
size rounded down would not recover the loss); the cap rounds DOWN to the lot (never above
the gate's max). Without SMART the size is always the base.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Context, Decimal

DIVISION_DIGITS = 60
_CTX = Context(prec=DIVISION_DIGITS)


def on_lot(q: Decimal, lot: Decimal, rounding: str) -> Decimal:
    return (q / lot).to_integral_value(rounding=rounding) * lot


@dataclass
class Martingale:
    base: Decimal                 # captured when AUTO turns on
    lot: Decimal
    win_per_unit: Decimal         # tp_ticks * tick * contract value: a take-profit's PnL per unit
    cap: Decimal                  # the risk gate's max order quantity of the symbol
    smart: bool = False
    losses: Decimal = Decimal(0)  # summed loss of the current streak (positive)
    streak: int = 0

    def __post_init__(self) -> None:
        if self.base <= 0 or self.lot <= 0 or self.win_per_unit <= 0 or self.cap <= 0:
            raise ValueError("base, lot, win per unit and cap must be positive")
        if self.base % self.lot:
            raise ValueError(f"base size {self.base} is not a multiple of the lot {self.lot}")

    def next_qty(self) -> Decimal:
        size = self.base
        if self.smart and self.losses:
            extra = _CTX.divide(self.losses, self.win_per_unit)
            size = self.base + on_lot(extra, self.lot, ROUND_CEILING)
        return min(size, on_lot(self.cap, self.lot, ROUND_FLOOR))

    def on_result(self, pnl: Decimal) -> None:
        """A closed trade's PnL: a loss extends the streak, anything else ends it."""
        if pnl < 0:
            self.streak += 1
            self.losses += -pnl
        else:
            self.streak = 0
            self.losses = Decimal(0)
