"""KuCoin spot: the level2 increment channel (`/market/level2:{symbol}`) against a REST
snapshot, match trades (`/market/match:{symbol}`), instruments from `GET /api/v2/symbols`.

Sources (KuCoin API docs, https://www.kucoin.com/docs-new/): "Orderbook - Increment"
(https://www.kucoin.com/docs-new/3470068w0: payload, the calibration procedure and its worked
example), "Match Execution Data" (trade.l3match), "Get Part OrderBook" / "Get Full OrderBook"
(GET /api/v1/market/orderbook/level2_{20,100}, /api/v3/market/orderbook/level2), "Get All
Symbols" (GET /api/v2/symbols: priceIncrement, baseIncrement), "Apply Connect Token" and
"Ping" (welcome, ack, ping/pong, error frames).

Calibration (the documented procedure, as applied by `KucoinSync`):

1. Cache the level2 increments received on the WebSocket.
2. Get a REST snapshot; its `sequence` is the book's sequence.
3. Play the cached increments back: drop those with sequenceEnd <= the snapshot's sequence;
   the first one kept must have sequenceStart <= sequence + 1 (else the snapshot is older
   than the stream: wait for another one).
4. Every later increment must satisfy sequenceStart <= sequenceEnd(old) + 1 and
   sequenceEnd > sequenceEnd(old); an increment starting further on is a gap (the book is
   discarded until a new snapshot), one ending at or before the book's sequence is stale.
5. Each change `[price, size, sequence]` is applied only if its own sequence is above the
   book's (the worked example: snapshot sequence 16, changes at 15 and 16 are ignored, 18
   and 19 applied); size 0 removes the level; a price of 0 only advances the sequence.

The per-change sequence goes into each record's `seq`, so an increment that straddles the
snapshot is filtered change by change. A REST body carries no symbol: the decoder's
`rest_symbol` (the CLI's --symbol, in KuCoin's spelling "BTC-USDT") names it.
Match `side` is the taker's side; `time` is in nanoseconds.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nexus.exceptions import DecodeError
from nexus.instruments import Instrument, decimals_of
from nexus.venues.base import CONTROL, Decoder, Segment, SegKind, log, ms_to_ns, side_buy, trade_id_int
from nexus.venues.binance.data import BinanceSync
from nexus.venues.booksync import BookState

VENUE = "kucoin"
OK_CODE = "200000"
_W_SEQ = 4  # int64 word of Record.seq (nexus.venues.base)
L2_TOPIC = "/market/level2:"
MATCH_TOPIC = "/market/match:"
# Topics a client may also be subscribed to: understood, not turned into records.
IGNORED_TOPICS = ("/market/ticker:", "/market/snapshot:", "/spotMarket/level2Depth5:",
                  "/spotMarket/level2Depth50:", "/market/candles:", "/spotMarket/level1:")
CONTROL_TYPES = frozenset({"welcome", "ack", "pong", "ping"})
TS_NS_DIGITS_MAX = 19


def instrument(symbol: str, tick: str, step: str, base: str = "", quote: str = "") -> Instrument:
    return Instrument(VENUE, symbol, tick, step, "1", "spot", base, quote, decimals_of(tick), decimals_of(step))


def _seq(v: Any, what: str) -> int:
    """KuCoin writes sequences as JSON integers (WebSocket) or digit strings (REST)."""
    if type(v) is str and v.isdigit() and len(v) <= 18:
        return int(v)
    if type(v) is int and 0 <= v < 1 << 63:
        return v
    raise DecodeError(f"{what} {v!r} is not a non-negative integer")


def _ns(v: Any) -> int:
    """Match `time`: nanoseconds, a digit string ("1729843222921000000")."""
    if type(v) is str and v.isdigit() and len(v) <= TS_NS_DIGITS_MAX:
        return int(v)
    if type(v) is int and 0 <= v < 1 << 63:
        return v
    raise DecodeError(f"match time {v!r} is not a whole number of nanoseconds")


def _changes(levels: Any, what: str) -> tuple[list[str], list[str], list[int]]:
    """[[price, size, sequence], ...] -> prices, sizes, sequences; price "0" entries only
    advance the sequence (documented) and are left out."""
    if type(levels) is not list:
        raise DecodeError(f"{what}: expected an array of changes")
    px, qty, seqs = [], [], []
    for lv in levels:
        if type(lv) is not list or len(lv) < 3:
            raise DecodeError(f"{what}: every change must be [price, size, sequence]")
        s = _seq(lv[2], f"{what} sequence")
        if type(lv[0]) is not str or type(lv[1]) is not str:
            raise DecodeError(f"{what}: price and size must be decimal strings")
        if lv[0].strip("0.") == "":
            continue
        px.append(lv[0])
        qty.append(lv[1])
        seqs.append(s)
    return px, qty, seqs


class KucoinDecoder(Decoder):
    venue = VENUE

    def _decode(self, doc: Any) -> list[Segment]:
        if type(doc) is not dict:
            raise DecodeError("expected a JSON object")
        kind = doc.get("type")
        if kind == "message":
            topic = doc["topic"]
            if type(topic) is not str:
                raise DecodeError("'topic' is not a string")
            if topic.startswith(L2_TOPIC):
                return self._level2(doc["data"])
            if topic.startswith(MATCH_TOPIC):
                return self._match(doc["data"])
            if topic.startswith(IGNORED_TOPICS):
                return [CONTROL]
            raise DecodeError(f"topic {topic!r} is not one this decoder knows")
        if kind in CONTROL_TYPES:
            return [CONTROL]
        if kind == "error":
            log.warning("%s: the venue reported an error: %s %s", self.venue, doc.get("code"), doc.get("data"))
            return [CONTROL]
        if "code" in doc:
            return self._rest(doc)
        raise DecodeError("not a KuCoin message this decoder knows (no type message/welcome/ack/pong, "
                          "no REST envelope)")

    def _rest(self, doc: dict) -> list[Segment]:
        if doc["code"] != OK_CODE:
            log.warning("%s: the venue reported an error: %s %s", self.venue, doc["code"], doc.get("msg"))
            return [CONTROL]
        data = doc["data"]
        if type(data) is dict and "sequence" in data and "bids" in data:
            if self.rest_symbol is None:
                raise DecodeError("a REST order book snapshot carries no symbol: name it with --symbol")
            return self._snapshot(data, self.rest_symbol)
        if (type(data) is list and data and type(data[0]) is dict and "priceIncrement" in data[0]) \
                or (type(data) is dict and "priceIncrement" in data):
            self._metadata(doc)
            return [CONTROL]
        if type(data) is dict and "token" in data:  # bullet-public: the feed's business, not data
            return [CONTROL]
        raise DecodeError("a KuCoin REST body this decoder does not know")

    def _snapshot(self, d: dict, symbol: str) -> list[Segment]:
        e = self._ent(symbol)
        seq = _seq(d["sequence"], "sequence")
        ts = ms_to_ns(d["time"]) if d.get("time") is not None else 0
        bp, bq = _levels(d["bids"], "bids")
        ap, aq = _levels(d["asks"], "asks")
        stop = self._put_book(0, e, bp, bq, ap, aq, ts, seq, True)
        return [Segment(SegKind.BOOK, e.inst, 0, stop, snapshot=True, seq=seq, ts_exchange_ns=ts or None,
                        rest=True)]

    def _level2(self, d: Any) -> list[Segment]:
        if type(d) is not dict:
            raise DecodeError("level2 'data' is not an object")
        e = self._ent(d["symbol"])
        first = _seq(d["sequenceStart"], "sequenceStart")
        last = _seq(d["sequenceEnd"], "sequenceEnd")
        if first > last:
            raise DecodeError(f"sequenceStart {first} is after sequenceEnd {last}")
        ts = ms_to_ns(d["time"])
        ch = d["changes"]
        if type(ch) is not dict:
            raise DecodeError("'changes' is not an object")
        bp, bq, bs = _changes(ch.get("bids", []), "bids")
        ap, aq, as_ = _changes(ch.get("asks", []), "asks")
        for s in bs + as_:
            if not first <= s <= last:
                raise DecodeError(f"change sequence {s} is outside [{first}, {last}]")
        stop = self._put_book(0, e, bp, bq, ap, aq, ts, last, False)
        q = self._q
        for i, s in enumerate(bs + as_):  # each record carries its change's own sequence
            q[i * 8 + _W_SEQ] = s
        return [Segment(SegKind.BOOK, e.inst, 0, stop, seq=last, first_seq=first, ts_exchange_ns=ts)]

    def _match(self, d: Any) -> list[Segment]:
        if type(d) is not dict:
            raise DecodeError("match 'data' is not an object")
        e = self._ent(d["symbol"])
        ts = _ns(d["time"])
        buy = side_buy(d["side"], "buy", "sell")
        tid = d["tradeId"]
        stop = self._put_trade(0, e, d["price"], d["size"], buy, trade_id_int(tid), ts)
        return [Segment(SegKind.TRADES, e.inst, 0, stop, ts_exchange_ns=ts, trade_ids=[str(tid)])]

    def _metadata(self, doc: Any) -> int:
        """GET /api/v2/symbols (a list) or /api/v2/symbols/{symbol} (one object)."""
        if type(doc) is not dict or "data" not in doc:
            raise DecodeError("not a KuCoin symbols body (no 'data')")
        data = doc["data"]
        items = data if type(data) is list else [data]
        n = 0
        for s in items:
            if type(s) is not dict or not s.get("priceIncrement") or not s.get("baseIncrement"):
                raise DecodeError("a symbol without priceIncrement/baseIncrement")
            self.set_instrument(instrument(s["symbol"], s["priceIncrement"], s["baseIncrement"],
                                           s.get("baseCurrency", ""), s.get("quoteCurrency", "")))
            n += 1
        return n


def _levels(levels: Any, what: str) -> tuple[list[str], list[str]]:
    if type(levels) is not list:
        raise DecodeError(f"{what}: expected an array of levels")
    px, qty = [], []
    for lv in levels:
        if type(lv) is not list or len(lv) < 2 or type(lv[0]) is not str or type(lv[1]) is not str:
            raise DecodeError(f"{what}: every level must be [price, size] as decimal strings")
        px.append(lv[0])
        qty.append(lv[1])
    return px, qty


class KucoinSync(BinanceSync):
    """The buffering and snapshot matching of BinanceSync (deltas cached until the REST
    snapshot, the snapshot connected to the first one kept) with KuCoin's rules."""

    venue = VENUE

    def still_needed(self, last_update_id: int, final: int) -> bool:
        return final > last_update_id  # sequenceEnd <= the snapshot's sequence: already in it

    def connects(self, last_update_id: int, item: tuple) -> bool:
        return item[0] <= last_update_id + 1  # sequenceStart <= sequence + 1

    def step(self, st: BookState, first: int, final: int, prev: int | None, recs: np.ndarray, n: int) -> None:
        if final <= st.last_seq:
            st.dropped += 1
        elif first > st.last_seq + 1:
            self.gap(st, f"gap: sequenceStart={first} after sequence {st.last_seq}",
                     (first, final, prev, recs[:n].copy()))
        elif first <= st.last_seq:  # straddles the book's sequence: only the newer changes
            part = recs[:n]
            newer = part[part["seq"] > st.last_seq]
            self.apply_delta(st, final, prev, newer, len(newer))
        else:
            self.apply_delta(st, final, prev, recs, n)


Decoder = KucoinDecoder
Sync = KucoinSync
