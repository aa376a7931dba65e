"""Gate API v4's authenticated spot REST and private spot WebSocket channels, as the simulator
serves them on top of the venue-neutral exchange (nexus.sim.exchange).

Sources: Gate API v4 docs (https://www.gate.io/docs/developers/apiv4/en/): "Authentication"
(headers KEY, Timestamp in seconds, SIGN = HMAC-SHA512 hex of METHOD "\n" /api/v4 path "\n"
query string "\n" SHA-512 hex of the body "\n" Timestamp; a Timestamp more than 60 s away
from the server's clock is refused), "Error" (an HTTP 4xx with {"label", "message"}; labels
INVALID_KEY, MISSING_REQUIRED_HEADER, INVALID_SIGNATURE, REQUEST_EXPIRED, INVALID_PARAM_VALUE,
INVALID_CURRENCY_PAIR, INVALID_PRECISION, BALANCE_NOT_ENOUGH, ORDER_NOT_FOUND, TOO_MANY_ORDERS,
REPEATED_CREATION, ...), "Spot": create / get / cancel / list orders, list all open orders,
list spot accounts, "Account" GET /account/detail; the order model of the official SDK
(github.com/gateio/gateapi-python docs/Order.md: `text` "t-" + at most 28 characters,
`amount` base for limits and market sells, QUOTE for market buys, `time_in_force` gtc / ioc /
poc / fok with only ioc / fok for market orders, `status` open / closed / cancelled,
`finish_as`); WebSocket (https://www.gate.io/docs/developers/apiv4/ws/en/): "Authentication"
(the subscribe request carries {"method": "api_key", "KEY", "SIGN"}, SIGN = HMAC-SHA512 hex
of "channel=<channel>&event=<event>&time=<time>"; failure: error code 4), "Orders channel"
spot.orders (result: order objects with `event` put / update / finish), "User trades
channel" spot.usertrades.

Modelled: the spot account ("spot"; "unified" taken as the same book), GTC and IOC limits (an
IOC limit's remainder is cancelled at once, finish_as "ioc"), market orders (a market buy
spends its quote amount walking the asks: the base bought is the most the amount pays for
on the lot grid); fees charged in the quote currency (the simulated exchange keeps them so).
A custom id (text) finds an order only while it is open, as Gate documents. Error messages
follow the texts Gate is seen answering where known ("Signature mismatch", "Missing required
header: ...", "Invalid key provided"); the others name the field.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from decimal import Decimal
from typing import Any, Callable

from nexus.sim import fmt
from nexus.sim.exchange import CANCELED, EXPIRED, FILLED, NEW, TERMINAL, ExecEvent, Reject, SimAccount, SimOrder
from nexus.sim.feed import Conn, SimRequest
from nexus.sim.market import ASK, BUY, SELL
from nexus.sim.private import OffGrid, PrivateTrade, late, plain, units

API = "/api/v4"
WINDOW_S = 60
ORDER_ID_BASE = 600_000_000_000
TRADE_ID_BASE = 9_000_000_000
USER_ID = 10_000_001
TEXT_RE = re.compile(r"^t-[0-9A-Za-z_.\-]{1,28}$")
SIDES = {"buy": BUY, "sell": SELL}
CHANNELS = frozenset({"spot.orders", "spot.usertrades", "spot.balances"})
WS_AUTH_FAILED = 4

REJECTS = {     # exchange reason -> (HTTP status, label, message)
    "insufficient_balance": (400, "BALANCE_NOT_ENOUGH", "Not enough balance"),
    "duplicate_client_id": (400, "REPEATED_CREATION", "Order with the same text already exists"),
    "too_many_orders": (400, "TOO_MANY_ORDERS", "Too many open orders"),
    "off_grid_price": (400, "INVALID_PRECISION", "Invalid price precision"),
    "off_grid_qty": (400, "INVALID_PRECISION", "Invalid amount precision"),
    "price_invalid": (400, "INVALID_PARAM_VALUE", "Invalid price"),
    "qty_invalid": (400, "INVALID_PARAM_VALUE", "Invalid amount"),
    "order_type_invalid": (400, "INVALID_PARAM_VALUE", "Invalid type"),
    "unknown_order": (404, "ORDER_NOT_FOUND", "Order not found"),
    "reduce_only": (400, "INVALID_PARAM_VALUE", "reduce_only is not supported by spot orders"),
    "leverage_invalid": (400, "INVALID_PARAM_VALUE", "Invalid leverage"),
}


class GateError(Exception):
    def __init__(self, status: int, label: str, message: str) -> None:
        super().__init__(message)
        self.status, self.label, self.message = status, label, message


def _bad(message: str) -> GateError:
    return GateError(400, "INVALID_PARAM_VALUE", message)


class GateTrade(PrivateTrade):
    """Order entry and the private spot channels of the simulated Gate venue."""

    def __init__(self, feed) -> None:
        super().__init__(feed)
        self.meta: dict[int, dict] = {}     # oid -> {"text", "tif", "kind", "quote_amount", "finish_as", "account"}

    # -- routes ---------------------------------------------------------------------------
    def routes(self) -> dict[tuple[str, str], Callable]:
        w = self._wrap
        return {
            ("POST", f"{API}/spot/orders"): w(self.create), ("GET", f"{API}/spot/orders"): w(self.list_orders),
            ("GET", f"{API}/spot/orders/{{order_id}}"): w(self.get_order),
            ("DELETE", f"{API}/spot/orders/{{order_id}}"): w(self.cancel_order),
            ("GET", f"{API}/spot/open_orders"): w(self.all_open), ("GET", f"{API}/spot/accounts"): w(self.accounts),
            ("GET", f"{API}/account/detail"): w(self.account_detail),
        }

    def _wrap(self, fn: Callable) -> Callable[[SimRequest], Any]:
        def handle(req: SimRequest):
            try:
                return fn(req)
            except GateError as e:
                return e.status, {"label": e.label, "message": e.message}
        return handle

    # -- authentication ---------------------------------------------------------------------
    def _signed(self, req: SimRequest) -> SimAccount:
        h = req.headers
        for name in ("KEY", "Timestamp", "SIGN"):
            if not h.get(name.lower()):
                raise GateError(401, "MISSING_REQUIRED_HEADER", f"Missing required header: {name}")
        key, ts, sign = h["key"], h["timestamp"], h["sign"]
        acct = self.ex.accounts.get(key)
        if acct is None:
            raise GateError(401, "INVALID_KEY", "Invalid key provided")
        try:
            t = Decimal(ts)
        except ArithmeticError:
            raise GateError(401, "REQUEST_EXPIRED", "Invalid Timestamp") from None
        if not t.is_finite() or abs(t * 1000 - self.now_ms()) > WINDOW_S * 1000:
            raise GateError(401, "REQUEST_EXPIRED", f"gap between request Timestamp and server time exceeds {WINDOW_S}")
        body_hash = hashlib.sha512(req.body.encode()).hexdigest()
        text = f"{req.method}\n{req.path}\n{req.query_string}\n{body_hash}\n{ts}"
        want = hmac.new(acct.secret.encode(), text.encode(), hashlib.sha512).hexdigest()
        if not hmac.compare_digest(want, sign):
            raise GateError(401, "INVALID_SIGNATURE", "Signature mismatch")
        return acct

    def _pair(self, pair: Any, required: bool = True) -> None:
        if pair in (None, "") and not required:
            return
        if pair in (None, ""):
            raise GateError(400, "MISSING_REQUIRED_PARAM", "Missing required parameter: currency_pair")
        if pair != self.spec.symbol:
            raise GateError(400, "INVALID_CURRENCY_PAIR", f"Invalid currency pair {pair}")

    # -- orders -----------------------------------------------------------------------------
    def _units(self, text: Any, dec: int, step: int, what: str) -> int:
        try:
            return units(text, dec, step)
        except OffGrid:
            raise GateError(400, "INVALID_PRECISION", f"Invalid {what} precision: {text}") from None
        except ValueError:
            raise _bad(f"Invalid {what}: {text!r}") from None

    def _market_buy_qty(self, quote: Decimal) -> int:
        """The most base (lot multiples) `quote` pays for walking the asks now."""
        ex, s = self.ex, self.spec
        qty, left = 0, quote
        for p, q in ex.vs.levels(ASK):
            lots_here = q // s.lot
            one = ex.notional(p, s.lot)
            can = min(lots_here, int(left / one)) if one else 0
            qty += can * s.lot
            left -= one * can
            if can < lots_here:
                break
        return qty

    def create(self, req: SimRequest):
        acct = self._signed(req)
        try:
            p = json.loads(req.body or "{}")
        except ValueError:
            raise GateError(400, "INVALID_REQUEST_BODY", "Invalid request body") from None
        if not isinstance(p, dict):
            raise GateError(400, "INVALID_REQUEST_BODY", "Invalid request body")
        self._pair(p.get("currency_pair"))
        side = SIDES.get(p.get("side"))
        if side is None:
            raise _bad(f"Invalid side: {p.get('side')!r}")
        kind = p.get("type", "limit")
        if kind not in ("limit", "market"):
            raise _bad(f"Invalid type: {kind!r}")
        account = p.get("account", "spot")
        if account not in ("spot", "unified"):
            raise _bad(f"Invalid account: {account!r} (this simulator trades the spot account)")
        tif = p.get("time_in_force", "ioc" if kind == "market" else "gtc")
        if tif not in (("ioc", "fok") if kind == "market" else ("gtc", "ioc", "poc", "fok")):
            raise _bad(f"Invalid time_in_force: {tif!r}")
        if tif in ("poc", "fok"):
            raise _bad(f"time_in_force {tif} is not simulated")
        text = p.get("text")
        if text is not None and not (isinstance(text, str) and TEXT_RE.match(text)):
            raise _bad("Invalid text: it must start with t- and hold at most 28 of 0-9 A-Z a-z _ - .")
        s = self.spec
        amount = p.get("amount")
        quote_amount = None
        if kind == "market" and side == BUY:
            try:
                quote_amount = Decimal(amount) if isinstance(amount, str) else None
            except ArithmeticError:
                quote_amount = None
            if quote_amount is None or not quote_amount.is_finite() or quote_amount <= 0:
                raise _bad(f"Invalid amount: {amount!r}")
            if quote_amount > self.ex.free(acct, s.quote):
                raise GateError(*REJECTS["insufficient_balance"])
            qty = self._market_buy_qty(quote_amount / (1 + Decimal("0.0005")))   # what the fee leaves
            if qty <= 0:
                raise GateError(400, "INVALID_PARAM_VALUE", f"Your order size {amount} {s.quote} is too small")
        else:
            qty = self._units(amount, s.qty_dec, s.lot, "amount")
        price = None
        if kind == "limit":
            price = self._units(p.get("price"), s.price_dec, s.tick, "price")
        cid = text[2:] if text else f"sim{next(self._ids)}"
        try:
            o = self.ex.place(acct, cid, side, "LIMIT" if kind == "limit" else "MARKET", qty, price=price)
        except Reject as r:
            raise GateError(*REJECTS[r.reason]) from None
        self.meta[o.oid] = {"text": text or "apiv4", "tif": tif, "kind": kind, "quote_amount": quote_amount,
                            "account": account}
        if kind == "limit" and tif == "ioc" and o.status not in TERMINAL:
            self.meta[o.oid]["finish_as"] = "ioc"
            self.ex.cancel(acct, oid=o.oid)
        body = self.order_body(o)
        delay_s = self.ex.take_response_delay()
        return late(201, body, delay_s) if delay_s else (201, body)

    def order_id(self, o: SimOrder) -> str:
        return str(ORDER_ID_BASE + o.oid)

    def _find(self, acct: SimAccount, order_id: str) -> SimOrder:
        """By Gate id, or by text ("t-...") while the order is open (as Gate documents)."""
        if order_id.startswith("t-"):
            o = self.ex.by_client.get((acct.api_key, order_id[2:]))
            if o is not None and o.status not in TERMINAL:
                return o
        elif order_id.isdigit():
            o = self.ex.orders.get(int(order_id) - ORDER_ID_BASE)
            if o is not None and o.account == acct.api_key:
                return o
        raise GateError(*REJECTS["unknown_order"])

    def _order_path_id(self, req: SimRequest) -> str:
        return req.path.rsplit("/", 1)[1]

    def get_order(self, req: SimRequest):
        acct = self._signed(req)
        self._pair(req.query.get("currency_pair"))
        return 200, self.order_body(self._find(acct, self._order_path_id(req)))

    def cancel_order(self, req: SimRequest):
        acct = self._signed(req)
        self._pair(req.query.get("currency_pair"))
        o = self._find(acct, self._order_path_id(req))
        if o.status in TERMINAL:
            raise GateError(400, "ORDER_CLOSED" if o.status == FILLED else "ORDER_CANCELLED",
                            f"Order {self.order_id(o)} is {'closed' if o.status == FILLED else 'cancelled'}")
        self.ex.cancel(acct, oid=o.oid)
        return 200, self.order_body(o)

    def list_orders(self, req: SimRequest):
        acct = self._signed(req)
        q = req.query
        self._pair(q.get("currency_pair"))
        status = q.get("status")
        if status not in ("open", "finished"):
            raise _bad("Invalid status: open or finished")
        try:
            limit = int(q.get("limit", 100))
        except ValueError:
            raise _bad("Invalid limit") from None
        mine = [o for o in self.ex.orders.values() if o.account == acct.api_key
                and (o.status in TERMINAL) == (status == "finished")]
        mine.sort(key=lambda o: o.updated_ns if status == "finished" else o.created_ns, reverse=status == "finished")
        return 200, [self.order_body(o) for o in mine[:max(1, min(limit, 1000))]]

    def all_open(self, req: SimRequest):
        acct = self._signed(req)
        orders = self.ex.open_orders(acct)
        return 200, ([{"currency_pair": self.spec.symbol, "total": len(orders),
                       "orders": [self.order_body(o) for o in orders]}] if orders else [])

    def accounts(self, req: SimRequest):
        acct = self._signed(req)
        want = req.query.get("currency")
        rows = []
        for c in sorted(set(acct.balances) | set(k for k, v in acct.locked.items() if v)):
            if want not in (None, "", c):
                continue
            locked = acct.locked.get(c, Decimal(0))
            rows.append({"currency": c, "available": plain(self.ex.free(acct, c)), "locked": plain(locked),
                         "update_id": len(self.ex.orders) + 1})
        return 200, rows

    def account_detail(self, req: SimRequest):
        self._signed(req)
        return 200, {"user_id": USER_ID, "ip_whitelist": [], "currency_pairs": [], "key": {"mode": 1}, "tier": 0,
                     "tier_expire_time": "0001-01-01T00:00:00Z", "copy_trading_role": 0}

    # -- bodies -----------------------------------------------------------------------------
    def status_of(self, o: SimOrder) -> tuple[str, str]:
        """Gate's (status, finish_as) of the simulator's order."""
        m = self.meta.get(o.oid, {})
        if o.status not in TERMINAL:
            return "open", "open"
        if o.status == FILLED:
            return "closed", "filled"
        if "finish_as" in m:
            return "cancelled", m["finish_as"]
        if o.status == EXPIRED:
            return "cancelled", "depth_not_enough"
        return "cancelled", "cancelled"

    def order_body(self, o: SimOrder) -> dict:
        s, ex = self.spec, self.ex
        m = self.meta.get(o.oid, {})
        status, finish = self.status_of(o)
        base_filled = ex.base_qty(o.filled)
        avg = o.notional / base_filled if o.filled else Decimal(0)
        quote_amount = m.get("quote_amount")
        if quote_amount is not None:                  # a market buy: amount and left in quote
            amount, left = plain(quote_amount), plain(quote_amount - o.notional if status == "open" else Decimal(0))
        else:
            amount = s.qty(o.qty)
            left = s.qty(o.remaining if status == "open" or finish in ("cancelled", "ioc", "depth_not_enough") else 0)
        created, updated = fmt.ms(o.created_ns), fmt.ms(o.updated_ns)
        return {
            "id": self.order_id(o), "text": m.get("text", "t-" + o.client_id), "amend_text": "-",
            "create_time": str(created // 1000), "update_time": str(updated // 1000), "create_time_ms": created,
            "update_time_ms": updated, "status": status, "currency_pair": s.symbol,
            "type": m.get("kind", "market" if o.type == "MARKET" else "limit"), "account": m.get("account", "spot"),
            "side": "buy" if o.side == BUY else "sell", "amount": amount,
            "price": s.px(o.price) if o.price is not None else "0", "time_in_force": m.get("tif", "gtc"),
            "iceberg": "0", "left": left, "filled_amount": plain(base_filled), "fill_price": plain(o.notional),
            "filled_total": plain(o.notional), "avg_deal_price": plain(avg) if o.filled else "",
            "fee": plain(o.fees), "fee_currency": s.quote, "point_fee": "0", "gt_fee": "0", "gt_maker_fee": "0",
            "gt_taker_fee": "0", "gt_discount": False, "rebated_fee": "0", "rebated_fee_currency": s.quote,
            "stp_id": 0, "stp_act": "-", "finish_as": finish,
        }

    # -- private channels -------------------------------------------------------------------
    def _reply(self, conn: Conn, req: dict, error: tuple[int, str] | None = None) -> None:
        t = self.feed.clock()
        msg: dict[str, Any] = {"time": t // 1_000_000_000, "time_ms": fmt.ms(t), "id": req.get("id"),
                               "conn_id": conn.state.get("conn_id", ""), "channel": req.get("channel"),
                               "event": req.get("event"), "payload": req.get("payload")}
        if error is None:
            msg["result"] = {"status": "success"}
        else:
            msg["error"] = {"code": error[0], "message": error[1]}
            msg["result"] = {"status": "failed"}
        conn.send(fmt.compact(msg))

    def on_text(self, conn: Conn, req: dict) -> None:
        ch, event, payload = req.get("channel"), req.get("event"), req.get("payload")
        if event not in ("subscribe", "unsubscribe"):
            self._reply(conn, req, (1, f"unknown event {event}"))
            return
        auth, t = req.get("auth"), req.get("time")
        if not isinstance(auth, dict) or auth.get("method") != "api_key":
            self._reply(conn, req, (WS_AUTH_FAILED, "Authentication failed: missing auth"))
            return
        acct = self.ex.accounts.get(auth.get("KEY", ""))
        if acct is None:
            self._reply(conn, req, (WS_AUTH_FAILED, "Authentication failed: invalid key"))
            return
        if type(t) is not int or abs(t * 1000 - self.now_ms()) > WINDOW_S * 1000:
            self._reply(conn, req, (WS_AUTH_FAILED, "Authentication failed: request expired"))
            return
        want = hmac.new(acct.secret.encode(), f"channel={ch}&event={event}&time={t}".encode(),
                        hashlib.sha512).hexdigest()
        sign = auth.get("SIGN")
        if not isinstance(sign, str) or not hmac.compare_digest(want, sign):
            self._reply(conn, req, (WS_AUTH_FAILED, "Authentication failed: signature mismatch"))
            return
        if not isinstance(payload, list) or not payload or any(x not in ("!all", self.spec.symbol) for x in payload):
            self._reply(conn, req, (2, f"unknown currency pair {payload}"))
            return
        self.watch(conn, acct.api_key, self._push)
        if event == "subscribe":
            conn.state["topics"].add(ch)
        else:
            conn.state["topics"].discard(ch)
        self._reply(conn, req)

    def _update(self, ch: str, result: list) -> str:
        t = self.feed.clock()
        return fmt.compact({"time": t // 1_000_000_000, "time_ms": fmt.ms(t), "channel": ch, "event": "update",
                            "result": result})

    def _push(self, ev: ExecEvent) -> None:
        key = ev.order.account
        if not self.private.live(key):
            return
        o, s = ev.order, self.spec
        body = self.order_body(o)
        if ev.fill_qty:
            ts = fmt.ms(ev.ts_ns)
            self.private.send(key, "spot.usertrades", self._update("spot.usertrades", [{
                "id": TRADE_ID_BASE + ev.trade_id, "user_id": USER_ID, "order_id": body["id"],
                "currency_pair": s.symbol, "create_time": ts // 1000, "create_time_ms": f"{ts}.000000",
                "side": body["side"], "amount": s.qty(ev.fill_qty), "role": "maker" if ev.maker else "taker",
                "price": s.px(ev.fill_price), "fee": plain(ev.fee), "fee_currency": s.quote, "point_fee": "0",
                "gt_fee": "0", "text": body["text"], "amend_text": "-", "biz_info": ""}]))
        event = "finish" if o.status in TERMINAL else ("put" if o.status == NEW and not ev.fill_qty else "update")
        self.private.send(key, "spot.orders", self._update("spot.orders", [{**body, "event": event}]))
        if ev.fill_qty or o.status == CANCELED:
            rows = [{"timestamp": str(fmt.ms(ev.ts_ns) // 1000), "timestamp_ms": str(fmt.ms(ev.ts_ns)),
                     "user": str(USER_ID), "currency": c, "change": "0",
                     "total": plain(self.ex.accounts[key].balances.get(c, Decimal(0))),
                     "available": plain(self.ex.free(self.ex.accounts[key], c)),
                     "freeze": plain(self.ex.accounts[key].locked.get(c, Decimal(0))),
                     "freeze_change": "0", "change_type": "order-match"} for c in (s.base, s.quote)]
            self.private.send(key, "spot.balances", self._update("spot.balances", rows))
