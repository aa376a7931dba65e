"""Risk settings and per-symbol limits, validated with their allowed ranges.

Every limit is a named constant here; a value outside its range is refused with the range in
the message (the CLI exits 2 with it). Money (caps, notional) is a Decimal in the quote
currency of the instruments (one currency per gate), quantities in base units of the
instrument (its lot grid). A cap of None means "no cap" for manual trading; the auto-trader
refuses to start without both caps (issue 15).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, fields, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from nexus.exceptions import ConfigError

MAX_POSITIONS_MIN, MAX_POSITIONS_MAX = 1, 512       # engine RISK_SLOTS_MAX // 2
COOLDOWN_MS_MIN, COOLDOWN_MS_MAX = 0, 86_400_000    # up to a day
COOLDOWN_MS_DEFAULT = 15_000                        # the seed's default
MAX_ORDERS_MIN, MAX_ORDERS_MAX = 1, 4096            # engine RISK_RATE_MAX
RATE_WINDOW_MS_MIN, RATE_WINDOW_MS_MAX = 1, 3_600_000
PRICE_BAND_PCT_MIN, PRICE_BAND_PCT_MAX = Decimal("0.01"), Decimal("100")
PRICE_BAND_DECIMALS = 2                             # whole basis points in the engine
CAP_MAX = Decimal(10) ** 12                         # a daily cap above this is a typo
LIMIT_MAX = Decimal(10) ** 12                       # max qty / notional per symbol
_HHMM = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])\Z")


class RiskSettingsError(ConfigError):
    """A risk setting is outside its allowed range (the message names the range)."""


@dataclass(frozen=True, slots=True)
class RiskSettings:
    max_positions: int = 3
    cooldown_ms: int = COOLDOWN_MS_DEFAULT
    max_orders: int = 10            # per rate window
    rate_window_ms: int = 1_000
    price_band_pct: Decimal = Decimal("5")
    daily_loss: Decimal | None = None
    daily_profit: Decimal | None = None
    day_boundary_utc: str = "00:00"  # HH:MM (UTC) when the trading day starts

    @property
    def band_bp(self) -> int:
        return int(self.price_band_pct * 100)

    @property
    def day_boundary_min(self) -> int:
        h, m = self.day_boundary_utc.split(":")
        return int(h) * 60 + int(m)

    def to_obj(self) -> dict[str, Any]:
        return {k: (None if v is None else str(v)) if k in DECIMAL_FIELDS else v for k, v in asdict(self).items()}


DECIMAL_FIELDS = ("price_band_pct", "daily_loss", "daily_profit")
INT_RANGES = {
    "max_positions": (MAX_POSITIONS_MIN, MAX_POSITIONS_MAX),
    "cooldown_ms": (COOLDOWN_MS_MIN, COOLDOWN_MS_MAX),
    "max_orders": (MAX_ORDERS_MIN, MAX_ORDERS_MAX),
    "rate_window_ms": (RATE_WINDOW_MS_MIN, RATE_WINDOW_MS_MAX),
}


@dataclass(frozen=True, slots=True)
class InstrumentLimits:
    venue: str
    symbol: str
    max_qty: Decimal        # per order, base units of the instrument
    max_notional: Decimal   # per order, quote currency

    def to_obj(self) -> dict[str, str]:
        return {"venue": self.venue, "symbol": self.symbol, "max_qty": str(self.max_qty),
                "max_notional": str(self.max_notional)}


def parse_decimal(raw: Any, name: str) -> Decimal:
    if isinstance(raw, float) or isinstance(raw, bool):
        raise RiskSettingsError(f"{name}: give a decimal string, not {raw!r}")
    try:
        d = Decimal(str(raw).strip())
    except InvalidOperation:
        raise RiskSettingsError(f"{name}: {raw!r} is not a decimal number") from None
    if not d.is_finite():
        raise RiskSettingsError(f"{name}: {raw!r} is not a finite decimal number")
    return d


def problems(s: RiskSettings) -> list[str]:
    out = []
    for name, (lo, hi) in INT_RANGES.items():
        v = getattr(s, name)
        if type(v) is not int or not lo <= v <= hi:
            out.append(f"{name} {v!r} outside the allowed range {lo}..{hi}")
    b = s.price_band_pct
    if not PRICE_BAND_PCT_MIN <= b <= PRICE_BAND_PCT_MAX or b != round(b, PRICE_BAND_DECIMALS):
        out.append(f"price_band_pct {b} outside the allowed range {PRICE_BAND_PCT_MIN}..{PRICE_BAND_PCT_MAX} "
                   f"(at most {PRICE_BAND_DECIMALS} decimals)")
    for name in ("daily_loss", "daily_profit"):
        v = getattr(s, name)
        if v is not None and not 0 < v <= CAP_MAX:
            out.append(f"{name} {v} outside the allowed range: more than 0, at most {CAP_MAX} (or none)")
    if not isinstance(s.day_boundary_utc, str) or not _HHMM.match(s.day_boundary_utc):
        out.append(f"day_boundary_utc {s.day_boundary_utc!r}: expected HH:MM in UTC, 00:00..23:59")
    return out


def validated(s: RiskSettings) -> RiskSettings:
    found = problems(s)
    if found:
        raise RiskSettingsError("risk settings refused: " + "; ".join(found))
    return s


def settings_from_obj(obj: dict[str, Any], base: RiskSettings | None = None) -> RiskSettings:
    """Settings from strings / JSON values over `base` (defaults), validated. Unknown names
    are refused; caps accept "none"."""
    names = {f.name for f in fields(RiskSettings)}
    unknown = sorted(set(obj) - names)
    if unknown:
        raise RiskSettingsError(f"unknown risk setting {unknown[0]!r}; known: {', '.join(sorted(names))}")
    values: dict[str, Any] = {}
    for name, raw in obj.items():
        if name in ("daily_loss", "daily_profit") and (raw is None or str(raw).lower() == "none"):
            values[name] = None
        elif name in DECIMAL_FIELDS:
            values[name] = parse_decimal(raw, name)
        elif name in INT_RANGES:
            try:
                values[name] = int(str(raw), 10)
            except ValueError:
                lo, hi = INT_RANGES[name]
                raise RiskSettingsError(f"{name}: {raw!r} is not an integer in {lo}..{hi}") from None
        else:
            values[name] = raw
    return validated(replace(base or RiskSettings(), **values))


def limits_problems(lim: InstrumentLimits) -> list[str]:
    out = []
    for name in ("max_qty", "max_notional"):
        v = getattr(lim, name)
        if not 0 < v <= LIMIT_MAX:
            out.append(f"{name} {v} for {lim.venue}:{lim.symbol} outside the allowed range: more than 0, at most {LIMIT_MAX}")
    return out
