"""dYdX v4 indexer WebSocket: `v4_orderbook` (the `subscribed` message holds the book, levels
{"price","size"}; `channel_data` holds changes, levels [price, size], size "0" deletes;
`channel_batch_data` a list of them), `v4_trades`, and the REST `/v4/perpetualMarkets` listing
(tickSize, stepSize).

Sources: dYdX Indexer WebSocket documentation (https://docs.dydx.exchange/api_integration-
indexer/indexer_websocket: the `connected` message with message_id 0, subscribe / subscribed /
channel_data, v4_orderbook, v4_trades); the guide "How to uncross the orderbook"
(https://docs.dydx.exchange/api_integration-guides/how_to_uncross_orderbook); Indexer REST
"Get Perpetual Markets".

Sync rules:
- `message_id` numbers the messages of one connection: 0 on `connected`, then +1 per message,
  whatever the channel. A message whose id is not the previous one + 1 means something was
  lost: every book is discarded until its next `subscribed` snapshot (a live feed
  resubscribes).
- The `subscribed` message replaces the book; `channel_data` changes apply in order.
- Crossed books: the indexer does not guarantee an uncrossed book ("v4 doesn't guarantee that
  order book prices don't cross"). As the guide advises, the message id is the logical
  timestamp of each level (the id of the message that last set it); while the best bid is at
  or above the best ask, the older of the two levels is removed; when both were set by the
  same message, the smaller size is netted off the larger one (equal sizes: both go). Each
  uncrossing is counted (`crossed`) and noted.
Trades: `side` is the taker's side; sizes are in the base asset.
"""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from nexus import record
from nexus.exceptions import DecodeError
from nexus.instruments import Instrument
from nexus.venues.base import (
    ASK, BID, Decoder, Segment, SegKind, columns, iso_to_ns, log, object_columns, seq_int, side_buy, trade_id_int,
)
from nexus.venues.booksync import BookState, Sync

VENUE = "dydx"
_LEVEL = int(record.Kind.BOOK_LEVEL)
CONTROL_TYPES = frozenset({"connected", "unsubscribed", "error", "pong"})


def instrument(m: dict) -> Instrument:
    base, _, quote = m["ticker"].partition("-")
    return Instrument(VENUE, m["ticker"], m["tickSize"], m["stepSize"], "1", "linear", base, quote)


class DydxDecoder(Decoder):
    venue = VENUE

    def _decode(self, doc: Any) -> list[Segment]:
        if type(doc) is not dict:
            raise DecodeError("expected a JSON object")
        typ = doc.get("type")
        if typ is None:
            if type(doc.get("markets")) is dict:  # REST perpetualMarkets body
                self._metadata(doc)
                return [Segment(SegKind.CONTROL)]
            raise DecodeError("not a dYdX indexer message (no type)")
        mid = seq_int(doc["message_id"], "message_id") if "message_id" in doc else None
        if typ in CONTROL_TYPES:
            if typ == "error":
                log.warning("%s: the venue reported an error: %s", self.venue, doc.get("message"))
            return [Segment(SegKind.CONTROL, seq=mid)]
        channel = doc.get("channel")
        if typ not in ("subscribed", "channel_data", "channel_batch_data"):
            raise DecodeError(f"unknown message type {typ!r}")
        contents = doc["contents"]
        parts = contents if typ == "channel_batch_data" else [contents]
        if type(parts) is not list:
            raise DecodeError("channel_batch_data contents is not an array")
        if channel == "v4_orderbook":
            return self._book(doc["id"], parts, typ == "subscribed", mid)
        if channel == "v4_trades":
            return self._trades(doc["id"], parts, mid)
        return [Segment(SegKind.CONTROL, seq=mid)]

    def _book(self, market: Any, parts: list, snapshot: bool, mid: int | None) -> list[Segment]:
        e = self._ent(market)
        segs: list[Segment] = []
        pos = 0
        for c in parts:
            if type(c) is not dict:
                raise DecodeError("contents is not an object")
            if snapshot:
                bp, bq = object_columns(c.get("bids", []), "bids", "price", "size")
                ap, aq = object_columns(c.get("asks", []), "asks", "price", "size")
            else:
                bp, bq = columns(c.get("bids", []), "bids")
                ap, aq = columns(c.get("asks", []), "asks")
                bp, bq, ap, aq = list(bp), list(bq), list(ap), list(aq)
            start = pos
            pos = self._put_book(pos, e, bp, bq, ap, aq, 0, mid or 0, snapshot)
            segs.append(Segment(SegKind.BOOK, e.inst, start, pos, snapshot=snapshot, seq=mid))
            snapshot = False  # a batch's later parts are changes
        return segs

    def _trades(self, market: Any, parts: list, mid: int | None) -> list[Segment]:
        e = self._ent(market)
        pos, ids = 0, []
        ts0 = None
        for c in parts:
            trades = c["trades"] if type(c) is dict else None
            if type(trades) is not list:
                raise DecodeError("contents.trades is not an array")
            for t in trades:
                ts = iso_to_ns(t["createdAt"])
                ts0 = ts0 or ts
                buy = side_buy(t["side"], "BUY", "SELL")
                pos = self._put_trade(pos, e, t["price"], t["size"], buy, trade_id_int(t["id"]), ts)
                ids.append(str(t["id"]))
        if not pos:
            return [Segment(SegKind.CONTROL, seq=mid)]
        return [Segment(SegKind.TRADES, e.inst, 0, pos, seq=mid, ts_exchange_ns=ts0, trade_ids=ids)]

    def _metadata(self, doc: Any) -> int:
        n = 0
        for m in doc["markets"].values():
            self.set_instrument(instrument(m))
            n += 1
        return n


class DydxSync(Sync):
    venue = VENUE

    def __init__(self, decoder: Decoder) -> None:
        super().__init__(decoder)
        self.last_message_id: int | None = None
        self.message_gaps = 0
        self._offsets: dict[str, tuple[dict[int, int], dict[int, int]]] = {}

    def feed(self, segments: Iterable[Segment], batch: np.ndarray) -> None:
        segments = list(segments)
        mid = segments[0].seq if segments else None
        if mid is not None:
            last = self.last_message_id
            if mid != 0 and last is not None and mid != last + 1:
                self.message_gaps += 1
                for st in self.books.values():
                    if st.synced:
                        self.desync(st, f"message_id {mid} after {last}", gap=True)
            self.last_message_id = mid
        super().feed(segments, batch)

    def on_book(self, st: BookState, seg: Segment, batch: np.ndarray) -> None:
        offs = self._offsets.setdefault(st.inst.symbol, ({}, {}))
        if seg.snapshot:
            self.apply(st, seg, batch)
            offs[0].clear()
            offs[1].clear()
            st.synced = True
        elif not st.synced:
            st.dropped += 1
            return
        else:
            self.apply(st, seg, batch)
        recs = batch[seg.start:seg.stop]
        lv = recs[recs["kind"] == _LEVEL] if len(recs) else recs
        t = seg.seq or 0
        for side, price, qty in zip(lv["side"].tolist(), lv["price"].tolist(), lv["qty"].tolist()):
            o = offs[0] if side == BID else offs[1]
            if qty:
                o[price] = t
            else:
                o.pop(price, None)
        st.last_seq = seg.seq
        self._uncross(st, offs)

    def _uncross(self, st: BookState, offs) -> None:
        book = st.book
        removed = 0
        while True:
            bb, ba = book.best_bid(), book.best_ask()
            if bb is None or ba is None or bb[0] < ba[0]:
                break
            ob, oa = offs[0].get(bb[0], -1), offs[1].get(ba[0], -1)
            if ob < oa:
                book.set(BID, bb[0], 0)
                offs[0].pop(bb[0], None)
            elif oa < ob:
                book.set(ASK, ba[0], 0)
                offs[1].pop(ba[0], None)
            else:  # set by the same message: net the sizes
                if bb[1] >= ba[1]:
                    book.set(ASK, ba[0], 0)
                    offs[1].pop(ba[0], None)
                    book.set(BID, bb[0], bb[1] - ba[1])
                    if bb[1] == ba[1]:
                        offs[0].pop(bb[0], None)
                else:
                    book.set(BID, bb[0], 0)
                    offs[0].pop(bb[0], None)
                    book.set(ASK, ba[0], ba[1] - bb[1])
            removed += 1
        if removed:
            st.crossed += 1
            self.notes.append(f"{st.inst.symbol}: crossed book uncrossed ({removed} level(s) removed or netted, "
                              "older message id first, as the dYdX guide advises)")


Decoder = DydxDecoder
Sync = DydxSync
