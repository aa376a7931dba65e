"""What Binance spot and USD-M futures share: the wire formats of the diff-depth stream
(`depthUpdate`), `aggTrade` and `trade`, the REST depth snapshot body, `exchangeInfo`
metadata and the combined-stream wrapper. The two venues differ only in their book sync
rules (binance_spot.py, binance_perp.py).

Sources: Binance Spot API docs, "WebSocket Streams" (Diff. Depth Stream, Aggregate Trade
Streams, Trade Streams, How to manage a local order book correctly) and "Market Data
endpoints" (Order book); Binance USD-M Futures docs, "Websocket Market Streams" (Diff. Book
Depth Streams, Aggregate Trade Streams, How to manage a local order book correctly) and
"Order Book" REST; both "Exchange Information".

Conventions: `m` ("is the buyer the market maker?") true means the taker sold. A REST depth
body carries no symbol: the decoder's `rest_symbol` (the CLI's --symbol) names it; a
partial-depth push on a combined stream (`{"stream":"btcusdt@depth5","data":{...}}`) takes
its symbol from the stream name.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nexus import _native
from nexus._native import binance_depth
from nexus._native import Book
from nexus.exceptions import DecodeError
from nexus.instruments import Instrument, decimals_of
from nexus.venues.base import (
    APPLIED, CONTROL, BUFFERED_MESSAGES_MAX, Decoder, TradeSegment, fast_segment, trade_segment, Segment, SegKind, columns, log, ms_to_ns, seq_int,
    trade_id_int,
)
from nexus.venues.booksync import BookState, Sync

_BOOK, _TRADES = SegKind.BOOK, SegKind.TRADES

# Binance writes spot prices and sizes with 8 decimals ("4.00000200"); futures with the
# symbol's precision. Exponents of 8 hold every value either writes, exactly.
WIRE_EXPONENT = 8

IGNORED_EVENTS = frozenset({
    "24hrTicker", "24hrMiniTicker", "kline", "bookTicker", "markPriceUpdate", "forceOrder",
    "continuous_kline", "compositeIndex", "contractInfo", "assetIndexUpdate", "avgPrice",
})


def instrument(venue: str, symbol: str, tick: str, step: str, *, kind: str = "spot",
               base: str = "", quote: str = "", pe: int = WIRE_EXPONENT, qe: int = WIRE_EXPONENT) -> Instrument:
    return Instrument(venue, symbol, tick, step, "1", kind, base, quote,
                      max(pe, decimals_of(tick)), max(qe, decimals_of(step)))


# The native fast path for aggTrade / trade events (native/src/core/binance.rs decode_trade);
# None in a build that predates it (then those events take the general path).
binance_trade = getattr(_native, "binance_trade", None)
binance_snapshot = getattr(_native, "binance_snapshot", None)  # ... and for REST depth bodies
binance_depth_sync = getattr(_native, "binance_depth_sync", None)  # ... and the fused steady state
_new_trade = object.__new__
# The first 12 bytes of a raw event of each kind the fast paths take (`{"e":"aggTrade"`,
# `{"e":"trade"`, `{"e":"depthUpdate"`): what `decode` dispatches on.
_TRADE_EVENT, _DEPTH_EVENT = 1, 2
_EVENT_KINDS = {b'{"e":"aggTra': _TRADE_EVENT, b'{"e":"trade"': _TRADE_EVENT, b'{"e":"depthU': _DEPTH_EVENT}
_SNAPSHOT_PREFIX = b'{"lastUpdateId"'


class BinanceDecoder(Decoder):
    """Decoder for both Binance venues; `REQUIRE_PU` (futures) insists on the `pu` field."""

    REQUIRE_PU = False
    CONTRACT_KIND = "spot"

    def decode(self, raw, out, ts_local_ns: int = 0) -> list[Segment]:
        """A well-formed depthUpdate goes through the native fast path
        (native/src/core/binance.rs): parsed and written into `out` in Rust. Anything else,
        or anything unusual in it, takes the general path, which accepts and rejects exactly
        the same messages (the fast path only declines, never decides)."""
        if type(raw) is bytes:
            # A raw event starts `{"e":"<type>"`: its first 12 bytes name the kind, looked up
            # once (one slice and one dict probe cost less than the two startswith calls a
            # depthUpdate needed); the native fast path then checks the whole event name. A
            # frame in any other form (wrapped, reordered, spaced) takes the general path,
            # which accepts it as well.
            kind = _EVENT_KINDS.get(raw[:12])
            if kind == _TRADE_EVENT:  # aggTrade / trade: one TRADE record
                e = self._fast_ent
                if e is not None and binance_trade is not None:
                    r = binance_trade(raw, out, e.native, ts_local_ns)
                    if r is not None and type(r[0]) is int:  # (ts, [trade id as text]), not ("symbol", s)
                        s = _new_trade(TradeSegment)  # trade_segment(e.inst, 1, ts, ids), inlined
                        s.inst = e.inst
                        s.stop = 1
                        s.ts_exchange_ns, s.trade_ids = r
                        return [s]
                if binance_trade is not None:  # the first trade, another symbol, or declined
                    got = self._native_fast(binance_trade, raw, out, ts_local_ns)
                    if got is not None:
                        (ts, ids), e = got
                        return [trade_segment(e.inst, 1, ts, ids)]
            elif kind == _DEPTH_EVENT:
                fused = self.fused  # Sync.fuse: an ordinary diff on a synced book, applied in one call
                if fused is not None and fused(raw, out, ts_local_ns) is not None:
                    return APPLIED
                got = self._native_fast(binance_depth, raw, out, ts_local_ns)
                if got is not None:
                    (n, ts, first, last, pu), e = got
                    if (pu is not None or not self.REQUIRE_PU) and (pu is None or pu >= -1):
                        return [fast_segment(_BOOK, e.inst, n, False, last, first, pu, None, ts, None)]
            elif (binance_snapshot is not None and self.rest_symbol is not None
                  and raw.startswith(_SNAPSHOT_PREFIX)):  # a REST depth body, of the symbol the caller names
                got = self._native_snapshot(raw, out, ts_local_ns)
                if got is not None:
                    return got
        return super().decode(raw, out, ts_local_ns)

    def _native_snapshot(self, raw: bytes, out: np.ndarray, ts_local_ns: int) -> list[Segment] | None:
        """A REST depth body through the native fast path (native/src/core/binance.rs
        decode_snapshot); None: the general path decides."""
        try:
            e = self._ent(self.rest_symbol)
        except Exception:  # the general path says why
            return None
        if out is not self._fast_out:
            self._check_batch(out)
        r = binance_snapshot(raw, out, e.native, ts_local_ns)
        if r is None:
            return None
        n, ts, last = r
        seg = fast_segment(_BOOK, e.inst, n, True, last, None, None, None, ts or None, None)
        seg.rest = True
        return [seg]

    def _decode(self, doc: Any) -> list[Segment]:
        if type(doc) is not dict:
            raise DecodeError("expected a JSON object")
        stream = None
        if "stream" in doc and "data" in doc:
            stream = doc["stream"]
            if type(stream) is not str:
                raise DecodeError("combined-stream 'stream' is not a string")
            doc = doc["data"]
            if type(doc) is not dict:
                raise DecodeError("combined-stream 'data' is not an object")
        e = doc.get("e")
        if e == "depthUpdate":
            return self._depth(doc)
        if e == "aggTrade":
            return self._trade(doc, "a")
        if e == "trade":
            return self._trade(doc, "t")
        if type(e) is str and e in IGNORED_EVENTS:
            return [CONTROL]
        if "lastUpdateId" in doc:
            if stream is not None:
                symbol = stream.split("@", 1)[0].upper()
            elif self.rest_symbol is not None:
                symbol = self.rest_symbol
            else:
                raise DecodeError("a REST depth snapshot carries no symbol: name it with --symbol")
            return self._snapshot(doc, symbol, rest=stream is None)
        if "result" in doc and "id" in doc:  # subscribe / unsubscribe ack
            return [CONTROL]
        if "symbols" in doc and "timezone" in doc:  # exchangeInfo
            self._metadata(doc)
            return [CONTROL]
        if "code" in doc and "msg" in doc:
            log.warning("%s: the venue reported an error: %s %s", self.venue, doc["code"], doc["msg"])
            return [CONTROL]
        raise DecodeError("not a Binance message this decoder knows (no depthUpdate, aggTrade, "
                          "trade, depth snapshot or ack)")

    def decode_rest_snapshot(self, raw: bytes | str, symbol: str, out: np.ndarray) -> list[Segment]:
        """Decode a REST depth response body (GET /api/v3/depth, /fapi/v1/depth) for `symbol`."""
        saved, self.rest_symbol = self.rest_symbol, symbol
        try:
            return self.decode(raw, out)
        finally:
            self.rest_symbol = saved

    def _depth(self, d: dict) -> list[Segment]:
        e = self._ent(d["s"])
        first = seq_int(d["U"], "U")
        last = seq_int(d["u"], "u")
        if first > last:
            raise DecodeError(f"first update id U={first} is after the final one u={last}")
        prev = d.get("pu")
        if prev is not None:
            prev = seq_int(prev, "pu") if prev != -1 else -1
        elif self.REQUIRE_PU:
            raise DecodeError("futures depthUpdate without 'pu'")
        ts = ms_to_ns(d["T"] if "T" in d else d["E"])
        bp, bq = columns(d["b"], "b")
        ap, aq = columns(d["a"], "a")
        stop = self._put_book(0, e, bp, bq, ap, aq, ts, last, False)
        return [Segment(SegKind.BOOK, e.inst, 0, stop, seq=last, first_seq=first, prev_seq=prev,
                        ts_exchange_ns=ts)]

    def _snapshot(self, d: dict, symbol: str, rest: bool) -> list[Segment]:
        e = self._ent(symbol)
        last = seq_int(d["lastUpdateId"], "lastUpdateId")
        ts = ms_to_ns(d["T"]) if "T" in d else (ms_to_ns(d["E"]) if "E" in d else 0)
        bp, bq = columns(d["bids"], "bids")
        ap, aq = columns(d["asks"], "asks")
        stop = self._put_book(0, e, bp, bq, ap, aq, ts, last, True)
        return [Segment(SegKind.BOOK, e.inst, 0, stop, snapshot=True, seq=last,
                        ts_exchange_ns=ts or None, rest=rest)]

    def _trade(self, d: dict, id_field: str) -> list[Segment]:
        e = self._ent(d["s"])
        m = d["m"]
        if type(m) is not bool:
            raise DecodeError(f"'m' (buyer is maker) is not a boolean: {m!r}")
        tid_raw = d[id_field]
        tid = trade_id_int(tid_raw)
        ts = ms_to_ns(d["T"])
        stop = self._put_trade(0, e, d["p"], d["q"], not m, tid, ts)
        return [Segment(SegKind.TRADES, e.inst, 0, stop, ts_exchange_ns=ts, trade_ids=[str(tid_raw)])]

    def _metadata(self, doc: Any) -> int:
        """exchangeInfo: PRICE_FILTER tickSize and LOT_SIZE stepSize per symbol."""
        if type(doc) is not dict or type(doc.get("symbols")) is not list:
            raise DecodeError("not an exchangeInfo body (no 'symbols' array)")
        n = 0
        for s in doc["symbols"]:
            filters = {f.get("filterType"): f for f in s.get("filters", ())}
            tick = filters.get("PRICE_FILTER", {}).get("tickSize")
            step = filters.get("LOT_SIZE", {}).get("stepSize")
            if not tick or not step:
                log.warning("%s: %s has no PRICE_FILTER/LOT_SIZE; skipped", self.venue, s.get("symbol"))
                continue
            pe = max(WIRE_EXPONENT, int(s.get("pricePrecision", 0)))
            qe = max(WIRE_EXPONENT, int(s.get("quantityPrecision", 0)))
            self.set_instrument(instrument(self.venue, s["symbol"], _trim(tick), _trim(step),
                                           kind=self.CONTRACT_KIND, base=s.get("baseAsset", ""),
                                           quote=s.get("quoteAsset", ""), pe=pe, qe=qe))
            n += 1
        return n


def _trim(v: str) -> str:
    """'0.01000000' -> '0.01' (Instrument wants a positive decimal string; zeros are noise)."""
    if "." in v:
        v = v.rstrip("0").rstrip(".")
    return v


class BinanceSync(Sync):
    """The part of the two Binance procedures that is the same: deltas that arrive before a
    usable REST snapshot are copied (the batch is reused) and buffered, bounded, in arrival
    order; a snapshot drops the buffered events it already contains, must connect to the
    first one left, and the rest are then applied by the venue's `step` rule."""

    RULE = -1  # binance_depth_sync's sequence rule: 0 spot (U <= u_prev + 1 < u + 1), 1 futures (pu == u_prev)

    # (decoder entry, BookState) of the last fused frame: the state found again without the
    # symbol lookup while the decoder's current entry is the same object (a new instrument or
    # new metadata makes a new entry); every condition on the state is still checked per frame
    _hot: tuple | None = None

    def feed_frame(self, raw: Any, batch: np.ndarray, ts_local_ns: int = 0) -> tuple | None:
        """`Sync.feed_frame` (the decoder offers every depthUpdate frame): an ordinary diff of
        the decoder's current instrument, its book in sync and one event already applied since
        the snapshot, in one native call (native/src/py/binance.rs binance_depth_sync); None
        otherwise (nothing applied)."""
        e = self.decoder._fast_ent
        hot = self._hot
        if hot is not None and hot[0] is e:
            st = hot[1]
        else:
            if e is None or binance_depth_sync is None:
                return None
            st = self.books.get(e.inst.symbol)
            if st is None:
                return None
            if st.inst is e.inst:  # kept only then: a state of an older instrument is replaced
                self._hot = (e, st)  # (Sync.state) when this entry's first segment comes
        if not st.synced or st.last_prev is None or st.inst is not e.inst:
            return None
        book = st.book
        last = st.last_seq
        if type(book) is Book:
            r = binance_depth_sync(raw, batch, e.native, ts_local_ns, book, last, self.RULE)
            if r is None:
                return None
        else:  # the feed handler's PublishingBook: the applied records published, as its apply does
            r = binance_depth_sync(raw, batch, e.native, ts_local_ns, book.inner, last, self.RULE)
            if r is None:
                return None
            book.publish(batch[:r[0]])
        final = r[2]
        st.last_prev = last if self.RULE else final  # futures: pu (== the previous u); spot: u
        st.last_seq = final
        if r[3] is not st.is_crossed:  # a change: noted, as `feed` does
            self._check_crossed(st)
        self.last_fused = r
        return r

    def on_book(self, st: BookState, seg: Segment, batch: np.ndarray) -> None:
        if seg.snapshot:
            self.on_snapshot(st, seg, batch)
        elif not st.synced:
            self.buffer(st, (seg.first_seq, seg.seq, seg.prev_seq, batch[seg.start:seg.stop].copy()))
        elif seg.start == 0:  # the common case: no slice object per message
            self.step(st, seg.first_seq, seg.seq, seg.prev_seq, batch, seg.stop)
        else:
            recs = batch[seg.start:seg.stop]
            self.step(st, seg.first_seq, seg.seq, seg.prev_seq, recs, len(recs))

    def on_snapshot(self, st: BookState, seg: Segment, batch: np.ndarray) -> None:
        last = seg.seq
        if st.synced and last <= st.last_seq:
            st.dropped += 1  # older than the book we hold: nothing to learn from it
            return
        pending = [b for b in st.buffer if self.still_needed(last, b[1])]
        if pending and not self.connects(last, pending[0]):
            st.buffer = pending
            st.buffered_records = sum(len(b[3]) for b in pending)
            st.gaps += 1
            self.notes.append(f"{st.inst.symbol}: snapshot lastUpdateId={last} is older than the "
                              f"buffered stream (first U={pending[0][0]}); waiting for a newer one")
            return
        st.book.apply(batch[seg.start:seg.stop] if seg.start else batch, seg.stop - seg.start)
        st.synced = True
        st.checksum_bad = False
        st.last_seq = last
        st.last_prev = None  # no event applied since the snapshot yet
        st.buffer = []
        st.buffered_records = 0
        for i, (first, final, prev, recs) in enumerate(pending):
            self.step(st, first, final, prev, recs, len(recs))
            if not st.synced:  # a gap inside the buffer: keep what follows for the next try
                for b in pending[i + 1:]:
                    self.buffer(st, b)
                break

    def buffer(self, st: BookState, item: tuple) -> None:
        if len(st.buffer) >= BUFFERED_MESSAGES_MAX:
            st.buffer.pop(0)
            st.dropped += 1
        st.buffer.append(item)
        st.buffered_records += len(item[3])

    def apply_delta(self, st: BookState, final: int, prev: int | None, recs: np.ndarray, n: int) -> None:
        st.book.apply(recs, n)
        st.last_seq = final
        st.last_prev = prev if prev is not None else final

    def gap(self, st: BookState, reason: str, item: tuple) -> None:
        self.desync(st, reason, gap=True)
        self.buffer(st, item)

    # the venue's rules
    def still_needed(self, last_update_id: int, final: int) -> bool:
        raise NotImplementedError

    def connects(self, last_update_id: int, item: tuple) -> bool:
        """Does the first buffered event kept, item = (U, u, pu, records), follow the snapshot?"""
        raise NotImplementedError

    def step(self, st: BookState, first: int, final: int, prev: int | None, recs: np.ndarray, n: int) -> None:
        """Apply the event whose records are recs[:n], or detect its gap, by the venue's rule."""
        raise NotImplementedError
