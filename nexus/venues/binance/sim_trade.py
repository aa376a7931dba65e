"""Binance's authenticated REST and user-data streams, as the simulator serves them on top
of the venue-neutral exchange (nexus.sim.exchange).

Sources (Binance Spot API docs, github.com/binance/binance-spot-api-docs `rest-api.md`,
`user-data-stream.md`, `errors.md`; Binance USD-M Futures docs "Trade" / "Account" /
"User Data Streams" / "Error Codes"):

- SIGNED endpoints: `signature` = HMAC-SHA256 hex of totalParams, the query string
  concatenated with the body, both exactly as sent, without the `signature` parameter;
  the key in `X-MBX-APIKEY`; `timestamp` (ms) mandatory, accepted when
  `timestamp < serverTime + 1000` and `serverTime - timestamp <= recvWindow` (default 5000,
  at most 60000). USER_STREAM endpoints (listen keys) need the key only.
- Failures as Binance answers them: HTTP 400 (401 for API-key errors) with
  `{"code": <negative int>, "msg": "..."}`.
- Spot: POST/GET/DELETE /api/v3/order, GET /api/v3/openOrders, GET /api/v3/account,
  GET /sapi/v1/account/apiRestrictions, POST/PUT/DELETE /api/v3/userDataStream; order
  responses ACK / RESULT / FULL (`newOrderRespType`; MARKET and LIMIT default to FULL, others
  to ACK); STOP_LOSS is our STOP (a stop-market). Events: `executionReport`,
  `outboundAccountPosition`.
- USD-M: POST/GET/DELETE /fapi/v1/order, GET /fapi/v1/openOrders, POST /fapi/v1/leverage,
  GET /fapi/v2/positionRisk, GET /fapi/v2/balance, POST/PUT/DELETE /fapi/v1/listenKey, and
  what ccxt reads: GET /fapi/v3/positionRisk, GET /fapi/v3/account, GET /fapi/v1/leverageBracket;
  responses ACK (default) or RESULT; STOP_MARKET with `stopPrice` is our STOP. Events:
  `ORDER_TRADE_UPDATE`, `ACCOUNT_UPDATE`. apiRestrictions is also served under the perp
  prefix (on Binance it lives on the spot host, api.binance.com) so one simulated account
  per venue answers its own key check.
- The user-data WebSocket is `/ws/<listenKey>` on the venue's stream host.

Decimal parameters are parsed exactly (the documented pattern `^([0-9]{1,20})(\\.[0-9]{1,20})?$`)
onto the instrument's integer grid; off-grid values are refused with the filter's error.
Modelled: GTC limits only (IOC/FOK answer -1115), one-way position mode (positionSide BOTH).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import re
import secrets
from decimal import Decimal
from typing import Any, Callable
from urllib.parse import parse_qsl

from nexus.sim import fmt
from nexus.sim.exchange import NEW, ExecEvent, Reject, SimAccount, SimOrder
from nexus.sim.feed import Conn, SimRequest
from nexus.sim.market import BUY, SELL
from nexus.sim.private import late, mark as _mark, plain as _plain

RECV_WINDOW_DEFAULT_MS = 5000
RECV_WINDOW_MS_MAX = 60000
AHEAD_MS_MAX = 1000            # a timestamp this far ahead of the server clock is refused
LISTEN_KEY_LEN = 64
CLIENT_ID_GENERATED_LEN = 22   # Binance's generated clientOrderId length
DECIMAL_PARAM = re.compile(r"^([0-9]{1,20})(\.[0-9]{1,20})?$")
DEC8 = Decimal("0.00000001")

SIDES = {"BUY": BUY, "SELL": SELL}
SIDE_NAMES = {BUY: "BUY", SELL: "SELL"}


class BinanceError(Exception):
    def __init__(self, code: int, msg: str, status: int = 400) -> None:
        super().__init__(msg)
        self.code, self.msg, self.status = code, msg, status

    def reply(self) -> tuple[int, dict]:
        return self.status, {"code": self.code, "msg": self.msg}


def mandatory(name: str) -> BinanceError:
    return BinanceError(-1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.")


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


# (spot reasons, futures reasons): SimExchange refusal -> Binance code and message
SPOT_REJECTS = {
    "insufficient_balance": (-2010, "Account has insufficient balance for requested action."),
    "duplicate_client_id": (-2010, "Duplicate order sent."),
    "too_many_orders": (-2010, "Account has too many open orders."),
    "off_grid_price": (-1013, "Filter failure: PRICE_FILTER"),
    "price_invalid": (-1013, "Filter failure: PRICE_FILTER"),
    "off_grid_qty": (-1013, "Filter failure: LOT_SIZE"),
    "qty_invalid": (-1013, "Filter failure: LOT_SIZE"),
    "order_type_invalid": (-1116, "Invalid orderType."),
    "reduce_only": (-1106, "Parameter 'reduceOnly' sent when not required."),
    "unknown_order": (-2013, "Order does not exist."),
    "leverage_invalid": (-1130, "Invalid data sent for a parameter."),
}
PERP_REJECTS = {
    **SPOT_REJECTS,
    "insufficient_balance": (-2019, "Margin is insufficient."),
    "duplicate_client_id": (-4116, "ClientOrderId is duplicated."),
    "off_grid_price": (-4014, "Price not increased by tick size."),
    "off_grid_qty": (-4023, "Quantity not increased by step size."),
    "qty_invalid": (-4003, "Quantity less than or equal to zero."),
    "reduce_only": (-2022, "ReduceOnly Order is rejected."),
}

SPOT_ORDER_PARAMS = frozenset({"symbol", "side", "type", "timeInForce", "quantity", "price", "stopPrice",
                               "newClientOrderId", "newOrderRespType", "recvWindow", "timestamp"})
PERP_ORDER_PARAMS = SPOT_ORDER_PARAMS | {"reduceOnly", "positionSide", "workingType", "priceProtect"}
SPOT_TYPES = {"MARKET": "MARKET", "LIMIT": "LIMIT", "STOP_LOSS": "STOP"}
PERP_TYPES = {"MARKET": "MARKET", "LIMIT": "LIMIT", "STOP_MARKET": "STOP"}


class BinanceTrade:
    """Order entry and user-data streams of one Binance feed (spot or USD-M)."""

    def __init__(self, feed) -> None:
        self.feed = feed
        self.futures: bool = feed.futures
        self.spec = feed.spec
        self.rejects = PERP_REJECTS if self.futures else SPOT_REJECTS
        self.types = PERP_TYPES if self.futures else SPOT_TYPES
        self.type_names = {v: k for k, v in self.types.items()}
        self.listen_keys: dict[str, str] = {}          # listenKey -> api key
        self.conns: dict[str, set[Conn]] = {}          # api key -> user-data connections
        self.cancel_ids: dict[int, str] = {}           # order id -> the cancel request's client id
        self.realised_seen: dict[str, Decimal] = {}    # api key -> realised PnL already reported
        self._generated = itertools.count(1)

    @property
    def ex(self):
        return self.feed.exchange()

    # -- routes ---------------------------------------------------------------------------
    def routes(self) -> dict[tuple[str, str], Callable]:
        w = self._wrap
        if self.futures:
            return {
                ("POST", "/fapi/v1/order"): w(self.place), ("GET", "/fapi/v1/order"): w(self.query),
                ("DELETE", "/fapi/v1/order"): w(self.cancel), ("GET", "/fapi/v1/openOrders"): w(self.open_orders),
                ("POST", "/fapi/v1/leverage"): w(self.leverage), ("GET", "/fapi/v2/positionRisk"): w(self.position_risk),
                ("GET", "/fapi/v2/balance"): w(self.balance),
                ("GET", "/fapi/v3/positionRisk"): w(self.position_risk_v3), ("GET", "/fapi/v3/account"): w(self.account_v3),
                ("GET", "/fapi/v1/leverageBracket"): w(self.leverage_bracket),
                ("GET", "/sapi/v1/account/apiRestrictions"): w(self.restrictions),
                ("POST", "/fapi/v1/listenKey"): w(self.listen_new), ("PUT", "/fapi/v1/listenKey"): w(self.listen_keep),
                ("DELETE", "/fapi/v1/listenKey"): w(self.listen_close),
            }
        return {
            ("POST", "/api/v3/order"): w(self.place), ("GET", "/api/v3/order"): w(self.query),
            ("DELETE", "/api/v3/order"): w(self.cancel), ("GET", "/api/v3/openOrders"): w(self.open_orders),
            ("GET", "/api/v3/account"): w(self.account),
            ("GET", "/sapi/v1/account/apiRestrictions"): w(self.restrictions),
            ("POST", "/api/v3/userDataStream"): w(self.listen_new), ("PUT", "/api/v3/userDataStream"): w(self.listen_keep),
            ("DELETE", "/api/v3/userDataStream"): w(self.listen_close),
        }

    def _wrap(self, fn: Callable) -> Callable[[SimRequest], Any]:
        def handle(req: SimRequest):
            try:
                return fn(req)
            except BinanceError as e:
                return e.reply()
        return handle

    # -- authentication ---------------------------------------------------------------------
    def _key(self, req: SimRequest) -> SimAccount:
        key = req.headers.get("x-mbx-apikey", "")
        if not key:
            raise BinanceError(-2014, "API-key format invalid.", 401)
        acct = self.ex.accounts.get(key)
        if acct is None:
            raise BinanceError(-2015, "Invalid API-key, IP, or permissions for action.", 401)
        return acct

    def _signed(self, req: SimRequest) -> tuple[SimAccount, dict[str, str]]:
        acct = self._key(req)
        query, sig_q = strip_signature(req.query_string)
        body, sig_b = strip_signature(req.body)
        sig = sig_q or sig_b
        params = dict(parse_qsl(req.query_string, keep_blank_values=True))
        params.update(parse_qsl(req.body, keep_blank_values=True))
        if not sig:
            raise mandatory("signature")
        want = hmac.new(acct.secret.encode(), (query + body).encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(want, sig):
            raise BinanceError(-1022, "Signature for this request is not valid.")
        ts = params.get("timestamp", "")
        if not ts.isdigit():
            raise mandatory("timestamp")
        window = params.get("recvWindow", str(RECV_WINDOW_DEFAULT_MS))
        if not window.isdigit():
            raise BinanceError(-1100, "Illegal characters found in parameter 'recvWindow'; legal range is '^[0-9]{1,20}$'.")
        if int(window) > RECV_WINDOW_MS_MAX:
            raise BinanceError(-1131, f"recvWindow must be less than {RECV_WINDOW_MS_MAX}.")
        now = fmt.ms(self.feed.clock())
        if int(ts) >= now + AHEAD_MS_MAX:
            raise BinanceError(-1021, f"Timestamp for this request was {AHEAD_MS_MAX}ms ahead of the server's time.")
        if now - int(ts) > int(window):
            raise BinanceError(-1021, "Timestamp for this request is outside of the recvWindow.")
        return acct, params

    # -- parameters -------------------------------------------------------------------------
    def _symbol(self, params: dict) -> None:
        sym = params.get("symbol")
        if not sym:
            raise mandatory("symbol")
        if sym != self.spec.symbol:
            raise BinanceError(-1121, "Invalid symbol.")

    def _units(self, params: dict, name: str, dec: int, step: int) -> int | None:
        """A decimal parameter on the instrument's grid, exactly (None when absent)."""
        text = params.get(name)
        if text is None or text == "":
            return None
        if not DECIMAL_PARAM.match(text):
            raise BinanceError(-1100, f"Illegal characters found in parameter '{name}'; legal range is "
                                      "'^([0-9]{1,20})(\\.[0-9]{1,20})?$'.")
        v = Decimal(text).scaleb(dec)
        reason = "off_grid_qty" if name == "quantity" else "off_grid_price"
        if v != v.to_integral_value() or int(v) % step:
            raise self._reject(Reject(reason))
        return int(v)

    def _reject(self, r: Reject) -> BinanceError:
        code, msg = self.rejects[r.reason]
        return BinanceError(code, msg)

    def _order_of(self, acct: SimAccount, params: dict, unknown: tuple[int, str]) -> SimOrder:
        self._symbol(params)
        oid, cid = params.get("orderId"), params.get("origClientOrderId")
        if not oid and not cid:
            raise BinanceError(-1102, "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!")
        try:
            return self.ex.find(acct, oid=int(oid) if oid else None, client_id=cid)
        except (Reject, ValueError):
            raise BinanceError(*unknown) from None

    # -- orders -----------------------------------------------------------------------------
    def place(self, req: SimRequest):
        acct, params = self._signed(req)
        allowed = PERP_ORDER_PARAMS if self.futures else SPOT_ORDER_PARAMS
        extra = set(params) - allowed - {"signature"}
        if extra:
            raise BinanceError(-1104, f"Not all sent parameters were read; read '{len(params) - len(extra)}' "
                                      f"parameter(s) but was sent '{len(params)}'.")
        self._symbol(params)
        for name in ("side", "type", "quantity"):
            if not params.get(name):
                raise mandatory(name)
        side = SIDES.get(params["side"])
        if side is None:
            raise BinanceError(-1117, "Invalid side.")
        kind = self.types.get(params["type"])
        if kind is None:
            raise BinanceError(-1116, "Invalid orderType.")
        s = self.spec
        qty = self._units(params, "quantity", s.qty_dec, s.lot)
        price = self._units(params, "price", s.price_dec, s.tick)
        stop = self._units(params, "stopPrice", s.price_dec, s.tick)
        if kind == "LIMIT":
            if price is None:
                raise mandatory("price")
            tif = params.get("timeInForce")
            if not tif:
                raise mandatory("timeInForce")
            if tif != "GTC":
                raise BinanceError(-1115, "Invalid timeInForce.")
        if kind == "STOP" and stop is None:
            raise mandatory("stopPrice")
        reduce_only = params.get("reduceOnly", "false").lower() == "true"
        cid = params.get("newClientOrderId") or self._generated_id()
        resp_type = params.get("newOrderRespType") or (
            "ACK" if self.futures or kind == "STOP" else "FULL")
        fills: list[ExecEvent] = []
        collect = fills.append
        self.ex.listen(acct.api_key, collect)
        try:
            o = self.ex.place(acct, cid, side, kind, qty, price=price if kind == "LIMIT" else None,
                              stop=stop if kind == "STOP" else None, reduce_only=reduce_only)
        except Reject as r:
            raise self._reject(r) from None
        finally:
            self.ex.unlisten(acct.api_key, collect)
        body = self._new_order_body(o, resp_type, [f for f in fills if f.fill_qty])
        delay_s = self.ex.take_response_delay()
        if delay_s:
            return late(200, body, delay_s)
        return 200, body

    def _generated_id(self) -> str:
        return self.feed.token("clientOrderId", next(self._generated), CLIENT_ID_GENERATED_LEN)

    def query(self, req: SimRequest):
        acct, params = self._signed(req)
        return 200, self._order_body(self._order_of(acct, params, (-2013, "Order does not exist.")))

    def cancel(self, req: SimRequest):
        acct, params = self._signed(req)
        o = self._order_of(acct, params, (-2011, "Unknown order sent."))
        self.cancel_ids[o.oid] = params.get("newClientOrderId") or self._generated_id()
        try:
            self.ex.cancel(acct, oid=o.oid)
        except Reject:
            raise BinanceError(-2011, "Unknown order sent.") from None
        body = self._order_body(o)
        if not self.futures:
            body["origClientOrderId"] = o.client_id
            body["clientOrderId"] = self.cancel_ids[o.oid]
        return 200, body

    def open_orders(self, req: SimRequest):
        acct, params = self._signed(req)
        if params.get("symbol"):
            self._symbol(params)
        return 200, [self._order_body(o) for o in self.ex.open_orders(acct)]

    def leverage(self, req: SimRequest):
        acct, params = self._signed(req)
        self._symbol(params)
        text = params.get("leverage", "")
        if not text:
            raise mandatory("leverage")
        if not text.isdigit():
            raise BinanceError(-1100, "Illegal characters found in parameter 'leverage'; legal range is '^[0-9]{1,20}$'.")
        try:
            self.ex.set_leverage(acct, int(text))
        except Reject:
            raise BinanceError(-4028, f"Leverage {text} is not valid") from None
        return 200, {"leverage": acct.leverage, "maxNotionalValue": "1000000", "symbol": self.spec.symbol}

    # -- account ----------------------------------------------------------------------------
    def account(self, req: SimRequest):
        acct, _ = self._signed(req)
        return 200, {
            "makerCommission": 2, "takerCommission": 5, "buyerCommission": 0, "sellerCommission": 0,
            "commissionRates": {"maker": _d8(Decimal("0.0002")), "taker": _d8(Decimal("0.0005")),
                                "buyer": _d8(Decimal(0)), "seller": _d8(Decimal(0))},
            "canTrade": True, "canWithdraw": acct.can_withdraw, "canDeposit": True, "brokered": False,
            "requireSelfTradePrevention": False, "preventSor": False, "updateTime": fmt.ms(self.feed.clock()),
            "accountType": "SPOT", "balances": self._balances(acct), "permissions": ["SPOT"],
        }

    def _balances(self, acct: SimAccount) -> list[dict]:
        return [{"asset": a, "free": _d8(self.ex.free(acct, a)), "locked": _d8(acct.locked.get(a, Decimal(0)))}
                for a in sorted(acct.balances)]

    def restrictions(self, req: SimRequest):
        acct, _ = self._signed(req)
        return 200, {"ipRestrict": False, "createTime": fmt.ms(self.feed.clock()), "enableReading": True,
                     "enableWithdrawals": acct.can_withdraw, "enableInternalTransfer": False,
                     "enableMargin": False, "enableFutures": True, "permitsUniversalTransfer": False,
                     "enableVanillaOptions": False, "enableFixApiTrade": False, "enableFixReadOnly": False,
                     "enableSpotAndMarginTrading": True, "enablePortfolioMarginTrading": False}

    def position_risk(self, req: SimRequest):
        acct, params = self._signed(req)
        if params.get("symbol"):
            self._symbol(params)
        ex, s = self.ex, self.spec
        mark = _mark(ex)
        qty = ex.base_qty(acct.position)
        entry = acct.entry_cost / qty if qty else Decimal(0)
        return 200, [{
            "entryPrice": _plain(entry), "breakEvenPrice": _plain(entry), "marginType": "cross",
            "isAutoAddMargin": "false", "isolatedMargin": "0.00000000", "leverage": str(acct.leverage),
            "liquidationPrice": "0", "markPrice": _plain(mark), "maxNotionalValue": "1000000",
            "positionAmt": s.qty(acct.position), "notional": _plain(qty * mark), "isolatedWallet": "0",
            "symbol": s.symbol, "unRealizedProfit": _d8(ex.unrealised(acct)), "positionSide": "BOTH",
            "updateTime": fmt.ms(self.feed.clock()),
        }]

    def position_risk_v3(self, req: SimRequest):
        """GET /fapi/v3/positionRisk ("Position Information V3"): only symbols with a position
        (one-way mode), v3's margin fields instead of leverage/marginType."""
        acct, params = self._signed(req)
        if params.get("symbol"):
            self._symbol(params)
        if not acct.position:
            return 200, []
        ex, s = self.ex, self.spec
        mark = _mark(ex)
        qty = ex.base_qty(acct.position)
        entry = acct.entry_cost / qty if qty else Decimal(0)
        notional = qty * mark
        im = abs(notional) / acct.leverage
        return 200, [{
            "symbol": s.symbol, "positionSide": "BOTH", "positionAmt": s.qty(acct.position),
            "entryPrice": _plain(entry), "breakEvenPrice": _plain(entry), "markPrice": _plain(mark),
            "unRealizedProfit": _d8(ex.unrealised(acct)), "liquidationPrice": "0", "isolatedMargin": "0",
            "notional": _plain(notional), "marginAsset": s.quote, "isolatedWallet": "0",
            "initialMargin": _d8(im), "maintMargin": "0", "positionInitialMargin": _d8(im),
            "openOrderInitialMargin": "0", "adl": 0, "bidNotional": "0", "askNotional": "0",
            "updateTime": fmt.ms(self.feed.clock()),
        }]

    def account_v3(self, req: SimRequest):
        """GET /fapi/v3/account ("Account Information V3"), single-asset mode: the quote asset."""
        acct, _ = self._signed(req)
        ex, q = self.ex, self.spec.quote
        wallet, upnl, avail = ex.free(acct, q), ex.unrealised(acct), ex.available(acct)
        im = ex.margin_used(acct)
        asset = {"asset": q, "walletBalance": _d8(wallet), "unrealizedProfit": _d8(upnl),
                 "marginBalance": _d8(wallet + upnl), "maintMargin": "0", "initialMargin": _d8(im),
                 "positionInitialMargin": _d8(im), "openOrderInitialMargin": "0",
                 "crossWalletBalance": _d8(wallet), "crossUnPnl": _d8(upnl), "availableBalance": _d8(avail),
                 "maxWithdrawAmount": _d8(avail), "updateTime": fmt.ms(self.feed.clock())}
        return 200, {"totalInitialMargin": _d8(im), "totalMaintMargin": "0", "totalWalletBalance": _d8(wallet),
                     "totalUnrealizedProfit": _d8(upnl), "totalMarginBalance": _d8(wallet + upnl),
                     "totalPositionInitialMargin": _d8(im), "totalOpenOrderInitialMargin": "0",
                     "totalCrossWalletBalance": _d8(wallet), "totalCrossUnPnl": _d8(upnl),
                     "availableBalance": _d8(avail), "maxWithdrawAmount": _d8(avail),
                     "assets": [asset], "positions": self.position_risk_v3(req)[1]}

    def leverage_bracket(self, req: SimRequest):
        """GET /fapi/v1/leverageBracket ("Notional and Leverage Brackets"): one bracket, the
        simulated exchange's maximum leverage at any notional."""
        _, params = self._signed(req)
        if params.get("symbol"):
            self._symbol(params)
        return 200, [{"symbol": self.spec.symbol, "notionalCoef": 1.0, "brackets": [
            {"bracket": 1, "initialLeverage": self.ex.leverage_max, "notionalCap": 1000000000,
             "notionalFloor": 0, "maintMarginRatio": 0.004, "cum": 0.0}]}]

    def balance(self, req: SimRequest):
        acct, _ = self._signed(req)
        ex, q = self.ex, self.spec.quote
        avail = ex.available(acct)
        return 200, [{"accountAlias": "SimA", "asset": q, "balance": _d8(ex.free(acct, q)),
                      "crossWalletBalance": _d8(ex.free(acct, q)), "crossUnPnl": _d8(ex.unrealised(acct)),
                      "availableBalance": _d8(avail), "maxWithdrawAmount": _d8(avail), "marginAvailable": True,
                      "updateTime": fmt.ms(self.feed.clock())}]

    # -- listen keys ------------------------------------------------------------------------
    def listen_new(self, req: SimRequest):
        acct = self._key(req)
        key = next((k for k, a in self.listen_keys.items() if a == acct.api_key), None)
        if key is None:
            key = secrets.token_hex(LISTEN_KEY_LEN // 2)
            self.listen_keys[key] = acct.api_key
            self.ex.listen(acct.api_key, self._push)
        return 200, {"listenKey": key}

    def listen_keep(self, req: SimRequest):
        acct = self._key(req)
        key = self._listen_key_of(acct, req)
        return 200, ({"listenKey": key} if self.futures else {})

    def listen_close(self, req: SimRequest):
        acct = self._key(req)
        key = self._listen_key_of(acct, req)
        del self.listen_keys[key]
        if acct.api_key not in self.listen_keys.values():
            self.ex.unlisten(acct.api_key, self._push)
        for c in list(self.conns.get(acct.api_key, ())):
            c.close(1000, "listenKey closed")
        return 200, {}

    def _listen_key_of(self, acct: SimAccount, req: SimRequest) -> str:
        params = dict(parse_qsl(req.query_string)) | dict(parse_qsl(req.body))
        key = params.get("listenKey") or next((k for k, a in self.listen_keys.items() if a == acct.api_key), "")
        if self.listen_keys.get(key) != acct.api_key:
            raise BinanceError(-1125, "This listenKey does not exist.")
        return key

    def attach(self, conn: Conn, listen_key: str) -> bool:
        """A WebSocket opened on /ws/<listenKey>: it receives that account's events."""
        api_key = self.listen_keys.get(listen_key)
        if api_key is None:
            return False
        conn.state["user_data"] = api_key
        self.conns.setdefault(api_key, set()).add(conn)
        return True

    # -- events -----------------------------------------------------------------------------
    def _push(self, ev: ExecEvent) -> None:
        live = self.conns.get(ev.order.account, set())
        live -= {c for c in live if getattr(c, "closed", False)}
        conns = list(live)
        if not conns:
            return
        acct = self.ex.accounts[ev.order.account]
        msgs = [self._order_update(ev, acct)]
        if self.futures:
            if ev.fill_qty:
                msgs.append(self._account_update(acct, ev.ts_ns))
        else:
            msgs.append(self._account_position(acct, ev.ts_ns))
        for c in conns:
            for m in msgs:
                c.send(m)

    def _exec_type(self, ev: ExecEvent) -> str:
        if ev.fill_qty:
            return "TRADE"
        return "NEW" if ev.order.status == NEW else ev.order.status

    def _order_update(self, ev: ExecEvent, acct: SimAccount) -> str:
        o, s = ev.order, self.spec
        x = self._exec_type(ev)
        E = fmt.ms(self.feed.clock())
        last_px = s.px(ev.fill_price) if ev.fill_price else s.px(0)
        if self.futures:
            rp = acct.realised - self.realised_seen.get(acct.api_key, Decimal(0))
            self.realised_seen[acct.api_key] = acct.realised
            return fmt.compact({"e": "ORDER_TRADE_UPDATE", "E": E, "T": fmt.ms(ev.ts_ns), "o": {
                "s": s.symbol, "c": o.client_id, "S": SIDE_NAMES[o.side], "o": self.type_names[o.type],
                "f": "GTC", "q": s.qty(o.qty), "p": s.px(o.price or 0), "ap": _plain(self._avg(o)),
                "sp": s.px(o.stop or 0), "x": x, "X": o.status, "i": o.oid, "l": s.qty(ev.fill_qty),
                "z": s.qty(o.filled), "L": last_px, "N": s.quote, "n": _plain(ev.fee), "T": fmt.ms(ev.ts_ns),
                "t": ev.trade_id, "b": "0", "a": "0", "m": ev.maker, "R": o.reduce_only, "wt": "CONTRACT_PRICE",
                "ot": self.type_names[o.type], "ps": "BOTH", "cp": False, "rp": _plain(rp if ev.fill_qty else Decimal(0)),
                "pP": False, "si": 0, "ss": 0, "V": "NONE", "pm": "NONE", "gtd": 0}})
        cancel = x == "CANCELED"
        return fmt.compact({
            "e": "executionReport", "E": E, "s": s.symbol,
            "c": self.cancel_ids.get(o.oid, o.client_id) if cancel else o.client_id,
            "S": SIDE_NAMES[o.side], "o": self.type_names[o.type], "f": "GTC", "q": s.qty(o.qty),
            "p": s.px(o.price or 0), "P": s.px(o.stop or 0), "F": s.qty(0), "g": -1,
            "C": o.client_id if cancel else "", "x": x, "X": o.status, "r": "NONE", "i": o.oid,
            "l": s.qty(ev.fill_qty), "z": s.qty(o.filled), "L": last_px, "n": _d8(ev.fee),
            "N": s.quote if ev.fill_qty else None, "T": fmt.ms(ev.ts_ns), "t": ev.trade_id if ev.fill_qty else -1,
            "v": 0, "I": ev.trade_id, "w": o.status == NEW and o.type != "STOP", "m": ev.maker, "M": False,
            "O": fmt.ms(o.created_ns), "Z": _d8(o.notional),
            "Y": _d8(self.ex.notional(ev.fill_price, ev.fill_qty) if ev.fill_qty else Decimal(0)),
            "Q": _d8(Decimal(0)), "W": fmt.ms(o.created_ns), "V": "NONE"})

    def _account_position(self, acct: SimAccount, ts_ns: int) -> str:
        return fmt.compact({"e": "outboundAccountPosition", "E": fmt.ms(self.feed.clock()), "u": fmt.ms(ts_ns),
                            "B": [{"a": b["asset"], "f": b["free"], "l": b["locked"]} for b in self._balances(acct)]})

    def _account_update(self, acct: SimAccount, ts_ns: int) -> str:
        ex, s = self.ex, self.spec
        qty = ex.base_qty(acct.position)
        entry = acct.entry_cost / qty if qty else Decimal(0)
        wallet = _d8(ex.free(acct, s.quote))
        return fmt.compact({"e": "ACCOUNT_UPDATE", "E": fmt.ms(self.feed.clock()), "T": fmt.ms(ts_ns), "a": {
            "m": "ORDER", "B": [{"a": s.quote, "wb": wallet, "cw": wallet, "bc": "0"}],
            "P": [{"s": s.symbol, "pa": s.qty(acct.position), "ep": _plain(entry), "bep": _plain(entry),
                   "cr": _plain(acct.realised), "up": _d8(ex.unrealised(acct)), "mt": "cross", "iw": "0",
                   "ps": "BOTH"}]}})

    def _avg(self, o: SimOrder) -> Decimal:
        return o.notional / self.ex.base_qty(o.filled) if o.filled else Decimal(0)

    # -- bodies -----------------------------------------------------------------------------
    def _order_body(self, o: SimOrder) -> dict:
        """GET order / DELETE order / openOrders shape."""
        s = self.spec
        t = self.type_names[o.type]
        if self.futures:
            return {"avgPrice": _plain(self._avg(o)), "clientOrderId": o.client_id, "cumQuote": _plain(o.notional),
                    "executedQty": s.qty(o.filled), "orderId": o.oid, "origQty": s.qty(o.qty), "origType": t,
                    "price": s.px(o.price or 0), "reduceOnly": o.reduce_only, "side": SIDE_NAMES[o.side],
                    "positionSide": "BOTH", "status": o.status, "stopPrice": s.px(o.stop or 0), "closePosition": False,
                    "symbol": s.symbol, "time": fmt.ms(o.created_ns), "timeInForce": "GTC", "type": t,
                    "updateTime": fmt.ms(o.updated_ns), "workingType": "CONTRACT_PRICE", "priceProtect": False,
                    "priceMatch": "NONE", "selfTradePreventionMode": "NONE", "goodTillDate": 0}
        return {"symbol": s.symbol, "orderId": o.oid, "orderListId": -1, "clientOrderId": o.client_id,
                "price": s.px(o.price or 0), "origQty": s.qty(o.qty), "executedQty": s.qty(o.filled),
                "cummulativeQuoteQty": _d8(o.notional), "status": o.status, "timeInForce": "GTC", "type": t,
                "side": SIDE_NAMES[o.side], "stopPrice": s.px(o.stop or 0), "icebergQty": s.qty(0),
                "time": fmt.ms(o.created_ns), "updateTime": fmt.ms(o.updated_ns), "isWorking": o.type != "STOP" or
                o.status != NEW, "workingTime": fmt.ms(o.created_ns), "origQuoteOrderQty": _d8(Decimal(0)),
                "selfTradePreventionMode": "NONE"}

    def _new_order_body(self, o: SimOrder, resp_type: str, fills: list[ExecEvent]) -> dict:
        s = self.spec
        if self.futures:
            body = self._order_body(o)
            body.pop("time")
            body["cumQty"] = s.qty(o.filled)
            if resp_type == "ACK":
                body.update(status=NEW, executedQty=s.qty(0), cumQty=s.qty(0), cumQuote="0", avgPrice="0.00")
            return body
        head = {"symbol": s.symbol, "orderId": o.oid, "orderListId": -1, "clientOrderId": o.client_id,
                "transactTime": fmt.ms(o.created_ns)}
        if resp_type == "ACK":
            return head
        body = self._order_body(o)
        for k in ("stopPrice", "icebergQty", "time", "updateTime", "isWorking"):
            body.pop(k)
        body = {**head, **body}
        if resp_type == "FULL":
            body["fills"] = [{"price": s.px(f.fill_price), "qty": s.qty(f.fill_qty), "commission": _d8(f.fee),
                              "commissionAsset": s.quote, "tradeId": f.trade_id} for f in fills]
        return body


def _d8(v: Decimal) -> str:
    return format(v.quantize(DEC8), "f")

