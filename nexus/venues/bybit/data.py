"""Bybit v5 linear perpetuals (USDT contracts): `orderbook.{depth}.{symbol}` and
`publicTrade.{symbol}` on the public linear WebSocket, instruments from
`GET /v5/market/instruments-info?category=linear`.

Sources: Bybit V5 API docs, WebSocket Stream > Public > Orderbook ("Process snapshot/delta"
and the response parameters), Trade, and Market > Get Instruments Info.

Sync rules:
- A `snapshot` message replaces the local book ("If you receive a new snapshot message,
  you will have to reset your local orderbook").
- `delta` messages set absolute sizes; size 0 deletes the level.
- `u` is the update id, "always in sequence": each delta must carry the previous u + 1,
  otherwise updates were missed: the book is discarded until the next snapshot.
- "Occasionally, you'll receive "u"=1, which is a snapshot data due to the restart of the
  service. So please overwrite your local orderbook": a message with u = 1 is decoded as a
  snapshot whatever its `type`.
- A delta whose u is not above the last applied u is a duplicate or stale: ignored.
- `seq` (the cross sequence) is not contiguous and is not checked; the records carry u as
  their `seq`.
Trades: `S` is the taker's side (Buy/Sell); `i` is the trade id (a UUID: hashed in the
record, printed as text by normalize). Linear quantities are in the base coin.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nexus import _native
from nexus._native import Book
from nexus.exceptions import DecodeError
from nexus.instruments import Instrument, decimals_of
from nexus.venues.base import (
    APPLIED,
    CONTROL, Decoder, fast_segment, trade_segment, Segment, SegKind, TradeFields, columns, log, ms_to_ns, seq_int,
    trade_id_int,
)
from nexus.venues.booksync import BookState, Sync

_BOOK, _TRADES = SegKind.BOOK, SegKind.TRADES

VENUE = "bybit-perp"


def instrument(symbol: str, tick: str, step: str, price_scale: int, base: str, quote: str = "USDT") -> Instrument:
    return Instrument(VENUE, symbol, tick, step, "1", "linear", base, quote,
                      max(price_scale, decimals_of(tick)), decimals_of(step))


TRADE_FIELDS = TradeFields("s", "T", ms_to_ns, "p", "v", "S", "Buy", "Sell", "i")  # S: the taker side


# The native fast path for orderbook and publicTrade pushes (native/src/core/bybit.rs); None
# in a build that predates it (then every message takes the general path).
bybit_message = getattr(_native, "bybit_message", None)
bybit_book_sync = getattr(_native, "bybit_book_sync", None)  # the fused steady state (Sync.fuse)
_BOOK_PREFIX = b'{"topic":"orderbook.'
_PUSH_PREFIX = b'{"topic":"'
_W_TID = 5  # the record's trade_id word


class BybitPerpDecoder(Decoder):
    venue = VENUE

    def decode(self, raw, out, ts_local_ns: int = 0) -> list[Segment]:
        """A well-formed orderbook or publicTrade push goes through the native fast path
        (native/src/core/bybit.rs): parsed and written into `out` in Rust. Anything else, or
        anything unusual in it, takes the general path, which accepts and rejects exactly the
        same messages (the fast path only declines, never decides)."""
        if bybit_message is not None and type(raw) is bytes and raw.startswith(_PUSH_PREFIX):
            if raw.startswith(_BOOK_PREFIX):
                fused = self.fused  # Sync.fuse: an ordinary delta on a synced book, applied in one call
                if fused is not None and fused(raw, out, ts_local_ns) is not None:
                    return APPLIED
            else:  # trades: the decoder's current instrument first, in one call
                e = self._fast_ent
                if e is not None:
                    r = bybit_message(raw, out, e.native, ts_local_ns)
                    if r is None:  # declined: the general path decides
                        return super().decode(raw, out, ts_local_ns)
                    if r[0] == "trades" and not r[4]:  # (no id left to trade_id_int)
                        return [trade_segment(e.inst, r[1], r[2], r[3])]
            got = self._native_fast(bybit_message, raw, out, ts_local_ns)
            if got is not None:
                r, e = got
                if r[0] == "book":
                    _, n, snapshot, ts, u = r
                    return [fast_segment(_BOOK, e.inst, n, snapshot, u, None, None, None, ts, None)]
                _, n, ts, ids, hashed = r
                if hashed:  # an id that is not ASCII: trade_id_int decides its record's trade id
                    if out is not self._out:  # the fast path checked the batch; its views now
                        self._bind(out)
                    q = self._q
                    for k, tid in enumerate(ids):
                        q[k * 8 + _W_TID] = trade_id_int(tid)
                return [trade_segment(e.inst, n, ts, ids)]
        return super().decode(raw, out, ts_local_ns)

    def _decode(self, doc: Any) -> list[Segment]:
        if type(doc) is not dict:
            raise DecodeError("expected a JSON object")
        topic = doc.get("topic")
        if topic is None:
            if "op" in doc or "success" in doc:  # subscribe ack, pong
                if doc.get("success") is False:
                    log.warning("%s: the venue refused a request: %s", self.venue, doc.get("ret_msg"))
                return [CONTROL]
            if doc.get("retCode") == 0 and "result" in doc:  # instruments-info body
                self._metadata(doc)
                return [CONTROL]
            raise DecodeError("not a Bybit message this decoder knows (no topic, op or result)")
        if type(topic) is not str:
            raise DecodeError("'topic' is not a string")
        if topic.startswith("orderbook."):
            return self._book(doc)
        if topic.startswith("publicTrade."):
            return self._trades(doc)
        return [CONTROL]  # tickers, klines, liquidations: other channels

    def _book(self, doc: dict) -> list[Segment]:
        typ = doc["type"]
        if typ not in ("snapshot", "delta"):
            raise DecodeError(f"orderbook type {typ!r} is neither snapshot nor delta")
        d = doc["data"]
        e = self._ent(d["s"])
        u = seq_int(d["u"], "u")
        snapshot = typ == "snapshot" or u == 1
        ts = ms_to_ns(doc["cts"] if "cts" in doc else doc["ts"])
        bp, bq = columns(d["b"], "b")
        ap, aq = columns(d["a"], "a")
        stop = self._put_book(0, e, bp, bq, ap, aq, ts, u, snapshot)
        return [Segment(SegKind.BOOK, e.inst, 0, stop, snapshot=snapshot, seq=u, ts_exchange_ns=ts)]

    def _trades(self, doc: dict) -> list[Segment]:
        return self._trade_message(doc["data"], "publicTrade 'data'", TRADE_FIELDS)

    def _metadata(self, doc: Any) -> int:
        """instruments-info: {"retCode":0,"result":{"category":"linear","list":[...]}}."""
        lst = doc["result"]["list"]
        n = 0
        for s in lst:
            tick = s["priceFilter"]["tickSize"]
            step = s["lotSizeFilter"]["qtyStep"]
            self.set_instrument(instrument(s["symbol"], tick, step, int(s.get("priceScale", 0)),
                                           s.get("baseCoin", ""), s.get("quoteCoin", "")))
            n += 1
        return n


class BybitPerpSync(Sync):
    venue = VENUE

    def feed_frame(self, raw: bytes, batch: np.ndarray, ts_local_ns: int = 0) -> tuple | None:
        """`Sync.feed_frame` (the decoder offers every orderbook push): a delta of the decoder's
        current instrument whose u follows the book's, its book in sync, in one native call
        (native/src/py/bybit.rs bybit_book_sync); None otherwise (nothing applied)."""
        e = self.decoder._fast_ent
        if e is None or bybit_book_sync is None:
            return None
        st = self.books.get(e.inst.symbol)
        if st is None or not st.synced or st.inst is not e.inst or st.depth_limit is not None:
            return None
        book = st.book
        publish = None
        if type(book) is not Book:  # the feed handler's PublishingBook
            book, publish = book.inner, book.publish
        r = bybit_book_sync(raw, batch, e.native, ts_local_ns, book, st.last_seq)
        if r is None:
            return None
        st.last_seq = r[2]
        if publish is not None and r[0]:  # as Sync.apply: an empty delta applies (publishes) nothing
            publish(batch[:r[0]])
        if r[3] is not st.is_crossed:  # a change: noted, as `feed` does
            self._check_crossed(st)
        self.last_fused = r
        return r

    def on_book(self, st: BookState, seg: Segment, batch: np.ndarray) -> None:
        if seg.snapshot:
            self.apply(st, seg, batch)
            st.synced = True
            st.checksum_bad = False
            st.last_seq = seg.seq
        elif not st.synced:
            st.dropped += 1  # a delta before any snapshot: nothing to apply it to
        elif seg.seq <= st.last_seq:
            st.dropped += 1
        elif seg.seq != st.last_seq + 1:
            self.desync(st, f"gap: u={seg.seq} after u={st.last_seq}", gap=True)
        else:
            self.apply(st, seg, batch)
            st.last_seq = seg.seq


Decoder = BybitPerpDecoder
Sync = BybitPerpSync
