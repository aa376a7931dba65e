"""Coinbase Advanced Trade order entry (spot): the venue adapter of nexus.exec.client.

Requests as Coinbase documents them (docs.cdp.coinbase.com, Advanced Trade REST: "Create
Order" POST /api/v3/brokerage/orders, "Cancel Orders" POST .../orders/batch_cancel, "Get
Order" GET .../orders/historical/{order_id}, "List Orders" GET .../orders/historical/batch,
"List Accounts", "Get API Key Permissions" GET .../key_permissions, "Get Server Time" GET
.../time), each with `Authorization: Bearer <JWT>` built per request by CoinbaseSigner
(nexus/venues/coinbase/sign.py: ES256 or EdDSA, claims iss "cdp", sub = key name, nbf = the
venue's clock, exp = nbf + 120, uri = "METHOD host/path"). `order_bytes(req)` renders the
complete HTTP/1.1 request (what `nexus bench exec` times); `place` sends the same body.

Signing ahead: a JWT's claims do not depend on the order (the uri of Create Order is always
"POST host/api/v3/brokerage/orders"), and an ECDSA signature costs tens of microseconds, so
the adapter keeps ORDER_JWT_POOL of them signed ahead, off the decision path (at connect and
after each order is answered). Each is used for one request only (its own random nonce) and
at most ORDER_JWT_FRESH_S after its nbf (exp is nbf + 120 s); an empty or stale pool signs
inline. A clock re-sync empties the pool (their nbf came from the old offset), and so does a
step of the clock against the monotonic clock (a drift is then seen on the next order).

Orders: MARKET is `market_market_ioc`, LIMIT `limit_limit_gtc` (post_only false), and STOP
`stop_limit_stop_limit_gtc` with the limit at the stop price (Advanced Trade has no spot
stop-market): it triggers on the last price (STOP_DIRECTION_STOP_UP for buys, _DOWN for
sells), then rests as a limit at that price if the market has moved through it. Coinbase
answers a new order with its ids only, so `place` reads it back (Get Order) for the state it
reached; the `user` channel pushes the rest. Statuses: OPEN / PENDING / QUEUED -> accepted
(partially filled when filled_size > 0), FILLED, CANCELLED / CANCEL_QUEUED -> cancelled,
EXPIRED, FAILED -> rejected. Coinbase has no query by client order id: the adapter keeps the
order ids it was answered and otherwise finds the id in List Orders of the product; a retried
create with the same client_order_id is answered with the existing order (never a second).

A refused JWT is HTTP 401 with no reason. The adapter re-syncs the clock then: if the
venue's time moved away from the one used (beyond the JWT's tolerance), the error is
`ClockDrift` naming the drift and the fix; else `VenueRejected` 401 naming the likely
causes (key name, key, permissions). A key that `can_transfer` is refused (seed: "never
enable Withdrawals"). Keys: NEXUS_COINBASE_API_KEY = the key name
("organizations/…/apiKeys/…"), NEXUS_COINBASE_API_SECRET = its EC PEM or Ed25519 secret.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
import secrets
import time
from decimal import Decimal
from typing import Any, Callable
from urllib.parse import urlsplit

from nexus.exec.client import KeyRefused, OrderUpdate, VenuePosition, VenueRejected, VenueUnreachable
from nexus.exec.http import WITHDRAWAL_ADVICE, HttpVenue
from nexus.exec.keys import Credentials
from nexus.exec.orders import OrderError, OrderRequest, OrderType, State
from nexus.exec.signing.base import mask
from nexus.instruments import Instrument
from nexus.venues.coinbase.data import instrument
from nexus.venues.coinbase.sign import CoinbaseSigner

VENUE = "coinbase"
API = "/api/v3/brokerage"
JWT_LIFETIME_S = 120
NONCE_BYTES = 16
NBF_SLACK_MS = 1_000      # nbf this far back (the venue accepts nbf <= its now)
ORDER_JWT_POOL = 4        # Create Order JWTs signed ahead of the decision
ORDER_JWT_FRESH_S = 60    # ... and used at most this long after their nbf
CLOCK_STEP_MS = 500       # the clock moved this far against the monotonic clock: drop them
CLOCK_TOLERANCE_MS = 1000          # a refused JWT with the clock off more than this: ClockDrift
URLS = ("https://api.coinbase.com", "wss://advanced-trade-ws.coinbase.com")
UNAUTHORIZED = 401
# Coinbase closes a quiet channel after 60-90 s unless `heartbeats` is subscribed too: the
# stream subscribes it, and repeats that (idempotent) subscribe as its keep-alive.
PING_TEXT = '{"type":"subscribe","channel":"heartbeats"}'
HEARTBEAT_S = 30.0

STATES = {"OPEN": State.ACCEPTED, "PENDING": State.ACCEPTED, "QUEUED": State.ACCEPTED,
          "FILLED": State.FILLED, "CANCELLED": State.CANCELLED, "CANCEL_QUEUED": State.ACCEPTED,
          "EXPIRED": State.EXPIRED, "FAILED": State.REJECTED}


def _dec(text: Any) -> Decimal | None:
    return Decimal(text) if text not in ("", None) else None


class CoinbaseAdapter(HttpVenue):
    venue = VENUE
    perpetual = False
    UNKNOWN_ORDER = ("NOT_FOUND", "order with this orderID was not found")

    def __init__(self, creds: Credentials, *, rest_url: str | None = None, ws_url: str | None = None,
                 testnet: bool = False, **kw) -> None:
        if testnet:
            raise OrderError("coinbase: Advanced Trade has no testnet; use --sim")
        super().__init__(rest_url or URLS[0], **kw)
        self.ws_url = (ws_url or URLS[1]).rstrip("/")
        self.signer = CoinbaseSigner(creds.api_key, creds.secret)
        creds.forget()
        self.base_path = urlsplit(self.rest_url).path      # the simulator's /coinbase prefix
        self.order_ids: dict[str, str] = {}                 # client id -> Coinbase order id
        # (nbf, clock ms, monotonic ns, JWT) signed ahead, each used once
        self._order_jwts: deque[tuple[int, int, int, str]] = deque()

    def __repr__(self) -> str:
        return f"<CoinbaseAdapter {self.rest_url} {self.signer!r}>"

    # -- requests ---------------------------------------------------------------------------
    def jwt(self, uri: str | None) -> str:
        return self._jwt(uri, self._nbf())

    def _nbf(self) -> int:
        # nbf one second back: the venue's clock is only known to within the round trip, and a
        # JWT whose nbf lands a hair in the venue's future is refused (seen in CI, 1 run in ~20)
        return (self.now_ms() - NBF_SLACK_MS) // 1000

    def _jwt(self, uri: str | None, nbf: int) -> str:
        claims = {"iss": "cdp", "nbf": nbf, "exp": nbf + JWT_LIFETIME_S, "sub": self.signer.key_name}
        if uri is not None:
            claims["uri"] = uri
        return self.signer.jwt(claims, secrets.token_hex(NONCE_BYTES))

    def presign_orders(self) -> int:
        """Drop stale pre-signed Create Order JWTs and sign new ones up to ORDER_JWT_POOL
        (off the decision path). Returns how many are ready."""
        self._fresh_order_jwts()
        pool = self._order_jwts
        uri = f"POST {self.host}{self.base_path}{API}/orders"
        while len(pool) < ORDER_JWT_POOL:
            nbf = self._nbf()
            pool.append((nbf, self.now_ms(), time.monotonic_ns(), self._jwt(uri, nbf)))
        return len(pool)

    def _fresh_order_jwts(self) -> None:
        """Drop pre-signed JWTs older than ORDER_JWT_FRESH_S; drop them all if the clock moved
        against the monotonic clock since they were signed (a clock step: their nbf may no
        longer be what the clock says, and a drift must be seen, not hidden by an old JWT)."""
        pool = self._order_jwts
        if not pool:
            return
        now_ms, mono = self.now_ms(), time.monotonic_ns()
        _, wall0, mono0, _ = pool[-1]
        if abs((now_ms - wall0) - (mono - mono0) // 1_000_000) > CLOCK_STEP_MS:
            pool.clear()
            return
        while pool and now_ms // 1000 - pool[0][0] > ORDER_JWT_FRESH_S:
            pool.popleft()

    def _order_jwt(self) -> str:
        """A Create Order JWT: a fresh pre-signed one (used once), else signed now."""
        self._fresh_order_jwts()
        if self._order_jwts:
            return self._order_jwts.popleft()[3]
        return self.jwt(f"POST {self.host}{self.base_path}{API}/orders")

    def auth_headers(self, method: str, path: str, query: str, body: str) -> dict[str, str]:
        if method == "POST" and path == f"{API}/orders":
            return {"Authorization": "Bearer " + self._order_jwt()}
        return {"Authorization": "Bearer " + self.jwt(f"{method} {self.host}{self.base_path}{path}")}

    def order_body(self, req: OrderRequest) -> str:
        """The order as Coinbase's JSON body, compact, keys in a fixed order."""
        size = f'"base_size":"{req.qty:f}"'
        if req.type is OrderType.MARKET:
            conf = f'"market_market_ioc":{{{size}}}'
        elif req.type is OrderType.LIMIT:
            conf = f'"limit_limit_gtc":{{{size},"limit_price":"{req.price:f}","post_only":false}}'
        else:
            direction = "STOP_DIRECTION_STOP_UP" if req.side.value == "buy" else "STOP_DIRECTION_STOP_DOWN"
            conf = (f'"stop_limit_stop_limit_gtc":{{{size},"limit_price":"{req.stop_price:f}",'
                    f'"stop_price":"{req.stop_price:f}","stop_direction":"{direction}"}}')
        if req.reduce_only:
            raise OrderError("coinbase is spot: reduce-only applies to perpetuals only")
        return (f'{{"client_order_id":"{req.client_id}","product_id":"{req.symbol}",'
                f'"side":"{req.side.value.upper()}","order_configuration":{{{conf}}}}}')

    def order_bytes(self, req: OrderRequest) -> bytes:
        """The complete signed HTTP/1.1 request for `req`, ready to write to the socket."""
        body = self.order_body(req)
        path = f"{self.base_path}{API}/orders"
        return (f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\n"
                f"Authorization: Bearer {self._order_jwt()}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n{body}").encode()

    def _checked(self, r, doc, method: str, path: str, missing_ok: bool) -> Any:
        if r.status_code == 404 and missing_ok:
            return None
        if r.status_code >= 400:
            err = doc if isinstance(doc, dict) else {}
            raise VenueRejected(self.venue, err.get("error", r.status_code), str(err.get("message", doc)), r.status_code)
        return doc

    async def _send_json(self, method: str, path: str, params: str = "", *, missing_ok: bool = False) -> Any:
        """A signed request; a 401 is examined for clock drift (module docstring)."""
        if self.stale():
            await self.resync()
        query, body = (params, "") if method == "GET" else ("", params)
        headers = self.auth_headers(method, path, "", "")
        if body:
            headers["Content-Type"] = "application/json"
        r = await self.send(method, path, query=query, body=body, headers=headers)
        if r.status_code >= 500:
            raise VenueUnreachable(f"{self.venue}: {method} {path}: HTTP {r.status_code}")
        if r.status_code == UNAUTHORIZED:
            raise await self._unauthorized(r.text.strip())
        try:
            doc = r.json()
        except ValueError:
            raise VenueUnreachable(f"{self.venue}: {method} {path}: HTTP {r.status_code}, not JSON") from None
        return self._checked(r, doc, method, path, missing_ok)

    async def _unauthorized(self, text: str) -> VenueRejected:
        used = self.offset_ms
        await self.resync()
        if abs(used - self.offset_ms) > CLOCK_TOLERANCE_MS:
            self.offset_ms = used                # drift_error measures the drift of the one used
            return await self.drift_error(UNAUTHORIZED, text or "Unauthorized",
                                          f"a JWT is valid from nbf to exp = nbf + {JWT_LIFETIME_S} s", self.resync)
        return VenueRejected(self.venue, UNAUTHORIZED, f"{text or 'Unauthorized'}: the JWT was refused (key name, "
                                                       "private key, or a revoked key)", UNAUTHORIZED)

    # -- time, key --------------------------------------------------------------------------
    async def resync(self) -> None:
        await self.sync_time(lambda r: int(r.json()["epochMillis"]), f"{API}/time")
        self._order_jwts.clear()        # signed with the previous clock offset

    async def connect(self) -> None:
        await self.resync()
        self.presign_orders()

    async def key_info(self) -> dict:
        await self.resync()
        p = await self._send_json("GET", f"{API}/key_permissions")
        info = {"venue": self.venue, "api_key": mask(self.signer.key_name), "alg": self.signer.alg,
                "time_offset_ms": self.offset_ms, "round_trip_ms": self.rtt_ms,
                "permissions": {k: bool(p.get(k)) for k in ("can_view", "can_trade", "can_transfer")},
                "portfolio_type": p.get("portfolio_type", "")}
        if p.get("can_transfer"):
            raise KeyRefused(f"{self.venue}: this API key can transfer funds (can_transfer): refused. "
                             f"{WITHDRAWAL_ADVICE}.")
        return info

    # -- instruments ------------------------------------------------------------------------
    async def instrument(self, symbol: str) -> Instrument:
        r = await self.send("GET", f"{API}/market/products/{symbol}")
        if r.status_code == 404:
            raise OrderError(f"unknown symbol {symbol!r} on {self.venue}")
        if r.status_code != 200:
            raise VenueUnreachable(f"{self.venue}: product {symbol}: HTTP {r.status_code}")
        p = r.json()
        return instrument(symbol, p.get("price_increment") or p["quote_increment"], p["base_increment"])

    # -- orders -----------------------------------------------------------------------------
    async def place(self, req: OrderRequest) -> OrderUpdate:
        doc = await self._send_json("POST", f"{API}/orders", self.order_body(req))
        if not doc.get("success"):
            e = doc.get("error_response") or {}
            raise VenueRejected(self.venue, e.get("error", "UNKNOWN_FAILURE_REASON"),
                                f"{e.get('message', '')} ({e.get('preview_failure_reason', '')})")
        oid = doc["success_response"]["order_id"]
        self.order_ids[req.client_id] = oid
        self.presign_orders()           # the next order's JWT, while this one is read back
        upd = await self._get(oid)
        return upd or OrderUpdate(req.client_id, State.ACCEPTED, Decimal(0), oid, symbol=req.symbol)

    async def _get(self, order_id: str) -> OrderUpdate | None:
        doc = await self._send_json("GET", f"{API}/orders/historical/{order_id}", missing_ok=True)
        return self.update(doc["order"]) if doc else None

    async def query(self, symbol: str, client_id: str) -> OrderUpdate | None:
        oid = self.order_ids.get(client_id)
        if oid is not None:
            return await self._get(oid)
        doc = await self._send_json("GET", f"{API}/orders/historical/batch", f"product_ids={symbol}")
        for o in doc.get("orders", ()):
            if o.get("client_order_id") == client_id:
                self.order_ids[client_id] = o["order_id"]
                return self.update(o)
        return None

    async def cancel(self, symbol: str, client_id: str) -> OrderUpdate:
        upd = await self.query(symbol, client_id)
        if upd is None:
            raise VenueRejected(self.venue, *self.UNKNOWN_ORDER, 404)
        doc = await self._send_json("POST", f"{API}/orders/batch_cancel",
                                    json.dumps({"order_ids": [upd.venue_order_id]}, separators=(",", ":")))
        res = (doc.get("results") or [{}])[0]
        if not res.get("success"):
            raise VenueRejected(self.venue, res.get("failure_reason", "UNKNOWN_CANCEL_FAILURE_REASON"),
                                f"order {client_id} was not cancelled")
        return await self._get(upd.venue_order_id) or upd

    async def open_orders(self, symbol: str | None = None) -> list[OrderUpdate]:
        q = "order_status=OPEN" + (f"&product_ids={symbol}" if symbol else "")
        return [self.update(o) for o in (await self._send_json("GET", f"{API}/orders/historical/batch", q))
                .get("orders", ())]

    async def set_leverage(self, symbol: str, leverage: int) -> int:
        raise OrderError("coinbase is spot: leverage applies to perpetuals only")

    async def positions(self) -> list[VenuePosition]:
        """Spot: each asset's balance (available + hold)."""
        doc = await self._send_json("GET", f"{API}/accounts")
        out = []
        for a in doc.get("accounts", ()):
            free, hold = Decimal(a["available_balance"]["value"]), Decimal(a["hold"]["value"])
            if free or hold:
                out.append(VenuePosition(self.venue, a["currency"], free + hold,
                                         extra={"free": a["available_balance"]["value"], "locked": a["hold"]["value"]}))
        return out

    def update(self, o: dict) -> OrderUpdate:
        """A REST order body (Get Order, List Orders) as an OrderUpdate."""
        status = o.get("status", "OPEN")
        filled = Decimal(o.get("filled_size") or 0)
        state = STATES.get(status, State.ACCEPTED)
        if state is State.ACCEPTED and filled:
            state = State.PARTIALLY_FILLED
        return OrderUpdate(o["client_order_id"], state, filled, o.get("order_id", ""), (), _dec(o.get("filled_value")),
                           _dec(o.get("average_filled_price")), status, o.get("product_id", ""))

    def stream_order(self, o: dict) -> OrderUpdate:
        """A `user` channel order: the filled value is total_value_after_fees less (buy) or plus
        (sell) total_fees, exact."""
        status = o.get("status", "OPEN")
        filled = Decimal(o.get("cumulative_quantity") or 0)
        state = STATES.get(status, State.ACCEPTED)
        if state is State.ACCEPTED and filled:
            state = State.PARTIALLY_FILLED
        after, fees = _dec(o.get("total_value_after_fees")), Decimal(o.get("total_fees") or 0)
        value = None if after is None else (after - fees if o.get("order_side") == "BUY" else after + fees)
        self.order_ids.setdefault(o["client_order_id"], o.get("order_id", ""))
        return OrderUpdate(o["client_order_id"], state, filled, o.get("order_id", ""), (), value,
                           _dec(o.get("avg_price")), status, o.get("product_id", ""))

    def stream_updates(self, msg: dict) -> list[OrderUpdate]:
        if msg.get("channel") != "user":
            if msg.get("type") == "error":
                raise VenueRejected(self.venue, "error", str(msg.get("message", "")))
            return []
        return [self.stream_order(o) for ev in msg.get("events", ()) for o in ev.get("orders", ())]

    # -- the user channel -------------------------------------------------------------------
    async def user_stream(self, on_update: Callable[[OrderUpdate], None], ready: asyncio.Event | None = None) -> None:
        async def handshake(ws) -> None:
            await ws.send_str(json.dumps({"type": "subscribe", "channel": "user", "jwt": self.jwt(None)}))
            while True:
                doc = json.loads(await asyncio.wait_for(ws.receive_str(), 10))
                if doc.get("type") == "error":
                    raise VenueRejected(self.venue, "error", str(doc.get("message", "")))
                if doc.get("channel") == "subscriptions":
                    await ws.send_str(PING_TEXT)
                    return

        await self.private_stream(on_update, ready, handshake, PING_TEXT, HEARTBEAT_S)


def spot(creds: Credentials, **kw) -> CoinbaseAdapter:
    return CoinbaseAdapter(creds, **kw)
