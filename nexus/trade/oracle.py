"""Which oracle the auto-trader's flow engine runs (`--oracle rule|learned|FILE`), and the
oracle signals it has seen from each kind, as every status line and the summary show them:
{"kind": "rule"|"learned", "model": path (learned), "signals": {"rule": n, "learned": n}}.
The kind of a signal is the engine's own fact (facts["model"]: 0 rule, 1 learned;
nexus/flow/signals.py), so a line proves which oracle spoke, not only which was asked for."""

from __future__ import annotations

from typing import Callable

MODEL_KINDS = ("rule", "learned")   # facts["model"] 0, 1


class OracleSeen:
    def __init__(self, label: dict | None) -> None:
        self.label = label or {"kind": "rule"}
        self.counts = dict.fromkeys(MODEL_KINDS, 0)

    def wrap(self, on_signal: Callable[[dict], object]) -> Callable[[dict], object]:
        """`on_signal` with the oracle's signals counted by kind first."""
        def seen(sig: dict):
            if sig["signal"] == "oracle":
                self.counts[MODEL_KINDS[int(sig["facts"].get("model", 0))]] += 1
            return on_signal(sig)
        return seen

    def status(self) -> dict:
        return {**self.label, "signals": dict(self.counts)}
