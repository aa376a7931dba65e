"""Per-signal statistics from fills: trades, win rate, PnL, average hold and max drawdown per
signal type and per venue (seed 000: "Each open auto-position is tagged with the signal that
triggered it, so you can audit which signals are profitable in your stats").

A trade is read back from the fills alone: the fills sharing a tag (`<signal>#<session>-<n>`,
the auto-trader's; untagged manual fills share one key per venue and symbol) open a trade
when their running signed quantity leaves zero and close it when it returns to zero. Its
gross PnL is the sum of what the gate realised on its fills; its fees the sum of the fees
the venue reported on them (entry and exit); its net PnL gross - fees. Wins, the win rate,
`pnl` and the drawdown are on the NET PnL (as SMART decides win / loss); `gross_pnl` and
`fees` are shown beside it. Its hold is the time from the opening fill to the closing one.
Drawdown: the largest fall of the cumulative net PnL of closed trades (in closing order)
from its running peak, the peak starting at 0. Exact decimals throughout; a win rate is
shown to RATE_DECIMALS places. Fills stored before the fee column (risk store schema 1)
count fee 0.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Iterable

from nexus.exceptions import ConfigError
from nexus.risk.store import FillRow

RATE_DECIMALS = 4
NS_PER_MS = 1_000_000
_REL = re.compile(r"(\d+)([smhd])\Z")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def signal_of(tag: str) -> str:
    return tag.split("#", 1)[0] if tag else "manual"


@dataclass
class ClosedTrade:
    signal: str
    venue: str
    pnl: Decimal                  # net: gross - fees
    opened_ns: int
    closed_ns: int
    gross: Decimal = Decimal(0)
    fees: Decimal = Decimal(0)


def trades_of(fills: Iterable[FillRow]) -> tuple[list[ClosedTrade], int]:
    """The closed trades (in closing order) and how many are still open."""
    running: dict[tuple, tuple[Decimal, Decimal, Decimal, int]] = {}   # key -> (signed qty, gross, fees, opened_ns)
    closed: list[ClosedTrade] = []
    for f in fills:
        key = (f.tag or "", f.venue, f.symbol)
        qty, gross, fees, opened = running.get(key, (Decimal(0), Decimal(0), Decimal(0), f.ts_ns))
        if not qty:
            gross, fees, opened = Decimal(0), Decimal(0), f.ts_ns
        qty += f.qty if f.side == "buy" else -f.qty
        gross += f.realised
        fees += f.fee
        if qty:
            running[key] = (qty, gross, fees, opened)
        else:
            running.pop(key, None)
            closed.append(ClosedTrade(signal_of(f.tag), f.venue, gross - fees, opened, f.ts_ns, gross, fees))
    return closed, len(running)


def _group(trades: list[ClosedTrade]) -> dict:
    n = len(trades)
    wins = sum(1 for t in trades if t.pnl > 0)
    pnl = sum((t.pnl for t in trades), Decimal(0))
    peak = cum = dd = Decimal(0)
    for t in trades:
        cum += t.pnl
        peak = max(peak, cum)
        dd = max(dd, peak - cum)
    hold_ns = sum(t.closed_ns - t.opened_ns for t in trades)
    return {"trades": n, "wins": wins,
            "win_rate": str((Decimal(wins) / n).quantize(Decimal(1).scaleb(-RATE_DECIMALS), ROUND_HALF_EVEN)) if n else None,
            "pnl": str(pnl), "gross_pnl": str(sum((t.gross for t in trades), Decimal(0))),
            "fees": str(sum((t.fees for t in trades), Decimal(0))), "net_pnl": str(pnl), "avg_hold_ms": hold_ns // n // NS_PER_MS if n else None, "max_drawdown": str(dd)}


def compute(fills: Iterable[FillRow]) -> dict:
    closed, still_open = trades_of(fills)
    by_signal: dict[str, list[ClosedTrade]] = {}
    by_venue: dict[str, list[ClosedTrade]] = {}
    for t in closed:
        by_signal.setdefault(t.signal, []).append(t)
        by_venue.setdefault(t.venue, []).append(t)
    return {"total": _group(closed), "open_trades": still_open,
            "by_signal": {k: _group(v) for k, v in sorted(by_signal.items())},
            "by_venue": {k: _group(v) for k, v in sorted(by_venue.items())}}


def parse_since(raw: str | None, now_ns: int) -> int:
    """`--since`: a UTC date (2026-01-31), a duration back from now (90m, 12h, 7d), or ns."""
    if raw is None:
        return 0
    raw = raw.strip()
    m = _REL.match(raw)
    if m:
        return now_ns - int(m.group(1)) * _UNIT_S[m.group(2)] * 1_000_000_000
    if raw.isdigit():
        return int(raw)
    try:
        d = _dt.date.fromisoformat(raw)
    except ValueError:
        raise ConfigError(f"--since {raw!r}: expected a UTC date (YYYY-MM-DD), a duration (90m, 12h, 7d) "
                          f"or nanoseconds since the epoch") from None
    return int(_dt.datetime(d.year, d.month, d.day, tzinfo=_dt.timezone.utc).timestamp()) * 1_000_000_000
