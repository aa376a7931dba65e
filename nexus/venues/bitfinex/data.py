"""Bitfinex WebSocket v2 (public): the `book` channel at precision P0 (price aggregated),
`trades` (`te` executions; `tu` updates), heartbeats, the `conf` flags SEQ_ALL (65536:
a sequence number on every message) and OB_CHECKSUM (131072: `cs` checksum messages), and
the info codes 20051 / 20060 / 20061; instruments from the REST configs
`/v2/conf/pub:info:pair` and `/v2/conf/pub:list:pair:exchange`.

Sources: Bitfinex API docs, WebSocket > General ("Info Messages", "Configuration", "Array
Length"), Public Channels > Books and Trades, WebSocket Checksum
(https://docs.bitfinex.com/docs/ws-websocket-checksum), REST Public > Configs
(https://docs.bitfinex.com/reference/rest-public-conf), and Bitfinex's support note on
precision ("up to 5 significant digits and up to 8 decimals").

Wire format: messages are JSON arrays whose numbers are JSON numbers (no strings). Before
parsing, every number of an array message is quoted (a regex, as for Kraken) so prices and
amounts keep the exact text Bitfinex sent; a number in exponent form ("1e-8") is turned into
its plain decimal text exactly.

Precision: Bitfinex prices have up to 5 significant digits, so the tick depends on the price
(1 at 65000, 0.1 at 3200, 0.000001 at 0.5); no fixed tick exists. Both prices and amounts
are documented to have at most 8 decimals, so every Bitfinex instrument is held at exponent
8 for both (tick and lot "0.00000001": the finest values Bitfinex can send). A value with
more decimals is rejected, never rounded. The configs give the pair list and its minimum and
maximum order sizes; they carry no price step, so the instruments loaded from them have the
same two exponents: nothing is guessed per symbol.

Messages (with SEQ_ALL the connection's sequence number follows the payload):
- `{"event":"subscribed","channel":"book"|"trades","chanId":N,"symbol":"tBTCUSD",..}` maps
  a channel id to its channel; ids hold for one connection only. `info` with `version`
  starts a connection (the map and the sequence restart).
- book snapshot `[N,[[PRICE,COUNT,AMOUNT],..],SEQ]`, update `[N,[PRICE,COUNT,AMOUNT],SEQ]`:
  AMOUNT > 0 is a bid, < 0 an ask (its size is |AMOUNT|); COUNT 0 deletes the level
  (AMOUNT 1: from the bids, -1: from the asks).
- checksum `[N,"cs",CHECKSUM,SEQ]`: signed CRC32 of the top 25 bids and asks interleaved,
  "bid1price:bid1amount:ask1price:ask1amount:..." with the asks' amounts negative (a side
  that runs out is skipped), numbers written as JavaScript writes them (shortest form,
  "1e-7" below 1e-6), over the local book when the message arrives.
- trades: `[N,"te",[ID,MTS,AMOUNT,PRICE],SEQ]` is a new trade (AMOUNT > 0: the taker
  bought); `tu` repeats the same trade a moment later and produces nothing (it would count
  it twice); the snapshot sent on subscribing holds past trades and produces nothing.
- heartbeat `[N,"hb",SEQ]`.

Sync rules:
- SEQ_ALL: every message carries the connection's next number (previous + 1, across all
  channels of the connection). A jump is a gap: every book is discarded and the feed
  resubscribes (a new connection); a number at or below the last one is a repeat and is
  ignored.
- A `cs` that differs from the checksum of the local book discards the book.
- Info 20051 ("Stopping. Please try to reconnect"): every book is discarded, the feed
  reconnects. 20060 (maintenance starts: "pause any activity"): the books are kept as they
  were and marked paused (nothing changes them until the maintenance ends); 20061
  (maintenance ended: "unsubscribe/subscribe again all channels"): every book is discarded
  and the feed resubscribes. `platform.status` 0 on connecting is maintenance as well.
"""

from __future__ import annotations

import re
import zlib
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np

from nexus._native import format_scaled
from nexus.exceptions import DecodeError
from nexus.instruments import Instrument
from nexus.venues.base import (
    ASK, BID, CONTROL, GENERIC_STEP, Decoder, Segment, SegKind, log, ms_to_ns, trade_id_int,
)
from nexus.venues.booksync import BookState, Sync

VENUE = "bitfinex"
CHECKSUM_DEPTH = 25
EXPONENT = 8                      # prices and amounts: at most 8 decimals (module notes)
STEP = GENERIC_STEP               # "0.00000001"
FLAG_TIMESTAMP = 32768
FLAG_SEQ_ALL = 65536
FLAG_OB_CHECKSUM = 131072
INFO_RECONNECT = 20051
INFO_MAINTENANCE = 20060
INFO_RESUME = 20061
INT32_MIN, INT32_MAX = -(1 << 31), (1 << 31) - 1
JS_EXPONENT_BELOW = Decimal("1e-6")   # JavaScript writes smaller magnitudes as "1e-7"
JS_EXPONENT_FROM = Decimal("1e21")

# A number directly inside an array: after "[" or "," and before "," or "]".
_NUMBER = re.compile(rb'([\[,]\s*)(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)(?=\s*[,\]])')

# What a control segment announces to the sync (BfxControl.event).
EV_NONE, EV_CONNECTED, EV_RECONNECT, EV_PAUSE, EV_RESUME, EV_CHECKSUM = range(6)


def instrument(symbol: str, base: str = "", quote: str = "") -> Instrument:
    return Instrument(VENUE, symbol, STEP, STEP, "1", "spot", base, quote, EXPONENT, EXPONENT)


def pair_parts(pair: str) -> tuple[str, str]:
    """"BTCUSD" -> ("BTC", "USD"); "DOGE:USD" -> ("DOGE", "USD") (Bitfinex writes a colon
    when a currency code is longer than three letters)."""
    if ":" in pair:
        base, _, quote = pair.partition(":")
        return base, quote
    return (pair[:3], pair[3:]) if len(pair) == 6 else (pair, "")


def plain(text: str) -> tuple[bool, str]:
    """A JSON number's text -> (negative, its magnitude as plain decimal text), exactly."""
    if type(text) is not str:
        raise DecodeError(f"{text!r} is not a number")
    neg = text.startswith("-")
    mag = text[1:] if neg else text
    if "e" in mag or "E" in mag:
        try:
            mag = format(Decimal(mag), "f")
        except InvalidOperation:
            raise DecodeError(f"number {text!r} is not a decimal") from None
    return neg, mag


def js_number(d: Decimal) -> str:
    """A value as JavaScript's Number.prototype.toString writes it (Bitfinex's checksum is
    computed in JavaScript): shortest form, exponent notation below 1e-6 ("1.2e-7")."""
    if d == 0:
        return "0"
    sign = "-" if d < 0 else ""
    a = abs(d).normalize()
    if JS_EXPONENT_BELOW <= a < JS_EXPONENT_FROM:
        s = format(a, "f")
        if "." in s:
            s = s.rstrip("0").rstrip(".")
        return sign + s
    digits = "".join(map(str, a.as_tuple().digits))
    exp = a.adjusted()
    mant = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    return f"{sign}{mant}e{'+' if exp > 0 else '-'}{abs(exp)}"


def checksum_string(bids, asks) -> str:
    """bids / asks: [(price Decimal, size Decimal)] best first (sizes positive)."""
    parts: list[str] = []
    for i in range(CHECKSUM_DEPTH):
        if i < len(bids):
            parts.append(js_number(bids[i][0]))
            parts.append(js_number(bids[i][1]))
        if i < len(asks):
            parts.append(js_number(asks[i][0]))
            parts.append(js_number(-asks[i][1]))
    return ":".join(parts)


def crc32_signed(s: str) -> int:
    c = zlib.crc32(s.encode())
    return c - (1 << 32) if c > INT32_MAX else c


class BfxControl(Segment):
    """A control message with a meaning for the sync (connection start, info code, checksum)."""

    __slots__ = ("event",)

    def __init__(self, event: int, inst: Instrument | None = None, *, seq: int | None = None,
                 checksum: int | None = None) -> None:
        super().__init__(SegKind.CONTROL, inst, seq=seq, checksum=checksum)
        self.event = event


def _int(v: Any, what: str) -> int:
    if type(v) is str and v.lstrip("-").isdigit():
        return int(v)
    if type(v) is int:
        return v
    raise DecodeError(f"{what} {v!r} is not an integer")


class BitfinexDecoder(Decoder):
    venue = VENUE

    def __init__(self, registry=None) -> None:
        super().__init__(registry)
        self.channels: dict[int, tuple[str, str]] = {}  # chanId -> (channel, symbol), this connection

    def generic_instrument(self, symbol: str) -> Instrument:
        base, quote = pair_parts(symbol[1:]) if symbol[:1] == "t" else ("", "")
        return instrument(symbol, base, quote)

    def _parse(self, raw: bytes) -> Any:
        s = raw.lstrip()
        if s[:1] == b"[":
            raw = _NUMBER.sub(rb'\1"\2"', raw)
        return super()._parse(raw)

    # -- events ------------------------------------------------------------------------------
    def _event(self, doc: dict) -> list[Segment]:
        ev = doc.get("event")
        if ev == "info":
            if "version" in doc:  # the first message of a connection
                self.channels.clear()
                status = (doc.get("platform") or {}).get("status", 1)
                return [BfxControl(EV_CONNECTED), *([BfxControl(EV_PAUSE)] if status == 0 else [])]
            code = doc.get("code")
            if code == INFO_RECONNECT:
                return [BfxControl(EV_RECONNECT)]
            if code == INFO_MAINTENANCE:
                return [BfxControl(EV_PAUSE)]
            if code == INFO_RESUME:
                return [BfxControl(EV_RESUME)]
            return [CONTROL]
        if ev == "subscribed":
            cid = doc["chanId"]
            if type(cid) is not int:
                raise DecodeError(f"chanId {cid!r} is not an integer")
            channel, symbol = doc["channel"], doc.get("symbol") or ("t" + doc.get("pair", ""))
            if channel == "book" and doc.get("prec", "P0") not in ("P0", "P1", "P2", "P3", "P4"):
                channel = "raw"  # R0 (order-level) books: not read by this decoder
            self.channels[cid] = (channel, symbol)
            return [CONTROL]
        if ev == "unsubscribed":
            self.channels.pop(doc.get("chanId"), None)
            return [CONTROL]
        if ev == "error":
            log.warning("%s: the venue reported an error: %s %s", self.venue, doc.get("code"), doc.get("msg"))
        return [CONTROL]  # conf, pong, auth ...

    # -- channel messages ----------------------------------------------------------------------
    def _decode(self, doc: Any) -> list[Segment]:
        if type(doc) is dict:
            if "event" in doc:
                return self._event(doc)
            raise DecodeError("an object without 'event'")
        if type(doc) is not list:
            raise DecodeError("expected a JSON array or object")
        if type(doc[0]) is list:  # a configs body (instruments), not a channel message
            return self._metadata_message(doc)
        cid = _int(doc[0], "channel id")
        sub = self.channels.get(cid)
        if sub is None:
            raise DecodeError(f"channel id {cid} was never subscribed on this connection")
        channel, symbol = sub
        body = doc[1]
        if body == "hb":
            return [BfxControl(EV_NONE, seq=self._seq(doc, 2))]
        if body == "cs":
            cs = _int(doc[2], "checksum")
            if not INT32_MIN <= cs <= INT32_MAX:
                raise DecodeError(f"checksum {cs} is not a signed 32-bit integer")
            return [BfxControl(EV_CHECKSUM, self._ent(symbol).inst, seq=self._seq(doc, 3), checksum=cs)]
        if channel == "book" and symbol[:1] == "t":
            return self._book(symbol, body, self._seq(doc, 2))
        if channel == "trades" and symbol[:1] == "t":
            if body == "te":
                return self._trade(symbol, doc[2], self._seq(doc, 3))
            if body == "tu":
                if type(doc[2]) is not list:
                    raise DecodeError("a trade is not an array")
                return [BfxControl(EV_NONE, seq=self._seq(doc, 3))]
            if type(body) is not list:
                raise DecodeError(f"trades message {body!r} is neither te, tu nor a snapshot")
            return [BfxControl(EV_NONE, seq=self._seq(doc, 2))]  # past trades
        return [BfxControl(EV_NONE, seq=self._seq(doc, 3 if type(body) is str else 2))]

    @staticmethod
    def _seq(doc: list, i: int) -> int | None:
        if len(doc) <= i:
            return None
        v = doc[i]
        if type(v) is not str or not v.isdigit():
            raise DecodeError(f"sequence number {v!r} is not a non-negative integer")
        return int(v)

    def _book(self, symbol: str, body: Any, seq: int | None) -> list[Segment]:
        if type(body) is not list:
            raise DecodeError("book message body is not an array")
        snapshot = not body or type(body[0]) is list
        entries = body if snapshot else [body]
        bp: list[str] = []
        bq: list[str] = []
        ap: list[str] = []
        aq: list[str] = []
        for lv in entries:
            if type(lv) is not list or len(lv) < 3:
                raise DecodeError("a book entry is not [PRICE, COUNT, AMOUNT]")
            price, count, amount = lv[0], lv[1], lv[2]
            pneg, ptext = plain(price)
            count = _int(count, "count")
            neg, size = plain(amount)
            if pneg or count < 0:
                raise DecodeError(f"book entry {lv!r}: negative price or count")
            if count == 0:
                if snapshot:
                    raise DecodeError("a snapshot entry with count 0")
                size = "0"
            elif Decimal(size) == 0:
                raise DecodeError(f"book entry {lv!r}: amount 0 with count {count}")
            if neg:
                ap.append(ptext)
                aq.append(size)
            else:
                bp.append(ptext)
                bq.append(size)
        e = self._ent(symbol)
        stop = self._put_book(0, e, bp, bq, ap, aq, 0, seq or 0, snapshot)
        return [Segment(SegKind.BOOK, e.inst, 0, stop, snapshot=snapshot, seq=seq)]

    def _trade(self, symbol: str, t: Any, seq: int | None) -> list[Segment]:
        if type(t) is not list or len(t) < 4:
            raise DecodeError("a trade is not [ID, MTS, AMOUNT, PRICE]")
        tid, mts, amount, price = t[0], t[1], t[2], t[3]
        neg, size = plain(amount)
        _, ptext = plain(price)
        e = self._ent(symbol)
        ts = ms_to_ns(mts)
        stop = self._put_trade(0, e, ptext, size, not neg, trade_id_int(_int(tid, "trade id")), ts, seq or 0)
        return [Segment(SegKind.TRADES, e.inst, 0, stop, seq=seq, ts_exchange_ns=ts, trade_ids=[str(tid)])]

    # -- instruments ---------------------------------------------------------------------------
    def _metadata_message(self, doc: list) -> list[Segment]:
        self._metadata(doc)
        return [CONTROL]

    def _metadata(self, doc: Any) -> int:
        """`/v2/conf/pub:list:pair:exchange` -> [["BTCUSD","ETHUSD",..]];
        `/v2/conf/pub:info:pair` -> [[["BTCUSD",[..,MIN_ORDER_SIZE,MAX_ORDER_SIZE,..]],..]]."""
        if type(doc) is not list or len(doc) != 1 or type(doc[0]) is not list:
            raise DecodeError("not a Bitfinex configs body ([[...]])")
        n = 0
        for item in doc[0]:
            pair = item[0] if type(item) is list else item
            if type(pair) is not str or not pair:
                raise DecodeError(f"pair {pair!r} is not a name")
            base, quote = pair_parts(pair)
            self.set_instrument(instrument("t" + pair, base, quote))
            n += 1
        return n


class BitfinexSync(Sync):
    venue = VENUE
    has_checksum = True

    def __init__(self, decoder: Decoder) -> None:
        super().__init__(decoder)
        self.pub_seq: int | None = None  # the connection's last sequence number (SEQ_ALL)
        self.paused = False              # maintenance (info 20060) until 20061

    def feed(self, segments, batch: np.ndarray) -> None:
        for seg in segments:
            if seg.seq is not None and not self._in_sequence(seg.seq):
                continue
            if seg.kind is SegKind.BOOK:
                st = self.state(seg.inst)
                self.on_book(st, seg, batch)
                if st.synced:
                    self._check_crossed(st)
            elif seg.kind is SegKind.CONTROL:
                self.on_control(seg)

    def _in_sequence(self, seq: int) -> bool:
        last = self.pub_seq
        if last is not None and seq <= last:
            for st in self.books.values():
                st.dropped += 1
            return False
        self.pub_seq = seq
        if last is not None and seq != last + 1:
            self._discard_all(f"gap: sequence {seq} after {last}", gap=True)
        return True

    def _discard_all(self, reason: str, gap: bool = False) -> None:
        for st in self.books.values():
            if st.synced or gap:
                self.desync(st, reason, gap=gap)

    def on_control(self, seg: Segment) -> None:
        ev = getattr(seg, "event", EV_NONE)
        if ev == EV_CHECKSUM:
            st = self.state(seg.inst)
            st.checksum_venue = seg.checksum
            if st.synced:
                mine = self.checksum(st)
                if mine != seg.checksum:
                    self.desync(st, f"checksum mismatch: Bitfinex sent {seg.checksum}, the book gives {mine}",
                                checksum=True)
        elif ev == EV_CONNECTED:
            self.pub_seq = None
            self.paused = False
        elif ev == EV_RECONNECT:
            self._discard_all("info 20051: the venue asks to reconnect")
        elif ev == EV_PAUSE:
            self.paused = True
            self.notes.append("info 20060: maintenance; books kept as they are until it ends")
        elif ev == EV_RESUME:
            self.paused = False
            self._discard_all("info 20061: maintenance ended, resubscribing")

    def on_book(self, st: BookState, seg: Segment, batch: np.ndarray) -> None:
        if seg.snapshot:
            self.apply(st, seg, batch)
            st.synced = True
            st.checksum_bad = False
        elif not st.synced:
            st.dropped += 1
            return
        else:
            self.apply(st, seg, batch)
        st.last_seq = seg.seq

    def checksum_string(self, st: BookState) -> str:
        pe, qe = st.inst.price_exponent, st.inst.qty_exponent

        def side(s):
            return [(Decimal(format_scaled(p, pe)), Decimal(format_scaled(q, qe)))
                    for p, q in st.book.top(s, CHECKSUM_DEPTH)]

        return checksum_string(side(BID), side(ASK))

    def checksum(self, st: BookState) -> int | None:
        return crc32_signed(self.checksum_string(st))


Decoder = BitfinexDecoder
Sync = BitfinexSync
