"""Binance spot and USD-M futures market streams and REST, as documented:

- spot streams: https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams
  (github.com/binance/binance-spot-api-docs web-socket-streams.md): raw streams at
  /ws/<stream>, combined at /stream?streams=a/b wrapped {"stream":..,"data":..}, live
  SUBSCRIBE/UNSUBSCRIBE/LIST_SUBSCRIPTIONS/SET_PROPERTY/GET_PROPERTY answered
  {"result":null,"id":..}; `depthUpdate` {e,E,s,U,u,b,a} with contiguous update ids;
  `trade` {e,E,s,t,p,q,T,m,M}; `aggTrade` {e,E,s,a,p,q,f,l,T,m,M}; partial depth
  {lastUpdateId,bids,asks}; a ping frame every 20 s.
- spot REST: GET /api/v3/depth {lastUpdateId,bids,asks}, GET /api/v3/exchangeInfo.
- USD-M futures: https://developers.binance.com/docs/derivatives/usds-margined-futures/
  websocket-market-streams: `depthUpdate` {e,E,T,s,U,u,pu,b,a} where pu is the previous
  event's u and ids are not contiguous; `aggTrade` {e,E,s,a,p,q,f,l,T,m}; `trade`
  {e,E,T,s,t,p,q,X,m}; a ping frame every 3 minutes; REST GET /fapi/v1/depth
  {lastUpdateId,E,T,bids,asks}, GET /fapi/v1/exchangeInfo; partial depth <symbol>@depth<5|10|20>
  [@500ms|@100ms] (250 ms by default): the top levels whole as {e,E,T,s,U,u,pu,b,a}. Since Binance's 2026-03-06
  announcement the streams are served under /public (depth, bookTicker) and /market (aggTrade,
  trade, ...), user data under /private (see BinancePerpFeed.ws_prefixes).

Book sync for a client: spot — drop events with u <= lastUpdateId, the first applied event
has U <= lastUpdateId+1 <= u, then U == previous u + 1. Futures — drop u < lastUpdateId,
the first applied has U <= lastUpdateId <= u, then pu == previous u. The REST snapshot is the
live book at its lastUpdateId, so either rule rebuilds exactly the streamed view.
"""

from __future__ import annotations

import json
from typing import Any

from nexus.sim import fmt
from nexus.sim.market import ASK, BID, SELL, STEPS_PER_S, Fill
from nexus.sim.feed import Conn, Event, Feed
from nexus.sim.specs import Flow, SimInstrument, SimVenue
from nexus.venues.binance.sim_trade import BinanceTrade

SPOT_UID_BASE = 50_000_000_000
PERP_UID_BASE = 7_000_000_000_000
PERP_UID_STRIDE = 3          # futures update ids advance by 3 per book change (not contiguous)


def _stream(name: str) -> str:
    """Stream names carry the symbol in lower case; the rest (aggTrade, depth@100ms) as is."""
    sym, at, rest = name.partition("@")
    return sym.lower() + at + rest


def _split(q: int, k: int, lot: int) -> list[int]:
    lots = q // lot
    k = max(1, min(k, lots))
    part = lots // k
    out = [part * lot] * k
    out[-1] += q - part * lot * k
    return out


class BinanceFeed(Feed):
    ws_path = "/ws"
    futures = False
    depth_streams: dict[str, int] = {}      # suffix -> cadence (steps)
    ping_every_s = 20
    max_limit = 5000
    ws_prefixes: tuple[str, ...] = ("",)

    def __init__(self, vs, clock, seed=0) -> None:
        super().__init__(vs, clock, seed)
        self.s = self.spec.symbol.lower()
        self.last_u: dict[str, int] = {}
        self.partial_u: dict[str, int] = {}     # futures partial depth streams: their last u
        self.partials_on = False                # a connection has subscribed to one
        for suffix in self.depth_streams:
            ch = f"{self.s}@{suffix}"
            self.add_view(ch, None, primary=suffix == "depth@100ms")
            self.last_u[ch] = self.uid()
        self.trade = BinanceTrade(self)     # authenticated REST and user-data streams
        self.agg_id = 3_000_000_000 if not self.futures else 2_500_000_000
        self.trade_id = 4_000_000_000 if not self.futures else 6_000_000_000

    # -- ids ----------------------------------------------------------------------------
    def uid(self) -> int:
        if self.futures:
            return PERP_UID_BASE + PERP_UID_STRIDE * self.vs.n_changes
        return SPOT_UID_BASE + self.vs.n_changes

    def view_seq(self, channel):
        return self.last_u.get(channel)

    # -- publishing -----------------------------------------------------------------------
    def publish(self, t_ns: int) -> list[Event]:
        out: list[Event] = []
        fills = self.take_fills()
        if fills:
            out += self._trades(fills, t_ns)
        for suffix, every in self.depth_streams.items():
            if self.step_no % every:
                continue
            ch = f"{self.s}@{suffix}"
            view = self.views[ch]
            if not view.changed():
                continue
            bids, asks = view.diff()
            if not bids and not asks:
                continue        # no net change: these ids are covered by the next event
            u_prev, u = self.last_u[ch], self.uid()
            self.last_u[ch] = u
            view.record(u, t_ns)
            if self.drop_book_message(ch):
                continue
            msg: dict[str, Any] = {"e": "depthUpdate", "E": fmt.ms(t_ns)}
            if self.futures:
                msg["T"] = fmt.ms(t_ns)
            msg["s"] = self.spec.symbol
            msg["U"] = u_prev + 1
            msg["u"] = u
            if self.futures:
                msg["pu"] = u_prev
            msg["b"] = [[self.spec.px(p), self.spec.qty(q)] for p, q in bids]
            msg["a"] = [[self.spec.px(p), self.spec.qty(q)] for p, q in asks]
            out.append((ch, fmt.compact(msg)))
        if not self.futures:
            out += self._partials(t_ns)
        elif self.partials_on:
            out += self._futures_partials(t_ns)
        return out

    def _futures_partials(self, t_ns: int) -> list[Event]:
        """USD-M "Partial Book Depth Streams" <symbol>@depth<5|10|20>[@500ms|@100ms] (250 ms by
        default): the top levels whole, in the depthUpdate envelope {e,E,T,s,U,u,pu,b,a}, pu the
        stream's previous u. Made once a connection has asked for one (`partials_on`)."""
        out = []
        u = self.uid()
        for n in (5, 10, 20):
            for suffix, every in ((f"depth{n}", STEPS_PER_S // 4), (f"depth{n}@500ms", STEPS_PER_S // 2),
                                  (f"depth{n}@100ms", STEPS_PER_S // 10)):
                if self.step_no % every:
                    continue
                ch = f"{self.s}@{suffix}"
                pu = self.partial_u.get(ch, u)
                self.partial_u[ch] = u
                ms = fmt.ms(t_ns)
                out.append((ch, fmt.compact({
                    "e": "depthUpdate", "E": ms, "T": ms, "s": self.spec.symbol, "U": min(pu + 1, u), "u": u,
                    "pu": pu, "b": [[self.spec.px(p), self.spec.qty(q)] for p, q in self.vs.levels(BID, n)],
                    "a": [[self.spec.px(p), self.spec.qty(q)] for p, q in self.vs.levels(ASK, n)]})))
        return out

    def _partials(self, t_ns: int) -> list[Event]:
        out = []
        for n in (5, 10, 20):
            for suffix, every in ((f"depth{n}", STEPS_PER_S), (f"depth{n}@100ms", STEPS_PER_S // 10)):
                if self.step_no % every == 0:
                    ch = f"{self.s}@{suffix}"
                    body = {
                        "lastUpdateId": self.uid(),
                        "bids": [[self.spec.px(p), self.spec.qty(q)] for p, q in self.vs.levels(BID, n)],
                        "asks": [[self.spec.px(p), self.spec.qty(q)] for p, q in self.vs.levels(ASK, n)],
                    }
                    out.append((ch, fmt.compact(body)))
        return out

    def _trades(self, fills: list[Fill], t_ns: int) -> list[Event]:
        out: list[Event] = []
        E = fmt.ms(t_ns)
        for f in fills:
            first = self.trade_id + 1
            parts = _split(f.qty, f.makers, self.spec.lot)
            for q in parts:
                self.trade_id += 1
                if self.futures:
                    trade = {"e": "trade", "E": E, "T": fmt.ms(f.ts_ns), "s": self.spec.symbol, "t": self.trade_id,
                             "p": self.spec.px(f.price), "q": self.spec.qty(q), "X": "MARKET", "m": f.side == SELL}
                else:
                    trade = {"e": "trade", "E": E, "s": self.spec.symbol, "t": self.trade_id,
                             "p": self.spec.px(f.price), "q": self.spec.qty(q), "T": fmt.ms(f.ts_ns),
                             "m": f.side == SELL, "M": True}
                out.append((f"{self.s}@trade", fmt.compact(trade)))
            self.agg_id += 1
            agg = {"e": "aggTrade", "E": E, "s": self.spec.symbol, "a": self.agg_id,
                   "p": self.spec.px(f.price), "q": self.spec.qty(f.qty), "f": first, "l": self.trade_id,
                   "T": fmt.ms(f.ts_ns), "m": f.side == SELL}
            if not self.futures:
                agg["M"] = True
            out.append((f"{self.s}@aggTrade", fmt.compact(agg)))
        return out

    # -- connections ----------------------------------------------------------------------
    def ws_routes(self):
        return tuple(f"{prefix}{path}" for prefix in self.ws_prefixes for path in ("/ws", "/ws/{streams:.+}", "/stream"))

    def known(self, stream: str) -> bool:
        speeds = ("", "@500ms", "@100ms") if self.futures else ("", "@100ms")
        return stream in self.views or stream in (f"{self.s}@trade", f"{self.s}@aggTrade") or (
            stream.startswith(f"{self.s}@depth") and stream.split("@", 1)[1] in {
                f"depth{n}{x}" for n in (5, 10, 20) for x in speeds})

    def on_open(self, conn: Conn) -> None:
        streams: list[str] = []
        path = conn.path
        for prefix in self.ws_prefixes:
            if prefix and path.startswith(prefix + "/"):
                path = path[len(prefix):]
                break
        if path.startswith("/stream"):
            conn.state["combined"] = True
            streams = [s for s in conn.query.get("streams", "").split("/") if s]
        else:
            conn.state["combined"] = False
            rest = path[len("/ws"):].strip("/")
            if rest and self.trade.attach(conn, rest):
                return                  # a user-data stream: /ws/<listenKey>
            streams = [s for s in rest.split("/") if s]
        for s in streams:
            self._subscribe(conn, s)

    def _subscribe(self, conn: Conn, s: str) -> None:
        stream = _stream(s)
        conn.subscribe(stream)
        kind = stream.split("@", 1)[-1]
        if self.futures and kind.startswith("depth") and kind[5:6].isdigit():
            self.partials_on = True

    def on_text(self, conn: Conn, text: str) -> None:
        if self.faults.silent(self.clock()):
            return
        try:
            req = json.loads(text)
        except ValueError:
            conn.send(fmt.compact({"code": 3, "msg": "Invalid JSON: expected value at line 1 column 1", "id": None}))
            return
        if not isinstance(req, dict) or "method" not in req:
            conn.send(fmt.compact({"code": 2, "msg": "Invalid request: missing field `method`", "id": None}))
            return
        rid, method, params = req.get("id"), req.get("method"), req.get("params") or []
        if method == "SUBSCRIBE":
            for s in params:
                self._subscribe(conn, str(s))
            conn.send(fmt.compact({"result": None, "id": rid}))
        elif method == "UNSUBSCRIBE":
            for s in params:
                conn.unsubscribe(_stream(str(s)))
            conn.send(fmt.compact({"result": None, "id": rid}))
        elif method == "LIST_SUBSCRIPTIONS":
            conn.send(fmt.compact({"result": sorted(conn.subs), "id": rid}))
        elif method == "SET_PROPERTY" and len(params) == 2 and params[0] == "combined":
            if not isinstance(params[1], bool):
                conn.send(fmt.compact({"code": 1, "msg": "Invalid value type: expected Boolean"}))
                return
            conn.state["combined"] = params[1]
            conn.send(fmt.compact({"result": None, "id": rid}))
        elif method == "GET_PROPERTY" and params == ["combined"]:
            conn.send(fmt.compact({"result": bool(conn.state.get("combined")), "id": rid}))
        elif method in ("SET_PROPERTY", "GET_PROPERTY"):
            conn.send(fmt.compact({"code": 0, "msg": "Unknown property", "id": rid}))
        else:
            conn.send(fmt.compact({"code": 2, "msg": f"Invalid request: unknown variant `{method}`, expected one of "
                                   "`SUBSCRIBE`, `UNSUBSCRIBE`, `LIST_SUBSCRIPTIONS`, `SET_PROPERTY`, `GET_PROPERTY`",
                                   "id": rid}))

    def render(self, conn: Conn, channel: str, payload: Any) -> str:
        if conn.state.get("combined"):
            return '{"stream":"%s","data":%s}' % (channel, payload)
        return payload

    def on_second(self, conn: Conn, t_ns: int) -> None:
        n = conn.state.get("seconds", 0) + 1
        conn.state["seconds"] = n
        if n % self.ping_every_s == 0:
            conn.ping(str(fmt.ms(t_ns)).encode())

    # -- REST -----------------------------------------------------------------------------
    def _depth(self, query: dict, _body) -> tuple[int, Any]:
        err = self._check_symbol(query)
        if err:
            return err
        try:
            limit = int(query.get("limit", 100 if not self.futures else 500))
        except ValueError:
            return 400, {"code": -1100, "msg": "Illegal characters found in parameter 'limit'."}
        limit = max(1, min(limit, self.max_limit))
        t = self.clock()
        # The snapshot is the book as of the last published diff event on the primary stream,
        # not the live book: depth@100ms events are net diffs between publications, so a level
        # added and removed inside one window appears in no event, and a snapshot taken inside
        # the window could hold a level that no later event ever deletes.
        view = self.views[self.primary]
        u_pub = self.last_u[self.primary]
        if self.futures:
            last = u_pub + 1          # a virtual id between two events: the next one brackets it
        else:
            last = u_pub
        body: dict[str, Any] = {"lastUpdateId": last}
        if self.futures:
            body["E"] = fmt.ms(t)
            body["T"] = fmt.ms(t)
        pub_bids, pub_asks = view.top()
        body["bids"] = [[self.spec.px(p), self.spec.qty(q)] for p, q in pub_bids[:limit]]
        body["asks"] = [[self.spec.px(p), self.spec.qty(q)] for p, q in pub_asks[:limit]]
        return 200, body

    def _check_symbol(self, query: dict):
        sym = query.get("symbol")
        if sym is None:
            return 400, {"code": -1102, "msg": "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed."}
        if sym.upper() != self.spec.symbol:
            return 400, {"code": -1121, "msg": "Invalid symbol."}
        return None

    def _symbol_info(self) -> dict:
        raise NotImplementedError

    def private_routes(self):
        return self.trade.routes()

    def _exchange_info(self, query: dict, _body) -> tuple[int, Any]:
        wanted = query.get("symbol")
        if query.get("symbols"):
            try:
                wanted_list = json.loads(query["symbols"])
            except ValueError:
                return 400, {"code": -1100, "msg": "Illegal characters found in parameter 'symbols'."}
            if self.spec.symbol not in wanted_list:
                return 400, {"code": -1121, "msg": "Invalid symbol."}
        elif wanted and wanted.upper() != self.spec.symbol:
            return 400, {"code": -1121, "msg": "Invalid symbol."}
        body: dict[str, Any] = {"timezone": "UTC", "serverTime": fmt.ms(self.clock())}
        if self.futures:
            body["futuresType"] = "U_MARGINED"
        body.update({"rateLimits": [], "exchangeFilters": [], "symbols": [self._symbol_info()]})
        return 200, body


class BinanceSpotFeed(BinanceFeed):
    venue = "binance-spot"
    futures = False
    depth_streams = {"depth": STEPS_PER_S, "depth@100ms": STEPS_PER_S // 10}
    ping_every_s = 20
    max_limit = 5000

    def rest_routes(self):
        return {
            ("GET", "/api/v3/depth"): self._depth,
            ("GET", "/api/v3/exchangeInfo"): self._exchange_info,
            ("GET", "/api/v3/ping"): lambda q, b: (200, {}),
            ("GET", "/api/v3/time"): lambda q, b: (200, {"serverTime": fmt.ms(self.clock())}),
        }

    def _symbol_info(self) -> dict:
        s = self.spec
        eight = lambda v, dec: fmt.fixed(fmt.rescale(v, dec, 8), 8)  # noqa: E731
        return {
            "symbol": s.symbol, "status": "TRADING", "baseAsset": s.base, "baseAssetPrecision": 8,
            "quoteAsset": s.quote, "quotePrecision": 8, "quoteAssetPrecision": 8,
            "baseCommissionPrecision": 8, "quoteCommissionPrecision": 8,
            "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT",
                           "TAKE_PROFIT_LIMIT"],
            "icebergAllowed": True, "ocoAllowed": True, "isSpotTradingAllowed": True, "isMarginTradingAllowed": True,
            "filters": [
                {"filterType": "PRICE_FILTER", "minPrice": eight(s.tick, s.price_dec),
                 "maxPrice": "1000000.00000000", "tickSize": eight(s.tick, s.price_dec)},
                {"filterType": "LOT_SIZE", "minQty": eight(s.lot, s.qty_dec),
                 "maxQty": "9000.00000000", "stepSize": eight(s.lot, s.qty_dec)},
            ],
            "permissions": [], "permissionSets": [["SPOT", "MARGIN"]],
            "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
            "allowedSelfTradePreventionModes": ["EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"],
        }


class BinancePerpFeed(BinanceFeed):
    venue = "binance-perp"
    futures = True
    depth_streams = {"depth": STEPS_PER_S // 4, "depth@500ms": STEPS_PER_S // 2, "depth@100ms": STEPS_PER_S // 10}
    ping_every_s = 180
    max_limit = 1000
    # Binance split the USD-M streams on 2026-03-06 (legacy URLs retired 2026-04-23):
    # wss://fstream.binance.com/public/ws (depth, bookTicker), /market/ws (aggTrade, trade, markPrice,
    # kline, ...), /private/ws (user data). Each prefix serves the raw /ws, /ws/<streams> and
    # combined /stream forms; the legacy unprefixed paths are kept for older clients.
    ws_prefixes = ("", "/public", "/market", "/private")

    def rest_routes(self):
        return {
            ("GET", "/fapi/v1/depth"): self._depth,
            ("GET", "/fapi/v1/exchangeInfo"): self._exchange_info,
            ("GET", "/fapi/v1/ping"): lambda q, b: (200, {}),
            ("GET", "/fapi/v1/time"): lambda q, b: (200, {"serverTime": fmt.ms(self.clock())}),
        }

    def _symbol_info(self) -> dict:
        s = self.spec
        return {
            "symbol": s.symbol, "pair": s.symbol, "contractType": "PERPETUAL", "deliveryDate": 4133404800000,
            "onboardDate": 1569398400000, "status": "TRADING", "maintMarginPercent": "2.5000",
            "requiredMarginPercent": "5.0000", "baseAsset": s.base, "quoteAsset": s.quote, "marginAsset": s.quote,
            "pricePrecision": s.price_wire_dec, "quantityPrecision": s.qty_wire_dec,
            "baseAssetPrecision": 8, "quotePrecision": 8, "underlyingType": "COIN", "underlyingSubType": [],
            "settlePlan": 0, "triggerProtect": "0.0500",
            "filters": [
                {"filterType": "PRICE_FILTER", "minPrice": s.px(s.tick), "maxPrice": "4529764",
                 "tickSize": s.px(s.tick)},
                {"filterType": "LOT_SIZE", "minQty": s.qty(s.lot), "maxQty": "1000", "stepSize": s.qty(s.lot)},
                {"filterType": "MARKET_LOT_SIZE", "minQty": s.qty(s.lot), "maxQty": "120", "stepSize": s.qty(s.lot)},
            ],
            "orderTypes": ["LIMIT", "MARKET", "STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET",
                           "TRAILING_STOP_MARKET"],
            "timeInForce": ["GTC", "IOC", "FOK", "GTX"],
        }



SPOT = SimVenue(BinanceSpotFeed, Flow(30.0, 0.06, 5, 0.20, 0.6), {
    "BTC": SimInstrument("binance-spot", "BTCUSDT", "BTC", "USDT", 2, 1, 5, 1, "1", 8, 8),
    "ETH": SimInstrument("binance-spot", "ETHUSDT", "ETH", "USDT", 2, 1, 4, 1, "1", 8, 8),
})
PERP = SimVenue(BinancePerpFeed, Flow(50.0, 0.05, 0, 0.15, 1.0), leverage_max=125, instruments={
    "BTC": SimInstrument("binance-perp", "BTCUSDT", "BTC", "USDT", 1, 1, 3, 1, "1", 2, 3),
    "ETH": SimInstrument("binance-perp", "ETHUSDT", "ETH", "USDT", 2, 1, 3, 1, "1", 2, 3),
})
