"""Bitget v2 public WebSocket: the `books` channel (a snapshot, then updates, each with a
CRC32 checksum over the top 25 levels), the `books1`/`books5`/`books15` channels (whole
snapshots on every push) and `trade`, for spot (instType SPOT) and USDT-margined futures
(instType USDT-FUTURES); instruments from `GET /api/v2/spot/public/symbols` and
`GET /api/v2/mix/market/contracts?productType=USDT-FUTURES`.

Sources: Bitget API docs, Spot > Websocket > Public > Depth Channel and Trade Channel,
Futures > Websocket > Public > Depth Channel ("Checksum", "Merging update data into
snapshot"), Common > Websocket API (ping/pong), Spot > Market > Get Symbol Info, Futures >
Market > Get Contract Config: https://www.bitget.com/api-doc/spot/websocket/public/Depth-Channel

One venue id, `bitget`, serves both markets; the symbol says which (a convention of Nexus,
not Bitget's): a spot instrument is its instId as Bitget writes it (`BTCUSDT`), a USDT
futures contract is instId + ":" + instType (`BTCUSDT:USDT-FUTURES`). Futures sizes are in
base coin (Bitget's USDT-M contracts are quoted in the base coin), so contract value 1.

Sync rules (`books`):
- `action: snapshot` replaces the book; `action: update` holds changed levels, size "0"
  deletes. An update before any snapshot is dropped.
- `seq` (when sent) increases from message to message; an update whose seq is not above
  the last one is stale and dropped. Bitget documents no previous-sequence field in v2, so a
  lost update is found by the checksum.
- Checksum: CRC32 over "bid1px:bid1sz:ask1px:ask1sz:..." of the top 25 levels of each side
  interleaved (a side that runs out is skipped), signed 32-bit, compared after every
  message. Bitget's docs: use the ORIGINAL price and size strings ("0.5000" stays "0.5000",
  never "0.5"), so the sync keeps the text each level arrived with and builds the check
  string from it. A mismatch discards the book until a new subscription's snapshot. A
  checksum of 0 on a message is compared like any other value (Bitget documents no
  "not sent" value).
- `books1`/`books5`/`books15` pushes are whole books: each replaces the local one (no
  checksum check is documented for them; the field is 0 there).
Trades: `side` is the taker's side; the `snapshot` push sent on subscribing holds past
trades and produces nothing (they are history, not new trades, and a resubscription would
repeat them); `update` pushes are new trades.
"""

from __future__ import annotations

import zlib
from typing import Any

import numpy as np

from nexus._native import format_scaled
from nexus.exceptions import DecodeError
from nexus.instruments import Instrument, decimals_of
from nexus.venues.base import (
    ASK, BID, CONTROL, Decoder, Segment, SegKind, TradeFields, columns, log, ms_to_ns,
)
from nexus.venues.booksync import BookState, Sync

VENUE = "bitget"
CHECKSUM_DEPTH = 25
SPOT = "SPOT"
FUTURES_TYPES = frozenset({"USDT-FUTURES"})
INST_TYPES = frozenset({SPOT}) | FUTURES_TYPES
INCREMENTAL_CHANNELS = frozenset({"books"})
SNAPSHOT_CHANNELS = frozenset({"books1", "books5", "books15"})
TRADE_CHANNELS = frozenset({"trade"})
INT32_MIN, INT32_MAX = -(1 << 31), (1 << 31) - 1
SEPARATOR = ":"
OK_CODE = "00000"

TRADE_FIELDS = TradeFields("_sym", "ts", ms_to_ns, "price", "size", "side", "buy", "sell", "tradeId")


def symbol_of(inst_type: str, inst_id: str) -> str:
    """Nexus's symbol for a Bitget instrument: `BTCUSDT` (spot), `BTCUSDT:USDT-FUTURES`."""
    if inst_type == SPOT:
        return inst_id
    if inst_type in FUTURES_TYPES:
        return f"{inst_id}{SEPARATOR}{inst_type}"
    raise DecodeError(f"instType {inst_type!r} is neither SPOT nor USDT-FUTURES")


def split(symbol: str) -> tuple[str, str]:
    """`BTCUSDT:USDT-FUTURES` -> ("USDT-FUTURES", "BTCUSDT"); `BTCUSDT` -> ("SPOT", "BTCUSDT")."""
    inst_id, _, inst_type = symbol.partition(SEPARATOR)
    return (inst_type or SPOT), inst_id


def _step(places: Any, end_step: Any = "1") -> str:
    """A step of `end_step` units in the `places`-th decimal: (2, 1) -> "0.01", (1, 5) -> "0.5"."""
    n = int(places)
    k = int(end_step)
    if n < 0 or n > 18 or k <= 0:
        raise DecodeError(f"precision {places!r} / step {end_step!r} out of range")
    if n == 0:
        return str(k)
    digits = str(k).rjust(n + 1, "0")
    s = f"{digits[:-n]}.{digits[-n:]}".rstrip("0").rstrip(".")
    return s


def instrument(symbol: str, tick: str, lot: str, kind: str, base: str = "", quote: str = "") -> Instrument:
    return Instrument(VENUE, symbol, tick, lot, "1", kind, base, quote, decimals_of(tick), decimals_of(lot))


class BookSegment(Segment):
    """A `books` segment with the level texts as received (for the checksum)."""

    __slots__ = ("texts",)

    def __init__(self, *args, texts=None, **kw) -> None:
        super().__init__(*args, **kw)
        self.texts = texts  # (bid prices, bid sizes, ask prices, ask sizes) as sent


class BitgetDecoder(Decoder):
    venue = VENUE

    def _parse(self, raw: bytes) -> Any:
        if raw.strip() == b"pong":  # the answer to the text "ping"
            return None
        return super()._parse(raw)

    def generic_instrument(self, symbol: str) -> Instrument:
        inst = super().generic_instrument(symbol)
        kind = "linear" if SEPARATOR in symbol else "spot"
        return Instrument(VENUE, symbol, inst.tick_size, inst.lot_size, "1", kind)

    def _decode(self, doc: Any) -> list[Segment]:
        if doc is None:
            return [CONTROL]
        if type(doc) is not dict:
            raise DecodeError("expected a JSON object")
        if "event" in doc:  # subscribe / unsubscribe / error / login
            if doc["event"] == "error":
                log.warning("%s: the venue reported an error: %s %s", self.venue, doc.get("code"), doc.get("msg"))
            return [CONTROL]
        arg = doc.get("arg")
        if arg is None:
            if doc.get("code") == OK_CODE and type(doc.get("data")) is list:  # a REST instruments body
                self._metadata(doc)
                return [CONTROL]
            raise DecodeError("not a Bitget message this decoder knows (no arg or event)")
        if type(arg) is not dict:
            raise DecodeError("'arg' is not an object")
        channel = arg["channel"]
        sym = symbol_of(arg["instType"], arg["instId"])
        if channel in INCREMENTAL_CHANNELS or channel in SNAPSHOT_CHANNELS:
            return self._books(doc, sym, channel in SNAPSHOT_CHANNELS)
        if channel in TRADE_CHANNELS:
            action = doc.get("action")
            if action == "snapshot":
                return [CONTROL]  # past trades (see the module notes)
            if action != "update":
                raise DecodeError(f"trade action {action!r} is neither snapshot nor update")
            trades = doc["data"]
            if type(trades) is not list:
                raise DecodeError("'data' is not an array")
            for t in trades:
                if type(t) is not dict:
                    raise DecodeError("a trade is not an object")
                t["_sym"] = sym
            return self._trade_message(trades, "'data'", TRADE_FIELDS)
        return [CONTROL]  # a channel this decoder does not read (ticker, candles)

    def _books(self, doc: dict, sym: str, whole: bool) -> list[Segment]:
        action = "snapshot" if whole else doc.get("action")
        if action not in ("snapshot", "update"):
            raise DecodeError(f"action {action!r} is neither snapshot nor update")
        data = doc["data"]
        if type(data) is not list or not data:
            raise DecodeError("'data' is not a non-empty array")
        e = self._ent(sym)
        segs: list[Segment] = []
        pos = 0
        snapshot = action == "snapshot"
        for d in data:
            if type(d) is not dict:
                raise DecodeError("a book entry is not an object")
            seq = d.get("seq")
            if seq is not None:
                if type(seq) is str and seq.isdigit():
                    seq = int(seq)
                if type(seq) is not int or seq < 0 or seq >= 1 << 63:
                    raise DecodeError(f"seq {seq!r} is not a non-negative integer")
            checksum = d.get("checksum")
            if checksum is not None and (type(checksum) is not int or not INT32_MIN <= checksum <= INT32_MAX):
                raise DecodeError(f"checksum {checksum!r} is not a signed 32-bit integer")
            ts = ms_to_ns(d["ts"])
            bp, bq = columns(d["bids"], "bids")
            ap, aq = columns(d["asks"], "asks")
            for v in (*bp, *bq, *ap, *aq):
                if type(v) is not str:
                    raise DecodeError(f"price/size {v!r} is not a decimal string")
            start = pos
            pos = self._put_book(pos, e, bp, bq, ap, aq, ts, seq or 0, snapshot)
            segs.append(BookSegment(SegKind.BOOK, e.inst, start, pos, snapshot=snapshot, seq=seq,
                                    checksum=None if whole else checksum, ts_exchange_ns=ts,
                                    texts=None if whole else (bp, bq, ap, aq)))
        return segs

    def _metadata(self, doc: Any) -> int:
        if doc.get("code") != OK_CODE:
            raise DecodeError(f"the instruments body reports code {doc.get('code')!r}: {doc.get('msg')!r}")
        n = 0
        for s in doc["data"]:
            if "pricePlace" in s:  # /api/v2/mix/market/contracts
                tick = _step(s["pricePlace"], s.get("priceEndStep") or "1")
                lot = s.get("sizeMultiplier") or _step(s["volumePlace"])
                inst_type = s.get("productType") or "USDT-FUTURES"
                if inst_type.upper() not in FUTURES_TYPES:
                    continue
                sym = symbol_of(inst_type.upper(), s["symbol"])
                self.set_instrument(instrument(sym, tick, lot, "linear", s.get("baseCoin", ""), s.get("quoteCoin", "")))
            elif "pricePrecision" in s:  # /api/v2/spot/public/symbols
                tick = _step(s["pricePrecision"])
                lot = _step(s["quantityPrecision"])
                self.set_instrument(instrument(s["symbol"], tick, lot, "spot", s.get("baseCoin", ""),
                                               s.get("quoteCoin", "")))
            else:
                continue
            n += 1
        return n


class BitgetSync(Sync):
    venue = VENUE
    has_checksum = True

    def __init__(self, decoder: Decoder) -> None:
        super().__init__(decoder)
        # symbol -> (bids, asks): price integer -> (price text, size text) as received
        self.texts: dict[str, tuple[dict[int, tuple[str, str]], dict[int, tuple[str, str]]]] = {}

    def on_book(self, st: BookState, seg: Segment, batch: np.ndarray) -> None:
        sym = st.inst.symbol
        texts = getattr(seg, "texts", None)
        if seg.snapshot:
            self.apply(st, seg, batch)
            st.synced = True
            st.checksum_bad = False
            self.texts[sym] = ({}, {})
        elif not st.synced:
            st.dropped += 1
            return
        elif seg.seq is not None and st.last_seq is not None and seg.seq <= st.last_seq:
            st.dropped += 1  # stale or repeated
            return
        else:
            self.apply(st, seg, batch)
        st.last_seq = seg.seq if seg.seq is not None else st.last_seq
        if texts is None:  # a books1/5/15 push: no checksum, no texts kept
            self.texts.pop(sym, None)
            return
        self._keep_texts(sym, seg, batch, texts)
        if seg.checksum is not None:
            st.checksum_venue = seg.checksum
            mine = self.checksum(st)
            if mine != seg.checksum:
                self.desync(st, f"checksum mismatch: Bitget sent {seg.checksum}, the book gives {mine}",
                            checksum=True)
                self.texts.pop(sym, None)

    def _keep_texts(self, sym: str, seg: Segment, batch: np.ndarray, texts) -> None:
        bids, asks = self.texts.setdefault(sym, ({}, {}))
        bp, bq, ap, aq = texts
        start = seg.start + (1 if seg.snapshot else 0)
        prices = batch["price"][start:seg.stop].tolist()
        qtys = batch["qty"][start:seg.stop].tolist()
        nb = len(bp)
        for i, (p, q) in enumerate(zip(prices, qtys)):
            side, j = (bids, i) if i < nb else (asks, i - nb)
            if q == 0:
                side.pop(p, None)
            elif i < nb:
                side[p] = (bp[j], bq[j])
            else:
                side[p] = (ap[j], aq[j])

    def checksum_string(self, st: BookState) -> str:
        inst = st.inst
        pe, qe = inst.price_exponent, inst.qty_exponent
        bids_t, asks_t = self.texts.get(inst.symbol, ({}, {}))

        def text(table, p, q):
            t = table.get(p)
            return t if t is not None else (format_scaled(p, pe), format_scaled(q, qe))

        b = [text(bids_t, p, q) for p, q in st.book.top(BID, CHECKSUM_DEPTH)]
        a = [text(asks_t, p, q) for p, q in st.book.top(ASK, CHECKSUM_DEPTH)]
        parts: list[str] = []
        for i in range(CHECKSUM_DEPTH):
            if i < len(b):
                parts.append(f"{b[i][0]}:{b[i][1]}")
            if i < len(a):
                parts.append(f"{a[i][0]}:{a[i][1]}")
        return ":".join(parts)

    def checksum(self, st: BookState) -> int | None:
        c = zlib.crc32(self.checksum_string(st).encode())
        return c - (1 << 32) if c > INT32_MAX else c


Decoder = BitgetDecoder
Sync = BitgetSync
