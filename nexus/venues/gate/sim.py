"""Gate v4 spot and USDT futures public WebSocket and market REST, as documented
(https://www.gate.io/docs/developers/apiv4/ws/en/ and .../futures/ws/en/, REST
https://www.gate.io/docs/developers/apiv4/en/):

- spot WebSocket /ws/v4/, futures /v4/ws/usdt; requests {"time","channel","event":"subscribe"|
  "unsubscribe","payload":[..]} answered {"time","time_ms","conn_id","channel","event",
  "payload","result":{"status":"success"}}, or with "error":{"code":2,"message":..} and
  result status "failed"; {"channel":"spot.ping"} -> {"channel":"spot.pong"} (futures alike).
- spot.order_book_update (payload [pair, "100ms"]): {"time","time_ms","channel","event":"update",
  "result":{"t","e":"depthUpdate","E","s","U","u","b":[[p,s]],"a":[[p,s]]}} every 100 ms when
  the book changed; U is the previous u + 1, u advances by the number of changed levels.
- futures.order_book_update (payload [contract, "100ms", "100"]): "result":{"t","s","U","u",
  "b":[{"p","s"}],"a":[..],"l":"100"} with sizes in contracts (JSON integers).
- spot.obu (Order Book V2, Gate's announcement of 2025-05-30,
  https://www.gate.com/announcements/article/45317): payload ["ob.<pair>.<level>"], level 50
  (pushed every 20 ms) or 400 (every 100 ms); the first push after subscribing is the whole
  book, {"channel":"spot.obu","result":{"t","full":true,"s":"ob.<pair>.<level>","u","b":[[p,s]],
  "a":[..]}}; then the changes {"channel":"spot.obu","result":{"t","s","U","u","b","a"}} with U
  the previous u + 1 (size "0" deletes). A second subscription to the same stream on one
  connection is refused "Alert sub ob.<pair>.<level>".
- spot.trades: "result":{"id","create_time","create_time_ms":"ms.frac","side" (taker),
  "currency_pair","amount","price","range"}; futures.trades: "result":[{"size" (contracts,
  negative when the taker sold),"id","create_time","create_time_ms","price","contract"}].
- REST GET /api/v4/spot/order_book?currency_pair&limit&with_id=true -> {"id","current","update",
  "asks":[[p,s]],"bids":[..]} (ms times); /api/v4/futures/usdt/order_book?contract&limit&with_id=true
  -> {"id","current","update" (seconds, fractional),"asks":[{"p","s"}],"bids":[..]}: the book as
  last published, `id` the last published u. /api/v4/spot/currency_pairs[/{pair}],
  /api/v4/futures/usdt/contracts[/{contract}], /api/v4/spot/time.
- GET /api/v4/spot/currencies ("List all currencies' details": [{"currency","name","delisted",
  "withdraw_disabled","withdraw_delayed","deposit_disabled","trade_disabled","fixed_rate",
  "chain","chains":[{"name","addr","withdraw_disabled","withdraw_delayed",
  "deposit_disabled"}]}]): the simulated pair's two currencies, each on one chain named after
  it (what ccxt loads at start). GET /api/v4/margin/currency_pairs ([{"id","base","quote",
  "leverage","min_base_amount","min_quote_amount","max_quote_amount","status"}]): the pair, margin
  enabled at 10x (ccxt reads it beside the spot pairs).
- Authenticated spot REST (/api/v4/spot/orders, accounts, ...) and the private spot channels
  (spot.orders, spot.usertrades, spot.balances on the spot WebSocket), and the USDT futures
  ones (/api/v4/futures/usdt/orders, positions, leverage, accounts; futures.orders,
  futures.usertrades, futures.positions on the futures WebSocket): sim_trade.py; the price-triggered
  orders of both (/api/v4/spot/price_orders, /api/v4/futures/usdt/price_orders): sim_price_orders.py.

One simulated book serves both markets: the futures contract's quanto_multiplier is the spot
pair's amount step (BTC 0.0001), so its sizes are whole contracts of the same book. (Gate's real
BTC_USDT spot pair has a finer amount precision; the simulator publishes its own in the pair
listing, which is where a client reads it from.)
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from nexus.instruments import decimals_of
from nexus.sim import fmt
from nexus.sim.feed import Conn, Event, Feed
from nexus.sim.market import BUY, Fill
from nexus.sim.specs import Flow, SimInstrument, SimVenue
from nexus.venues.gate.sim_trade import CHANNELS as PRIVATE_CHANNELS, FUTURES_CHANNELS as FUTURES_PRIVATE_CHANNELS, \
    GateFuturesTrade, GateTrade

PUSH_EVERY = 10                  # 100 ms
SPOT_PATH = "/ws/v4/"
FUTURES_PATH = "/v4/ws/usdt"
SPOT_ID_BASE = 48_776_000
FUTURES_ID_BASE = 2_517_661_000
TRADE_ID_BASE = 309_143_000
FUTURES_TRADE_ID_BASE = 27_753_000
LIMIT_MAX = 100
SPOT_CHANNELS = ("spot.order_book_update", "spot.trades")
OBU = "spot.obu"
OBU_LEVELS = {50: 2, 400: 10}    # level -> push cadence in steps (20 ms, 100 ms)
FUTURES_CHANNELS = ("futures.order_book_update", "futures.trades")


class GateFeed(Feed):
    venue = "gate"
    ws_path = SPOT_PATH

    def __init__(self, vs, clock, seed=0) -> None:
        super().__init__(vs, clock, seed)
        self.add_view("spot", None, primary=True)
        self.add_view("futures", None)
        self.ids = {"spot": SPOT_ID_BASE, "futures": FUTURES_ID_BASE}
        for n in OBU_LEVELS:
            self.add_view(f"obu{n}", n)
            self.ids[f"obu{n}"] = SPOT_ID_BASE
        self.obu_on = False
        self.trade_id = TRADE_ID_BASE
        self.futures_trade_id = FUTURES_TRADE_ID_BASE
        s = self.spec
        self.quanto = s.extra["quanto_multiplier"]
        # whole contracts of the same book: one contract is one amount step
        assert s.lot == 1 and Decimal(self.quanto) == Decimal(1).scaleb(-s.qty_dec)
        self.trade = GateTrade(self)        # authenticated spot REST and the private spot channels
        self.futures_trade = GateFuturesTrade(self)     # and the USDT futures ones

    def view_seq(self, channel):
        return self.ids.get(channel)

    def book_channels(self):
        return ["spot", "futures", *(f"obu{n}" for n in OBU_LEVELS)]

    # -- rendering ------------------------------------------------------------------------
    def _spot_lv(self, p: int, q: int) -> list[str]:
        return [self.spec.px(p), self.spec.qty(q)]

    def _fut_lv(self, p: int, q: int) -> dict:
        return {"p": self.spec.px(p), "s": q}    # q counts amount steps: whole contracts

    @staticmethod
    def _envelope(channel: str, event: str, t_ns: int, result: Any) -> dict:
        return {"time": t_ns // 1_000_000_000, "time_ms": fmt.ms(t_ns), "channel": channel, "event": event,
                "result": result}

    # -- publishing -----------------------------------------------------------------------
    def publish(self, t_ns: int) -> list[Event]:
        out: list[Event] = []
        fills = self.take_fills()
        for f in fills:
            out.append((f"spot.trades:{self.symbol}", self._spot_trade(f)))
        if fills:
            out.append((f"futures.trades:{self.symbol}", self._futures_trades(fills)))
        out += self._obu(t_ns)
        if self.step_no % PUSH_EVERY:
            return out
        for market in ("spot", "futures"):
            view = self.views[market]
            if not view.changed():
                continue
            bids, asks = view.diff()
            if not bids and not asks:
                continue
            first = self.ids[market] + 1
            last = self.ids[market] = self.ids[market] + len(bids) + len(asks)
            view.record(last, t_ns)
            if self.drop_book_message(market):
                continue
            ms = fmt.ms(t_ns)
            if market == "spot":
                res = {"t": ms, "e": "depthUpdate", "E": t_ns // 1_000_000_000, "s": self.symbol, "U": first,
                       "u": last, "b": [self._spot_lv(p, q) for p, q in bids],
                       "a": [self._spot_lv(p, q) for p, q in asks]}
            else:
                res = {"t": ms, "s": self.symbol, "U": first, "u": last,
                       "b": [self._fut_lv(p, q) for p, q in bids], "a": [self._fut_lv(p, q) for p, q in asks],
                       "l": str(LIMIT_MAX)}
            ch = f"{market}.order_book_update"
            out.append((f"{ch}:{self.symbol}", fmt.compact(self._envelope(ch, "update", t_ns, res))))
        return out

    def _obu(self, t_ns: int) -> list[Event]:
        """spot.obu pushes, made once a connection has subscribed to one (`obu_on`)."""
        out: list[Event] = []
        if not self.obu_on:
            return out
        for n, every in OBU_LEVELS.items():
            name = f"obu{n}"
            view = self.views[name]
            if self.step_no % every or not view.changed():
                continue
            bids, asks = view.diff()
            if not bids and not asks:
                continue
            first = self.ids[name] + 1
            last = self.ids[name] = self.ids[name] + len(bids) + len(asks)
            view.record(last, t_ns)
            if self.drop_book_message(name):
                continue
            s = f"ob.{self.symbol}.{n}"
            out.append((f"{OBU}:{s}", fmt.compact({"channel": OBU, "result": {
                "t": fmt.ms(t_ns), "s": s, "U": first, "u": last, "b": [self._spot_lv(p, q) for p, q in bids],
                "a": [self._spot_lv(p, q) for p, q in asks]}})))
        return out

    def _obu_subscribe(self, conn: Conn, req: dict) -> None:
        event, payload = req.get("event"), req.get("payload")
        if not isinstance(payload, list) or not payload or not all(isinstance(x, str) for x in payload):
            self._reply(conn, req, "invalid argument")
            return
        streams = []
        for x in payload:
            head, _, rest = x.partition(".")
            pair, _, level = rest.rpartition(".")
            if head != "ob" or not level.isdigit() or int(level) not in OBU_LEVELS:
                self._reply(conn, req, f"invalid argument {x}")
                return
            if pair != self.symbol:
                self._reply(conn, req, f"unknown currency pair {pair}")
                return
            streams.append((x, int(level)))
        subs = conn.state.setdefault("obu", set())
        if event == "subscribe" and not self.obu_on:
            for n in OBU_LEVELS:       # the views start from the book as it is now
                self.views[f"obu{n}"].refresh()
            self.obu_on = True
        if event == "subscribe":
            dup = next((x for x, _ in streams if x in subs), None)
            if dup is not None:
                self._reply(conn, req, f"Alert sub {dup}")
                return
        for x, n in streams:
            if event == "subscribe":
                subs.add(x)
                conn.subscribe(f"{OBU}:{x}")
            else:
                subs.discard(x)
                conn.unsubscribe(f"{OBU}:{x}")
        self._reply(conn, req)
        if event == "subscribe":
            for x, n in streams:
                b, a = self.views[f"obu{n}"].top()
                conn.send(fmt.compact({"channel": OBU, "result": {
                    "t": fmt.ms(self.clock()), "full": True, "s": x, "u": self.ids[f"obu{n}"],
                    "b": [self._spot_lv(p, q) for p, q in b], "a": [self._spot_lv(p, q) for p, q in a]}}))

    def _spot_trade(self, f: Fill) -> str:
        self.trade_id += 1
        ms, frac = divmod(f.ts_ns, 1_000_000)
        return fmt.compact(self._envelope("spot.trades", "update", f.ts_ns, {
            "id": self.trade_id, "create_time": f.ts_ns // 1_000_000_000, "create_time_ms": f"{ms}.{frac:06d}"[:-2],
            "side": "buy" if f.side == BUY else "sell", "currency_pair": self.symbol,
            "amount": self.spec.qty(f.qty), "price": self.spec.px(f.price),
            "range": f"{self.trade_id}-{self.trade_id}"}))

    def _futures_trades(self, fills: list[Fill]) -> str:
        res = []
        for f in fills:
            self.futures_trade_id += 1
            res.append({"size": f.qty if f.side == BUY else -f.qty, "id": self.futures_trade_id,
                        "create_time": f.ts_ns // 1_000_000_000, "create_time_ms": fmt.ms(f.ts_ns),
                        "price": self.spec.px(f.price), "contract": self.symbol})
        return fmt.compact(self._envelope("futures.trades", "update", fills[-1].ts_ns, res))

    # -- connections ----------------------------------------------------------------------
    def ws_routes(self):
        return (SPOT_PATH, FUTURES_PATH)

    def on_open(self, conn: Conn) -> None:
        self.conns += 1
        conn.state["conn_id"] = self.token("conn", self.conns, 16)

    def _reply(self, conn: Conn, req: dict, error: str | None = None) -> None:
        t = self.clock()
        msg: dict[str, Any] = {"time": t // 1_000_000_000, "time_ms": fmt.ms(t), "conn_id": conn.state["conn_id"],
                               "channel": req.get("channel"), "event": req.get("event"), "payload": req.get("payload")}
        if "id" in req:
            msg["id"] = req["id"]
        if error is None:
            msg["result"] = {"status": "success"}
        else:
            msg["error"] = {"code": 2, "message": error}
            msg["result"] = {"status": "failed"}
        conn.send(fmt.compact(msg))

    def on_text(self, conn: Conn, text: str) -> None:
        refusal = fmt.compact({"time": self.clock() // 1_000_000_000, "channel": "", "event": "",
                               "error": {"code": 1, "message": "invalid argument"}})
        req = self.request(conn, text, refusal)
        if req is None:
            return
        futures = conn.path == FUTURES_PATH
        prefix = "futures" if futures else "spot"
        ch, event, payload = req.get("channel"), req.get("event"), req.get("payload")
        if ch in (FUTURES_PRIVATE_CHANNELS if futures else PRIVATE_CHANNELS):
            (self.futures_trade if futures else self.trade).on_text(conn, req)
            return
        if ch == f"{prefix}.ping":
            t = self.clock()
            conn.send(fmt.compact({"time": t // 1_000_000_000, "time_ms": fmt.ms(t), "channel": f"{prefix}.pong",
                                   "event": "", "result": None}))
            return
        if ch == OBU and not futures and event in ("subscribe", "unsubscribe"):
            self._obu_subscribe(conn, req)
            return
        if ch not in (FUTURES_CHANNELS if futures else SPOT_CHANNELS) or event not in ("subscribe", "unsubscribe"):
            self._reply(conn, req, f"unknown channel {ch}" if event in ("subscribe", "unsubscribe")
                        else f"unknown event {event}")
            return
        if not isinstance(payload, list) or not payload or not all(isinstance(x, str) for x in payload):
            self._reply(conn, req, "invalid argument")
            return
        if ch.endswith("order_book_update"):
            names = payload[:1]
        else:
            names = payload
        if any(n != self.symbol for n in names):
            self._reply(conn, req, f"unknown {'contract' if futures else 'currency pair'} "
                        f"{', '.join(n for n in names if n != self.symbol)}")
            return
        key = f"{ch}:{self.symbol}"
        if event == "subscribe":
            conn.subscribe(key)
        else:
            conn.unsubscribe(key)
        self._reply(conn, req)

    # -- REST -----------------------------------------------------------------------------
    def _limit(self, query: dict) -> int | None:
        try:
            return max(1, min(LIMIT_MAX, int(query.get("limit", 10))))
        except ValueError:
            return None

    def _spot_book(self, query: dict, _body):
        if query.get("currency_pair") != self.symbol:
            return 400, {"label": "INVALID_CURRENCY", "message": f"Invalid currency {query.get('currency_pair')}"}
        limit = self._limit(query)
        if limit is None:
            return 400, {"label": "INVALID_PARAM_VALUE", "message": "Invalid limit"}
        b, a = self.views["spot"].top()
        t = fmt.ms(self.clock())
        body: dict[str, Any] = {}
        if query.get("with_id") == "true":
            body["id"] = self.ids["spot"]
        body.update(current=t, update=t, asks=[self._spot_lv(p, q) for p, q in a[:limit]],
                    bids=[self._spot_lv(p, q) for p, q in b[:limit]])
        return 200, body

    def _futures_book(self, query: dict, _body):
        if query.get("contract") != self.symbol:
            return 400, {"label": "CONTRACT_NOT_FOUND", "message": f"Contract {query.get('contract')} not found"}
        limit = self._limit(query)
        if limit is None:
            return 400, {"label": "INVALID_PARAM_VALUE", "message": "Invalid limit"}
        b, a = self.views["futures"].top()
        t = self.clock()
        secs = float(f"{t // 1_000_000_000}.{(t // 1_000_000) % 1000:03d}")
        body: dict[str, Any] = {}
        if query.get("with_id") == "true":
            body["id"] = self.ids["futures"]
        body.update(current=secs, update=secs, asks=[self._fut_lv(p, q) for p, q in a[:limit]],
                    bids=[self._fut_lv(p, q) for p, q in b[:limit]])
        return 200, body

    def pair_info(self) -> dict:
        s = self.spec
        return {"id": s.symbol, "base": s.base, "base_name": s.base, "quote": s.quote, "quote_name": s.quote,
                "fee": "0.2", "min_base_amount": s.lot_str(), "min_quote_amount": "3", "max_quote_amount": "5000000",
                "amount_precision": s.qty_dec, "precision": decimals_of(s.tick_str()),
                "trade_status": "tradable", "sell_start": 1516378650, "buy_start": 1516378650, "type": "normal"}

    def contract_info(self) -> dict:
        s = self.spec
        return {"name": s.symbol, "type": "direct", "quanto_multiplier": self.quanto, "leverage_min": "1",
                "leverage_max": "125", "maintenance_rate": "0.004", "mark_type": "index",
                "order_price_round": s.tick_str(), "mark_price_round": s.tick_str(), "order_size_min": 1,
                "order_size_max": 1000000, "in_delisting": False, "status": "trading"}

    def _currencies(self, query: dict, _body):
        """GET /api/v4/spot/currencies ("Query all currency information", the SDK's Currency
        model): the pair's two currencies, one chain each, deposits and withdrawals off (the
        simulator trades, it moves no coins)."""
        return 200, [{"currency": c, "name": c, "delisted": False, "withdraw_disabled": True, "withdraw_delayed": False,
                      "deposit_disabled": True, "trade_disabled": False, "fixed_rate": "", "chain": c,
                      "chains": [{"name": c, "addr": "", "withdraw_disabled": True, "withdraw_delayed": False,
                                  "deposit_disabled": True}]}
                     for c in dict.fromkeys((self.spec.base, self.spec.quote))]

    def _pairs(self, query: dict, _body):
        pair = query.get("currency_pair")
        if pair is None:
            return 200, [self.pair_info()]
        if pair != self.symbol:
            return 400, {"label": "INVALID_CURRENCY", "message": f"Invalid currency pair {pair}"}
        return 200, self.pair_info()

    def _contracts(self, query: dict, _body):
        c = query.get("contract")
        if c is None:
            return 200, [self.contract_info()]
        if c != self.symbol:
            return 400, {"label": "CONTRACT_NOT_FOUND", "message": f"Contract {c} not found"}
        return 200, self.contract_info()

    def _currencies(self, _query: dict, _body):
        return 200, [{"currency": c, "name": c, "delisted": False, "withdraw_disabled": False,
                      "withdraw_delayed": False, "deposit_disabled": False, "trade_disabled": False,
                      "fixed_rate": "", "chain": c,
                      "chains": [{"name": c, "addr": "", "withdraw_disabled": False, "withdraw_delayed": False,
                                  "deposit_disabled": False}]}
                     for c in (self.spec.base, self.spec.quote)]

    def _margin_pairs(self, _query: dict, _body):
        s = self.spec
        return 200, [{"id": s.symbol, "base": s.base, "quote": s.quote, "leverage": 10,
                      "min_base_amount": s.lot_str(), "min_quote_amount": "3", "max_quote_amount": "5000000",
                      "status": 1}]

    def private_routes(self):
        return {**self.trade.routes(), **self.futures_trade.routes()}

    def rest_routes(self):
        return {
            ("GET", "/api/v4/spot/currencies"): self._currencies,
            ("GET", "/api/v4/margin/currency_pairs"): self._margin_pairs,
            ("GET", "/api/v4/spot/order_book"): self._spot_book,
            ("GET", "/api/v4/futures/usdt/order_book"): self._futures_book,
            ("GET", "/api/v4/spot/currency_pairs"): self._pairs,
            ("GET", "/api/v4/spot/currency_pairs/{currency_pair}"): self._pairs,
            ("GET", "/api/v4/futures/usdt/contracts"): self._contracts,
            ("GET", "/api/v4/futures/usdt/contracts/{contract}"): self._contracts,
            ("GET", "/api/v4/spot/time"): lambda q, b: (200, {"server_time": fmt.ms(self.clock())}),
            # "List all supported currency pairs supported in margin trading": the simulator
            # lends nothing, so the venue's list is empty (ccxt reads it at start-up)
            ("GET", "/api/v4/margin/currency_pairs"): lambda q, b: (200, []),
            ("GET", "/api/v4/spot/currencies"): self._currencies,
        }


SIM = SimVenue(GateFeed, Flow(18.0, 0.08, 25, 0.25, 0.35), {
    # spot pair: precision 1 (tick 0.1); futures BTC_USDT: order_price_round 0.1,
    # quanto_multiplier 0.0001 (the amount step here, see above). ETH_USDT: 0.01 / 0.01.
    "BTC": SimInstrument("gate", "BTC_USDT", "BTC", "USDT", 1, 1, 4, 1, extra={"quanto_multiplier": "0.0001"}),
    "ETH": SimInstrument("gate", "ETH_USDT", "ETH", "USDT", 2, 1, 2, 1, extra={"quanto_multiplier": "0.01"}),
})
