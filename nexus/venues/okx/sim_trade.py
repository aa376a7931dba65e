"""OKX v5's authenticated REST and private WebSocket (USDT swaps), as the simulator serves
them on top of the venue-neutral exchange (nexus.sim.exchange).

Sources (OKX API v5 docs, https://www.okx.com/docs-v5/en/): "REST Authentication" (headers
OK-ACCESS-KEY / -SIGN / -TIMESTAMP / -PASSPHRASE; sign = Base64 HMAC-SHA256 of timestamp +
method + requestPath (with `?query`) + body; ISO-8601 ms timestamps, refused when more than
30 s away from the server: 50102), "Trade" (POST /api/v5/trade/order, /cancel-order,
GET /trade/order by clOrdId or ordId, GET /trade/orders-pending, algo trigger orders POST
/trade/order-algo, GET /trade/order-algo, POST /trade/cancel-algos), "Account"
(POST /account/set-leverage, GET /account/positions, /account/balance, /account/config:
`perm` "read_only,trade[,withdraw]"), "WebSocket Login" (/ws/v5/private, op `login`,
sign = Base64 HMAC of timestamp (Unix seconds) + "GET" + "/users/self/verify"), private
channels `orders`, `orders-algo`, `positions`, `account`; "Error Code" (and ccxt's okx
error table, which quotes it).

Envelope `{"code","msg","data"}`; authentication failures are HTTP 401 `{"msg","code"}`:
50103 / 50104 / 50106 / 50107 missing header, 50111 invalid key, 50112 invalid timestamp,
50102 timestamp expired, 50105 passphrase incorrect, 50113 invalid sign. Order-level
failures are HTTP 200 `{"code":"1","msg":"All operations failed","data":[{..,"sCode",
"sMsg"}]}`: 51001 instrument does not exist, 51000 parameter error (malformed, or a price
off the tick), 51121 size not a multiple of the lot, 51008 insufficient margin, 51169 /
51170 reduce-only with no position / in the position's direction, 51016 duplicate
clOrdId, 51400 cancel of an unknown or finished order; 51603 order does not exist (query),
59102 leverage above the maximum. Sizes are contracts (ctVal base coin each). Modelled:
net position mode, cross margin, GTC limits; a STOP is a trigger algo order
(`ordType` "trigger", `orderPx` "-1": market on trigger).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime, timezone
from typing import Any, Callable
from urllib.parse import parse_qsl

from nexus.sim import fmt
from nexus.sim.exchange import CANCELED, EXPIRED, FILLED, NEW, PARTIALLY_FILLED, ExecEvent, Reject, SimAccount, SimOrder
from nexus.sim.feed import Conn, SimRequest
from nexus.sim.market import BUY, SELL
from nexus.sim.private import OffGrid, PrivateTrade, mark, plain, units

EXPIRY_MS = 30_000
PRIVATE_PATH = "/ws/v5/private"
CHANNELS = frozenset({"orders", "orders-algo", "positions", "account"})
SIDES = {"buy": BUY, "sell": SELL}
SIDE_NAMES = {BUY: "buy", SELL: "sell"}
ORDER_ID_BASE = 600_000_000_000_000_000
ALGO_ID_BASE = 700_000_000_000_000_000

REJECTS = {
    "insufficient_balance": ("51008", "Order failed. Insufficient USDT margin in account"),
    "duplicate_client_id": ("51016", "Duplicated clOrdId"),
    "too_many_orders": ("51024", "Maximum pending orders reached"),
    "off_grid_price": ("51000", "Parameter px error"),
    "price_invalid": ("51000", "Parameter px error"),
    "off_grid_qty": ("51121", "Order quantity must be a multiple of the lot size."),
    "qty_invalid": ("51000", "Parameter sz error"),
    "order_type_invalid": ("51000", "Parameter ordType error"),
    "reduce_only": ("51170", "Failed to place order. A reduce-only order can't be the same trading direction "
                             "as your existing position."),
    "unknown_order": ("51400", "Order cancellation failed as the order has been filled, canceled or does not exist."),
    "leverage_invalid": ("59102", "Leverage exceeds the maximum leverage. Please adjust the leverage"),
}
REDUCE_ONLY_FLAT = ("51169", "Order failed because you don't have any positions in this direction for this "
                             "contract to reduce or close.")


class OkxError(Exception):
    def __init__(self, code: str, msg: str, status: int = 200) -> None:
        super().__init__(msg)
        self.code, self.msg, self.status = code, msg, status


class OrderFailed(Exception):
    """An order-level failure: sCode / sMsg inside the data array."""

    def __init__(self, code: str, msg: str) -> None:
        super().__init__(msg)
        self.code, self.msg = code, msg


def state_of(o: SimOrder) -> str:
    if o.status in (CANCELED, EXPIRED):
        return "canceled"
    return {NEW: "live", PARTIALLY_FILLED: "partially_filled", FILLED: "filled"}.get(o.status, "canceled")


def parse_iso_ms(ts: str) -> int:
    if not ts.endswith("Z") or len(ts) != 24:
        raise ValueError(ts)
    return int(datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc).timestamp() * 1000)


class OkxTrade(PrivateTrade):
    """Order entry and the private stream of the simulated OKX swap venue."""

    def env(self, data: list, code: str = "0", msg: str = "") -> tuple[int, dict]:
        t = str(self.now_ms() * 1000)
        return 200, {"code": code, "msg": msg, "data": data, "inTime": t, "outTime": t}

    # -- routes ---------------------------------------------------------------------------
    def routes(self) -> dict[tuple[str, str], Callable]:
        w = self._wrap
        return {
            ("POST", "/api/v5/trade/order"): w(self.place), ("POST", "/api/v5/trade/cancel-order"): w(self.cancel),
            ("GET", "/api/v5/trade/order"): w(self.query), ("GET", "/api/v5/trade/orders-pending"): w(self.pending),
            ("POST", "/api/v5/trade/order-algo"): w(self.place_algo), ("GET", "/api/v5/trade/order-algo"): w(self.query_algo),
            ("POST", "/api/v5/trade/cancel-algos"): w(self.cancel_algos),
            ("POST", "/api/v5/account/set-leverage"): w(self.leverage),
            ("GET", "/api/v5/account/positions"): w(self.positions), ("GET", "/api/v5/account/balance"): w(self.balance),
            ("GET", "/api/v5/account/config"): w(self.config),
            ("GET", "/api/v5/asset/currencies"): w(self.currencies),
        }

    def _wrap(self, fn: Callable) -> Callable[[SimRequest], Any]:
        def handle(req: SimRequest):
            try:
                return fn(req)
            except OkxError as e:
                if e.status != 200:
                    return e.status, {"msg": e.msg, "code": e.code}
                return self.env([], e.code, e.msg)
            except OrderFailed as e:
                return self.env([{"clOrdId": "", "ordId": "", "tag": "", "ts": str(self.now_ms()), "sCode": e.code,
                                  "sMsg": e.msg}], "1", "All operations failed")
        return handle

    # -- authentication ---------------------------------------------------------------------
    def _signed(self, req: SimRequest) -> tuple[SimAccount, Any]:
        h = req.headers
        key, sign = h.get("ok-access-key", ""), h.get("ok-access-sign", "")
        ts, passphrase = h.get("ok-access-timestamp", ""), h.get("ok-access-passphrase", "")
        for value, code, name in ((key, "50103", "KEY"), (passphrase, "50104", "PASSPHRASE"),
                                  (sign, "50106", "SIGN"), (ts, "50107", "TIMESTAMP")):
            if not value:
                raise OkxError(code, f"Request header OK-ACCESS-{name} cannot be empty.", 401)
        acct = self.ex.accounts.get(key)
        if acct is None:
            raise OkxError("50111", "Invalid OK-ACCESS-KEY.", 401)
        try:
            sent_ms = parse_iso_ms(ts)
        except ValueError:
            raise OkxError("50112", "Invalid OK-ACCESS-TIMESTAMP.", 401) from None
        if abs(self.now_ms() - sent_ms) > EXPIRY_MS:
            raise OkxError("50102", "Timestamp request expired.", 401)
        if not acct.passphrase or not hmac.compare_digest(acct.passphrase, passphrase):
            raise OkxError("50105", "OK-ACCESS-PASSPHRASE incorrect.", 401)
        path = req.path + (f"?{req.query_string}" if req.query_string else "")
        want = base64.b64encode(hmac.new(acct.secret.encode(), (ts + req.method + path + req.body).encode(),
                                         hashlib.sha256).digest()).decode()
        if not hmac.compare_digest(want, sign):
            raise OkxError("50113", "Invalid Sign.", 401)
        if req.method == "GET":
            return acct, dict(req.query)
        try:
            return acct, json.loads(req.body or "{}")
        except ValueError:
            raise OkxError("50000", "Body can not be empty.") from None

    def _inst(self, p: dict) -> None:
        if not isinstance(p, dict) or p.get("instId") != self.spec.symbol:
            raise OrderFailed("51001", "Instrument ID does not exist")

    def _units(self, p: dict, name: str, dec: int, step: int) -> int | None:
        text = p.get(name)
        if text in (None, ""):
            return None
        try:
            return units(text, dec, step)
        except OffGrid:
            raise self._reject(Reject("off_grid_qty" if name == "sz" else "off_grid_price")) from None
        except ValueError:
            raise OrderFailed("51000", f"Parameter {name} error") from None

    def _reject(self, r: Reject, acct: SimAccount | None = None) -> OrderFailed:
        if r.reason == "reduce_only" and acct is not None and not acct.position:
            return OrderFailed(*REDUCE_ONLY_FLAT)
        return OrderFailed(*REJECTS[r.reason])

    def order_id(self, o: SimOrder) -> str:
        return str(ORDER_ID_BASE + o.oid)

    def algo_id(self, o: SimOrder) -> str:
        return str(ALGO_ID_BASE + o.oid)

    # -- orders -----------------------------------------------------------------------------
    def _new(self, acct: SimAccount, p: dict, kind: str, cid: str, price_field: str) -> SimOrder:
        self._inst(p)
        if p.get("tdMode") not in ("cross", "isolated"):
            raise OrderFailed("51000", "Parameter tdMode error")
        side = SIDES.get(p.get("side"))
        if side is None:
            raise OrderFailed("51000", "Parameter side error")
        s = self.spec
        sz = self._units(p, "sz", s.qty_dec, s.lot)
        if sz is None or sz <= 0:
            raise OrderFailed("51000", "Parameter sz error")
        price = self._units(p, price_field, s.price_dec, s.tick)
        if price is None and kind != "MARKET":
            raise OrderFailed("51000", f"Parameter {price_field} error")
        reduce_only = p.get("reduceOnly") in (True, "true")
        try:
            return self.ex.place(acct, cid or f"sim{next(self._ids)}", side, kind, sz,
                                 price=price if kind == "LIMIT" else None, stop=price if kind == "STOP" else None,
                                 reduce_only=reduce_only)
        except Reject as r:
            raise self._reject(r, acct) from None

    def place(self, req: SimRequest):
        acct, p = self._signed(req)
        kind = {"market": "MARKET", "limit": "LIMIT"}.get(p.get("ordType") if isinstance(p, dict) else None)
        if kind is None:
            raise OrderFailed("51000", "Parameter ordType error")
        o = self._new(acct, p, kind, p.get("clOrdId", ""), "px")
        return self.env([{"clOrdId": o.client_id, "ordId": self.order_id(o), "tag": "", "ts": str(self.now_ms()),
                          "sCode": "0", "sMsg": "Order placed"}])

    def place_algo(self, req: SimRequest):
        acct, p = self._signed(req)
        if not isinstance(p, dict) or p.get("ordType") != "trigger" or p.get("orderPx") != "-1":
            raise OrderFailed("51000", "Parameter ordType error")
        o = self._new(acct, p, "STOP", p.get("algoClOrdId", ""), "triggerPx")
        return self.env([{"algoId": self.algo_id(o), "clOrdId": "", "algoClOrdId": o.client_id, "tag": "",
                          "sCode": "0", "sMsg": ""}])

    def _find(self, acct: SimAccount, *, cid: str = "", oid: str = "", algo: bool = False) -> SimOrder | None:
        for o in self.ex.orders.values():
            if o.account != acct.api_key or (o.type == "STOP") != algo and not oid:
                continue
            if (cid and o.client_id == cid) or (oid and oid in (self.order_id(o), self.algo_id(o))):
                return o
        return None

    def query(self, req: SimRequest):
        acct, p = self._signed(req)
        if p.get("instId") != self.spec.symbol:
            raise OkxError("51001", "Instrument ID does not exist")
        if not p.get("ordId") and not p.get("clOrdId"):
            raise OkxError("51000", "Parameter ordId error")
        o = self._find(acct, cid=p.get("clOrdId", ""), oid=p.get("ordId", ""))
        if o is None or (o.type == "STOP" and o.status == NEW):
            raise OkxError("51603", "Order does not exist")
        return self.env([self.order_body(o)])

    def pending(self, req: SimRequest):
        acct, p = self._signed(req)
        rows = [o for o in self.ex.open_orders(acct) if o.type != "STOP" or o.status != NEW]
        return self.env([self.order_body(o) for o in rows])

    def query_algo(self, req: SimRequest):
        acct, p = self._signed(req)
        o = self._find(acct, cid=p.get("algoClOrdId", ""), oid=p.get("algoId", ""), algo=True)
        if o is None:
            raise OkxError("51603", "Order does not exist")
        return self.env([self.algo_body(o)])

    def cancel(self, req: SimRequest):
        acct, p = self._signed(req)
        self._inst(p)
        o = self._find(acct, cid=p.get("clOrdId", ""), oid=p.get("ordId", ""))
        if o is None or o.type == "STOP":
            raise OrderFailed(*REJECTS["unknown_order"])
        try:
            self.ex.cancel(acct, oid=o.oid)
        except Reject:
            raise OrderFailed(*REJECTS["unknown_order"]) from None
        return self.env([{"clOrdId": o.client_id, "ordId": self.order_id(o), "ts": str(self.now_ms()),
                          "sCode": "0", "sMsg": ""}])

    def cancel_algos(self, req: SimRequest):
        acct, items = self._signed(req)
        if not isinstance(items, list) or not items:
            raise OkxError("51000", "Parameter algoId error")
        out = []
        for it in items:
            o = self._find(acct, cid=it.get("algoClOrdId", ""), oid=it.get("algoId", ""), algo=True)
            if o is None or o.status != NEW:
                raise OrderFailed("51400", REJECTS["unknown_order"][1])
            self.ex.cancel(acct, oid=o.oid)
            out.append({"algoId": self.algo_id(o), "sCode": "0", "sMsg": ""})
        return self.env(out)

    def leverage(self, req: SimRequest):
        acct, p = self._signed(req)
        if p.get("instId") != self.spec.symbol:
            raise OkxError("51001", "Instrument ID does not exist")
        lever = p.get("lever", "")
        if p.get("mgnMode") not in ("cross", "isolated") or not isinstance(lever, str) or not lever.isdigit() \
                or int(lever) < 1:
            raise OkxError("51000", "Parameter lever error")
        try:
            self.ex.set_leverage(acct, int(lever))
        except Reject:
            raise OkxError(*REJECTS["leverage_invalid"]) from None
        return self.env([{"lever": lever, "mgnMode": p["mgnMode"], "instId": self.spec.symbol, "posSide": "net"}])

    # -- bodies -----------------------------------------------------------------------------
    def order_body(self, o: SimOrder) -> dict:
        s, ex = self.spec, self.ex
        stop = o.type == "STOP"
        avg = o.notional / ex.base_qty(o.filled) if o.filled else None
        return {
            "instType": "SWAP", "instId": s.symbol, "tgtCcy": "", "ccy": "", "ordId": self.order_id(o),
            "clOrdId": "" if stop else o.client_id, "algoClOrdId": o.client_id if stop else "",
            "algoId": self.algo_id(o) if stop else "", "tag": "", "px": s.px(o.price) if o.price else "",
            "pxUsd": "", "pxVol": "", "pxType": "", "sz": s.qty(o.qty), "pnl": "0",
            "ordType": "limit" if o.type == "LIMIT" else "market", "side": SIDE_NAMES[o.side], "posSide": "net",
            "tdMode": "cross", "accFillSz": s.qty(o.filled), "fillPx": "", "tradeId": "", "fillSz": "0",
            "fillTime": "", "avgPx": plain(avg) if avg is not None else "", "state": state_of(o),
            "lever": str(ex.accounts[o.account].leverage), "attachAlgoClOrdId": "", "tpTriggerPx": "",
            "tpTriggerPxType": "", "tpOrdPx": "", "slTriggerPx": "", "slTriggerPxType": "", "slOrdPx": "",
            "attachAlgoOrds": [], "linkedAlgoOrd": {"algoId": ""}, "stpId": "", "stpMode": "cancel_maker",
            "feeCcy": s.quote, "fee": plain(-o.fees), "rebateCcy": s.quote, "rebate": "0", "source": "",
            "category": "normal", "reduceOnly": "true" if o.reduce_only else "false", "isTpLimit": "false",
            "cancelSource": "1" if o.status == CANCELED else "", "cancelSourceReason": "",
            "quickMgnType": "", "uTime": str(fmt.ms(o.updated_ns)), "cTime": str(fmt.ms(o.created_ns)),
        }

    def algo_body(self, o: SimOrder) -> dict:
        s = self.spec
        state = "live" if o.status == NEW else ("canceled" if o.status == CANCELED or not o.filled else "effective")
        return {
            "instType": "SWAP", "instId": s.symbol, "ccy": "", "ordId": self.order_id(o) if state == "effective" else "",
            "ordIdList": [], "algoId": self.algo_id(o), "clOrdId": "", "sz": s.qty(o.qty), "closeFraction": "",
            "ordType": "trigger", "side": SIDE_NAMES[o.side], "posSide": "net", "tdMode": "cross", "tgtCcy": "",
            "state": state, "lever": "", "tpTriggerPx": "", "tpTriggerPxType": "", "tpOrdPx": "", "slTriggerPx": "",
            "slTriggerPxType": "", "slOrdPx": "", "triggerPx": s.px(o.stop), "triggerPxType": "last",
            "ordPx": "-1", "actualSz": s.qty(o.filled) if o.filled else "", "actualPx": "", "actualSide": "",
            "triggerTime": str(fmt.ms(o.updated_ns)) if state == "effective" else "", "tag": "",
            "algoClOrdId": o.client_id, "reduceOnly": "true" if o.reduce_only else "false", "failCode": "",
            "cTime": str(fmt.ms(o.created_ns)), "uTime": str(fmt.ms(o.updated_ns)),
        }

    def position_rows(self, acct: SimAccount) -> list[dict]:
        if not acct.position:
            return []
        ex, s = self.ex, self.spec
        base = ex.base_qty(acct.position)
        avg = acct.entry_cost / base
        m = mark(ex)
        return [{
            "adl": "1", "availPos": "", "avgPx": plain(avg), "cTime": "0", "ccy": s.quote, "deltaBS": "", "deltaPA": "",
            "gammaBS": "", "gammaPA": "", "imr": plain(abs(acct.entry_cost) / acct.leverage), "instId": s.symbol,
            "instType": "SWAP", "interest": "", "idxPx": plain(m), "last": plain(m), "usdPx": "", "bePx": plain(avg),
            "lever": str(acct.leverage), "liab": "", "liabCcy": "", "liqPx": "", "markPx": plain(m), "margin": "",
            "mgnMode": "cross", "mgnRatio": "", "mmr": "0", "notionalUsd": plain(abs(base) * m), "optVal": "",
            "pTime": str(self.now_ms()), "pos": s.qty(acct.position), "posCcy": "", "posId": "1", "posSide": "net",
            "spotInUseAmt": "", "spotInUseCcy": "", "thetaBS": "", "thetaPA": "", "tradeId": "", "bizRefId": "",
            "bizRefType": "", "quoteBal": "", "baseBal": "", "baseBorrowed": "", "baseInterest": "", "quoteBorrowed": "",
            "quoteInterest": "", "uTime": str(self.now_ms()), "upl": plain(ex.unrealised(acct)), "uplLastPx": "",
            "uplRatio": "", "uplRatioLastPx": "", "vegaBS": "", "vegaPA": "", "realizedPnl": plain(acct.realised),
            "pnl": plain(acct.realised), "fee": "0", "fundingFee": "0", "liqPenalty": "0", "closeOrderAlgo": [],
        }]

    def positions(self, req: SimRequest):
        acct, p = self._signed(req)
        if p.get("instType", "SWAP") != "SWAP" or p.get("instId", self.spec.symbol) != self.spec.symbol:
            return self.env([])
        return self.env(self.position_rows(acct))

    def balance_row(self, acct: SimAccount) -> dict:
        ex, q = self.ex, self.spec.quote
        wallet, upl, avail, im = ex.free(acct, q), ex.unrealised(acct), ex.available(acct), ex.margin_used(acct)
        return {"adjEq": plain(wallet + upl), "borrowFroz": "", "imr": plain(im), "isoEq": "0", "mgnRatio": "",
                "mmr": "0", "notionalUsd": "", "ordFroz": "0", "totalEq": plain(wallet + upl), "uTime": str(self.now_ms()),
                "upl": plain(upl), "details": [{
                    "availBal": plain(avail), "availEq": plain(avail), "borrowFroz": "", "cashBal": plain(wallet),
                    "ccy": q, "crossLiab": "", "disEq": plain(wallet + upl), "eq": plain(wallet + upl),
                    "eqUsd": plain(wallet + upl), "fixedBal": "0", "frozenBal": plain(im), "imr": plain(im),
                    "interest": "", "isoEq": "0", "isoLiab": "", "isoUpl": "0", "liab": "", "maxLoan": "",
                    "mgnRatio": "", "mmr": "0", "notionalLever": "", "ordFrozen": "0", "spotInUseAmt": "",
                    "stgyEq": "0", "twap": "0", "uTime": str(self.now_ms()), "upl": plain(upl), "uplLiab": ""}]}

    def balance(self, req: SimRequest):
        acct, _ = self._signed(req)
        return self.env([self.balance_row(acct)])

    def currencies(self, req: SimRequest):
        """GET /api/v5/asset/currencies (funding "Get currencies"): the instrument's two coins,
        one chain each, deposits and withdrawals off (the simulator trades, it moves no coins)."""
        self._signed(req)
        wanted = dict(parse_qsl(req.query_string)).get("ccy")
        coins = [c for c in dict.fromkeys((self.spec.base, self.spec.quote))
                 if wanted in (None, "") or c in wanted.split(",")]
        return self.env([{
            "ccy": c, "name": c, "logoLink": "", "chain": f"{c}-{c}", "ctAddr": "", "canDep": False,
            "canWd": False, "canInternal": False, "depEstOpenTime": "", "wdEstOpenTime": "", "minDep": "0",
            "minDepArrivalConfirm": "1", "minWd": "0", "maxWd": "0", "wdTickSz": "8", "wdQuota": "0",
            "usedWdQuota": "0", "fee": "0", "minFee": "0", "maxFee": "0", "mainNet": True, "needTag": False,
            "minInternal": "0", "maxInternal": "0", "burningFeeRate": "", "depQuotaFixed": "",
            "usedDepQuotaFixed": "", "depQuoteDailyLayer2": ""} for c in coins])

    def config(self, req: SimRequest):
        acct, _ = self._signed(req)
        perm = "read_only,trade" + (",withdraw" if acct.can_withdraw else "")
        return self.env([{"uid": "1", "mainUid": "1", "acctLv": "2", "acctStpMode": "cancel_maker", "posMode":
                          "net_mode", "autoLoan": False, "greeksType": "PA", "level": "Lv1", "levelTmp": "",
                          "ctIsoMode": "automatic", "mgnIsoMode": "automatic", "roleType": "0", "traderInsts": [],
                          "spotRoleType": "0", "spotTraderInsts": [], "opAuth": "0", "kycLv": "1", "label": "nexus sim",
                          "ip": "", "perm": perm, "liquidationGear": "-1", "enableSpotBorrow": False,
                          "spotBorrowAutoRepay": False, "type": "0", "settleCcy": "USDT", "settleCcyList": ["USDT"]}])

    # -- private stream ---------------------------------------------------------------------
    def on_text(self, conn: Conn, req: dict) -> None:
        op, args = req.get("op"), req.get("args")
        if op == "login":
            code, msg = self._login(conn, args)
            self.feed._send(conn, {"event": "login" if code == "0" else "error", "code": code, "msg": msg}, None)
        elif op == "subscribe" and isinstance(args, list) and args:
            if self.private.account(conn) is None:
                self.feed._send(conn, {"event": "error", "code": "60011", "msg": "Please log in"}, req.get("id"))
                return
            for arg in args:
                ch = (arg or {}).get("channel")
                if ch not in CHANNELS:
                    self.feed._send(conn, {"event": "error", "code": "60018", "msg": f"Wrong URL or channel:{ch}"},
                                    req.get("id"))
                    continue
                conn.state["topics"].add(ch)
                self.feed._send(conn, {"event": "subscribe", "arg": arg}, req.get("id"))
        else:
            self.feed._send(conn, {"event": "error", "code": "60012", "msg": f"Invalid request: {json.dumps(req)}"}, None)

    def _login(self, conn: Conn, args) -> tuple[str, str]:
        if not isinstance(args, list) or len(args) != 1 or not isinstance(args[0], dict):
            return "60012", "Invalid request"
        a = args[0]
        acct = self.ex.accounts.get(a.get("apiKey", ""))
        if acct is None:
            return "60005", "Invalid OK-ACCESS-KEY"
        ts = a.get("timestamp", "")
        if not isinstance(ts, str) or not ts.isdigit() or abs(self.now_ms() - int(ts) * 1000) > EXPIRY_MS:
            return "60006", "Timestamp request expired"
        if not acct.passphrase or a.get("passphrase") != acct.passphrase:
            return "60024", "Wrong passphrase"
        want = base64.b64encode(hmac.new(acct.secret.encode(), f"{ts}GET/users/self/verify".encode(),
                                         hashlib.sha256).digest()).decode()
        if not isinstance(a.get("sign"), str) or not hmac.compare_digest(want, a["sign"]):
            return "60007", "Invalid sign"
        self.watch(conn, acct.api_key, self._push)
        return "0", ""

    def _push(self, ev: ExecEvent) -> None:
        key = ev.order.account
        if not self.private.live(key):
            return
        o, s, acct = ev.order, self.spec, self.ex.accounts[key]
        if o.type == "STOP" and (o.status == NEW or not o.filled and o.status in (CANCELED, EXPIRED)):
            self.private.send(key, "orders-algo", fmt.compact({"arg": {"channel": "orders-algo", "instType": "SWAP"},
                                                               "data": [self.algo_body(o)]}))
            return
        body = self.order_body(o)
        if ev.fill_qty:
            body.update(fillPx=s.px(ev.fill_price), fillSz=s.qty(ev.fill_qty), tradeId=str(ev.trade_id),
                        fillTime=str(fmt.ms(ev.ts_ns)), fillFee=plain(-ev.fee), fillFeeCcy=s.quote,
                        execType="M" if ev.maker else "T")
        else:
            body.update(fillFee="0", fillFeeCcy="", execType="")
        body.update(amendResult="", code="0", msg="", reqId="", fillPnl="0")
        self.private.send(key, "orders", fmt.compact({"arg": {"channel": "orders", "instType": "SWAP", "uid": "1"},
                                                      "data": [body]}))
        if ev.fill_qty:
            rows = self.position_rows(acct) or [{"instId": s.symbol, "instType": "SWAP", "pos": "0", "posSide": "net",
                                                 "avgPx": "", "upl": "0", "lever": str(acct.leverage)}]
            self.private.send(key, "positions", fmt.compact({"arg": {"channel": "positions", "instType": "SWAP"},
                                                             "data": rows}))
            self.private.send(key, "account", fmt.compact({"arg": {"channel": "account"},
                                                           "data": [self.balance_row(acct)]}))
