"""Bitget v2's authenticated REST and private WebSocket for a spot pair, as the simulator
serves them on top of the venue-neutral exchange (nexus.sim.exchange).

Sources (Bitget API docs, https://www.bitget.com/api-doc/): Common > Quick Start >
"Signature" (headers ACCESS-KEY / ACCESS-SIGN / ACCESS-TIMESTAMP (ms) / ACCESS-PASSPHRASE;
sign = Base64 HMAC-SHA256 of timestamp + METHOD + requestPath + "?" + queryString (when
there is one) + body; a timestamp more than 30 s away from the server's is refused);
Spot > Trade: "Place Order" (POST /api/v2/spot/trade/place-order: symbol, side buy|sell,
orderType limit|market, force gtc|post_only|fok|ioc, price, size, clientOid; answers
{"orderId","clientOid"}; `size` is base coin for limits and market sells, QUOTE coin for a
market buy), "Cancel Order" (POST /api/v2/spot/trade/cancel-order: symbol, orderId or
clientOid), "Get Order Info" (GET /api/v2/spot/trade/orderInfo?orderId=|clientOid=: a
list of one order, status live / partially_filled / filled / cancelled), "Get Current
Orders" (GET /api/v2/spot/trade/unfilled-orders), "Place Plan Order" (POST
/api/v2/spot/trade/place-plan-order: triggerPrice, orderType market, planType amount (size
in base coin), triggerType fill_price), "Get Current Plan Orders" (GET
/api/v2/spot/trade/current-plan-order: {"nextFlag","idLessThan","orderList":[..]}, status
live), "Get History Plan Orders" (GET .../history-plan-order: executed / cancelled),
"Get Plan Sub Order" (GET .../plan-sub-order?planOrderId=: the order a triggered plan
placed), "Cancel Plan Order" (POST .../cancel-plan-order); Spot > Account: "Get Account
Information" (GET /api/v2/spot/account/info: `authorities`, "wwow" = wallet withdrawal),
"Get Account Assets" (GET /api/v2/spot/account/assets: coin, available, frozen, locked);
Spot > WebSocket > Private: "Login" (wss .../v2/ws/private, op `login`, args apiKey,
passphrase, timestamp in SECONDS, sign = Base64 HMAC of timestamp + "GET" + "/user/verify";
answered {"event":"login","code":0}), "Order Channel" (channel `orders`, instType SPOT,
instId a symbol or "default"; pushes {"action":"snapshot","arg":..,"data":[{instId, orderId,
clientOid, size, newSize, notional, orderType, force, side, fillPrice, tradeId, baseVolume,
fillTime, fillFee, fillFeeCoin, tradeScope T|M, accBaseVolume, priceAvg, status, cTime,
uTime, feeDetail, enterPointSource}],"ts"}).

Failures answer HTTP 400 with {"code","msg","requestTime","data":null} and Bitget's codes
(Common > "Restful API Error Codes", also quoted with real bodies in ccxt's bitget error
table): 40001 ACCESS_KEY cannot be empty, 40003 Signature cannot be empty, 40005 Invalid
ACCESS_TIMESTAMP, 40006 Invalid ACCESS_KEY, 40008 Request timestamp expired, 40009 sign
signature error, 40011 ACCESS_PASSPHRASE cannot be empty, 40012 apikey/password is
incorrect, 40017 Parameter verification failed, 40019 Parameter X cannot be empty, 40034
Parameter X does not exist (unknown symbol), 40808 "Parameter verification exception size
checkBDScale error value=.. checkScale=.." (a price or size off the pair's precision),
43012 Insufficient balance, 43001 The order does not exist (cancel), 43025 Plan order does
not exist. A query by clientOid that matches nothing answers an empty list. WebSocket login
failures (Common > "WebSocket Error Codes"): 30004 User needs to log in, 30005 Login
failed, 30011 Invalid ACCESS_KEY, 30012 Invalid ACCESS_PASSPHRASE, 30013 Invalid
ACCESS_TIMESTAMP, 30014 Request timestamp expired, 30015 Invalid signature.

Modelled: GTC limits and IOC (the remainder of an `ioc` limit is cancelled at once);
reduce-only does not exist on spot (43012-free refusal 40017); the fee is charged in the
quote coin (the simulator's exchange charges it so), reported as a negative fillFee.
"""

from __future__ import annotations

import hmac
import json
from typing import Any, Callable

from nexus.sim import fmt
from nexus.sim.exchange import CANCELED, EXPIRED, FILLED, NEW, PARTIALLY_FILLED, ExecEvent, Reject, SimAccount, SimOrder
from nexus.sim.feed import Conn, SimRequest
from nexus.sim.market import ASK, BID, BUY, SELL
from nexus.sim.private import OffGrid, PrivateTrade, late, plain, units
from nexus.venues.bitget.sim_futures import PRODUCT, FuturesTrade
from nexus.venues.bitget.sim_wire import BitgetError, exact, sign

EXPIRY_MS = 30_000
PRIVATE_PATH = "/v2/ws/private"
OK = "00000"
SIDES = {"buy": BUY, "sell": SELL}
SIDE_NAMES = {BUY: "buy", SELL: "sell"}
ORDER_ID_BASE = 1_200_000_000_000_000_000
PLAN_ID_BASE = 1_300_000_000_000_000_000
USER_ID = "1000000001"
ORDERBOOK_MAX = 150

REJECTS = {
    "insufficient_balance": ("43012", "Insufficient balance"),
    "duplicate_client_id": ("40017", "Parameter verification failed: duplicate clientOid"),
    "too_many_orders": ("43008", "The number of current orders exceeds the limit"),
    "qty_invalid": ("40017", "Parameter verification failed"),
    "price_invalid": ("40017", "Parameter verification failed"),
    "order_type_invalid": ("40017", "Parameter verification failed"),
    "reduce_only": ("40017", "Parameter verification failed: reduceOnly is not supported on spot"),
    "unknown_order": ("43001", "The order does not exist"),
}


def status_of(o: SimOrder) -> str:
    if o.status in (CANCELED, EXPIRED):
        return "cancelled"
    return {NEW: "live", PARTIALLY_FILLED: "partially_filled", FILLED: "filled"}.get(o.status, "cancelled")


class BitgetTrade(PrivateTrade):
    """Order entry and the private stream of the simulated Bitget spot pair."""

    def __init__(self, feed) -> None:
        super().__init__(feed)
        self.plans: set[int] = set()        # oids placed as plan (trigger) orders
        self.futures = FuturesTrade(self)   # the USDT-FUTURES contract (sim_futures.py)

    def env(self, data: Any) -> tuple[int, dict]:
        return 200, {"code": OK, "msg": "success", "requestTime": self.now_ms(), "data": data}

    # -- routes ---------------------------------------------------------------------------
    def routes(self) -> dict[tuple[str, str], Callable]:
        w, t = self._wrap, "/api/v2/spot/trade/"
        return {
            ("POST", t + "place-order"): w(self.place), ("POST", t + "cancel-order"): w(self.cancel),
            ("GET", t + "orderInfo"): w(self.query), ("GET", t + "unfilled-orders"): w(self.unfilled),
            ("POST", t + "place-plan-order"): w(self.place_plan), ("POST", t + "cancel-plan-order"): w(self.cancel_plan),
            ("GET", t + "current-plan-order"): w(self.current_plans),
            ("GET", t + "history-plan-order"): w(self.history_plans),
            ("GET", t + "plan-sub-order"): w(self.plan_sub),
            ("GET", "/api/v2/spot/account/assets"): w(self.assets),
            ("GET", "/api/v2/spot/account/info"): w(self.info),
            ("GET", "/api/v2/spot/market/tickers"): self.tickers,
            ("GET", "/api/v2/spot/market/orderbook"): self.orderbook,
            **self.futures.routes(w),
        }

    def _wrap(self, fn: Callable) -> Callable[[SimRequest], Any]:
        def handle(req: SimRequest):
            try:
                return fn(req)
            except BitgetError as e:
                return e.status, {"code": e.code, "msg": e.msg, "requestTime": self.now_ms(), "data": None}
        return handle

    # -- authentication ---------------------------------------------------------------------
    def _signed(self, req: SimRequest) -> tuple[SimAccount, Any]:
        h = req.headers
        key, sig = h.get("access-key", ""), h.get("access-sign", "")
        ts, passphrase = h.get("access-timestamp", ""), h.get("access-passphrase", "")
        if not key:
            raise BitgetError("40001", "ACCESS_KEY cannot be empty")
        if not sig:
            raise BitgetError("40003", "Signature cannot be empty")
        if not passphrase:
            raise BitgetError("40011", "ACCESS_PASSPHRASE cannot be empty")
        if not ts.isdigit():
            raise BitgetError("40005", "Invalid ACCESS_TIMESTAMP")
        if abs(self.now_ms() - int(ts)) > EXPIRY_MS:
            raise BitgetError("40008", "Request timestamp expired")
        acct = self.ex.accounts.get(key)
        if acct is None:
            raise BitgetError("40006", "Invalid ACCESS_KEY")
        if not acct.passphrase or not hmac.compare_digest(acct.passphrase, passphrase):
            raise BitgetError("40012", "apikey/password is incorrect")
        path = req.path + (f"?{req.query_string}" if req.query_string else "")
        if not hmac.compare_digest(sign(acct.secret, ts + req.method + path + req.body), sig):
            raise BitgetError("40009", "sign signature error")
        if req.method == "GET":
            return acct, dict(req.query)
        try:
            p = json.loads(req.body or "{}")
        except ValueError:
            raise BitgetError("40017", "Parameter verification failed") from None
        if not isinstance(p, dict):
            raise BitgetError("40017", "Parameter verification failed")
        return acct, p

    def _symbol(self, p: dict) -> None:
        sym = p.get("symbol")
        if not sym:
            raise BitgetError("40019", "Parameter symbol cannot be empty")
        if sym != self.spec.symbol:
            raise BitgetError("40034", f"Parameter {sym} does not exist")

    def _units(self, p: dict, name: str, dec: int, step: int) -> int | None:
        text = p.get(name)
        if text in (None, ""):
            return None
        try:
            return units(text, dec, step)
        except OffGrid:
            raise BitgetError("40808", f"Parameter verification exception {name} checkBDScale error value={text} "
                                       f"checkScale={dec}") from None
        except ValueError:
            raise BitgetError("40017", "Parameter verification failed") from None

    def order_id(self, o: SimOrder) -> str:
        return str(ORDER_ID_BASE + o.oid)

    def plan_id(self, o: SimOrder) -> str:
        return str(PLAN_ID_BASE + o.oid)

    # -- orders -----------------------------------------------------------------------------
    def _new(self, acct: SimAccount, p: dict, kind: str, price_field: str, size_field: str = "size") -> SimOrder:
        self._symbol(p)
        side = SIDES.get(p.get("side"))
        if side is None:
            raise BitgetError("40017", "Parameter verification failed")
        s = self.spec
        size = self._units(p, size_field, s.qty_dec, s.lot)
        if size is None:
            raise BitgetError("40019", f"Parameter {size_field} cannot be empty")
        price = self._units(p, price_field, s.price_dec, s.tick)
        if price is None and kind != "MARKET":
            raise BitgetError("40019", f"Parameter {price_field} cannot be empty")
        cid = p.get("clientOid") or f"sim{next(self._ids)}"
        try:
            return self.ex.place(acct, cid, side, kind, size, price=price if kind == "LIMIT" else None,
                                 stop=price if kind == "STOP" else None,
                                 reduce_only=p.get("reduceOnly") in ("YES", "yes", True))
        except Reject as r:
            raise BitgetError(*REJECTS.get(r.reason, ("40808", f"Parameter verification exception {r.reason}"))) \
                from None

    def place(self, req: SimRequest):
        acct, p = self._signed(req)
        kind = {"market": "MARKET", "limit": "LIMIT"}.get(p.get("orderType"))
        if kind is None:
            raise BitgetError("40017", "Parameter verification failed")
        force = str(p.get("force", "gtc")).lower()       # ccxt sends "GTC", which Bitget takes
        if force not in ("gtc", "ioc", "post_only", "fok"):
            raise BitgetError("40017", "Parameter verification failed")
        if kind == "MARKET" and p.get("side") == "buy":
            # a market buy's size is quote coin (Place Order); the simulator fills base quantities
            raise BitgetError("40017", "Parameter verification failed: the simulator takes market buys as "
                                       "ioc limits (size in base coin)")
        o = self._new(acct, p, kind, "price")
        if kind == "LIMIT" and force == "ioc" and o.status in (NEW, PARTIALLY_FILLED):
            self.ex.cancel(acct, oid=o.oid)        # immediate-or-cancel: the rest does not rest
        body = {"orderId": self.order_id(o), "clientOid": o.client_id}
        delay_s = self.ex.take_response_delay()
        return late(*self.env(body), delay_s) if delay_s else self.env(body)

    def _find(self, acct: SimAccount, p: dict, *, plan: bool) -> SimOrder | None:
        cid, oid = p.get("clientOid", ""), p.get("orderId", "")
        for o in self.ex.orders.values():
            if o.account != acct.api_key or (o.oid in self.plans) != plan:
                continue
            if (cid and o.client_id == cid) or (oid and oid == (self.plan_id(o) if plan else self.order_id(o))):
                return o
        return None

    def query(self, req: SimRequest):
        acct, p = self._signed(req)
        if not p.get("orderId") and not p.get("clientOid"):
            raise BitgetError("40019", "Parameter orderId cannot be empty")
        o = self._find(acct, p, plan=False)
        if o is None and p.get("orderId"):      # the order a triggered plan placed
            o = next((x for x in (self.ex.orders[i] for i in self.plans) if x.account == acct.api_key
                      and x.status != NEW and self.order_id(x) == p["orderId"]), None)
        return self.env([] if o is None else [self.order_body(o)])

    def unfilled(self, req: SimRequest):
        acct, p = self._signed(req)
        if p.get("symbol") not in (None, "", self.spec.symbol):
            return self.env([])
        rows = [o for o in self.ex.open_orders(acct) if o.oid not in self.plans or o.status != NEW]
        return self.env([self.order_body(o) for o in rows])

    def cancel(self, req: SimRequest):
        acct, p = self._signed(req)
        self._symbol(p)
        o = self._find(acct, p, plan=False)
        if o is None or o.status not in (NEW, PARTIALLY_FILLED):
            raise BitgetError(*REJECTS["unknown_order"])
        self.ex.cancel(acct, oid=o.oid)
        return self.env({"orderId": self.order_id(o), "clientOid": o.client_id})

    # -- plan (trigger) orders ----------------------------------------------------------------
    def place_plan(self, req: SimRequest):
        acct, p = self._signed(req)
        if p.get("orderType") != "market" or p.get("planType", "amount") != "amount" \
                or p.get("triggerType") not in ("fill_price", None):
            raise BitgetError("40017", "Parameter verification failed")
        o = self._new(acct, p, "STOP", "triggerPrice")
        self.plans.add(o.oid)
        return self.env({"orderId": self.plan_id(o), "clientOid": o.client_id})

    def plan_body(self, o: SimOrder) -> dict:
        s = self.spec
        status = "live" if o.status == NEW else ("executed" if o.filled or o.status == FILLED else "cancelled")
        return {"orderId": self.plan_id(o), "clientOid": o.client_id, "symbol": s.symbol, "size": s.qty(o.qty),
                "executePrice": "0", "triggerPrice": s.px(o.stop), "status": status, "orderType": "market",
                "side": SIDE_NAMES[o.side], "planType": "amount", "triggerType": "fill_price",
                "enterPointSource": "API", "uTime": str(fmt.ms(o.updated_ns)), "cTime": str(fmt.ms(o.created_ns))}

    def _plans(self, acct: SimAccount, live: bool) -> list[dict]:
        rows = [self.ex.orders[i] for i in sorted(self.plans)]
        return [self.plan_body(o) for o in rows if o.account == acct.api_key and (o.status == NEW) == live]

    def current_plans(self, req: SimRequest):
        acct, p = self._signed(req)
        self._symbol(p)
        return self.env({"nextFlag": False, "idLessThan": "", "orderList": self._plans(acct, True)})

    def history_plans(self, req: SimRequest):
        acct, p = self._signed(req)
        self._symbol(p)
        return self.env({"nextFlag": False, "idLessThan": "", "orderList": self._plans(acct, False)})

    def plan_sub(self, req: SimRequest):
        acct, p = self._signed(req)
        o = self._find(acct, {"orderId": p.get("planOrderId", "")}, plan=True)
        if o is None:
            raise BitgetError("43025", "Plan order does not exist")
        if o.status == NEW or not o.filled and o.status != FILLED:
            return self.env([])
        return self.env([{"orderId": self.order_id(o), "price": "0", "type": "market", "status": status_of(o)}])

    def cancel_plan(self, req: SimRequest):
        acct, p = self._signed(req)
        o = self._find(acct, p, plan=True)
        if o is None or o.status != NEW:
            raise BitgetError("43025", "Plan order does not exist")
        self.ex.cancel(acct, oid=o.oid)
        return self.env({"result": "success"})

    # -- account ----------------------------------------------------------------------------
    def assets(self, req: SimRequest):
        acct, p = self._signed(req)
        coins = sorted(set(acct.balances) | {self.spec.base, self.spec.quote})
        want = p.get("coin")
        return self.env([{"coin": c, "available": exact(self.ex.free(acct, c)),
                          "frozen": exact(acct.locked.get(c, 0)), "locked": "0", "limitAvailable": "0",
                          "uTime": str(self.now_ms())} for c in coins if want in (None, "", c)])

    def info(self, req: SimRequest):
        acct, _ = self._signed(req)
        auth = ["readonly", "stor", "stow"] + (["wwow"] if acct.can_withdraw else [])
        return self.env({"userId": USER_ID, "inviterId": "", "ips": "", "authorities": auth, "parentId": 1,
                         "traderType": "not_trader", "channelCode": "", "channel": "", "regisTime": "0"})

    def tickers(self, req: SimRequest):
        """GET /api/v2/spot/market/tickers?symbol= (Spot > Market > Get Ticker Information):
        public, the pair's best bid and ask from the simulated book."""
        sym = req.query.get("symbol")
        if sym not in (None, "", self.spec.symbol):
            return 400, {"code": "40034", "msg": f"Parameter {sym} does not exist", "requestTime": self.now_ms(),
                         "data": None}
        s, vs = self.spec, self.ex.vs
        b, a = vs.best_bid(), vs.best_ask()
        last = self.ex.last_trade_price
        bids, asks = vs.book_side(BID), vs.book_side(ASK)
        return self.env([{
            "symbol": s.symbol, "high24h": "", "open": "", "low24h": "", "lastPr": s.px(last) if last else "",
            "quoteVolume": "0", "baseVolume": "0", "usdtVolume": "0", "bidPr": s.px(b) if b else "",
            "askPr": s.px(a) if a else "", "bidSz": s.qty(bids.get(b, 0)) if b else "",
            "askSz": s.qty(asks.get(a, 0)) if a else "", "openUtc": "", "ts": str(self.now_ms()),
            "changeUtc24h": "0", "change24h": "0"}])

    def orderbook(self, req: SimRequest):
        """GET /api/v2/spot/market/orderbook?symbol=&type=step0&limit= (Spot > Market > Get
        OrderBook Depth; limit 150 by default and at most): the `books` view as published,
        {"asks":[[px,sz]],"bids":[[px,sz]],"ts"}. Public (ccxt's round trip reads it)."""
        sym = req.query.get("symbol")
        if sym != self.spec.symbol:
            return 400, {"code": "40034", "msg": f"Parameter {sym} does not exist", "requestTime": self.now_ms(),
                         "data": None}
        limit = req.query.get("limit", "150")
        n = min(int(limit), ORDERBOOK_MAX) if limit.isdigit() and int(limit) > 0 else ORDERBOOK_MAX
        s = self.spec
        bids, asks = self.feed.views[self.feed.primary].top()
        return self.env({"asks": [[s.px(p), s.qty(q)] for p, q in asks[:n]],
                         "bids": [[s.px(p), s.qty(q)] for p, q in bids[:n]], "ts": str(self.now_ms())})

    # -- bodies -----------------------------------------------------------------------------
    def order_body(self, o: SimOrder) -> dict:
        s, ex = self.spec, self.ex
        avg = o.notional / ex.base_qty(o.filled) if o.filled else None
        fee = plain(-o.fees)
        return {
            "userId": USER_ID, "symbol": s.symbol, "orderId": self.order_id(o), "clientOid": o.client_id,
            "price": s.px(o.price) if o.price else "0", "size": s.qty(o.qty),
            "orderType": "limit" if o.type == "LIMIT" else "market", "side": SIDE_NAMES[o.side],
            "status": status_of(o), "priceAvg": plain(avg) if avg is not None else "0",
            "baseVolume": s.qty(o.filled), "quoteVolume": plain(o.notional), "enterPointSource": "API",
            "feeDetail": json.dumps({"newFees": {"c": 0, "d": 0, "deduction": False, "r": fee, "t": fee,
                                                 "totalDeductionFee": 0}}, separators=(",", ":")),
            "orderSource": "normal" if o.type == "LIMIT" else "market", "cancelReason": "",
            "cTime": str(fmt.ms(o.created_ns)), "uTime": str(fmt.ms(o.updated_ns)),
        }

    # -- private stream ---------------------------------------------------------------------
    def watch(self, conn: Conn, api_key: str, push: Callable) -> None:
        new = api_key not in self.listening
        super().watch(conn, api_key, push)
        if new and self.futures._ex is not None:
            self.futures._ex.listen(api_key, push)

    def on_text(self, conn: Conn, req: dict) -> None:
        op, args = req.get("op"), req.get("args")
        if op == "login":
            code, msg = self._login(conn, args)
            obj = {"event": "login", "code": 0, "msg": ""} if code == 0 else {"event": "error", "code": code, "msg": msg}
            conn.send(fmt.compact(obj))
        elif op in ("subscribe", "unsubscribe") and isinstance(args, list) and args:
            if self.private.account(conn) is None:
                conn.send(fmt.compact({"event": "error", "code": 30004, "msg": "User needs to log in"}))
                return
            for arg in args:
                arg = arg if isinstance(arg, dict) else {}
                if arg.get("channel") != "orders" or arg.get("instType") not in ("SPOT", PRODUCT) \
                        or arg.get("instId") not in ("default", self.spec.symbol):
                    conn.send(fmt.compact({"event": "error", "arg": arg, "code": 30001,
                                           "msg": f"instType:{arg.get('instType')},channel:{arg.get('channel')},"
                                                  f"instId:{arg.get('instId')} doesn't exist"}))
                    continue
                topic = f"{arg['instType']}:orders:{arg['instId']}"
                (conn.state["topics"].add if op == "subscribe" else conn.state["topics"].discard)(topic)
                conn.send(fmt.compact({"event": op, "arg": arg}))
        else:
            conn.send(fmt.compact({"event": "error", "code": 30016, "msg": "Param error"}))

    def _login(self, conn: Conn, args) -> tuple[int, str]:
        if not isinstance(args, list) or len(args) != 1 or not isinstance(args[0], dict):
            return 30016, "Param error"
        a = args[0]
        acct = self.ex.accounts.get(a.get("apiKey", ""))
        if acct is None:
            return 30011, "Invalid ACCESS_KEY"
        ts = a.get("timestamp", "")
        if not isinstance(ts, str) or not ts.isdigit():
            return 30013, "Invalid ACCESS_TIMESTAMP"
        if abs(self.now_ms() - int(ts) * 1000) > EXPIRY_MS:
            return 30014, "Request timestamp expired"
        if not acct.passphrase or a.get("passphrase") != acct.passphrase:
            return 30012, "Invalid ACCESS_PASSPHRASE"
        if not isinstance(a.get("sign"), str) or not hmac.compare_digest(sign(acct.secret, f"{ts}GET/user/verify"),
                                                                         a["sign"]):
            return 30015, "Invalid signature"
        self.watch(conn, acct.api_key, self._push)
        return 0, ""

    def _push(self, ev: ExecEvent) -> None:
        key = ev.order.account
        if not self.private.live(key):
            return
        o, s = ev.order, self.spec
        futures = self.futures.owns(o)
        if o.oid in (self.futures.plans if futures else self.plans) and o.status == NEW:
            return          # an untriggered plan is no order yet (plan orders have their own channel)
        if futures:
            self._send_orders(key, PRODUCT, self.futures.push_body(ev))
            return
        body = self.order_body(o)
        for k in ("userId", "symbol", "quoteVolume", "orderSource", "cancelReason", "feeDetail"):
            body.pop(k)
        body.update(instId=s.symbol, newSize=s.qty(o.qty), notional=plain(o.notional), force="gtc",
                    accBaseVolume=s.qty(o.filled), enterPointSource="API")
        if ev.fill_qty:
            body.update(fillPrice=s.px(ev.fill_price), tradeId=str(ev.trade_id), baseVolume=s.qty(ev.fill_qty),
                        fillTime=str(fmt.ms(ev.ts_ns)), fillFee=exact(-ev.fee), fillFeeCoin=s.quote,
                        tradeScope="M" if ev.maker else "T",
                        feeDetail=[{"feeCoin": s.quote, "fee": exact(-o.fees)}])
        else:
            body.update(baseVolume="0", feeDetail=[])
        self._send_orders(key, "SPOT", body)

    def _send_orders(self, key: str, inst_type: str, body: dict) -> None:
        ts = self.now_ms()
        for inst_id in ("default", self.spec.symbol):
            self.private.send(key, f"{inst_type}:orders:{inst_id}", fmt.compact({
                "action": "snapshot", "arg": {"instType": inst_type, "channel": "orders", "instId": inst_id},
                "data": [body], "ts": ts}))
