"""`nexus run`: feed handlers publish each venue's synced book changes and trades into a
shared-memory ring; this process attaches a reader per ring, rebuilds the books from the
records, keeps the trade tape (and in AGG mode the consensus), and reports once a second.

Feed handlers run in this process by default, or one process per venue with `procs=True`
(their per-second counters come back over a multiprocessing queue). Either way the readers
are the same: one code path from the ring on.

`Runtime` only composes the parts (nexus/feeds/run/): supervision of the feeds and the
simulator, the ring readers and their books, aggregation, the flow engine (LiveFlow),
publication of the consensus, and the per-venue stats; and it runs the loop.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import time

import numpy as np

from nexus import record
from nexus._native import monotonic_ns
from nexus.exceptions import ConfigError
from nexus.feeds.run.config import CONSENSUS_VENUE, RING_SLOTS, RunConfig, orphaned_venue_ring, venue_ring
from nexus.feeds.run.readers import ReaderSide, RingReaders, TradeTape
from nexus.feeds.run.stats import venue_stats
from nexus.feeds.run.supervisor import FeedSupervisor
from nexus.ring import remove_stale

__all__ = ["CONSENSUS_VENUE", "RING_SLOTS", "ReaderSide", "RunConfig", "Runtime"]

POLL_INTERVAL_S = 0.001
# keep_warm: at most one warming pass per this much loop time (every 1 ms poll when the loop
# sleeps; one spin iteration in 10 or so with busy_poll)
KEEP_WARM_INTERVAL_NS = 100_000
# The young generation is collected from the loop (idle() between messages) once it holds this
# share of the collector's own threshold, so an automatic collection (tens of µs on a cold
# cache) seldom lands inside a message's handling.
GC_IDLE_SHARE = 0.5
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)  # SIGHUP: the terminal was closed

log = logging.getLogger("nexus.feeds")
_TRADE = int(record.Kind.TRADE)


class Runtime:
    def __init__(self, cfg: RunConfig, on_second=None):
        if not cfg.venues:
            raise ConfigError("name at least one venue")
        self.cfg = cfg
        self.on_second = on_second  # callback(line: dict, runtime)
        self.on_batch = None        # callback(venue, reader side, batch) before the flow engine sees it
        self.on_signal = None       # callback(signal dict) for every signal the flow engine raises
        rings = {v: venue_ring(v) for v in cfg.venues}
        self.ring_readers = RingReaders(rings)
        self._wake_args = (self._instrument_of, self._on_batch, self.ring_readers.sides)
        self.supervisor = FeedSupervisor(cfg, rings, self._wake)
        self.trades = TradeTape()
        self.aggregation = None  # nexus.feeds.run.aggregation.Aggregation with cfg.agg
        self.publisher = None    # nexus.feeds.run.publication.ConsensusPublisher with cfg.consensus_ring
        self.flow = None         # nexus.flow.live.LiveFlow with cfg.signals
        self.t0 = 0.0
        self.stop_event: asyncio.Event | None = None
        self._alerts: list[dict] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self.aeron_source = None  # nexus.feeds.run.aeron_source.AeronSource with cfg.from_aeron
        self._ring_meta_pending: set[str] = set()   # venue rings whose side file is not written yet
        self._ring_meta_written: dict = {}          # venue -> the instrument its side file carries
        self._agg_insts: dict | None = None
        self._warm_next_ns = 0
        self._gc_idle_at = 0   # young-generation count at which idle() collects it (0: not yet set)
        self.gc_idle_collections = 0

    @property
    def poll_interval_s(self) -> float:
        """The run loop's sleep between polls: 0 with busy_poll (the loop spins: one core at
        100 %), else POLL_INTERVAL_S. In-process feeds do not wait for it: each message's
        records are read as it is handled (_wake)."""
        return 0.0 if self.cfg.busy_poll else POLL_INTERVAL_S

    # what callers read: the parts' state under the names they always had
    @property
    def readers(self) -> dict[str, ReaderSide]:
        return self.ring_readers.sides

    @property
    def feeds(self):
        return self.supervisor.feeds

    @property
    def sim(self):
        return self.supervisor.sim

    @property
    def agg(self):
        return self.aggregation.agg if self.aggregation is not None else None

    @property
    def tape(self):
        return self.trades.rows

    # -- life cycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        cfg = self.cfg
        self._loop = asyncio.get_running_loop()
        if cfg.pin_cpu:
            from nexus.feeds.run.cpu import pin

            pin(cfg.pin_cpu[0])
        for name in remove_stale(orphaned_venue_ring):
            log.info("reclaimed the ring %s of a nexus run that was killed", name)
        if cfg.from_aeron:
            from nexus.feeds.run.aeron_source import AeronSource

            self.aeron_source = AeronSource(cfg.from_aeron, self.readers)
        else:
            await self.supervisor.start()
        if cfg.stages:  # per-stage stamps: the in-process feed and its reader share a probe
            from nexus.feeds.stages import StageProbe

            for v, feed in self.supervisor.feeds.items():
                probe = StageProbe()
                feed.enable_probe(probe)
                self.readers[v].probe = probe
        if not cfg.from_aeron and not await self.supervisor.instruments_ready():
            log.warning("some venues' instrument listings are not loaded yet; their instruments "
                        "are generic until they are")
        for v, feed in self.supervisor.feeds.items():
            if feed.instruments_loaded and feed.metadata_ready:  # else once the venue's listing is in
                self.readers[v].set_instrument(feed.decoder.instrument(feed.symbol))
        if cfg.ring_meta and not cfg.from_aeron:
            # side files for the venue rings (carried over Aeron: the far host's instruments),
            # each written once its reader has the venue's listed instrument (never a generic one)
            self._ring_meta_pending = set(cfg.venues)
            self._write_ring_meta()
        if cfg.signals:
            from nexus.flow.live import LiveFlow
            from nexus.instruments import instrument_id_of

            self.flow = LiveFlow(cfg.signals_ring, instrument_id_of(CONSENSUS_VENUE, cfg.symbol),
                                 oracle_model=cfg.oracle_model)
            self.flow.on_signal = self.on_signal
        elif cfg.signals_ring:
            raise ConfigError("--signals-ring needs the signal detectors on")
        if cfg.agg and not cfg.from_aeron:
            self._make_aggregation({v: self.supervisor.instrument(v) for v in cfg.venues})
        if cfg.keep_warm:
            for feed in self.supervisor.feeds.values():
                feed.keep_warm = True
        # Everything built so far lives as long as the run: out of the collector's sight, so a
        # full collection later walks only what the run allocates since (gc.freeze).
        gc.collect()
        gc.freeze()
        self._gc_idle_at = max(1, int(gc.get_threshold()[0] * GC_IDLE_SHARE))
        self.t0 = time.monotonic()

    def _make_aggregation(self, insts: dict) -> None:
        from nexus.feeds.run.aggregation import Aggregation

        cfg = self.cfg
        if self.publisher is not None:
            self.publisher.close()
            self.publisher = None
        self.aggregation = Aggregation(insts, cfg.stale_after_s, cfg.agg_options, self.flow, cfg.agg_scope)
        self._agg_insts = insts
        if cfg.consensus_ring:
            from nexus.feeds.run.publication import ConsensusPublisher

            self.publisher = ConsensusPublisher(cfg.consensus_ring, cfg.symbol, self.aggregation.agg.grid)

    def _aeron_aggregation(self) -> None:
        """--from-aeron --agg: the consensus is built once every venue's listed instrument has come
        with its ring's side file (a generic instrument would put a venue on the wrong scale), and
        built again if the publisher's listing changes an instrument."""
        insts = {v: self.aeron_source.instrument(v) for v in self.cfg.venues}
        if any(i is None for i in insts.values()) or insts == self._agg_insts:
            return
        if self.aggregation is not None:
            log.info("a venue's instrument changed on the publishing host: consensus rebuilt")
        self._make_aggregation(insts)

    def _write_ring_meta(self) -> None:
        """`nexus run --aeron`: write the side file of each venue ring whose reader has its listed
        instrument (and again when that instrument changes); the `nexus aeron pub` process
        re-announces a changed side file, so the far host takes the same instrument."""
        from nexus.aeron import write_venue_ring_meta

        for v, inst in self._ring_meta_written.items():
            if self.readers[v].inst is not inst:
                self._ring_meta_pending.add(v)
        for v in list(self._ring_meta_pending):
            rs = self.readers[v]
            if rs.inst is not None:
                write_venue_ring_meta(rs.ring, rs.inst)
                self._ring_meta_written[v] = rs.inst
                self._ring_meta_pending.discard(v)

    async def stop(self) -> None:
        gc.unfreeze()  # what start() froze is the collector's again (another Runtime may follow in this process)
        # the run is over (its summary taken): a frame the feeds still handle while they stop
        # reaches their rings but no reader (it raised a signal the summary had not counted)
        for feed in self.supervisor.feeds.values():
            feed.on_published = None
        if self.aeron_source is not None:
            self.aeron_source.close()
        if self.cfg.ring_meta and not self.cfg.from_aeron:
            from nexus.ring_meta import remove_meta

            for rs in self.readers.values():
                remove_meta(rs.ring)
        await self.supervisor.stop_feeds()
        self.ring_readers.close()
        self.supervisor.close_rings()
        if self.publisher is not None:
            self.publisher.close()
        if self.flow is not None:
            self.flow.close()
        await self.supervisor.stop_sim()

    # -- the reader side ----------------------------------------------------------------------
    def _instrument_of(self, venue: str):
        """A reader side's instrument: the in-process feed's once its instrument listing is
        loaded (a listing the token flow fetches comes with the first connection), else the
        feed process's report."""
        if self.aeron_source is not None:
            # no feed here: only the publisher's listed instrument (from the ring's side file);
            # no book until it has come, so a book never starts on a generic scale
            return self.aeron_source.instrument(venue)
        feed = self.supervisor.feeds.get(venue)
        if feed is not None:
            return feed.decoder.instrument(feed.symbol) if feed.metadata_ready else None
        return self.supervisor.reported_instrument(venue)

    def poll(self) -> int:
        if self.aeron_source is not None:
            self.aeron_source.pump()
            if self.cfg.agg:
                self._aeron_aggregation()
        total = self.ring_readers.poll(self._instrument_of, self._on_batch)
        if self._ring_meta_pending:
            self._write_ring_meta()
        if self.aggregation is not None and self.aggregation.end_of_poll(total) and self.publisher is not None:
            self.publisher.publish(self.aggregation.agg.consensus)
        return total

    def idle(self) -> None:
        """Between polls, when no message is being handled: collect the collector's young
        generation once it is half way to its threshold (so the automatic collection rarely runs
        inside a message's handling), and with keep_warm, at most every KEEP_WARM_INTERVAL_NS,
        have each in-process feed re-decode its last trade frame and book diff (VenueFeed.warm:
        nothing published, no state changed) so the decode path is in the caches when the next
        message comes. Cost of keep_warm: ~4 µs per interval per venue (a trade, ~1.6 µs, and a
        diff, ~2.3 µs, decoded warm): about 4 % of a core with --busy-poll, 0.4 % with the
        default 1 ms poll."""
        if self._gc_idle_at and gc.get_count()[0] >= self._gc_idle_at:
            gc.collect(0)
            self.gc_idle_collections += 1
        if self.cfg.keep_warm:
            now = monotonic_ns()
            if now >= self._warm_next_ns:
                self._warm_next_ns = now + KEEP_WARM_INTERVAL_NS
                for feed in self.supervisor.feeds.values():
                    feed.warm()

    def _on_batch(self, venue: str, rs: ReaderSide, batch: np.ndarray, now: int) -> None:
        if self.on_batch is not None:
            self.on_batch(venue, rs, batch)
        if self.flow is not None:
            self.flow.on_batch(venue, rs.inst, batch)
        trades = batch[batch["kind"] == _TRADE]
        if self.aggregation is not None:
            self.aggregation.on_book(venue, batch, now)
        if len(trades):
            self.trades.add(venue, rs.inst, trades)
            if self.aggregation is not None:
                self.aggregation.on_trades(venue, trades, now)

    def _wake(self, venue: str, hold: bool = False) -> None:
        """In-process feeds: a venue's socket read has put records on its ring; its reader
        reads them now, in the same call (no trip through the event loop between the ring and
        the book). With `hold` (more frames of the same read follow) the records are applied to
        the book now and handed on with the rest of the read (RingReaders.poll_held). The
        reader sides and the two callbacks are bound once (_wake_args)."""
        instrument_of, on_batch, sides = self._wake_args
        if hold:
            self.ring_readers.poll_held(sides[venue])
            return
        total = self.ring_readers.poll_one(venue, sides[venue], instrument_of, on_batch)
        if self.aggregation is not None and self.aggregation.end_of_poll(total) and self.publisher is not None:
            self.publisher.publish(self.aggregation.agg.consensus)

    # -- reporting ----------------------------------------------------------------------------
    def venue_stats(self) -> dict[str, dict]:
        out = venue_stats(self.cfg.venues, self.supervisor, self.readers)
        if self.aeron_source is not None:  # no feed here: a venue is LIVE once its ring carries records
            for v, s in out.items():
                rs = self.readers[v]
                s["state"] = "LIVE" if rs.records else "DOWN"
                s["msgs"] = rs.batches
                s["source"] = "aeron"
        return out

    def latency_us_p50(self, venue: str) -> float | None:
        return self.readers[venue].latency_us_p50()

    def second_line(self) -> dict:
        now = monotonic_ns()
        if self._ring_meta_written:
            self._write_ring_meta()  # an instrument that changed since its side file was written
        line = {"t_s": round(time.monotonic() - self.t0, 3), "venues": self.venue_stats()}
        if self.aggregation is not None:
            line["agg"], alerts = self.aggregation.second(now, self.latency_us_p50)
            if self.publisher is not None:
                self.publisher.publish(self.agg.consensus)  # a venue excluded or re-included moves the touch too
            line["alerts"] = alerts
            self._alerts.extend(alerts)
        if self.flow is not None:
            line["signals"] = self.flow.take()
            line["oracle"] = self.cfg.oracle
        if self.cfg.metrics is not None:
            self.cfg.metrics.update(line, self)
        return line

    def summary(self) -> dict:
        out = {"summary": self.venue_stats()}
        if self.agg is not None:
            out["summary_agg"] = {**self.agg.summary(), **self.aggregation.seconds_summary()}
            out["alerts"] = self._alerts
        if self.flow is not None:
            out["signals"] = self.flow.summary()
            out["oracle"] = self.cfg.oracle
        return out

    async def run(self) -> dict:
        self.stop_event = asyncio.Event()
        loop = asyncio.get_running_loop()
        for s in STOP_SIGNALS:
            try:
                loop.add_signal_handler(s, self.stop_event.set)
            except (NotImplementedError, RuntimeError):
                pass
        await self.start()
        next_second = time.monotonic() + 1.0
        t_end = None if self.cfg.duration_s is None else time.monotonic() + self.cfg.duration_s
        try:
            while not self.stop_event.is_set():
                self.supervisor.drain()
                self.poll()
                now = time.monotonic()
                if now >= next_second:
                    next_second += 1.0
                    line = self.second_line()
                    if self.on_second:
                        self.on_second(line, self)
                if t_end is not None and now >= t_end:
                    break
                self.idle()
                await asyncio.sleep(self.poll_interval_s)
            self.supervisor.drain()
            self.poll()
            return self.summary()
        finally:
            await self.stop()
