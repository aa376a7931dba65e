"""Coinbase Advanced Trade's authenticated REST and `user` WebSocket channel (spot), as the
simulator serves them on top of the venue-neutral exchange (nexus.sim.exchange).

Sources (docs.cdp.coinbase.com): "API Key Authentication" / "Creating a JWT" (Authorization:
Bearer <JWT>; header {alg ES256|EdDSA, kid = key name, nonce, typ}; claims iss "cdp", sub =
key name, nbf, exp = nbf + 120, uri "METHOD host/path"); api-reference/advanced-trade-api/rest-api
"Create Order" (POST /api/v3/brokerage/orders: client_order_id, product_id, side BUY|SELL,
order_configuration market_market_ioc {base_size} | limit_limit_gtc {base_size, limit_price,
post_only} | stop_limit_stop_limit_gtc {base_size, limit_price, stop_price, stop_direction
STOP_DIRECTION_STOP_UP|DOWN}; answer {success, success_response {order_id, product_id, side,
client_order_id} | error_response {error (NewOrderFailureReason), message, error_details,
preview_failure_reason}, order_configuration}; a client_order_id already used answers the order
it names, no new order), "Cancel Orders" (POST .../orders/batch_cancel {order_ids} -> results
[{success, failure_reason, order_id}]), "Get Order" (GET .../orders/historical/{order_id}),
"List Orders" (GET .../orders/historical/batch), "List Accounts" (GET .../accounts), "Get API
Key Permissions" (GET .../key_permissions: can_view, can_trade, can_transfer, portfolio_uuid,
portfolio_type), websocket/user.md (subscribe {"type":"subscribe","channel":"user","jwt"}, the
`user` channel's events [{"type":"snapshot"|"update","orders":[{order_id, client_order_id,
cumulative_quantity, leaves_quantity, avg_price, total_fees, status, ...}]}]).

Authentication is checked as Coinbase does: the JWT's signature with the PUBLIC key registered
for the key name (a simulated account's `secret` holds that public key PEM, never a private
key), iss/sub/kid, nbf <= now < exp with exp - nbf <= 120 s, and `uri` equal to this request's
method, Host and path. Any failure: HTTP 401 "Unauthorized" (Coinbase says no more).

Our STOP is Coinbase's stop-limit (Advanced Trade has no stop-market for spot): the exchange's
STOP_LIMIT, triggered on the last trade price, then a limit at `limit_price`.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, Callable

from nexus.sim import fmt
from nexus.sim.exchange import MAKER_FEE, TAKER_FEE, CANCELED, EXPIRED, FILLED, NEW, PARTIALLY_FILLED, ExecEvent, Reject, SimAccount, SimOrder
from nexus.sim.feed import Conn, SimRequest
from nexus.sim.market import BUY, SELL
from nexus.sim.private import OffGrid, PrivateTrade, late, units
from nexus.venues.coinbase.sign import SigningError, jwt_parts, verify_jwt

API = "/api/v3/brokerage"
JWT_LIFETIME_MAX_S = 120
# "cdp" (the CDP docs' "Creating a JWT"); and the earlier Advanced Trade form, issuer
# "coinbase-cloud" with audience ["retail_rest_api_proxy"], which clients still send (ccxt 4.5
# for ES256 keys) and the venue still accepts. The old issuer without its audience is refused.
LEGACY_ISSUER, LEGACY_AUDIENCE = "coinbase-cloud", ["retail_rest_api_proxy"]
UNAUTHORIZED = (401, "Unauthorized")
SIDES = {"BUY": BUY, "SELL": SELL}
SIDE_NAMES = {BUY: "BUY", SELL: "SELL"}
CONFIGS = {"market_market_ioc": "MARKET", "limit_limit_gtc": "LIMIT", "stop_limit_stop_limit_gtc": "STOP_LIMIT"}
TYPE_NAMES = {"MARKET": "MARKET", "LIMIT": "LIMIT", "STOP_LIMIT": "STOP_LIMIT"}
STOP_DIRECTIONS = {BUY: "STOP_DIRECTION_STOP_UP", SELL: "STOP_DIRECTION_STOP_DOWN"}

# exchange reason -> (NewOrderFailureReason, message, PreviewFailureReason)
REJECTS = {
    "insufficient_balance": ("INSUFFICIENT_FUND", "Insufficient balance in source account", "PREVIEW_INSUFFICIENT_FUND"),
    "off_grid_price": ("INVALID_PRICE_PRECISION", "Price is not a multiple of the quote increment",
                       "PREVIEW_INVALID_PRICE_PRECISION"),
    "price_invalid": ("INVALID_LIMIT_PRICE", "Limit price is invalid", "PREVIEW_INVALID_LIMIT_PRICE"),
    "off_grid_qty": ("INVALID_SIZE_PRECISION", "Size is not a multiple of the base increment",
                     "PREVIEW_INVALID_SIZE_PRECISION"),
    "qty_invalid": ("UNKNOWN_FAILURE_REASON", "Order size is too small", "PREVIEW_INVALID_BASE_SIZE_TOO_SMALL"),
    "too_many_orders": ("UNKNOWN_FAILURE_REASON", "Too many open orders", "UNKNOWN_PREVIEW_FAILURE_REASON"),
    "order_type_invalid": ("UNSUPPORTED_ORDER_CONFIGURATION", "Unsupported order configuration",
                           "PREVIEW_INVALID_ORDER_CONFIG"),
}


class OrderFailure(Exception):
    def __init__(self, error: str, message: str, preview: str) -> None:
        super().__init__(message)
        self.error, self.message, self.preview = error, message, preview


class Unauthorized(Exception):
    """The JWT was refused (the reason stays in the simulator: Coinbase answers 401 only)."""


def exact(v: Decimal) -> str:
    """An exact decimal string, no exponent, no trailing zeros."""
    s = format(v, "f")
    return (s.rstrip("0").rstrip(".") if "." in s else s) or "0"


def status_of(o: SimOrder) -> str:
    if o.status in (NEW, PARTIALLY_FILLED):
        return "OPEN"
    return {FILLED: "FILLED", CANCELED: "CANCELLED", EXPIRED: "EXPIRED"}.get(o.status, "FAILED")


class CoinbaseTrade(PrivateTrade):
    """Order entry and the `user` channel of the simulated Coinbase spot venue."""

    def routes(self) -> dict[tuple[str, str], Callable]:
        w = self._wrap
        return {
            ("POST", f"{API}/orders"): w(self.create), ("POST", f"{API}/orders/batch_cancel"): w(self.batch_cancel),
            ("GET", f"{API}/orders/historical/batch"): w(self.list_orders),
            ("GET", f"{API}/orders/historical/{{order_id}}"): w(self.get_order),
            ("GET", f"{API}/accounts"): w(self.accounts), ("GET", f"{API}/key_permissions"): w(self.permissions),
            ("GET", f"{API}/transaction_summary"): w(self.transaction_summary),
        }

    def _wrap(self, fn: Callable) -> Callable[[SimRequest], Any]:
        def handle(req: SimRequest):
            try:
                acct = self.verify(req.headers.get("authorization", ""), f"{req.method} "
                                   f"{req.headers.get('host', '')}/{self.feed.venue}{req.path}")
            except Unauthorized:
                return UNAUTHORIZED
            return fn(req, acct)
        return handle

    # -- authentication ---------------------------------------------------------------------
    def verify(self, authorization: str, uri: str | None) -> SimAccount:
        """The account whose key signed this JWT (Bearer form for REST, bare for the stream);
        `uri` None: the WebSocket JWT, which carries none."""
        token = authorization[len("Bearer "):] if authorization.startswith("Bearer ") else authorization
        try:
            header = jwt_parts(token)[0]
            acct = self.ex.accounts.get(str(header.get("kid", "")))
            if acct is None:
                raise Unauthorized("unknown key")
            header, claims = verify_jwt(token, acct.secret)
        except SigningError as e:
            raise Unauthorized(str(e)) from None
        now = self.now_ms() // 1000
        nbf, exp = claims.get("nbf"), claims.get("exp")
        legacy = claims.get("iss") == LEGACY_ISSUER and claims.get("aud") == LEGACY_AUDIENCE
        if (claims.get("iss") != "cdp" and not legacy) or claims.get("sub") != header.get("kid"):
            raise Unauthorized("iss / sub")
        if not isinstance(nbf, int) or not isinstance(exp, int) or exp - nbf > JWT_LIFETIME_MAX_S:
            raise Unauthorized("nbf / exp")
        if not nbf <= now < exp:
            raise Unauthorized("expired or not yet valid")
        if uri is not None and claims.get("uri") != uri:
            raise Unauthorized("uri")
        return acct

    # -- orders -----------------------------------------------------------------------------
    def _fail(self, f: OrderFailure, body: dict) -> tuple[int, dict]:
        return 200, {"success": False, "failure_reason": "UNKNOWN_FAILURE_REASON", "order_id": "",
                     "error_response": {"error": f.error, "message": f.message, "error_details": f.message,
                                        "preview_failure_reason": f.preview},
                     "order_configuration": body.get("order_configuration")}

    def _units(self, text: Any, dec: int, step: int, what: str) -> int:
        try:
            return units(text, dec, step)
        except OffGrid:
            raise OrderFailure(*REJECTS["off_grid_qty" if what == "size" else "off_grid_price"]) from None
        except ValueError:
            raise OrderFailure(*REJECTS["qty_invalid" if what == "size" else "price_invalid"]) from None

    def create(self, req: SimRequest, acct: SimAccount):
        try:
            body = json.loads(req.body or "{}")
        except ValueError:
            return 400, {"error": "INVALID_ARGUMENT", "error_details": "body is not JSON", "message": "body is not JSON"}
        if not isinstance(body, dict):
            return 400, {"error": "INVALID_ARGUMENT", "error_details": "body must be an object", "message": "invalid body"}
        cid = body.get("client_order_id")
        if not isinstance(cid, str) or not cid:
            return 400, {"error": "INVALID_ARGUMENT", "error_details": "client_order_id is required",
                         "message": "client_order_id is required"}
        known = self.ex.by_client.get((acct.api_key, cid))
        if known is not None:                     # Coinbase: the order that id names, nothing new
            return 200, self._success(known, body)
        try:
            o = self._place(acct, cid, body)
        except OrderFailure as f:
            return self._fail(f, body)
        delay_s = self.ex.take_response_delay()
        return late(200, self._success(o, body), delay_s) if delay_s else (200, self._success(o, body))

    def _success(self, o: SimOrder, body: dict) -> dict:
        return {"success": True, "success_response": {"order_id": self.order_id(o), "product_id": self.spec.symbol,
                                                       "side": SIDE_NAMES[o.side], "client_order_id": o.client_id},
                "order_configuration": body.get("order_configuration")}

    def _place(self, acct: SimAccount, cid: str, body: dict) -> SimOrder:
        s = self.spec
        if body.get("product_id") != s.symbol:
            raise OrderFailure("INVALID_PRODUCT_ID", "Invalid product_id", "PREVIEW_INVALID_PRODUCT_ID")
        side = SIDES.get(body.get("side"))
        if side is None:
            raise OrderFailure("INVALID_SIDE", "Invalid side", "PREVIEW_INVALID_SIDE")
        conf = body.get("order_configuration")
        if not isinstance(conf, dict) or len(conf) != 1 or next(iter(conf)) not in CONFIGS:
            raise OrderFailure(*REJECTS["order_type_invalid"])
        name, c = next(iter(conf.items()))
        kind = CONFIGS[name]
        if not isinstance(c, dict):
            raise OrderFailure(*REJECTS["order_type_invalid"])
        qty = self._units(c.get("base_size"), s.qty_dec, s.lot, "size")
        if qty <= 0:
            raise OrderFailure(*REJECTS["qty_invalid"])
        price = self._units(c.get("limit_price"), s.price_dec, s.tick, "price") if kind != "MARKET" else None
        stop = self._units(c.get("stop_price"), s.price_dec, s.tick, "price") if kind == "STOP_LIMIT" else None
        if kind == "STOP_LIMIT" and c.get("stop_direction") != STOP_DIRECTIONS[side]:
            raise OrderFailure("UNKNOWN_FAILURE_REASON", "stop_direction does not match the side here",
                               "PREVIEW_INVALID_STOP_PRICE")
        if kind == "LIMIT" and c.get("post_only") is True:
            best = self.ex.vs.best_ask() if side == BUY else self.ex.vs.best_bid()
            if best is not None and (price >= best if side == BUY else price <= best):
                raise OrderFailure("INVALID_LIMIT_PRICE_POST_ONLY", "Limit price would cross the book for a "
                                   "post-only order", "PREVIEW_INVALID_LIMIT_PRICE_POST_ONLY")
        try:
            return self.ex.place(acct, cid, side, kind, qty, price=price, stop=stop)
        except Reject as r:
            raise OrderFailure(*REJECTS[r.reason]) from None

    def order_id(self, o: SimOrder) -> str:
        return self.feed.uuid("order", o.oid)

    def _by_id(self, acct: SimAccount, order_id: str) -> SimOrder | None:
        return next((o for o in self.ex.orders.values()
                     if o.account == acct.api_key and self.order_id(o) == order_id), None)

    def batch_cancel(self, req: SimRequest, acct: SimAccount):
        try:
            ids = json.loads(req.body or "{}").get("order_ids")
        except (ValueError, AttributeError):
            ids = None
        if not isinstance(ids, list) or not ids:
            return 400, {"error": "INVALID_ARGUMENT", "error_details": "order_ids is required",
                         "message": "order_ids is required"}
        results = []
        for oid in ids:
            o = self._by_id(acct, str(oid))
            reason = "UNKNOWN_CANCEL_ORDER" if o is None else ""
            if o is not None:
                try:
                    self.ex.cancel(acct, oid=o.oid)
                except Reject:
                    reason = "INVALID_CANCEL_REQUEST"
            results.append({"success": not reason, "failure_reason": reason or "UNKNOWN_CANCEL_FAILURE_REASON",
                            "order_id": str(oid)})
        return 200, {"results": results}

    def get_order(self, req: SimRequest, acct: SimAccount):
        o = self._by_id(acct, req.path.rsplit("/", 1)[-1])
        if o is None:
            return 404, {"error": "NOT_FOUND", "error_details": "order with this orderID was not found",
                         "message": "order with this orderID was not found"}
        return 200, {"order": self.order_body(o)}

    def list_orders(self, req: SimRequest, acct: SimAccount):
        pid = req.query.get("product_ids")
        if pid and pid != self.spec.symbol:
            return 200, {"orders": [], "sequence": "0", "has_next": False, "cursor": ""}
        rows = [o for o in self.ex.orders.values() if o.account == acct.api_key]
        if req.query.get("order_status"):
            rows = [o for o in rows if status_of(o) == req.query["order_status"]]
        rows.sort(key=lambda o: o.created_ns, reverse=True)
        return 200, {"orders": [self.order_body(o) for o in rows], "sequence": "0", "has_next": False, "cursor": ""}

    def order_body(self, o: SimOrder) -> dict:
        s, ex = self.spec, self.ex
        filled = ex.base_qty(o.filled)
        avg = o.notional / filled if o.filled else Decimal(0)
        conf = {"base_size": s.qty(o.qty)}
        if o.type != "MARKET":
            conf["limit_price"] = s.px(o.price)
        if o.type == "LIMIT":
            conf["post_only"] = False
        if o.type == "STOP_LIMIT":
            conf.update(stop_price=s.px(o.stop), stop_direction=STOP_DIRECTIONS[o.side])
        name = {"MARKET": "market_market_ioc", "LIMIT": "limit_limit_gtc", "STOP_LIMIT": "stop_limit_stop_limit_gtc"}
        after_fees = o.notional + o.fees if o.side == BUY else o.notional - o.fees
        return {
            "order_id": self.order_id(o), "product_id": s.symbol, "user_id": "sim-user",
            "order_configuration": {name[o.type]: conf}, "side": SIDE_NAMES[o.side], "client_order_id": o.client_id,
            "status": status_of(o), "time_in_force": "IMMEDIATE_OR_CANCEL" if o.type == "MARKET" else "GOOD_UNTIL_CANCELLED",
            "created_time": fmt.rfc3339(o.created_ns, 6), "completion_percentage": exact(Decimal(o.filled * 100) / o.qty),
            "filled_size": s.qty(o.filled), "average_filled_price": exact(avg), "fee": "",
            "number_of_fills": "0", "filled_value": exact(o.notional), "pending_cancel": False, "size_in_quote": False,
            "total_fees": exact(o.fees), "size_inclusive_of_fees": False, "total_value_after_fees": exact(after_fees),
            "trigger_status": ("STOP_PENDING" if o in ex._stops else "STOP_TRIGGERED") if o.type == "STOP_LIMIT"
            else "INVALID_ORDER_TYPE",
            "order_type": TYPE_NAMES[o.type], "reject_reason": "", "settled": o.status == FILLED, "product_type": "SPOT",
            "reject_message": "", "cancel_message": "User requested cancel" if o.status == CANCELED else "",
            "order_placement_source": "RETAIL_ADVANCED", "outstanding_hold_amount": "0", "is_liquidation": False,
            "last_fill_time": fmt.rfc3339(o.updated_ns, 6) if o.filled else None, "leverage": "", "margin_type": "",
            "retail_portfolio_id": "sim-portfolio",
        }

    # -- account ----------------------------------------------------------------------------
    def transaction_summary(self, req: SimRequest, acct: SimAccount):
        """GET /api/v3/brokerage/transaction_summary ("Get Transaction Summary"): the account's
        fee tier (ccxt reads it at load_markets when it holds credentials)."""
        volume = sum((o.notional for o in self.ex.orders.values() if o.account == acct.api_key), Decimal(0))
        return 200, {
            "total_volume": float(volume), "total_fees": 0, "fee_tier": {
                "pricing_tier": "Advanced 1", "usd_from": "0", "usd_to": "1000", "taker_fee_rate": str(TAKER_FEE),
                "maker_fee_rate": str(MAKER_FEE), "aop_from": "", "aop_to": ""},
            "margin_rate": None, "goods_and_services_tax": None, "advanced_trade_only_volume": float(volume),
            "advanced_trade_only_fees": 0, "coinbase_pro_volume": 0, "coinbase_pro_fees": 0,
            "total_balance": "", "has_promo_fee": False}

    def accounts(self, req: SimRequest, acct: SimAccount):
        rows = []
        for asset in sorted(set(acct.balances) | {self.spec.base, self.spec.quote}):
            hold = acct.locked.get(asset, Decimal(0))
            rows.append({
                "uuid": self.feed.uuid(f"account-{asset}", 1), "name": f"{asset} Wallet", "currency": asset,
                "available_balance": {"value": exact(self.ex.free(acct, asset)), "currency": asset},
                "default": asset == self.spec.quote, "active": True, "created_at": "2026-01-01T00:00:00Z",
                "updated_at": "2026-01-01T00:00:00Z", "deleted_at": None,
                "type": "ACCOUNT_TYPE_FIAT" if asset in ("USD", "EUR", "GBP") else "ACCOUNT_TYPE_CRYPTO",
                "ready": True, "hold": {"value": exact(hold), "currency": asset},
                "retail_portfolio_id": "sim-portfolio"})
        return 200, {"accounts": rows, "has_next": False, "cursor": "", "size": len(rows)}

    def permissions(self, req: SimRequest, acct: SimAccount):
        return 200, {"can_view": True, "can_trade": True, "can_transfer": acct.can_withdraw,
                     "portfolio_uuid": "sim-portfolio", "portfolio_type": "DEFAULT"}

    # -- the user channel -------------------------------------------------------------------
    def subscribe(self, conn: Conn, req: dict) -> bool:
        """A `user` (un)subscribe on the public endpoint; False: not ours (a public channel)."""
        if req.get("channel") != "user":
            return False
        if req.get("type") == "unsubscribe":
            conn.state.get("topics", set()).discard("user")
            return True
        try:
            acct = self.verify(str(req.get("jwt", "")), None)
        except Unauthorized:
            conn.send(fmt.compact({"type": "error", "message": "authentication failure"}))
            return True
        pids = req.get("product_ids") or [self.spec.symbol]
        if any(p != self.spec.symbol for p in pids):
            conn.send(fmt.compact({"type": "error", "message": "Failed to subscribe: unknown product id"}))
            return True
        conn.state["subscribed"] = True
        self.watch(conn, acct.api_key, self._push)
        conn.state["topics"].add("user")
        t = self.feed.clock()
        conn.state["channels"]["user"] = pids
        self.feed._subscriptions(conn, t)
        orders = [self.stream_order(o) for o in self.ex.open_orders(acct)]
        self.feed._direct(conn, "user", [{"type": "snapshot", "orders": orders, "positions": {}}], t)
        return True

    def stream_order(self, o: SimOrder) -> dict:
        s = self.spec
        b = self.order_body(o)
        return {"order_id": b["order_id"], "client_order_id": o.client_id, "cumulative_quantity": s.qty(o.filled),
                "leaves_quantity": s.qty(0 if o.status in (CANCELED, EXPIRED) else o.remaining),
                "avg_price": b["average_filled_price"], "total_fees": b["total_fees"], "status": b["status"],
                "product_id": s.symbol, "creation_time": b["created_time"], "order_side": b["side"],
                "order_type": {"MARKET": "Market", "LIMIT": "Limit", "STOP_LIMIT": "StopLimit"}[o.type],
                "cancel_reason": b["cancel_message"], "reject_reason": "",
                "total_value_after_fees": b["total_value_after_fees"], "product_type": "SPOT",
                "time_in_force": b["time_in_force"], "trigger_status": b["trigger_status"],
                "limit_price": s.px(o.price) if o.price else "", "stop_price": s.px(o.stop) if o.stop else ""}

    def _push(self, ev: ExecEvent) -> None:
        key = ev.order.account
        for conn in self.private.wanted(key, "user"):
            self.feed._direct(conn, "user", [{"type": "update", "orders": [self.stream_order(ev.order)]}], ev.ts_ns)
