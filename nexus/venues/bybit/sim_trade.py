"""Bybit v5's authenticated REST and private WebSocket (linear perpetuals), as the simulator
serves them on top of the venue-neutral exchange (nexus.sim.exchange).

Sources (Bybit V5 API docs, github.com/bybit-exchange/docs `docs/v5/`): `guide.mdx`
(authentication: headers X-BAPI-API-KEY / -TIMESTAMP / -SIGN / -RECV-WINDOW, default recv
window 5000; signature = HMAC-SHA256 hex of timestamp + api key + recv_window + queryString
(GET) or + the JSON body exactly as sent (POST); accepted when
`server_time - recv_window <= timestamp < server_time + 1000`), `order/create-order.mdx`,
`order/cancel-order.mdx`, `order/open-order.mdx` (GET /v5/order/realtime),
`position/leverage.mdx`, `position/position.mdx`, `account/wallet-balance.mdx`,
`user/apikey-info.mdx` (GET /v5/user/query-api: `permissions.Wallet` holds "Withdraw" when
the key can withdraw), `websocket/wss-authentication.mdx` (private stream /v5/private,
`{"op":"auth","args":[apiKey, expires, signature]}`, signature = HMAC hex of
"GET/realtime" + expires), `websocket/private/{order,execution,position,wallet}.mdx`,
`error.mdx`.

Envelope `{"retCode","retMsg","result","retExtInfo","time"}`, HTTP 200 for every business
error as Bybit answers. Codes: 10001 request parameter error (bad category / symbol /
side / type; qty or price malformed or off the instrument grid; leverage out of range),
10002 timestamp outside the window, 10003 invalid key, 10004 sign error, 110001 order does
not exist, 110007 available balance insufficient, 110017 reduce-only (observed texts
"current position is zero, cannot fix reduce-only order qty" / "Reduce-only rule not
satisfied"; the error table lists the code), 110020 too many active orders, 110043
leverage not modified, 110072 duplicate orderLinkId. STOP is a conditional market order
(`triggerPrice`, `triggerDirection` 1 rise / 2 fall), status Untriggered until it fires.
Modelled: one-way mode (positionIdx 0), GTC limits, cross margin on a UNIFIED account.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from decimal import Decimal
from typing import Any, Callable
from urllib.parse import parse_qsl

from nexus.sim import fmt
from nexus.sim.exchange import CANCELED, EXPIRED, FILLED, NEW, PARTIALLY_FILLED, ExecEvent, Reject, SimAccount, SimOrder
from nexus.sim.feed import Conn, SimRequest
from nexus.sim.market import BUY, SELL
from nexus.sim.private import OffGrid, PrivateTrade, mark as _mark, plain as _plain, units

RECV_WINDOW_DEFAULT_MS = 5000
AHEAD_MAX_MS = 1000
PRIVATE_PATH = "/v5/private"
TOPICS = frozenset({"order", "execution", "position", "wallet"})

SIDES = {"Buy": BUY, "Sell": SELL}
SIDE_NAMES = {BUY: "Buy", SELL: "Sell"}

REJECTS = {
    "insufficient_balance": (110007, "Available balance is insufficient"),
    "duplicate_client_id": (110072, "OrderLinkedID is duplicate"),
    "too_many_orders": (110020, "Not allowed to have more than 500 active orders."),
    "off_grid_price": (10001, "params error: price is not a multiple of tickSize"),
    "price_invalid": (10001, "params error: price invalid"),
    "off_grid_qty": (10001, "params error: qty is not a multiple of qtyStep"),
    "qty_invalid": (10001, "params error: qty invalid"),
    "order_type_invalid": (10001, "params error: orderType invalid"),
    "reduce_only": (110017, "Reduce-only rule not satisfied"),
    "unknown_order": (110001, "Order does not exist"),
    "leverage_invalid": (10001, "params error: leverage invalid"),
}
REDUCE_ONLY_FLAT = "current position is zero, cannot fix reduce-only order qty"


class BybitError(Exception):
    def __init__(self, code: int, msg: str) -> None:
        super().__init__(msg)
        self.code, self.msg = code, msg


def status_of(o: SimOrder) -> str:
    """Bybit's orderStatus for the simulator's order."""
    if o.status == NEW:
        return "Untriggered" if o.type == "STOP" else "New"
    if o.status in (CANCELED, EXPIRED):
        if o.type == "STOP" and not o.filled and o.status == EXPIRED:
            return "Deactivated"
        return "PartiallyFilledCanceled" if o.filled else "Cancelled"
    return {PARTIALLY_FILLED: "PartiallyFilled", FILLED: "Filled"}.get(o.status, "Rejected")


class BybitTrade(PrivateTrade):
    """Order entry and the private stream of the simulated Bybit linear venue."""

    def env(self, result: Any, code: int = 0, msg: str = "OK") -> tuple[int, dict]:
        return 200, {"retCode": code, "retMsg": msg, "result": result if result is not None else {},
                     "retExtInfo": {}, "time": self.now_ms()}

    # -- routes ---------------------------------------------------------------------------
    def routes(self) -> dict[tuple[str, str], Callable]:
        w = self._wrap
        return {
            ("POST", "/v5/order/create"): w(self.place), ("POST", "/v5/order/cancel"): w(self.cancel),
            ("GET", "/v5/order/realtime"): w(self.realtime), ("POST", "/v5/position/set-leverage"): w(self.leverage),
            ("GET", "/v5/position/list"): w(self.position_list),
            ("GET", "/v5/account/wallet-balance"): w(self.wallet_balance),
            ("GET", "/v5/user/query-api"): w(self.query_api),
            ("GET", "/v5/asset/coin/query-info"): w(self.coin_info),
            ("GET", "/v5/account/info"): w(self.account_info),
        }

    def _wrap(self, fn: Callable) -> Callable[[SimRequest], Any]:
        def handle(req: SimRequest):
            try:
                return fn(req)
            except BybitError as e:
                return self.env({}, e.code, e.msg)
        return handle

    # -- authentication ---------------------------------------------------------------------
    def _signed(self, req: SimRequest) -> tuple[SimAccount, dict]:
        h = req.headers
        key, ts, sign = h.get("x-bapi-api-key", ""), h.get("x-bapi-timestamp", ""), h.get("x-bapi-sign", "")
        window = h.get("x-bapi-recv-window", str(RECV_WINDOW_DEFAULT_MS))
        acct = self.ex.accounts.get(key) if key else None
        if acct is None:
            raise BybitError(10003, "API key is invalid.")
        if not ts.isdigit() or not window.isdigit():
            raise BybitError(10001, "params error: X-BAPI-TIMESTAMP and X-BAPI-RECV-WINDOW must be integers")
        payload = req.query_string if req.method == "GET" else req.body
        origin = ts + key + window + payload
        want = hmac.new(acct.secret.encode(), origin.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(want, sign):
            raise BybitError(10004, f"error sign! origin_string[{origin}]")
        now = self.now_ms()
        if not now - int(window) <= int(ts) < now + AHEAD_MAX_MS:
            raise BybitError(10002, "invalid request, please check your server timestamp or recv_window param. "
                                    f"req_timestamp[{ts}],server_timestamp[{now}],recv_window[{window}]")
        if req.method == "GET":
            params = dict(parse_qsl(req.query_string, keep_blank_values=True))
        else:
            try:
                params = json.loads(req.body or "{}")
            except ValueError:
                raise BybitError(10001, "params error: request body is not JSON") from None
            if not isinstance(params, dict):
                raise BybitError(10001, "params error: request body must be a JSON object")
        return acct, params

    def _linear(self, params: dict) -> None:
        if params.get("category") != "linear":
            raise BybitError(10001, "params error: Category is invalid")
        if params.get("symbol") != self.spec.symbol:
            raise BybitError(10001, "params error: symbol invalid")

    def _units(self, params: dict, name: str, dec: int, step: int) -> int | None:
        text = params.get(name)
        if text in (None, ""):
            return None
        try:
            return units(text, dec, step)
        except OffGrid:
            raise self._reject(Reject("off_grid_qty" if name == "qty" else "off_grid_price")) from None
        except ValueError:
            raise self._reject(Reject("qty_invalid" if name == "qty" else "price_invalid")) from None

    def _reject(self, r: Reject, acct: SimAccount | None = None) -> BybitError:
        code, msg = REJECTS[r.reason]
        if r.reason == "reduce_only" and acct is not None and not acct.position:
            msg = REDUCE_ONLY_FLAT
        return BybitError(code, msg)

    # -- orders -----------------------------------------------------------------------------
    def place(self, req: SimRequest):
        acct, p = self._signed(req)
        self._linear(p)
        side = SIDES.get(p.get("side"))
        if side is None:
            raise BybitError(10001, "params error: side invalid")
        kind = {"Market": "MARKET", "Limit": "LIMIT"}.get(p.get("orderType"))
        if kind is None:
            raise BybitError(10001, "params error: orderType invalid")
        s = self.spec
        qty = self._units(p, "qty", s.qty_dec, s.lot)
        if qty is None or qty <= 0:
            raise self._reject(Reject("qty_invalid"))
        price = self._units(p, "price", s.price_dec, s.tick)
        trigger = self._units(p, "triggerPrice", s.price_dec, s.tick)
        if kind == "LIMIT" and price is None:
            raise BybitError(10001, "params error: price is required for Limit orders")
        if trigger is not None:
            if kind != "MARKET" or p.get("triggerDirection") not in (1, 2):
                raise BybitError(10001, "params error: a conditional order here is Market with triggerDirection 1 or 2")
            kind = "STOP"
        reduce_only = p.get("reduceOnly") is True
        cid = p.get("orderLinkId") or f"sim{next(self._ids)}"
        try:
            o = self.ex.place(acct, cid, side, kind, qty, price=price if kind == "LIMIT" else None,
                              stop=trigger, reduce_only=reduce_only)
        except Reject as r:
            raise self._reject(r, acct) from None
        return self.env({"orderId": self.order_id(o), "orderLinkId": o.client_id})

    def order_id(self, o: SimOrder) -> str:
        return self.feed.uuid("order", o.oid)

    def _find(self, acct: SimAccount, p: dict) -> SimOrder | None:
        oid, cid = p.get("orderId"), p.get("orderLinkId")
        for o in self.ex.orders.values():
            if o.account == acct.api_key and ((cid and o.client_id == cid) or (oid and self.order_id(o) == oid)):
                return o
        return None

    def cancel(self, req: SimRequest):
        acct, p = self._signed(req)
        self._linear(p)
        if not p.get("orderId") and not p.get("orderLinkId"):
            raise BybitError(10001, "params error: orderId or orderLinkId is required")
        o = self._find(acct, p)
        if o is None:
            raise BybitError(*REJECTS["unknown_order"])
        try:
            self.ex.cancel(acct, oid=o.oid)
        except Reject:
            raise BybitError(*REJECTS["unknown_order"]) from None
        return self.env({"orderId": self.order_id(o), "orderLinkId": o.client_id})

    def realtime(self, req: SimRequest):
        acct, p = self._signed(req)
        if p.get("category") != "linear":
            raise BybitError(10001, "params error: Category is invalid")
        if p.get("symbol") and p["symbol"] != self.spec.symbol:
            raise BybitError(10001, "params error: symbol invalid")
        if p.get("orderId") or p.get("orderLinkId"):
            o = self._find(acct, p)
            rows = [o] if o is not None else []
        else:
            rows = self.ex.open_orders(acct)
        return self.env({"list": [self.order_body(o) for o in rows], "nextPageCursor": "", "category": "linear"})

    def leverage(self, req: SimRequest):
        acct, p = self._signed(req)
        self._linear(p)
        buy, sell = p.get("buyLeverage", ""), p.get("sellLeverage", "")
        if buy != sell or not isinstance(buy, str) or not buy.isdigit():
            raise BybitError(10001, "params error: buyLeverage and sellLeverage must be equal integers in one-way mode")
        if int(buy) == acct.leverage:
            raise BybitError(110043, "Set leverage has not been modified.")
        try:
            self.ex.set_leverage(acct, int(buy))
        except Reject as r:
            raise self._reject(r) from None
        return self.env({})

    # -- bodies -----------------------------------------------------------------------------
    def _avg(self, o: SimOrder) -> Decimal:
        return o.notional / self.ex.base_qty(o.filled) if o.filled else Decimal(0)

    def order_body(self, o: SimOrder) -> dict:
        s = self.spec
        stop = o.type == "STOP"
        return {
            "orderId": self.order_id(o), "orderLinkId": o.client_id, "blockTradeId": "", "symbol": s.symbol,
            "price": s.px(o.price or 0), "qty": s.qty(o.qty), "side": SIDE_NAMES[o.side], "isLeverage": "",
            "positionIdx": 0, "orderStatus": status_of(o), "cancelType": "CancelByUser" if o.status == CANCELED else "UNKNOWN",
            "rejectReason": "EC_NoError", "avgPrice": _plain(self._avg(o)) if o.filled else "",
            "leavesQty": s.qty(0 if o.status in (CANCELED, EXPIRED) else o.remaining),
            "leavesValue": _plain(self.ex.notional(o.price or 0, o.remaining) if o.status == NEW else Decimal(0)),
            "cumExecQty": s.qty(o.filled), "cumExecValue": _plain(o.notional), "cumExecFee": _plain(o.fees),
            "timeInForce": "GTC" if o.type == "LIMIT" else "IOC", "orderType": "Limit" if o.type == "LIMIT" else "Market",
            "stopOrderType": "Stop" if stop else "", "orderIv": "", "triggerPrice": s.px(o.stop or 0),
            "takeProfit": "", "stopLoss": "", "tpTriggerBy": "", "slTriggerBy": "",
            "triggerDirection": (1 if o.side == BUY else 2) if stop else 0, "triggerBy": "LastPrice" if stop else "",
            "lastPriceOnCreated": "", "reduceOnly": o.reduce_only, "closeOnTrigger": False, "smpType": "None",
            "smpGroup": 0, "smpOrderId": "", "tpslMode": "", "tpLimitPrice": "", "slLimitPrice": "", "placeType": "",
            "createdTime": str(fmt.ms(o.created_ns)), "updatedTime": str(fmt.ms(o.updated_ns)),
        }

    def position_row(self, acct: SimAccount) -> dict:
        ex, s = self.ex, self.spec
        qty = ex.base_qty(acct.position)
        entry = acct.entry_cost / qty if qty else Decimal(0)
        mark = _mark(ex)
        side = "" if not acct.position else ("Buy" if acct.position > 0 else "Sell")
        return {
            "positionIdx": 0, "riskId": 1, "riskLimitValue": "2000000", "symbol": s.symbol, "side": side,
            "size": s.qty(abs(acct.position)), "avgPrice": _plain(entry), "positionValue": _plain(abs(acct.entry_cost)),
            "tradeMode": 0, "positionStatus": "Normal", "autoAddMargin": 0, "adlRankIndicator": 0,
            "leverage": str(acct.leverage), "breakEvenPrice": _plain(entry), "positionBalance": "0",
            "markPrice": _plain(mark), "liqPrice": "", "bustPrice": "", "positionMM": "0", "positionMMByMp": "0",
            "positionIM": _plain(abs(acct.entry_cost) / acct.leverage), "positionIMByMp": "0", "tpslMode": "Full",
            "takeProfit": "0", "stopLoss": "0", "trailingStop": "0", "unrealisedPnl": _plain(ex.unrealised(acct)),
            "curRealisedPnl": _plain(acct.realised), "cumRealisedPnl": _plain(acct.realised), "seq": len(ex.orders),
            "isReduceOnly": False, "mmrSysUpdateTime": "", "leverageSysUpdatedTime": "", "sessionAvgPrice": "",
            "createdTime": "0", "updatedTime": str(self.now_ms()),
        }

    def position_list(self, req: SimRequest):
        acct, p = self._signed(req)
        if p.get("category") != "linear":
            raise BybitError(10001, "params error: Category is invalid")
        if p.get("symbol") and p["symbol"] != self.spec.symbol:
            raise BybitError(10001, "params error: symbol invalid")
        return self.env({"list": [self.position_row(acct)], "nextPageCursor": "", "category": "linear"})

    def wallet(self, acct: SimAccount) -> dict:
        ex, q = self.ex, self.spec.quote
        wallet, upl, avail = ex.free(acct, q), ex.unrealised(acct), ex.available(acct)
        im = ex.margin_used(acct)
        return {
            "totalEquity": _plain(wallet + upl), "accountIMRate": "0", "accountIMRateByMp": "0",
            "totalMarginBalance": _plain(wallet + upl), "totalInitialMargin": _plain(im),
            "totalInitialMarginByMp": _plain(im), "accountType": "UNIFIED", "totalAvailableBalance": _plain(avail),
            "accountMMRate": "0", "accountMMRateByMp": "0", "totalPerpUPL": _plain(upl),
            "totalWalletBalance": _plain(wallet), "accountLTV": "0", "totalMaintenanceMargin": "0",
            "totalMaintenanceMarginByMp": "0",
            "coin": [{"availableToBorrow": "", "bonus": "0", "accruedInterest": "0", "availableToWithdraw": _plain(avail),
                      "totalOrderIM": "0", "equity": _plain(wallet + upl), "totalPositionMM": "0", "usdValue": _plain(wallet + upl),
                      "spotHedgingQty": "0", "unrealisedPnl": _plain(upl), "collateralSwitch": True, "borrowAmount": "0",
                      "totalPositionIM": _plain(im), "walletBalance": _plain(wallet), "cumRealisedPnl": _plain(acct.realised),
                      "locked": "0", "marginCollateral": True, "coin": q, "spotBorrow": "0"}],
        }

    def wallet_balance(self, req: SimRequest):
        acct, p = self._signed(req)
        if p.get("accountType") != "UNIFIED":
            raise BybitError(10001, "params error: accountType only support UNIFIED")
        return self.env({"list": [self.wallet(acct)]})

    def account_info(self, req: SimRequest):
        """GET /v5/account/info ("Get Account Info"): a unified trading account (status 6:
        UTA 2.0 Pro), regular cross margin, as simulated."""
        self._signed(req)
        return self.env({"unifiedMarginStatus": 6, "marginMode": "REGULAR_MARGIN", "isMasterTrader": False,
                         "spotHedgingStatus": "OFF", "updatedTime": str(self.now_ms())})

    def coin_info(self, req: SimRequest):
        """GET /v5/asset/coin/query-info (asset API "Get Coin Info"): the instrument's two coins,
        one chain each, deposits and withdrawals off (the simulator trades, it moves no coins)."""
        self._signed(req)
        wanted = dict(parse_qsl(req.query_string)).get("coin")
        coins = [c for c in dict.fromkeys((self.spec.base, self.spec.quote)) if wanted in (None, "", c)]
        return self.env({"rows": [{"name": c, "coin": c, "remainAmount": "0", "chains": [{
            "chainType": c, "confirmation": "1", "withdrawFee": "0", "depositMin": "0", "withdrawMin": "0",
            "chain": c, "chainDeposit": "0", "chainWithdraw": "0", "minAccuracy": "8",
            "withdrawPercentageFee": "0", "contractAddress": "", "safeConfirmNumber": "1"}]} for c in coins]})

    def query_api(self, req: SimRequest):
        acct, _ = self._signed(req)
        wallet = ["AccountTransfer", "SubMemberTransfer"] + (["Withdraw"] if acct.can_withdraw else [])
        return self.env({
            "id": str(abs(hash(acct.api_key)) % 10_000_000), "note": "nexus sim", "apiKey": acct.api_key,
            "readOnly": 0, "secret": "", "permissions": {
                "ContractTrade": ["Order", "Position"], "Spot": ["SpotTrade"], "Wallet": wallet, "Options": [],
                "Derivatives": ["DerivativesTrade"], "CopyTrading": [], "BlockTrade": [], "Exchange": [], "NFT": [],
                "Affiliate": [], "Earn": []},
            "ips": ["*"], "type": 1, "deadlineDay": -2, "expiredAt": "1970-01-01T00:00:00Z",
            "createdAt": "2026-01-01T00:00:00Z", "unified": 0, "uta": 1, "userID": 1, "inviterID": 0,
            "vipLevel": "No VIP", "mktMakerLevel": "0", "affiliateID": 0, "rsaPublicKey": "", "isMaster": True,
            "parentUid": "0", "kycLevel": "LEVEL_1", "kycRegion": ""})

    # -- private stream ---------------------------------------------------------------------
    def on_text(self, conn: Conn, req: dict) -> None:
        op, req_id, args = req.get("op"), req.get("req_id"), req.get("args") or []
        if op == "auth":
            ok, msg = self._auth(conn, args)
            self.feed._reply(conn, "auth", req_id, ok, msg)
        elif op == "subscribe":
            key = self.private.account(conn)
            bad = [a for a in args if a not in TOPICS]
            if key is None or bad:
                self.feed._reply(conn, "subscribe", req_id, False,
                                 "error:request not authorized" if key is None else f"error:handler not found,topic:{bad[0]}")
                return
            conn.state["topics"].update(args)
            self.feed._reply(conn, "subscribe", req_id, True, "")
        elif op == "ping":
            self.feed._reply(conn, "pong", req_id, True, "")
        else:
            self.feed._reply(conn, str(op), req_id, False, f"error:unsupported op {op}")

    def _auth(self, conn: Conn, args: list) -> tuple[bool, str]:
        if len(args) != 3 or not isinstance(args[0], str) or not isinstance(args[1], int):
            return False, "error:params error"
        key, expires, sig = args
        acct = self.ex.accounts.get(key)
        if acct is None:
            return False, "error:API key is invalid"
        if expires <= self.now_ms():
            return False, "error:expires is expired"
        want = hmac.new(acct.secret.encode(), f"GET/realtime{expires}".encode(), hashlib.sha256).hexdigest()
        if not isinstance(sig, str) or not hmac.compare_digest(want, sig):
            return False, "error:signature verification failed"
        self.watch(conn, key, self._push)
        return True, ""

    def _msg(self, topic: str, data: list) -> str:
        return fmt.compact({"id": self.feed.uuid(topic, next(self._ids)), "topic": topic,
                            "creationTime": self.now_ms(), "data": data})

    def _push(self, ev: ExecEvent) -> None:
        key = ev.order.account
        if not self.private.live(key):
            return
        acct = self.ex.accounts[key]
        o, s = ev.order, self.spec
        if ev.fill_qty:
            self.private.send(key, "execution", self._msg("execution", [{
                "category": "linear", "symbol": s.symbol, "closedSize": "0", "execFee": _plain(ev.fee),
                "execId": self.feed.uuid("exec", ev.trade_id), "execPrice": s.px(ev.fill_price),
                "execQty": s.qty(ev.fill_qty), "execType": "Trade",
                "execValue": _plain(self.ex.notional(ev.fill_price, ev.fill_qty)),
                "feeRate": "0.0002" if ev.maker else "0.0005", "tradeIv": "", "markIv": "", "blockTradeId": "",
                "markPrice": _plain(_mark(self.ex)), "indexPrice": "", "underlyingPrice": "",
                "leavesQty": s.qty(o.remaining), "orderId": self.order_id(o), "orderLinkId": o.client_id,
                "orderPrice": s.px(o.price or 0), "orderQty": s.qty(o.qty),
                "orderType": "Limit" if o.type == "LIMIT" else "Market", "stopOrderType": "Stop" if o.type == "STOP" else "",
                "side": SIDE_NAMES[o.side], "execTime": str(fmt.ms(ev.ts_ns)), "isLeverage": "0",
                "isMaker": ev.maker, "seq": ev.trade_id, "marketUnit": "", "execPnl": "0",
                "createType": "CreateByUser", "feeCurrency": s.quote}]))
        self.private.send(key, "order", self._msg("order", [{**self.order_body(o), "category": "linear",
                                                              "closedPnl": "0", "feeCurrency": s.quote}]))
        if ev.fill_qty:
            row = self.position_row(acct)
            row.pop("avgPrice")
            self.private.send(key, "position", self._msg("position", [
                {**row, "entryPrice": _plain(acct.entry_cost / self.ex.base_qty(acct.position)) if acct.position else "0",
                 "category": "linear"}]))
            self.private.send(key, "wallet", self._msg("wallet", [self.wallet(acct)]))

