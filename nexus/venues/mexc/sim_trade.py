"""MEXC spot v3's authenticated REST and private WebSocket channels, as the simulator serves
them on top of the venue-neutral exchange (nexus.sim.exchange).

Sources (MEXC Spot v3 API docs, https://mexcdevelop.github.io/apidocs/spot_v3_en/ and
https://www.mexc.com/api-docs/spot-v3/): "General Info" (SIGNED endpoints: `signature` =
HMAC-SHA256 lowercase hex of totalParams, the query string concatenated with the body, both as
sent, without `signature`; the key in X-MEXC-APIKEY; accepted when
`timestamp < serverTime + 1000` and `serverTime - timestamp <= recvWindow`, recvWindow default
5000 and below 60000), "Spot Account/Trade" (New Order, Query Order, Cancel Order, Current
Open Orders, Account Information), "Websocket User Data Streams" (listen keys: POST / PUT /
DELETE /api/v3/userDataStream, signed; the stream ws://…/ws?listenKey=<key>; channels
`spot@private.orders.v3.api.pb`, `spot@private.deals.v3.api.pb`, `spot@private.account.v3.api.pb`
pushed as PushDataV3ApiWrapper protobuf frames, schemas github.com/mexcdevelop/websocket-proto),
"Error Code" (https://www.mexc.com/api-docs/spot-v3/error-code).

Failures as MEXC answers them, HTTP 400 with `{"code": <int>, "msg": "..."}`:
- 400 "api key required" (no X-MEXC-APIKEY), 10072 "Api key info invalid" (unknown key);
- 700002 "Signature for this request is not valid." (missing or wrong signature);
- 700003 "Timestamp for this request is outside of the recvWindow."; 700005 "recvWindow must
  less than 60000"; 700008 "Illegal characters found in parameter '<name>'" (missing or
  malformed parameter, unknown enum value);
- 10007 "bad symbol" (a symbol the venue does not list);
- 400 "quantity scale is invalid" / "price scale is invalid" (more decimals than the symbol's
  baseAssetPrecision / quotePrecision: the grid, which MEXC defines by decimals; observed
  bodies of the live API, e.g. {"msg":" amount scale is invalid","code":400});
- 30002 "The minimum transaction volume cannot be less than :<n>USDT" (notional below the
  symbol's quoteAmountPrecision); 30004 "Insufficient position" (balance); 30029 "Cannot
  exceed the maximum order limit";
- -2013 "Order does not exist." (query), -2011 "Unknown order sent." (cancel), 700004 "Param
  'origClientOrderId' or 'orderId' must be sent, but both were empty/null!".
Order types LIMIT and MARKET are traded (MARKET by `quantity`, or a buy by `quoteOrderQty`,
converted at the book); LIMIT_MAKER, IMMEDIATE_OR_CANCEL and FILL_OR_KILL are answered 30041
"current order type can not place order" (not modelled); the spot API has no stop orders.
A newClientOrderId the account already used is refused with MEXC's code for a repeated
request, 603 "Repeated request". Order ids are MEXC-style strings
("C02__<digits>"). REST statuses NEW, PARTIALLY_FILLED, FILLED, CANCELED, PARTIALLY_CANCELED
(a market order's unfilled remainder ends CANCELED / PARTIALLY_CANCELED, as the venue's IOC
remainder does).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from decimal import ROUND_DOWN, Decimal
from typing import Any, Callable
from urllib.parse import parse_qsl

from nexus.sim import fmt
from nexus.sim.exchange import CANCELED, EXPIRED, FILLED, NEW, PARTIALLY_FILLED, ExecEvent, Reject, SimAccount, SimOrder
from nexus.sim.feed import Conn, SimRequest
from nexus.sim.market import ASK, BUY, SELL
from nexus.sim.private import PrivateTrade, late, plain as _plain
from nexus.venues.mexc.pb.PushDataV3ApiWrapper_pb2 import PushDataV3ApiWrapper

RECV_WINDOW_DEFAULT_MS = 5000
RECV_WINDOW_MS_MAX = 60000
AHEAD_MS_MAX = 1000
MIN_QUOTE_AMOUNT = Decimal(1)          # exchangeInfo quoteAmountPrecision: the smallest order value
LISTEN_KEY_LEN = 64
ORDER_ID_BASE = 505_979_017_439_002_624_000
ORDER_ID_PREFIX = "C02__"
DECIMAL_PARAM = re.compile(r"^[0-9]{1,20}(\.[0-9]{1,20})?$")
ORDERS_CH, DEALS_CH, ACCOUNT_CH = ("spot@private.orders.v3.api.pb", "spot@private.deals.v3.api.pb",
                                   "spot@private.account.v3.api.pb")
PRIVATE_CHANNELS = frozenset({ORDERS_CH, DEALS_CH, ACCOUNT_CH})

SIDES = {"BUY": BUY, "SELL": SELL}
SIDE_NAMES = {BUY: "BUY", SELL: "SELL"}
UNMODELLED_TYPES = frozenset({"LIMIT_MAKER", "IMMEDIATE_OR_CANCEL", "FILL_OR_KILL"})
REJECTS = {
    "insufficient_balance": (30004, "Insufficient position"),
    "duplicate_client_id": (603, "Repeated request"),
    "too_many_orders": (30029, "Cannot exceed the maximum order limit"),
    "off_grid_price": (400, "price scale is invalid"),
    "price_invalid": (700008, "Illegal characters found in parameter 'price'"),
    "off_grid_qty": (400, "quantity scale is invalid"),
    "qty_invalid": (700008, "Illegal characters found in parameter 'quantity'"),
    "order_type_invalid": (30041, "current order type can not place order"),
    "reduce_only": (700008, "Illegal characters found in parameter 'reduceOnly'"),
    "unknown_order": (-2011, "Unknown order sent."),
    "leverage_invalid": (700008, "Illegal characters found in parameter 'leverage'"),
}
# privateOrders: orderType 1 LIMIT_ORDER, 5 MARKET_ORDER; status 1 not traded, 2 fully traded,
# 3 partially traded, 4 cancelled, 5 partially cancelled
PUSH_TYPES = {"LIMIT": 1, "MARKET": 5}


class MexcError(Exception):
    def __init__(self, code: int, msg: str, status: int = 400) -> None:
        super().__init__(msg)
        self.code, self.msg, self.status = code, msg, status

    def reply(self) -> tuple[int, dict]:
        return self.status, {"code": self.code, "msg": self.msg}


def illegal(name: str) -> MexcError:
    return MexcError(700008, f"Illegal characters found in parameter '{name}'")


def strip_signature(raw: str) -> tuple[str, str | None]:
    """`raw` (a query string or body) without its `signature=` item, and that item's value."""
    if not raw:
        return "", None
    kept, sig = [], None
    for item in raw.split("&"):
        if item.startswith("signature="):
            sig = item[len("signature="):]
        else:
            kept.append(item)
    return "&".join(kept), sig


def status_of(o: SimOrder) -> str:
    """MEXC's REST status for the simulator's order."""
    if o.status in (CANCELED, EXPIRED):
        return "PARTIALLY_CANCELED" if o.filled else "CANCELED"
    return {NEW: "NEW", PARTIALLY_FILLED: "PARTIALLY_FILLED", FILLED: "FILLED"}.get(o.status, "CANCELED")


PUSH_STATUS = {"NEW": 1, "FILLED": 2, "PARTIALLY_FILLED": 3, "CANCELED": 4, "PARTIALLY_CANCELED": 5}


class MexcTrade(PrivateTrade):
    """Order entry and the private channels of the simulated MEXC spot venue."""

    def __init__(self, feed) -> None:
        super().__init__(feed)
        self.listen_keys: dict[str, str] = {}          # listenKey -> api key

    # -- routes ---------------------------------------------------------------------------
    def routes(self) -> dict[tuple[str, str], Callable]:
        w = self._wrap
        return {
            ("POST", "/api/v3/order"): w(self.place), ("GET", "/api/v3/order"): w(self.query),
            ("DELETE", "/api/v3/order"): w(self.cancel), ("GET", "/api/v3/openOrders"): w(self.open_orders),
            ("GET", "/api/v3/account"): w(self.account),
            ("GET", "/api/v3/capital/config/getall"): w(self.currencies),
            ("POST", "/api/v3/userDataStream"): w(self.listen_new), ("PUT", "/api/v3/userDataStream"): w(self.listen_keep),
            ("DELETE", "/api/v3/userDataStream"): w(self.listen_close),
        }

    def _wrap(self, fn: Callable) -> Callable[[SimRequest], Any]:
        def handle(req: SimRequest):
            try:
                return fn(req)
            except MexcError as e:
                return e.reply()
        return handle

    # -- authentication ---------------------------------------------------------------------
    def _signed(self, req: SimRequest) -> tuple[SimAccount, dict[str, str]]:
        key = req.headers.get("x-mexc-apikey", "")
        if not key:
            raise MexcError(400, "api key required")
        acct = self.ex.accounts.get(key)
        if acct is None:
            raise MexcError(10072, "Api key info invalid")
        raw_body = req.body if isinstance(req.body, str) else ""
        query, sig_q = strip_signature(req.query_string)
        if raw_body.lstrip().startswith("{"):      # a JSON body (allowed): signed as sent, signature in the query
            body, sig_b = raw_body, None
            try:
                doc = json.loads(raw_body)
            except ValueError:
                raise illegal("body") from None
            params = {k: v if isinstance(v, str) else json.dumps(v) for k, v in doc.items()} \
                if isinstance(doc, dict) else {}
        else:
            body, sig_b = strip_signature(raw_body)
            params = dict(parse_qsl(raw_body, keep_blank_values=True))
        sig = sig_q or sig_b
        params.update(parse_qsl(req.query_string, keep_blank_values=True))   # the query string wins
        want = hmac.new(acct.secret.encode(), (query + body).encode(), hashlib.sha256).hexdigest()
        if not sig or not hmac.compare_digest(want, sig):
            raise MexcError(700002, "Signature for this request is not valid.")
        ts = params.get("timestamp", "")
        if not ts.isdigit():
            raise illegal("timestamp")
        window = params.get("recvWindow", str(RECV_WINDOW_DEFAULT_MS))
        if not window.isdigit():
            raise illegal("recvWindow")
        if int(window) >= RECV_WINDOW_MS_MAX:
            raise MexcError(700005, "recvWindow must less than 60000")
        now = self.now_ms()
        if not (int(ts) < now + AHEAD_MS_MAX and now - int(ts) <= int(window)):
            raise MexcError(700003, "Timestamp for this request is outside of the recvWindow.")
        return acct, params

    # -- parameters -------------------------------------------------------------------------
    def _symbol(self, params: dict) -> None:
        sym = params.get("symbol")
        if not sym:
            raise illegal("symbol")
        if sym != self.spec.symbol:
            raise MexcError(10007, "bad symbol")

    def _units(self, params: dict, name: str, dec: int, step: int, reason: str) -> int | None:
        text = params.get(name)
        if text is None or text == "":
            return None
        if not DECIMAL_PARAM.match(text):
            raise illegal(name)
        v = Decimal(text).scaleb(dec)
        if v != v.to_integral_value() or int(v) % step:
            raise MexcError(*REJECTS[reason])
        return int(v)

    def order_id(self, o: SimOrder) -> str:
        return f"{ORDER_ID_PREFIX}{ORDER_ID_BASE + o.oid}"

    def _oid(self, text: str) -> int | None:
        if text.startswith(ORDER_ID_PREFIX) and text[len(ORDER_ID_PREFIX):].isdigit():
            return int(text[len(ORDER_ID_PREFIX):]) - ORDER_ID_BASE
        return None

    def _order_of(self, acct: SimAccount, params: dict, unknown: tuple[int, str]) -> SimOrder:
        self._symbol(params)
        oid, cid = params.get("orderId"), params.get("origClientOrderId")
        if not oid and not cid:
            raise MexcError(700004, "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!")
        try:
            return self.ex.find(acct, oid=self._oid(oid) if oid else None, client_id=cid)
        except Reject:
            raise MexcError(*unknown) from None

    def _quote_to_qty(self, text: str) -> int:
        """A market buy's quoteOrderQty as a base quantity: what that much quote buys from the
        book now, rounded down to the lot."""
        s = self.spec
        if not DECIMAL_PARAM.match(text):
            raise illegal("quoteOrderQty")
        budget, units = Decimal(text), 0
        for p, q in self.ex.vs.levels(ASK):
            level = self.ex.notional(p, q)
            if level <= budget:
                budget -= level
                units += q
                continue
            part = (budget / self.ex.price_dec(p)).scaleb(s.qty_dec).to_integral_value(ROUND_DOWN)
            units += int(part) // s.lot * s.lot
            break
        return units

    # -- orders -----------------------------------------------------------------------------
    def place(self, req: SimRequest):
        acct, p = self._signed(req)
        self._symbol(p)
        side = SIDES.get(p.get("side", ""))
        if side is None:
            raise illegal("side")
        kind = p.get("type", "")
        if kind in UNMODELLED_TYPES:
            raise MexcError(*REJECTS["order_type_invalid"])
        if kind not in ("LIMIT", "MARKET"):
            raise illegal("type")
        s = self.spec
        qty = self._units(p, "quantity", s.qty_dec, s.lot, "off_grid_qty")
        if qty is None and kind == "MARKET" and side == BUY and p.get("quoteOrderQty"):
            qty = self._quote_to_qty(p["quoteOrderQty"])
            if not qty:
                raise MexcError(30002, f"The minimum transaction volume cannot be less than :{_plain(MIN_QUOTE_AMOUNT)}"
                                       f"{s.quote}")
        if qty is None:
            raise illegal("quantity")
        price = self._units(p, "price", s.price_dec, s.tick, "off_grid_price")
        if kind == "LIMIT" and price is None:
            raise illegal("price")
        ref = price if kind == "LIMIT" else (self.ex.vs.best_ask() if side == BUY else self.ex.vs.best_bid())
        if qty > 0 and ref is not None and self.ex.notional(ref, qty) < MIN_QUOTE_AMOUNT:
            raise MexcError(30002, f"The minimum transaction volume cannot be less than :{_plain(MIN_QUOTE_AMOUNT)}"
                                   f"{s.quote}")
        cid = p.get("newClientOrderId") or self.feed.token("clientOrderId", next(self._ids), 32)
        try:
            o = self.ex.place(acct, cid, side, kind, qty, price=price if kind == "LIMIT" else None)
        except Reject as r:
            raise MexcError(*REJECTS[r.reason]) from None
        body = {"symbol": s.symbol, "orderId": self.order_id(o), "orderListId": -1, "price": s.px(o.price or 0),
                "origQty": s.qty(o.qty), "type": kind, "side": SIDE_NAMES[side], "stpMode": "",
                "transactTime": fmt.ms(o.created_ns)}
        delay_s = self.ex.take_response_delay()
        if delay_s:
            return late(200, body, delay_s)
        return 200, body

    def query(self, req: SimRequest):
        acct, p = self._signed(req)
        return 200, self.order_body(self._order_of(acct, p, (-2013, "Order does not exist.")))

    def cancel(self, req: SimRequest):
        acct, p = self._signed(req)
        o = self._order_of(acct, p, REJECTS["unknown_order"])
        try:
            self.ex.cancel(acct, oid=o.oid)
        except Reject:
            raise MexcError(*REJECTS["unknown_order"]) from None
        b = self.order_body(o)
        return 200, {"symbol": b["symbol"], "origClientOrderId": o.client_id, "orderId": b["orderId"],
                     "clientOrderId": p.get("newClientOrderId") or o.client_id, "price": b["price"],
                     "origQty": b["origQty"], "executedQty": b["executedQty"],
                     "cummulativeQuoteQty": b["cummulativeQuoteQty"], "status": b["status"],
                     "timeInForce": b["timeInForce"], "type": b["type"], "side": b["side"]}

    def open_orders(self, req: SimRequest):
        acct, p = self._signed(req)
        self._symbol(p)
        return 200, [self.order_body(o) for o in self.ex.open_orders(acct)]

    def account(self, req: SimRequest):
        acct, _ = self._signed(req)
        return 200, {"makerCommission": None, "takerCommission": None, "buyerCommission": None,
                     "sellerCommission": None, "canTrade": True, "canWithdraw": acct.can_withdraw,
                     "canDeposit": True, "updateTime": None, "accountType": "SPOT",
                     "balances": self.balances(acct), "permissions": ["SPOT"]}

    def currencies(self, req: SimRequest):
        """GET /api/v3/capital/config/getall ("Query the currency information", signed; what
        ccxt loads with the markets when it holds a key): the instrument's two coins, one
        network each, deposits and withdrawals off (the simulator moves no coins)."""
        self._signed(req)
        return 200, [{"coin": c, "name": c, "networkList": [{
            "coin": c, "depositDesc": None, "depositEnable": False, "minConfirm": 1, "name": c, "network": c,
            "withdrawEnable": False, "withdrawFee": "0", "withdrawIntegerMultiple": None,
            "withdrawMax": "0", "withdrawMin": "0", "sameAddress": False, "contract": "", "withdrawTips": None,
            "depositTips": None, "netWork": c}]} for c in dict.fromkeys((self.spec.base, self.spec.quote))]

    def balances(self, acct: SimAccount) -> list[dict]:
        out = []
        for asset in sorted(set(acct.balances) | {a for a, v in acct.locked.items() if v}):
            locked = acct.locked.get(asset, Decimal(0))
            free = acct.balances.get(asset, Decimal(0)) - locked
            out.append({"asset": asset, "free": _plain(free), "locked": _plain(locked), "available": _plain(free)})
        return out

    def order_body(self, o: SimOrder) -> dict:
        """Query Order / Current Open Orders shape."""
        s = self.spec
        return {"symbol": s.symbol, "orderId": self.order_id(o), "orderListId": -1, "clientOrderId": o.client_id,
                "price": s.px(o.price or 0), "origQty": s.qty(o.qty), "executedQty": s.qty(o.filled),
                "cummulativeQuoteQty": _plain(o.notional), "status": status_of(o), "timeInForce": "",
                "type": o.type, "side": SIDE_NAMES[o.side], "stopPrice": "", "icebergQty": "",
                "time": fmt.ms(o.created_ns), "updateTime": fmt.ms(o.updated_ns),
                "isWorking": o.status in (NEW, PARTIALLY_FILLED), "stpMode": "", "cancelReason": None,
                "origQuoteOrderQty": "0"}

    # -- listen keys ------------------------------------------------------------------------
    def listen_new(self, req: SimRequest):
        acct, _ = self._signed(req)
        key = secrets.token_hex(LISTEN_KEY_LEN // 2)
        self.listen_keys[key] = acct.api_key
        return 200, {"listenKey": key}

    def _listen_key_of(self, acct: SimAccount, params: dict) -> str:
        key = params.get("listenKey", "")
        if self.listen_keys.get(key) != acct.api_key:
            raise MexcError(730002, "Your input param is invalid")
        return key

    def listen_keep(self, req: SimRequest):
        acct, p = self._signed(req)
        return 200, {"listenKey": self._listen_key_of(acct, p)}

    def listen_close(self, req: SimRequest):
        acct, p = self._signed(req)
        key = self._listen_key_of(acct, p)
        del self.listen_keys[key]
        for c in self.private.live(acct.api_key):
            if c.state.get("listen_key") == key:
                c.close(1000, "listenKey closed")
        return 200, {"listenKey": key}

    # -- private stream ---------------------------------------------------------------------
    def open(self, conn: Conn, listen_key: str) -> bool:
        """A connection opened with ?listenKey=: it may subscribe the account's channels."""
        api_key = self.listen_keys.get(listen_key)
        if api_key is None:
            return False
        self.watch(conn, api_key, self._push)
        conn.state["listen_key"] = listen_key
        return True

    def subscribe(self, conn: Conn, channel: str, on: bool) -> bool:
        if channel not in PRIVATE_CHANNELS or self.private.account(conn) is None:
            return False
        topics = conn.state["topics"]
        (topics.add if on else topics.discard)(channel)
        return True

    def _wrapper(self, channel: str) -> PushDataV3ApiWrapper:
        return PushDataV3ApiWrapper(channel=channel, symbol=self.spec.symbol, sendTime=self.now_ms())

    def _push(self, ev: ExecEvent) -> None:
        key = ev.order.account
        if not self.private.live(key):
            return
        o, s, ex = ev.order, self.spec, self.ex
        if ev.fill_qty:
            m = self._wrapper(DEALS_CH)
            d = m.privateDeals
            d.price, d.quantity = s.px(ev.fill_price), s.qty(ev.fill_qty)
            d.amount = _plain(ex.notional(ev.fill_price, ev.fill_qty))
            d.tradeType, d.isMaker, d.isSelfTrade = (1 if o.side == BUY else 2), ev.maker, False
            d.tradeId, d.clientOrderId, d.orderId = str(ev.trade_id), o.client_id, self.order_id(o)
            d.feeAmount, d.feeCurrency, d.time = _plain(ev.fee), s.quote, fmt.ms(ev.ts_ns)
            self.private.send(key, DEALS_CH, m.SerializeToString())
        m = self._wrapper(ORDERS_CH)
        po = m.privateOrders
        po.id, po.clientId = self.order_id(o), o.client_id
        po.price, po.quantity = s.px(o.price or 0), s.qty(o.qty)
        po.amount = _plain(ex.notional(o.price, o.qty) if o.price else Decimal(0))
        po.avgPrice = _plain(o.notional / ex.base_qty(o.filled)) if o.filled else "0"
        po.orderType, po.tradeType, po.isMaker = PUSH_TYPES.get(o.type, 1), (1 if o.side == BUY else 2), ev.maker
        left = 0 if o.status in (CANCELED, EXPIRED, FILLED) else o.remaining
        po.remainQuantity = s.qty(left)
        po.remainAmount = _plain(ex.notional(o.price, left) if o.price else Decimal(0))
        if ev.fill_qty:
            po.lastDealQuantity = s.qty(ev.fill_qty)
        po.cumulativeQuantity, po.cumulativeAmount = s.qty(o.filled), _plain(o.notional)
        po.status, po.createTime = PUSH_STATUS[status_of(o)], fmt.ms(o.created_ns)
        self.private.send(key, ORDERS_CH, m.SerializeToString())
        if ev.fill_qty:        # the two balances the fill moved
            acct, sign = ex.accounts[key], (1 if o.side == BUY else -1)
            value = ex.notional(ev.fill_price, ev.fill_qty)
            for asset, change in ((s.base, sign * ex.base_qty(ev.fill_qty)), (s.quote, -sign * value - ev.fee)):
                m = self._wrapper(ACCOUNT_CH)
                a = m.privateAccount
                a.vcoinName = a.coinId = asset
                a.balanceAmount = _plain(ex.free(acct, asset))
                a.balanceAmountChange = format(change, "f")
                a.frozenAmount = _plain(acct.locked.get(asset, Decimal(0)))
                a.frozenAmountChange = "0"
                a.type, a.time = "CONTRACT_DEAL", fmt.ms(ev.ts_ns)
                self.private.send(key, ACCOUNT_CH, m.SerializeToString())

