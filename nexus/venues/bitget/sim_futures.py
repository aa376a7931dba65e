"""Bitget v2 USDT futures ("mix") order entry as the simulator serves it: the contract
`BTCUSDT` of productType USDT-FUTURES trading on the same simulated book as the spot pair
(its own exchange, nexus.sim.exchange.SimExchange with perpetual=True, hooked onto the same
VenueSim), authenticated and answered by sim_trade.BitgetTrade.

Sources (Bitget API docs, https://www.bitget.com/api-doc/contract/): Market > "Get Contract
Config" (GET /api/v2/mix/market/contracts: pricePlace, priceEndStep, volumePlace,
sizeMultiplier, minTradeNum, maxLever), Trade > "Place Order" (POST
/api/v2/mix/order/place-order: symbol, productType, marginMode crossed|isolated, marginCoin,
size (base coin), price, side buy|sell, orderType limit|market, force, clientOid,
reduceOnly YES|NO; one-way position mode, so no tradeSide), "Get Order Detail" (GET
/api/v2/mix/order/detail: one object, `state` live / partially_filled / filled / canceled),
"Cancel Order" (POST /api/v2/mix/order/cancel-order), "Get Pending Orders" (GET
/api/v2/mix/order/orders-pending: {"entrustedList":[..],"endId"}), Trigger orders > "Place
Trigger Order" (POST /api/v2/mix/order/place-plan-order, planType normal_plan, triggerType
fill_price), "Get Pending Trigger Orders" (GET .../orders-plan-pending), "Get History
Trigger Orders" (GET .../orders-plan-history: planStatus executed / cancelled, with the
order it placed as executeOrderId), "Cancel Trigger Order" (POST .../cancel-plan-order:
orderIdList, answering successList / failureList); Account > "Change Leverage" (POST
/api/v2/mix/account/set-leverage: leverage, answering longLeverage / shortLeverage /
crossMarginLeverage); Position > "Get All Positions" (GET /api/v2/mix/position/all-position:
holdSide long|short, total, openPriceAvg, unrealizedPL, leverage, ...); WebSocket > Private
> "Order Channel" (instType USDT-FUTURES). Codes (ccxt's bitget table quotes Bitget's
bodies): 40762 The order amount exceeds the balance, 40768 Order does not exist, 22002 No
position to close (reduce-only without a position to reduce), 40104 Lever adjustment
failure (leverage outside 1..maxLever), 40808 a price or size off the contract's grid,
40034 unknown symbol.

Modelled: the contract's grid (tick 0.1, size step 0.0001 BTC, max leverage 125) on the
spot pair's integer units (its exchange walks the same book in them; orders off the coarser
grid are refused here with 40808); one USDT wallet serves spot and futures in the simulator (Bitget
has separate accounts); cross margin, one-way mode.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

from nexus.sim import fmt
from nexus.sim.exchange import CANCELED, EXPIRED, FILLED, NEW, PARTIALLY_FILLED, Reject, SimAccount, SimExchange, SimOrder
from nexus.sim.feed import SimRequest
from nexus.sim.market import BUY, SELL
from nexus.sim.private import late, mark, plain
from nexus.venues.bitget.sim_wire import BitgetError, exact

PRODUCT = "USDT-FUTURES"
LEVERAGE_MAX = 125
TICK_FACTOR, LOT_FACTOR = 10, 100           # 0.01 -> 0.1 price, 0.000001 -> 0.0001 size (spot units)
ORDER_ID_BASE = 1_400_000_000_000_000_000
PLAN_ID_BASE = 1_500_000_000_000_000_000
SIDES = {"buy": BUY, "sell": SELL}
SIDE_NAMES = {BUY: "buy", SELL: "sell"}
REJECTS = {
    "insufficient_balance": ("40762", "The order amount exceeds the balance"),
    "reduce_only": ("22002", "No position to close"),
    "duplicate_client_id": ("40017", "Parameter verification failed: duplicate clientOid"),
    "too_many_orders": ("40017", "Parameter verification failed: too many open orders"),
    "qty_invalid": ("40017", "Parameter verification failed"),
    "price_invalid": ("40017", "Parameter verification failed"),
    "order_type_invalid": ("40017", "Parameter verification failed"),
    "unknown_order": ("40768", "Order does not exist"),
    "leverage_invalid": ("40104", "Lever adjustment failure"),
}


def state_of(o: SimOrder) -> str:
    if o.status in (CANCELED, EXPIRED):
        return "canceled"
    return {NEW: "live", PARTIALLY_FILLED: "partially_filled", FILLED: "filled"}.get(o.status, "canceled")


def contract_grid(spot):
    """The contract's grid: the spot pair's integer units (the book's: the exchange walks it in
    them), coarser steps. Orders are checked on it here, before the exchange sees them."""
    return dataclasses.replace(spot, tick=spot.tick * TICK_FACTOR, lot=spot.lot * LOT_FACTOR)


class FuturesTrade:
    """The USDT-FUTURES contract of one BitgetTrade (`t`: authentication, envelope, stream)."""

    def __init__(self, t) -> None:
        self.t = t
        self._ex: SimExchange | None = None
        self.plans: set[int] = set()

    @property
    def ex(self) -> SimExchange:
        """The contract's exchange, opened on first use on the spot pair's book; it shares the
        spot exchange's accounts (keys, one USDT wallet)."""
        if self._ex is None:
            spot = self.t.ex
            fx = SimExchange(spot.vs, self.spec, perpetual=True, clock=spot.clock,
                             publish_fills=spot.publish_fills, leverage_max=LEVERAGE_MAX)
            fx.accounts = spot.accounts
            fx.response_delays_s = spot.response_delays_s     # the test-only fault applies to both
            for key in self.t.listening:
                fx.listen(key, self.t._push)
            self._ex = fx
        return self._ex

    def owns(self, o: SimOrder) -> bool:
        return self._ex is not None and self._ex.orders.get(o.oid) is o

    @property
    def spec(self):
        return self.t.spec

    @property
    def grid(self):
        return contract_grid(self.t.spec)

    def order_id(self, o: SimOrder) -> str:
        return str(ORDER_ID_BASE + o.oid)

    def plan_id(self, o: SimOrder) -> str:
        return str(PLAN_ID_BASE + o.oid)

    # -- routes ---------------------------------------------------------------------------
    def routes(self, w: Callable) -> dict[tuple[str, str], Callable]:
        o = "/api/v2/mix/order/"
        return {
            ("POST", o + "place-order"): w(self.place), ("POST", o + "cancel-order"): w(self.cancel),
            ("GET", o + "detail"): w(self.detail), ("GET", o + "orders-pending"): w(self.pending),
            ("POST", o + "place-plan-order"): w(self.place_plan), ("POST", o + "cancel-plan-order"): w(self.cancel_plan),
            ("GET", o + "orders-plan-pending"): w(self.plans_pending),
            ("GET", o + "orders-plan-history"): w(self.plans_history),
            ("POST", "/api/v2/mix/account/set-leverage"): w(self.leverage),
            ("GET", "/api/v2/mix/position/all-position"): w(self.all_position),
        }

    def contract(self) -> dict:
        """A row of Get Contract Config for the simulated contract."""
        s = self.grid
        return {"symbol": s.symbol, "baseCoin": s.base, "quoteCoin": s.quote, "buyLimitPriceRatio": "0.05",
                "sellLimitPriceRatio": "0.05", "feeRateUpRatio": "0.005", "makerFeeRate": "0.0002",
                "takerFeeRate": "0.0006", "openCostUpRatio": "0.01", "supportMarginCoins": [s.quote],
                "minTradeNum": s.lot_str(), "priceEndStep": "1", "volumePlace": str(len(s.lot_str().split(".")[-1])),
                "pricePlace": str(len(s.tick_str().split(".")[-1])), "sizeMultiplier": s.lot_str(),
                "symbolType": "perpetual", "minTradeUSDT": "5", "maxSymbolOrderNum": "200",
                "maxProductOrderNum": "400", "maxPositionNum": "150", "symbolStatus": "normal", "offTime": "-1",
                "limitOpenTime": "-1", "deliveryTime": "", "deliveryStartTime": "", "deliveryPeriod": "",
                "launchTime": "", "fundInterval": "8", "minLever": "1", "maxLever": str(LEVERAGE_MAX),
                "posLimit": "0.05", "maintainTime": "", "openTime": ""}

    # -- checks -----------------------------------------------------------------------------
    def _product(self, p: dict, *, symbol: bool = True) -> None:
        if str(p.get("productType", "")).upper() != PRODUCT:
            raise BitgetError("40019", "Parameter productType cannot be empty")
        if symbol:
            sym = p.get("symbol")
            if not sym:
                raise BitgetError("40019", "Parameter symbol cannot be empty")
            if str(sym).upper() != self.spec.symbol:
                raise BitgetError("40034", f"Parameter {sym} does not exist")

    def _new(self, acct: SimAccount, p: dict, kind: str, price_field: str) -> SimOrder:
        self._product(p)
        if p.get("marginCoin", "").upper() != self.spec.quote or p.get("marginMode") not in ("crossed", "isolated"):
            raise BitgetError("40017", "Parameter verification failed")
        side = SIDES.get(p.get("side"))
        if side is None:
            raise BitgetError("40017", "Parameter verification failed")
        s = self.grid
        size = self.t._units(p, "size", s.qty_dec, s.lot)
        if size is None:
            raise BitgetError("40019", "Parameter size cannot be empty")
        price = self.t._units(p, price_field, s.price_dec, s.tick)
        if price is None and kind != "MARKET":
            raise BitgetError("40019", f"Parameter {price_field} cannot be empty")
        reduce_only = str(p.get("reduceOnly", "NO")).upper() == "YES"
        try:
            return self.ex.place(acct, p.get("clientOid") or f"sim{next(self.t._ids)}", side, kind, size,
                                 price=price if kind == "LIMIT" else None, stop=price if kind == "STOP" else None,
                                 reduce_only=reduce_only)
        except Reject as r:
            raise BitgetError(*REJECTS[r.reason]) from None

    def _find(self, acct: SimAccount, p: dict, *, plan: bool) -> SimOrder | None:
        cid, oid = p.get("clientOid", ""), p.get("orderId", "")
        if self._ex is None:
            return None
        for o in self._ex.orders.values():
            if o.account != acct.api_key or (o.oid in self.plans) != plan:
                continue
            if (cid and o.client_id == cid) or (oid and oid == (self.plan_id(o) if plan else self.order_id(o))):
                return o
        if not plan and oid:                     # the order a triggered plan placed
            return next((o for o in self._ex.orders.values() if o.oid in self.plans and o.account == acct.api_key
                         and o.status != NEW and self.order_id(o) == oid), None)
        return None

    # -- orders -----------------------------------------------------------------------------
    def place(self, req: SimRequest):
        acct, p = self.t._signed(req)
        kind = {"market": "MARKET", "limit": "LIMIT"}.get(p.get("orderType"))
        if kind is None or str(p.get("force", "gtc")).lower() not in ("gtc", "ioc", "fok", "post_only"):
            raise BitgetError("40017", "Parameter verification failed")
        o = self._new(acct, p, kind, "price")
        body = {"orderId": self.order_id(o), "clientOid": o.client_id}
        delay_s = self.ex.take_response_delay()
        return late(*self.t.env(body), delay_s) if delay_s else self.t.env(body)

    def detail(self, req: SimRequest):
        acct, p = self.t._signed(req)
        self._product(p)
        if not p.get("orderId") and not p.get("clientOid"):
            raise BitgetError("40019", "Parameter orderId cannot be empty")
        o = self._find(acct, p, plan=False)
        if o is None:
            raise BitgetError(*REJECTS["unknown_order"])
        return self.t.env(self.order_body(o))

    def pending(self, req: SimRequest):
        acct, p = self.t._signed(req)
        self._product(p, symbol=False)
        rows = [o for o in self.ex.open_orders(acct) if o.oid not in self.plans or o.status != NEW]
        return self.t.env({"entrustedList": [self.order_body(o) for o in rows] or None, "endId": ""})

    def cancel(self, req: SimRequest):
        acct, p = self.t._signed(req)
        self._product(p)
        o = self._find(acct, p, plan=False)
        if o is None or o.status not in (NEW, PARTIALLY_FILLED):
            raise BitgetError(*REJECTS["unknown_order"])
        self.ex.cancel(acct, oid=o.oid)
        return self.t.env({"orderId": self.order_id(o), "clientOid": o.client_id})

    def place_plan(self, req: SimRequest):
        acct, p = self.t._signed(req)
        if p.get("planType") != "normal_plan" or p.get("orderType") != "market" \
                or p.get("triggerType") not in ("fill_price", None):
            raise BitgetError("40017", "Parameter verification failed")
        o = self._new(acct, p, "STOP", "triggerPrice")
        self.plans.add(o.oid)
        return self.t.env({"orderId": self.plan_id(o), "clientOid": o.client_id})

    def plan_body(self, o: SimOrder) -> dict:
        s = self.spec
        status = "live" if o.status == NEW else ("executed" if o.filled or o.status == FILLED else "cancelled")
        return {"planType": "normal_plan", "symbol": s.symbol, "size": s.qty(o.qty), "orderId": self.plan_id(o),
                "clientOid": o.client_id, "executeOrderId": self.order_id(o) if status == "executed" else "",
                "price": "0", "executePrice": "0", "callbackRatio": "", "triggerPrice": s.px(o.stop),
                "triggerType": "fill_price", "planStatus": status, "side": SIDE_NAMES[o.side], "posSide": "net",
                "marginCoin": s.quote, "marginMode": "crossed", "enterPointSource": "API", "tradeSide": "",
                "posMode": "one_way_mode", "orderType": "market", "reduceOnly": "YES" if o.reduce_only else "NO",
                "cTime": str(fmt.ms(o.created_ns)), "uTime": str(fmt.ms(o.updated_ns))}

    def _plans(self, req: SimRequest, live: bool):
        acct, p = self.t._signed(req)
        self._product(p, symbol=False)
        if p.get("planType") not in ("normal_plan", None):
            raise BitgetError("40017", "Parameter verification failed")
        rows = [self.ex.orders[i] for i in sorted(self.plans)]
        rows = [self.plan_body(o) for o in rows if o.account == acct.api_key and (o.status == NEW) == live]
        return self.t.env({"entrustedList": rows or None, "endId": ""})

    def plans_pending(self, req: SimRequest):
        return self._plans(req, True)

    def plans_history(self, req: SimRequest):
        return self._plans(req, False)

    def cancel_plan(self, req: SimRequest):
        acct, p = self.t._signed(req)
        self._product(p)
        ok, failed = [], []
        for it in p.get("orderIdList") or ():
            o = self._find(acct, it if isinstance(it, dict) else {}, plan=True)
            if o is None or o.status != NEW:
                failed.append({"orderId": (it or {}).get("orderId", ""), "clientOid": (it or {}).get("clientOid", ""),
                               "errorMsg": "Order does not exist"})
                continue
            self.ex.cancel(acct, oid=o.oid)
            ok.append({"orderId": self.plan_id(o), "clientOid": o.client_id})
        return self.t.env({"successList": ok, "failureList": failed})

    # -- account ----------------------------------------------------------------------------
    def leverage(self, req: SimRequest):
        acct, p = self.t._signed(req)
        self._product(p)
        lev = str(p.get("leverage", ""))
        if not lev.isdigit():
            raise BitgetError("40017", "Parameter verification failed")
        try:
            self.ex.set_leverage(acct, int(lev))
        except Reject:
            raise BitgetError(*REJECTS["leverage_invalid"]) from None
        return self.t.env({"symbol": self.spec.symbol, "marginCoin": self.spec.quote, "longLeverage": lev,
                           "shortLeverage": lev, "crossMarginLeverage": lev, "marginMode": "crossed"})

    def position_rows(self, acct: SimAccount) -> list[dict]:
        if self._ex is None or not acct.position:
            return []
        ex, s = self.ex, self.spec
        base = ex.base_qty(acct.position)
        avg = acct.entry_cost / base
        size = s.qty(abs(acct.position))
        return [{"marginCoin": s.quote, "symbol": s.symbol, "holdSide": "long" if acct.position > 0 else "short",
                 "openDelegateSize": "0", "marginSize": plain(abs(acct.entry_cost) / acct.leverage),
                 "available": size, "locked": "0", "total": size, "leverage": str(acct.leverage),
                 "achievedProfits": plain(acct.realised), "openPriceAvg": plain(avg), "marginMode": "crossed",
                 "posMode": "one_way_mode", "unrealizedPL": plain(ex.unrealised(acct)), "liquidationPrice": "0",
                 "keepMarginRate": "0.004", "markPrice": plain(mark(ex)), "breakEvenPrice": plain(avg),
                 "totalFee": "0", "deductedFee": "0", "marginRatio": "0", "assetMode": "single", "autoMargin": "off",
                 "cTime": str(self.t.now_ms()), "uTime": str(self.t.now_ms())}]

    def all_position(self, req: SimRequest):
        acct, p = self.t._signed(req)
        self._product(p, symbol=False)
        return self.t.env(self.position_rows(acct))

    # -- bodies -----------------------------------------------------------------------------
    def order_body(self, o: SimOrder) -> dict:
        s, ex = self.spec, self.ex
        avg = o.notional / ex.base_qty(o.filled) if o.filled else None
        return {
            "symbol": s.symbol, "size": s.qty(o.qty), "orderId": self.order_id(o), "clientOid": o.client_id,
            "baseVolume": s.qty(o.filled), "fee": plain(-o.fees), "price": s.px(o.price) if o.price else "",
            "priceAvg": plain(avg) if avg is not None else "", "state": state_of(o), "side": SIDE_NAMES[o.side],
            "force": "gtc", "totalProfits": "0", "posSide": "net", "marginCoin": s.quote,
            "quoteVolume": plain(o.notional), "leverage": str(ex.accounts[o.account].leverage),
            "marginMode": "crossed", "reduceOnly": "YES" if o.reduce_only else "NO", "enterPointSource": "API",
            "tradeSide": "", "posMode": "one_way_mode", "orderType": "limit" if o.type == "LIMIT" else "market",
            "orderSource": "normal", "presetStopSurplusPrice": "", "presetStopLossPrice": "", "cancelReason": "",
            "cTime": str(fmt.ms(o.created_ns)), "uTime": str(fmt.ms(o.updated_ns)),
        }

    def push_body(self, ev) -> dict:
        """An `orders` channel item (instType USDT-FUTURES)."""
        o, s = ev.order, self.spec
        body = self.order_body(o)
        body["status"] = body.pop("state")
        for k in ("fee", "quoteVolume", "orderSource", "totalProfits"):
            body.pop(k)
        body.update(instId=s.symbol, accBaseVolume=s.qty(o.filled), notionalUsd=plain(o.notional), pnl="0",
                    stpMode="cancel_taker")
        if ev.fill_qty:
            body.update(fillPrice=s.px(ev.fill_price), tradeId=str(ev.trade_id), baseVolume=s.qty(ev.fill_qty),
                        fillTime=str(fmt.ms(ev.ts_ns)), fillFee=exact(-ev.fee), fillFeeCoin=s.quote,
                        fillNotionalUsd=plain(ex_notional(self.ex, ev)), tradeScope="maker" if ev.maker else "taker",
                        feeDetail=[{"feeCoin": s.quote, "fee": exact(-o.fees)}])
        else:
            body.update(baseVolume="0", feeDetail=[])
        return body


def ex_notional(ex: SimExchange, ev) -> Any:
    return ex.notional(ev.fill_price, ev.fill_qty)
