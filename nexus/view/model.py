"""What the terminal view of `nexus run` shows, as plain data (`ViewModel`), and how it is read
from a running `Runtime` (`ModelBuilder`).

The builder keeps what arrives once a second (each venue's counters, message rate and
wire-to-book latency; the AGG summary, per-venue metrics and alerts) and reads the rest when
the view redraws: the picked book's levels, the trade tape and the flow engine's latest
signals, all state the runtime already keeps. Nothing here runs per record.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field

from nexus.exceptions import ConfigError

CONSENSUS = "agg"          # the picker's name for the AGG consensus book
ALERTS_KEPT = 50           # alerts the view remembers (it shows the latest that fit)
ALERT_FIELDS_SKIPPED = ("type", "venue", "state")


@dataclass
class LadderRow:
    price: str
    qty: str
    # venue -> share of this level's quantity (AGG mode colours the depth by venue)
    shares: dict[str, float] = field(default_factory=dict)


@dataclass
class ViewModel:
    title: str
    t_s: float
    venues: dict[str, dict]
    bids: list[LadderRow]
    asks: list[LadderRow]
    tape: list[dict]  # {"venue","side","price","size","ts"}, oldest first; ts: exchange time, ns since the epoch
    alerts: list[str] = field(default_factory=list)
    venue_order: list[str] = field(default_factory=list)
    # nexus.flow.live.LiveFlow.recent, oldest first; None: the detectors are off (no section)
    signals: list[dict] | None = None
    book: str = ""               # whose ladder: a venue id, or CONSENSUS
    agg: dict | None = None      # AGG: the line's "agg" part (venue_metrics, crossed, ...)
    keys: bool = False           # the key hints are shown (keys are read)


def alert_text(alert: dict, at_s: float) -> str:
    """One alert as the view lists it: time (UTC), type, venue, state, then its figures."""
    head = " ".join(str(alert.get(k, "")) for k in ALERT_FIELDS_SKIPPED)
    rest = " ".join(f"{k}={v}" for k, v in alert.items() if k not in ALERT_FIELDS_SKIPPED)
    return f"{time.strftime('%H:%M:%S', time.gmtime(at_s))} {head} {rest}".rstrip()


class ModelBuilder:
    """Builds the view's `ViewModel` from a `nexus.feeds.runtime.Runtime`; `picked` is the book
    the ladder shows (a venue, or CONSENSUS in AGG mode), cycled by `cycle`."""

    def __init__(self, venues: list[str], symbol: str, agg: bool, depth: int, picked: str | None = None,
                 keys: bool = False) -> None:
        self.choices = ([CONSENSUS] if agg else []) + list(venues)
        if picked is not None and picked not in self.choices:
            raise ConfigError(f"--view-venue {picked!r}: pick one of {', '.join(self.choices)}")
        self.picked = picked or self.choices[0]
        self.symbol, self.agg, self.depth, self.keys = symbol, agg, depth, keys
        self.line: dict | None = None
        self.alerts: deque[str] = deque(maxlen=ALERTS_KEPT)
        self._msgs_prev: dict[str, int] = {}

    def cycle(self, step: int = 1) -> str:
        """Pick the next (step 1) or previous (step -1) book; returns the one picked."""
        i = self.choices.index(self.picked)
        self.picked = self.choices[(i + step) % len(self.choices)]
        return self.picked

    def on_second(self, line: dict, rt) -> None:
        """The runtime's per-second line: message rates, latencies and alerts are taken here."""
        for v, s in line["venues"].items():
            s["latency_us_p50"] = rt.latency_us_p50(v)
            s["msgs_per_s"] = s.get("msgs", 0) - self._msgs_prev.get(v, 0)
        self._msgs_prev = {v: s.get("msgs", 0) for v, s in line["venues"].items()}
        now = time.time()
        self.alerts.extend(alert_text(a, now) for a in line.get("alerts", ()))
        self.line = line

    def build(self, rt) -> ViewModel:
        line = self.line or {"t_s": 0.0, "venues": {}}
        picked, depth = self.picked, self.depth
        if picked == CONSENSUS:
            bids, asks = _consensus_rows(rt.agg, depth) if rt.agg is not None else ([], [])
            title = f"nexus run --agg {self.symbol} · consensus (data only)"
            tape = list(rt.tape)
        else:
            bids, asks = _venue_rows(rt.readers[picked], depth)
            title = f"nexus run {'--agg ' if self.agg else ''}{self.symbol} · book {picked}"
            tape = [t for t in rt.tape if t["venue"] == picked]
        signals = list(rt.flow.recent) if rt.flow is not None else None
        if signals is not None:
            title += f" · oracle {rt.cfg.oracle['kind']}"
        return ViewModel(title, line["t_s"], line["venues"], bids, asks, tape, list(self.alerts),
                         [v for v in self.choices if v != CONSENSUS], signals, picked, line.get("agg"), self.keys)


def _venue_rows(rs, depth: int) -> tuple[list[LadderRow], list[LadderRow]]:
    if rs.book is None or rs.inst is None:
        return [], []
    inst = rs.inst
    return ([LadderRow(inst.price_str(p), inst.qty_str(q)) for p, q in rs.book.top(1, depth)],
            [LadderRow(inst.price_str(p), inst.qty_str(q)) for p, q in rs.book.top(2, depth)])


def _consensus_rows(agg, depth: int) -> tuple[list[LadderRow], list[LadderRow]]:
    names = list(agg.venues)

    def rows(side):
        out = []
        for p, total, per in agg.consensus.top(side, depth):
            shares = {names[i]: q / total for i, q in enumerate(per[: len(names)]) if q > 0 and total > 0}
            out.append(LadderRow(agg.price_str(p), agg.qty_str(total), shares))
        return out

    return rows(1), rows(2)
