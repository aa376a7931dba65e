"""OKX v5 perpetual swaps: the `books` family of order book channels (`books`,
`books-l2-tbt`, `books50-l2-tbt`; `books5` and `bbo-tbt` push whole snapshots), `trades`
and `trades-all`, instruments from `GET /api/v5/public/instruments?instType=SWAP` or the
`instruments` channel.

Sources: OKX API v5 docs, Order Book Trading > Market Data > WS / Order book channel
(push data, "Sequence ID", "Checksum", "Merging incremental data into full data"),
WS / Trades channel, Public Data > Get instruments; the checksum worked examples with their
values come from the OKX v3 docs (futures_ws-checksum), the same algorithm.

Sync rules:
- `action: snapshot` replaces the book (prevSeqId is -1); `update` carries increments whose
  `prevSeqId` must equal the previous message's `seqId`. A keep-alive update has empty
  sides and prevSeqId = seqId = the last seqId; after maintenance the sequence may restart
  with seqId < prevSeqId (still chained by prevSeqId). Anything else is a gap: the book is
  discarded until the next snapshot. An exact repeat of the last message is ignored.
- Checksum: CRC32 over "bid1px:bid1sz:ask1px:ask1sz:..." of the top 25 levels of each side
  interleaved (a side that runs out is skipped), as a signed 32-bit integer, compared after
  each message is applied; a mismatch discards the book. The values are written as OKX
  writes them, the shortest decimal (native Book.checksum_okx): this assumes OKX sends no
  trailing zeros, which holds for its books ("8476.98", "415").
- OKX announced that from June 2026 the checksum field "will always return 0 and must no
  longer be used": a checksum of 0 is treated as not sent.
Sizes are in contracts (ctVal base units each); normalize prints them as OKX sends them.
Trades: `side` is the taker's side.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nexus import _native
from nexus._native import Book
from nexus.exceptions import DecodeError
from nexus.instruments import Instrument, decimals_of
from nexus.venues.base import (
    CONTROL, Decoder, Segment, SegKind, TradeFields, columns, log, ms_to_ns, push_decode,
)
from nexus.venues.booksync import BookState, Sync

VENUE = "okx-swap"
CHECKSUM_DEPTH = 25
BOOK_CHANNELS = frozenset({"books", "books-l2-tbt", "books50-l2-tbt", "books5", "bbo-tbt", "books-elp"})
TRADE_CHANNELS = frozenset({"trades", "trades-all"})
INT32_MIN, INT32_MAX = -(1 << 31), (1 << 31) - 1


def instrument(inst_id: str, tick: str, lot: str, ct_val: str, ct_type: str = "linear",
               base: str = "", quote: str = "") -> Instrument:
    return Instrument(VENUE, inst_id, tick, lot, ct_val, ct_type, base, quote,
                      decimals_of(tick), decimals_of(lot))


TRADE_FIELDS = TradeFields("instId", "ts", ms_to_ns, "px", "sz", "side", "buy", "sell", "tradeId")


# The native fast path for `books` and `trades` pushes (native/src/core/okx.rs); None in a
# build that predates it (then every message takes the general path).
okx_message = getattr(_native, "okx_message", None)
okx_book_sync = getattr(_native, "okx_book_sync", None)  # the fused steady state (Sync.fuse)
_BOOKS_PREFIX = b'{"arg":{"channel":"books'
_PUSH_PREFIX = b'{"arg":{"channel":"'


class OkxSwapDecoder(Decoder):
    venue = VENUE

    # A well-formed `books` or `trades` push goes through the native fast path
    # (native/src/core/okx.rs): parsed and written into `out` in Rust, book diffs offered to
    # the fused steady state first (Sync.fuse). Anything else, or anything unusual in it,
    # takes the general path, which accepts and rejects exactly the same messages.
    decode = push_decode(okx_message, _PUSH_PREFIX, _BOOKS_PREFIX, chained=True)

    def _parse(self, raw: bytes) -> Any:
        if raw.strip() == b"pong":  # the reply to a text "ping" is plain text
            return None
        return super()._parse(raw)

    def _decode(self, doc: Any) -> list[Segment]:
        if doc is None:
            return [CONTROL]
        if type(doc) is not dict:
            raise DecodeError("expected a JSON object")
        if "event" in doc:  # subscribe / unsubscribe / error / notice
            if doc["event"] == "error":
                log.warning("%s: the venue reported an error: %s %s", self.venue, doc.get("code"), doc.get("msg"))
            return [CONTROL]
        arg = doc.get("arg")
        if arg is None:
            if doc.get("code") == "0" and type(doc.get("data")) is list:  # REST instruments body
                self._metadata(doc)
                return [CONTROL]
            raise DecodeError("not an OKX message this decoder knows (no arg or event)")
        channel = arg["channel"]
        if channel in BOOK_CHANNELS:
            return self._books(doc, arg["instId"])
        if channel in TRADE_CHANNELS:
            return self._trades(doc)
        if channel == "instruments":
            self._metadata(doc)
        return [CONTROL]

    def _books(self, doc: dict, inst_id: str) -> list[Segment]:
        action = doc.get("action", "snapshot")  # books5 / bbo-tbt push whole books, no action
        if action not in ("snapshot", "update"):
            raise DecodeError(f"action {action!r} is neither snapshot nor update")
        data = doc["data"]
        if type(data) is not list or not data:
            raise DecodeError("'data' is not a non-empty array")
        e = self._ent(inst_id)
        segs: list[Segment] = []
        pos = 0
        for d in data:
            seq = d.get("seqId")
            prev = d.get("prevSeqId")
            for v, name in ((seq, "seqId"), (prev, "prevSeqId")):
                if v is not None and (type(v) is not int or v < -1):
                    raise DecodeError(f"{name} {v!r} is not an integer >= -1")
            checksum = d.get("checksum")
            if checksum is not None and (type(checksum) is not int or not INT32_MIN <= checksum <= INT32_MAX):
                raise DecodeError(f"checksum {checksum!r} is not a signed 32-bit integer")
            ts = ms_to_ns(d["ts"])
            bp, bq = columns(d["bids"], "bids")
            ap, aq = columns(d["asks"], "asks")
            start = pos
            pos = self._put_book(pos, e, bp, bq, ap, aq, ts, max(seq or 0, 0), action == "snapshot")
            segs.append(Segment(SegKind.BOOK, e.inst, start, pos, snapshot=action == "snapshot",
                                seq=seq, prev_seq=prev, checksum=checksum or None, ts_exchange_ns=ts))
        return segs

    def _trades(self, doc: dict) -> list[Segment]:
        return self._trade_message(doc["data"], "'data'", TRADE_FIELDS)

    def _metadata(self, doc: Any) -> int:
        n = 0
        for s in doc["data"]:
            if s.get("instType") != "SWAP":
                continue
            ct_type = s.get("ctType") or "linear"
            base = s.get("ctValCcy", "") if ct_type == "linear" else s.get("settleCcy", "")
            quote = s.get("settleCcy", "") if ct_type == "linear" else s.get("ctValCcy", "")
            self.set_instrument(instrument(s["instId"], s["tickSz"], s["lotSz"], s["ctVal"], ct_type,
                                           base, quote))
            n += 1
        return n


class OkxSwapSync(Sync):
    venue = VENUE
    has_checksum = True

    def feed_frame(self, raw: bytes, batch: np.ndarray, ts_local_ns: int = 0) -> tuple | None:
        """`Sync.feed_frame` (the decoder offers every books push): an update of the decoder's
        current instrument whose prevSeqId is the book's seqId, its book in sync, applied and
        its checksum computed in one native call (native/src/py/okx.rs okx_book_sync); a
        checksum mismatch then discards the book here as `on_book` does. None otherwise."""
        e = self.decoder._fast_ent
        if e is None or okx_book_sync is None:
            return None
        st = self.books.get(e.inst.symbol)
        if st is None or not st.synced or st.inst is not e.inst or st.depth_limit is not None or st.last_seq is None:
            return None
        book = st.book
        publish = None
        if type(book) is not Book:  # the feed handler's PublishingBook
            book, publish = book.inner, book.publish
        try:
            r = okx_book_sync(raw, batch, e.native, ts_local_ns, book, st.last_seq, CHECKSUM_DEPTH)
        except OverflowError:  # a seqId beyond int64 (the general path took it): it decides
            return None
        if r is None:
            return None
        n, _, seq, crossed, prev, sent, mine = r
        if publish is not None and n:  # as Sync.apply: an empty update applies (publishes) nothing
            publish(batch[:n])
        st.last_seq, st.last_prev = seq, prev
        self.last_fused = r
        if sent:
            st.checksum_venue = sent
            if mine != sent:
                self.desync(st, f"checksum mismatch: OKX sent {sent}, the book gives {mine}", checksum=True)
                return r
        if (not crossed) is st.is_crossed:  # a change: noted, as `feed` does (booksync CROSSED_CHANGED)
            self._check_crossed(st)
        return r

    def on_book(self, st: BookState, seg: Segment, batch: np.ndarray) -> None:
        if seg.snapshot:
            self.apply(st, seg, batch)
            st.synced = True
            st.checksum_bad = False
        elif not st.synced:
            st.dropped += 1
            return
        elif seg.prev_seq is None or seg.seq is None:
            self.desync(st, "an update without seqId/prevSeqId", gap=True)
            return
        elif seg.prev_seq == st.last_seq:
            self.apply(st, seg, batch)
        elif (seg.prev_seq, seg.seq) == (st.last_prev, st.last_seq):
            st.dropped += 1  # the same message again
            return
        else:
            self.desync(st, f"gap: prevSeqId={seg.prev_seq} after seqId={st.last_seq}", gap=True)
            return
        st.last_seq, st.last_prev = seg.seq, seg.prev_seq
        if seg.checksum is not None:
            st.checksum_venue = seg.checksum
            mine = st.book.checksum_okx(CHECKSUM_DEPTH)
            if mine != seg.checksum:
                self.desync(st, f"checksum mismatch: OKX sent {seg.checksum}, the book gives {mine}",
                            checksum=True)

    def checksum(self, st: BookState) -> int | None:
        return st.book.checksum_okx(CHECKSUM_DEPTH)


Decoder = OkxSwapDecoder
Sync = OkxSwapSync
