"""Clocks. Every timer in the broker reads one injectable clock, in integer microseconds since
the Unix epoch: the system clock, a scaled clock (`--time-scale`, demos and tests), or a
manual clock the tests advance."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone

US_PER_S = 1_000_000


class Clock:
    def now_us(self) -> int:
        raise NotImplementedError


class SystemClock(Clock):
    def now_us(self) -> int:
        return time.time_ns() // 1000


class ScaledClock(Clock):
    """Runs `scale` times faster than the wall clock from an anchor. The anchor is never earlier
    than `not_before_us`, so a restarted server never moves the broker's time backwards."""

    def __init__(self, scale: float, not_before_us: int = 0) -> None:
        if not scale > 0:
            raise ValueError("time scale must be > 0")
        self.scale = scale
        self._anchor_us = max(time.time_ns() // 1000, not_before_us)
        self._anchor_mono_ns = time.monotonic_ns()

    def now_us(self) -> int:
        elapsed_us = (time.monotonic_ns() - self._anchor_mono_ns) / 1000
        return self._anchor_us + int(elapsed_us * self.scale)


class ManualClock(Clock):
    def __init__(self, start_us: int | None = None) -> None:
        self._now_us = start_us if start_us is not None else time.time_ns() // 1000
        self._lock = threading.Lock()

    def now_us(self) -> int:
        with self._lock:
            return self._now_us

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now_us += int(seconds * US_PER_S)


def iso(us: int | None) -> str | None:
    if us is None:
        return None
    return datetime.fromtimestamp(us / US_PER_S, tz=timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
