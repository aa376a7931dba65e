"""Aggregation for `nexus run --agg`: the Aggregator (consensus book, trade dedup, staleness,
divergence) fed with each venue's batches as the readers take them, and the flow engine's
consensus hooks (the consensus image after each burst of book updates, each trade the dedup
accepted as new)."""

from __future__ import annotations

import numpy as np

from nexus.agg.aggregator import AggConfig, Aggregator


class Aggregation:
    def __init__(self, instruments: dict, stale_after_s: float, options: dict, flow=None) -> None:
        self.agg = Aggregator(instruments, AggConfig(stale_after_s=stale_after_s, **options))
        self.flow = flow  # nexus.flow.live.LiveFlow or None
        self.touch_changed = False
        self._last_ts = 0
        # once a second (`second`): seconds with a two-sided consensus, those crossed (bid >=
        # ask, locked included), and per venue how often its own touch was on the crossing side
        self.seconds = 0
        self.seconds_crossed = 0
        self.crossed_by: dict[str, dict[str, int]] = {}

    def on_book(self, venue: str, batch: np.ndarray, now_ns: int) -> None:
        self.touch_changed |= self.agg.on_book(venue, batch, now_ns)
        if self.flow is not None:
            self.flow.book_changed()
            self._last_ts = max(self._last_ts, int(batch["ts_exchange_ns"][-1]))

    def on_trades(self, venue: str, trades: np.ndarray, now_ns: int) -> None:
        agg, flow = self.agg, self.flow
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
        self._count_crossed()
        metrics = self.agg.venue_metrics(now_ns)
        for v, m in metrics.items():
            m["latency_us_p50"] = latency_us_p50(v)
        line["venue_metrics"] = metrics
        return line, alerts

    def _count_crossed(self) -> None:
        """This second's sample of the consensus: two-sided? crossed? whose touch crosses it
        (a venue whose best bid is at or above the consensus ask, or whose best ask is at or
        below the consensus bid, on the consensus grid; stale venues excluded as the consensus
        excludes them)."""
        agg = self.agg
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

    def seconds_summary(self) -> dict:
        """For the run's summary: how many of the once-a-second samples found the consensus
        two-sided and uncrossed, and which venues' touches crossed it."""
        n = self.seconds
        return {"seconds": n, "seconds_uncrossed": n - self.seconds_crossed,
                "uncrossed_share": round((n - self.seconds_crossed) / n, 3) if n else None,
                "crossed_by": {v: c for v, c in sorted(self.crossed_by.items()) if c["bid"] or c["ask"]}}
