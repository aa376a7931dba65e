"""Process supervision for `nexus run`: the venue simulator when asked, and one feed handler per
venue publishing into its ring, either in this process (each publish wakes the readers) or each
in its own process (`procs`), whose per-second counters and instrument come back over a queue."""

from __future__ import annotations

import asyncio
import logging
from functools import partial
import multiprocessing as mp
import queue as queue_mod
import signal

from nexus._native import monotonic_ns
from nexus.exceptions import ConfigError
from nexus.feeds.handler import VenueFeed
from nexus.feeds.run.config import RING_SLOTS, RunConfig
from nexus.feeds.run.cpu import feed_process_cpu, pin, spin
from nexus.feeds.specs import spec
from nexus.ring import RingWriter

log = logging.getLogger("nexus.feeds")

STATS_QUEUE_MAX = 1024
log = logging.getLogger("nexus.feeds")

PROC_REPORT_S = 0.5
KEEP_WARM_INTERVAL_S = 100e-6  # --keep-warm with --busy-poll in a feed process (the loop spins anyway)
KEEP_WARM_IDLE_S = 0.001       # --keep-warm without: as the in-process loop's 1 ms poll
PROC_JOIN_S = 5
# How long `nexus run` waits, at start, for every feed to have its venue's instrument listing
# (fetched before the first connection) so rings, readers and the Aggregator get the venue's
# tick and exponents, not a generic stand-in.
INSTRUMENTS_WAIT_S = 10.0


def _feed_process(cfg: RunConfig, venue: str, ring: str, ws_url: str, rest_url: str | None, stats_q, stop_ev) -> None:
    """A feed handler in its own process (`--procs`). Ctrl-C and a closed terminal reach the
    whole process group: the parent stops this process through `stop_ev` then, so SIGINT and
    SIGHUP are ignored here; SIGTERM stops it alone, cleanly (its ring closed)."""
    for s in (signal.SIGINT, signal.SIGHUP):
        signal.signal(s, signal.SIG_IGN)
    cpu = feed_process_cpu(cfg.pin_cpu, cfg.venues.index(venue))
    if cpu is not None:
        pin(cpu)

    async def main():
        terminated = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, terminated.set)
        spinner = asyncio.get_running_loop().create_task(spin()) if cfg.busy_poll else None
        with RingWriter(ring, slots=RING_SLOTS) as w:
            feed = VenueFeed(venue, spec(venue), cfg.symbol, ws_url, rest_url, w.publish, cfg.stale_after_s,
                             cfg.poll_s.get(venue), busy_poll_us=cfg.busy_poll_socket_us)
            await _load_instruments([feed])
            feed.conn.start()
            warmer = None
            if cfg.keep_warm:  # the feed process's own idle loop (the parent's Runtime.idle does it in-process)
                feed.keep_warm = True
                warmer = asyncio.get_running_loop().create_task(_keep_warm(feed, cfg.busy_poll))
            while not (stop_ev.is_set() or terminated.is_set()):
                await asyncio.sleep(PROC_REPORT_S)
                st = feed.sync.books.get(feed.symbol)
                if not (feed.instruments_loaded and feed.metadata_ready):
                    continue  # no report before the venue's listing: its instrument is not known yet
                inst = st.inst if st else feed.decoder.instrument(feed.symbol)
                try:
                    stats_q.put_nowait((venue, feed.stats(monotonic_ns()), inst and _inst_tuple(inst)))
                except queue_mod.Full:
                    pass
            await feed.conn.stop()
            if spinner is not None:
                spinner.cancel()
            if warmer is not None:
                warmer.cancel()

    asyncio.run(main())


async def _keep_warm(feed: VenueFeed, busy: bool) -> None:
    """--keep-warm in a feed process: VenueFeed.warm every KEEP_WARM_INTERVAL_S (cancelled at the end)."""
    while True:
        feed.warm()
        await asyncio.sleep(KEEP_WARM_INTERVAL_S if busy else KEEP_WARM_IDLE_S)


async def _load_instruments(feeds) -> None:
    """Each feed's instrument listing before it starts (so the exponents every reader is given
    are the venue's, not the generic fallback); a failure is logged and the feed retries it
    before connecting."""
    results = await asyncio.gather(*(f.load_instruments() for f in feeds), return_exceptions=True)
    for f, r in zip(feeds, results):
        if isinstance(r, Exception):
            log.warning("%s: instrument listing failed (retried before connecting): %s", f.venue, r)


def _inst_tuple(inst):
    return (inst.venue, inst.symbol, inst.tick_size, inst.lot_size, inst.contract_value, inst.contract_kind,
            inst.price_exponent, inst.qty_exponent)


class FeedSupervisor:
    """Starts and stops the simulator and the feed handlers; `rings` names each venue's ring;
    `on_publish(venue, hold=False)` is called at the end of each in-process venue message that published
    records (the readers read the ring then, in the same call; with hold, more frames of the socket read
    follow: the records are applied to the reader's book, handed on at the end of the read)."""

    def __init__(self, cfg: RunConfig, rings: dict[str, str], on_publish) -> None:
        self.cfg = cfg
        self.rings = rings
        self.on_publish = on_publish
        self.feeds: dict[str, VenueFeed] = {}
        self.writers: dict[str, RingWriter] = {}
        self.procs: dict[str, mp.Process] = {}
        self.proc_stats: dict[str, dict] = {}
        self.sim = None

    async def start(self) -> None:
        cfg = self.cfg
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
            self._start_processes()
        else:
            await self._start_in_process()

    async def _load_instruments(self) -> None:
        """Venues whose instruments come from a listing (FeedSpec.instruments_path): fetched
        before the readers and the aggregator take each venue's instrument (bounded: a venue
        that does not answer in time keeps trying on its connection attempts)."""
        pending = [f for f in self.feeds.values() if not f.instruments_loaded]
        if not pending:
            return
        try:
            done = await asyncio.wait_for(asyncio.gather(*(f.load_instruments() for f in pending),
                                                         return_exceptions=True), INSTRUMENTS_WAIT_S)
        except asyncio.TimeoutError:
            log.warning("instrument listings not answered in %d s; retried on connect", INSTRUMENTS_WAIT_S)
            return
        for f, r in zip(pending, done):
            if isinstance(r, Exception):
                log.warning("%s: instrument listing failed (%s); retried on connect", f.venue, r)

    def _start_processes(self) -> None:
        cfg = self.cfg
        ctx = mp.get_context("spawn")
        self._stats_q = ctx.Queue(maxsize=STATS_QUEUE_MAX)
        self._stop_ev = ctx.Event()
        for v in cfg.venues:
            s = spec(v)
            p = ctx.Process(target=_feed_process, name=f"nexus-feed-{v}", daemon=True, args=(
                cfg, v, self.rings[v], cfg.ws_urls.get(v, s.ws_url), cfg.rest_urls.get(v, s.rest_url),
                self._stats_q, self._stop_ev))
            p.start()
            self.procs[v] = p

    async def _start_in_process(self) -> None:
        cfg = self.cfg
        for v in cfg.venues:
            s = spec(v)
            w = RingWriter(self.rings[v], slots=RING_SLOTS)
            self.writers[v] = w
            feed = VenueFeed(v, s, cfg.symbol, cfg.ws_urls.get(v, s.ws_url), cfg.rest_urls.get(v, s.rest_url),
                             w.publish, cfg.stale_after_s, cfg.poll_s.get(v), on_published=partial(self.on_publish, v),
                             busy_poll_us=cfg.busy_poll_socket_us)
            self.feeds[v] = feed
        await self._load_instruments()     # before any connection (bounded wait)
        for feed in self.feeds.values():
            feed.conn.start()

    async def instruments_ready(self, timeout_s: float = INSTRUMENTS_WAIT_S) -> bool:
        """Wait (at most `timeout_s`) until every feed has loaded its venue's instrument listing
        (in-process feeds) or reported its instrument (feed processes). False on timeout."""
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout_s
        while True:
            self.drain()
            if all(f.instruments_loaded and f.metadata_ready for f in self.feeds.values()) and \
                    all(v in self.proc_stats for v in self.procs):
                return True
            if loop.time() >= end:
                return False
            await asyncio.sleep(0.02)

    def instrument(self, venue: str):
        """The venue's instrument: as its feed's sync keeps it, else from the venue's decoder."""
        if venue in self.procs and self.reported_instrument(venue) is not None:
            return self.reported_instrument(venue)
        if venue in self.feeds:
            f = self.feeds[venue]
            st = f.sync.books.get(f.symbol)
            return st.inst if st else f.decoder.instrument(f.symbol)
        from nexus.venues.registry import canonical_symbol, load

        d = load(venue).Decoder()
        return d.instrument(canonical_symbol(venue, spec(venue).symbol_of(self.cfg.symbol)))

    def reported_instrument(self, venue: str):
        """The instrument a feed process last reported (in-process feeds: their decoder's once the
        venue's instrument listing is loaded), or None before that."""
        f = self.feeds.get(venue)
        if f is not None:  # in this process: known once the venue's instrument listing is loaded
            return f.decoder.instrument(f.symbol) if f.instruments_loaded and f.metadata_ready else None
        item = self.proc_stats.get(venue)
        if item is None or item["_inst"] is None:
            return None
        from nexus.instruments import Instrument

        vname, sym, tick, lot, cv, kind, pe, qe = item["_inst"]
        return Instrument(vname, sym, tick, lot, cv, kind, price_exponent=pe, qty_exponent=qe)

    def drain(self) -> None:
        """Take the feed processes' reports off the queue."""
        if not self.procs:
            return
        while True:
            try:
                venue, stats, inst = self._stats_q.get_nowait()
            except queue_mod.Empty:
                return
            stats["_inst"] = inst
            self.proc_stats[venue] = stats

    async def stop_feeds(self) -> None:
        for f in self.feeds.values():
            await f.conn.stop()
        if self.procs:
            self._stop_ev.set()
            for p in self.procs.values():
                p.join(PROC_JOIN_S)
                if p.is_alive():
                    p.kill()

    def close_rings(self) -> None:
        for w in self.writers.values():
            w.close()

    async def stop_sim(self) -> None:
        if self.sim is not None:
            await self.sim.stop()
