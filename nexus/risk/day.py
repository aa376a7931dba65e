"""The trading day: the date of (now - boundary) in UTC, so a boundary of 22:00 makes the day
run 22:00..22:00 UTC and is named by the date it starts on. Integer arithmetic only."""

from __future__ import annotations

import datetime as _dt

NS_PER_S = 1_000_000_000
S_PER_DAY = 86_400
_EPOCH_ORDINAL = _dt.date(1970, 1, 1).toordinal()


def trading_day(now_ns: int, boundary_min: int = 0) -> str:
    """ISO date of the trading day `now_ns` (ns since the Unix epoch) falls in."""
    secs = now_ns // NS_PER_S - boundary_min * 60
    return _dt.date.fromordinal(_EPOCH_ORDINAL + secs // S_PER_DAY).isoformat()


def day_span_ns(now_ns: int, boundary_min: int = 0) -> tuple[int, int]:
    """[start, end) in ns of the trading day `now_ns` falls in (the day `trading_day` names)."""
    start_s = (now_ns // NS_PER_S - boundary_min * 60) // S_PER_DAY * S_PER_DAY + boundary_min * 60
    return start_s * NS_PER_S, (start_s + S_PER_DAY) * NS_PER_S
