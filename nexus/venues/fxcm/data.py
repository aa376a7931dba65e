"""FXCM Socket REST API price updates: a one-level (BBO) book per symbol.

Source: FXCM Socket REST API User Guide (https://fxcm-rest.readthedocs.io/en/latest/
socketrestapispecs.html; fxcm/RestAPI on GitHub): 3.1 open the socket with the access token
(socket.io: engine.io packets "0{...}" open with sid and pingInterval, "40" connect,
"42[event, data]" events, "2" ping / "3" pong); 4.2 POST /subscribe pairs=EUR/USD answered
{"response":{"executed":true},"pairs":[{"Updated":..,"Rates":[..],"Symbol":..}]}; 4.4 price
updates: the event is the symbol, its data the JSON text
{"Updated":1504167080000,"Rates":[1.18744,1.18757,1.18901,1.18551],"Symbol":"EUR/USD"},
Rates = [bid, ask, high, low], Updated in milliseconds (guide 2.1.2: "Price updates are now
sent as milliseconds"); 5.3 GET /trading/get_model?models=Offer answered
{"response":{"executed":true},"offers":[{"currency":"EUR/USD","ratePrecision":5,"pip":
0.0001,"sell":..,"buy":..,...}]}.

Sync rules: each price update replaces the book: one bid level and one ask level. FXCM sends
no sizes: each level carries the nominal size 1 (an indicative quote, not a quantity).
An update older than the last applied one is ignored. No sequence numbers, no checksum.
Instruments: tick = 10^-ratePrecision from the Offer model; lot 1 (nominal).
Prices are JSON numbers: parsed as their decimal text, never as floats.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from nexus.exceptions import DecodeError
from nexus.instruments import Instrument
from nexus.venues.base import CONTROL, Decoder, Segment, SegKind, log, ms_to_ns
from nexus.venues.booksync import BookState, Sync

VENUE = "fxcm"
NOMINAL_SIZE = "1"


def loads(text: Any) -> Any:
    try:
        return json.loads(text, parse_float=str)
    except (ValueError, TypeError) as e:
        raise DecodeError(f"not JSON: {e}") from None


def num(v: Any) -> str:
    if type(v) is str and v and (v[0].isdigit()):
        return v
    if type(v) is int:
        return str(v)
    raise DecodeError(f"{v!r} is not a number")


def instrument(symbol: str, precision: int) -> Instrument:
    if type(precision) is not int or not 0 <= precision <= 10:
        raise DecodeError(f"{symbol}: ratePrecision {precision!r} is not between 0 and 10")
    tick = "1" if precision == 0 else "0." + "0" * (precision - 1) + "1"
    base, _, quote = symbol.partition("/")
    return Instrument(VENUE, symbol, tick, "1", "1", "spot", base, quote, precision, 0)


class FxcmDecoder(Decoder):
    venue = VENUE
    DEFAULTS = ()

    def _parse(self, raw: bytes) -> Any:
        if raw[:1] in (b"{", b"["):     # a REST body: the Offer model, the subscribe answer
            return (b"rest", loads(raw))
        if raw[:2] == b"42":
            return (b"42", loads(raw[2:]))
        if raw[:1] == b"0":
            return (b"0", loads(raw[1:]))
        if raw[:1] == b"4" or raw in (b"2", b"3", b"40", b"41"):
            return (raw[:2], None)
        raise DecodeError(f"not a socket.io packet (prefix {raw[:2]!r})")

    def _decode(self, doc: Any) -> list[Segment]:
        kind, body = doc
        if kind == b"rest":
            return self._rest(body)
        if kind == b"42":
            if type(body) is not list or len(body) != 2 or type(body[0]) is not str:
                raise DecodeError("a 42 event is not [symbol, data]")
            data = body[1]
            if type(data) is str:
                data = loads(data)
            if type(data) is not dict:
                raise DecodeError("a price update is not an object")
            if data.get("Symbol") != body[0]:
                raise DecodeError(f"a price update for {data.get('Symbol')!r} on the event {body[0]!r}")
            return self._price(data)
        if kind == b"44":
            log.warning("%s: the socket connection was refused", self.venue)
        return [CONTROL]

    def _price(self, d: dict, pos: int = 0) -> list[Segment]:
        e = self._ent(d["Symbol"])
        rates = d["Rates"]
        if type(rates) is not list or len(rates) < 2:
            raise DecodeError("'Rates' is not [bid, ask, high, low]")
        ts = ms_to_ns(d["Updated"])
        bid, ask = num(rates[0]), num(rates[1])
        stop = self._put_book(pos, e, [bid], [NOMINAL_SIZE], [ask], [NOMINAL_SIZE], ts, 0, True)
        return [Segment(SegKind.BOOK, e.inst, pos, stop, snapshot=True, ts_exchange_ns=ts)]

    def _rest(self, body: Any) -> list[Segment]:
        if type(body) is not dict or type(body.get("response")) is not dict:
            raise DecodeError("not an FXCM REST answer (no 'response')")
        if not body["response"].get("executed"):
            log.warning("%s: request not executed: %s", self.venue, body["response"].get("error"))
            return [CONTROL]
        if "offers" in body:
            self._metadata(body)
            return [CONTROL]
        segs: list[Segment] = []
        for p in body.get("pairs", ()):      # the subscribe answer: each pair's current price
            segs.extend(self._price(p, segs[-1].stop if segs else 0))
        return segs or [CONTROL]

    def _metadata(self, doc: Any) -> int:
        if type(doc) is tuple:
            doc = doc[1]
        n = 0
        for o in doc["offers"]:
            self.set_instrument(instrument(o["currency"], o["ratePrecision"]))
            n += 1
        return n


class FxcmSync(Sync):
    venue = VENUE

    def on_book(self, st: BookState, seg: Segment, batch: np.ndarray) -> None:
        if st.last_ts is not None and seg.ts_exchange_ns < st.last_ts:
            st.dropped += 1
            return
        self.apply(st, seg, batch)
        st.synced = True
        st.last_ts = seg.ts_exchange_ns


Decoder = FxcmDecoder
Sync = FxcmSync
