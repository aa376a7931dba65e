"""Tradovate market data: the md WebSocket's frames, `md/subscribeDOM` books and
`md/subscribeQuote` quotes (trades), instruments from `contract/find` + `product/find`.

Sources (partner.tradovate.com): Core concepts > WebSockets (the frame prefixes: "o" open,
"h" server heartbeat, "a" a JSON array of messages, "c" close; requests are
"endpoint\\nid\\nquery\\nbody", responses {"s": status, "i": id, "d": data}, events
{"e": "md", "d": {...}}; the client sends "[]" as its heartbeat every 2.5 s); Market data >
Request reference (md/subscribeQuote data message: quotes[] with timestamp, contractId and
entries Bid/Offer/Trade {price,size}, TotalTradeVolume {size}, ...; md/subscribeDOM data
message: doms[] with contractId, timestamp, bids[] and offers[] of {price, size});
REST reference contract/find (id, name, productId) and product/find (name, tickSize,
valuePerPoint).

Sync rules: Tradovate sends no sequence number and no checksum. Each DOM message carries the
contract's whole depth of market (bids and offers, best first), so each one replaces the book;
a DOM whose timestamp is older than the last applied one is stale and ignored.
Trades: a quote carries the last trade (entries.Trade) and the session's cumulative volume
(TotalTradeVolume). A quote whose volume grew is a new trade, of Trade.size at Trade.price; its
id is the cumulative volume (in the instrument's size units), which only grows. A quote carries the entries that changed; the others keep their last values. The aggressor
is not sent: a trade at or above the previous quote's offer was a buy, at or below its bid a
sell; between them, the side nearer the price (a buy on a tie). The first quote of a
subscription only sets the volume (its Trade entry is history).
Prices and sizes are JSON numbers: parsed as their decimal text, never as floats.
Instruments: tick = product tickSize, lot 1 contract, contract value = valuePerPoint
(base units per contract: 0.1 BTC for CME Micro Bitcoin MBT). Books are keyed by the
contract's name; a contractId with no listing loaded is named by its number (generic
precision, see base.Decoder).
"""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

TRADE_ID_DECIMALS = 8   # the trade id is TotalTradeVolume in units of 1e-8

import numpy as np

from nexus.exceptions import DecodeError
from nexus.instruments import Instrument, decimals_of
from nexus.venues.base import CONTROL, Decoder, Segment, SegKind, iso_to_ns, log, object_columns
from nexus.venues.booksync import BookState, Sync

VENUE = "tradovate"
MONTH_CODES = "FGHJKMNQUVXZ"
# The CME micro crypto futures Tradovate lists for the canonical symbols (product names, not
# precisions: tick and contract size come from product/find).
PRODUCTS = {"BTC": "MBT", "ETH": "MET"}
CONTRACT_RE = re.compile(r"([A-Z0-9]{1,5}?)([FGHJKMNQUVXZ])(\d{1,2})")


def last_friday(year: int, month: int) -> date:
    nxt = date(year + month // 12, month % 12 + 1, 1)
    d = nxt - timedelta(days=1)
    return d - timedelta(days=(d.weekday() - 4) % 7)


def front_month(product: str, today: date) -> str:
    """The front monthly contract of a CME micro crypto product (they expire on the month's
    last Friday): "MBT" on 2026-12-06 -> "MBTZ6"."""
    y, m = today.year, today.month
    if today > last_friday(y, m):
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return f"{product}{MONTH_CODES[m - 1]}{y % 10}"


def product_of(contract: str) -> str:
    m = CONTRACT_RE.fullmatch(contract)
    if m is None:
        raise DecodeError(f"{contract!r} is not a futures contract name (product, month code, year)")
    return m.group(1)


def num(v: Any) -> str:
    """A JSON number as parsed here (floats kept as their text): its decimal string."""
    if type(v) is str:
        return v
    if type(v) is int:
        return str(v)
    raise DecodeError(f"{v!r} is not a number")


def loads(text: bytes | str) -> Any:
    try:
        return json.loads(text, parse_float=str)
    except ValueError as e:
        raise DecodeError(f"not JSON: {e}") from None


class TradovateDecoder(Decoder):
    venue = VENUE
    DEFAULTS = ()

    def __init__(self, registry=None) -> None:
        super().__init__(registry)
        self.contracts: dict[int, dict] = {}   # contract/find bodies by id
        self.products: dict[str, dict] = {}    # product/find bodies by name
        self.names: dict[int, str] = {}        # contractId -> contract name
        self._quote: dict[int, tuple[str | None, str | None, str | None]] = {}  # id -> (volume, bid, offer)

    def _parse(self, raw: bytes) -> Any:
        kind = raw[:1]
        if kind in (b"o", b"h") and len(raw.strip()) == 1:
            return (kind, None)
        if kind == b"a" or kind == b"c":
            return (kind, loads(raw[1:]))
        if kind in (b"{", b"["):   # a REST body (instrument listing)
            return (b"rest", loads(raw))
        raise DecodeError(f"not a Tradovate frame (prefix {raw[:1]!r}; o, h, a or c expected)")

    def _decode(self, doc: Any) -> list[Segment]:
        kind, body = doc
        if kind == b"o":            # a new connection: its first quote only sets the volume again
            self._quote.clear()
            return [CONTROL]
        if kind == b"h":
            return [CONTROL]
        if kind == b"c":
            log.info("%s: the server closes the connection: %s", self.venue, body)
            return [CONTROL]
        if kind == b"rest":
            self._metadata(body)
            return [CONTROL]
        if type(body) is not list:
            raise DecodeError("an 'a' frame is not a JSON array")
        segs: list[Segment] = []
        pos = 0
        for m in body:
            if type(m) is not dict:
                raise DecodeError("a message of an 'a' frame is not an object")
            if "s" in m:            # a response to a request
                if m["s"] != 200:
                    log.warning("%s: request %s refused: %s %s", self.venue, m.get("i"), m["s"], m.get("d"))
                continue
            e = m.get("e")
            if e == "md":
                d = m.get("d")
                if type(d) is not dict:
                    raise DecodeError("md event without a 'd' object")
                for dom in d.get("doms", ()):
                    pos = self._dom(segs, pos, dom)
                for q in d.get("quotes", ()):
                    pos = self._quote_msg(segs, pos, q)
            elif e == "shutdown":
                log.warning("%s: the server announces a shutdown: %s", self.venue, m.get("d"))
            elif e is None:
                raise DecodeError("a message with neither 's' nor 'e'")
        return segs or [CONTROL]

    def _symbol(self, cid: Any) -> str:
        if type(cid) is not int:
            raise DecodeError(f"contractId {cid!r} is not an integer")
        return self.names.get(cid) or str(cid)

    def _dom(self, segs: list[Segment], pos: int, dom: Any) -> int:
        if type(dom) is not dict:
            raise DecodeError("a DOM is not an object")
        e = self._ent(self._symbol(dom["contractId"]))
        ts = iso_to_ns(dom["timestamp"])
        bp, bq = object_columns(dom["bids"], "bids", "price", "size", num)
        ap, aq = object_columns(dom["offers"], "offers", "price", "size", num)
        start = pos
        pos = self._put_book(pos, e, bp, bq, ap, aq, ts, 0, True)
        segs.append(Segment(SegKind.BOOK, e.inst, start, pos, snapshot=True, ts_exchange_ns=ts))
        return pos

    def _quote_msg(self, segs: list[Segment], pos: int, q: Any) -> int:
        if type(q) is not dict or type(q.get("entries")) is not dict:
            raise DecodeError("a quote is not an object with 'entries'")
        cid = q["contractId"]
        e = self._ent(self._symbol(cid))
        ent = q["entries"]
        vol = ent.get("TotalTradeVolume", {}).get("size")
        bid = ent.get("Bid", {}).get("price")
        offer = ent.get("Offer", {}).get("price")
        vol, bid, offer = (None if v is None else num(v) for v in (vol, bid, offer))
        prev = self._quote.get(cid)
        if prev is not None:    # entries not sent are unchanged
            vol, bid, offer = vol or prev[0], bid or prev[1], offer or prev[2]
        self._quote[cid] = (vol, bid, offer)
        trade = ent.get("Trade")
        if prev is None or vol is None or prev[0] is None or trade is None or Decimal(vol) <= Decimal(prev[0]):
            return pos
        px, qty = num(trade["price"]), num(trade["size"])
        p = Decimal(px)
        pb, po = prev[1], prev[2]
        if po is not None and p >= Decimal(po):
            buy = True
        elif pb is not None and p <= Decimal(pb):
            buy = False
        elif pb is not None and po is not None:
            buy = p - Decimal(pb) >= Decimal(po) - p
        else:
            buy = True
        ts = iso_to_ns(q["timestamp"])
        # the cumulative volume at a fixed 8 decimals: the same id whatever the instrument's
        # exponent (listing or inferred offline), never truncated
        tid = int(Decimal(vol).scaleb(TRADE_ID_DECIMALS).to_integral_value())
        start = pos
        pos = self._put_trade(pos, e, px, qty, buy, tid, ts)
        segs.append(Segment(SegKind.TRADES, e.inst, start, pos, ts_exchange_ns=ts, trade_ids=[str(tid)]))
        return pos

    def _metadata(self, doc: Any) -> int:
        """contract/find and product/find bodies (or a list of them, or the REST listing
        {"contracts": [...], "products": [...]} as an --instruments file): an instrument for
        each contract whose product is known."""
        if type(doc) is tuple:      # as _parse returns it: (b"rest", body)
            doc = doc[1]
        items: list = []
        if type(doc) is dict and ("contracts" in doc or "products" in doc):
            items = list(doc.get("contracts", ())) + list(doc.get("products", ()))
        elif type(doc) is list:
            items = doc
        elif type(doc) is dict:
            items = [doc]
        else:
            raise DecodeError("not a contract or product body")
        for it in items:
            if type(it) is not dict or "name" not in it:
                raise DecodeError("a contract or product without a name")
            if "tickSize" in it:
                self.products[it["name"]] = it
            elif "productId" in it or "contractMaturityId" in it:
                self.contracts[it["id"]] = it
            else:
                raise DecodeError(f"{it.get('name')!r}: neither a contract (productId) nor a product (tickSize)")
        n = 0
        for cid, c in self.contracts.items():
            p = self.products.get(product_of(c["name"]))
            if p is None:
                continue
            tick = num(p["tickSize"])
            ct_val = num(p["valuePerPoint"])
            self.set_instrument(Instrument(VENUE, c["name"], tick, "1", ct_val, "linear", p["name"], "USD",
                                           decimals_of(tick), 0))
            self.names[cid] = c["name"]
            n += 1
        return n


class TradovateSync(Sync):
    venue = VENUE

    def on_book(self, st: BookState, seg: Segment, batch: np.ndarray) -> None:
        if st.last_ts is not None and seg.ts_exchange_ns < st.last_ts:
            st.dropped += 1
            return
        self.apply(st, seg, batch)
        st.synced = True
        st.last_ts = seg.ts_exchange_ns


Decoder = TradovateDecoder
Sync = TradovateSync
