"""Gate API v4's authenticated spot REST and private spot WebSocket channels (GateTrade), and
the USDT-settled futures ones (GateFuturesTrade, below), as the simulator serves them on top
of the venue-neutral exchange (nexus.sim.exchange).

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
A custom id (text) finds an order only while it is open, as Gate documents. Price-triggered
orders (stops, /spot/price_orders and /futures/usdt/price_orders): sim_price_orders.py. Error messages
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
from nexus.venues.gate.sim_price_orders import (  # noqa: F401 (GateError, _bad: this module's API too)
    API, ORDER_ID_BASE, SIDES, USER_ID, FuturesPriceOrders, GateError, SpotPriceOrders, _bad,
)

WINDOW_S = 60
TRADE_ID_BASE = 9_000_000_000
TEXT_RE = re.compile(r"^t-[0-9A-Za-z_.\-]{1,28}$")
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


class GateTrade(SpotPriceOrders, PrivateTrade):
    """Order entry and the private spot channels of the simulated Gate venue."""

    rejects = REJECTS

    def __init__(self, feed) -> None:
        super().__init__(feed)
        self.meta: dict[int, dict] = {}     # oid -> {"text", "tif", "kind", "quote_amount", "finish_as", "account"}
        self.init_price_orders()

    # -- routes ---------------------------------------------------------------------------
    def routes(self) -> dict[tuple[str, str], Callable]:
        w = self._wrap
        return {
            ("POST", f"{API}/spot/orders"): w(self.create), ("GET", f"{API}/spot/orders"): w(self.list_orders),
            ("GET", f"{API}/spot/orders/{{order_id}}"): w(self.get_order),
            ("DELETE", f"{API}/spot/orders/{{order_id}}"): w(self.cancel_order),
            ("GET", f"{API}/spot/open_orders"): w(self.all_open), ("GET", f"{API}/spot/accounts"): w(self.accounts),
            ("GET", f"{API}/account/detail"): w(self.account_detail),
            **self.price_routes(),
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
        acct = self.keys.accounts.get(key)
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
        return self.account_for(acct)

    @property
    def keys(self):
        """The exchange whose accounts hold the keys (`sim.open_account`): the spot one."""
        return self.feed.exchange()

    def account_for(self, acct: SimAccount) -> SimAccount:
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
        """By Gate id, or by text ("t-...") while `_by_text` finds it (as Gate documents)."""
        if order_id.startswith("t-"):
            o = self.ex.by_client.get((acct.api_key, order_id[2:]))
            if o is not None and self._by_text(o):
                return o
        elif order_id.isdigit():
            o = self.ex.orders.get(int(order_id) - ORDER_ID_BASE)
            if o is not None and o.account == acct.api_key and not self.unfired(o):
                return o
        raise GateError(*self.rejects["unknown_order"])

    def _by_text(self, o: SimOrder) -> bool:
        """Spot: an order is found by its text while it is open."""
        return o.status not in TERMINAL

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

    def _list_market(self, q: dict) -> None:
        """The market a list of orders names (spot: its currency_pair, required)."""
        self._pair(q.get("currency_pair"))

    def list_orders(self, req: SimRequest):
        acct = self._signed(req)
        q = req.query
        self._list_market(q)
        status = q.get("status")
        if status not in ("open", "finished"):
            raise _bad("Invalid status: open or finished")
        try:
            limit = int(q.get("limit", 100))
        except ValueError:
            raise _bad("Invalid limit") from None
        mine = [o for o in self.ex.orders.values() if o.account == acct.api_key and not self.unfired(o)
                and (o.status in TERMINAL) == (status == "finished")]
        mine.sort(key=lambda o: o.updated_ns if status == "finished" else o.created_ns, reverse=status == "finished")
        return 200, [self.order_body(o) for o in mine[:max(1, min(limit, 1000))]]

    def all_open(self, req: SimRequest):
        acct = self._signed(req)
        orders = [o for o in self.ex.open_orders(acct) if not self.unfired(o)]
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
        acct = self.keys.accounts.get(auth.get("KEY", ""))
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
        if not self.payload_ok(payload):
            self._reply(conn, req, (2, f"unknown currency pair {payload}"))
            return
        self.account_for(acct)
        self.watch(conn, acct.api_key, self._push)
        if event == "subscribe":
            conn.state["topics"].add(ch)
        else:
            conn.state["topics"].discard(ch)
        self._reply(conn, req)

    def payload_ok(self, payload: Any) -> bool:
        return isinstance(payload, list) and bool(payload) and all(x in ("!all", self.spec.symbol) for x in payload)

    def _update(self, ch: str, result: list) -> str:
        t = self.feed.clock()
        return fmt.compact({"time": t // 1_000_000_000, "time_ms": fmt.ms(t), "channel": ch, "event": "update",
                            "result": result})

    def _push(self, ev: ExecEvent) -> None:
        key = ev.order.account
        if not self.private.live(key) or self.unfired(ev.order):
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


# -- USDT-settled futures -------------------------------------------------------------------------
FUTURES = f"{API}/futures/usdt"
FUTURES_CHANNELS = frozenset({"futures.orders", "futures.usertrades", "futures.positions"})
FUTURES_LEVERAGE_MAX = 125          # the contract listing's leverage_max (sim.py contract_info)
FUTURES_REJECTS = {     # exchange reason -> (HTTP status, label, message)
    "insufficient_balance": (400, "INSUFFICIENT_AVAILABLE", "Insufficient available balance"),
    "duplicate_client_id": (400, "INVALID_PARAM_VALUE", "Duplicated text"),
    "too_many_orders": (400, "TOO_MANY_ORDERS", "Too many open orders"),
    "off_grid_price": (400, "INVALID_PRECISION", "price is not a multiple of order_price_round"),
    "off_grid_qty": (400, "INVALID_PARAM_VALUE", "size must be a whole number of contracts"),
    "price_invalid": (400, "INVALID_PARAM_VALUE", "Invalid price"),
    "qty_invalid": (400, "INVALID_PARAM_VALUE", "Invalid size"),
    "order_type_invalid": (400, "INVALID_PARAM_VALUE", "Invalid order"),
    "unknown_order": (404, "ORDER_NOT_FOUND", "Order not found"),
    "reduce_only": (400, "REDUCE_EXCEEDED", "Reduce-only order would increase the position"),
    "leverage_invalid": (400, "LEVERAGE_TOO_HIGH", f"leverage too high, the maximum is {FUTURES_LEVERAGE_MAX}"),
}
TEXT_LOOKUP_AFTER_FINISH_NS = 60 * 1_000_000_000    # "checked within 60 seconds after the end of the order"


class GateFuturesTrade(FuturesPriceOrders, GateTrade):
    """Gate's USDT-settled futures order entry on the same simulated book (sizes are whole
    contracts; a contract is the pair's amount step, see sim.py). Sources: Gate API v4 docs
    "Futures" (https://www.gate.io/docs/developers/apiv4/en/#futures: "Create a futures
    order" POST /futures/usdt/orders, "Get a single order" / "Cancel a single order"
    /futures/usdt/orders/{order_id} (the text works while open and for 60 s after the order
    ended), "List futures orders" ?contract&status, "List all positions of a user", "Get
    single position", "Update position leverage" POST /futures/usdt/positions/{contract}
    /leverage?leverage=, "Query futures account"; the SDK's FuturesOrder, Position and
    FuturesAccount models), the futures WebSocket (https://www.gate.io/docs/developers/
    futures/ws/en/: futures.orders, futures.usertrades, futures.positions with payload
    [user id, contract | "!all"], the same auth object as spot). Error labels from Gate's
    futures error table: CONTRACT_NOT_FOUND, INSUFFICIENT_AVAILABLE, LEVERAGE_TOO_HIGH /
    LEVERAGE_TOO_LOW, REDUCE_EXCEEDED (a reduce-only order that would not reduce),
    POSITION_EMPTY (one with no position at all), ORDER_NOT_FOUND, ORDER_FINISHED,
    INVALID_PRECISION (a price off order_price_round), INVALID_PARAM_VALUE.

    Modelled: single position mode, isolated leverage per account (the Position's
    `leverage`), market orders as price "0" with tif ioc, GTC and IOC limits. A classic
    account's futures wallet is its own: opened, the first time a key trades futures, with
    the spot account's quote balance as its USDT."""

    def __init__(self, feed) -> None:
        super().__init__(feed)
        self._fex = None

    @property
    def ex(self):
        if self._fex is None:
            from nexus.sim.exchange import SimExchange

            spot = self.feed.exchange()
            self._fex = SimExchange(spot.vs, self.spec, perpetual=True, clock=self.feed.clock,
                                    publish_fills=spot.publish_fills, leverage_max=FUTURES_LEVERAGE_MAX)
        return self._fex

    def account_for(self, acct: SimAccount) -> SimAccount:
        f = self.ex.accounts.get(acct.api_key)
        if f is None:
            q = self.spec.quote
            f = self.ex.open_account(acct.api_key, acct.secret, can_withdraw=acct.can_withdraw,
                                     balances={q: acct.balances.get(q, Decimal(0))})
        return f

    def routes(self) -> dict[tuple[str, str], Callable]:
        w = self._wrap
        return {
            ("POST", f"{FUTURES}/orders"): w(self.create), ("GET", f"{FUTURES}/orders"): w(self.list_orders),
            ("GET", f"{FUTURES}/orders/{{order_id}}"): w(self.get_order),
            ("DELETE", f"{FUTURES}/orders/{{order_id}}"): w(self.cancel_order),
            ("GET", f"{FUTURES}/positions"): w(self.positions),
            ("GET", f"{FUTURES}/positions/{{contract}}"): w(self.position),
            ("POST", f"{FUTURES}/positions/{{contract}}/leverage"): w(self.leverage),
            ("GET", f"{FUTURES}/accounts"): w(self.account),
            **self.price_routes(),
        }

    rejects = FUTURES_REJECTS

    def _contract(self, c: Any, required: bool = True) -> None:
        if c in (None, "") and not required:
            return
        if c != self.spec.symbol:
            raise GateError(400, "CONTRACT_NOT_FOUND", f"Contract {c} not found")

    # -- orders -----------------------------------------------------------------------------
    def create(self, req: SimRequest):
        acct = self._signed(req)
        try:
            p = json.loads(req.body or "{}")
        except ValueError:
            raise GateError(400, "INVALID_REQUEST_BODY", "Invalid request body") from None
        if not isinstance(p, dict):
            raise GateError(400, "INVALID_REQUEST_BODY", "Invalid request body")
        self._contract(p.get("contract"))
        size = p.get("size")
        if isinstance(size, str) and re.fullmatch(r"-?[0-9]+", size):
            size = int(size)
        if type(size) is not int or size == 0:
            raise _bad(f"Invalid size: {p.get('size')!r} (whole contracts, positive to buy, negative to sell; "
                       "closing with size 0 is not simulated)")
        tif = p.get("tif", "gtc")
        if tif not in ("gtc", "ioc", "poc", "fok"):
            raise _bad(f"Invalid tif: {tif!r}")
        if tif in ("poc", "fok"):
            raise _bad(f"tif {tif} is not simulated")
        price_text = p.get("price", "0")
        market = price_text in ("0", 0, "")
        if market and tif != "ioc":
            raise _bad("a market order (price 0) needs tif ioc")
        price = None if market else self._units(price_text, self.spec.price_dec, self.spec.tick, "price")
        text = p.get("text")
        if text is not None and not (isinstance(text, str) and TEXT_RE.match(text)):
            raise _bad("Invalid text: it must start with t- and hold at most 28 of 0-9 A-Z a-z _ - .")
        reduce_only = p.get("reduce_only") is True
        cid = text[2:] if text else f"simf{next(self._ids)}"
        side = BUY if size > 0 else SELL
        try:
            o = self.ex.place(acct, cid, side, "MARKET" if market else "LIMIT", abs(size), price=price,
                              reduce_only=reduce_only)
        except Reject as r:
            if r.reason == "reduce_only" and not acct.position:
                raise GateError(400, "POSITION_EMPTY", "Position is empty: a reduce-only order has nothing to reduce") \
                    from None
            raise GateError(*FUTURES_REJECTS[r.reason]) from None
        self.meta[o.oid] = {"text": text or "api", "tif": tif, "kind": "market" if market else "limit"}
        if not market and tif == "ioc" and o.status not in TERMINAL:
            self.meta[o.oid]["finish_as"] = "ioc"
            self.ex.cancel(acct, oid=o.oid)
        body = self.order_body(o)
        delay_s = self.ex.take_response_delay()
        return late(201, body, delay_s) if delay_s else (201, body)

    def _by_text(self, o: SimOrder) -> bool:
        """Futures: by its text while open, and for a while after it finished."""
        return o.status not in TERMINAL or self.feed.clock() - o.updated_ns <= TEXT_LOOKUP_AFTER_FINISH_NS

    def get_order(self, req: SimRequest):
        acct = self._signed(req)
        return 200, self.order_body(self._find(acct, self._order_path_id(req)))

    def cancel_order(self, req: SimRequest):
        acct = self._signed(req)
        o = self._find(acct, self._order_path_id(req))
        if o.status in TERMINAL:
            raise GateError(400, "ORDER_FINISHED", "Order finished")
        self.ex.cancel(acct, oid=o.oid)
        return 200, self.order_body(o)

    def _list_market(self, q: dict) -> None:
        """Futures: the contract, if named, must be listed."""
        self._contract(q.get("contract"), required=False)

    def status_of(self, o: SimOrder) -> tuple[str, str]:
        m = self.meta.get(o.oid, {})
        if o.status not in TERMINAL:
            return "open", ""
        if o.status == FILLED:
            return "finished", "filled"
        if "finish_as" in m:
            return "finished", m["finish_as"]
        if o.status == EXPIRED:
            return "finished", "reduce_only" if o.reduce_only else "ioc"
        return "finished", "cancelled"

    def order_body(self, o: SimOrder) -> dict:
        s, ex = self.spec, self.ex
        m = self.meta.get(o.oid, {})
        status, finish = self.status_of(o)
        sign = 1 if o.side == BUY else -1
        avg = o.notional / ex.base_qty(o.filled) if o.filled else Decimal(0)
        body: dict[str, Any] = {
            "id": ORDER_ID_BASE + o.oid, "user": USER_ID, "create_time": o.created_ns // 1_000_000 / 1000,
            "status": status, "contract": s.symbol, "size": sign * o.qty, "iceberg": 0,
            "price": s.px(o.price) if o.price is not None else "0", "close": False, "is_close": False,
            "reduce_only": o.reduce_only, "is_reduce_only": o.reduce_only, "is_liq": False,
            "tif": m.get("tif", "gtc"), "left": sign * (o.remaining if status == "open" or finish != "filled" else 0),
            "fill_price": s.px(0) if not o.filled else plain(avg), "text": m.get("text", "t-" + o.client_id),
            "tkfr": "0.0005", "mkfr": "0.0002", "refu": 0, "auto_size": "", "stp_id": 0, "stp_act": "-",
            "amend_text": "-",
        }
        if status == "finished":
            body["finish_time"] = o.updated_ns // 1_000_000 / 1000
            body["finish_as"] = finish
        return body

    # -- positions, leverage, account -------------------------------------------------------
    def position_body(self, acct: SimAccount) -> dict:
        ex, s = self.ex, self.spec
        qty = ex.base_qty(acct.position)
        entry = acct.entry_cost / qty if qty else Decimal(0)
        from nexus.sim.private import mark
        return {
            "user": USER_ID, "contract": s.symbol, "size": acct.position, "leverage": str(acct.leverage),
            "risk_limit": "1000000", "leverage_max": str(FUTURES_LEVERAGE_MAX), "maintenance_rate": "0.004",
            "value": plain(abs(acct.entry_cost)), "margin": plain(abs(acct.entry_cost) / acct.leverage),
            "entry_price": plain(entry), "liq_price": "0", "mark_price": plain(mark(ex)),
            "initial_margin": plain(abs(acct.entry_cost) / acct.leverage), "maintenance_margin": "0",
            "unrealised_pnl": plain(ex.unrealised(acct)), "realised_pnl": plain(acct.realised),
            "pnl_pnl": plain(acct.realised), "pnl_fund": "0", "pnl_fee": "0", "history_pnl": plain(acct.realised),
            "last_close_pnl": "0", "realised_point": "0", "history_point": "0", "adl_ranking": 5,
            "pending_orders": len(ex.open_orders(acct)), "close_order": None, "mode": "single",
            "cross_leverage_limit": "0", "update_time": self.now_ms() // 1000, "update_id": len(ex.orders) + 1,
            "open_time": 0,
        }

    def positions(self, req: SimRequest):
        acct = self._signed(req)
        return 200, [self.position_body(acct)]

    def position(self, req: SimRequest):
        acct = self._signed(req)
        self._contract(req.path.rsplit("/", 1)[1])
        return 200, self.position_body(acct)

    def leverage(self, req: SimRequest):
        acct = self._signed(req)
        self._contract(req.path.split("/")[-2])
        text = req.query.get("leverage", "")
        if not text.isdigit():
            raise _bad(f"Invalid leverage: {text!r}")
        n = int(text)
        if n < 1:
            raise GateError(400, "LEVERAGE_TOO_LOW", "leverage too low (0, cross margin, is not simulated)")
        try:
            self.ex.set_leverage(acct, n)
        except Reject:
            raise GateError(*FUTURES_REJECTS["leverage_invalid"]) from None
        return 200, self.position_body(acct)

    def account(self, req: SimRequest):
        acct = self._signed(req)
        ex, q = self.ex, self.spec.quote
        return 200, {"total": plain(ex.free(acct, q)), "unrealised_pnl": plain(ex.unrealised(acct)),
                     "position_margin": plain(abs(acct.entry_cost) / acct.leverage),
                     "order_margin": plain(ex.margin_used(acct) - abs(acct.entry_cost) / acct.leverage),
                     "available": plain(ex.available(acct)), "point": "0", "currency": q, "in_dual_mode": False,
                     "enable_credit": False, "position_initial_margin": "0", "maintenance_margin": "0", "bonus": "0",
                     "enable_evolved_classic": False, "history": {"dnw": "0", "pnl": plain(acct.realised), "fee": "0",
                                                                  "refr": "0", "fund": "0", "point_dnw": "0",
                                                                  "point_fee": "0", "point_refr": "0",
                                                                  "bonus_dnw": "0", "bonus_offset": "0"}}

    # -- private channels -------------------------------------------------------------------
    def payload_ok(self, payload: Any) -> bool:
        """[user id, contract | "!all"] (the futures channels name the user first)."""
        return (isinstance(payload, list) and len(payload) == 2 and str(payload[0]) == str(USER_ID)
                and payload[1] in ("!all", self.spec.symbol))

    def _push(self, ev: ExecEvent) -> None:
        key = ev.order.account
        if not self.private.live(key) or self.unfired(ev.order):
            return
        o, s = ev.order, self.spec
        body = self.order_body(o)
        t = self.feed.clock()
        if ev.fill_qty:
            sign = 1 if o.side == BUY else -1
            self.private.send(key, "futures.usertrades", self._update("futures.usertrades", [{
                "id": str(TRADE_ID_BASE + ev.trade_id), "create_time": ev.ts_ns // 1_000_000_000,
                "create_time_ms": fmt.ms(ev.ts_ns), "contract": s.symbol, "order_id": str(body["id"]),
                "size": sign * ev.fill_qty, "price": s.px(ev.fill_price), "role": "maker" if ev.maker else "taker",
                "text": body["text"], "fee": plain(ev.fee), "point_fee": 0}]))
        row = {k: body.get(k) for k in ("contract", "fill_price", "finish_as", "iceberg", "id", "is_close", "is_liq",
                                        "is_reduce_only", "left", "mkfr", "price", "refu", "size", "status", "text",
                                        "tif", "tkfr", "stp_id", "stp_act", "amend_text")}
        row.update(create_time=int(body["create_time"]), create_time_ms=fmt.ms(o.created_ns), user=str(USER_ID),
                   finish_time=int(body.get("finish_time", 0)), finish_time_ms=fmt.ms(o.updated_ns)
                   if o.status in TERMINAL else 0, finish_as=body.get("finish_as", ""), refr="0")
        self.private.send(key, "futures.orders", self._update("futures.orders", [row]))
        if ev.fill_qty:
            acct = self.ex.accounts[key]
            p = self.position_body(acct)
            self.private.send(key, "futures.positions", self._update("futures.positions", [{
                "contract": s.symbol, "cross_leverage_limit": 0, "entry_price": float(p["entry_price"]),
                "history_pnl": float(p["history_pnl"]), "history_point": 0, "last_close_pnl": 0,
                "leverage": acct.leverage, "leverage_max": FUTURES_LEVERAGE_MAX, "liq_price": 0,
                "maintenance_rate": 0.004, "margin": float(p["margin"]), "mode": "single",
                "realised_pnl": float(p["realised_pnl"]), "realised_point": 0, "risk_limit": 1000000,
                "size": acct.position, "time": t // 1_000_000_000, "time_ms": fmt.ms(t), "user": str(USER_ID),
                "update_id": p["update_id"]}]))
