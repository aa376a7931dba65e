"""KuCoin spot's authenticated REST and private WebSocket topics, as the simulator serves them on
top of the venue-neutral exchange (nexus.sim.exchange).

Sources (KuCoin API docs, https://www.kucoin.com/docs-new/, and the OpenAPI specs KuCoin publishes
with its universal SDK, github.com/Kucoin/kucoin-universal-sdk spec/rest/api/openapi-spot-order.json,
openapi-account-account.json, spec/ws/openapi-spot-private.json):

- Authentication ("Authentication", "Signing a Message"): headers KC-API-KEY, KC-API-SIGN =
  Base64 HMAC-SHA256(secret, timestamp + method + endpoint[?query] + body), KC-API-TIMESTAMP (ms),
  KC-API-PASSPHRASE (key versions 2 and 3: Base64 HMAC-SHA256(secret, passphrase); version 1:
  clear), KC-API-KEY-VERSION. A timestamp more than 5 s from the server's clock is refused.
  Failures are HTTP 401 with the gateway codes of "Error Code" (docs-new/error-code):
  400001 a header missing, 400002 Invalid KC-API-TIMESTAMP, 400003 KC-API-KEY not exists,
  400004 Invalid KC-API-PASSPHRASE, 400005 Invalid KC-API-SIGN, 400009 Invalid KC-API-KEY-VERSION.
- Spot HF orders: "Add Order" POST /api/v1/hf/orders {clientOid, symbol, side, type limit|market,
  price, size, timeInForce} -> {"orderId","clientOid"}; "Get Order By ClientOid" GET
  /api/v1/hf/orders/client-order/{clientOid}?symbol=, "Get Order By OrderId" GET
  /api/v1/hf/orders/{orderId}?symbol=, "Cancel Order By ClientOid" DELETE
  /api/v1/hf/orders/client-order/{clientOid}?symbol= -> {"clientOid"}, "Cancel Order By OrderId"
  DELETE /api/v1/hf/orders/{orderId}?symbol= -> {"orderId"}, "Get Open Orders" GET
  /api/v1/hf/orders/active?symbol=, "Get Symbols With Open Order" GET /api/v1/hf/orders/active/symbols.
- Stop orders: "Add Stop Order" POST /api/v1/stop-order {clientOid, symbol, side, type, stop
  loss|entry, stopPrice, size} -> {"orderId"}; "Get Stop Order By ClientOid" GET
  /api/v1/stop-order/queryOrderByClientOid (a list: the untriggered stop, status NEW);
  "Cancel Stop Order By ClientOid" DELETE /api/v1/stop-order/cancelOrderByClientOid ->
  {"cancelledOrderId","clientOid"}. Once triggered, the order is an HF order with the same
  clientOid. Modelled: `entry` buys (trigger when the last price rises to stopPrice) and `loss`
  sells (when it falls to it), market on trigger; the other pairings are refused (400100).
- Account: "Get Account List - Spot" GET /api/v1/accounts (balance, available, holds),
  "Get Apikey Info" GET /api/v1/user/api-key (`permission` "General,Spot[,Transfer]": Transfer
  is the withdrawal right), "Get Account Type - Spot" GET /api/v1/hf/accounts/opened (true),
  "Get Private Token" POST /api/v1/bullet-private; and, for clients that load margin pairs
  with their keys (ccxt), the cross / isolated margin symbol lists, empty (not traded here).
- Order failures (HTTP 200, the spot error table and ccxt's kucoin table, which quotes the venue):
  200004 Balance insufficient, 126004 unknown trading pair, 126043 Order does not exist,
  126044 clientOid duplicate, 200003 too many orders, 400100 parameter errors ("Price
  increment invalid.", "Order size increment invalid.", ...).
- Private topics ("Private Channels"): /spotMarket/tradeOrdersV2 (and V1) `orderChange`
  {clientOid, orderId, type received|open|match|filled|canceled, status new|open|match|done,
  filledSize, remainSize, canceledSize, matchPrice, matchSize, tradeId, liquidity, ...};
  /spotMarket/advancedOrders `stopOrder` {orderId, type open|triggered|cancel, stop, stopPrice};
  /account/balance. A private topic on a public token: error 403 "login is required".
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from decimal import Decimal
from typing import Any, Callable

from nexus.sim import fmt
from nexus.sim.exchange import (
    CANCELED, EXPIRED, FILLED, MAKER_FEE, NEW, PARTIALLY_FILLED, TAKER_FEE, ExecEvent, Reject, SimAccount, SimOrder,
)
from nexus.sim.feed import Conn, SimRequest
from nexus.sim.market import BUY, SELL
from nexus.sim.private import OffGrid, PrivateTrade, late, units

OK = "200000"
EXPIRY_MS = 5_000
KEY_VERSIONS = ("1", "2", "3")
HF = "/api/v1/hf/orders"
STOP = "/api/v1/stop-order"
ORDERS_V2, ORDERS_V1 = "/spotMarket/tradeOrdersV2", "/spotMarket/tradeOrders"
ADVANCED, BALANCE = "/spotMarket/advancedOrders", "/account/balance"
PRIVATE_TOPICS = (ORDERS_V2, ORDERS_V1, ADVANCED, BALANCE)
SIDES = {"buy": BUY, "sell": SELL}
SIDE_NAMES = {BUY: "buy", SELL: "sell"}
STOP_KIND = {BUY: "entry", SELL: "loss"}       # the only pairings modelled (module docstring)
ORDER_ID_BASE = 0x670FD33BF9406E0000000000     # 24 hex digits, as KuCoin's order ids
USER_ID = "633559791e1cbc0001f319bc"

AUTH = {
    "missing": ("400001", "Any of KC-API-KEY, KC-API-SIGN, KC-API-TIMESTAMP, KC-API-PASSPHRASE is missing in "
                          "your request header."),
    "timestamp": ("400002", "Invalid KC-API-TIMESTAMP."),
    "key": ("400003", "KC-API-KEY not exists"),
    "passphrase": ("400004", "Invalid KC-API-PASSPHRASE"),
    "sign": ("400005", "Invalid KC-API-SIGN"),
    "version": ("400009", "Invalid KC-API-KEY-VERSION."),
}
REJECTS = {
    "insufficient_balance": ("200004", "Balance insufficient!"),
    "duplicate_client_id": ("126044", "clientOid duplicate"),
    "too_many_orders": ("200003", "Number of orders breached the limit"),
    "off_grid_price": ("400100", "Price increment invalid."),
    "price_invalid": ("400100", "Price increment invalid."),
    "off_grid_qty": ("400100", "Order size increment invalid."),
    "qty_invalid": ("400100", "Order size below the minimum requirement."),
    "order_type_invalid": ("400100", "Parameter Error: type"),
    "reduce_only": ("400100", "Parameter Error: reduceOnly"),
    "unknown_order": ("126043", "Order does not exist"),
    "leverage_invalid": ("400100", "Parameter Error: leverage"),
}
UNKNOWN_SYMBOL = ("126004", "Trading pair does not exist or is prohibited")
UNKNOWN_ORDER = REJECTS["unknown_order"]


class KucoinError(Exception):
    def __init__(self, code: str, msg: str, status: int = 200) -> None:
        super().__init__(msg)
        self.code, self.msg, self.status = code, msg, status


def exact(v: Decimal) -> str:
    """An exact decimal string, no exponent, no trailing zeros (KuCoin writes funds, fees and
    balances at full precision, e.g. "21.133773386762")."""
    t = format(v, "f")
    return (t.rstrip("0").rstrip(".") if "." in t else t) or "0"


def _b64_hmac(secret: str, text: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), text.encode(), hashlib.sha256).digest()).decode()


def stop_pending(o: SimOrder) -> bool:
    """A stop order not (yet) triggered: it lives in the stop-order system, not as an HF order
    (a triggered stop executes at market at once: it is filled or expired, never still NEW)."""
    return o.type == "STOP" and o.status in (NEW, CANCELED)


class KucoinTrade(PrivateTrade):
    """Order entry, accounts and private topics of the simulated KuCoin spot venue."""

    def __init__(self, feed) -> None:
        super().__init__(feed)
        self.token_keys: dict[str, str] = {}      # bullet-private token -> the account's API key

    # -- routes ---------------------------------------------------------------------------
    def routes(self) -> dict[tuple[str, str], Callable]:
        w = self._wrap
        return {   # "active" before "{orderId}": aiohttp matches routes in this order
            ("POST", HF): w(self.place), ("GET", f"{HF}/active"): w(self.active),
            ("GET", f"{HF}/active/symbols"): w(self.active_symbols),
            ("GET", f"{HF}/client-order/{{clientOid}}"): w(self.query_cid),
            ("DELETE", f"{HF}/client-order/{{clientOid}}"): w(self.cancel_cid),
            ("GET", f"{HF}/{{orderId}}"): w(self.query_oid), ("DELETE", f"{HF}/{{orderId}}"): w(self.cancel_oid),
            ("POST", STOP): w(self.place_stop), ("GET", f"{STOP}/queryOrderByClientOid"): w(self.query_stop),
            ("DELETE", f"{STOP}/cancelOrderByClientOid"): w(self.cancel_stop),
            ("GET", "/api/v1/accounts"): w(self.accounts), ("GET", "/api/v1/user/api-key"): w(self.api_key),
            ("GET", "/api/v1/hf/accounts/opened"): w(lambda req, acct: True),
            ("GET", "/api/v3/margin/symbols"): w(lambda req, acct: {"timestamp": self.now_ms(), "items": []}),
            ("GET", "/api/v1/isolated/symbols"): w(lambda req, acct: []),
            ("POST", "/api/v1/bullet-private"): w(self.bullet_private),
        }

    def _wrap(self, fn: Callable) -> Callable[[SimRequest], Any]:
        def handle(req: SimRequest):
            try:
                acct = self._signed(req)
                data = fn(req, acct)
            except KucoinError as e:
                return e.status, {"code": e.code, "msg": e.msg}
            if isinstance(data, tuple):           # (delay, data): a test-only late answer
                return late(200, {"code": OK, "data": data[1]}, data[0])
            return 200, {"code": OK, "data": data}
        return handle

    # -- authentication ---------------------------------------------------------------------
    def _signed(self, req: SimRequest) -> SimAccount:
        h = req.headers
        key, sign, ts = h.get("kc-api-key", ""), h.get("kc-api-sign", ""), h.get("kc-api-timestamp", "")
        passphrase, version = h.get("kc-api-passphrase", ""), h.get("kc-api-key-version", "1")
        if not (key and sign and ts and passphrase):
            raise KucoinError(*AUTH["missing"], 401)
        acct = self.ex.accounts.get(key)
        if acct is None:
            raise KucoinError(*AUTH["key"], 401)
        if not ts.isdigit() or abs(self.now_ms() - int(ts)) > EXPIRY_MS:
            raise KucoinError(*AUTH["timestamp"], 401)
        if version not in KEY_VERSIONS:
            raise KucoinError(*AUTH["version"], 401)
        want = acct.passphrase or ""
        if version != "1":
            want = _b64_hmac(acct.secret, want)
        if not acct.passphrase or not hmac.compare_digest(want, passphrase):
            raise KucoinError(*AUTH["passphrase"], 401)
        endpoint = req.path + (f"?{req.query_string}" if req.query_string else "")
        if not hmac.compare_digest(_b64_hmac(acct.secret, ts + req.method + endpoint + req.body), sign):
            raise KucoinError(*AUTH["sign"], 401)
        return acct

    @staticmethod
    def _body(req: SimRequest) -> dict:
        try:
            p = json.loads(req.body or "{}")
        except ValueError:
            raise KucoinError("400100", "Parameter Error: the body is not JSON") from None
        if not isinstance(p, dict):
            raise KucoinError("400100", "Parameter Error: the body is not a JSON object")
        return p

    # -- ids --------------------------------------------------------------------------------
    @staticmethod
    def order_id(o: SimOrder) -> str:
        return format(ORDER_ID_BASE + o.oid, "024x")

    @staticmethod
    def stop_id(o: SimOrder) -> str:
        return f"vs8hoo{o.oid:018d}"

    def _by_oid(self, acct: SimAccount, oid: str) -> SimOrder | None:
        try:
            n = int(oid, 16) - ORDER_ID_BASE
        except ValueError:
            return None
        o = self.ex.orders.get(n)
        return o if o is not None and o.account == acct.api_key and not stop_pending(o) else None

    def _by_cid(self, acct: SimAccount, cid: str) -> SimOrder | None:
        return self.ex.by_client.get((acct.api_key, cid))

    def _symbol(self, symbol: Any) -> None:
        if symbol != self.spec.symbol:
            raise KucoinError(*UNKNOWN_SYMBOL)

    # -- orders -----------------------------------------------------------------------------
    def _units(self, p: dict, name: str, dec: int, step: int) -> int | None:
        text = p.get(name)
        if text in (None, ""):
            return None
        try:
            return units(str(text), dec, step)
        except OffGrid:
            raise KucoinError(*REJECTS["off_grid_qty" if name == "size" else "off_grid_price"]) from None
        except ValueError:
            raise KucoinError("400100", f"Parameter Error: {name}") from None

    def _new(self, acct: SimAccount, p: dict, kind: str) -> SimOrder:
        self._symbol(p.get("symbol"))
        side = SIDES.get(str(p.get("side")))
        if side is None:
            raise KucoinError("400100", "Parameter Error: side")
        if p.get("funds") not in (None, ""):
            raise KucoinError("400100", "Parameter Error: funds (the simulator takes market orders by size)")
        if p.get("timeInForce", "GTC") != "GTC" or p.get("postOnly") in (True, "true") \
                or p.get("hidden") in (True, "true") or p.get("iceberg") in (True, "true"):
            raise KucoinError("400100", "Parameter Error: the simulator models GTC orders only")
        s = self.spec
        size = self._units(p, "size", s.qty_dec, s.lot)
        if size is None or size <= 0:
            raise KucoinError(*REJECTS["qty_invalid"])
        price = self._units(p, "price", s.price_dec, s.tick) if p.get("type") == "limit" else None
        if p.get("type") == "limit" and price is None:
            raise KucoinError("400100", "Parameter Error: price")
        stop = None
        if kind == "STOP":
            stop = self._units(p, "stopPrice", s.price_dec, s.tick)
            if stop is None:
                raise KucoinError("400100", "Parameter Error: stopPrice")
            if p.get("stop", STOP_KIND[side]) != STOP_KIND[side] or p.get("type") != "market":
                raise KucoinError("400100", "Parameter Error: the simulator models market stops, "
                                            "stop=entry buys and stop=loss sells")
        cid = p.get("clientOid") or f"sim{next(self._ids)}"
        if not isinstance(cid, str) or len(cid) > 40:
            raise KucoinError("400100", "Parameter Error: clientOid")
        try:
            return self.ex.place(acct, cid, side, kind, size, price=price, stop=stop)
        except Reject as r:
            code, msg = REJECTS[r.reason]
            if r.reason == "duplicate_client_id" and kind == "STOP":
                code, msg = "400100", "validation.createOrder.clientOidDuplicated"
            raise KucoinError(code, msg) from None

    def place(self, req: SimRequest, acct: SimAccount):
        p = self._body(req)
        kind = {"market": "MARKET", "limit": "LIMIT"}.get(str(p.get("type")))
        if kind is None:
            raise KucoinError(*REJECTS["order_type_invalid"])
        o = self._new(acct, p, kind)
        if o.resting:
            self._push_order(o, "open", "open")
        data = {"orderId": self.order_id(o), "clientOid": o.client_id}
        delay_s = self.ex.take_response_delay()
        return (delay_s, data) if delay_s else data

    def place_stop(self, req: SimRequest, acct: SimAccount):
        p = self._body(req)
        if p.get("tradeType", "TRADE") != "TRADE":
            raise KucoinError("400100", "Parameter Error: tradeType (the simulator trades spot)")
        o = self._new(acct, p, "STOP")
        return {"orderId": self.stop_id(o)}

    def query_cid(self, req: SimRequest, acct: SimAccount):
        self._symbol(req.query.get("symbol"))
        o = self._by_cid(acct, req.path.rsplit("/", 1)[-1])
        if o is None or stop_pending(o):
            raise KucoinError(*UNKNOWN_ORDER)
        return self.order_body(o)

    def query_oid(self, req: SimRequest, acct: SimAccount):
        self._symbol(req.query.get("symbol"))
        o = self._by_oid(acct, req.path.rsplit("/", 1)[-1])
        if o is None:
            raise KucoinError(*UNKNOWN_ORDER)
        return self.order_body(o)

    def _cancel(self, acct: SimAccount, o: SimOrder | None) -> SimOrder:
        if o is None or stop_pending(o):
            raise KucoinError(*UNKNOWN_ORDER)
        try:
            self.ex.cancel(acct, oid=o.oid)
        except Reject:
            raise KucoinError(*UNKNOWN_ORDER) from None
        return o

    def cancel_cid(self, req: SimRequest, acct: SimAccount):
        self._symbol(req.query.get("symbol"))
        o = self._cancel(acct, self._by_cid(acct, req.path.rsplit("/", 1)[-1]))
        return {"clientOid": o.client_id}

    def cancel_oid(self, req: SimRequest, acct: SimAccount):
        self._symbol(req.query.get("symbol"))
        o = self._cancel(acct, self._by_oid(acct, req.path.rsplit("/", 1)[-1]))
        return {"orderId": self.order_id(o)}

    def active(self, req: SimRequest, acct: SimAccount):
        self._symbol(req.query.get("symbol"))
        return [self.order_body(o) for o in self.ex.open_orders(acct) if not stop_pending(o)]

    def active_symbols(self, req: SimRequest, acct: SimAccount):
        held = any(not stop_pending(o) for o in self.ex.open_orders(acct))
        return {"symbols": [self.spec.symbol] if held else []}

    def query_stop(self, req: SimRequest, acct: SimAccount):
        o = self._by_cid(acct, req.query.get("clientOid", ""))
        if o is None or o.type != "STOP" or o.status != NEW \
                or req.query.get("symbol", self.spec.symbol) != self.spec.symbol:
            return []
        return [self.stop_body(o)]

    def cancel_stop(self, req: SimRequest, acct: SimAccount):
        o = self._by_cid(acct, req.query.get("clientOid", ""))
        if o is None or o.type != "STOP" or o.status != NEW:
            raise KucoinError("400100", "order_not_exist_or_not_allow_to_cancel")
        self.ex.cancel(acct, oid=o.oid)
        return {"cancelledOrderId": self.stop_id(o), "clientOid": o.client_id}

    # -- account ----------------------------------------------------------------------------
    def accounts(self, req: SimRequest, acct: SimAccount):
        kind = req.query.get("type", "trade")
        if kind not in ("trade", "trade_hf"):
            return []                # the funding ("main") account holds nothing here
        want = req.query.get("currency")
        rows = []
        for i, c in enumerate(dict.fromkeys((self.spec.base, self.spec.quote, *acct.balances))):
            if want and c != want:
                continue
            total = acct.balances.get(c, Decimal(0))
            rows.append({"id": f"{548674591753 + i}", "currency": c, "type": kind, "balance": exact(total),
                         "available": exact(self.ex.free(acct, c)), "holds": exact(acct.locked.get(c, Decimal(0)))})
        return rows

    def api_key(self, req: SimRequest, acct: SimAccount):
        perm = "General,Spot" + (",Transfer" if acct.can_withdraw else "")
        return {"remark": "nexus sim", "apiKey": acct.api_key, "apiVersion": int(req.headers.get("kc-api-key-version",
                "2") or 2), "permission": perm, "ipWhitelist": "", "createdAt": self.now_ms(), "uid": 165111215,
                "isMaster": True}

    def bullet_private(self, req: SimRequest, acct: SimAccount):
        token, data = self.feed.issue_token(req.headers.get("host", "127.0.0.1"))
        self.token_keys[token] = acct.api_key
        return data

    # -- bodies -----------------------------------------------------------------------------
    def order_body(self, o: SimOrder) -> dict:
        s, ex = self.spec, self.ex
        active = o.status in (NEW, PARTIALLY_FILLED)
        done_left = 0 if active or o.status == FILLED else o.remaining
        funds = ex.notional(o.price, o.qty) if o.price else Decimal(0)
        return {
            "id": self.order_id(o), "clientOid": o.client_id, "symbol": s.symbol, "opType": "DEAL",
            "type": "limit" if o.type == "LIMIT" else "market", "side": SIDE_NAMES[o.side],
            "price": s.px(o.price) if o.price else "0", "size": s.qty(o.qty), "funds": exact(funds),
            "dealSize": s.qty(o.filled), "dealFunds": exact(o.notional),
            "remainSize": s.qty(o.remaining) if active else "0",
            "remainFunds": exact(funds - o.notional) if active and o.price else "0",
            "cancelledSize": s.qty(done_left), "cancelledFunds": "0", "fee": exact(o.fees),
            "feeCurrency": s.quote, "stp": None, "timeInForce": "GTC", "postOnly": False, "hidden": False,
            "iceberg": False, "visibleSize": "0", "cancelAfter": 0, "channel": "API", "remark": None, "tags": None,
            "cancelExist": o.status in (CANCELED, EXPIRED), "tradeType": "TRADE", "inOrderBook": o.resting,
            "active": active, "tax": "0", "createdAt": fmt.ms(o.created_ns), "lastUpdatedAt": fmt.ms(o.updated_ns),
        }

    def stop_body(self, o: SimOrder) -> dict:
        s = self.spec
        return {
            "id": self.stop_id(o), "symbol": s.symbol, "userId": USER_ID, "status": "NEW", "type": "market",
            "side": SIDE_NAMES[o.side], "price": "0", "size": s.qty(o.qty), "funds": None, "stp": None,
            "timeInForce": "GTC", "cancelAfter": -1, "postOnly": False, "hidden": False, "iceberg": False,
            "visibleSize": None, "channel": "API", "clientOid": o.client_id, "remark": None, "tags": None,
            "orderTime": o.created_ns, "domainId": "kucoin", "tradeSource": "USER", "tradeType": "TRADE",
            "feeCurrency": s.quote, "takerFeeRate": exact(TAKER_FEE), "makerFeeRate": exact(MAKER_FEE),
            "createdAt": fmt.ms(o.created_ns), "stop": STOP_KIND[o.side], "stopTriggerTime": None,
            "stopPrice": s.px(o.stop),
        }

    # -- private topics ---------------------------------------------------------------------
    def on_open(self, conn: Conn, token: str) -> None:
        key = self.token_keys.get(token)
        if key is not None and key in self.ex.accounts:
            self.watch(conn, key, self._push)

    def subscribe(self, conn: Conn, rid, topic: str, kind: str) -> bool:
        """A private topic's (un)subscribe; False when `topic` is not private."""
        if not topic.startswith(PRIVATE_TOPICS):
            return False
        if topic not in PRIVATE_TOPICS:
            conn.send(fmt.compact({"id": rid, "type": "error", "code": 404, "data": f"topic {topic} is not found"}))
        elif self.private.account(conn) is None:
            conn.send(fmt.compact({"id": rid, "type": "error", "code": 403, "data": "login is required"}))
        else:
            (conn.state["topics"].add if kind == "subscribe" else conn.state["topics"].discard)(topic)
            conn.send(fmt.compact({"id": rid, "type": "ack"}))
        return True

    def _message(self, topic: str, subject: str, data: dict) -> str:
        return fmt.compact({"topic": topic, "type": "message", "subject": subject, "userId": USER_ID,
                            "channelType": "private", "data": data})

    def _push_order(self, o: SimOrder, kind: str, status: str, ev: ExecEvent | None = None) -> None:
        """An orderChange push. `received` is the order as it arrived (a triggered stop's is
        rendered from the event of its first fill: before that fill)."""
        s = self.spec
        received = kind == "received"
        active = received or o.status in (NEW, PARTIALLY_FILLED)
        filled = 0 if received else o.filled
        d = {"canceledSize": s.qty(0 if active or o.status == FILLED else o.remaining), "clientOid": o.client_id,
             "filledSize": s.qty(filled), "orderId": self.order_id(o), "orderTime": fmt.ms(o.created_ns),
             "orderType": "limit" if o.type == "LIMIT" else "market", "originSize": s.qty(o.qty),
             "remainSize": s.qty(o.qty - filled) if active else "0", "side": SIDE_NAMES[o.side], "size": s.qty(o.qty),
             "status": status, "symbol": s.symbol, "ts": ev.ts_ns if ev else self.feed.clock(), "type": kind}
        if o.price:
            d["price"] = s.px(o.price)
        if ev is not None and ev.fill_qty and not received:
            d.update(matchPrice=s.px(ev.fill_price), matchSize=s.qty(ev.fill_qty), tradeId=str(ev.trade_id),
                     liquidity="maker" if ev.maker else "taker", feeType="makerFee" if ev.maker else "takerFee")
        self.private.send(o.account, ORDERS_V2, self._message(ORDERS_V2, "orderChange", d))
        if kind != "received":
            self.private.send(o.account, ORDERS_V1, self._message(ORDERS_V1, "orderChange", d))

    def _push_stop(self, o: SimOrder, kind: str, ts_ns: int) -> None:
        s = self.spec
        d = {"createdAt": fmt.ms(o.created_ns), "orderId": self.stop_id(o), "orderPrice": "0", "orderType": "stop",
             "side": SIDE_NAMES[o.side], "size": s.qty(o.qty), "stop": STOP_KIND[o.side], "stopPrice": s.px(o.stop),
             "symbol": s.symbol, "tradeType": "TRADE", "type": kind, "ts": ts_ns}
        self.private.send(o.account, ADVANCED, self._message(ADVANCED, "stopOrder", d))

    def _push(self, ev: ExecEvent) -> None:
        o, key = ev.order, ev.order.account
        if not self.private.live(key):
            return
        if stop_pending(o):
            self._push_stop(o, "open" if o.status == NEW else "cancel", ev.ts_ns)
            return
        if o.type == "STOP" and (ev.fill_qty == o.filled or not o.filled):    # its first event after trigger
            self._push_stop(o, "triggered", ev.ts_ns)
            self._push_order(o, "received", "new", ev)
        if ev.fill_qty:
            self._push_order(o, "match", "match", ev)
            if o.status == FILLED:
                self._push_order(o, "filled", "done", ev)
        elif o.status == NEW:
            self._push_order(o, "received", "new", ev)
        elif o.status in (CANCELED, EXPIRED):
            self._push_order(o, "canceled", "done", ev)
        if ev.fill_qty or o.status in (CANCELED, EXPIRED):
            self._push_balances(o)

    def _push_balances(self, o: SimOrder) -> None:
        acct = self.ex.accounts[o.account]
        for c in (self.spec.base, self.spec.quote):
            total = acct.balances.get(c, Decimal(0))
            d = {"accountId": "548674591753", "currency": c, "total": exact(total),
                 "available": exact(self.ex.free(acct, c)), "hold": exact(acct.locked.get(c, Decimal(0))),
                 "availableChange": "0", "holdChange": "0",
                 "relationContext": {"symbol": self.spec.symbol, "orderId": self.order_id(o)},
                 "relationEvent": "trade.setted", "relationEventId": str(next(self._ids)),
                 "time": str(self.now_ms())}
            self.private.send(o.account, BALANCE, self._message(BALANCE, "account.balance", d))
