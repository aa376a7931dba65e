"""Bybit v5 order entry for linear perpetuals (bybit-perp): the venue adapter of
nexus.exec.client.

Requests as Bybit documents them (docs/v5 "Place Order" POST /v5/order/create, "Cancel
Order", "Get Open & Closed Orders" GET /v5/order/realtime, "Set Leverage", "Get Position
Info", "Get API Key Information" GET /v5/user/query-api, "Get Bybit Server Time"): GET
parameters in the query string, POST parameters as a compact JSON body, both exactly as
signed (nexus/venues/bybit/sign.py: HMAC-SHA256 hex of timestamp + key + recv_window +
query|body, headers X-BAPI-*). `order_bytes(req)` renders the complete HTTP/1.1 request
(what `nexus bench exec` times); `place` sends the same body.

Bybit answers a new order with its ids only, so `place` then reads the order back by its
orderLinkId (one more round trip) to report the state it reached; fills also arrive on the
private stream. Statuses: New / Untriggered / Triggered -> accepted, PartiallyFilled,
Filled, Cancelled / PartiallyFilledCanceled / Deactivated -> cancelled, Rejected. STOP is a
conditional Market order (`triggerPrice`, `triggerDirection` 1 when the price must rise to
it: buy stops, 2 when it must fall: sell stops). Quantities are base coin (contract value 1).

Refused before sending: leverage above the symbol's `leverageFilter.maxLeverage`. A leverage
equal to the current one is not an error here (Bybit's 110043 "not modified").
A timestamp outside `[server - recv_window, server + 1000)` (retCode 10002) becomes
`ClockDrift` naming the drift; a key whose permissions include Wallet "Withdraw" is refused
(seed: "Never enable Withdrawals").

Private stream: wss://stream.bybit.com/v5/private, `auth` with expires = now + 10 s and
HMAC hex of "GET/realtime" + expires, then topics order, execution, position, wallet;
`{"op":"ping"}` every `PING_S`.
"""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from typing import Any, Callable

from nexus.exec.client import Fill, KeyRefused, OrderUpdate, VenuePosition, VenueRejected, VenueUnreachable
from nexus.exec.http import WITHDRAWAL_ADVICE, HttpVenue
from nexus.exec.keys import Credentials
from nexus.exec.orders import OrderError, OrderRequest, OrderType, State
from nexus.exec.signing.base import mask
from nexus.instruments import Instrument
from nexus.venues.bybit.data import instrument
from nexus.venues.bybit.sign import BybitSigner

VENUE = "bybit-perp"
RECV_WINDOW_MS = "5000"
AUTH_EXPIRES_MS = 10_000
PING_S = 20.0
TIME_PATH = "/v5/market/time"
PUBLIC_WS_PATH, PRIVATE_WS_PATH = "/v5/public/linear", "/v5/private"
TOPICS = ("order", "execution", "position", "wallet")
URLS = {False: ("https://api.bybit.com", "wss://stream.bybit.com/v5/private"),
        True: ("https://api-testnet.bybit.com", "wss://stream-testnet.bybit.com/v5/private")}
NOT_MODIFIED = 110043
TIMESTAMP_REFUSED = 10002

STATES = {"New": State.ACCEPTED, "Untriggered": State.ACCEPTED, "Triggered": State.ACCEPTED,
          "PartiallyFilled": State.PARTIALLY_FILLED, "Filled": State.FILLED, "Cancelled": State.CANCELLED,
          "PartiallyFilledCanceled": State.CANCELLED, "Deactivated": State.CANCELLED, "Rejected": State.REJECTED}


def private_ws(url: str) -> str:
    """The private stream URL from a given stream URL (a simulator's public one maps over)."""
    url = url.rstrip("/")
    return url[: -len(PUBLIC_WS_PATH)] + PRIVATE_WS_PATH if url.endswith(PUBLIC_WS_PATH) else url


def _dec(text: str) -> Decimal | None:
    return Decimal(text) if text not in ("", None) else None


class BybitAdapter(HttpVenue):
    venue = VENUE
    perpetual = True
    UNKNOWN_ORDER = (110001, "Order does not exist")

    def __init__(self, creds: Credentials, *, rest_url: str | None = None, ws_url: str | None = None,
                 testnet: bool = False, recv_window_ms: str = RECV_WINDOW_MS, **kw) -> None:
        rest, ws = URLS[testnet]
        super().__init__(rest_url or rest, **kw)
        self.ws_url = private_ws(ws_url or ws)
        self.signer = BybitSigner(creds.api_key, creds.secret)
        creds.forget()
        self.recv_window = recv_window_ms

    def __repr__(self) -> str:
        return f"<BybitAdapter {self.rest_url} {self.signer!r}>"

    # -- requests ---------------------------------------------------------------------------
    def order_body(self, req: OrderRequest) -> str:
        """The order as Bybit's JSON body, compact, keys in a fixed order (what is signed)."""
        t = req.type
        b = (f'{{"category":"linear","symbol":"{req.symbol}","side":"{"Buy" if req.side.value == "buy" else "Sell"}",'
             f'"orderType":"{"Limit" if t is OrderType.LIMIT else "Market"}","qty":"{req.qty:f}"')
        if t is OrderType.LIMIT:
            b += f',"price":"{req.price:f}","timeInForce":"GTC"'
        elif t is OrderType.STOP:
            b += f',"triggerPrice":"{req.stop_price:f}","triggerDirection":{1 if req.side.value == "buy" else 2}'
        if req.reduce_only:
            b += ',"reduceOnly":true'
        return b + f',"positionIdx":0,"orderLinkId":"{req.client_id}"}}'

    def headers(self, payload: str) -> dict[str, str]:
        return self.signer.sign("", "", payload, "", str(self.now_ms()), recv_window=self.recv_window).headers

    def order_bytes(self, req: OrderRequest) -> bytes:
        """The complete signed HTTP/1.1 request for `req`, ready to write to the socket."""
        body = self.order_body(req)
        ts, key = str(self.now_ms()), self.signer.api_key
        sig = self.signer._hex((ts + key + self.recv_window + body).encode())   # as BybitSigner.sign
        return (f"POST /v5/order/create HTTP/1.1\r\nHost: {self.host}\r\nX-BAPI-API-KEY: {key}\r\n"
                f"X-BAPI-TIMESTAMP: {ts}\r\nX-BAPI-SIGN: {sig}\r\nX-BAPI-RECV-WINDOW: {self.recv_window}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n{body}").encode()

    def auth_headers(self, method: str, path: str, query: str, body: str) -> dict[str, str]:
        return self.headers(query or body)

    async def _call(self, method: str, path: str, params: str = "", *, signed: bool = True) -> Any:
        r, doc = await self.request_json(method, path, params, signed)
        try:
            code, msg = int(doc["retCode"]), str(doc.get("retMsg", ""))
        except (KeyError, TypeError, ValueError):
            raise VenueUnreachable(f"{self.venue}: {method} {path}: HTTP {r.status_code}, not Bybit's envelope") from None
        if code == TIMESTAMP_REFUSED:
            raise await self.drift_error(code, msg, f"recv_window {self.recv_window} ms, at most 1000 ms ahead",
                                         self.resync)
        if code:
            raise VenueRejected(self.venue, code, msg, r.status_code)
        return doc.get("result") or {}

    # -- time, key --------------------------------------------------------------------------
    async def resync(self) -> None:
        await self.sync_time(lambda r: int(r.json()["result"]["timeNano"]) // 1_000_000, TIME_PATH)

    async def connect(self) -> None:
        await self.resync()

    async def key_info(self) -> dict:
        await self.resync()
        r = await self._call("GET", "/v5/user/query-api")
        perms = r.get("permissions") or {}
        info = {"venue": self.venue, "api_key": mask(self.signer.api_key), "time_offset_ms": self.offset_ms,
                "round_trip_ms": self.rtt_ms, "read_only": bool(r.get("readOnly")),
                "permissions": {f"{group}.{p}": True for group, ps in perms.items() for p in ps}}
        if "Withdraw" in perms.get("Wallet", ()):
            raise KeyRefused(f"{self.venue}: this API key can withdraw funds (Wallet: Withdraw): refused. "
                             f"{WITHDRAWAL_ADVICE}.")
        return info

    # -- instruments ------------------------------------------------------------------------
    async def instrument(self, symbol: str) -> Instrument:
        r = await self._call("GET", "/v5/market/instruments-info", f"category=linear&symbol={symbol}", signed=False)
        s = next((x for x in r.get("list", ()) if x.get("symbol") == symbol), None)
        if s is None:
            raise OrderError(f"unknown symbol {symbol!r} on {self.venue}")
        self.max_leverage[symbol] = int(Decimal(s["leverageFilter"]["maxLeverage"]))
        return instrument(symbol, s["priceFilter"]["tickSize"], s["lotSizeFilter"]["qtyStep"],
                          int(s.get("priceScale") or 0), s.get("baseCoin", ""), s.get("quoteCoin", "USDT"))

    # -- orders -----------------------------------------------------------------------------
    async def place(self, req: OrderRequest) -> OrderUpdate:
        r = await self._call("POST", "/v5/order/create", self.order_body(req))
        upd = await self.query(req.symbol, req.client_id)
        return upd or OrderUpdate(req.client_id, State.ACCEPTED, Decimal(0), r.get("orderId", ""), symbol=req.symbol)

    async def query(self, symbol: str, client_id: str) -> OrderUpdate | None:
        r = await self._call("GET", "/v5/order/realtime", f"category=linear&symbol={symbol}&orderLinkId={client_id}")
        rows = r.get("list") or []
        return self.update(rows[0]) if rows else None

    async def cancel(self, symbol: str, client_id: str) -> OrderUpdate:
        await self._call("POST", "/v5/order/cancel",
                         f'{{"category":"linear","symbol":"{symbol}","orderLinkId":"{client_id}"}}')
        upd = await self.query(symbol, client_id)
        if upd is None:
            raise VenueRejected(self.venue, *self.UNKNOWN_ORDER)
        return upd

    async def open_orders(self, symbol: str | None = None) -> list[OrderUpdate]:
        q = f"category=linear&symbol={symbol}" if symbol else "category=linear&settleCoin=USDT"
        return [self.update(o) for o in (await self._call("GET", "/v5/order/realtime", q)).get("list", ())]

    async def set_leverage(self, symbol: str, leverage: int) -> int:
        await self.check_leverage(symbol, leverage)
        try:
            await self._call("POST", "/v5/position/set-leverage",
                             f'{{"category":"linear","symbol":"{symbol}","buyLeverage":"{leverage}",'
                             f'"sellLeverage":"{leverage}"}}')
        except VenueRejected as e:
            if e.code != NOT_MODIFIED:
                raise
        return leverage

    async def positions(self) -> list[VenuePosition]:
        r = await self._call("GET", "/v5/position/list", "category=linear&settleCoin=USDT")
        out = []
        for p in r.get("list", ()):
            size = Decimal(p["size"])
            out.append(VenuePosition(self.venue, p["symbol"], -size if p.get("side") == "Sell" else size,
                                     _dec(p.get("avgPrice")), _dec(p.get("unrealisedPnl")), int(Decimal(p["leverage"])),
                                     {"markPrice": p.get("markPrice"), "cumRealisedPnl": p.get("cumRealisedPnl")}))
        return out

    def update(self, o: dict) -> OrderUpdate:
        """An order object (realtime list row, `order` topic) as an OrderUpdate."""
        status = o.get("orderStatus", "New")
        return OrderUpdate(o["orderLinkId"], STATES.get(status, State.ACCEPTED), Decimal(o.get("cumExecQty") or 0),
                           o.get("orderId", ""), (), _dec(o.get("cumExecValue")), _dec(o.get("avgPrice")), status,
                           o.get("symbol", ""))

    def execution(self, e: dict) -> OrderUpdate:
        """One `execution` topic item: a fill, with the order's cumulative quantity after it."""
        filled = Decimal(e["orderQty"]) - Decimal(e["leavesQty"])
        fill = Fill(Decimal(e["execQty"]), Decimal(e["execPrice"]), Decimal(e.get("execFee") or 0),
                    e.get("feeCurrency") or "USDT", e.get("execId", ""))
        state = State.FILLED if filled == Decimal(e["orderQty"]) else State.PARTIALLY_FILLED
        return OrderUpdate(e["orderLinkId"], state, filled, e.get("orderId", ""), (fill,), symbol=e.get("symbol", ""))

    def stream_updates(self, msg: dict) -> list[OrderUpdate]:
        topic = msg.get("topic")
        if topic == "order":
            return [self.update(o) for o in msg.get("data", ()) if o.get("category", "linear") == "linear"]
        if topic == "execution":
            return [self.execution(e) for e in msg.get("data", ()) if e.get("execType") == "Trade"]
        return []

    # -- private stream ---------------------------------------------------------------------
    def auth_message(self) -> str:
        expires = self.now_ms() + AUTH_EXPIRES_MS
        sig = self.signer._hex(f"GET/realtime{expires}".encode())
        return json.dumps({"op": "auth", "args": [self.signer.api_key, expires, sig]})

    async def user_stream(self, on_update: Callable[[OrderUpdate], None], ready: asyncio.Event | None = None) -> None:
        async def handshake(ws) -> None:
            await ws.send_str(self.auth_message())
            await self._expect(ws, "auth")
            await ws.send_str(json.dumps({"op": "subscribe", "args": list(TOPICS)}))
            await self._expect(ws, "subscribe")

        await self.private_stream(on_update, ready, handshake, '{"op":"ping"}', PING_S)

    async def _expect(self, ws, op: str) -> None:
        while True:
            doc = json.loads(await asyncio.wait_for(ws.receive_str(), 10))
            if doc.get("op") == op:
                if not doc.get("success"):
                    raise VenueRejected(self.venue, op, str(doc.get("ret_msg", "")))
                return


def perp(creds: Credentials, **kw) -> BybitAdapter:
    return BybitAdapter(creds, **kw)
