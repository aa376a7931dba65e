"""Kraken spot WebSocket v2: `book`, `trade`, `instrument` (price and quantity precisions),
`heartbeat`, `status` and the method replies.

Sources: Kraken API docs, Spot WebSocket v2 > Book (Level 2), Trade, Instrument; guide
"Spot Websockets (v2) Book Checksum" (https://docs.kraken.com/api/docs/guides/spot-ws-book-v2).

Kraken v2 writes prices and quantities as JSON numbers (45283.5, 0.10000000). A JSON parser
turns those into binary doubles, which Nexus never uses for money, so before parsing, the
values of the numeric keys below are quoted textually (`"price":45283.5` becomes
`"price":"45283.5"`): the decimal text reaches parse_scaled exactly as Kraken wrote it. A
key is matched with its quotes and colon, which cannot occur unescaped inside a JSON string
value, so string contents are never touched.

Sync rules (the guide):
- A `snapshot` replaces the book; an `update` sets absolute quantities (qty 0 removes),
  processed in message order.
- "After each update, the book should be truncated to your subscribed depth as you won't
  receive qty: 0 for price levels that fall out of scope": the depth comes from the
  subscribe reply (`result.depth`), else it is inferred from the snapshot (the smallest
  valid depth, 10/25/100/500/1000, that holds it).
- Checksum: CRC32 (unsigned 32-bit) of the top 10 asks (low to high) then the top 10 bids
  (high to low), each price and qty written with the instrument's `price_precision` and
  `qty_precision`, '.' removed, leading zeros stripped (native Book.checksum_kraken),
  compared after every message; a mismatch discards the book until the next snapshot. For
  a symbol with no precisions (no `instrument` message, no bundled default) the checksum
  cannot be computed: it is reported as null, with a warning.
- Kraken v2 book messages carry no sequence numbers; the checksum is the gap detector.
Trades: `side` is the taker's side.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np

from nexus import _native
from nexus.exceptions import DecodeError
from nexus.instruments import Instrument
from nexus.venues.base import (
    CONTROL, Decoder, fast_segment, Segment, SegKind, TradeFields, iso_to_ns, log, object_columns,
)
from nexus.venues.booksync import BookState, Sync

_BOOK, _TRADES = SegKind.BOOK, SegKind.TRADES

VENUE = "kraken"
CHECKSUM_DEPTH = 10
VALID_DEPTHS = (10, 25, 100, 500, 1000)
UINT32_MAX = (1 << 32) - 1
NUMERIC_KEYS = re.compile(
    rb'"(price|qty|price_increment|qty_increment|tick_size|qty_min|cost_min)"\s*:\s*(-?[0-9][0-9.eE+-]*)')


def instrument(symbol: str, price_precision: int, qty_precision: int, price_increment: str | None = None,
               qty_increment: str | None = None) -> Instrument:
    base, _, quote = symbol.partition("/")
    tick = price_increment or _step(price_precision)
    lot = qty_increment or _step(qty_precision)
    return Instrument(VENUE, symbol, tick, lot, "1", "spot", base, quote, price_precision, qty_precision)


def _step(decimals: int) -> str:
    return "1" if decimals == 0 else "0." + "0" * (decimals - 1) + "1"


# The native fast path for book messages (native/src/core/kraken.rs); None in a build that
# predates it (then every message takes the general path).
kraken_book = getattr(_native, "kraken_book", None)
kraken_trades = getattr(_native, "kraken_trades", None)  # ... and for trade messages
_BOOK_PREFIX = b'{"channel":"book",'
_TRADE_PREFIX = b'{"channel":"trade",'


class KrakenDecoder(Decoder):
    venue = VENUE
    PRICE_FIELDS = NUMERIC_KEYS

    def decode(self, raw, out, ts_local_ns: int = 0) -> list[Segment]:
        """A well-formed book or trade message goes through the native fast path
        (native/src/core/kraken.rs): scanned and written into `out` in Rust. Anything else, or
        anything unusual in it, takes the general path, which accepts and rejects exactly the
        same messages (the fast path only declines, never decides)."""
        if kraken_book is not None and type(raw) is bytes and raw.startswith(_BOOK_PREFIX):
            got = self._native_fast(kraken_book, raw, out, ts_local_ns)
            if got is not None:
                (n, snapshot, checksum, ts), e = got
                return [fast_segment(_BOOK, e.inst, n, snapshot, None, None, None, checksum, ts or None, None)]
        elif kraken_trades is not None and type(raw) is bytes and raw.startswith(_TRADE_PREFIX):
            got = self._native_fast(kraken_trades, raw, out, ts_local_ns)
            if got is not None:
                (n, ts, ids), e = got
                return [fast_segment(_TRADES, e.inst, n, False, None, None, None, None, ts, list(map(str, ids)))]
        return super().decode(raw, out, ts_local_ns)

    def _decode(self, doc: Any) -> list[Segment]:
        if type(doc) is not dict:
            raise DecodeError("expected a JSON object")
        channel = doc.get("channel")
        if channel is None:
            if "method" in doc:  # subscribe / unsubscribe / pong replies
                return self._reply(doc)
            raise DecodeError("not a Kraken v2 message this decoder knows (no channel or method)")
        if channel == "book":
            return self._book(doc)
        if channel == "trade":
            return self._trades(doc)
        if channel == "instrument":
            self._metadata(doc)
            return [CONTROL]
        if channel in ("heartbeat", "status", "ticker", "ohlc", "level3", "executions", "balances"):
            return [CONTROL]
        raise DecodeError(f"unknown channel {channel!r}")

    def _asset_pairs(self, doc: dict) -> int:
        if doc.get("error"):
            raise DecodeError(f"AssetPairs answered an error: {doc['error']}")
        result = doc["result"]
        if type(result) is not dict:
            raise DecodeError("AssetPairs: 'result' is not an object")
        n = 0
        for p in result.values():
            ws = p.get("wsname") if type(p) is dict else None
            if type(ws) is not str or "/" not in ws:
                continue  # a pair not on the WebSocket feed
            pp, qp = p["pair_decimals"], p["lot_decimals"]
            if type(pp) is not int or type(qp) is not int or not 0 <= pp <= 18 or not 0 <= qp <= 18:
                raise DecodeError(f"{ws}: decimals {pp!r}/{qp!r} are not small integers")
            tick = _increment(p.get("tick_size"), pp)
            self.set_instrument(instrument(_v2_symbol(ws), pp, qp, tick, None))
            n += 1
        return n

    def _reply(self, doc: dict) -> list[Segment]:
        if doc.get("success") is False:
            log.warning("%s: the venue refused a request: %s", self.venue, doc.get("error"))
            return [CONTROL]
        result = doc.get("result")
        if doc.get("method") == "subscribe" and type(result) is dict and result.get("channel") == "book":
            depth = result.get("depth")
            if type(depth) is int and depth > 0 and type(result.get("symbol")) is str:
                return [Segment(SegKind.CONTROL, self._ent(result["symbol"]).inst, depth=depth)]
        return [CONTROL]

    def _book(self, doc: dict) -> list[Segment]:
        typ = doc["type"]
        if typ not in ("snapshot", "update"):
            raise DecodeError(f"book type {typ!r} is neither snapshot nor update")
        data = doc["data"]
        if type(data) is not list or not data:
            raise DecodeError("'data' is not a non-empty array")
        segs: list[Segment] = []
        pos = 0
        for d in data:
            e = self._ent(d["symbol"])
            checksum = d.get("checksum")
            if checksum is not None and (type(checksum) is not int or not 0 <= checksum <= UINT32_MAX):
                raise DecodeError(f"checksum {checksum!r} is not an unsigned 32-bit integer")
            ts = iso_to_ns(d["timestamp"]) if "timestamp" in d else 0
            bp, bq = object_columns(d["bids"], "bids", "price", "qty", _text)
            ap, aq = object_columns(d["asks"], "asks", "price", "qty", _text)
            start = pos
            pos = self._put_book(pos, e, bp, bq, ap, aq, ts, 0, typ == "snapshot")
            segs.append(Segment(SegKind.BOOK, e.inst, start, pos, snapshot=typ == "snapshot",
                                checksum=checksum, ts_exchange_ns=ts or None))
        return segs

    def _trades(self, doc: dict) -> list[Segment]:
        return self._trade_message(doc["data"], "'data'", TRADE_FIELDS)

    def _metadata(self, doc: Any) -> int:
        """The `instrument` channel: data.pairs[] with price_precision and qty_precision; or
        the REST listing GET /0/public/AssetPairs: {"error":[],"result":{key:{wsname,
        pair_decimals, lot_decimals, tick_size, ..}}} (wsname in Kraken's legacy codes,
        XBT/USD, named here as the v2 feed names it, BTC/USD)."""
        if type(doc) is dict and "result" in doc and "data" not in doc:
            return self._asset_pairs(doc)
        data = doc["data"]
        pairs = data.get("pairs", ()) if type(data) is dict else ()
        n = 0
        for p in pairs:
            pp, qp = p["price_precision"], p["qty_precision"]
            if type(pp) is not int or type(qp) is not int or not 0 <= pp <= 18 or not 0 <= qp <= 18:
                raise DecodeError(f"{p.get('symbol')}: precisions {pp!r}/{qp!r} are not small integers")
            tick = _increment(p.get("price_increment"), pp)
            lot = _increment(p.get("qty_increment"), qp)
            self.set_instrument(instrument(p["symbol"], pp, qp, tick, lot))
            n += 1
        return n


# Kraken's legacy REST asset codes whose v2 WebSocket name differs (Get Asset Info: XBT is
# bitcoin, XDG dogecoin).
V2_NAMES = {"XBT": "BTC", "XDG": "DOGE"}


def _v2_symbol(wsname: str) -> str:
    base, _, quote = wsname.partition("/")
    return f"{V2_NAMES.get(base, base)}/{V2_NAMES.get(quote, quote)}"


def _text(v: Any) -> str:
    """A quoted number's text; a JSON integer (no decimals) arrives as int."""
    if type(v) is str:
        return v
    if type(v) is int:
        return str(v)
    raise DecodeError(f"{v!r} is not a decimal number")


TRADE_FIELDS = TradeFields("symbol", "timestamp", iso_to_ns, "price", "qty", "side", "buy", "sell", "trade_id",
                           text=_text)


def _increment(v: Any, precision: int) -> str | None:
    """An increment as a decimal string, if it is one the precision can express."""
    if v is None:
        return None
    try:
        d = Decimal(_text(v))
    except (InvalidOperation, DecodeError):
        return None
    if d <= 0 or d.as_tuple().exponent < -precision:
        return None
    return format(d.normalize(), "f")


class KrakenSync(Sync):
    venue = VENUE
    has_checksum = True

    def __init__(self, decoder: Decoder) -> None:
        super().__init__(decoder)
        self._warned: set[str] = set()

    def on_control(self, seg: Segment) -> None:
        if seg.depth is not None and seg.inst is not None:
            self.state(seg.inst).depth_limit = seg.depth

    def on_book(self, st: BookState, seg: Segment, batch: np.ndarray) -> None:
        if seg.snapshot:
            self.apply(st, seg, batch)
            if st.depth_limit is None:
                held = max(st.book.depth(1), st.book.depth(2))
                st.depth_limit = next((d for d in VALID_DEPTHS if d >= held), None)
            st.synced = True
            st.checksum_bad = False
        elif not st.synced:
            st.dropped += 1
            return
        else:
            self.apply(st, seg, batch)
        if seg.checksum is not None:
            st.checksum_venue = seg.checksum
            mine = self.checksum(st)
            if mine is not None and mine != seg.checksum:
                self.desync(st, f"checksum mismatch: Kraken sent {seg.checksum}, the book gives {mine}",
                            checksum=True)

    def checksum(self, st: BookState) -> int | None:
        symbol = st.inst.symbol
        if symbol in self.decoder.generic or symbol in self.decoder.inferred:
            # The checksum writes every value at the pair's precision (trailing zeros count):
            # a precision inferred from the input (JSON numbers drop trailing zeros) may be short.
            if symbol not in self._warned:
                self._warned.add(symbol)
                log.warning("%s: no price/qty precision for %r (no instrument listing): its "
                            "checksum cannot be verified", self.venue, symbol)
            return None
        return st.book.checksum_kraken(st.inst.price_exponent, st.inst.qty_exponent, CHECKSUM_DEPTH)


Decoder = KrakenDecoder
Sync = KrakenSync
