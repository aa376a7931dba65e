"""FXCM's trading REST and trading-table updates, as the simulator serves them on top of the
venue-neutral exchange (nexus.sim.exchange).

Sources: FXCM Socket REST API User Guide (fxcm-rest.readthedocs.io/en/latest/
socketrestapispecs.html, the PDF "Socket REST API Specs" linked from github.com/fxcm/RestAPI)
and the fxcm/RestAPI README:

- Answers carry the Date header (the guide's samples), here from the simulator's clock: a
  client's server-time sync measures the simulator's time.
- Every request carries "Authorization: Bearer " + socket id + access token; the socket is
  opened with the token (feed.py). A request without an open socket of that token answers
  HTTP 401 {"response":{"executed":false,"error":"Unauthorized"}} (fxcmpy reports FXCM's
  "Unauthorized" this way, fxcm/fxcmpy issue #1).
- 5.3 GET /trading/get_model?models=Offer&models=Order&models=OpenPosition&models=
  ClosedPosition&models=Account -> {"response":{"executed":true},"offers":[..],"orders":[..],
  "open_positions":[..],"closed_positions":[..],"accounts":[..]} (5.4 table fields).
- 5.1/5.2 POST /trading/subscribe | /trading/unsubscribe models=Order (repeatable): table
  updates are pushed on the socket as 42["Order","<row as JSON text>"] with "action" I/U/D.
- 6.1 POST /trading/open_trade account_id, symbol, is_buy, amount (lots), rate, at_market,
  order_type AtMarket, time_in_force GTC|DAY|IOC|FOK -> {"response":{"executed":true},"data":
  {"type":0,"orderId":81712802}}; an Order row "OM".
- 6.5 POST /trading/create_entry_order account_id, symbol, is_buy, rate, amount, is_in_pips,
  order_type Entry, time_in_force: an entry priced away from the market is a Limit Entry
  ("LE"), one priced through it a Stop Entry ("SE") (fxcm/RestAPI python example,
  create_entry_order docstring).
- 6.2 POST /trading/close_trade trade_id, amount, order_type AtMarket, time_in_force: a "CM"
  order closing that trade. 6.4 POST /trading/delete_order order_id -> "data":null.
- 6.10 POST /trading/change_trade_stop_limit trade_id, is_stop, rate, is_in_pips=false,
  trailing_step -> "data":null: the trade's stop ("S") or limit ("L") order for its whole
  amount, shown in the trade's "stop" / "limit"; setting it again replaces it (a new order id
  here, where FXCM changes the rate of the same order); when the trade is closed its stop and
  limit orders are cancelled with it. A stop on the wrong side of the close price answers
  code 18 "The Stop distance must be " ["<" | ">", 0] (the shape of fxcm/RestAPI issue #127);
  a limit on the wrong side, code 19 (SIM).
- Refusals: HTTP 200 {"response":{"executed":false,"error":"<JSON text {code,message,
  parameters}>"}}. Codes and messages FXCM is seen to send (fxcm/RestAPI README and issues
  #127, #197): 1 "The specified trade does not exist", 3 "Amount should be divisible by <n>".
  The others below are this simulator's, in the same shape (FXCM publishes no code list):
  they are marked SIM in ERRORS.

The account is non-hedging (Accounts "hedging":"N"): an order opposite to open trades closes
them first in order of opening, the rest opens a trade. Every fill of an order opens its own
trade or closes part of one (the README: "a single market order can have many TradeIDs, if
they are partial fills or closing of other orders"); position rows pushed on the socket and
in snapshots carry the "orderId" of the order that opened / closed them (README: "In Open
position ... you will see same order ID + trade ID been insert"). Amounts are lots (the
instrument's quantity unit), written in "amountK" as the amount the order was given.
Market orders execute at once (what the book cannot fill is cancelled, status 3); entries
rest (status 1 Waiting) until crossed (LE) or until the last price reaches them (SE).
Order statuses pushed: 1 Waiting, 2 InProcess, 3 Canceled, 9 Executed; a finished order is
then deleted from the table (action D): FXCM keeps orders "until all the orders are executed".
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import email.utils
import hmac
import itertools
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Callable
from urllib.parse import parse_qs

from nexus.sim import fmt
from nexus.sim.exchange import CANCELED, EXPIRED, FILLED, NEW, ExecEvent, Reject, SimAccount, SimOrder
from nexus.sim.feed import Conn, SimRequest
from nexus.sim.market import BUY, SELL
from nexus.sim.private import PrivateTrade, late, plain

FIRST_ORDER_ID = 81712802          # the guide's sample order id: ids count up from it
FIRST_TRADE_ID = 170162801         # the README's sample trade id
FIRST_ACCOUNT_ID = 1027808         # the guide's sample account id
MODELS = ("Offer", "Order", "OpenPosition", "ClosedPosition", "Account", "Summary")
TABLE_KEYS = {"Offer": "offers", "Order": "orders", "OpenPosition": "open_positions",
              "ClosedPosition": "closed_positions", "Account": "accounts", "Summary": "summary"}
STATUS_WAITING, STATUS_IN_PROCESS, STATUS_CANCELED, STATUS_EXECUTED = 1, 2, 3, 9
UNAUTHORIZED = {"response": {"executed": False, "error": "Unauthorized"}}

# reason -> (code, message, parameters); SIM: this simulator's choice, not a code FXCM documents
ERRORS = {
    "trade_unknown": (1, "The specified trade does not exist", []),          # FXCM (issue #197)
    "amount": (3, "Amount should be divisible by {lot}", ["{lot}"]),         # FXCM (README)
    "order_unknown": (1, "The specified order does not exist", []),          # SIM, after code 1
    "insufficient_balance": (5, "Not enough margin", []),                     # SIM
    "symbol": (7, "Unknown symbol {symbol}", ["{symbol}"]),                  # SIM
    "rate": (9, "The rate is not a multiple of the instrument's pip fraction {tick}", ["{tick}"]),  # SIM
    "account": (11, "The specified account does not exist", []),            # SIM
    "param": (13, "Invalid or missing parameter {name}", ["{name}"]),        # SIM
    "stop_distance": (18, "The Stop distance must be ", ["{op}", 0]),        # FXCM (issue #127)
    "limit_distance": (19, "The Limit distance must be ", ["{op}", 0]),      # SIM, after code 18
}


class FxcmError(Exception):
    def __init__(self, reason: str, **kw) -> None:
        code, msg, params = ERRORS[reason]
        super().__init__(msg.format(**kw))
        self.code = code
        self.message = msg.format(**kw)
        self.parameters = [p.format(**kw) if isinstance(p, str) else p for p in params]

    def reply(self) -> tuple[int, str]:
        err = json.dumps({"code": self.code, "message": self.message, "parameters": self.parameters},
                         separators=(",", ":"))
        return 200, fmt.compact({"response": {"executed": False, "error": err}})


@dataclass
class Trade:
    trade_id: str
    order_id: str               # the order that opened it
    is_buy: bool
    amount: int                 # lots (quantity units)
    open_px: int
    open_ns: int
    com: Decimal = Decimal(0)


@dataclass
class Book:
    """One account's FXCM-side records: its id, open trades (oldest first), closed rows."""

    account_id: str
    trades: list[Trade] = field(default_factory=list)
    closed: list[dict] = field(default_factory=list)
    orders: dict[str, dict] = field(default_factory=dict)    # order id -> its FXCM fields (type, rate, ...)
    attached: dict[str, dict[str, tuple[str, int]]] = field(default_factory=dict)  # trade -> "S"/"L" -> (order, rate)


def _time(ts_ns: int) -> str:
    """FXCM's table time: MMDDYYYYhhmmss plus milliseconds ("04252018120716391")."""
    d = _dt.datetime.fromtimestamp(ts_ns / 1e9, tz=_dt.timezone.utc)
    return d.strftime("%m%d%Y%H%M%S") + f"{ts_ns // 1_000_000 % 1000:03d}"


def _bool(v: str | None) -> bool | None:
    return {"true": True, "false": False}.get((v or "").lower())


class FxcmTrade(PrivateTrade):
    """Trading REST and trading-table pushes of the FXCM feed."""

    def __init__(self, feed) -> None:
        super().__init__(feed)
        self.books: dict[str, Book] = {}                 # api key -> book
        self._order_ids = itertools.count(FIRST_ORDER_ID)
        self._trade_ids = itertools.count(FIRST_TRADE_ID)

    # -- accounts and authentication ------------------------------------------------------------
    def account_by_token(self, token: str) -> SimAccount | None:
        if not token or token == self.feed.data_token:
            return None
        try:
            accounts = list(self.ex.accounts.values())
        except RuntimeError:            # a feed alone (no simulator core): no accounts
            return None
        for acct in accounts:
            if hmac.compare_digest(acct.secret.encode(), token.encode()):
                return acct
        return None

    def book(self, acct: SimAccount) -> Book:
        b = self.books.get(acct.api_key)
        if b is None:
            b = self.books[acct.api_key] = Book(str(FIRST_ACCOUNT_ID + len(self.books)))
        return b

    def open_socket(self, conn: Conn, token: str) -> None:
        """A socket opened with an account's token: that account's table updates go to it."""
        acct = self.account_by_token(token)
        if acct is not None:
            self.book(acct)
            self.watch(conn, acct.api_key, self._push)

    def _auth(self, req: SimRequest) -> tuple[Conn, SimAccount]:
        conn = self.feed.conn_of(req)
        if conn is None:
            raise _Unauthorized()
        acct = self.account_by_token(conn.state.get("token", ""))
        if acct is None:
            raise _Unauthorized()
        return conn, acct

    # -- routes -------------------------------------------------------------------------------------
    def routes(self) -> dict[tuple[str, str], Callable]:
        w = self._wrap
        return {("GET", "/trading/get_model"): w(self.get_model), ("POST", "/trading/subscribe"): w(self.subscribe),
                ("POST", "/trading/unsubscribe"): w(self.unsubscribe), ("POST", "/trading/open_trade"): w(self.open_trade),
                ("POST", "/trading/create_entry_order"): w(self.create_entry_order),
                ("POST", "/trading/close_trade"): w(self.close_trade),
                ("POST", "/trading/change_trade_stop_limit"): w(self.change_trade_stop_limit),
                ("POST", "/trading/delete_order"): w(self.delete_order)}

    def _wrap(self, fn: Callable) -> Callable[[SimRequest], object]:
        def handle(req: SimRequest):
            try:
                result = fn(req)
            except _Unauthorized:
                result = 401, UNAUTHORIZED
            except FxcmError as e:
                result = e.reply()
            return self._dated(result)
        return handle

    def _dated(self, result):
        """The answer with FXCM's Date header (server time, one-second resolution) from the
        simulator's clock; a late answer (test fault) keeps the clock of its decision."""
        date = {"Date": email.utils.format_datetime(
            _dt.datetime.fromtimestamp(self.feed.clock() / 1e9, tz=_dt.timezone.utc), usegmt=True)}
        if isinstance(result, tuple):
            return (*result, date)

        async def later():
            status, body = await result
            return status, body, date
        return later()

    @staticmethod
    def _form(req: SimRequest) -> dict[str, list[str]]:
        return parse_qs(req.body, keep_blank_values=True)

    @staticmethod
    def _one(form: dict, name: str, required: bool = True) -> str | None:
        v = form.get(name, [None])[-1]
        if required and (v is None or v == ""):
            raise FxcmError("param", name=name)
        return v

    # -- snapshots ----------------------------------------------------------------------------------
    def get_model(self, req: SimRequest):
        models = [m for v in parse_qs(req.query_string).get("models", []) for m in v.split(",") if m]
        conn = self.feed.conn_of(req)
        if conn is None:
            raise _Unauthorized()
        acct = self.account_by_token(conn.state.get("token", ""))
        if not models or any(m not in MODELS for m in models):
            raise FxcmError("param", name="models")
        if acct is None and models != ["Offer"]:
            raise _Unauthorized()
        body: dict = {"response": {"executed": True}}
        for m in models:
            key = TABLE_KEYS[m]
            if m == "Offer":
                body[key] = [self.feed.offer_row()]
            elif m == "Order":
                body[key] = [self._order_row(acct, o) for o in self.ex.open_orders(acct)]
            elif m == "OpenPosition":
                body[key] = [self._open_row(acct, t) for t in self.book(acct).trades]
            elif m == "ClosedPosition":
                body[key] = list(self.book(acct).closed)
            elif m == "Account":
                body[key] = [self._account_row(acct)]
            else:
                body[key] = []
        return 200, fmt.dumps(body)

    def subscribe(self, req: SimRequest, on: bool = True):
        conn, acct = self._auth(req)
        models = [m for v in self._form(req).get("models", []) for m in v.split(",") if m]
        if not models or any(m not in MODELS or m == "Offer" for m in models):
            raise FxcmError("param", name="models")
        topics = conn.state.setdefault("topics", set())
        for m in models:
            (topics.add if on else topics.discard)(m)
        return 200, {"response": {"executed": True}}

    def unsubscribe(self, req: SimRequest):
        return self.subscribe(req, on=False)

    # -- orders -------------------------------------------------------------------------------------
    def _account(self, acct: SimAccount, form: dict) -> Book:
        b = self.book(acct)
        if self._one(form, "account_id").lstrip("0") != b.account_id:
            raise FxcmError("account")
        return b

    def _symbol(self, form: dict) -> None:
        sym = self._one(form, "symbol")
        if sym != self.spec.symbol:
            raise FxcmError("symbol", symbol=sym)

    def _amount(self, form: dict) -> int:
        text = self._one(form, "amount")
        s = self.spec
        try:
            v = Decimal(text).scaleb(s.qty_dec)
        except ArithmeticError:
            raise FxcmError("param", name="amount") from None
        if v <= 0 or v != v.to_integral_value() or int(v) % s.lot:
            raise FxcmError("amount", lot=s.lot_str())
        return int(v)

    def _rate(self, form: dict) -> int:
        text = self._one(form, "rate")
        s = self.spec
        try:
            v = Decimal(text).scaleb(s.price_dec)
        except ArithmeticError:
            raise FxcmError("param", name="rate") from None
        if v <= 0 or v != v.to_integral_value() or int(v) % s.tick:
            raise FxcmError("rate", tick=s.tick_str())
        return int(v)

    def _side(self, form: dict) -> int:
        b = _bool(self._one(form, "is_buy"))
        if b is None:
            raise FxcmError("param", name="is_buy")
        return BUY if b else SELL

    def _place(self, acct: SimAccount, b: Book, fields: dict, side: int, type_: str, qty: int, *,
               price: int | None = None, stop: int | None = None, reduce_only: bool = False):
        oid = self._new_order(acct, b, fields, side, type_, qty, price=price, stop=stop, reduce_only=reduce_only)
        body = {"response": {"executed": True}, "data": {"type": 0, "orderId": int(oid)}}
        delay = self.ex.take_response_delay()
        return late(200, body, delay) if delay else (200, body)

    def _new_order(self, acct: SimAccount, b: Book, fields: dict, side: int, type_: str, qty: int, *,
                   price: int | None = None, stop: int | None = None, reduce_only: bool = False) -> str:
        oid = str(next(self._order_ids))
        b.orders[oid] = fields
        try:
            self.ex.place(acct, oid, side, type_, qty, price=price, stop=stop, reduce_only=reduce_only)
        except Reject as e:
            del b.orders[oid]
            if e.reason == "insufficient_balance":
                raise FxcmError("insufficient_balance") from None
            raise FxcmError("param", name=e.reason) from None
        return oid

    def open_trade(self, req: SimRequest):
        _, acct = self._auth(req)
        form = self._form(req)
        b = self._account(acct, form)
        self._symbol(form)
        side, qty = self._side(form), self._amount(form)
        if self._one(form, "order_type") != "AtMarket":
            raise FxcmError("param", name="order_type")      # MarketRange: not modelled
        tif = self._one(form, "time_in_force")
        if tif not in ("GTC", "DAY", "IOC", "FOK"):
            raise FxcmError("param", name="time_in_force")
        return self._place(acct, b, {"type": "OM", "tif": tif, "trade": ""}, side, "MARKET", qty)

    def create_entry_order(self, req: SimRequest):
        _, acct = self._auth(req)
        form = self._form(req)
        b = self._account(acct, form)
        self._symbol(form)
        side, qty, rate = self._side(form), self._amount(form), self._rate(form)
        if self._one(form, "order_type") != "Entry":
            raise FxcmError("param", name="order_type")      # RangeEntry: not modelled
        tif = self._one(form, "time_in_force")
        if tif not in ("GTC", "DAY"):
            raise FxcmError("param", name="time_in_force")   # GTD/IOC/FOK entries: not modelled
        for attached in ("stop", "limit", "trailing_step"):
            if self._one(form, attached, required=False) not in (None, "", "0"):
                raise FxcmError("param", name=attached)      # attached stop/limit: not modelled
        vs = self.ex.vs
        ask, bid = vs.best_ask(), vs.best_bid()
        # away from the market: a Limit Entry; through it: a Stop Entry
        limit = (rate < ask) if side == BUY and ask is not None else (rate > bid) if bid is not None else True
        fields = {"type": "LE" if limit else "SE", "tif": tif, "trade": "", "rate": rate}
        if limit:
            return self._place(acct, b, fields, side, "LIMIT", qty, price=rate)
        return self._place(acct, b, fields, side, "STOP", qty, stop=rate)

    def close_trade(self, req: SimRequest):
        _, acct = self._auth(req)
        form = self._form(req)
        b = self.book(acct)
        tid = self._one(form, "trade_id")
        t = next((x for x in b.trades if x.trade_id == tid), None)
        if t is None:
            raise FxcmError("trade_unknown")
        qty = self._amount(form)
        if qty > t.amount:
            raise FxcmError("param", name="amount")
        if self._one(form, "order_type") != "AtMarket":
            raise FxcmError("param", name="order_type")
        tif = self._one(form, "time_in_force")
        return self._place(acct, b, {"type": "CM", "tif": tif, "trade": tid}, SELL if t.is_buy else BUY, "MARKET",
                           qty, reduce_only=self.ex.perpetual)

    def change_trade_stop_limit(self, req: SimRequest):
        _, acct = self._auth(req)
        form = self._form(req)
        b = self.book(acct)
        tid = self._one(form, "trade_id")
        t = next((x for x in b.trades if x.trade_id == tid), None)
        if t is None:
            raise FxcmError("trade_unknown")
        is_stop = _bool(self._one(form, "is_stop"))
        if is_stop is None:
            raise FxcmError("param", name="is_stop")
        if _bool(self._one(form, "is_in_pips", required=False) or "false"):
            raise FxcmError("param", name="is_in_pips")        # distances in pips: not modelled
        if self._one(form, "trailing_step", required=False) not in (None, "", "0"):
            raise FxcmError("param", name="trailing_step")     # trailing stops: not modelled
        rate = self._rate(form)
        close = self._close_px(t.is_buy)
        if close is not None:
            # a buy trade's stop is below its close price and its limit above; a sell trade's the reverse
            if is_stop and (rate >= close if t.is_buy else rate <= close):
                raise FxcmError("stop_distance", op="<" if t.is_buy else ">")
            if not is_stop and (rate <= close if t.is_buy else rate >= close):
                raise FxcmError("limit_distance", op=">" if t.is_buy else "<")
        kind = "S" if is_stop else "L"
        old = b.attached.get(tid, {}).get(kind)
        if old is not None:
            self._cancel_quietly(acct, old[0])
        side = SELL if t.is_buy else BUY
        fields = {"type": kind, "tif": "GTC", "trade": tid}
        oid = (self._new_order(acct, b, fields, side, "STOP", t.amount, stop=rate, reduce_only=True) if is_stop else
               self._new_order(acct, b, fields, side, "LIMIT", t.amount, price=rate, reduce_only=True))
        b.attached.setdefault(tid, {})[kind] = (oid, rate)
        self._send(acct.api_key, "OpenPosition", {**self._open_row(acct, t), "action": "U"})
        return 200, {"response": {"executed": True}, "data": None}

    def _cancel_quietly(self, acct: SimAccount, oid: str) -> None:
        try:
            self.ex.cancel(acct, client_id=oid)
        except Reject:
            pass                # already done

    def _drop_attached(self, acct: SimAccount, b: Book, tid: str) -> None:
        """A closed trade's stop and limit orders go with it (after the current execution:
        the exchange may be in the middle of one)."""
        oids = [oid for oid, _ in b.attached.pop(tid, {}).values()]
        if not oids:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        for oid in oids:
            if loop is None:
                self._cancel_quietly(acct, oid)
            else:
                loop.call_soon(self._cancel_quietly, acct, oid)

    def delete_order(self, req: SimRequest):
        _, acct = self._auth(req)
        oid = self._one(self._form(req), "order_id")
        try:
            self.ex.cancel(acct, client_id=oid)
        except Reject:
            raise FxcmError("order_unknown") from None
        return 200, {"response": {"executed": True}, "data": None}

    # -- table pushes --------------------------------------------------------------------------------
    def _send(self, api_key: str, model: str, row: dict) -> None:
        self.private.send(api_key, model, "42" + fmt.dumps([model, fmt.dumps(row)]))

    def _push(self, ev: ExecEvent) -> None:
        o = ev.order
        acct = self.ex.accounts[o.account]
        b = self.book(acct)
        fields = b.orders.get(o.client_id)
        if fields is None:
            return
        key = acct.api_key
        if ev.fill_qty:
            self._fill(acct, b, o, fields, ev)
            self._send(key, "Account", {**self._account_row(acct), "action": "U"})
        if o.status == NEW and not ev.fill_qty:
            self._send(key, "Order", {**self._order_row(acct, o), "action": "I"})
        elif o.status in (FILLED, CANCELED, EXPIRED):
            status = STATUS_EXECUTED if o.status == FILLED else STATUS_CANCELED
            self._send(key, "Order", {**self._order_row(acct, o, status), "action": "U"})
            self._send(key, "Order", {**self._order_row(acct, o, status), "action": "D"})
            del b.orders[o.client_id]

    def _fill(self, acct: SimAccount, b: Book, o: SimOrder, fields: dict, ev: ExecEvent) -> None:
        """One fill: close opposite trades (the trade a close order names first, then oldest
        first), open a trade with the rest."""
        is_buy = o.side == BUY
        left, px, now = ev.fill_qty, ev.fill_price, ev.ts_ns
        fee_per_unit = ev.fee / ev.fill_qty
        opposite = [t for t in b.trades if t.is_buy != is_buy]
        opposite.sort(key=lambda t: (t.trade_id != fields["trade"], t.open_ns))
        for t in opposite:
            if not left:
                break
            n = min(left, t.amount)
            left -= n
            t.amount -= n
            row = self._closed_row(acct, b, t, n, px, now, o.client_id, fee_per_unit * n)
            b.closed.append(row)
            self._send(acct.api_key, "ClosedPosition", {**row, "action": "I"})
            if t.amount:
                self._send(acct.api_key, "OpenPosition", {**self._open_row(acct, t), "action": "U"})
            else:
                b.trades.remove(t)
                self._send(acct.api_key, "OpenPosition", {**self._open_row(acct, t), "action": "D"})
                self._drop_attached(acct, b, t.trade_id)
            fields["trade"] = fields["trade"] or t.trade_id
        if left:
            t = Trade(str(next(self._trade_ids)), o.client_id, is_buy, left, px, now, fee_per_unit * left)
            b.trades.append(t)
            fields["trade"] = fields["trade"] or t.trade_id
            self._send(acct.api_key, "OpenPosition", {**self._open_row(acct, t), "action": "I"})

    # -- rows (5.4 table fields) -----------------------------------------------------------------------
    def _px(self, v: int | None) -> fmt.Raw:
        return fmt.Raw(self.spec.px(v) if v else "0")

    def _num(self, v: Decimal) -> fmt.Raw:
        return fmt.Raw(plain(v) if v >= 0 else "-" + plain(-v))

    def _amt(self, q: int) -> fmt.Raw:
        return fmt.Raw(fmt.trim(q, self.spec.qty_dec))

    def _close_px(self, is_buy: bool) -> int | None:
        """The price a trade closes at now: a buy sells at the bid, a sell buys at the ask."""
        return self.ex.vs.best_bid() if is_buy else self.ex.vs.best_ask()

    def _pl(self, is_buy: bool, amount: int, open_px: int, close_px: int | None) -> Decimal:
        if close_px is None:
            return Decimal(0)
        d = self.ex.notional(close_px, amount) - self.ex.notional(open_px, amount)
        return d if is_buy else -d

    def _order_row(self, acct: SimAccount, o: SimOrder, status: int | None = None) -> dict:
        b = self.book(acct)
        f = b.orders.get(o.client_id, {"type": "OM", "tif": "GTC", "trade": ""})
        s = self.spec
        entry = f["type"] in ("LE", "SE")
        if status is None:
            status = STATUS_WAITING if entry else STATUS_IN_PROCESS
        rate = o.price or o.stop or (self.ex.vs.best_ask() if o.side == BUY else self.ex.vs.best_bid()) or 0
        return {"t": 3, "ratePrecision": s.price_dec, "orderId": o.client_id, "tradeId": f["trade"],
                "time": _time(o.created_ns), "accountName": b.account_id.rjust(8, "0"), "accountId": b.account_id,
                "timeInForce": f["tif"], "expireDate": "", "currency": s.symbol, "isBuy": o.side == BUY,
                "buy": self._px(rate if o.side == BUY else 0), "sell": self._px(rate if o.side == SELL else 0),
                "type": f["type"], "status": status, "amountK": self._amt(o.qty), "currencyPoint": 0, "stopMove": 0,
                "stop": 0, "stopRate": 0, "limit": 0, "limitRate": 0, "isEntryOrder": entry, "ocoBulkId": 0,
                "isNetQuantity": False, "isLimitOrder": f["type"] in ("LE", "L"), "isStopOrder": f["type"] in ("SE", "S"),
                "isELSOrder": False, "stopPegBaseType": -1, "limitPegBaseType": -1, "range": 0}

    def _open_row(self, acct: SimAccount, t: Trade) -> dict:
        b, s = self.book(acct), self.spec
        close = self._close_px(t.is_buy)
        pl = self._pl(t.is_buy, t.amount, t.open_px, close)
        margin = self.ex.notional(t.open_px, t.amount) / acct.leverage
        att = b.attached.get(t.trade_id, {})
        return {"t": 1, "ratePrecision": s.price_dec, "tradeId": t.trade_id, "orderId": t.order_id,
                "accountName": b.account_id.rjust(8, "0"), "accountId": b.account_id, "roll": 0,
                "com": self._num(t.com), "open": self._px(t.open_px), "valueDate": "", "grossPL": self._num(pl),
                "close": self._px(close), "visiblePL": self._num(pl), "isDisabled": False, "currency": s.symbol,
                "isBuy": t.is_buy, "amountK": self._amt(t.amount), "currencyPoint": 0, "time": _time(t.open_ns),
                "usedMargin": self._num(margin), "stop": self._px(att.get("S", ("", 0))[1]), "stopMove": 0,
                "limit": self._px(att.get("L", ("", 0))[1])}

    def _closed_row(self, acct: SimAccount, b: Book, t: Trade, n: int, px: int, now: int, order_id: str,
                    com: Decimal) -> dict:
        s = self.spec
        pl = self._pl(t.is_buy, n, t.open_px, px)
        return {"t": 2, "ratePrecision": s.price_dec, "tradeId": t.trade_id, "orderId": order_id,
                "accountName": b.account_id.rjust(8, "0"), "roll": 0, "com": self._num(com),
                "open": self._px(t.open_px), "valueDate": "", "grossPL": self._num(pl), "close": self._px(px),
                "visiblePL": self._num(pl), "currency": s.symbol, "isBuy": t.is_buy, "amountK": self._amt(n),
                "currencyPoint": 0, "openTime": _time(t.open_ns), "closeTime": _time(now)}

    def _account_row(self, acct: SimAccount) -> dict:
        ex = self.ex
        b = self.book(acct)
        balance = ex.free(acct, self.spec.quote)
        gross = sum((self._pl(t.is_buy, t.amount, t.open_px, self._close_px(t.is_buy)) for t in b.trades), Decimal(0))
        used = ex.margin_used(acct)
        equity = balance + gross
        usable = equity - used
        perc = (usable / equity * 100).quantize(Decimal("0.00001")) if equity else Decimal(0)
        return {"t": 6, "ratePrecision": 0, "accountId": b.account_id, "balance": self._num(balance),
                "usdMr": self._num(used), "mc": "N", "accountName": b.account_id.rjust(8, "0"),
                "usdMr3": self._num(used), "hedging": "N", "usableMargin3": self._num(usable),
                "usableMarginPerc": self._num(perc), "usableMargin3Perc": self._num(perc),
                "equity": self._num(equity), "usableMargin": self._num(usable), "dayPL": self._num(acct.realised + gross),
                "grossPL": self._num(gross)}


class _Unauthorized(Exception):
    pass
