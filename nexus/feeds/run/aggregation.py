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
        metrics = self.agg.venue_metrics(now_ns)
        for v, m in metrics.items():
            m["latency_us_p50"] = latency_us_p50(v)
        line["venue_metrics"] = metrics
        return line, alerts
