"""Reconnect delays: exponential with full jitter, bounded, reset after a healthy period."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

BACKOFF_BASE_S = 0.5
BACKOFF_S_MAX = 30.0
HEALTHY_RESET_S = 30.0
assert 0 < BACKOFF_BASE_S <= BACKOFF_S_MAX


@dataclass
class Backoff:
    base_s: float = BACKOFF_BASE_S
    max_s: float = BACKOFF_S_MAX
    healthy_reset_s: float = HEALTHY_RESET_S
    rng: random.Random = field(default_factory=random.Random)
    attempt: int = 0

    def next_delay(self) -> float:
        """Delay before the next attempt: uniform in [cap/2, cap], cap = min(max, base * 2^attempt)."""
        cap = min(self.max_s, self.base_s * (2 ** min(self.attempt, 30)))
        self.attempt += 1
        return self.rng.uniform(cap / 2, cap)

    def connected_for(self, seconds: float) -> None:
        """Call while connected: after `healthy_reset_s` of health, start again from base."""
        if seconds >= self.healthy_reset_s:
            self.attempt = 0
