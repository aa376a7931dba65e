"""MEXC spot v3 as the simulator serves it, as documented (MEXC Spot v3 API docs, "Websocket
Market Streams" and "Market Data Endpoints"; schemas from github.com/mexcdevelop/websocket-proto);
authenticated REST (orders, account, listen keys) and the private channels on /ws?listenKey=<key>
(`spot@private.orders|deals|account.v3.api.pb`) in sim_trade.py:

- WebSocket /ws: {"method":"SUBSCRIPTION","params":[channels]} answered
  {"id":0,"code":0,"msg":"<channels, comma-separated>"}, UNSUBSCRIPTION likewise,
  {"method":"PING"} answered {"id":0,"code":0,"msg":"PONG"}; pushes are binary frames, a
  serialized PushDataV3ApiWrapper:
  - `spot@public.aggre.depth.v3.api.pb@100ms@<SYMBOL>`: publicAggreDepths with the net
    changes since the previous push, fromVersion = previous toVersion + 1 (contiguous);
  - `spot@public.aggre.deals.v3.api.pb@100ms@<SYMBOL>`: publicAggreDeals, tradeType 1 buy /
    2 sell (the taker's side).
- REST GET /api/v3/depth {lastUpdateId, bids, asks, timestamp} (the book as of the last
  published push, lastUpdateId = its toVersion), GET /api/v3/exchangeInfo, /api/v3/ping,
  /api/v3/time.
- Futures REST GET /api/v1/contract/detail (MEXC Futures API, "Get the contract information":
  {"success":true,"code":0,"data":[..]}): the simulator trades no MEXC futures, so the list is
  empty (ccxt loads it beside the spot markets).
"""

from __future__ import annotations

import json
from typing import Any

from nexus.instruments import decimals_of
from nexus.sim import fmt
from nexus.sim.feed import Conn, Event, Feed
from nexus.sim.market import STEPS_PER_S, SELL, Fill
from nexus.sim.specs import Flow, SimInstrument, SimVenue
from nexus.venues.mexc.pb.PushDataV3ApiWrapper_pb2 import PushDataV3ApiWrapper
from nexus.venues.mexc.sim_trade import MexcTrade

VERSION_BASE = 10_589_000_000
DEPTH = "spot@public.aggre.depth.v3.api.pb@100ms"
DEALS = "spot@public.aggre.deals.v3.api.pb@100ms"


class MexcFeed(Feed):
    venue = "mexc"
    ws_path = "/ws"

    def __init__(self, vs, clock, seed=0) -> None:
        super().__init__(vs, clock, seed)
        self.depth_ch = f"{DEPTH}@{self.symbol}"
        self.deals_ch = f"{DEALS}@{self.symbol}"
        self.add_view(self.depth_ch, None, primary=True)
        self.last_v = self.version()
        self.trade = MexcTrade(self)        # authenticated REST and the private channels

    def version(self) -> int:
        return VERSION_BASE + self.vs.n_changes

    def view_seq(self, channel):
        return self.last_v if channel == self.depth_ch else None

    def _wrapper(self, channel: str, t_ns: int) -> PushDataV3ApiWrapper:
        return PushDataV3ApiWrapper(channel=channel, symbol=self.symbol, sendTime=fmt.ms(t_ns))

    def publish(self, t_ns: int) -> list[Event]:
        out: list[Event] = []
        fills = self.take_fills()
        if fills:
            out += self._deals(fills, t_ns)
        if self.step_no % (STEPS_PER_S // 10):
            return out
        view = self.views[self.depth_ch]
        if not view.changed():
            return out
        bids, asks = view.diff()
        if not bids and not asks:
            return out
        v_prev, v = self.last_v, self.version()
        self.last_v = v
        view.record(v, t_ns)
        if self.drop_book_message(self.depth_ch):
            return out
        m = self._wrapper(self.depth_ch, t_ns)
        d = m.publicAggreDepths
        for p, q in asks:
            d.asks.add(price=self.spec.px(p), quantity=self.spec.qty(q))
        for p, q in bids:
            d.bids.add(price=self.spec.px(p), quantity=self.spec.qty(q))
        d.eventType = DEPTH
        d.fromVersion = str(v_prev + 1)
        d.toVersion = str(v)
        out.append((self.depth_ch, m.SerializeToString()))
        return out

    def _deals(self, fills: list[Fill], t_ns: int) -> list[Event]:
        if not fills:
            return []
        m = self._wrapper(self.deals_ch, t_ns)
        d = m.publicAggreDeals
        for f in fills:
            d.deals.add(price=self.spec.px(f.price), quantity=self.spec.qty(f.qty),
                        tradeType=2 if f.side == SELL else 1, time=fmt.ms(f.ts_ns))
        d.eventType = DEALS
        return [(self.deals_ch, m.SerializeToString())]

    # -- connections ----------------------------------------------------------------------
    def on_open(self, conn: Conn) -> None:
        key = (getattr(conn, "query", None) or {}).get("listenKey")
        if key is not None and not self.trade.open(conn, key):
            conn.close(1008, "listenKey invalid")      # an unknown or closed listen key

    def on_text(self, conn: Conn, text: str) -> None:
        if self.faults.silent(self.clock()):
            return
        try:
            req = json.loads(text)
        except ValueError:
            req = None
        if not isinstance(req, dict) or not isinstance(req.get("method"), str):
            conn.send(fmt.compact({"id": 0, "code": 0, "msg": "Invalid request"}))
            return
        method, params = req["method"].upper(), req.get("params") or []
        if method == "PING":
            conn.send(fmt.compact({"id": 0, "code": 0, "msg": "PONG"}))
        elif method in ("SUBSCRIPTION", "UNSUBSCRIPTION"):
            ok, bad = [], []
            for ch in params:
                ch = str(ch)
                if ch in (self.depth_ch, self.deals_ch):
                    (conn.subscribe if method == "SUBSCRIPTION" else conn.unsubscribe)(ch)
                    ok.append(ch)
                elif self.trade.subscribe(conn, ch, method == "SUBSCRIPTION"):
                    ok.append(ch)
                else:
                    bad.append(ch)
            if bad:
                conn.send(fmt.compact({"id": 0, "code": 0, "msg": f"Not Subscribed successfully! [{','.join(bad)}].  "
                                       "Reason： Blocked! "}))
            if ok:
                conn.send(fmt.compact({"id": 0, "code": 0, "msg": ",".join(ok)}))
        else:
            conn.send(fmt.compact({"id": 0, "code": 0, "msg": f"Invalid method {req['method']}"}))

    def private_routes(self):
        return self.trade.routes()

    # -- REST -----------------------------------------------------------------------------
    def rest_routes(self):
        return {
            ("GET", "/api/v3/depth"): self._depth,
            ("GET", "/api/v3/exchangeInfo"): self._exchange_info,
            ("GET", "/api/v3/ping"): lambda q, b: (200, {}),
            ("GET", "/api/v1/contract/detail"): lambda q, b: (200, {"success": True, "code": 0, "data": []}),
            ("GET", "/api/v3/time"): lambda q, b: (200, {"serverTime": fmt.ms(self.clock())}),
        }

    def _bad_symbol(self, query: dict):
        sym = query.get("symbol")
        if sym is None:
            return 400, {"code": 700002, "msg": "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed."}
        if sym.upper() != self.symbol:
            return 400, {"code": -1121, "msg": "Invalid symbol."}
        return None

    def _depth(self, query: dict, _body) -> tuple[int, Any]:
        err = self._bad_symbol(query)
        if err:
            return err
        try:
            limit = max(1, min(int(query.get("limit", 100)), 5000))
        except ValueError:
            return 400, {"code": -1100, "msg": "Illegal characters found in parameter 'limit'."}
        bids, asks = self.views[self.depth_ch].top()  # the book as of the last push
        return 200, {
            "lastUpdateId": self.last_v,
            "bids": [[self.spec.px(p), self.spec.qty(q)] for p, q in bids[:limit]],
            "asks": [[self.spec.px(p), self.spec.qty(q)] for p, q in asks[:limit]],
            "timestamp": fmt.ms(self.clock()),
        }

    def _exchange_info(self, query: dict, _body) -> tuple[int, Any]:
        if query.get("symbol"):
            err = self._bad_symbol(query)
            if err:
                return err
        s = self.spec
        pd, qd = decimals_of(s.tick_str()), decimals_of(s.lot_str())
        info = {
            "symbol": s.symbol, "status": "1", "baseAsset": s.base, "baseAssetPrecision": qd,
            "quoteAsset": s.quote, "quotePrecision": pd, "quoteAssetPrecision": pd,
            "baseCommissionPrecision": qd, "quoteCommissionPrecision": pd,
            "orderTypes": ["LIMIT", "MARKET", "LIMIT_MAKER"], "isSpotTradingAllowed": True,
            "isMarginTradingAllowed": False, "quoteAmountPrecision": "1.000000000000000000",
            "baseSizePrecision": "0", "permissions": ["SPOT"], "filters": [],
            "maxQuoteAmount": "2000000.000000000000000000", "makerCommission": "0", "takerCommission": "0.0005",
            "quoteAmountPrecisionMarket": "1.000000000000000000", "maxQuoteAmountMarket": "100000.000000000000000000",
            "fullName": s.base, "tradeSideType": 1,
        }
        return 200, {"timezone": "CST", "serverTime": fmt.ms(self.clock()), "rateLimits": [],
                     "exchangeFilters": [], "symbols": [info]}


SIM = SimVenue(MexcFeed, Flow(25.0, 0.06, 20, 0.22, 0.4), {
    "BTC": SimInstrument("mexc", "BTCUSDT", "BTC", "USDT", 2, 1, 6, 1, "1", 2, 8),
    "ETH": SimInstrument("mexc", "ETHUSDT", "ETH", "USDT", 2, 1, 5, 1, "1", 2, 8),
})
