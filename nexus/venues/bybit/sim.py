"""Bybit v5 public linear (USDT perpetual) stream and market REST, as documented:

- https://bybit-exchange.github.io/docs/v5/ws/connect: {"op":"subscribe","args":[..],
  "req_id":..} answered {"success":true,"ret_msg":"","conn_id":..,"req_id":..,
  "op":"subscribe"}; {"op":"ping"} answered (linear) {"success":true,"ret_msg":"pong",
  "conn_id":..,"req_id":"","op":"ping"}; clients should ping every 20 s.
- https://bybit-exchange.github.io/docs/v5/websocket/public/orderbook: topic
  orderbook.{1,50,200,1000}.{symbol}, pushed every 10/20/100/200 ms; {"topic","type":
  "snapshot"|"delta","ts","data":{"s","b","a","u","seq"},"cts"}; a snapshot first, then
  deltas with u + 1 each; size "0" deletes; level 1 pushes snapshots only (again after 3 s
  without change, same u).
- https://bybit-exchange.github.io/docs/v5/websocket/public/trade: publicTrade.{symbol},
  data [{"T","s","S":"Buy"|"Sell" (taker side),"v","p","L","i","BT","seq"}].
- REST: GET /v5/market/instruments-info, GET /v5/market/orderbook, GET /v5/market/time,
  envelope {"retCode":0,"retMsg":"OK","result":..,"retExtInfo":{},"time":..}.
- Authenticated REST and the private stream (/v5/private): sim_trade.py.
"""

from __future__ import annotations

from typing import Any

from nexus.sim import fmt
from nexus.sim.market import ASK, BID, BUY, Fill
from nexus.sim.feed import Conn, Event, Feed
from nexus.sim.specs import Flow, SimInstrument, SimVenue
from nexus.venues.bybit.sim_trade import PRIVATE_PATH, BybitTrade

DEPTHS = {1: 1, 50: 2, 200: 10, 1000: 20}     # depth -> push cadence in 10 ms steps
PRIMARY_DEPTH = 50                              # what Nexus's own feed subscribes to
LEVEL1_REPEAT_STEPS = 300                       # level 1: resend the snapshot after 3 s unchanged
U_BASE = 1_000_000
SEQ_BASE = 60_000_000_000

# v5 instruments-info categories (https://bybit-exchange.github.io/docs/v5/market/instrument):
# the simulator trades `linear` only; the others exist on the venue and answer an empty list.
CATEGORIES = ("spot", "linear", "inverse", "option")


class BybitFeed(Feed):
    venue = "bybit-perp"
    ws_path = "/v5/public/linear"

    def __init__(self, vs, clock, seed=0) -> None:
        super().__init__(vs, clock, seed)
        self.u: dict[str, int] = {}
        self.last_push: dict[str, int] = {}
        for d in DEPTHS:
            ch = f"orderbook.{d}.{self.symbol}"
            self.add_view(ch, d, primary=d == PRIMARY_DEPTH)
            self.u[ch] = U_BASE
            self.last_push[ch] = 0
        self.seq = SEQ_BASE
        self.trade_n = 0
        self.last_trade_px: int | None = None
        self.last_tick = "ZeroPlusTick"
        self.trade = BybitTrade(self)       # authenticated REST and the private stream

    def view_seq(self, channel):
        return self.u.get(channel)

    # -- publishing -----------------------------------------------------------------------
    def _levels(self, levels) -> list[list[str]]:
        return [[self.spec.px(p), self.spec.qty(q)] for p, q in levels]

    def _book_msg(self, ch: str, kind: str, bids, asks, t_ns: int) -> str:
        ts = fmt.ms(t_ns)
        return fmt.compact({
            "topic": ch, "type": kind, "ts": ts,
            "data": {"s": self.spec.symbol, "b": self._levels(bids), "a": self._levels(asks),
                     "u": self.u[ch], "seq": self.seq},
            "cts": ts,
        })

    def publish(self, t_ns: int) -> list[Event]:
        out: list[Event] = []
        fills = self.take_fills()
        if fills:
            out.append((f"publicTrade.{self.spec.symbol}", self._trades(fills, t_ns)))
        for d, every in DEPTHS.items():
            if self.step_no % every:
                continue
            ch = f"orderbook.{d}.{self.spec.symbol}"
            view = self.views[ch]
            if d == 1:
                changed = bool(view.changed() and any(view.diff()))
                if not changed and self.step_no - self.last_push[ch] < LEVEL1_REPEAT_STEPS:
                    continue
                if changed:
                    self.u[ch] += 1
                    self.seq += 1
                self.last_push[ch] = self.step_no
                view.record(self.u[ch], t_ns)
                if self.drop_book_message(ch):
                    continue
                b, a = view.top()
                out.append((ch, self._book_msg(ch, "snapshot", b, a, t_ns)))
                continue
            if not view.changed():
                continue
            bids, asks = view.diff()
            if not bids and not asks:
                continue
            self.u[ch] += 1
            self.seq += 1 + (self.step_no % 3)
            view.record(self.u[ch], t_ns)
            if self.drop_book_message(ch):
                continue
            out.append((ch, self._book_msg(ch, "delta", bids, asks, t_ns)))
        return out

    def _trades(self, fills: list[Fill], t_ns: int) -> str:
        data = []
        for f in fills:
            self.trade_n += 1
            self.seq += 1
            if self.last_trade_px is not None:
                if f.price > self.last_trade_px:
                    self.last_tick = "PlusTick"
                elif f.price < self.last_trade_px:
                    self.last_tick = "MinusTick"
                elif self.last_tick in ("PlusTick", "ZeroPlusTick"):
                    self.last_tick = "ZeroPlusTick"
                else:
                    self.last_tick = "ZeroMinusTick"
            self.last_trade_px = f.price
            data.append({
                "T": fmt.ms(f.ts_ns), "s": self.spec.symbol, "S": "Buy" if f.side == BUY else "Sell",
                "v": self.spec.qty(f.qty), "p": self.spec.px(f.price), "L": self.last_tick,
                "i": self.uuid("trade", self.trade_n), "BT": False, "seq": self.seq,
            })
        return fmt.compact({"topic": f"publicTrade.{self.spec.symbol}", "type": "snapshot",
                            "ts": fmt.ms(t_ns), "data": data})

    # -- connections ----------------------------------------------------------------------
    def on_open(self, conn: Conn) -> None:
        self.conns += 1
        conn.state["conn_id"] = self.uuid("conn", self.conns)

    def _reply_text(self, conn: Conn, op: str, req_id, success: bool, msg: str) -> str:
        return fmt.compact({"success": success, "ret_msg": msg, "conn_id": conn.state["conn_id"],
                            "req_id": req_id if req_id is not None else "", "op": op})

    def _reply(self, conn: Conn, op: str, req_id, success: bool, msg: str) -> None:
        conn.send(self._reply_text(conn, op, req_id, success, msg))

    def on_text(self, conn: Conn, text: str) -> None:
        req = self.request(conn, text, self._reply_text(conn, "", None, False, "error:request not in JSON format"))
        if req is None:
            return
        if conn.path == PRIVATE_PATH:
            self.trade.on_text(conn, req)
            return
        op, req_id, args = req.get("op"), req.get("req_id"), req.get("args") or []
        if op == "ping":
            self._reply(conn, "ping", req_id, True, "pong")
        elif op == "subscribe":
            bad = [a for a in args if a not in self.views and a != f"publicTrade.{self.spec.symbol}"]
            if bad:
                self._reply(conn, "subscribe", req_id, False, f"error:handler not found,topic:{bad[0]}")
                return
            self._reply(conn, "subscribe", req_id, True, "")
            for a in args:
                conn.subscribe(a)
                if a in self.views:
                    b, s = self.views[a].top()
                    conn.send(self._book_msg(a, "snapshot", b, s, self.clock()))
        elif op == "unsubscribe":
            for a in args:
                conn.unsubscribe(a)
            self._reply(conn, "unsubscribe", req_id, True, "")
        else:
            self._reply(conn, str(op), req_id, False, f"error:unsupported op {op}")

    def ws_routes(self):
        return (self.ws_path, PRIVATE_PATH)

    def private_routes(self):
        return self.trade.routes()

    # -- REST -----------------------------------------------------------------------------
    def _env(self, result: Any, code: int = 0, msg: str = "OK") -> tuple[int, Any]:
        return 200, {"retCode": code, "retMsg": msg, "result": result, "retExtInfo": {}, "time": fmt.ms(self.clock())}

    def _instruments(self, query: dict, _body):
        category = query.get("category")
        if category not in CATEGORIES:
            return self._env({}, 10001, "params error: Category is invalid")
        sym = query.get("symbol")
        if category != "linear" or (sym and sym.upper() != self.spec.symbol):
            items = []      # a category (or symbol) the simulator does not trade: the venue's empty list
        else:
            items = [self._instrument()]
        return self._env({"category": category, "list": items, "nextPageCursor": ""})

    def _instrument(self) -> dict:
        s = self.spec
        return {
            "symbol": s.symbol, "contractType": "LinearPerpetual", "status": "Trading",
            "baseCoin": s.base, "quoteCoin": s.quote, "launchTime": "1585526400000", "deliveryTime": "0",
            "deliveryFeeRate": "", "priceScale": str(s.price_wire_dec),
            "leverageFilter": {"minLeverage": "1", "maxLeverage": "100.00", "leverageStep": "0.01"},
            "priceFilter": {"minPrice": s.px(s.tick), "maxPrice": "1999999.80", "tickSize": s.px(s.tick)},
            "lotSizeFilter": {"maxOrderQty": "1190.000", "minOrderQty": s.qty(s.lot), "qtyStep": s.qty(s.lot),
                              "postOnlyMaxOrderQty": "1190.000", "maxMktOrderQty": "500.000",
                              "minNotionalValue": "5"},
            "unifiedMarginTrade": True, "fundingInterval": 480, "settleCoin": s.quote,
            "copyTrading": "both", "upperFundingRate": "0.005", "lowerFundingRate": "-0.005",
        }

    def _orderbook(self, query: dict, _body):
        if query.get("category") != "linear":
            return self._env({}, 10001, "params error: Category is invalid")
        if (query.get("symbol") or "").upper() != self.spec.symbol:
            return self._env({}, 10001, "params error: symbol invalid")
        try:
            limit = max(1, min(500, int(query.get("limit", 25))))
        except ValueError:
            return self._env({}, 10001, "params error: limit invalid")
        t = fmt.ms(self.clock())
        ch = f"orderbook.200.{self.spec.symbol}"
        return self._env({
            "s": self.spec.symbol,
            "b": self._levels(self.vs.levels(BID, limit)), "a": self._levels(self.vs.levels(ASK, limit)),
            "ts": t, "u": self.u[ch], "seq": self.seq, "cts": t,
        })

    def _time(self, query, _body):
        t = self.clock()
        return self._env({"timeSecond": str(t // 1_000_000_000), "timeNano": str(t)})

    def rest_routes(self):
        return {
            ("GET", "/v5/market/instruments-info"): self._instruments,
            ("GET", "/v5/market/orderbook"): self._orderbook,
            ("GET", "/v5/market/time"): self._time,
        }


SIM = SimVenue(BybitFeed, Flow(30.0, 0.06, 10, 0.25, 0.7), leverage_max=100, instruments={
    "BTC": SimInstrument("bybit-perp", "BTCUSDT", "BTC", "USDT", 1, 1, 3, 1, "1", 2, 3),
    "ETH": SimInstrument("bybit-perp", "ETHUSDT", "ETH", "USDT", 2, 1, 2, 1, "1", 2, 2),
})
