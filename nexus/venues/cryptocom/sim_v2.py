"""Crypto.com Exchange Spot API v2 (v2.1), served beside Exchange API v1, as documented at
https://exchange-docs.crypto.com/spot/index.html (the Exchange v1 documentation,
https://exchange-docs.crypto.com/exchange/v1/rest-ws/index-insto-8556ea5c-4dbb-44d4-beb0-20a4d31f63a7.html,
still points there: "Spot v2.0 API has been upgraded to Spot v2.1 API with breaking change. Please
refer to Spot API v2.1 Documentation for details"). Clients written for it (cryptofeed 2.4.1's
CryptoDotCom) connect to wss://stream.crypto.com/v2/market and read
https://api.crypto.com/v2/public/get-instruments; here they are the venue's /v2/market and
/v2/public/get-instruments.

- REST GET /v2/public/get-instruments: {"id","method":"public/get-instruments","code":0,
  "result":{"instruments":[{"instrument_name","quote_currency","base_currency",
  "price_decimals","quantity_decimals","margin_trading_enabled","max_quantity",
  "min_quantity",...}]}}.
- market WebSocket /v2/market: {"id","method":"subscribe","params":{"channels":[..]},"nonce"?}
  answered {"id","method":"subscribe","code":0}; an unknown channel {"id","method","code":40003,
  "message":"INVALID_CHANNEL"} (the same codes as v1).
- `book.{instrument_name}.{depth}` (depth up to 150): the whole book {"id":-1,"method":
  "subscribe","code":0,"result":{"instrument_name","subscription","channel":"book","depth",
  "data":[{"bids":[[price, quantity, orders]],"asks":[..],"t"}]}}, sent on subscribe and then
  every 100 ms (the simulator's pace) while the book changed. No update ids: each message
  replaces the book.
- `trade.{instrument_name}`: "data":[{"dataTime","d" (trade id),"s" (taker, BUY/SELL),"p","q",
  "t","i"}].
- Numbers: Spot v2.0 wrote prices, quantities, order counts and trade ids as JSON numbers; v2.1
  (the "breaking change" the Exchange v1 documentation names) writes them as strings, as Exchange
  v1 does, here at the instrument's decimals ("65000.0", "0.0150", "3"). That is what the venue
  has been sending since: cryptofeed's own issue shows its Crypto.com book holding the venue's
  string prices, ('10.0000', '23.52') (https://github.com/bmoscon/cryptofeed/issues/953,
  2023-02), and clients of the v2 stream parse "a sequence of numbers as strings (price,
  quantity, amount)" (maxpowel/rs-crypto-com-exchange src/model/book.rs, 2023-08). Times ("t",
  "dataTime") stay numbers (ms).
- heartbeats as v1 (public/heartbeat every 30 s, answered with public/respond-heartbeat).

The Spot API lists spot pairs (BASE_QUOTE) only. The simulator trades one book per venue, its
Crypto.com instrument the USD perpetual (BTCUSD-PERP); as Gate's simulator does for its spot pair
and USDT contract, that one book is published here as the spot pair of the same coins, BTC_USD,
with the instrument's own tick and lot. v2 messages are rendered only once a v2 client
subscribed, so a run without one publishes exactly what it did before.
"""

from __future__ import annotations

import math

from nexus.sim import fmt
from nexus.sim.feed import Conn, DepthView, Event
from nexus.sim.market import BUY, Fill

WS_PATH = "/v2/market"
INSTRUMENTS_PATH = "/v2/public/get-instruments"
MAX_DEPTH = 150
V2_KEY = "v2:"                # prefix of a v2 subscription's connection key


def _decimals(step: str) -> int:
    return len(step.partition(".")[2])


class SpotV2:
    """The Spot API v2 wire of one CryptocomFeed (its book, clock and fills)."""

    def __init__(self, feed) -> None:
        self.feed = feed
        self.spec = feed.spec
        self.inst = f"{self.spec.base}_{self.spec.quote}"
        self.view = DepthView(feed.vs, MAX_DEPTH)
        self.depths: set[int] = set()      # book depths a v2 client subscribed to
        self.trades_on = False

    # -- messages -------------------------------------------------------------------------
    def _lv(self, p: int, q: int) -> list:
        orders = max(1, min(99, math.ceil(q / self.feed.order_qty)))
        return [self.spec.px(p), self.spec.qty(q), str(orders)]

    def _push(self, subscription: str, channel: str, data: list, depth: int | None = None) -> str:
        result: dict = {"instrument_name": self.inst, "subscription": subscription, "channel": channel}
        if depth is not None:
            result["depth"] = depth
        result["data"] = data
        return fmt.compact({"id": -1, "method": "subscribe", "code": 0, "result": result})

    def book(self, depth: int, t_ns: int) -> str:
        b, a = self.view.top()
        return self._push(f"book.{self.inst}.{depth}", "book", [{
            "bids": [self._lv(p, q) for p, q in b[:depth]], "asks": [self._lv(p, q) for p, q in a[:depth]],
            "t": fmt.ms(t_ns)}], depth)

    def trades(self, fills: list[Fill]) -> str:
        """The v2 message of `fills`, which the v1 wire has just numbered (same trade ids)."""
        data = []
        first = self.feed.trade_id - len(fills) + 1     # the ids v1 gave these trades just before
        for i, f in enumerate(fills):
            ms = fmt.ms(f.ts_ns)
            data.append({"dataTime": ms, "d": str(first + i), "s": "BUY" if f.side == BUY else "SELL",
                         "p": self.spec.px(f.price), "q": self.spec.qty(f.qty), "t": ms, "i": self.inst})
        return self._push(f"trade.{self.inst}", "trade", data)

    def publish(self, t_ns: int, fills: list[Fill], book_due: bool) -> list[Event]:
        out: list[Event] = []
        if fills and self.trades_on:
            out.append((V2_KEY + f"trade.{self.inst}", self.trades(fills)))
        if book_due and self.depths and self.view.changed():
            self.view.refresh()
            self.view.record(None, t_ns)
            out.extend((V2_KEY + f"book.{self.inst}.{d}", self.book(d, t_ns)) for d in sorted(self.depths))
        return out

    # -- connections ----------------------------------------------------------------------
    def _depth_of(self, channel: str) -> int | None:
        head, _, depth = channel.rpartition(".")
        if head != f"book.{self.inst}" or not depth.isdigit() or not 1 <= int(depth) <= MAX_DEPTH:
            return None
        return int(depth)

    def on_request(self, conn: Conn, rid, method: str, params: dict) -> None:
        if method not in ("subscribe", "unsubscribe"):
            conn.send(fmt.compact({"id": rid, "method": method, "code": 10004, "message": "BAD_REQUEST"}))
            return
        chans = params.get("channels")
        trade = f"trade.{self.inst}"
        known = lambda c: isinstance(c, str) and (c == trade or self._depth_of(c) is not None)  # noqa: E731
        if not isinstance(chans, list) or not chans or not all(known(c) for c in chans):
            conn.send(fmt.compact({"id": rid, "method": method, "code": 40003, "message": "INVALID_CHANNEL"}))
            return
        conn.send(fmt.compact({"id": rid, "method": method, "code": 0}))
        for c in chans:
            if method == "unsubscribe":
                conn.unsubscribe(V2_KEY + c)
                continue
            conn.subscribe(V2_KEY + c)
            if c == trade:
                self.trades_on = True
                continue
            depth = self._depth_of(c)
            assert depth is not None        # every channel was checked above
            if not self.depths:
                self.view.refresh()
            self.depths.add(depth)
            conn.send(self.book(depth, self.feed.clock()))

    # -- REST -----------------------------------------------------------------------------
    def instrument(self) -> dict:
        s = self.spec
        return {"instrument_name": self.inst, "quote_currency": s.quote, "base_currency": s.base,
                "price_decimals": _decimals(s.tick_str()), "quantity_decimals": _decimals(s.lot_str()),
                "margin_trading_enabled": False,
                "max_quantity": "100000000", "min_quantity": s.lot_str()}

    def rest_routes(self):
        return {("GET", INSTRUMENTS_PATH): lambda q, b: (200, {
            "id": 1, "method": "public/get-instruments", "code": 0, "result": {"instruments": [self.instrument()]}})}
