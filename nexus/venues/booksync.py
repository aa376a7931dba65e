"""The book-keeping half of a venue module: `Sync` keeps one native book per symbol by the
venue's own rules (each venue module subclasses it), `BookState` is one symbol's book and
its counters. A book is either in sync or empty and marked as waiting for a snapshot: a
gap or a checksum mismatch discards it, never leaves it silently wrong."""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from nexus._native import Book, format_scaled
from nexus.exceptions import NexusError
from nexus.instruments import Instrument
from nexus.venues.base import ASK, BID, Decoder, Segment, SegKind

_BOOK, _CONTROL = SegKind.BOOK, SegKind.CONTROL

# CROSSED_CHANGED: has a book's crossed state changed since `BookState.is_crossed` (a bool)?
# Written `(not crossed) is st.is_crossed`, true exactly when bool(crossed) != is_crossed for
# any truthy or falsy `crossed` (a native bool today), at the cost of one `not` (no call): the
# hot paths (`Sync.feed` and the fused `feed_frame`s) test it once per book frame.


class BookState:
    """One symbol's book and its sync bookkeeping."""

    __slots__ = (
        "inst", "book", "synced", "gaps", "checksum_failures", "resyncs", "crossed", "dropped",
        "checksum_venue", "checksum_bad", "last_seq", "last_prev", "last_ts", "buffer",
        "buffered_records", "depth_limit", "is_crossed",
    )

    def __init__(self, inst: Instrument) -> None:
        self.inst = inst
        self.book = Book(inst.price_exponent, inst.qty_exponent)
        self.synced = False  # False: needs a snapshot; deltas are not applied
        self.gaps = 0  # sequence gaps detected
        self.checksum_failures = 0
        self.resyncs = 0  # times the book was discarded to wait for a snapshot
        self.crossed = 0  # times the book became crossed
        self.dropped = 0  # stale or duplicate messages ignored
        self.checksum_venue: int | None = None  # the last checksum the venue sent
        self.checksum_bad = False  # the book was discarded because a checksum did not match
        self.last_seq: int | None = None
        self.last_prev: int | None = None
        self.last_ts: int | None = None
        # Binance: deltas waiting for a REST snapshot, (U, u, pu, copied records), bounded
        self.buffer: list[tuple[int, int, int | None, np.ndarray]] = []
        self.buffered_records = 0
        self.depth_limit: int | None = None  # truncate each side to this (Kraken)
        self.is_crossed = False  # always a bool: written by Sync._check_crossed and Sync.desync only


class Sync:
    """Keeps one native book per symbol by the venue's own rules. Feed it every decoded
    message (`feed`); read `books`, `notes` (human-readable events: gaps, checksum
    failures, crossed books) and `needs_snapshot()` (what a live feed must resync)."""

    venue: str = ""
    has_checksum = False

    def __init__(self, decoder: Decoder) -> None:
        if decoder.venue != self.venue:
            raise NexusError(f"{type(self).__name__} needs a {self.venue} decoder, got {decoder.venue}")
        self.decoder = decoder
        self.books: dict[str, BookState] = {}
        self.notes: list[str] = []

    def state(self, inst: Instrument) -> BookState:
        st = self.books.get(inst.symbol)
        if st is None:
            st = self.books[inst.symbol] = BookState(inst)
        elif st.inst is not inst:
            if (st.inst.price_exponent, st.inst.qty_exponent) != (inst.price_exponent, inst.qty_exponent):
                # New metadata with other exponents: the old integers mean other values.
                fresh = BookState(inst)
                fresh.gaps, fresh.checksum_failures = st.gaps, st.checksum_failures
                fresh.resyncs, fresh.crossed = st.resyncs + (1 if st.synced else 0), st.crossed
                self.notes.append(f"{inst.symbol}: instrument exponents changed; waiting for a snapshot")
                st = self.books[inst.symbol] = fresh
            else:
                st.inst = inst
        return st

    def feed(self, segments: Iterable[Segment], batch: np.ndarray) -> None:
        books = self.books
        for seg in segments:
            kind = seg.kind
            if kind is _BOOK:
                inst = seg.inst
                st = books.get(inst.symbol)
                if st is None or st.inst is not inst:  # new, or new metadata: `state` decides
                    st = self.state(inst)
                self.on_book(st, seg, batch)
                if st.synced and (not st.book.crossed()) is st.is_crossed:  # a change: noted (CROSSED_CHANGED)
                    self._check_crossed(st)
            elif kind is _CONTROL:
                self.on_control(seg)

    # -- the fused steady state (a small opt-in hook) -----------------------------------------
    last_fused: tuple | None = None  # (records, ts_exchange_ns, seq, crossed) of the last fused frame

    def fuse(self) -> None:
        """Opt in to the fused steady state: the decoder offers every book diff it recognises
        to `feed_frame` first; an ordinary diff for a book in sync is then decoded into the
        batch, sequence-checked and applied to the book in one native call, exactly as
        `decode` then `feed` would leave them, and `decode` returns `APPLIED` (no segments:
        `feed(APPLIED, batch)` does nothing; `last_fused` says what was applied). Anything
        else (gap, stale or duplicate diff, snapshot, buffered diffs, Binance's first diff
        after a snapshot, other symbol, unknown or re-listed instrument, a frame the native
        decoder declines) takes the general path unchanged. A diff that crosses or uncrosses
        the book is applied, then noted by `_check_crossed` exactly as `feed` notes it. Venues
        with a fused path: binance-spot, binance-perp, bybit-perp, okx-swap (which checks the
        checksum natively too; a mismatch discards the book as `on_book` does). A book wrapped by the feed
        handler (`PublishingBook`: `.inner` the native book, `.publish`) has the applied
        records published, as its `apply` does. Venues without a fused path ignore the call.
        The caller must feed every decoded frame to this Sync (the decoder's frames are its)."""
        if type(self).feed_frame is not Sync.feed_frame:
            self.decoder.fused = self.feed_frame

    def feed_frame(self, raw: bytes, batch: np.ndarray, ts_local_ns: int = 0) -> tuple | None:
        """The fused path for one frame the decoder recognised as a book diff: (records,
        ts_exchange_ns, seq, crossed) when applied, None when nothing was applied (the
        general path decides). Venues with a fused path override it."""
        return None

    # -- venue rules (override) ------------------------------------------------------------
    def on_book(self, st: BookState, seg: Segment, batch: np.ndarray) -> None:
        raise NotImplementedError

    def on_control(self, seg: Segment) -> None:
        pass

    def checksum(self, st: BookState) -> int | None:
        """The venue's checksum computed by Nexus over the current book (None: no checksum)."""
        return None

    # -- helpers -----------------------------------------------------------------------------
    @staticmethod
    def apply(st: BookState, seg: Segment, batch: np.ndarray) -> None:
        if seg.stop > seg.start:
            st.book.apply(batch[seg.start:seg.stop] if seg.start else batch, seg.stop - seg.start)
        if st.depth_limit is not None:
            truncate(st.book, st.depth_limit)

    def desync(self, st: BookState, reason: str, *, gap: bool = False, checksum: bool = False) -> None:
        """Discard the book: it stays empty and unsynced until the next snapshot."""
        if gap:
            st.gaps += 1
        if checksum:
            st.checksum_failures += 1
        st.checksum_bad = checksum
        if st.synced:
            st.resyncs += 1
        st.synced = False
        st.is_crossed = False
        st.book.clear(0)
        self.notes.append(f"{st.inst.symbol}: {reason}; book discarded until the next snapshot")

    def _check_crossed(self, st: BookState) -> None:
        crossed = st.book.crossed()
        if crossed and not st.is_crossed:
            st.crossed += 1
            bb, ba = st.book.best_bid(), st.book.best_ask()
            self.notes.append(
                f"{st.inst.symbol}: crossed book (best bid {st.inst.price_str(bb[0])} >= "
                f"best ask {st.inst.price_str(ba[0])})")
        st.is_crossed = bool(crossed)  # a bool whatever the book's crossed() returns (CROSSED_CHANGED)

    def needs_snapshot(self) -> list[str]:
        """Symbols whose book waits for a snapshot (a live feed fetches or resubscribes)."""
        return [s for s, st in self.books.items() if not st.synced]

    def stats(self) -> dict[str, int]:
        """Counters summed over the venue's books (cumulative)."""
        out = {"books": len(self.books), "synced": 0, "gaps": 0, "resyncs": 0, "checksum_failures": 0,
               "crossed": 0, "dropped": 0}
        for st in self.books.values():
            out["synced"] += st.synced
            for k in ("gaps", "resyncs", "checksum_failures", "crossed", "dropped"):
                out[k] += getattr(st, k)
        return out

    def result(self, symbol: str, depth: int = 0) -> dict[str, Any]:
        """The `book replay` output object for one symbol (an unsynced book is empty)."""
        st = self.books[symbol]
        inst = st.inst
        pe, qe = inst.price_exponent, inst.qty_exponent
        bids: list[list[str]] = []
        asks: list[list[str]] = []
        checksum: int | None = None
        ok: bool | None = None
        if st.synced:
            nb = st.book.depth(BID) if depth <= 0 else depth
            na = st.book.depth(ASK) if depth <= 0 else depth
            bids = [[format_scaled(p, pe), format_scaled(q, qe)] for p, q in st.book.top(BID, nb)]
            asks = [[format_scaled(p, pe), format_scaled(q, qe)] for p, q in st.book.top(ASK, na)]
            checksum = self.checksum(st)
            if checksum is not None and st.checksum_venue is not None:
                ok = checksum == st.checksum_venue
        elif st.checksum_bad:
            ok = False
        return {
            "venue": self.venue, "symbol": symbol, "bids": bids, "asks": asks,
            "checksum": checksum, "checksum_ok": ok,
            "checksum_failures": st.checksum_failures, "gaps": st.gaps,
        }


def truncate(book: Book, depth: int) -> None:
    """Remove the levels beyond `depth` on each side (Kraken: the venue sends no deletes
    for levels that fall out of the subscribed depth)."""
    for side in (BID, ASK):
        extra = book.depth(side) - depth
        if extra > 0:
            for price, _ in book.top(side, depth + extra)[depth:]:
                book.set(side, price, 0)
