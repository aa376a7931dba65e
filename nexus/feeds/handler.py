"""A venue feed handler: connection -> decoder -> the venue's sync rules -> ring.

Every change the venue's sync rules make to a book (snapshot, delta, buffered deltas
replayed after a REST snapshot, discard on a gap or checksum mismatch, depth truncation)
goes through a `PublishingBook`, which applies it to the handler's native book and
publishes the same change as records on the venue's ring. Readers (view, recorder,
aggregator, another process) rebuild exactly the handler's book from the ring. Trades are
published as decoded.

A gap or checksum failure leaves the book unsynced (the sync rules clear it); the handler
then resyncs: a REST snapshot where the venue's book comes from REST (Binance), otherwise a
fresh subscription (reconnect), which the venue answers with a snapshot.
"""

from __future__ import annotations

import dataclasses

import asyncio
import logging
from dataclasses import dataclass

import numpy as np

from nexus import record
from time import monotonic_ns

from nexus._native import RingWriter
from nexus.exceptions import BatchFull, DecodeError
from nexus.exceptions import ConfigError
from nexus.feeds.connection import FeedConnection
from nexus.feeds.failures import PrepareError
from nexus.feeds.poll import PollConnection
from nexus.feeds.recorder import fetch_rest
from nexus.feeds.session import Session, rest_call
from nexus.venues.registry import FeedSpec
from nexus.venues import venue_id
from nexus.venues.base import APPLIED, DEFAULT_BATCH_RECORDS, SegKind
from nexus.venues.booksync import Sync
from nexus.venues.registry import canonical_symbol, load, names
from nexus.venues.registry import feed_spec as registry_spec

log = logging.getLogger("nexus.feeds")

STALE_AFTER_S = 5.0
RESYNC_INTERVAL_S_MIN = 1.0  # do not hammer a venue's REST endpoint or reconnect in a loop
REST_SNAPSHOT_DELAY_S = 0.3  # let diffs buffer first (Binance's documented procedure)

_CLEAR = int(record.Kind.BOOK_CLEAR)
_LEVEL = int(record.Kind.BOOK_LEVEL)
_F_RESYNC = int(record.Flag.RESYNC)
_TRADES = SegKind.TRADES


def takes_count(publish) -> bool:
    """Does `publish` take `(batch, n)` (a RingWriter's publish, or a wrapper that says so with
    `takes_n`)? Then the first n records of a batch are published without a slice object."""
    return isinstance(getattr(publish, "__self__", None), RingWriter) or getattr(publish, "takes_n", False)


# The inner book's read-only methods a sync rule calls per message (crossed after every book
# segment, the checksums, the touch): bound once in `PublishingBook.__init__`, so a call is one
# slot read and the native call, not a Python-level `__getattr__` per use.
_READS = ("crossed", "best_bid", "best_ask", "depth", "top", "top_into", "checksum_okx", "checksum_string_okx",
          "checksum_kraken", "checksum_string_kraken")


class PublishingBook:
    """A native Book whose every mutation is also published as records. `inner` is fixed for
    the object's life (its read methods are bound at construction)."""

    __slots__ = ("inner", "publish", "venue_id", "instrument_id", "_one", "_publish_n", *_READS)

    def __init__(self, inner, publish, venue_id_: int, instrument_id: int):
        self.inner = inner
        self.publish = publish
        self.venue_id = venue_id_
        self.instrument_id = instrument_id
        self._one = record.empty(1)
        # a ring writer's publish takes the record count itself: no slice made per apply
        self._publish_n = takes_count(publish)
        for name in _READS:
            setattr(self, name, getattr(inner, name))

    def apply(self, batch, n=-1):
        k = self.inner.apply(batch, n)
        if n < 0:
            self.publish(batch)
        elif self._publish_n:
            self.publish(batch, n)
        else:
            self.publish(batch[:n])
        return k

    def clear(self, side=0):
        self.inner.clear(side)
        self._emit(_CLEAR, side, 0, 0, _F_RESYNC)

    def set(self, side, price, qty):
        self.inner.set(side, price, qty)
        self._emit(_LEVEL, side, price, qty, 0)

    def _emit(self, kind, side, price, qty, flags):
        r = self._one
        r["kind"], r["side"], r["price"], r["qty"], r["flags"] = kind, side, price, qty, flags
        r["venue_id"], r["instrument_id"] = self.venue_id, self.instrument_id
        r["ts_local_ns"] = monotonic_ns()
        self.publish(r)

    def __getattr__(self, name):
        return getattr(self.inner, name)


@dataclass
class FeedCounters:
    malformed: int = 0
    resync_requests: int = 0
    rest_errors: int = 0
    records_published: int = 0


class VenueFeed:
    """One venue, one symbol: keeps the book synced and publishes to `publish(records)`."""

    def __init__(self, venue: str, spec: FeedSpec, symbol: str, ws_url: str, rest_url: str | None,
                 publish, stale_after_s: float = STALE_AFTER_S, poll_s: float | None = None,
                 on_published=None, busy_poll_us: int = 0):
        self.venue = venue
        self.vid = venue_id(venue)
        self.spec = spec
        self.vsym = spec.symbol_of(symbol)
        self.symbol = canonical_symbol(venue, self.vsym)
        self.rest_url = rest_url
        self.stale_after_ns = int(stale_after_s * 1e9)
        self.module = load(venue)
        self.decoder = self.module.Decoder()
        self.decoder.rest_symbol = self.symbol
        self.sync = self.module.Sync(self.decoder)
        self._wrap_books()
        # the steady state fused (Binance, Bybit, OKX: an ordinary diff decoded, checked and applied to the
        # book in one native call; decode then returns APPLIED and the book published it); with
        # the stage probe on, such a frame's sync and book apply count in its decode stage (its
        # ring publish still in the publish stage)
        self.sync.fuse()
        self._publish_out = publish
        self._publish_n = takes_count(publish)
        # a trades-only message skips the sync rules when they are the base ones (which ignore
        # trades); a venue whose rules read every message's sequence (Coinbase, dYdX, Bitfinex)
        # overrides `feed` and gets every message
        self._trades_skip_sync = type(self.sync).feed is Sync.feed
        self._payload = b""  # the message being handled
        self.keep_warm = False  # RunConfig.keep_warm: remember trades-only frames for warm()
        # called at the end of a message that published records (in-process readers read the
        # ring then): on_published() reads, applies and hands the records on; on_published(True),
        # when more frames of the same socket read follow, reads and applies them only (the hand-on
        # waits for the end of the read). None: the readers poll on their own
        self.on_published = on_published
        self.probe = None  # nexus.feeds.stages.StageProbe, see enable_probe
        self.warm_frame: bytes | None = None  # keep_warm: the last trades-only frame (see warm)
        self.warm_diff: bytes | None = None   # keep_warm: the last book diff the fused path applied
        self.warmed = 0                      # warm() decodes done (keep_warm)
        self._wake_due = False  # records published, readers not woken yet (end of the socket read)
        self.batch = record.empty(DEFAULT_BATCH_RECORDS)
        self.counters = FeedCounters()
        self._last_resync_ns = 0
        self.last_book_ts_ns: int | None = None  # exchange time and sequence of the last book message
        self.last_book_seq: int | None = None
        self._resync_task: asyncio.Task | None = None
        self.ws_url = ws_url
        self.instruments_loaded = spec.instruments_path is None or rest_url is None
        # the instruments are known (the listing, or the token flow's Session.metadata, loaded)
        self.metadata_ready = self.instruments_loaded and spec.prepare is None
        prepare = self._prepare if spec.prepare is not None or not self.instruments_loaded else None
        if poll_s is not None:  # poll mode: the venue's whole book over REST (nexus.feeds.poll)
            if spec.poll_path is None or rest_url is None:
                raise ConfigError(f"{venue} has no REST book to poll; --poll applies to "
                                  f"{', '.join(n for n in names() if registry_spec(n).poll_path)}")
            self.conn = PollConnection(venue, rest_url + spec.poll_path(self.vsym), poll_s, self.on_message,
                                       self.on_connect, spec.poll_throttled, prepare=prepare)
        else:
            self.conn = FeedConnection(venue, ws_url, spec.subscribe(self.vsym), spec.heartbeat,
                                       self.on_message, self.on_connect, self.on_disconnect, prepare=prepare,
                                       busy_poll_us=busy_poll_us)
            self.conn.on_read_end = self._read_end

    def enable_probe(self, probe) -> None:
        """Stamp every message's stage boundaries into `probe` (nexus.feeds.stages): on_message
        stamps when `self.probe` is set, and the ring publish is timed."""
        from nexus.feeds.stages import timed_publish

        self.probe = probe
        self._publish_out = timed_publish(probe, self._publish_out)
        self._publish_n = takes_count(self._publish_out)

    async def load_instruments(self) -> None:
        """The venue's instrument listing, once (FeedSpec.instruments_path). Also awaited by
        the supervisor before the readers and the aggregator take the instrument, so they
        see the venue's tick and lot, not the generic fallback; a failure raises and the next
        connection attempt asks again."""
        if self.instruments_loaded:
            return
        post = self.spec.instruments_body(self.vsym) if self.spec.instruments_body else None
        url = self.rest_url + self.spec.instruments_path(self.vsym)
        try:
            body = await rest_call(url, "POST" if post is not None else "GET", post,
                                   {"Content-Type": "application/json"} if post is not None else None)
        except Exception as e:  # the attempt fails (and is retried) naming the listing
            raise PrepareError.of("instrument listing", url, e) from e
        if self.instruments_loaded:  # the other caller got there first
            return
        n = self.decoder.load_metadata(body)
        log.info("%s: %d instruments loaded from the venue", self.venue, n)
        self.instruments_loaded = True
        if self.spec.prepare is None:
            self.metadata_ready = True      # no token flow to bring more

    async def _prepare(self) -> Session:
        """Before each connection attempt: the venue's instrument listing (once), then the
        venue's token flow where it has one."""
        await self.load_instruments()
        if self.spec.prepare is not None:
            session = await self.spec.prepare(self.ws_url, self.rest_url, self.vsym)
            for body in session.metadata:   # listings the token flow fetched (Session.metadata)
                self.decoder.load_metadata(body)
            if session.on_open is None:
                self.metadata_ready = True
            else:                           # the listing comes with Session.on_open's bodies
                hook = session.on_open

                async def on_open(first: bytes) -> list[bytes]:
                    bodies = await hook(first)
                    for body in bodies:
                        self.on_message(body, monotonic_ns())
                    self.metadata_ready = True
                    return []

                session = dataclasses.replace(session, on_open=on_open)
            return session
        self.metadata_ready = True
        return Session(self.ws_url)

    # -- every book the sync rules create is a publishing one ---------------------------------
    def _wrap_books(self) -> None:
        sync, feed = self.sync, self
        original_state = sync.state

        def state(inst):
            st = original_state(inst)
            if not isinstance(st.book, PublishingBook):
                st.book = PublishingBook(st.book, feed._publish, feed.vid, inst.instrument_id)
            return st

        sync.state = state  # instance attribute: only this handler's sync is affected

    def _publish(self, recs: np.ndarray) -> None:
        if len(recs):
            self.counters.records_published += len(recs)
            self._publish_out(recs)

    # -- connection callbacks -----------------------------------------------------------------
    def on_connect(self) -> None:
        # A new connection starts a new stream: everything must be re-synced from its snapshot.
        for st in self.sync.books.values():
            if st.synced:
                self.sync.desync(st, "reconnected")
        # The new subscription is answered by a snapshot: a message arriving before it (a
        # venue's greeting, the subscription ack) must not drop the connection again, so the
        # first resync request of a connection waits RESYNC_INTERVAL_S_MIN.
        self._last_resync_ns = monotonic_ns()
        if self.spec.snapshot_path:
            self.request_resync(delay_s=REST_SNAPSHOT_DELAY_S)
        else:
            # the new stream's own snapshot is on its way (after a token handshake and a
            # subscribe round trip on Tradovate): a resubscribe waits RESYNC_INTERVAL_S_MIN
            self._last_resync_ns = monotonic_ns()

    def on_disconnect(self) -> None:
        pass

    # The per-message path is kept flat (each Python call on it costs ~1 µs when the caches are
    # cold, as they are between messages at a venue's usual rate): the first decode attempt, the
    # wake decision and the probe's stamps are inline; _decode handles the rare retry. One path
    # with and without the stage probe (enable_probe): without it, the probe costs three tests
    # of a local against None per message.
    def on_message(self, payload: bytes, ts_local_ns: int) -> None:
        probe = self.probe
        if probe is not None:  # StageProbe.opened's row, stamped inline
            t_handler = monotonic_ns()
            probe.publish_ns = 0
        counters = self.counters
        published = counters.records_published
        self._payload = payload
        try:
            segs = self.decoder.decode(payload, self.batch, ts_local_ns)
        except (BatchFull, DecodeError):  # a bigger batch, or a malformed message counted: _decode
            segs = self._decode(payload, ts_local_ns)
            if segs is None:
                return
        if probe is not None:
            t_decoded = monotonic_ns()
            if segs is APPLIED:  # fused: decode + sync + book apply count as decode; the publish inside it as publish
                t_decoded -= probe.publish_ns
        check = self._handle(segs)
        if counters.records_published != published:
            if probe is not None:
                probe.pending.append((counters.records_published, ts_local_ns, t_handler, t_decoded, monotonic_ns(),
                                      probe.publish_ns))
            if self.on_published is not None:
                if self.conn.more_in_read:
                    # applied to the reader's book now; handed on at the end of the read (_read_end)
                    self.on_published(True)
                    self._wake_due = True
                else:
                    self._wake_due = False
                    self.on_published()
        # after the readers have the records: a resync request only schedules a task
        if check and self.needs_resync():
            self.request_resync()

    def _read_end(self) -> None:
        """The connection's `on_read_end` (after a socket read's last frame): records applied
        early by `on_published(True)` are handed on (flow engine, trade tape, aggregation), once
        per read. Where a read's last frame never reaches the handler (a ping picows answers
        itself), the run loop's next poll hands them on (RingReaders.poll_one hands held records
        on first): no callback is scheduled per read for that case (a loop.call_soon cost ~7 µs on
        cold caches, paid by every later frame of the read before it was handled)."""
        if self._wake_due:
            self._wake_due = False
            if self.on_published is not None:  # None: the run stopped meanwhile
                self.on_published()

    def warm(self) -> None:
        """Keep the decode path in the caches between messages (`nexus run --keep-warm`): decode
        the last trades-only frame again, and the last book diff the fused path applied with the
        fused path switched off for that call (so the diff is only parsed into records, never
        applied: `decoder.fused` is restored at once), into the handler's scratch batch. Nothing
        is published and no book or sync state is touched: a decoder keeps no state of its own
        from a trade or a diff (the sync rules do, and they are not called); the batch is
        overwritten from index 0 by every message. The connection, the native book apply, the
        ring and the reader's book are not exercised; of the connection, only the frame-type
        conversion (FeedConnection.warm). A decoder that refuses a frame it took once (it never
        should) stops the warming for this feed."""
        raw, diff = self.warm_frame, self.warm_diff
        if raw is None and diff is None:
            return
        warm_conn = getattr(self.conn, "warm", None)  # FeedConnection (a PollConnection has none)
        if warm_conn is not None:
            warm_conn()
        dec = self.decoder
        try:
            if raw is not None:
                dec.decode(raw, self.batch, 0)
            if diff is not None:
                fused = dec.fused
                dec.fused = None
                try:
                    dec.decode(diff, self.batch, 0)
                finally:
                    dec.fused = fused
        except Exception as e:  # BatchFull cannot happen (the frame fitted); anything else: stop
            self.warm_frame = self.warm_diff = None
            self.keep_warm = False
            log.warning("%s: keep-warm decode failed (%s); warming stopped", self.venue, e)
            return
        self.warmed += 1

    def _handle(self, segs) -> bool:
        """The decoded segments through the venue's sync rules; trades published. Returns
        whether the message may call for a resync (on_message checks that once the readers
        have its records: the check is no part of the book's update)."""
        if len(segs) == 1 and segs[0].kind is _TRADES and self._trades_skip_sync:
            # the common message (one trade or a few): published from the batch as decoded
            seg = segs[0]
            if self.keep_warm:
                self.warm_frame = self._payload
            start, stop = seg.start, seg.stop
            if stop > start:
                self.counters.records_published += stop - start
                if start == 0 and self._publish_n:
                    self._publish_out(self.batch, stop)
                else:
                    self._publish_out(self.batch[start:stop])
            return True
        if segs is APPLIED:  # the fused path applied (and published) it already
            if self.keep_warm:
                self.warm_diff = self._payload
            r = self.sync.last_fused
            self.last_book_ts_ns, self.last_book_seq = r[1], r[2]
            if self.sync.notes:
                for n in self.sync.notes:
                    log.info("%s: %s", self.venue, n)
                self.sync.notes.clear()
            return False
        self.sync.feed(segs, self.batch)
        for seg in segs:
            if seg.kind is SegKind.TRADES and seg.stop > seg.start:
                self._publish(self.batch[seg.start:seg.stop])
            elif seg.kind is SegKind.BOOK:
                self.last_book_ts_ns, self.last_book_seq = seg.ts_exchange_ns, seg.seq
        if self.sync.notes:
            for n in self.sync.notes:
                log.info("%s: %s", self.venue, n)
            self.sync.notes.clear()
        # Only after market data: a control message arriving before the new stream's snapshot
        # (dYdX's `connected`, a subscribe ack) is no reason to drop the connection again.
        return any(seg.kind is not SegKind.CONTROL for seg in segs)

    def _decode(self, payload: bytes, ts_local_ns: int):
        while True:
            try:
                return self.decoder.decode(payload, self.batch, ts_local_ns)
            except BatchFull as e:
                self.batch = record.empty(max(e.needed, 2 * len(self.batch)))
            except DecodeError as e:
                self.counters.malformed += 1
                log.warning("%s: malformed message skipped: %s", self.venue, e)
                return None

    # -- resync -------------------------------------------------------------------------------
    def synced(self) -> bool:
        st = self.sync.books.get(self.symbol)
        return bool(st and st.synced)

    def needs_resync(self) -> bool:
        st = self.sync.books.get(self.symbol)
        return st is not None and not st.synced and self.conn.connected

    def request_resync(self, delay_s: float = 0.0) -> None:
        now = monotonic_ns()
        if self._resync_task is not None and not self._resync_task.done():
            return
        if now - self._last_resync_ns < RESYNC_INTERVAL_S_MIN * 1e9 and delay_s == 0:
            delay_s = RESYNC_INTERVAL_S_MIN
        self._last_resync_ns = now
        self.counters.resync_requests += 1
        self._resync_task = asyncio.get_running_loop().create_task(self._resync(delay_s))

    async def _resync(self, delay_s: float) -> None:
        if delay_s:
            await asyncio.sleep(delay_s)
        if self.synced() or not self.conn.connected:
            return
        if isinstance(self.conn, PollConnection):
            return  # the next poll is a whole book
        if self.spec.snapshot_path and self.rest_url:
            url = self.rest_url + self.spec.snapshot_path(self.vsym)
            try:
                body = await asyncio.to_thread(fetch_rest, url)
            except Exception as e:
                self.counters.rest_errors += 1
                log.warning("%s: REST snapshot failed: %s", self.venue, e)
                return
            self.on_message(body, monotonic_ns())
        else:
            self.conn.drop()  # resubscribe: the venue starts the new stream with a snapshot

    # -- state --------------------------------------------------------------------------------
    def state(self, now_ns: int) -> str:
        if not self.conn.connected:
            return "DOWN"
        if now_ns - self.conn.stats.last_msg_ns > self.stale_after_ns:
            return "STALE"
        return "LIVE" if self.synced() else "SYNCING"

    def stats(self, now_ns: int) -> dict:
        st = self.sync.books.get(self.symbol)
        b = st.book.best_bid() if st and st.synced else None
        a = st.book.best_ask() if st and st.synced else None
        inst = st.inst if st else None
        return {
            "state": self.state(now_ns),
            "msgs": self.conn.stats.msgs,
            "gaps": st.gaps if st else 0,
            "resyncs": (st.resyncs if st else 0),
            "reconnects": self.conn.stats.reconnects,
            "attempts": self.conn.stats.attempts,
            "error": self.conn.stats.last_error or None,
            "checksum_failures": st.checksum_failures if st else 0,
            "malformed": self.counters.malformed,
            **({"rate_limited": self.conn.rate_limited} if isinstance(self.conn, PollConnection) else {}),
            "best_bid": inst.price_str(b[0]) if b and inst else None,
            "best_ask": inst.price_str(a[0]) if a and inst else None,
        }
