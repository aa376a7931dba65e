"""Crypto.com Exchange API v1 as the simulator serves it
(https://exchange-docs.crypto.com/exchange/v1/rest-ws/index.html):

- market WebSocket /exchange/v1/market: {"id","method":"subscribe","params":{"channels":[..],
  "book_subscription_type":"SNAPSHOT_AND_UPDATE","book_update_frequency":10}} answered
  {"id","method":"subscribe","code":0}; then, per channel, {"id":-1,"method":"subscribe",
  "code":0,"result":{"instrument_name","subscription","channel","depth"?,"data":[..]}}.
- `book.{instrument}.{depth}` (depth 10 or 50): the `book` snapshot {"bids":[[price, qty,
  orders]],"asks","t","tt","u"} on subscribe, then every 100 ms (the simulator's pace) a
  `book.update` {"update":{"bids","asks"},"t","tt","u","pu"} with `pu` the previous `u`; levels
  leaving the depth are sent with quantity "0".
  Without book_subscription_type (or with "SNAPSHOT", the venue's default) the subscription
  gets the full `book` snapshot every 500 ms instead (the venue's only SNAPSHOT frequency since
  the 100 ms one was removed on 2025-02-27, https://exchange-docs.crypto.com "Breaking Change
  Schedule"); an unknown type is refused (10004).
- `trade.{instrument}`: [{"d","t","p","q","s" (taker, BUY/SELL),"i","m"}].
- every 30 s {"id":<ms>,"method":"public/heartbeat","code":0}; a connection that has not
  answered with public/respond-heartbeat (same id) by the next one is closed.
- REST GET /exchange/v1/public/get-instruments.
- Spot API v2 (wss://stream.crypto.com/v2/market, /v2/public/get-instruments), which
  cryptofeed 2.4.1 speaks, is served beside v1 at /v2/market: sim_v2.py.
Prices are written at the tick's decimals ("64999.5"), quantities at the lot's ("0.0150").
"""

from __future__ import annotations

import math

from nexus.sim import fmt
from nexus.sim.market import BUY, Fill
from nexus.sim.feed import Conn, Event, Feed
from nexus.sim.specs import Flow, SimInstrument, SimVenue
from nexus.venues.cryptocom import sim_v2

BOOK_EVERY = 10
SNAPSHOT_EVERY = 50           # 500 ms: book_subscription_type SNAPSHOT
SNAP = "@snapshot"            # suffix of the connection key of a SNAPSHOT subscription
DEPTHS = (10, 50)
U_BASE = 542_048_000_000
TRADE_ID_BASE = 2_030_407_000
HEARTBEAT_S = 30


class CryptocomFeed(Feed):
    venue = "cryptocom"
    ws_path = "/exchange/v1/market"

    def ws_routes(self):
        return (self.ws_path, sim_v2.WS_PATH)

    def __init__(self, vs, clock, seed=0) -> None:
        super().__init__(vs, clock, seed)
        self.inst = self.symbol
        for d in DEPTHS:
            self.add_view(f"book.{self.inst}.{d}", d, primary=d == 50)
        self.u = {f"book.{self.inst}.{d}": U_BASE for d in DEPTHS}
        self.trade_id = TRADE_ID_BASE
        self.snapshots_on = False    # a SNAPSHOT subscription was made: whole books every 500 ms
        self.v2 = sim_v2.SpotV2(self)

    def view_seq(self, channel):
        return self.u[channel]

    def book_channels(self):
        return list(self.u)

    def _lv(self, p: int, q: int) -> list[str]:
        orders = 0 if q == 0 else max(1, min(99, math.ceil(q / self.order_qty)))
        return [self.spec.px(p), self.spec.qty(q), str(orders)]

    def _result(self, channel: str, kind: str, data: list) -> str:
        depth = int(channel.rsplit(".", 1)[1])
        return fmt.compact({"id": -1, "method": "subscribe", "code": 0, "result": {
            "instrument_name": self.inst, "subscription": channel, "channel": kind, "depth": depth, "data": data}})

    def snapshot(self, channel: str, t_ns: int) -> str:
        b, a = self.views[channel].top()
        ms = fmt.ms(t_ns)
        return self._result(channel, "book", [{"asks": [self._lv(p, q) for p, q in a],
                                               "bids": [self._lv(p, q) for p, q in b],
                                               "t": ms, "tt": ms, "u": self.u[channel]}])

    def publish(self, t_ns: int) -> list[Event]:
        out: list[Event] = []
        fills = self.take_fills()
        if fills:
            out.append((f"trade.{self.inst}", self._trades(fills)))
        out.extend(self.v2.publish(t_ns, fills, self.step_no % BOOK_EVERY == 0))
        if self.step_no % BOOK_EVERY:
            return out
        ms = fmt.ms(t_ns)
        for ch, view in self.views.items():
            if not view.changed():
                continue
            bids, asks = view.diff()
            if not (bids or asks):
                continue
            pu = self.u[ch]
            self.u[ch] = pu + len(bids) + len(asks)
            view.record(self.u[ch], t_ns)
            if self.drop_book_message(ch):
                continue
            out.append((ch, self._result(ch, "book.update", [{
                "update": {"asks": [self._lv(p, q) for p, q in asks], "bids": [self._lv(p, q) for p, q in bids]},
                "t": ms, "tt": ms, "u": self.u[ch], "pu": pu}])))
        if self.snapshots_on and self.step_no % SNAPSHOT_EVERY == 0:
            out.extend((ch + SNAP, self.snapshot(ch, t_ns)) for ch in self.views)
        return out

    def _trades(self, fills: list[Fill]) -> str:
        data = []
        for f in fills:
            self.trade_id += 1
            data.append({"d": str(self.trade_id), "t": fmt.ms(f.ts_ns), "p": self.spec.px(f.price),
                         "q": self.spec.qty(f.qty), "s": "BUY" if f.side == BUY else "SELL", "i": self.inst,
                         "m": str(self.trade_id * 3)})
        return fmt.compact({"id": -1, "method": "subscribe", "code": 0, "result": {
            "instrument_name": self.inst, "subscription": f"trade.{self.inst}", "channel": "trade", "data": data}})

    # -- connections ----------------------------------------------------------------------
    def on_open(self, conn: Conn) -> None:
        conn.state["hb_next_ns"] = self.clock() + HEARTBEAT_S * 1_000_000_000

    def on_text(self, conn: Conn, text: str) -> None:
        req = self.request(conn, text, fmt.compact({"id": -1, "code": 10004, "message": "BAD_REQUEST"}))
        if req is None:
            return
        rid, method, params = req.get("id"), req.get("method"), req.get("params") or {}
        if method == "public/respond-heartbeat":
            if rid == conn.state.get("hb_id"):
                conn.state["hb_id"] = None
            return
        if conn.path == sim_v2.WS_PATH:
            self.v2.on_request(conn, rid, method, params)
            return
        if method not in ("subscribe", "unsubscribe"):
            conn.send(fmt.compact({"id": rid, "method": method, "code": 10004, "message": "BAD_REQUEST"}))
            return
        chans = params.get("channels")
        known = set(self.views) | {f"trade.{self.inst}"}
        if not isinstance(chans, list) or not chans or not all(c in known for c in chans):
            conn.send(fmt.compact({"id": rid, "method": method, "code": 40003, "message": "INVALID_CHANNEL"}))
            return
        kind = params.get("book_subscription_type", "SNAPSHOT")
        if kind not in ("SNAPSHOT", "SNAPSHOT_AND_UPDATE"):
            conn.send(fmt.compact({"id": rid, "method": method, "code": 10004, "message": "BAD_REQUEST"}))
            return
        conn.send(fmt.compact({"id": rid, "method": method, "code": 0}))
        for c in chans:
            key = c + SNAP if c in self.views and kind == "SNAPSHOT" else c
            if key != c and method == "subscribe":
                self.snapshots_on = True
            if method == "subscribe":
                conn.subscribe(key)
                if c in self.views:
                    conn.send(self.snapshot(c, self.clock()))
            else:
                conn.unsubscribe(c)
                conn.unsubscribe(c + SNAP)

    def on_second(self, conn: Conn, t_ns: int) -> None:
        if t_ns < conn.state.get("hb_next_ns", 0):
            return
        if conn.state.get("hb_id") is not None:
            conn.close(1000, "heartbeat not answered")
            return
        conn.state["hb_id"] = fmt.ms(t_ns)
        conn.state["hb_next_ns"] = t_ns + HEARTBEAT_S * 1_000_000_000
        conn.send(fmt.compact({"id": conn.state["hb_id"], "method": "public/heartbeat", "code": 0}))

    # -- REST -----------------------------------------------------------------------------
    def instrument(self) -> dict:
        s = self.spec
        return {"symbol": s.symbol, "inst_type": "PERPETUAL_SWAP", "display_name": f"{s.base}USD Perpetual",
                "base_ccy": s.base, "quote_ccy": "USD", "quote_decimals": s.price_dec, "quantity_decimals": s.qty_dec,
                "price_tick_size": s.tick_str(), "qty_tick_size": s.lot_str(), "max_leverage": "100",
                "tradable": True, "expiry_timestamp_ms": 0, "underlying_symbol": f"{s.base}USD-INDEX",
                "contract_size": "1"}

    def rest_routes(self):
        return {("GET", "/exchange/v1/public/get-instruments"): lambda q, b: (200, {
            "id": 1, "method": "public/get-instruments", "code": 0, "result": {"data": [self.instrument()]}}),
            **self.v2.rest_routes()}


SIM = SimVenue(CryptocomFeed, Flow(16.0, 0.07, 35, 0.30, 0.4), leverage_max=100, instruments={
    "BTC": SimInstrument("cryptocom", "BTCUSD-PERP", "BTC", "USD", 1, 1, 4, 1, "1", 1, 4),
    "ETH": SimInstrument("cryptocom", "ETHUSD-PERP", "ETH", "USD", 2, 1, 4, 1, "1", 2, 4),
})
