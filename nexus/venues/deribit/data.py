"""Deribit API v2 market data: the `book.{instrument_name}.{interval}` channel (a snapshot,
then `change` notifications chained by `change_id` / `prev_change_id`), the grouped
`book.{instrument_name}.{group}.{depth}.{interval}` channel (whole books), `trades.*`,
the REST `public/get_order_book` body (the poll path: one whole book of `depth` levels) and
the `public/get_instruments` listing (tick_size, contract_size, min_trade_amount, kind).

Sources (https://docs.deribit.com/): "Notifications" (the `subscription` envelope);
subscriptions > orderbook > book.(instrument_name).(interval) ("Each notification will contain
a change_id field, and each message except for the first one will contain a field
prev_change_id. If prev_change_id is equal to the change_id of the previous message, this
means that no messages have been missed"; levels `[action, price, amount]`, action new /
change / delete; "The amount for perpetual and futures is in USD units, for options it is in
corresponding cryptocurrency contracts"); book.(instrument_name).(group).(depth).(interval)
(no `type`: every message is a whole book of [price, amount] pairs); trades.(instrument_name)
.(interval); public/get_order_book, public/get_instruments, public/set_heartbeat and
public/test (the `heartbeat` notification with `type: test_request` must be answered with
public/test); JSON-RPC error 10028 `too_many_requests`.

Deribit writes prices and amounts as bare JSON numbers (5042.34, 30). Money is never a binary
float here, so before parsing, the number text of each book level (`["new",5042.34,30]`,
`[3955.75,30.0]`) and of the numeric keys below is quoted, as the Kraken decoder does: the
decimal text reaches parse_scaled as Deribit wrote it. A number in exponent form (an option
price of 5e-05) is rewritten as plain decimals, exactly.

Sync rules:
- A snapshot (`type: snapshot`, a grouped-channel book, or a REST get_order_book body)
  replaces the book and its `change_id` becomes the last one.
- A `change` applies when its `prev_change_id` equals the last `change_id`; a repeat of an
  older change_id is ignored (counted as dropped); anything else is a gap: the book is
  discarded until the next snapshot (a live feed resubscribes; the poll fetches one).
- No checksum.
Sizes are printed as Deribit sends them (USD for perpetuals and futures: the instrument is
`inverse` with contract value 1 USD; base coin for linear futures and options).
Trades: `direction` is the taker's side.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np

from nexus.exceptions import DecodeError
from nexus.instruments import Instrument, decimals_of
from nexus.venues.base import (
    CONTROL, Decoder, Segment, SegKind, TradeFields, columns, log, ms_to_ns, seq_int,
)
from nexus.venues.booksync import BookState, Sync

VENUE = "deribit"
TOO_MANY_REQUESTS = 10028
ACTIONS = frozenset({"new", "change", "delete"})
_NUM = rb"(-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)"
LEVEL_TRIPLE = re.compile(rb'\[\s*"(new|change|delete)"\s*,\s*' + _NUM + rb"\s*,\s*" + _NUM + rb"\s*\]")
LEVEL_PAIR = re.compile(rb"\[\s*" + _NUM + rb"\s*,\s*" + _NUM + rb"\s*\]")
NUMERIC_KEYS = re.compile(rb'"(price|amount|tick_size|contract_size|min_trade_amount|strike)"\s*:\s*' + _NUM)


def _text(v: Any) -> str:
    """A quoted number's text, exponent forms made plain (exact)."""
    if type(v) is str:
        if "e" in v or "E" in v:
            try:
                return format(Decimal(v), "f")
            except InvalidOperation:
                raise DecodeError(f"{v!r} is not a decimal number") from None
        return v
    if type(v) is int:
        return str(v)
    raise DecodeError(f"{v!r} is not a decimal number")


def _texts(vals) -> list[str]:
    return [v if type(v) is str and "e" not in v and "E" not in v else _text(v) for v in vals]


TRADE_FIELDS = TradeFields("instrument_name", "timestamp", ms_to_ns, "price", "amount", "direction", "buy", "sell",
                           "trade_id", text=_text)


def instrument(doc: dict) -> Instrument:
    """One `public/get_instruments` entry -> Instrument. Amounts: USD for inverse futures and
    perpetuals (instrument_type "reversed"), the base coin otherwise: contract value 1."""
    kind = doc.get("kind")
    tick, lot = _text(doc["tick_size"]), _text(doc["min_trade_amount"])
    if kind == "spot":
        ckind = "spot"
    elif kind in ("future", "future_combo") and "reversed" in (doc.get("instrument_type"), doc.get("future_type")):
        ckind = "inverse"
    else:
        ckind = "linear"  # linear futures, and options (priced in the coin, amount in coin contracts)
    base = doc.get("base_currency", "")
    quote = doc.get("counter_currency") or doc.get("quote_currency", "")
    pe = decimals_of(tick)
    for step in doc.get("tick_size_steps") or ():  # options: a coarser tick above a price
        pe = max(pe, decimals_of(_text(step["tick_size"])))
    return Instrument(VENUE, doc["instrument_name"], tick, lot, "1", ckind, base, quote, pe, decimals_of(lot))


class DeribitDecoder(Decoder):
    venue = VENUE

    def _parse(self, raw: bytes) -> Any:
        if b"[" in raw:
            raw = LEVEL_TRIPLE.sub(rb'["\1","\2","\3"]', raw)
            raw = LEVEL_PAIR.sub(rb'["\1","\2"]', raw)
        raw = NUMERIC_KEYS.sub(rb'"\1":"\2"', raw)
        return super()._parse(raw)

    def _decode(self, doc: Any) -> list[Segment]:
        if type(doc) is not dict:
            raise DecodeError("expected a JSON-RPC object")
        method = doc.get("method")
        if method == "subscription":
            params = doc["params"]
            channel, data = params["channel"], params["data"]
            if type(channel) is not str:
                raise DecodeError("params.channel is not a string")
            if channel.startswith("book."):
                return self._book(data)
            if channel.startswith("trades."):
                return self._trade_message(data, "'data'", TRADE_FIELDS)
            return [CONTROL]  # ticker, quote, ... : not book data
        if method == "heartbeat":  # heartbeat / test_request (answered by the connection)
            return [CONTROL]
        if "error" in doc:
            err = doc["error"]
            code = err.get("code") if type(err) is dict else None
            log.warning("%s: the venue reported an error: %s %s", self.venue, code,
                        err.get("message") if type(err) is dict else err)
            return [CONTROL]
        if "result" in doc:
            r = doc["result"]
            if type(r) is dict and "bids" in r and "asks" in r:
                return self._book(r, rest=True)
            if type(r) is list and r and type(r[0]) is dict and "tick_size" in r[0]:
                self._metadata(doc)
            return [CONTROL]  # subscribe ack, set_heartbeat "ok", public/test version
        raise DecodeError("not a Deribit JSON-RPC message (no method, result or error)")

    def _levels(self, levels: Any, what: str, snapshot: bool) -> tuple[list[str], list[str]]:
        if type(levels) is not list:
            raise DecodeError(f"{what}: expected an array of levels")
        if not levels:
            return [], []
        if type(levels[0]) is list and len(levels[0]) == 3:  # [action, price, amount]
            for lv in levels:
                if type(lv) is not list or len(lv) != 3 or lv[0] not in ACTIONS:
                    raise DecodeError(f"{what}: every level must be [new|change|delete, price, amount]")
                if snapshot and lv[0] != "new":
                    raise DecodeError(f"{what}: a snapshot level must be 'new', got {lv[0]!r}")
            return (_texts(lv[1] for lv in levels),
                    _texts("0" if lv[0] == "delete" else lv[2] for lv in levels))
        px, qty = columns(levels, what)  # [price, amount]: a whole book (grouped channel, REST)
        return _texts(px), _texts(qty)

    def _book(self, d: Any, rest: bool = False) -> list[Segment]:
        if type(d) is not dict:
            raise DecodeError("book data is not an object")
        typ = d.get("type", "snapshot")  # grouped channel and REST: whole books, no type
        if typ not in ("snapshot", "change"):
            raise DecodeError(f"book type {typ!r} is neither snapshot nor change")
        snapshot = typ == "snapshot"
        e = self._ent(d["instrument_name"])
        seq = seq_int(d["change_id"], "change_id")
        prev = d.get("prev_change_id")
        if prev is not None:
            prev = seq_int(prev, "prev_change_id")
        ts = ms_to_ns(d["timestamp"])
        bp, bq = self._levels(d["bids"], "bids", snapshot)
        ap, aq = self._levels(d["asks"], "asks", snapshot)
        stop = self._put_book(0, e, bp, bq, ap, aq, ts, seq, snapshot)
        return [Segment(SegKind.BOOK, e.inst, 0, stop, snapshot=snapshot, seq=seq, prev_seq=prev,
                        ts_exchange_ns=ts, rest=rest)]

    def _metadata(self, doc: Any) -> int:
        n = 0
        for s in doc["result"]:
            self.set_instrument(instrument(s))
            n += 1
        return n


def throttled(body: bytes) -> bool:
    """A poll answer that is Deribit's rate-limit error (code 10028, too_many_requests)."""
    return b"10028" in body and b"too_many_requests" in body


class DeribitSync(Sync):
    venue = VENUE

    def on_book(self, st: BookState, seg: Segment, batch: np.ndarray) -> None:
        if seg.snapshot:
            self.apply(st, seg, batch)
            st.synced = True
        elif not st.synced:
            st.dropped += 1
            return
        elif seg.prev_seq is None:
            self.desync(st, "a change without prev_change_id", gap=True)
            return
        elif seg.prev_seq == st.last_seq:
            self.apply(st, seg, batch)
        elif st.last_seq is not None and seg.seq <= st.last_seq:
            st.dropped += 1  # an older change again
            return
        else:
            self.desync(st, f"gap: prev_change_id={seg.prev_seq} after change_id={st.last_seq}", gap=True)
            return
        st.last_seq, st.last_prev = seg.seq, seg.prev_seq


Decoder = DeribitDecoder
Sync = DeribitSync
