"""Gate v4: spot and USDT-settled futures order books (`spot.order_book_update`,
`futures.order_book_update`) against a REST snapshot, trades (`spot.trades`, `futures.trades`),
instruments from `GET /api/v4/spot/currency_pairs` and `GET /api/v4/futures/usdt/contracts`.

Sources: Gate API v4 docs (https://www.gate.io/docs/developers/apiv4/ws/en/ "Changed order
book levels" spot.order_book_update, "Public trades channel" spot.trades,
https://www.gate.io/docs/developers/futures/ws/en/ "Order book update" futures.order_book_update,
"Trades notification" futures.trades; REST https://www.gate.io/docs/developers/apiv4/en/
"Retrieve order book" with `with_id=true`, "List all currency pairs supported", "List all
futures contracts"); the procedure "How to maintain local order book" in both WebSocket docs
and Gate's announcement "Futures API upgrade (New orderbook API with 10ms update)".

Spot and futures in one venue: a Gate futures contract is named like the spot pair
("BTC_USDT"), so Nexus names it with its settle currency: spot "BTC_USDT" (`--symbol BTCUSDT`),
USDT-settled futures "BTC_USDT:USDT" (`--symbol BTCUSDT:USDT`). The channel name says which a
WebSocket message belongs to; a REST order book body carries no name (the `--symbol` names it),
and its level shape tells spot (["p","s"]) from futures ({"p","s"}) apart.

Sync (the documented procedure, spot and futures alike; `GateSync`):
1. Cache the updates; each carries U (first) and u (last update id).
2. Get the REST book with `with_id=true`: its `id` is baseID.
3. Drop cached updates with u < baseID + 1; the first one kept must have U <= baseID + 1
   (if baseID + 1 < its U, the REST book is behind: get another one).
4. Apply it and every later one; each must have U == previous u + 1, else the book is
   discarded and rebuilt from a new REST book. Sizes are absolute; 0 removes the level.
A spot update flagged `"full": true` carries the whole book and replaces it.

Futures sizes are contracts (JSON integers, or decimal strings where the account asked for
decimal sizes); the instrument's contract value is the contract's `quanto_multiplier`, so the
base quantity is contracts x quanto_multiplier (Instrument.base_qty); normalize prints
contracts, as Gate sends them. A futures trade's `size` is signed: negative means the taker
sold; the record carries its absolute value.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nexus.exceptions import DecodeError
from nexus.instruments import Instrument, decimals_of
from nexus.venues.base import CONTROL, Decoder, Segment, SegKind, log, ms_to_ns, seq_int, side_buy, trade_id_int
from nexus.venues.binance.data import BinanceSync
from nexus.venues.booksync import BookState

VENUE = "gate"
SETTLE = "USDT"
FUTURES_SUFFIX = ":" + SETTLE
IGNORED_CHANNELS = frozenset({"spot.ping", "futures.ping", "spot.pong", "futures.pong", "spot.tickers",
                              "futures.tickers", "spot.book_ticker", "futures.book_ticker",
                              "spot.order_book", "futures.order_book", "spot.candlesticks",
                              "futures.candlesticks"})


def futures_symbol(contract: str) -> str:
    return contract + FUTURES_SUFFIX


def spot_instrument(pair: str, precision: int, amount_precision: int, base: str = "", quote: str = "") -> Instrument:
    tick = _pow10(precision)
    step = _pow10(amount_precision)
    return Instrument(VENUE, pair, tick, step, "1", "spot", base, quote, precision, amount_precision)


def futures_instrument(contract: str, price_round: str, quanto: str, size_step: str = "1") -> Instrument:
    base, _, quote = contract.partition("_")
    return Instrument(VENUE, futures_symbol(contract), price_round, size_step, quanto, "linear", base, quote,
                      decimals_of(price_round), decimals_of(size_step))


def _pow10(decimals: Any) -> str:
    if type(decimals) is not int or not 0 <= decimals <= 18:
        raise DecodeError(f"precision {decimals!r} is not a number of decimals")
    return "1" if decimals == 0 else "0." + "0" * (decimals - 1) + "1"


def _size_text(v: Any, what: str) -> str:
    """A futures size (contracts): a JSON integer or a decimal string -> its text, unsigned."""
    if type(v) is int:
        return str(-v if v < 0 else v)
    if type(v) is str and v:
        return v[1:] if v[0] == "-" else v
    raise DecodeError(f"{what}: size {v!r} is neither an integer nor a decimal string")


def _size_negative(v: Any) -> bool:
    return (type(v) is int and v < 0) or (type(v) is str and v.startswith("-"))


def _spot_levels(levels: Any, what: str) -> tuple[list[str], list[str]]:
    if type(levels) is not list:
        raise DecodeError(f"{what}: expected an array of levels")
    px, qty = [], []
    for lv in levels:
        if type(lv) is not list or len(lv) < 2 or type(lv[0]) is not str or type(lv[1]) is not str:
            raise DecodeError(f"{what}: every level must be [price, size] as decimal strings")
        px.append(lv[0])
        qty.append(lv[1])
    return px, qty


def _futures_levels(levels: Any, what: str) -> tuple[list[str], list[str]]:
    if type(levels) is not list:
        raise DecodeError(f"{what}: expected an array of levels")
    px, qty = [], []
    for lv in levels:
        if type(lv) is not dict or type(lv.get("p")) is not str:
            raise DecodeError(f"{what}: every level must be an object {{p, s}} with p a decimal string")
        if _size_negative(lv["s"]):
            raise DecodeError(f"{what}: an order book size is negative")
        px.append(lv["p"])
        qty.append(_size_text(lv["s"], what))
    return px, qty


def _ts_ms(v: Any) -> int:
    """Milliseconds: an integer, or "1606292218213.4578" (spot trades' create_time_ms)."""
    if type(v) is str and "." in v:
        whole, _, frac = v.partition(".")
        if not whole.isdigit() or not frac.isdigit():
            raise DecodeError(f"timestamp {v!r} is not milliseconds")
        return ms_to_ns(int(whole)) + int(frac[:6].ljust(6, "0"))
    return ms_to_ns(v)


class GateDecoder(Decoder):
    venue = VENUE

    def _decode(self, doc: Any) -> list[Segment]:
        if type(doc) is list or (type(doc) is dict and ("quanto_multiplier" in doc or "amount_precision" in doc)):
            self._metadata(doc)  # a pair or contract listing body (recorded before the stream)
            return [CONTROL]
        if type(doc) is not dict:
            raise DecodeError("expected a JSON object")
        channel = doc.get("channel")
        if channel is None:
            if "id" in doc and "asks" in doc and "bids" in doc:
                return self._rest_book(doc)
            if "label" in doc and "message" in doc:  # REST error {"label","message"}
                log.warning("%s: the venue reported an error: %s %s", self.venue, doc["label"], doc["message"])
                return [CONTROL]
            raise DecodeError("not a Gate message this decoder knows (no channel, not a REST order book)")
        if type(channel) is not str:
            raise DecodeError("'channel' is not a string")
        event = doc.get("event")
        if event in ("subscribe", "unsubscribe") or doc.get("error"):
            if doc.get("error"):
                log.warning("%s: the venue reported an error: %s", self.venue, doc["error"])
            return [CONTROL]
        if channel in IGNORED_CHANNELS:
            return [CONTROL]
        if event != "update" and event != "all":
            raise DecodeError(f"event {event!r} is not update")
        result = doc["result"]
        if channel == "spot.order_book_update":
            return self._update(result, False)
        if channel == "futures.order_book_update":
            return self._update(result, True)
        if channel == "spot.trades":
            return self._spot_trade(result)
        if channel == "futures.trades":
            return self._futures_trades(result)
        raise DecodeError(f"channel {channel!r} is not one this decoder knows")

    def _update(self, r: Any, futures: bool) -> list[Segment]:
        if type(r) is not dict:
            raise DecodeError("'result' is not an object")
        sym = r["s"]
        if type(sym) is not str:
            raise DecodeError("'s' is not a string")
        e = self._ent(futures_symbol(sym) if futures else sym)
        last = seq_int(r["u"], "u")
        full = r.get("full") is True and not futures
        first = last if full and "U" not in r else seq_int(r["U"], "U")
        if first > last:
            raise DecodeError(f"first update id U={first} is after the last one u={last}")
        ts = ms_to_ns(r["t"])
        levels = _futures_levels if futures else _spot_levels
        bp, bq = levels(r.get("b", []), "b")
        ap, aq = levels(r.get("a", []), "a")
        stop = self._put_book(0, e, bp, bq, ap, aq, ts, last, full)
        return [Segment(SegKind.BOOK, e.inst, 0, stop, snapshot=full, seq=last, first_seq=first,
                        ts_exchange_ns=ts)]

    def _rest_book(self, d: dict) -> list[Segment]:
        if self.rest_symbol is None:
            raise DecodeError("a REST order book carries no symbol: name it with --symbol")
        base_id = seq_int(d["id"], "id")
        asks, bids = d["asks"], d["bids"]
        sample = (asks or bids or [None])[0]
        futures = type(sample) is dict or (sample is None and self.rest_symbol.endswith(FUTURES_SUFFIX))
        if futures != self.rest_symbol.endswith(FUTURES_SUFFIX):
            raise DecodeError(f"a {'futures' if futures else 'spot'} order book given for {self.rest_symbol!r}")
        levels = _futures_levels if futures else _spot_levels
        bp, bq = levels(bids, "bids")
        ap, aq = levels(asks, "asks")
        e = self._ent(self.rest_symbol)
        ts = _rest_time(d.get("update", d.get("current")))
        stop = self._put_book(0, e, bp, bq, ap, aq, ts, base_id, True)
        return [Segment(SegKind.BOOK, e.inst, 0, stop, snapshot=True, seq=base_id, ts_exchange_ns=ts or None,
                        rest=True)]

    def _spot_trade(self, r: Any) -> list[Segment]:
        if type(r) is not dict:
            raise DecodeError("'result' is not an object")
        e = self._ent(r["currency_pair"])
        ts = _ts_ms(r["create_time_ms"])
        buy = side_buy(r["side"], "buy", "sell")
        tid = r["id"]
        stop = self._put_trade(0, e, r["price"], r["amount"], buy, trade_id_int(tid), ts)
        return [Segment(SegKind.TRADES, e.inst, 0, stop, ts_exchange_ns=ts, trade_ids=[str(tid)])]

    def _futures_trades(self, result: Any) -> list[Segment]:
        if type(result) is not list:
            raise DecodeError("futures.trades 'result' is not an array")
        segs: list[Segment] = []
        pos = 0
        for t in result:
            if type(t) is not dict:
                raise DecodeError("a futures trade is not an object")
            e = self._ent(futures_symbol(t["contract"]))
            ts = _ts_ms(t["create_time_ms"]) if "create_time_ms" in t else ms_to_ns(t["create_time"] * 1000)
            size = t["size"]
            tid = t["id"]
            start = pos
            pos = self._put_trade(pos, e, t["price"], _size_text(size, "size"), not _size_negative(size),
                                  trade_id_int(tid), ts)
            if segs and segs[-1].inst is e.inst:
                segs[-1].stop = pos
                segs[-1].trade_ids.append(str(tid))
            else:
                segs.append(Segment(SegKind.TRADES, e.inst, start, pos, ts_exchange_ns=ts, trade_ids=[str(tid)]))
        return segs or [CONTROL]

    def _metadata(self, doc: Any) -> int:
        """A currency pair or contract object, or a list of them (the two listings)."""
        items = doc if type(doc) is list else [doc]
        n = 0
        for s in items:
            if type(s) is not dict:
                raise DecodeError("an instrument entry is not an object")
            if "quanto_multiplier" in s:
                if s.get("in_delisting") is True and s.get("status") == "delisted":
                    continue
                self.set_instrument(futures_instrument(s["name"], s["order_price_round"], s["quanto_multiplier"]))
            elif "amount_precision" in s and "precision" in s:
                self.set_instrument(spot_instrument(s["id"], s["precision"], s["amount_precision"],
                                                    s.get("base", ""), s.get("quote", "")))
            else:
                raise DecodeError("neither a currency pair (precision, amount_precision) nor a futures "
                                  "contract (quanto_multiplier)")
            n += 1
        return n


def _rest_time(v: Any) -> int:
    """The REST book's `update`: ms (spot, an integer) or seconds with a fraction (futures)."""
    if v is None:
        return 0
    if type(v) is int:
        return ms_to_ns(v)
    if type(v) is float:
        text = repr(v)
        whole, _, frac = text.partition(".")
        if not whole.isdigit() or not frac.isdigit():
            raise DecodeError(f"timestamp {v!r} is not seconds")
        return int(whole) * 1_000_000_000 + int(frac[:9].ljust(9, "0"))
    raise DecodeError(f"timestamp {v!r} is not a number")


class GateSync(BinanceSync):
    """BinanceSync's buffering and snapshot matching with Gate's rules (baseID = REST `id`)."""

    venue = VENUE

    def still_needed(self, last_update_id: int, final: int) -> bool:
        return final >= last_update_id + 1  # dump u < baseID + 1

    def connects(self, last_update_id: int, item: tuple) -> bool:
        return item[0] <= last_update_id + 1  # U <= baseID + 1 <= u

    def on_book(self, st: BookState, seg: Segment, batch: np.ndarray) -> None:
        if seg.snapshot and not seg.rest:  # spot "full": true: the whole book, its id is u
            st.buffer, st.buffered_records = [], 0
            self.apply(st, seg, batch)  # its first record is a BOOK_CLEAR
            st.synced, st.checksum_bad = True, False
            st.last_seq, st.last_prev = seg.seq, None
            return
        super().on_book(st, seg, batch)

    def step(self, st: BookState, first: int, final: int, prev: int | None, recs: np.ndarray, n: int) -> None:
        if final <= st.last_seq:
            st.dropped += 1
        elif first > st.last_seq + 1:
            self.gap(st, f"gap: U={first} after update id {st.last_seq}", (first, final, prev, recs[:n].copy()))
        else:
            self.apply_delta(st, final, prev, recs, n)


Decoder = GateDecoder
Sync = GateSync
