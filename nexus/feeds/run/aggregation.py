"""Aggregation for `nexus run --agg`: the Aggregator (consensus book, trade dedup, staleness,
divergence) fed with each venue's batches as the readers take them, and the flow engine's
consensus hooks (the consensus image after each burst of book updates, each trade the dedup
accepted as new).

Scope (`--agg-scope`): "all" merges every venue run; "perps" merges the perpetuals only
(instruments whose contract kind is linear or inverse): spot venues are still read, kept and
shown per venue, but their books and trades stay out of the consensus. A spot book and a
perpetual book differ by the spot-perp basis on real markets, so a consensus of both is
crossed whenever the basis exceeds the half-spreads (cents on Binance spot); the perpetuals'
consensus is the one to read for a perpetual's price. Nothing is adjusted: the consensus of
the perpetuals is their own books merged, as "all" merges every book."""

from __future__ import annotations

import numpy as np

from nexus.agg.aggregator import AggConfig, Aggregator
from nexus.exceptions import ConfigError


AGG_SCOPES = ("all", "perps")


def scope_members(instruments: dict, scope: str) -> dict:
    """The venues (-> instrument) the consensus merges under `scope`."""
    if scope not in AGG_SCOPES:
        raise ConfigError(f"aggregation scope must be one of {', '.join(AGG_SCOPES)}, got {scope!r}")
    members = {v: i for v, i in instruments.items() if scope == "all" or i.contract_kind != "spot"}
    if not members:
        raise ConfigError(f"--agg-scope {scope}: none of {', '.join(instruments)} is a perpetual")
    return members


class Aggregation:
    def __init__(self, instruments: dict, stale_after_s: float, options: dict, flow=None, scope: str = "all") -> None:
        members = scope_members(instruments, scope)
        self.scope = scope
        self.outside = sorted(set(instruments) - set(members))   # read and shown per venue, not merged
        self.agg = Aggregator(members, AggConfig(stale_after_s=stale_after_s, **options))
        self.flow = flow  # nexus.flow.live.LiveFlow or None
        self.touch_changed = False
        self._last_ts = 0
        self.sampled = CrossedSeconds(scope, self.outside)  # sampled once a second (`second`)

    def on_book(self, venue: str, batch: np.ndarray, now_ns: int) -> None:
        if venue not in self.agg.venues:
            return
        self.touch_changed |= self.agg.on_book(venue, batch, now_ns)
        if self.flow is not None:
            self.flow.book_changed()
            self._last_ts = max(self._last_ts, int(batch["ts_exchange_ns"][-1]))

    def on_trades(self, venue: str, trades: np.ndarray, now_ns: int) -> None:
        agg, flow = self.agg, self.flow
        if venue not in agg.venues:
            return
        for ts, price, qty, side, trade_id in zip(trades["ts_exchange_ns"].tolist(), trades["price"].tolist(),
                                                  trades["qty"].tolist(), trades["side"].tolist(),
                                                  trades["trade_id"].tolist()):
            if agg.on_trade(venue, ts, price, qty, side, trade_id, now_ns) and flow is not None:
                flow.on_consensus_trade(agg, agg.tape[-1])

    def end_of_poll(self, records: int) -> bool:
        """After a poll that read `records`: the flow engine sees the consensus image; returns
        whether the consensus touch changed since the last poll."""
        if records and self.flow is not None:
            self.flow.on_consensus_book(self.agg, self._last_ts)
        changed, self.touch_changed = self.touch_changed, False
        return changed

    def second(self, now_ns: int, latency_us_p50) -> tuple[dict, list[dict]]:
        """Once a second: the alerts fired, and the `agg` part of the line (each venue's
        metrics with its `latency_us_p50(venue)`)."""
        alerts = self.agg.tick(now_ns)
        line = self.agg.summary()
        self.sampled.sample(self.agg)
        metrics = self.agg.venue_metrics(now_ns)
        for v, m in metrics.items():
            m["latency_us_p50"] = latency_us_p50(v)
        line["venue_metrics"] = metrics
        line.update(self.sampled.scope_fields)
        return line, alerts

    def seconds_summary(self) -> dict:
        """For the run's summary: `CrossedSeconds.summary` of the once-a-second samples."""
        return self.sampled.summary()


class CrossedSeconds:
    """Once-a-second samples of a consensus (`sample` after the second's tick): the seconds
    with a two-sided consensus, those crossed (bid >= ask, locked included), and per venue how
    often its own touch was on the crossing side. Shared by `nexus run --agg` (Aggregation)
    and `nexus agg replay` (nexus.agg.replay), so both report the same fields the same way."""

    def __init__(self, scope: str = "all", outside: list[str] | None = None) -> None:
        self.scope_fields = {"scope": scope, "outside": outside or []} if scope != "all" else {}
        self.seconds = 0
        self.seconds_crossed = 0
        self.crossed_by: dict[str, dict[str, int]] = {}

    def sample(self, agg: Aggregator) -> None:
        """This second's sample of the consensus: two-sided? crossed? whose touch crosses it
        (a venue whose best bid is at or above the consensus ask, or whose best ask is at or
        below the consensus bid, on the consensus grid; stale venues excluded as the consensus
        excludes them)."""
        b, a = agg.consensus.best_bid(), agg.consensus.best_ask()
        if not (b and a):
            return
        self.seconds += 1
        if b[0] < a[0]:
            return
        self.seconds_crossed += 1
        for v in agg.venues.values():
            if v.stale and agg.cfg.stale_mode == "exclude":
                continue
            vb, va = v.book.best_bid(), v.book.best_ask()
            by = self.crossed_by.setdefault(v.name, {"bid": 0, "ask": 0})
            if vb and vb[0] * v.scale.price_mul >= a[0]:
                by["bid"] += 1
            if va and va[0] * v.scale.price_mul <= b[0]:
                by["ask"] += 1

    def summary(self) -> dict:
        """How many of the samples found the consensus two-sided and uncrossed (and its
        share), and which venues' touches crossed it; the scope and the venues outside it when
        the scope is not "all"."""
        n = self.seconds
        return {**self.scope_fields, "seconds": n, "seconds_uncrossed": n - self.seconds_crossed,
                "uncrossed_share": round((n - self.seconds_crossed) / n, 3) if n else None,
                "crossed_by": {v: c for v, c in sorted(self.crossed_by.items()) if c["bid"] or c["ask"]}}
