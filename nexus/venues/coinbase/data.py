"""Coinbase Advanced Trade market-data WebSocket: `level2` (messages on channel `l2_data`),
`market_trades`, `heartbeats`, `subscriptions`, `status`; products from
`GET /api/v3/brokerage/market/products` or the `status` channel.

Sources: Coinbase Developer Platform docs, Advanced Trade API > WebSocket > "WebSocket
Channels" (Level2, Market Trades, Heartbeats, Status) and "WebSocket Overview" (Sequence
Numbers).

Sync rules:
- An l2_data event of type `snapshot` replaces the product's book; `update` events set
  absolute sizes (`new_quantity` is "the updated size at that price level, not a delta";
  "0" removes the level). Sides are `bid` and `offer`.
- `sequence_num` numbers every message of a connection: "Sequence numbers that are greater
  than one integer value from the previous number indicate that a message has been
  dropped". Since any message, of any channel, may be the lost one, a gap discards every
  book of the connection until its next snapshot. "Sequence numbers that are less than the
  previous number can be ignored": such a message is ignored. sequence_num 0 starts a new
  connection: the books wait for the snapshots a new subscription sends.
Trades: "Each market trade belongs to a side, which refers to the makers side": the taker
side printed and recorded is the opposite one.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nexus import _native
from nexus.exceptions import DecodeError
from nexus.instruments import Instrument
from nexus.venues.base import (
    ASK, BID, Decoder, fast_segment, Segment, SegKind, TradeFields, iso_to_ns, log, seq_int,
)
from nexus.venues.booksync import BookState, Sync

_BOOK, _TRADES = SegKind.BOOK, SegKind.TRADES

VENUE = "coinbase"
BOOK_SIDES = {"bid": BID, "offer": ASK}
CONTROL_CHANNELS = frozenset({"heartbeats", "subscriptions", "ticker", "ticker_batch", "candles", "user",
                              "futures_balance_summary"})


def instrument(product_id: str, quote_increment: str, base_increment: str) -> Instrument:
    base, _, quote = product_id.partition("-")
    return Instrument(VENUE, product_id, quote_increment, base_increment, "1", "spot", base, quote)


# `side` is the maker's side: the taker bought when the maker sold
TRADE_FIELDS = TradeFields("product_id", "time", iso_to_ns, "price", "size", "side", "BUY", "SELL", "trade_id",
                           maker_side=True)


_DICT_ONLY = frozenset((dict,))
# The native fast path for l2_data messages (native/src/core/coinbase.rs); None in a build that
# predates it (then every message takes the general path).
coinbase_l2 = getattr(_native, "coinbase_l2", None)
_L2_PREFIX = b'{"channel":"l2_data",'


class CoinbaseDecoder(Decoder):
    venue = VENUE

    def decode(self, raw, out, ts_local_ns: int = 0) -> list[Segment]:
        """A well-formed l2_data message goes through the native fast path
        (native/src/core/coinbase.rs): parsed and written into `out` in Rust. Anything else, or
        anything unusual in it, takes the general path, which accepts and rejects exactly the
        same messages (the fast path only declines, never decides)."""
        if coinbase_l2 is not None and type(raw) is bytes and raw.startswith(_L2_PREFIX):
            got = self._native_fast(coinbase_l2, raw, out, ts_local_ns)
            if got is not None:
                (n, snapshot, seq, ts), e = got
                return [fast_segment(_BOOK, e.inst, n, snapshot, seq, None, None, None, ts, None)]
        return super().decode(raw, out, ts_local_ns)

    def _decode(self, doc: Any) -> list[Segment]:
        if type(doc) is not dict:
            raise DecodeError("expected a JSON object")
        channel = doc.get("channel")
        if channel is None:
            if doc.get("type") == "error":
                log.warning("%s: the venue reported an error: %s", self.venue, doc.get("message"))
                return [Segment(SegKind.CONTROL)]
            if type(doc.get("products")) is list:  # REST products body
                self._metadata(doc)
                return [Segment(SegKind.CONTROL)]
            raise DecodeError("not a Coinbase message this decoder knows (no channel)")
        seq = seq_int(doc["sequence_num"], "sequence_num")
        ts = iso_to_ns(doc["timestamp"])
        events = doc["events"]
        if type(events) is not list:
            raise DecodeError("'events' is not an array")
        if channel == "l2_data":
            segs = self._l2(events, seq, ts)
        elif channel == "market_trades":
            segs = self._trades(events, seq)
        elif channel == "status":
            self._status(events)
            segs = []
        elif channel in CONTROL_CHANNELS:
            segs = []
        else:
            raise DecodeError(f"unknown channel {channel!r}")
        # The first segment carries the message's sequence_num (the sync checks it once).
        return segs or [Segment(SegKind.CONTROL, seq=seq, ts_exchange_ns=ts)]

    def _l2(self, events: list, seq: int, ts: int) -> list[Segment]:
        segs: list[Segment] = []
        pos = 0
        for ev in events:
            typ = ev["type"]
            if typ not in ("snapshot", "update"):
                raise DecodeError(f"l2_data event type {typ!r} is neither snapshot nor update")
            e = self._ent(ev["product_id"])
            updates = ev["updates"]
            if type(updates) is not list:
                raise DecodeError("'updates' is not an array")
            try:  # every update an object with a known side (else the checked loop says why)
                sides = [BOOK_SIDES[u["side"]] for u in updates] if set(map(type, updates)) <= _DICT_ONLY else None
            except (KeyError, TypeError):
                sides = None
            if sides is None:
                sides = []
                for u in updates:
                    s = BOOK_SIDES.get(u["side"]) if type(u) is dict else None
                    if s is None:
                        raise DecodeError(f"update {u!r}: side must be 'bid' or 'offer'")
                    sides.append(s)
            px = [u["price_level"] for u in updates]
            qty = [u["new_quantity"] for u in updates]
            start = pos
            pos = self._put_mixed(pos, e, sides, px, qty, ts, seq, typ == "snapshot")
            segs.append(Segment(SegKind.BOOK, e.inst, start, pos, snapshot=typ == "snapshot", seq=seq,
                                ts_exchange_ns=ts))
        return segs

    def _trades(self, events: list, seq: int) -> list[Segment]:
        segs: list[Segment] = []
        pos = 0
        for ev in events:
            pos = self._add_trades(segs, pos, ev["trades"], "'trades'", TRADE_FIELDS, seq, seq)
        return segs

    def _status(self, events: list) -> None:
        for ev in events:
            for p in ev.get("products", ()):
                if p.get("quote_increment") and p.get("base_increment"):
                    self.set_instrument(instrument(p["id"], p["quote_increment"], p["base_increment"]))

    def _metadata(self, doc: Any) -> int:
        # GET .../market/products: {"products":[...]}; .../market/products/{id}: one product.
        products = doc["products"] if "products" in doc else [doc] if "product_id" in doc else None
        if type(products) is not list:
            raise DecodeError("not a products listing (no 'products' array or 'product_id')")
        n = 0
        for p in products:
            inc = p.get("price_increment") or p["quote_increment"]
            self.set_instrument(instrument(p["product_id"], inc, p["base_increment"]))
            n += 1
        return n


class CoinbaseSync(Sync):
    venue = VENUE

    def __init__(self, decoder: Decoder) -> None:
        super().__init__(decoder)
        self.last_seq: int | None = None
        self.dropped = 0

    def feed(self, segments, batch: np.ndarray) -> None:
        seq = segments[0].seq if segments else None
        if seq is not None:
            last = self.last_seq
            if seq == 0 and last is not None:  # a new connection: wait for its snapshots
                for st in self.books.values():
                    if st.synced:
                        self.desync(st, "new connection (sequence_num 0)")
            elif last is not None and seq <= last:
                self.dropped += 1  # out of order or repeated: ignored, as documented
                return
            elif last is not None and seq > last + 1:
                for st in self.books.values():
                    if st.synced:
                        self.desync(st, f"gap: sequence_num {seq} after {last}", gap=True)
                    else:
                        st.gaps += 1
            self.last_seq = seq
        super().feed(segments, batch)

    def on_book(self, st: BookState, seg: Segment, batch: np.ndarray) -> None:
        if seg.snapshot:
            self.apply(st, seg, batch)
            st.synced = True
            st.checksum_bad = False
        elif st.synced:
            self.apply(st, seg, batch)
        else:
            st.dropped += 1
        st.last_seq = seg.seq


Decoder = CoinbaseDecoder
Sync = CoinbaseSync
