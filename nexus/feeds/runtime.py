"""`nexus run`: feed handlers publish each venue's synced book changes and trades into a
shared-memory ring; this process attaches a reader per ring, rebuilds the books from the
records, keeps the trade tape (and in AGG mode the consensus), and reports once a second.

Feed handlers run in this process by default, or one process per venue with `procs=True`
(their per-second counters come back over a multiprocessing queue). Either way the readers
are the same: one code path from the ring on.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing as mp
import os
import queue as queue_mod
import signal
import time
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from nexus import record
from nexus._native import Book, format_scaled, monotonic_ns
from nexus.exceptions import ConfigError, RingNotFound
from nexus.feeds.handler import STALE_AFTER_S, VenueFeed
from nexus.feeds.specs import spec
from nexus.ring import RingReader, RingWriter

log = logging.getLogger("nexus.feeds")

RING_SLOTS = 1 << 16
CONSENSUS_VENUE = "agg"  # instrument ids of consensus records: instrument_id_of("agg", symbol)
# What a venue reports before its feed process has said anything.
EMPTY_STATS = {"state": "DOWN", "msgs": 0, "gaps": 0, "resyncs": 0, "reconnects": 0, "checksum_failures": 0,
               "malformed": 0, "best_bid": None, "best_ask": None}
POLL_INTERVAL_S = 0.001
READ_BATCH = 4096
TAPE_LEN = 200
BID, ASK = int(record.Side.BID), int(record.Side.ASK)
_TRADE = int(record.Kind.TRADE)


@dataclass
class RunConfig:
    venues: list[str]
    symbol: str = "BTCUSDT"
    sim: bool = False
    seed: int = 1
    faults: list[str] = field(default_factory=list)
    ws_urls: dict[str, str] = field(default_factory=dict)
    rest_urls: dict[str, str] = field(default_factory=dict)
    duration_s: float | None = None
    stale_after_s: float = STALE_AFTER_S
    procs: bool = False
    agg: bool = False
    agg_options: dict = field(default_factory=dict)
    sim_speed: float = 1.0
    consensus_ring: str | None = None  # AGG: publish the consensus best bid/ask here (BBO records)
    signals: bool = True               # flow engine + detectors per venue (and on the consensus in AGG)
    signals_ring: str | None = None    # publish the SIGNAL records on this ring


class ReaderSide:
    """One venue's ring reader, its rebuilt book and its wire-to-book latencies."""

    def __init__(self, venue: str, ring: str):
        self.venue = venue
        self.ring = ring
        self.reader: RingReader | None = None
        self.book: Book | None = None
        self.inst = None
        self.latency_ns: deque[int] = deque(maxlen=2048)
        self.records = 0

    def set_instrument(self, inst) -> None:
        if self.inst is None or (inst.price_exponent, inst.qty_exponent) != (self.inst.price_exponent, self.inst.qty_exponent):
            self.book = Book(inst.price_exponent, inst.qty_exponent)
        self.inst = inst

    def attach(self) -> bool:
        if self.reader is None:
            try:
                self.reader = RingReader(self.ring, start="earliest")
            except RingNotFound:
                return False
        return True


def _feed_process(cfg: RunConfig, venue: str, ring: str, ws_url: str, rest_url: str | None, stats_q, stop_ev) -> None:
    """A feed handler in its own process (`--procs`)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    async def main():
        with RingWriter(ring, slots=RING_SLOTS) as w:
            feed = VenueFeed(venue, spec(venue), cfg.symbol, ws_url, rest_url, w.publish, cfg.stale_after_s)
            feed.conn.start()
            while not stop_ev.is_set():
                await asyncio.sleep(0.5)
                st = feed.sync.books.get(feed.symbol)
                inst = st.inst if st else feed.decoder.instrument(feed.symbol)
                try:
                    stats_q.put_nowait((venue, feed.stats(monotonic_ns()), _inst_tuple(inst)))
                except queue_mod.Full:
                    pass
            await feed.conn.stop()

    asyncio.run(main())


def _inst_tuple(inst):
    return (inst.venue, inst.symbol, inst.tick_size, inst.lot_size, inst.contract_value, inst.contract_kind,
            inst.price_exponent, inst.qty_exponent)


class Runtime:
    def __init__(self, cfg: RunConfig, on_second=None):
        if not cfg.venues:
            raise ConfigError("name at least one venue")
        self.cfg = cfg
        self.on_second = on_second  # callback(line: dict, runtime)
        self.prefix = f"nx-{os.getpid()}"
        self.readers = {v: ReaderSide(v, f"{self.prefix}-{v}") for v in cfg.venues}
        self.feeds: dict[str, VenueFeed] = {}
        self.writers: dict[str, RingWriter] = {}
        self.procs: dict[str, mp.Process] = {}
        self.proc_stats: dict[str, dict] = {}
        self.tape: deque[dict] = deque(maxlen=TAPE_LEN)
        self.sim = None
        self.agg = None
        self.t0 = 0.0
        self.stop_event: asyncio.Event | None = None
        self._out = record.empty(READ_BATCH)
        self._alerts: list[dict] = []
        self._wake_pending = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._consensus_writer: RingWriter | None = None
        self._last_bbo: tuple | None = None
        self.flow = None  # nexus.flow.live.LiveFlow when cfg.signals
        self._last_ts = 0
        self._touch_changed = False

    # -- life cycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        cfg = self.cfg
        self._loop = asyncio.get_running_loop()
        if cfg.sim:
            from nexus.sim.simulator import Simulator

            self.sim = await Simulator(seed=cfg.seed, venues=cfg.venues, symbol=cfg.symbol, faults=cfg.faults,
                                       speed=cfg.sim_speed).start()
            for v in cfg.venues:
                cfg.ws_urls.setdefault(v, self.sim.url(v))
                cfg.rest_urls.setdefault(v, self.sim.rest_url(v))
        elif cfg.faults:
            raise ConfigError("--fault needs --sim")
        if cfg.procs:
            ctx = mp.get_context("spawn")
            self._stats_q = ctx.Queue(maxsize=1024)
            self._stop_ev = ctx.Event()
            for v in cfg.venues:
                s = spec(v)
                p = ctx.Process(target=_feed_process, name=f"nexus-feed-{v}", daemon=True, args=(
                    cfg, v, self.readers[v].ring, cfg.ws_urls.get(v, s.ws_url), cfg.rest_urls.get(v, s.rest_url),
                    self._stats_q, self._stop_ev))
                p.start()
                self.procs[v] = p
        else:
            for v in cfg.venues:
                s = spec(v)
                w = RingWriter(self.readers[v].ring, slots=RING_SLOTS)
                self.writers[v] = w

                def publish(recs, w=w):
                    w.publish(recs)
                    self._wake()

                feed = VenueFeed(v, s, cfg.symbol, cfg.ws_urls.get(v, s.ws_url), cfg.rest_urls.get(v, s.rest_url),
                                 publish, cfg.stale_after_s)
                self.feeds[v] = feed
                self.readers[v].set_instrument(feed.decoder.instrument(feed.symbol))
                feed.conn.start()
        if cfg.agg:
            from nexus.agg.aggregator import AggConfig, Aggregator

            insts = {v: self._instrument(v) for v in cfg.venues}
            self.agg = Aggregator(insts, AggConfig(stale_after_s=cfg.stale_after_s, **cfg.agg_options))
            if cfg.consensus_ring:
                from nexus.instruments import instrument_id_of

                self._consensus_writer = RingWriter(cfg.consensus_ring, slots=1 << 12)
                self._consensus_iid = instrument_id_of(CONSENSUS_VENUE, cfg.symbol)
                self._bbo = record.empty(2)
                self._bbo["kind"] = record.Kind.BBO
                self._bbo["side"] = [BID, ASK]
                self._bbo["flags"][1] = record.Flag.LAST
                self._bbo["instrument_id"] = self._consensus_iid
        if cfg.signals:
            from nexus.flow.live import LiveFlow
            from nexus.instruments import instrument_id_of

            self.flow = LiveFlow(cfg.signals_ring, instrument_id_of(CONSENSUS_VENUE, cfg.symbol))
        elif cfg.signals_ring:
            raise ConfigError("--signals-ring needs the signal detectors on")
        self.t0 = time.monotonic()

    def _instrument(self, venue: str):
        if venue in self.feeds:
            f = self.feeds[venue]
            st = f.sync.books.get(f.symbol)
            return st.inst if st else f.decoder.instrument(f.symbol)
        from nexus.venues.registry import canonical_symbol, load

        d = load(venue).Decoder()
        return d.instrument(canonical_symbol(venue, spec(venue).symbol_of(self.cfg.symbol)))

    async def stop(self) -> None:
        for f in self.feeds.values():
            await f.conn.stop()
        if self.procs:
            self._stop_ev.set()
            for p in self.procs.values():
                p.join(5)
                if p.is_alive():
                    p.kill()
        for r in self.readers.values():
            if r.reader is not None:
                r.reader.close()
        for w in self.writers.values():
            w.close()
        if self._consensus_writer is not None:
            self._consensus_writer.close()
        if self.flow is not None:
            self.flow.close()
        if self.sim is not None:
            await self.sim.stop()

    # -- the reader side ----------------------------------------------------------------------
    def poll(self) -> int:
        total = 0
        out = self._out
        for v, rs in self.readers.items():
            if rs.book is None and not self._learn_instrument(v):
                continue
            if not rs.attach():
                continue
            while True:
                n = rs.reader.poll(out)
                if not n:
                    break
                total += n
                rs.records += n
                batch = out[:n]
                now = monotonic_ns()
                rs.book.apply(batch)
                rs.latency_ns.append(now - int(batch["ts_local_ns"][n - 1]))
                if self.flow is not None:
                    self.flow.on_batch(v, rs.inst, batch)
                trades = np.flatnonzero(batch["kind"] == _TRADE)
                if self.agg is not None:
                    self._touch_changed |= self.agg.on_book(v, batch, now)
                    if self.flow is not None:
                        self.flow.book_changed()
                        self._last_ts = max(self._last_ts, int(batch["ts_exchange_ns"][n - 1]))
                for i in trades.tolist():
                    self._trade(v, rs, batch[i], now)
        if total and self.agg is not None and self.flow is not None:
            self.flow.on_consensus_book(self.agg, self._last_ts)
        if self._touch_changed and self._consensus_writer is not None:
            self._publish_consensus()
        self._touch_changed = False
        return total

    def _publish_consensus(self) -> None:
        """BBO records (consensus grid, total size) on the consensus ring when the touch changes:
        what `nexus broker serve --price-ring NAME --ring-instrument CRYPTO=agg:SYMBOL:EXP` reads."""
        bbo = self.agg.consensus.touch()
        if bbo is None or bbo == self._last_bbo:
            return
        self._last_bbo = bbo
        r = self._bbo
        r["price"] = [bbo[0], bbo[2]]
        r["qty"] = [bbo[1], bbo[3]]
        r["ts_local_ns"] = monotonic_ns()
        self._consensus_writer.publish(r)

    def _wake(self) -> None:
        """In-process feeds: read the rings as soon as the event loop is free, once per burst."""
        if not self._wake_pending and self._loop is not None:
            self._wake_pending = True
            self._loop.call_soon(self._woken)

    def _woken(self) -> None:
        self._wake_pending = False
        self.poll()

    def _learn_instrument(self, venue: str) -> bool:
        item = self.proc_stats.get(venue)
        if item is None:
            return False
        from nexus.instruments import Instrument

        vname, sym, tick, lot, cv, kind, pe, qe = item["_inst"]
        self.readers[venue].set_instrument(Instrument(vname, sym, tick, lot, cv, kind, price_exponent=pe, qty_exponent=qe))
        return True

    def _trade(self, venue: str, rs: ReaderSide, r, now: int) -> None:
        inst = rs.inst
        side = "buy" if int(r["side"]) == BID else "sell"
        self.tape.append({"venue": venue, "side": side, "price": format_scaled(int(r["price"]), inst.price_exponent),
                          "size": format_scaled(int(r["qty"]), inst.qty_exponent), "ts": int(r["ts_exchange_ns"])})
        if self.agg is not None:
            new = self.agg.on_trade(venue, int(r["ts_exchange_ns"]), int(r["price"]), int(r["qty"]), int(r["side"]),
                                    int(r["trade_id"]), now)
            if new and self.flow is not None:
                self.flow.on_consensus_trade(self.agg, self.agg.tape[-1])

    def _drain_proc_stats(self) -> None:
        if not self.procs:
            return
        while True:
            try:
                venue, stats, inst = self._stats_q.get_nowait()
            except queue_mod.Empty:
                return
            stats["_inst"] = inst
            self.proc_stats[venue] = stats

    # -- reporting ----------------------------------------------------------------------------
    def venue_stats(self) -> dict[str, dict]:
        now = monotonic_ns()
        out = {}
        for v in self.cfg.venues:
            if v in self.feeds:
                s = self.feeds[v].stats(now)
            else:
                s = {k: val for k, val in self.proc_stats.get(v, EMPTY_STATS).items() if k != "_inst"}
            rs = self.readers[v]
            # best bid/ask as the readers see them: what crossed the ring
            if rs.book is not None and rs.inst is not None:
                b, a = rs.book.best_bid(), rs.book.best_ask()
                s["best_bid"] = rs.inst.price_str(b[0]) if b else None
                s["best_ask"] = rs.inst.price_str(a[0]) if a else None
            s.setdefault("msgs", 0)
            out[v] = s
        return out

    def second_line(self) -> dict:
        now = monotonic_ns()
        line = {"t_s": round(time.monotonic() - self.t0, 3), "venues": self.venue_stats()}
        if self.agg is not None:
            alerts = self.agg.tick(now)
            if self._consensus_writer is not None:
                self._publish_consensus()   # a venue excluded or re-included moves the touch too
            line["agg"] = self.agg.summary()
            metrics = self.agg.venue_metrics(now)
            for v, m in metrics.items():
                m["latency_us_p50"] = self.latency_us_p50(v)
            line["agg"]["venue_metrics"] = metrics
            line["alerts"] = alerts
            self._alerts.extend(alerts)
        if self.flow is not None:
            line["signals"] = self.flow.take()
        return line

    def latency_us_p50(self, venue: str) -> float | None:
        lat = self.readers[venue].latency_ns
        return round(float(np.percentile(np.asarray(lat), 50)) / 1e3, 1) if lat else None

    async def run(self) -> dict:
        self.stop_event = asyncio.Event()
        loop = asyncio.get_running_loop()
        for s in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(s, self.stop_event.set)
            except (NotImplementedError, RuntimeError):
                pass
        await self.start()
        next_second = time.monotonic() + 1.0
        t_end = None if self.cfg.duration_s is None else time.monotonic() + self.cfg.duration_s
        try:
            while not self.stop_event.is_set():
                self._drain_proc_stats()
                self.poll()
                now = time.monotonic()
                if now >= next_second:
                    next_second += 1.0
                    line = self.second_line()
                    if self.on_second:
                        self.on_second(line, self)
                if t_end is not None and now >= t_end:
                    break
                await asyncio.sleep(POLL_INTERVAL_S)
            self._drain_proc_stats()
            self.poll()
            summary = {"summary": self.venue_stats()}
            if self.agg is not None:
                summary["summary_agg"] = self.agg.summary()
                summary["alerts"] = self._alerts
            if self.flow is not None:
                summary["signals"] = self.flow.summary()
            return summary
        finally:
            await self.stop()

