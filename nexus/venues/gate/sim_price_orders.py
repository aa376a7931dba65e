"""Gate API v4's price-triggered orders in the simulator: the spot ones (SpotPriceOrders, a
mixin of sim_trade.GateTrade) and the USDT futures ones (FuturesPriceOrders, of
GateFuturesTrade), in Gate's formats and labels.

Sources: Gate API v4 docs (https://www.gate.io/docs/developers/apiv4/en/) and the official
SDK's models (github.com/gateio/gateapi-python docs/SpotPriceTriggeredOrder.md,
SpotPriceTrigger.md, SpotPricePutOrder.md, FuturesPriceTriggeredOrder.md,
FuturesInitialOrder.md, FuturesPriceTrigger.md):
"Create a price-triggered order" POST /spot/price_orders ({"trigger": {"price", "rule",
"expiration"}, "put": {"type", "side", "price", "amount", "account", "time_in_force"},
"market"} -> {"id"}), "Retrieve running auto order list" GET ?status=open|finished&market
&limit&offset, "Get a price-triggered order" / "cancel a price-triggered order" /{order_id}
(the SDK's SpotPriceTriggeredOrder: status open / cancelled / finish / failed / expired,
fired_order_id the order put when it triggered). The price order waits on the exchange's
stop book (a STOP_LIMIT at the put's price; a futures one with price "0" a STOP) and
triggers on the last trade price; what it puts is an ordinary order from then on (the
orders endpoints and channels show it only once fired). Only stop triggers are modelled
(a buy at ">=", a sell at "<="); an IOC put's remainder is cancelled right after it fired.
"""

from __future__ import annotations

import itertools
import json
import re
from typing import Callable

from nexus.sim.exchange import EXPIRED, TERMINAL, Reject, SimAccount, SimOrder
from nexus.sim.feed import SimRequest
from nexus.sim.market import BUY, SELL
from nexus.sim.private import late

API = "/api/v4"
ORDER_ID_BASE = 600_000_000_000     # the orders' ids (sim_trade): a fired price order's order
USER_ID = 10_000_001
SIDES = {"buy": BUY, "sell": SELL}
PRICE_ORDER_ID_BASE = 1_700_000_000
RULES = {">=": BUY, "<=": SELL}     # a stop: a buy triggers at or above, a sell at or below
SPOT_PRICE_STATUS = {"open": "open", "cancelled": "cancelled", "expired": "expired", "failed": "failed",
                     "fired": "finish"}
PRICE_REASONS = {"open": "", "cancelled": "cancelled", "expired": "expired",
                 "failed": "reduce-only: no position left to reduce at the trigger", "fired": "success"}
FUTURES_PRICE_FINISH = {"open": "", "cancelled": "cancelled", "expired": "expired", "failed": "failed",
                        "fired": "succeeded"}


class GateError(Exception):
    def __init__(self, status: int, label: str, message: str) -> None:
        super().__init__(message)
        self.status, self.label, self.message = status, label, message


def _bad(message: str) -> GateError:
    return GateError(400, "INVALID_PARAM_VALUE", message)

class SpotPriceOrders:
    """/spot/price_orders of GateTrade (which holds `price_orders`, `po_by_oid`, `_po_ids`,
    `_sweep`, `meta`, `rejects` and the request helpers these use)."""

    price_orders_path = f"{API}/spot/price_orders"

    def init_price_orders(self) -> None:
        self.price_orders: dict[int, dict] = {}     # price order id -> its record (see _price_place)
        self.po_by_oid: dict[int, dict] = {}        # the exchange order it waits as (and fires as)
        self._po_ids = itertools.count(1)
        self._sweep: _PriceOrderSweep | None = None

    def price_routes(self) -> dict[tuple[str, str], Callable]:
        w, p = self._wrap, self.price_orders_path
        return {("POST", p): w(self.create_price_order), ("GET", p): w(self.list_price_orders),
                ("GET", f"{p}/{{order_id}}"): w(self.get_price_order),
                ("DELETE", f"{p}/{{order_id}}"): w(self.cancel_price_order)}

    def unfired(self, o: SimOrder) -> bool:
        """A price order's exchange order before it fired (or one that ended without firing)."""
        if o.type not in ("STOP", "STOP_LIMIT"):
            return False
        po = self.po_by_oid.get(o.oid)
        return po is None or self.po_state(po) != "fired"      # None: being placed right now

    def po_state(self, po: dict) -> str:
        """open, cancelled, expired, failed or fired (an overdue open one expires here)."""
        if po["ended"]:
            return po["ended"]
        o = self.ex.orders[po["oid"]]
        if o in self.ex._stops:
            now = self.feed.clock()
            if po["expiration"] and now - po["created_ns"] >= po["expiration"] * 1_000_000_000:
                po["ended"], po["ended_ns"] = "expired", now
                self.ex.cancel(self.ex.accounts[po["key"]], oid=o.oid)
                return "expired"
            return "open"
        if o.status == EXPIRED and not o.filled and o.reduce_only:
            return "failed"         # the exchange dropped it at the trigger: no position left to reduce
        return "fired"

    def _json(self, req: SimRequest) -> dict:
        try:
            p = json.loads(req.body or "{}")
        except ValueError:
            raise GateError(400, "INVALID_REQUEST_BODY", "Invalid request body") from None
        if not isinstance(p, dict):
            raise GateError(400, "INVALID_REQUEST_BODY", "Invalid request body")
        return p

    def reject_error(self, acct: SimAccount, r: Reject) -> GateError:
        return GateError(*self.rejects[r.reason])

    def _price_place(self, acct: SimAccount, side: int, kind: str, qty: int, trigger: int, price: int | None,
                     reduce_only: bool, meta: dict, record: dict) -> dict:
        if self._sweep is None:
            self._sweep = _PriceOrderSweep(self)
            self.ex.vs.hooks.append(self._sweep)        # after the exchange's own hook: it sees what fired
        poid = PRICE_ORDER_ID_BASE + next(self._po_ids)
        try:
            o = self.ex.place(acct, f"po{poid}", side, kind, qty, price=price, stop=trigger, reduce_only=reduce_only)
        except Reject as r:
            raise self.reject_error(acct, r) from None
        self.meta[o.oid] = meta
        po = {"id": poid, "oid": o.oid, "key": acct.api_key, "ended": "", "created_ns": o.created_ns, "ended_ns": 0,
              "swept": False, **record}
        self.price_orders[poid] = po
        self.po_by_oid[o.oid] = po
        return po

    def create_price_order(self, req: SimRequest):
        acct = self._signed(req)
        p = self._json(req)
        self._pair(p.get("market"))
        trig, put = p.get("trigger"), p.get("put")
        if not isinstance(trig, dict) or not isinstance(put, dict):
            raise GateError(400, "MISSING_REQUIRED_PARAM", "Missing required parameter: trigger, put")
        s = self.spec
        trigger = self._units(trig.get("price"), s.price_dec, s.tick, "trigger price")
        rule = trig.get("rule")
        if rule not in RULES:
            raise _bad(f"Invalid rule: {rule!r} (>= or <=)")
        exp = trig.get("expiration")
        if type(exp) is not int or exp <= 0:
            raise _bad(f"Invalid expiration: {exp!r} (seconds to wait for the trigger)")
        if put.get("type", "limit") != "limit":
            raise _bad(f"Invalid put.type: {put.get('type')!r} (this simulator puts limit orders)")
        side = SIDES.get(put.get("side"))
        if side is None:
            raise _bad(f"Invalid side: {put.get('side')!r}")
        account = put.get("account", "normal")
        if account != "normal":
            raise _bad(f"Invalid account: {account!r} (this simulator trades the spot account: normal)")
        tif = put.get("time_in_force", "gtc")
        if tif not in ("gtc", "ioc"):
            raise _bad(f"Invalid time_in_force: {tif!r}")
        price = self._units(put.get("price"), s.price_dec, s.tick, "price")
        qty = self._units(put.get("amount"), s.qty_dec, s.lot, "amount")
        if RULES[rule] != side:
            raise _bad(f"rule {rule} on a {put['side']} is a take-profit trigger: not simulated "
                       "(a stop buys at >=, sells at <=)")
        po = self._price_place(acct, side, "STOP_LIMIT", qty, trigger, price, False,
                               {"text": "apiv4", "tif": tif, "kind": "limit", "account": "spot"},
                               {"rule": rule, "expiration": exp, "account": account})
        body = {"id": po["id"]}
        delay_s = self.ex.take_response_delay()
        return late(201, body, delay_s) if delay_s else (201, body)

    def _price_order(self, acct: SimAccount, req: SimRequest) -> dict:
        poid = self._order_path_id(req)
        po = self.price_orders.get(int(poid)) if poid.isdigit() else None
        if po is None or po["key"] != acct.api_key:
            raise GateError(*self.rejects["unknown_order"])
        return po

    def get_price_order(self, req: SimRequest):
        acct = self._signed(req)
        return 200, self.po_body(self._price_order(acct, req))

    def cancel_price_order(self, req: SimRequest):
        acct = self._signed(req)
        po = self._price_order(acct, req)
        if self.po_state(po) != "open":
            raise GateError(*self.rejects["unknown_order"])
        po["ended"], po["ended_ns"] = "cancelled", self.feed.clock()
        self.ex.cancel(acct, oid=po["oid"])
        return 200, self.po_body(po)

    def po_market(self, q: dict) -> None:
        self._pair(q.get("market"), required=False)

    def list_price_orders(self, req: SimRequest):
        acct = self._signed(req)
        q = req.query
        status = q.get("status")
        if status not in ("open", "finished"):
            raise _bad("Invalid status: open or finished")
        self.po_market(q)
        try:
            limit, offset = int(q.get("limit", 100)), int(q.get("offset", 0))
        except ValueError:
            raise _bad("Invalid limit or offset") from None
        rows = [po for po in self.price_orders.values()
                if po["key"] == acct.api_key and (self.po_state(po) == "open") == (status == "open")]
        rows.sort(key=lambda po: po["id"], reverse=True)
        return 200, [self.po_body(po) for po in rows[max(0, offset):max(0, offset) + max(1, min(limit, 1000))]]

    def po_body(self, po: dict) -> dict:
        """A SpotPriceTriggeredOrder."""
        o, s = self.ex.orders[po["oid"]], self.spec
        state = self.po_state(po)
        return {"trigger": {"price": s.px(o.stop), "rule": po["rule"], "expiration": po["expiration"]},
                "put": {"type": "limit", "side": "buy" if o.side == BUY else "sell", "price": s.px(o.price),
                        "amount": s.qty(o.qty), "account": po["account"], "time_in_force": self.meta[o.oid]["tif"]},
                "id": po["id"], "user": USER_ID, "market": s.symbol, "ctime": po["created_ns"] // 1_000_000_000,
                "ftime": po["ended_ns"] // 1_000_000_000 if state != "open" else 0,
                "fired_order_id": ORDER_ID_BASE + o.oid if state == "fired" else 0,
                "status": SPOT_PRICE_STATUS[state], "reason": PRICE_REASONS[state]}


class FuturesPriceOrders:
    """/futures/usdt/price_orders of GateFuturesTrade (listed before GateTrade in its bases)."""

    price_orders_path = f"{API}/futures/usdt/price_orders"

    def reject_error(self, acct: SimAccount, r: Reject) -> GateError:
        if r.reason == "reduce_only" and not acct.position:
            return GateError(400, "POSITION_EMPTY", "Position is empty: a reduce-only order has nothing to reduce")
        return GateError(*self.rejects[r.reason])

    def po_market(self, q: dict) -> None:
        self._contract(q.get("contract"), required=False)

    def create_price_order(self, req: SimRequest):
        """POST /futures/usdt/price_orders {"initial": FuturesInitialOrder, "trigger":
        FuturesPriceTrigger} -> {"id"}. trigger.rule 1 (>=: the trigger price must be above the
        last price, else AUTO_TRIGGER_PRICE_GREATE_LAST) or 2 (<=, below it, else
        AUTO_TRIGGER_PRICE_LESS_LAST); strategy_type 0 and price_type 0 (the last trade price)
        only; initial.text is the order's source (web / api / app), not a client id."""
        acct = self._signed(req)
        p = self._json(req)
        ini, trig = p.get("initial"), p.get("trigger")
        if not isinstance(ini, dict) or not isinstance(trig, dict):
            raise GateError(400, "MISSING_REQUIRED_PARAM", "Missing required parameter: initial, trigger")
        self._contract(ini.get("contract"))
        size = ini.get("size")
        if isinstance(size, str) and re.fullmatch(r"-?[0-9]+", size):
            size = int(size)
        if type(size) is not int or size == 0:
            raise _bad(f"Invalid size: {ini.get('size')!r} (closing with size 0 is not simulated)")
        if ini.get("close") or ini.get("auto_size"):
            raise _bad("close / auto_size are not simulated")
        tif = ini.get("tif", "gtc")
        if tif not in ("gtc", "ioc"):
            raise _bad(f"Invalid tif: {tif!r}")
        price_text = ini.get("price")
        market = price_text in ("0", 0)
        if market and tif != "ioc":
            raise _bad("a market order (price 0) needs tif ioc")
        s = self.spec
        price = None if market else self._units(price_text, s.price_dec, s.tick, "price")
        text = ini.get("text", "api")
        if not isinstance(text, str):
            raise _bad("Invalid text")
        if trig.get("strategy_type", 0) != 0 or trig.get("price_type", 0) != 0:
            raise _bad("only strategy_type 0 and price_type 0 (the last trade price) are simulated")
        trigger = self._units(trig.get("price"), s.price_dec, s.tick, "trigger price")
        rule = trig.get("rule")
        if rule not in (1, 2):
            raise _bad(f"Invalid rule: {rule!r} (1: >=, 2: <=)")
        exp = trig.get("expiration", 0)
        if type(exp) is not int or exp < 0:
            raise _bad(f"Invalid expiration: {exp!r}")
        side = BUY if size > 0 else SELL
        if (rule == 1) != (side == BUY):
            raise _bad(f"rule {rule} on a {'buy' if side == BUY else 'sell'} is a take-profit trigger: not simulated "
                       "(a stop buys at rule 1, sells at rule 2)")
        last = self.ex.last_trade_price
        if last is not None and rule == 1 and trigger <= last:
            raise GateError(400, "AUTO_TRIGGER_PRICE_GREATE_LAST", "invalid argument: Trigger.Price must > last_price")
        if last is not None and rule == 2 and trigger >= last:
            raise GateError(400, "AUTO_TRIGGER_PRICE_LESS_LAST", "invalid argument: Trigger.Price must < last_price")
        po = self._price_place(acct, side, "STOP" if market else "STOP_LIMIT", abs(size), trigger, price,
                               ini.get("reduce_only") is True,
                               {"text": text or "api", "tif": tif, "kind": "market" if market else "limit"},
                               {"rule": rule, "expiration": exp, "text": text})
        body = {"id": po["id"]}
        delay_s = self.ex.take_response_delay()
        return late(201, body, delay_s) if delay_s else (201, body)

    def po_body(self, po: dict) -> dict:
        """A FuturesPriceTriggeredOrder."""
        o, s = self.ex.orders[po["oid"]], self.spec
        state = self.po_state(po)
        sign = 1 if o.side == BUY else -1
        return {"initial": {"contract": s.symbol, "size": sign * o.qty,
                            "price": s.px(o.price) if o.price is not None else "0", "tif": self.meta[o.oid]["tif"],
                            "text": po["text"], "iceberg": 0, "is_close": False, "is_reduce_only": o.reduce_only,
                            "reduce_only": o.reduce_only, "auto_size": ""},
                "trigger": {"strategy_type": 0, "price_type": 0, "price": s.px(o.stop), "rule": po["rule"],
                            "expiration": po["expiration"]},
                "id": po["id"], "user": USER_ID, "create_time": po["created_ns"] // 1_000_000 / 1000,
                "finish_time": po["ended_ns"] // 1_000_000 / 1000 if state != "open" else 0,
                "trade_id": ORDER_ID_BASE + o.oid if state == "fired" else 0,
                "status": "open" if state == "open" else "finished",
                "finish_as": FUTURES_PRICE_FINISH[state], "reason": PRICE_REASONS[state],
                "order_type": "", "me_order_id": "0"}


class _PriceOrderSweep:
    """A VenueSim hook placed after the exchange's own (which fires the stops before each
    step's flow): notes when each price order fired or failed, cancels the remainder of an
    IOC put right after it fired (Gate's IOC: taker only), and expires overdue price orders."""

    done = False

    def __init__(self, trade: GateTrade) -> None:
        self.trade = trade

    def before_flow(self, vs, t_ns: int) -> None:
        tr = self.trade
        for po in tr.price_orders.values():
            if po["swept"] or po["ended"]:
                continue
            state = tr.po_state(po)
            if state == "open" or state in ("cancelled", "expired"):
                continue
            po["swept"] = True
            po["ended_ns"] = tr.feed.clock()
            o = tr.ex.orders[po["oid"]]
            if state == "fired" and o.status not in TERMINAL and tr.meta[o.oid].get("tif") == "ioc":
                tr.meta[o.oid]["finish_as"] = "ioc"
                tr.ex.cancel(tr.ex.accounts[o.account], oid=o.oid)

    def protects(self, side: int, price: int) -> bool:
        return False

    def before_consume(self, vs, side: int, price: int) -> None:
        pass

    def after_fill(self, vs, side: int, price: int, fill_qty: int, left: int) -> int:
        return left
