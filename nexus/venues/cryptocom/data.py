"""Crypto.com Exchange API v1 market data: `book.{instrument_name}.{depth}` subscribed with
`book_subscription_type: SNAPSHOT_AND_UPDATE` (a `book` snapshot, then `book.update` deltas),
`trade.{instrument_name}`, `public/heartbeat`, and the `public/get-instruments` listing.

Source: Crypto.com Exchange API v1 reference (https://exchange-docs.crypto.com/exchange/v1/
rest-ws/index.html): "book.{instrument_name}.{depth}" (snapshot `channel: book` with
`data[].bids/asks` of [price, quantity, number of orders], `t`, `tt`, `u`; delta
`channel: book.update` with `data[].update.bids/asks`, `u` and `pu`: "pu" is the `u` of the
previous update and a mismatch means a missed update - resubscribe); "trade.{instrument_name}"
(`d` trade id, `t` ms, `p`, `q`, `s` BUY/SELL taker side, `i`); "Heartbeats" (public/heartbeat
answered by public/respond-heartbeat with the same id); "public/get-instruments" (symbol,
price_tick_size, qty_tick_size, inst_type, base_ccy, quote_ccy, contract_size).

Sync rules: a snapshot replaces the book; a delta applies when its `pu` equals the last `u`;
an older repeat is ignored; anything else is a gap (the book is discarded until the next
snapshot: a live feed resubscribes). A quantity "0" deletes a level; after every message the
book is truncated to the subscribed depth (`depth` of the message). No checksum.
Trades: `s` is the taker's side.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nexus.exceptions import DecodeError
from nexus.instruments import Instrument, decimals_of
from nexus.venues.base import (
    CONTROL, Decoder, Segment, SegKind, TradeFields, columns, log, ms_to_ns, seq_int,
)
from nexus.venues.booksync import BookState, Sync

VENUE = "cryptocom"
TRADE_FIELDS = TradeFields("i", "t", ms_to_ns, "p", "q", "s", "BUY", "SELL", "d")
DEPTH_MAX = 150


def instrument(doc: dict) -> Instrument:
    kind = "spot" if doc.get("inst_type") == "CCY_PAIR" else "linear"
    return Instrument(VENUE, doc["symbol"], doc["price_tick_size"], doc["qty_tick_size"],
                      doc.get("contract_size") or "1", kind, doc.get("base_ccy", ""), doc.get("quote_ccy", ""))


class CryptocomDecoder(Decoder):
    venue = VENUE

    def _decode(self, doc: Any) -> list[Segment]:
        if type(doc) is not dict:
            raise DecodeError("expected a JSON object")
        method = doc.get("method")
        code = doc.get("code", 0)
        if code not in (0, None):
            log.warning("%s: the venue reported an error: %s %s", self.venue, code, doc.get("message"))
            return [CONTROL]
        if method == "public/heartbeat":  # answered by the connection
            return [CONTROL]
        result = doc.get("result")
        if method == "subscribe":
            if type(result) is not dict or "channel" not in result:
                return [CONTROL]  # the subscription ack
            channel = result["channel"]
            if channel in ("book", "book.update"):
                return self._book(result, channel == "book")
            if channel == "trade":
                return self._trade_message(result["data"], "'data'", TRADE_FIELDS)
            return [CONTROL]
        if method == "public/get-instruments":
            self._metadata(doc)
            return [CONTROL]
        if method is None:
            raise DecodeError("not a Crypto.com v1 message (no method)")
        return [CONTROL]

    def _book(self, result: dict, snapshot: bool) -> list[Segment]:
        e = self._ent(result["instrument_name"])
        depth = result.get("depth")
        if depth is not None and (type(depth) is not int or not 0 < depth <= DEPTH_MAX):
            raise DecodeError(f"depth {depth!r} is not a book depth")
        data = result["data"]
        if type(data) is not list or not data:
            raise DecodeError("'data' is not a non-empty array")
        segs: list[Segment] = []
        pos = 0
        for d in data:
            sides = d if snapshot else d["update"]
            if type(sides) is not dict:
                raise DecodeError("'update' is not an object")
            u = seq_int(d["u"], "u")
            pu = None if snapshot else seq_int(d["pu"], "pu")
            ts = ms_to_ns(d["t"])
            bp, bq = columns(sides.get("bids", []), "bids")
            ap, aq = columns(sides.get("asks", []), "asks")
            start = pos
            pos = self._put_book(pos, e, bp, bq, ap, aq, ts, u, snapshot)
            segs.append(Segment(SegKind.BOOK, e.inst, start, pos, snapshot=snapshot, seq=u, prev_seq=pu,
                                ts_exchange_ns=ts, depth=depth))
        return segs

    def _metadata(self, doc: Any) -> int:
        n = 0
        for s in doc["result"]["data"]:
            self.set_instrument(instrument(s))
            n += 1
        return n


class CryptocomSync(Sync):
    venue = VENUE

    def on_book(self, st: BookState, seg: Segment, batch: np.ndarray) -> None:
        if seg.depth is not None:
            st.depth_limit = seg.depth
        if seg.snapshot:
            self.apply(st, seg, batch)
            st.synced = True
        elif not st.synced:
            st.dropped += 1
            return
        elif seg.prev_seq == st.last_seq:
            self.apply(st, seg, batch)
        elif st.last_seq is not None and seg.seq <= st.last_seq:
            st.dropped += 1
            return
        else:
            self.desync(st, f"gap: pu={seg.prev_seq} after u={st.last_seq}", gap=True)
            return
        st.last_seq, st.last_prev = seg.seq, seg.prev_seq


Decoder = CryptocomDecoder
Sync = CryptocomSync
