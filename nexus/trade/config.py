"""The auto-trader's settings, validated with their allowed ranges (a refusal names the range;
the CLI exits 2 with it).

Seed 000, "Auto-trader modules": the confidence threshold (default 65 %, range 50-95), the
signal types it may act on (oracle off by default), REVERSE (invert every signal), SMART
(martingale sizing), and TP/SL distances in ticks of the symbol. The caps, max positions and
cooldown are the risk gate's settings (nexus/risk/settings.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from nexus.exceptions import ConfigError
from nexus.exec.orders import TICKS_MAX
from nexus.flow.signals import SIGNAL_NAMES, TRADE_DEFAULT

THRESHOLD_PCT_MIN, THRESHOLD_PCT_MAX = 50, 95
THRESHOLD_PCT_DEFAULT = 65                  # the seed's default
TP_TICKS_DEFAULT = SL_TICKS_DEFAULT = 40
TICKS_MIN = 1
SIGNAL_TYPES = tuple(SIGNAL_NAMES[k] for k in sorted(SIGNAL_NAMES))


class AutoSettingsError(ConfigError):
    """An auto-trader setting outside its allowed range (the message names it)."""


@dataclass(frozen=True)
class AutoSettings:
    threshold_pct: int = THRESHOLD_PCT_DEFAULT
    signals: frozenset[str] = TRADE_DEFAULT
    reverse: bool = False
    smart: bool = False
    tp_ticks: int = TP_TICKS_DEFAULT
    sl_ticks: int = SL_TICKS_DEFAULT
    base_qty: Decimal | None = None          # None: one lot of the symbol

    def to_obj(self) -> dict:
        return {"threshold_pct": self.threshold_pct, "signals": sorted(self.signals), "reverse": self.reverse,
                "smart": self.smart, "tp_ticks": self.tp_ticks, "sl_ticks": self.sl_ticks,
                "base_qty": None if self.base_qty is None else str(self.base_qty)}


def parse_signals(raw: str | None) -> frozenset[str]:
    """`absorption,iceberg,...` -> the set; an unknown name is refused listing the known ones."""
    if raw is None:
        return TRADE_DEFAULT
    names = [s.strip().lower().replace("-", "_") for s in raw.split(",") if s.strip()]
    if not names:
        raise AutoSettingsError(f"--signals: name at least one of {', '.join(SIGNAL_TYPES)}")
    unknown = [n for n in names if n not in SIGNAL_TYPES]
    if unknown:
        raise AutoSettingsError(f"--signals: unknown signal type {unknown[0]!r}; known: {', '.join(SIGNAL_TYPES)}")
    return frozenset(names)


def validated(s: AutoSettings) -> AutoSettings:
    found = []
    if type(s.threshold_pct) is not int or not THRESHOLD_PCT_MIN <= s.threshold_pct <= THRESHOLD_PCT_MAX:
        found.append(f"threshold {s.threshold_pct!r} outside the allowed range {THRESHOLD_PCT_MIN}..{THRESHOLD_PCT_MAX} (%)")
    for name in ("tp_ticks", "sl_ticks"):
        v = getattr(s, name)
        if type(v) is not int or not TICKS_MIN <= v <= TICKS_MAX:
            found.append(f"{name.replace('_', '-')} {v!r} outside the allowed range {TICKS_MIN}..{TICKS_MAX}")
    if s.base_qty is not None and not s.base_qty > 0:
        found.append(f"qty {s.base_qty} outside the allowed range: more than 0")
    if not s.signals or not s.signals <= set(SIGNAL_TYPES):
        found.append(f"signals {sorted(s.signals)}: a non-empty subset of {', '.join(SIGNAL_TYPES)}")
    if found:
        raise AutoSettingsError("auto-trader settings refused: " + "; ".join(found))
    return s
