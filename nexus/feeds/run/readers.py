"""Ring polling and books for `nexus run`: one reader per venue ring, the book rebuilt from
the records that crossed it, wire-to-book latencies, and the trade tape the view shows.

The poll loop is the hot path: per batch it applies the book, notes one latency and hands the
batch on (one call); nothing in it runs per record."""

from __future__ import annotations

from collections import deque

import numpy as np

from nexus import record
from time import monotonic_ns

from nexus._native import Book, format_scaled
from nexus.exceptions import RingNotFound
from nexus.ring import RingReader

READ_BATCH = 4096
HOLD_RECORDS = 1024   # a reader side's records applied early but not yet handed on (poll_held)
LATENCY_SAMPLES_MAX = 2048
TAPE_LEN = 200
BID = int(record.Side.BID)


class ReaderSide:
    """One venue's ring reader, its rebuilt book and its wire-to-book latencies."""

    def __init__(self, venue: str, ring: str):
        self.venue = venue
        self.ring = ring
        self.reader: RingReader | None = None
        self.book: Book | None = None
        self.inst = None
        self.latency_ns: deque[int] = deque(maxlen=LATENCY_SAMPLES_MAX)
        self.records = 0
        self.batches = 0  # latency samples noted so far (metrics take the new ones each refresh)
        self.probe = None  # nexus.feeds.stages.StageProbe shared with the in-process feed (RunConfig.stages)
        self.hold: np.ndarray | None = None  # poll_held's buffer (made on first use)
        self.hold_ts: np.ndarray | None = None
        self.held = 0  # records in `hold`: applied to the book, not yet handed on
        # per early apply (poll_held): (records read through it, polled ns, applied ns, index of its
        # newest record in `hold`); noted as latencies and probe rows when the read is handed on
        self.held_marks: list[tuple[int, int, int, int]] = []
        self.early = 0  # records poll_held applied ahead of their read's end (cumulative)

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

    def latency_us_p50(self) -> float | None:
        lat = self.latency_ns
        return round(float(np.percentile(np.asarray(lat), 50)) / 1e3, 1) if lat else None


class RingReaders:
    """The venues' reader sides, polled together into one reused batch."""

    def __init__(self, rings: dict[str, str]) -> None:
        self.sides = {v: ReaderSide(v, ring) for v, ring in rings.items()}
        self._out = record.empty(READ_BATCH)
        self._out_ts = self._out["ts_local_ns"]  # a view made once: no per-batch field view

    def poll(self, instrument_of, on_batch) -> int:
        """Read every ring dry. A venue without a book yet asks `instrument_of(venue)` (None: not
        known yet, skip it); each batch read is applied to its book, then `on_batch(venue,
        side, batch, now_ns)` gets it. Returns the records read."""
        total = 0
        for v, rs in self.sides.items():
            total += self.poll_one(v, rs, instrument_of, on_batch)
        return total

    def poll_one(self, v: str, rs: ReaderSide, instrument_of, on_batch) -> int:
        """`poll` for one venue's ring (an in-process feed wakes its own reader). Records
        poll_held applied early are handed on first, in one batch with those read after them."""
        total = 0
        out = self._out
        if rs.book is None:
            inst = instrument_of(v)
            if inst is None:
                return 0
            rs.set_instrument(inst)
        if rs.reader is None and not rs.attach():
            return 0
        if rs.held:
            total = self.poll_held(rs)  # the rest of the socket read, after the held records
            held, rs.held = rs.held, 0
            self._note_held(rs)
            on_batch(v, rs, rs.hold[:held], monotonic_ns())
        cap = len(out)
        while True:
            n = rs.reader.poll(out)
            if not n:
                break
            total += n
            rs.records += n
            rs.batches += 1
            polled = monotonic_ns()
            rs.book.apply(out, n)
            now = monotonic_ns()
            # wire to book: the newest message's arrival to its records applied here
            rs.latency_ns.append(now - int(self._out_ts[n - 1]))
            if rs.probe is not None:
                rs.probe.closed(rs.records, polled, now)
            on_batch(v, rs, out[:n], now)
            if n < cap:  # drained: spare the empty poll
                break
        return total

    def poll_held(self, rs: ReaderSide) -> int:
        """In-process feeds, a message whose socket read brings more frames: its records are
        read and applied to the book now (so its wire-to-book time does not include the next
        frames' decoding), and kept in the side's `hold` buffer; the next poll_one (at the end of
        the read) hands them on, in one batch with the rest of the read, as one poll at the end
        of the read would have, and only then notes their latencies and stage-probe rows
        (_note_held, from the stamps taken here): the read's next frames do not wait for that
        bookkeeping. Nothing is read before the side is set up (poll_one does that),
        nor past a full hold buffer (poll_one reads the rest). Returns the records read."""
        if rs.book is None or rs.reader is None:
            return 0
        buf = rs.hold
        if buf is None:
            buf = rs.hold = record.empty(HOLD_RECORDS)
            rs.hold_ts = buf["ts_local_ns"]
        held = rs.held
        if held >= len(buf):
            return 0
        out = buf[held:] if held else buf
        n = rs.reader.poll(out)
        if n:
            rs.records += n
            rs.batches += 1
            polled = monotonic_ns()
            rs.book.apply(out, n)
            now = monotonic_ns()
            # the book has them: everything else waits for the end of the read (_note_held), so
            # the next frames of the read are not held up by it
            rs.held_marks.append((rs.records, polled, now, held + n - 1))
            rs.held = held + n
            rs.early += n
        return n

    @staticmethod
    def _note_held(rs: ReaderSide) -> None:
        """At the hand-on of a read's held records: their wire-to-book latencies, and the stage
        probe's rows closed with the stamps taken when each was applied."""
        ts, lat, probe = rs.hold_ts, rs.latency_ns, rs.probe
        for records, polled, applied, last in rs.held_marks:
            lat.append(applied - int(ts[last]))
            if probe is not None:
                probe.closed(records, polled, applied)
        rs.held_marks.clear()

    def close(self) -> None:
        for r in self.sides.values():
            if r.reader is not None:
                r.reader.close()


class TradeTape:
    """The last TAPE_LEN trades of every venue, as the view prints them."""

    def __init__(self) -> None:
        self.rows: deque[dict] = deque(maxlen=TAPE_LEN)

    def add(self, venue: str, inst, trades: np.ndarray) -> None:
        pe, qe = inst.price_exponent, inst.qty_exponent
        append = self.rows.append
        for side, price, qty, ts in zip(trades["side"].tolist(), trades["price"].tolist(), trades["qty"].tolist(),
                                        trades["ts_exchange_ns"].tolist()):
            append({"venue": venue, "side": "buy" if side == BID else "sell", "price": format_scaled(price, pe),
                    "size": format_scaled(qty, qe), "ts": ts})
