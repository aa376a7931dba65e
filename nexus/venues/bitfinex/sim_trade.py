"""Bitfinex v2's authenticated REST and account channel (exchange wallet, spot), as the
simulator serves them on top of the venue-neutral exchange (nexus.sim.exchange).

Sources (Bitfinex API v2 docs, docs.bitfinex.com):
- "Authenticated Endpoints" (https://docs.bitfinex.com/docs/rest-auth): every call is a
  POST to /v2/auth/{r|w}/..., headers `bfx-nonce`, `bfx-apikey`, `bfx-signature` = hex
  HMAC-SHA384 with the API secret of "/api/" + apiPath + nonce + body (the JSON body exactly
  as sent). The nonce must grow with every call of a key (error 10114 "nonce: small").
  There is no timestamp window: Bitfinex has no server-time endpoint, and the nonce only
  has to increase.
- Errors ("Abbreviations Glossary" > error codes; ccxt's handler reads the same shape): HTTP
  500 with `["error", CODE, "TEXT"]`: 10100 "apikey: invalid" (unknown key), 10100
  "apikey: digest invalid" (bad signature), 10114 "nonce: small", 10020 "symbol: invalid",
  10001 for a refused order ("Invalid order: not enough exchange balance for 0.01 tBTCUSD at
  65000", "Invalid order: minimum size for BTC/USD is 0.00004", "Order not found.").
- "Submit Order" POST /v2/auth/w/order/submit {type, symbol, amount (negative: sell),
  price, cid, flags}: a notification `[MTS, "on-req", null, null, [ORDER], null, "SUCCESS",
  "Submitting 1 orders."]`; "Cancel Order" POST /v2/auth/w/order/cancel {id} or {cid,
  cid_date: "YYYY-MM-DD"} -> `[MTS, "oc-req", null, null, ORDER, null, "SUCCESS",
  "Submitted for cancellation; waiting for confirmation (ID: N)."]`; "Retrieve Orders"
  /v2/auth/r/orders[/{symbol}] (active; body {id: [..]} optional; cid + cid_date accepted
  here too), "Orders History" /v2/auth/r/orders[/{symbol}]/hist (closed, newest first),
  "Wallets" /v2/auth/r/wallets, "Positions" /v2/auth/r/positions (margin only: empty here),
  "Key Permissions" /v2/auth/r/permissions ([[SCOPE, READ, WRITE], ..]; "withdraw" WRITE 1
  when the key can withdraw).
- Order array (32 fields): [ID, GID, CID, SYMBOL, MTS_CREATE, MTS_UPDATE, AMOUNT (left,
  signed), AMOUNT_ORIG, ORDER_TYPE, TYPE_PREV, MTS_TIF, null, FLAGS, STATUS, null, null,
  PRICE, PRICE_AVG, PRICE_TRAILING, PRICE_AUX_LIMIT, null, null, null, NOTIFY, HIDDEN,
  PLACED_ID, null, null, ROUTING, null, null, META]. STATUS: "ACTIVE", "EXECUTED @
  PRICE(AMOUNT)", "PARTIALLY FILLED @ PRICE(AMOUNT)", "CANCELED", "CANCELED was: PARTIALLY
  FILLED @ PRICE(AMOUNT)". A triggered EXCHANGE STOP becomes an EXCHANGE MARKET (TYPE_PREV
  "EXCHANGE STOP").
- Price precision (https://docs.bitfinex.com/docs/introduction "Price Precision"): five
  significant digits, and "API will truncate price with precision > 5" - done here as the
  venue does (clients must refuse such prices themselves).
- WebSocket "Authenticated Channels" (https://docs.bitfinex.com/docs/ws-auth): on the same
  /ws/2, `{"event":"auth","apiKey","authSig","authNonce","authPayload":"AUTH"+nonce}`,
  authSig = hex HMAC-SHA384 of authPayload; answered `{"event":"auth","status":"OK",
  "chanId":0,"userId":..,"auth_id":..,"caps":{..}}` or `{"event":"auth","status":"FAILED",
  "chanId":0,"msg":"apikey: digest invalid","code":10100}`. Then channel 0: snapshots "ps",
  "ws", "os"; "on" / "ou" / "oc" (order new / update / close, the order array), "te"
  (trade executed: [ID, SYMBOL, MTS, ORDER_ID, EXEC_AMOUNT, EXEC_PRICE, ORDER_TYPE,
  ORDER_PRICE, MAKER, null, null, CID]) and "tu" (the same with FEE (negative) and
  FEE_CURRENCY), "wu" (wallet update), "hb".
Modelled: exchange (spot) orders EXCHANGE MARKET / EXCHANGE LIMIT / EXCHANGE STOP on the
exchange wallet; margin types are refused ("Invalid order: margin trading is not simulated").
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import datetime, timezone
from decimal import ROUND_DOWN, Decimal
from typing import Any, Callable

from nexus.sim import fmt
from nexus.sim.exchange import CANCELED, EXPIRED, FILLED, NEW, PARTIALLY_FILLED, ExecEvent, Reject, SimAccount, SimOrder
from nexus.sim.feed import Conn, SimRequest
from nexus.sim.market import BUY, SELL
from nexus.sim.private import OffGrid, PrivateTrade, late, plain, units

SIG_DIGITS = 5
TYPES = {"EXCHANGE MARKET": "MARKET", "EXCHANGE LIMIT": "LIMIT", "EXCHANGE STOP": "STOP"}
TYPE_NAMES = {v: k for k, v in TYPES.items()}
MARGIN_TYPES = frozenset({"MARKET", "LIMIT", "STOP", "STOP LIMIT", "TRAILING STOP", "FOK", "IOC"})
NONCE_MAX = 9007199254740991           # Bitfinex: "nonce: too big" above JavaScript's safe integer
CID_MAX = 2 ** 45 - 1


class BitfinexError(Exception):
    def __init__(self, code: int, msg: str) -> None:
        super().__init__(msg)
        self.code, self.msg = code, msg


def js(v: Decimal | str) -> fmt.Raw:
    """A number as Bitfinex writes it (JavaScript's shortest form)."""
    from nexus.venues.bitfinex.sim import js as _js
    return fmt.Raw(_js(str(v)))


def truncate_sig(text: str, digits: int = SIG_DIGITS) -> Decimal:
    """The price Bitfinex keeps: `text` truncated to `digits` significant digits."""
    d = Decimal(text)
    if d <= 0:
        return d
    return d.quantize(Decimal(1).scaleb(d.adjusted() - digits + 1), rounding=ROUND_DOWN)


def cid_date(ts_ns: int) -> str:
    return datetime.fromtimestamp(ts_ns / 1e9, timezone.utc).strftime("%Y-%m-%d")


class BitfinexTrade(PrivateTrade):
    """Order entry and the account channel of the simulated Bitfinex exchange wallet."""

    def __init__(self, feed) -> None:
        super().__init__(feed)
        self.nonces: dict[str, int] = {}
        self.fills: dict[str, list] = {}        # per key, the "tu" arrays (trades history)

    def _listen(self, key: str) -> None:
        if key not in self.listening:
            self.listening.add(key)
            self.ex.listen(key, self._push)

    # -- envelope -----------------------------------------------------------------------------
    @staticmethod
    def error(code: int, msg: str) -> tuple[int, str]:
        return 500, fmt.compact(["error", code, msg])

    def routes(self) -> dict[tuple[str, str], Callable]:
        w = self._wrap
        r = {
            "/v2/auth/w/order/submit": self.submit, "/v2/auth/w/order/cancel": self.cancel,
            "/v2/auth/r/orders": self.active, "/v2/auth/r/orders/{symbol}": self.active,
            "/v2/auth/r/orders/hist": self.hist, "/v2/auth/r/orders/{symbol}/hist": self.hist,
            "/v2/auth/r/wallets": self.wallets, "/v2/auth/r/positions": self.positions,
            "/v2/auth/r/permissions": self.permissions,
            "/v2/auth/r/trades/hist": self.trades, "/v2/auth/r/trades/{symbol}/hist": self.trades,
        }
        return {("POST", p): w(f) for p, f in r.items()}

    def _wrap(self, fn: Callable) -> Callable[[SimRequest], Any]:
        def handle(req: SimRequest):
            try:
                return fn(req)
            except BitfinexError as e:
                return self.error(e.code, e.msg)
        return handle

    # -- authentication -------------------------------------------------------------------------
    def _signed(self, req: SimRequest) -> tuple[SimAccount, dict]:
        h = req.headers
        key, nonce, sig = h.get("bfx-apikey", ""), h.get("bfx-nonce", ""), h.get("bfx-signature", "")
        acct = self.ex.accounts.get(key) if key else None
        if acct is None:
            raise BitfinexError(10100, "apikey: invalid")
        want = hmac.new(acct.secret.encode(), f"/api{req.path}{nonce}{req.body}".encode(), hashlib.sha384).hexdigest()
        if not hmac.compare_digest(want, sig):
            raise BitfinexError(10100, "apikey: digest invalid")
        if not nonce.isdigit():
            raise BitfinexError(10114, "nonce: invalid")
        n = int(nonce)
        if n > NONCE_MAX:
            raise BitfinexError(10114, "nonce: too big")
        if n <= self.nonces.get(key, 0):
            raise BitfinexError(10114, "nonce: small")
        self.nonces[key] = n
        self._listen(key)
        try:
            params = json.loads(req.body or "{}")
        except ValueError:
            raise BitfinexError(10020, "request: invalid") from None
        if not isinstance(params, dict):
            raise BitfinexError(10020, "request: invalid")
        return acct, params

    def _path_symbol(self, req: SimRequest) -> str | None:
        parts = req.path.split("/")          # ['', 'v2', 'auth', 'r', 'orders', SYMBOL?, 'hist'?]
        sym = parts[5] if len(parts) > 5 and parts[5] != "hist" else None
        if sym is not None and sym != self.spec.symbol:
            raise BitfinexError(10020, "symbol: invalid")
        return sym

    # -- orders -----------------------------------------------------------------------------------
    def submit(self, req: SimRequest):
        acct, p = self._signed(req)
        s = self.spec
        if p.get("symbol") != s.symbol:
            raise BitfinexError(10020, "symbol: invalid")
        t = p.get("type")
        kind = TYPES.get(t)
        if kind is None:
            if t in MARGIN_TYPES:
                raise BitfinexError(10001, "Invalid order: margin trading is not simulated")
            raise BitfinexError(10020, "type: invalid")
        amount = p.get("amount")
        if not isinstance(amount, str) or not amount.lstrip("-"):
            raise BitfinexError(10020, "amount: invalid")
        side = SELL if amount.startswith("-") else BUY
        try:
            qty = units(amount.lstrip("-"), s.qty_dec, s.lot)
        except OffGrid:
            raise BitfinexError(10001, f"Invalid order: amount precision is at most {s.qty_dec} decimals") from None
        except ValueError:
            raise BitfinexError(10020, "amount: invalid") from None
        if qty <= 0:
            raise BitfinexError(10001, f"Invalid order: minimum size for {s.base}/{s.quote} is {s.qty(s.lot)}")
        price = None
        if kind != "MARKET":
            text = p.get("price")
            if not isinstance(text, str) or not text:
                raise BitfinexError(10020, "price: invalid")
            try:
                kept = truncate_sig(text)         # the venue truncates beyond 5 significant digits
                price = units(plain(kept), s.price_dec, s.tick)
            except OffGrid:
                raise BitfinexError(10001, f"Invalid order: price precision is {SIG_DIGITS} significant digits "
                                           f"and at most {s.tick_str()} here") from None
            except (ValueError, ArithmeticError):
                raise BitfinexError(10020, "price: invalid") from None
            if price <= 0:
                raise BitfinexError(10020, "price: invalid")
        cid = p.get("cid")
        if cid is None:
            cid = int(time.time() * 1000)
        if not isinstance(cid, int) or isinstance(cid, bool) or not 0 < cid <= CID_MAX:
            raise BitfinexError(10020, "cid: invalid")
        client = f"{cid}@{cid_date(self.feed.clock())}"     # unique per UTC day, as the venue keys it
        try:
            o = self.ex.place(acct, client, side, kind, qty, price=price if kind == "LIMIT" else None,
                              stop=price if kind == "STOP" else None)
        except Reject as r:
            raise self._reject(r, side, qty, price) from None
        body = fmt.dumps([self.now_ms(), "on-req", None, None, [self.order_array(o)], None, "SUCCESS",
                          "Submitting 1 orders."])
        delay_s = self.ex.take_response_delay()
        return late(200, body, delay_s) if delay_s else (200, body)

    def _reject(self, r: Reject, side: int, qty: int, price: int | None) -> BitfinexError:
        s = self.spec
        if r.reason == "insufficient_balance":
            amt = ("-" if side == SELL else "") + s.qty(qty)
            at = s.px(price) if price is not None else "market"
            return BitfinexError(10001, f"Invalid order: not enough exchange balance for {amt} {s.symbol} at {at}")
        if r.reason == "duplicate_client_id":
            return BitfinexError(10001, "Invalid order: duplicate cid")
        if r.reason == "too_many_orders":
            return BitfinexError(10001, "Invalid order: too many orders")
        if r.reason in ("off_grid_price", "price_invalid"):
            return BitfinexError(10001, "Invalid order: price invalid")
        if r.reason == "reduce_only":
            return BitfinexError(10001, "Invalid order: reduce-only applies to margin positions")
        return BitfinexError(10001, f"Invalid order: {r.detail or r.reason}")

    def _by_cid(self, acct: SimAccount, cid, date) -> SimOrder | None:
        if not isinstance(cid, int) or not isinstance(date, str):
            return None
        return self.ex.by_client.get((acct.api_key, f"{cid}@{date}"))

    def _find(self, acct: SimAccount, p: dict) -> SimOrder | None:
        if p.get("id") is not None:
            o = self.ex.orders.get(p["id"]) if isinstance(p["id"], int) else None
            return o if o is not None and o.account == acct.api_key else None
        return self._by_cid(acct, p.get("cid"), p.get("cid_date"))

    def cancel(self, req: SimRequest):
        acct, p = self._signed(req)
        if p.get("id") is None and p.get("cid") is None:
            raise BitfinexError(10020, "id: invalid")
        o = self._find(acct, p)
        if o is None or o.status not in (NEW, PARTIALLY_FILLED):
            raise BitfinexError(10001, "Order not found.")
        self.ex.cancel(acct, oid=o.oid)
        return 200, fmt.dumps([self.now_ms(), "oc-req", None, None, self.order_array(o), None, "SUCCESS",
                               f"Submitted for cancellation; waiting for confirmation (ID: {o.oid})."])

    def active(self, req: SimRequest):
        acct, p = self._signed(req)
        self._path_symbol(req)
        rows = self.ex.open_orders(acct)
        ids = p.get("id")
        if isinstance(ids, list):
            rows = [o for o in rows if o.oid in ids]
        if p.get("cid") is not None:
            one = self._by_cid(acct, p.get("cid"), p.get("cid_date"))
            rows = [o for o in rows if o is one]
        return 200, fmt.dumps([self.order_array(o) for o in rows])

    def hist(self, req: SimRequest):
        acct, p = self._signed(req)
        self._path_symbol(req)
        rows = [o for o in self.ex.orders.values() if o.account == acct.api_key and o.status not in (NEW, PARTIALLY_FILLED)]
        ids = p.get("id")
        if isinstance(ids, list):
            rows = [o for o in rows if o.oid in ids]
        rows.sort(key=lambda o: (o.updated_ns, o.oid), reverse=True)
        limit = p.get("limit") if isinstance(p.get("limit"), int) else 25
        return 200, fmt.dumps([self.order_array(o) for o in rows[: max(1, min(2500, limit))]])

    def trades(self, req: SimRequest):
        acct, _ = self._signed(req)
        self._path_symbol(req)
        return 200, fmt.dumps(list(reversed(self.fills.get(acct.api_key, []))))

    # -- account ----------------------------------------------------------------------------------
    def wallet_rows(self, acct: SimAccount) -> list[list]:
        return [["exchange", a, js(plain(v)), 0, js(plain(self.ex.free(acct, a))), None, None]
                for a, v in sorted(acct.balances.items())]

    def wallets(self, req: SimRequest):
        acct, _ = self._signed(req)
        return 200, fmt.dumps(self.wallet_rows(acct))

    def positions(self, req: SimRequest):
        self._signed(req)
        return 200, "[]"

    def caps(self, acct: SimAccount) -> list[list]:
        w = 1 if acct.can_withdraw else 0
        return [["account", 1, 0], ["history", 1, 0], ["orders", 1, 1], ["positions", 1, 0], ["funding", 1, 0],
                ["settings", 1, 0], ["wallets", 1, 0], ["withdraw", w, w], ["ui_withdraw", 0, 0], ["bfxpay", 0, 0]]

    def permissions(self, req: SimRequest):
        acct, _ = self._signed(req)
        return 200, fmt.compact(self.caps(acct))

    # -- rendering --------------------------------------------------------------------------------
    def cid_of(self, o: SimOrder) -> int:
        return int(o.client_id.split("@", 1)[0])

    def _avg(self, o: SimOrder) -> Decimal:
        return o.notional / self.ex.base_qty(o.filled) if o.filled else Decimal(0)

    def status(self, o: SimOrder) -> str:
        s = self.spec
        fill = f"{plain(self._avg(o))}({'-' if o.side == SELL else ''}{s.qty(o.filled)})" if o.filled else ""
        if o.status == NEW:
            return "ACTIVE"
        if o.status == PARTIALLY_FILLED:
            return f"PARTIALLY FILLED @ {fill}"
        if o.status == FILLED:
            return f"EXECUTED @ {fill}"
        if o.status in (CANCELED, EXPIRED):
            return f"CANCELED was: PARTIALLY FILLED @ {fill}" if o.filled else "CANCELED"
        return "CANCELED"

    def order_array(self, o: SimOrder) -> list:
        s = self.spec
        sign = "-" if o.side == SELL else ""
        left = 0 if o.status in (CANCELED, EXPIRED) and o.type == "MARKET" else o.remaining
        triggered = o.type == "STOP" and o not in self.ex._stops and o.status != CANCELED
        otype = "EXCHANGE MARKET" if triggered else TYPE_NAMES[o.type]
        price = o.price if o.type == "LIMIT" else o.stop if o.type == "STOP" else None
        px = js(s.px(price)) if price is not None else js(plain(self._avg(o)))
        return [o.oid, None, self.cid_of(o), s.symbol, fmt.ms(o.created_ns), fmt.ms(o.updated_ns),
                js(sign + s.qty(left) if left else "0"), js(sign + s.qty(o.qty)), otype,
                "EXCHANGE STOP" if triggered else None, None, None, 0, self.status(o), None, None, px,
                js(plain(self._avg(o))), 0, 0, None, None, None, 0, 0, None, None, None, "API>BFX", None, None,
                {"$F7": 0}]

    # -- account channel --------------------------------------------------------------------------
    def on_auth(self, conn: Conn, req: dict) -> None:
        key, sig, payload = req.get("apiKey"), req.get("authSig"), req.get("authPayload")
        acct = self.ex.accounts.get(key) if isinstance(key, str) else None

        def failed(code: int, msg: str) -> None:
            conn.send(fmt.compact({"event": "auth", "status": "FAILED", "chanId": 0, "msg": msg, "code": code}))

        if acct is None:
            return failed(10100, "apikey: invalid")
        if not isinstance(payload, str) or not isinstance(sig, str):
            return failed(10100, "apikey: digest invalid")
        want = hmac.new(acct.secret.encode(), payload.encode(), hashlib.sha384).hexdigest()
        if not hmac.compare_digest(want, sig):
            return failed(10100, "apikey: digest invalid")
        nonce = payload[4:] if payload.startswith("AUTH") else ""
        if not nonce.isdigit():
            return failed(10100, "apikey: digest invalid")
        if int(nonce) <= self.nonces.get(key, 0):
            return failed(10114, "nonce: small")
        self.nonces[key] = int(nonce)
        self._listen(key)
        caps = {c: {"read": r, "write": w} for c, r, w in self.caps(acct)}
        conn.send(fmt.compact({"event": "auth", "status": "OK", "chanId": 0,
                               "userId": abs(hash(key)) % 10_000_000, "auth_id": self.feed.uuid("auth", next(self._ids)),
                               "caps": caps}))
        self.watch(conn, key, self._push)
        conn.state["topics"].add("account")
        conn.send(fmt.dumps([0, "ps", []]))
        conn.send(fmt.dumps([0, "ws", self.wallet_rows(acct)]))
        conn.send(fmt.dumps([0, "os", [self.order_array(o) for o in self.ex.open_orders(acct)]]))

    def _trade(self, ev: ExecEvent, with_fee: bool) -> list:
        o, s = ev.order, self.spec
        sign = "-" if o.side == SELL else ""
        price = o.price if o.type == "LIMIT" else o.stop if o.type == "STOP" else ev.fill_price
        return [ev.trade_id, s.symbol, fmt.ms(ev.ts_ns), o.oid, js(sign + s.qty(ev.fill_qty)), js(s.px(ev.fill_price)),
                TYPE_NAMES[o.type], js(s.px(price)), 1 if ev.maker else -1,
                js("-" + plain(ev.fee)) if with_fee and ev.fee else (0 if with_fee else None),
                s.quote if with_fee else None, self.cid_of(o)]

    def _push(self, ev: ExecEvent) -> None:
        key, o = ev.order.account, ev.order
        if ev.fill_qty:
            self.fills.setdefault(key, []).append(self._trade(ev, True))
        if not self.private.live(key):
            return
        acct = self.ex.accounts[key]
        if ev.fill_qty:
            self.private.send(key, "account", fmt.dumps([0, "te", self._trade(ev, False)]))
        first = not ev.fill_qty and o.status == NEW and o.created_ns == ev.ts_ns
        kind = "on" if first else "oc" if o.status not in (NEW, PARTIALLY_FILLED) else "ou"
        self.private.send(key, "account", fmt.dumps([0, kind, self.order_array(o)]))
        if ev.fill_qty:
            self.private.send(key, "account", fmt.dumps([0, "tu", self._trade(ev, True)]))
            for row in self.wallet_rows(acct):
                if row[1] in (self.spec.base, self.spec.quote):
                    self.private.send(key, "account", fmt.dumps([0, "wu", row]))
