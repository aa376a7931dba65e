"""MEXC spot v3: the WebSocket's protocol-buffer frames, its JSON control messages, the REST
depth snapshot and exchangeInfo; aggregated-depth book sync.

Sources: MEXC Spot v3 API docs, "Websocket Market Streams"
(https://mexcdevelop.github.io/apidocs/spot_v3_en/#websocket-market-streams): base
wss://wbs-api.mexc.com/ws; subscribe {"method":"SUBSCRIPTION","params":[channel]} answered
{"id":0,"code":0,"msg":channel}; {"method":"PING"} answered {"id":0,"code":0,"msg":"PONG"};
pushes are binary protobuf frames, a `PushDataV3ApiWrapper` (channel, symbol, sendTime and
one body), schemas published at github.com/mexcdevelop/websocket-proto (compiled in pb/):
- `spot@public.aggre.depth.v3.api.pb@100ms@BTCUSDT`: body `publicAggreDepths`
  (PublicAggreDepthsV3Api: asks, bids of {price, quantity}, eventType, fromVersion, toVersion);
  quantities are absolute, 0 removes the level;
- `spot@public.aggre.deals.v3.api.pb@100ms@BTCUSDT`: body `publicAggreDeals` (deals of
  {price, quantity, tradeType 1 buy / 2 sell, time ms, tradeId}).
REST "Order Book" GET /api/v3/depth {lastUpdateId, bids, asks, timestamp}; "Exchange
Information" GET /api/v3/exchangeInfo (symbols with baseAsset, quoteAsset, quotePrecision =
price decimals, baseAssetPrecision = quantity decimals).

Book sync, the docs' "How to Properly Maintain a Local Copy of the Order Book": subscribe
to the aggregated depth and buffer the pushes; GET /api/v3/depth?symbol=..&limit=1000; a
snapshot whose lastUpdateId is older than the first buffered push's fromVersion is fetched
again; pushes with toVersion <= lastUpdateId are dropped; the first one applied has
fromVersion <= lastUpdateId + 1 <= toVersion; after it each push's fromVersion is the
previous toVersion + 1, else the book is rebuilt from a new snapshot. That is Binance
spot's rule with U = fromVersion, u = toVersion (MexcSync reuses it).

A frame that does not parse as a PushDataV3ApiWrapper, or has no body, or no versions, is a
DecodeError (counted malformed). Offline, a binary frame is one input line `b64:` followed
by the frame in standard base64 (ARCHITECTURE.md); `decode` accepts that form everywhere.
"""

from __future__ import annotations

import binascii
from typing import Any

from google.protobuf.message import DecodeError as PbDecodeError

from nexus.exceptions import DecodeError
from nexus.instruments import Instrument, decimals_of
from nexus.venues.base import CONTROL, Decoder, Segment, SegKind, columns, log, ms_to_ns, seq_int, trade_id_int
from nexus.venues.binance.spot import BinanceSpotSync
from nexus.venues.mexc.pb.PushDataV3ApiWrapper_pb2 import PushDataV3ApiWrapper

VENUE = "mexc"
B64_PREFIX = b"b64:"
# MEXC writes quantities with 8 decimals ("0.00000000") whatever the symbol's precision.
WIRE_EXPONENT = 8
DEPTH_CHANNEL = "spot@public.aggre.depth.v3.api.pb"
DEALS_CHANNEL = "spot@public.aggre.deals.v3.api.pb"
IGNORED_BODIES = frozenset({
    "publicAggreBookTicker", "publicBookTicker", "publicBookTickerBatch", "publicSpotKline",
    "publicMiniTicker", "publicMiniTickers", "publicLimitDepths",
})


def decimals_step(n: Any) -> str:
    """quotePrecision 2 -> "0.01"; 0 -> "1"."""
    if type(n) is str and n.isdigit():
        n = int(n)
    if type(n) is not int or not 0 <= n <= 18:
        raise DecodeError(f"precision {n!r} is not a number of decimals")
    return "1" if n == 0 else "0." + "0" * (n - 1) + "1"


def instrument(symbol: str, tick: str, step: str, base: str = "", quote: str = "") -> Instrument:
    return Instrument(VENUE, symbol, tick, step, "1", "spot", base, quote,
                      max(WIRE_EXPONENT, decimals_of(tick)), max(WIRE_EXPONENT, decimals_of(step)))


def version(v: str, what: str) -> int:
    """A decimal-string version ("10589632359") as an int; anything else is a DecodeError."""
    if not v.isdigit() or len(v) > 18:
        raise DecodeError(f"{what} {v!r} is not a decimal version number")
    return int(v)


def frame_bytes(raw: bytes) -> bytes:
    """A `b64:` line back to the binary frame it stands for; anything else unchanged."""
    if raw[:4] == B64_PREFIX:
        try:
            return binascii.a2b_base64(raw[4:], strict_mode=True)
        except (binascii.Error, ValueError) as e:
            raise DecodeError(f"b64: line is not standard base64 ({e})") from None
    return raw


class MexcDecoder(Decoder):
    venue = VENUE
    DEFAULTS = ()  # instruments from GET /api/v3/exchangeInfo or --instruments

    def _parse(self, raw: bytes) -> Any:
        raw = frame_bytes(raw)
        if raw[:1] in (b"{", b"["):  # a protobuf push starts with 0x0a (field 1, channel)
            return super()._parse(raw)  # JSON: acks, PONG, REST bodies
        msg = PushDataV3ApiWrapper()
        try:
            msg.ParseFromString(raw)
        except (PbDecodeError, RuntimeError, ValueError) as e:
            raise DecodeError(f"not a PushDataV3ApiWrapper protobuf frame ({e})") from None
        return msg

    def _decode(self, doc: Any) -> list[Segment]:
        if isinstance(doc, PushDataV3ApiWrapper):
            return self._push(doc)
        if type(doc) is not dict:
            raise DecodeError("expected a JSON object or a protobuf frame")
        if "lastUpdateId" in doc:
            if self.rest_symbol is None:
                raise DecodeError("a REST depth snapshot carries no symbol: name it with --symbol")
            return self._snapshot(doc, self.rest_symbol)
        if "symbols" in doc and "serverTime" in doc:
            self._metadata(doc)
            return [CONTROL]
        if "code" in doc and "msg" in doc:
            if doc["code"] != 0:
                log.warning("%s: the venue reported an error: %s %s", self.venue, doc["code"], doc["msg"])
            return [CONTROL]  # subscription ack, PONG, or an error
        raise DecodeError("not a MEXC message this decoder knows (no protobuf push, depth snapshot or ack)")

    def decode_rest_snapshot(self, raw: bytes | str, symbol: str, out) -> list[Segment]:
        saved, self.rest_symbol = self.rest_symbol, symbol
        try:
            return self.decode(raw, out)
        finally:
            self.rest_symbol = saved

    def _push(self, m: PushDataV3ApiWrapper) -> list[Segment]:
        body = m.WhichOneof("body")
        if body is None:
            raise DecodeError(f"protobuf push on {m.channel!r} has no body")
        symbol = m.symbol if m.HasField("symbol") and m.symbol else m.channel.rsplit("@", 1)[-1]
        if body == "publicAggreDepths":
            return self._depth(m, symbol)
        if body == "publicAggreDeals":
            return self._deals(m, symbol)
        if body in IGNORED_BODIES:
            return [CONTROL]
        raise DecodeError(f"protobuf body {body!r} is not one this decoder reads")

    def _depth(self, m: PushDataV3ApiWrapper, symbol: str) -> list[Segment]:
        d = m.publicAggreDepths
        if not d.fromVersion or not d.toVersion:
            raise DecodeError("aggregated depth without fromVersion/toVersion")
        first = version(d.fromVersion, "fromVersion")
        last = version(d.toVersion, "toVersion")
        if first > last:
            raise DecodeError(f"fromVersion {first} is after toVersion {last}")
        e = self._ent(symbol)
        ts = ms_to_ns(m.sendTime) if m.HasField("sendTime") else 0
        stop = self._put_book(0, e, [b.price for b in d.bids], [b.quantity for b in d.bids],
                              [a.price for a in d.asks], [a.quantity for a in d.asks], ts, last, False)
        return [Segment(SegKind.BOOK, e.inst, 0, stop, seq=last, first_seq=first,
                        ts_exchange_ns=ts or None)]

    def _deals(self, m: PushDataV3ApiWrapper, symbol: str) -> list[Segment]:
        e = self._ent(symbol)
        pos, ids, ts0 = 0, [], None
        for i, t in enumerate(m.publicAggreDeals.deals):
            if t.tradeType not in (1, 2):
                raise DecodeError(f"tradeType {t.tradeType} is neither 1 (buy) nor 2 (sell)")
            ts = ms_to_ns(t.time)
            # Aggregated deals may carry no tradeId: the id is then derived from the deal itself.
            tid_text = t.tradeId or f"{t.time}:{t.price}:{t.quantity}:{t.tradeType}:{i}"
            pos = self._put_trade(pos, e, t.price, t.quantity, t.tradeType == 1, trade_id_int(tid_text), ts)
            ids.append(tid_text)
            ts0 = ts if ts0 is None else ts0
        if not ids:
            return [CONTROL]
        return [Segment(SegKind.TRADES, e.inst, 0, pos, ts_exchange_ns=ts0, trade_ids=ids)]

    def _snapshot(self, d: dict, symbol: str) -> list[Segment]:
        e = self._ent(symbol)
        last = seq_int(d["lastUpdateId"], "lastUpdateId")
        ts = ms_to_ns(d["timestamp"]) if "timestamp" in d else 0
        bp, bq = columns(d["bids"], "bids")
        ap, aq = columns(d["asks"], "asks")
        stop = self._put_book(0, e, bp, bq, ap, aq, ts, last, True)
        return [Segment(SegKind.BOOK, e.inst, 0, stop, snapshot=True, seq=last,
                        ts_exchange_ns=ts or None, rest=True)]

    def _metadata(self, doc: Any) -> int:
        """exchangeInfo: quotePrecision (price decimals) and baseAssetPrecision (quantity decimals)."""
        if type(doc) is not dict or type(doc.get("symbols")) is not list:
            raise DecodeError("not an exchangeInfo body (no 'symbols' array)")
        n = 0
        for s in doc["symbols"]:
            if "quotePrecision" not in s or "baseAssetPrecision" not in s:
                log.warning("%s: %s has no quotePrecision/baseAssetPrecision; skipped", self.venue, s.get("symbol"))
                continue
            self.set_instrument(instrument(s["symbol"], decimals_step(s["quotePrecision"]),
                                           decimals_step(s["baseAssetPrecision"]),
                                           s.get("baseAsset", ""), s.get("quoteAsset", "")))
            n += 1
        return n


class MexcSync(BinanceSpotSync):
    """fromVersion/toVersion against the REST lastUpdateId: Binance spot's rule (see above)."""

    venue = VENUE


Decoder = MexcDecoder
Sync = MexcSync
