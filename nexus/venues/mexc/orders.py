"""MEXC spot v3 order entry (venue `mexc`): the venue adapter of nexus.exec.client.

Requests as MEXC documents them (MEXC Spot v3 API docs, https://mexcdevelop.github.io/apidocs/spot_v3_en/
and https://www.mexc.com/api-docs/spot-v3/: "General Info" (SIGNED endpoints, timing security),
"Spot Account/Trade": New Order POST /api/v3/order, Query Order GET /api/v3/order, Cancel
Order DELETE /api/v3/order, Current Open Orders GET /api/v3/openOrders, Account Information
GET /api/v3/account; "Market Data": Check Server Time GET /api/v3/time, Exchange
Information GET /api/v3/exchangeInfo; "Websocket User Data Streams"). The API follows
Binance's: every parameter in the query string in a fixed order, `recvWindow`, `timestamp`
(ms), then `signature`, HMAC-SHA256 lowercase hex of totalParams (query string + empty body;
nexus/venues/mexc/sign.py), the key in X-MEXC-APIKEY; the query string is built by the same
helper as Binance's (nexus/venues/binance/orders.py `signed_query`). `order_bytes(req)` renders
the complete HTTP/1.1 request (what `nexus bench exec` times); `place` sends the same query.

MEXC answers a new order with its ids only (symbol, orderId, price, origQty, type, side,
transactTime), so `place` reads the order back by its client id (one more round trip) to
report the state it reached; fills also arrive on the private stream. Statuses: NEW ->
accepted, PARTIALLY_FILLED, FILLED, CANCELED / PARTIALLY_CANCELED -> cancelled. Types: MARKET
and LIMIT (GTC); MEXC's spot API has no stop orders (its order types are LIMIT, MARKET,
LIMIT_MAKER, IMMEDIATE_OR_CANCEL, FILL_OR_KILL): a STOP is refused before sending, as are
reduce-only and leverage (spot).

Errors keep MEXC's own codes: 700002 bad signature, 700003 timestamp outside the window
(`timestamp < serverTime + 1000` and `serverTime - timestamp <= recvWindow`) -> `ClockDrift`
naming the drift, 10007 bad symbol, 30004 insufficient position, 30002 below the minimum
transaction volume, -2013 order does not exist, -2011 unknown order sent (cancel).

Key check: MEXC has no endpoint describing the calling key's own permissions; GET
/api/v3/account reports `canWithdraw` and `permissions`: an account that reports
`canWithdraw` true through this key is refused (seed: "Never enable Withdrawals").

Private stream: POST /api/v3/userDataStream (signed) gives a listenKey; the WebSocket
wss://wbs-api.mexc.com/ws?listenKey=<key>, then {"method":"SUBSCRIPTION","params":[
"spot@private.orders.v3.api.pb","spot@private.deals.v3.api.pb"]}; pushes are binary
PushDataV3ApiWrapper frames (schemas github.com/mexcdevelop/websocket-proto, compiled in
pb/): `privateDeals` (one fill: price, quantity, tradeId, clientOrderId, orderId, feeAmount,
feeCurrency) and `privateOrders` (id = orderId, clientId = client order id, status 1 new /
2 filled / 3 partially filled / 4 cancelled / 5 partially cancelled, cumulativeQuantity,
cumulativeAmount, avgPrice). {"method":"PING"} every `PING_S`; the listen key is extended by
PUT every `KEEPALIVE_S` (it lives 60 minutes).
"""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from typing import Any, Callable

from nexus.exec.client import Fill, KeyRefused, OrderUpdate, VenuePosition, VenueRejected, VenueUnreachable
from nexus.exec.http import WITHDRAWAL_ADVICE, HttpVenue
from nexus.exec.keys import Credentials
from nexus.exec.orders import OrderError, OrderRequest, OrderType, Side, State
from nexus.exec.signing.base import mask
from nexus.instruments import Instrument
from nexus.venues.binance.orders import order_update, signed_query
from nexus.venues.mexc.data import decimals_step, instrument
from nexus.venues.mexc.pb.PushDataV3ApiWrapper_pb2 import PushDataV3ApiWrapper
from nexus.venues.mexc.sign import MexcSigner

VENUE = "mexc"
API_KEY_HEADER = "X-MEXC-APIKEY"
RECV_WINDOW_MS = 5000
PING_S = 20.0
KEEPALIVE_S = 30 * 60
REST_URL, WS_URL = "https://api.mexc.com", "wss://wbs-api.mexc.com/ws"
ORDER_PATH, OPEN_PATH, ACCOUNT_PATH = "/api/v3/order", "/api/v3/openOrders", "/api/v3/account"
TIME_PATH, INFO_PATH, LISTEN_PATH = "/api/v3/time", "/api/v3/exchangeInfo", "/api/v3/userDataStream"
ORDERS_CHANNEL, DEALS_CHANNEL = "spot@private.orders.v3.api.pb", "spot@private.deals.v3.api.pb"
TIMESTAMP_REFUSED = 700003
UNKNOWN_ORDER_CODES = (-2013, -2011)

STATES = {"NEW": State.ACCEPTED, "PARTIALLY_FILLED": State.PARTIALLY_FILLED, "FILLED": State.FILLED,
          "CANCELED": State.CANCELLED, "PARTIALLY_CANCELED": State.CANCELLED}
# privateOrders.status: 1 not traded, 2 fully traded, 3 partially traded, 4 cancelled, 5 partially cancelled
PUSH_STATES = {1: ("NEW", State.ACCEPTED), 2: ("FILLED", State.FILLED), 3: ("PARTIALLY_FILLED", State.PARTIALLY_FILLED),
               4: ("CANCELED", State.CANCELLED), 5: ("PARTIALLY_CANCELED", State.CANCELLED)}


def _dec(text: str) -> Decimal | None:
    return Decimal(text) if text not in ("", None) else None


class MexcAdapter(HttpVenue):
    venue = VENUE
    perpetual = False
    UNKNOWN_ORDER = (-2013, "Order does not exist.")

    def __init__(self, creds: Credentials, *, rest_url: str | None = None, ws_url: str | None = None,
                 testnet: bool = False, recv_window_ms: int = RECV_WINDOW_MS, **kw) -> None:
        if testnet:
            raise OrderError("mexc: MEXC has no spot testnet; use --sim")
        super().__init__(rest_url or REST_URL, **kw)
        self.ws_url = (ws_url or WS_URL).rstrip("/")
        self.signer = MexcSigner(creds.api_key, creds.secret)
        creds.forget()
        self.recv_window_ms = recv_window_ms
        self._tail = (f" HTTP/1.1\r\nHost: {self.host}\r\n{API_KEY_HEADER}: {self.signer.api_key}\r\n"
                      "Content-Type: application/json\r\nContent-Length: 0\r\n\r\n").encode()
        self._dealt: dict[str, Decimal] = {}     # client id -> quantity of the deals pushed so far

    def __repr__(self) -> str:
        return f"<MexcAdapter {self.rest_url} {self.signer!r}>"

    # -- requests ---------------------------------------------------------------------------
    @staticmethod
    def check_request(req: OrderRequest) -> None:
        """What MEXC spot cannot take at all, refused before the order is tracked or sent."""
        if req.type is OrderType.STOP:
            raise OrderError("mexc: MEXC's spot API has no stop orders (types LIMIT, MARKET, LIMIT_MAKER, "
                             "IMMEDIATE_OR_CANCEL, FILL_OR_KILL): not sent")

    def order_query(self, req: OrderRequest) -> str:
        """The order's parameters, unsigned, exactly as sent (letters, digits and '.': nothing
        needs percent-encoding)."""
        t = req.type
        if t is OrderType.STOP or req.reduce_only:
            self.check_request(req)
            raise OrderError("mexc has no reduce-only orders (a spot sell only sells what you hold): not sent")
        side = "BUY" if req.side is Side.BUY else "SELL"
        if t is OrderType.LIMIT:
            return (f"symbol={req.symbol}&side={side}&type=LIMIT&quantity={req.qty:f}&price={req.price:f}"
                    f"&newClientOrderId={req.client_id}")
        return f"symbol={req.symbol}&side={side}&type=MARKET&quantity={req.qty:f}&newClientOrderId={req.client_id}"

    def signed_query(self, params: str) -> str:
        return signed_query(self.signer, params, self.recv_window_ms, self.now_ms())

    def order_bytes(self, req: OrderRequest) -> bytes:
        """The complete signed HTTP/1.1 request for `req`, ready to write to the socket (the
        query as `signed_query` makes it, the fixed head and tail prepared once)."""
        q = f"{self.order_query(req)}&recvWindow={self.recv_window_ms}&timestamp={self.now_ms()}"
        return b"POST /api/v3/order?" + f"{q}&signature={self.signer._hex(q.encode())}".encode() + self._tail

    async def _call(self, method: str, path: str, params: str = "", *, signed: bool = True) -> Any:
        if signed and self.stale():
            await self.resync()
        query = self.signed_query(params) if signed else params
        headers = {API_KEY_HEADER: self.signer.api_key, "Content-Type": "application/json"} if signed else {}
        r = await self.send(method, path, query=query, headers=headers)
        if r.status_code >= 500:
            raise VenueUnreachable(f"{self.venue}: {method} {path}: HTTP {r.status_code}")
        try:
            body = r.json()
        except ValueError:
            raise VenueUnreachable(f"{self.venue}: {method} {path}: HTTP {r.status_code}, not JSON") from None
        if r.status_code >= 400 or (isinstance(body, dict) and "code" in body and "msg" in body
                                    and body["code"] not in (0, 200, "0", "200")):
            code, msg = (body.get("code", r.status_code), body.get("msg", "")) if isinstance(body, dict) else \
                (r.status_code, "")
            if code == TIMESTAMP_REFUSED:
                raise await self.drift_error(code, msg, f"recvWindow {self.recv_window_ms} ms, at most 1000 ms ahead",
                                             self.resync)
            raise VenueRejected(self.venue, code, msg, r.status_code)
        return body

    # -- time, key --------------------------------------------------------------------------
    async def resync(self) -> None:
        await self.sync_time(lambda r: int(r.json()["serverTime"]), TIME_PATH)

    async def connect(self) -> None:
        await self.resync()

    async def key_info(self) -> dict:
        await self.resync()
        r = await self._call("GET", ACCOUNT_PATH)
        info = {"venue": self.venue, "api_key": mask(self.signer.api_key), "time_offset_ms": self.offset_ms,
                "round_trip_ms": self.rtt_ms,
                "permissions": {**{k: r[k] for k in ("canTrade", "canWithdraw", "canDeposit") if isinstance(r.get(k), bool)},
                                **{p: True for p in r.get("permissions") or ()}}}
        if r.get("canWithdraw"):
            raise KeyRefused(f"{self.venue}: this API key can withdraw funds (account canWithdraw): refused. "
                             f"{WITHDRAWAL_ADVICE}.")
        return info

    # -- instruments ------------------------------------------------------------------------
    async def instrument(self, symbol: str) -> Instrument:
        try:
            body = await self._call("GET", INFO_PATH, f"symbol={symbol}", signed=False)
        except VenueRejected as e:
            raise OrderError(f"unknown symbol {symbol!r} on {self.venue} ({e.code} {e.message})") from None
        s = next((x for x in body.get("symbols", ()) if x.get("symbol") == symbol), None)
        if s is None:
            raise OrderError(f"unknown symbol {symbol!r} on {self.venue}")
        return instrument(symbol, decimals_step(s["quotePrecision"]), decimals_step(s["baseAssetPrecision"]),
                          s.get("baseAsset", ""), s.get("quoteAsset", ""))

    # -- orders -----------------------------------------------------------------------------
    async def place(self, req: OrderRequest) -> OrderUpdate:
        r = await self._call("POST", ORDER_PATH, self.order_query(req))
        upd = await self.query(req.symbol, req.client_id)
        return upd or OrderUpdate(req.client_id, State.ACCEPTED, Decimal(0), str(r.get("orderId", "")),
                                  symbol=req.symbol)

    async def query(self, symbol: str, client_id: str) -> OrderUpdate | None:
        try:
            body = await self._call("GET", ORDER_PATH, f"symbol={symbol}&origClientOrderId={client_id}")
        except VenueRejected as e:
            if e.code in UNKNOWN_ORDER_CODES:
                return None
            raise
        return order_update(body, STATES)

    async def cancel(self, symbol: str, client_id: str) -> OrderUpdate:
        body = await self._call("DELETE", ORDER_PATH, f"symbol={symbol}&origClientOrderId={client_id}")
        return order_update({**body, "clientOrderId": body.get("origClientOrderId") or client_id}, STATES)

    async def open_orders(self, symbol: str | None = None) -> list[OrderUpdate]:
        if not symbol:
            raise OrderError("mexc: open orders are listed per symbol (MEXC's openOrders needs `symbol`)")
        return [order_update(o, STATES) for o in await self._call("GET", OPEN_PATH, f"symbol={symbol}")]

    async def set_leverage(self, symbol: str, leverage: int) -> int:
        raise OrderError("mexc has no leverage (spot): not sent")

    async def positions(self) -> list[VenuePosition]:
        body = await self._call("GET", ACCOUNT_PATH)
        return [VenuePosition(self.venue, b["asset"], Decimal(b["free"]) + Decimal(b["locked"]),
                              extra={"free": b["free"], "locked": b["locked"]})
                for b in body.get("balances", ()) if Decimal(b["free"]) or Decimal(b["locked"])]

    # -- private stream ---------------------------------------------------------------------
    def push_updates(self, m: PushDataV3ApiWrapper) -> list[OrderUpdate]:
        """One private push as OrderUpdates: a deal is a fill (its cumulative quantity counted
        from the deals pushed on this stream), an order push the order's state and totals."""
        body = m.WhichOneof("body")
        symbol = m.symbol if m.HasField("symbol") else ""
        if body == "privateDeals":
            d = m.privateDeals
            qty = Decimal(d.quantity)
            cum = self._dealt[d.clientOrderId] = self._dealt.get(d.clientOrderId, Decimal(0)) + qty
            fill = Fill(qty, Decimal(d.price), Decimal(d.feeAmount or "0"), d.feeCurrency, d.tradeId)
            return [OrderUpdate(d.clientOrderId, State.PARTIALLY_FILLED, cum, d.orderId, (fill,),
                                venue_status="DEAL", symbol=symbol)]
        if body == "privateOrders":
            o = m.privateOrders
            status, state = PUSH_STATES.get(o.status, ("NEW", State.ACCEPTED))
            if state in (State.FILLED, State.CANCELLED):
                self._dealt.pop(o.clientId, None)       # its deals came before its final state
            return [OrderUpdate(o.clientId, state, Decimal(o.cumulativeQuantity or "0"), o.id, (),
                                _dec(o.cumulativeAmount), _dec(o.avgPrice), status, symbol)]
        return []

    async def user_stream(self, on_update: Callable[[OrderUpdate], None], ready: asyncio.Event | None = None) -> None:
        import aiohttp

        key = (await self._call("POST", LISTEN_PATH))["listenKey"]
        keepalive = asyncio.get_running_loop().create_task(self._keepalive(key))
        try:
            async with aiohttp.ClientSession() as s, s.ws_connect(f"{self.ws_url}?listenKey={key}",
                                                                  heartbeat=None) as ws:
                await ws.send_str(json.dumps({"method": "SUBSCRIPTION", "params": [ORDERS_CHANNEL, DEALS_CHANNEL]}))
                await self._acked(ws)
                if ready is not None:
                    ready.set()
                pinger = asyncio.get_running_loop().create_task(self._ping(ws))
                try:
                    async for msg in ws:
                        if msg.type == aiohttp.WSMsgType.BINARY:
                            m = PushDataV3ApiWrapper()
                            m.ParseFromString(msg.data)
                            for upd in self.push_updates(m):
                                on_update(upd)
                finally:
                    pinger.cancel()
        except aiohttp.ClientError as e:
            raise VenueUnreachable(f"{self.venue}: private stream: {type(e).__name__}") from None
        finally:
            keepalive.cancel()

    async def _acked(self, ws) -> None:
        """MEXC acknowledges a subscription with {"id":0,"code":0,"msg":"<channels>"}; a refused
        channel comes back named in a "Not Subscribed successfully!" message."""
        want = {ORDERS_CHANNEL, DEALS_CHANNEL}
        while want:
            doc = json.loads(await asyncio.wait_for(ws.receive_str(), 10))
            msg = str(doc.get("msg", ""))
            if "Not Subscribed" in msg or doc.get("code"):
                raise VenueRejected(self.venue, doc.get("code", 0), msg)
            want -= set(msg.split(","))

    @staticmethod
    async def _ping(ws) -> None:
        while True:
            await asyncio.sleep(PING_S)
            await ws.send_str('{"method":"PING"}')

    async def _keepalive(self, key: str) -> None:
        while True:
            await asyncio.sleep(KEEPALIVE_S)
            await self._call("PUT", LISTEN_PATH, f"listenKey={key}")


def spot(creds: Credentials, **kw) -> MexcAdapter:
    return MexcAdapter(creds, **kw)
