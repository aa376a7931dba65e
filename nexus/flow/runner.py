"""Glue between record batches and the compiled flow engine: output buffers owned here and
reused, the drain loop, and the JSON line formats of `nexus metrics replay` and
`nexus signals replay`.

    runner = FlowRunner(FlowParams(...))
    for out in runner.feed(batch):        # views into reused buffers: copy what you keep
        out.metrics, out.vpin, out.signals, out.facts

Signals can also be published to a shared-memory ring (`publish_to`), where the terminal
view and the auto-trader read them like any other record.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np

from engine.flow import FlowEngine
from nexus import record
from nexus.flow import dtypes
from nexus.flow.format import ratio_str, scaled_str, x100_str
from nexus.flow.params import FlowParams
from nexus.flow.signals import FACT_NAMES, SIGNAL_NAMES

DEFAULT_CAPACITY = 4096
SIDE_NAMES = {1: "buy", 2: "sell"}


@dataclass
class Output:
    metrics: np.ndarray   # METRIC_DTYPE rows
    vpin: np.ndarray      # VPIN_DTYPE rows
    signals: np.ndarray   # RECORD_DTYPE, kind SIGNAL
    facts: np.ndarray     # FACTS_DTYPE, one per signal


class FlowRunner:
    """One FlowEngine and its reusable output buffers."""

    def __init__(self, params: FlowParams | None = None, capacity: int = DEFAULT_CAPACITY, publish_to=None,
                 oracle_model: dict | None = None):
        self.params = params or FlowParams()
        self.engine = FlowEngine(self.params.engine_dict())
        if self.params.calibrated and self.params.signals:
            from nexus.flow.calibration import apply
            apply(self.engine)
        if oracle_model is not None and self.params.signals and self.params.oracle:
            # the learned oracle (nexus/flow/oracle_model.py) instead of the rule one
            from nexus.flow.oracle_model import install
            install(self.engine, oracle_model if self.params.calibrated else {**oracle_model, "calibration": None})
        cap = max(int(capacity), 64)
        self.metrics = np.zeros(cap, dtypes.METRIC_DTYPE)
        self.vpin = np.zeros(cap, dtypes.VPIN_DTYPE)
        self.signals = record.empty(cap)
        self.facts = np.zeros(cap, dtypes.FACTS_DTYPE)
        self.publish_to = publish_to

    def feed(self, batch: np.ndarray) -> Iterator[Output]:
        """Fold a whole batch in, yielding the outputs each time the buffers fill (and once at
        the end when there is anything). The yielded arrays are reused afterwards."""
        start, n = 0, len(batch)
        while True:
            consumed, nm, nv, ns = self.engine.update(batch[start:], self.signals, self.facts, self.metrics, self.vpin)
            start += consumed
            if ns and self.publish_to is not None:
                self.publish_to.publish(self.signals[:ns])
            if nm or nv or ns:
                yield Output(self.metrics[:nm], self.vpin[:nv], self.signals[:ns], self.facts[:ns])
            if start >= n:
                return
            if consumed == 0 and not (nm or nv or ns):  # cannot happen: update() raises instead
                raise RuntimeError("flow engine made no progress")

    def run(self, batch: np.ndarray) -> Output:
        """Fold a batch in and return copies of everything it produced (tests, research)."""
        parts = [Output(o.metrics.copy(), o.vpin.copy(), o.signals.copy(), o.facts.copy()) for o in self.feed(batch)]
        if not parts:
            return Output(self.metrics[:0].copy(), self.vpin[:0].copy(), self.signals[:0].copy(), self.facts[:0].copy())
        return Output(*(np.concatenate([getattr(p, f) for p in parts]) for f in ("metrics", "vpin", "signals", "facts")))


# -- JSON lines ---------------------------------------------------------------------------

def metric_json(row, i: int, price_exp: int, qty_exp: int) -> dict:
    """The `nexus metrics replay --json` line for one metrics row."""
    flags = int(row["flags"])
    levels = int(row["levels"])
    return {
        "i": i,
        "best_bid": scaled_str(row["bid_px"], price_exp) if flags & dtypes.ROW_HAVE_BID else None,
        "best_ask": scaled_str(row["ask_px"], price_exp) if flags & dtypes.ROW_HAVE_ASK else None,
        "ofi": scaled_str(row["ofi"][0], qty_exp),
        "ofi_levels": [scaled_str(v, qty_exp) for v in row["ofi"][:levels]],
        "obi": ratio_str(row["obi_num"], row["obi_den"]),
        "cvd": scaled_str(row["cvd"], qty_exp),
    }


def vpin_json(row, i: int) -> dict:
    return {"i": i, "vpin": ratio_str(row["num"], row["den"])}


def facts_json(sig_type: int, facts, price_exp: int, qty_exp: int) -> dict:
    out = {}
    for (name, unit), v in zip(FACT_NAMES[sig_type], facts):
        v = int(v)
        if unit == "qty":
            out[name] = scaled_str(v, qty_exp)
        elif unit == "price":
            out[name] = scaled_str(v, price_exp)
        elif unit == "x100":
            out[name] = x100_str(v)
        elif unit == "side":
            out[name] = SIDE_NAMES.get(v, "none")
        elif unit == "mask":
            out[name] = [SIGNAL_NAMES[t] for t in sorted(SIGNAL_NAMES) if v >> t & 1]
        else:
            out[name] = v
    return out


def signal_json(sig, facts, i: int, price_exp: int, qty_exp: int) -> dict:
    """The `nexus signals replay --json` line for one signal record and its facts row."""
    t = int(sig["aux"])
    return {
        "i": i,
        "signal": SIGNAL_NAMES[t],
        "side": SIDE_NAMES[int(sig["side"])],
        "price": scaled_str(sig["price"], price_exp),
        "confidence": int(sig["qty"]),
        "facts": facts_json(t, facts["f"], price_exp, qty_exp),
    }
