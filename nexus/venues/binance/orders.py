"""Binance order entry (spot and USD-M perpetuals): the venue adapter of nexus.exec.client.

Requests are built from an `OrderRequest` as Binance documents them (Spot "New order
(TRADE)" POST /api/v3/order; USD-M "New Order (TRADE)" POST /fapi/v1/order), every parameter
in the query string in a fixed order, signed with HMAC-SHA256 over that query
(nexus/venues/binance/sign.py), the key in X-MBX-APIKEY. `order_bytes(req)` renders the
complete HTTP/1.1 request (what `nexus bench exec` times); `place` sends the same query.

Statuses map onto ours: NEW -> accepted, PARTIALLY_FILLED, FILLED, CANCELED -> cancelled,
EXPIRED / EXPIRED_IN_MATCH -> expired, REJECTED. Types: MARKET, LIMIT (GTC), STOP = spot
STOP_LOSS / futures STOP_MARKET (a stop-market at `stopPrice`).

Server time: /api/v3/time or /fapi/v1/time on connect and every `RESYNC_S`; the offset is the
server time minus the midpoint of the round trip, and every timestamp is local clock +
offset. Binance refuses a timestamp more than 1000 ms ahead or older than recvWindow
(-1021): that answer becomes `ClockDrift`, naming the drift measured right then and the fix.

Key check: GET /sapi/v1/account/apiRestrictions (on Binance's spot host); a key with
`enableWithdrawals` is refused (seed: "Never enable Withdrawals").

User data: POST listen key, then the WebSocket `<stream host>/ws/<listenKey>`, kept alive by
PUT every `KEEPALIVE_S`; `executionReport` / `ORDER_TRADE_UPDATE` become `OrderUpdate`s.
"""

from __future__ import annotations

import asyncio
import json
import time
from decimal import Decimal
from typing import Any, Callable

import httpx

from nexus.exec.client import (
    ClockDrift, Fill, KeyRefused, OrderUpdate, VenuePosition, VenueRejected, VenueUnreachable,
)
from nexus.exec.keys import Credentials
from nexus.exec.orders import OrderError, OrderRequest, OrderType, State
from nexus.instruments import Instrument
from nexus.venues.binance.data import WIRE_EXPONENT, _trim, instrument
from nexus.exec.signing.base import mask
from nexus.venues.binance.sign import API_KEY_HEADER, BinancePerpSigner, BinanceSigner

RECV_WINDOW_MS = 5000
TIMEOUT_S = 10.0
RESYNC_S = 300.0             # re-sync the server-time offset this often
KEEPALIVE_S = 30 * 60        # Binance: PUT the listen key at least every 60 minutes
WITHDRAWAL_ADVICE = ("Never enable Withdrawals — NEXUS does not need it and disabling it limits damage if a "
                     "key leaks. Create a key with withdrawals off")
CLOCK_FIX = ("sync your computer clock (Windows: Settings > Time & Language > Sync now; macOS: System Settings > "
             "Date & Time > set automatically; Linux: timedatectl set-ntp true) and retry")

STATES = {"NEW": State.ACCEPTED, "PARTIALLY_FILLED": State.PARTIALLY_FILLED, "FILLED": State.FILLED,
          "CANCELED": State.CANCELLED, "PENDING_CANCEL": State.ACCEPTED, "EXPIRED": State.EXPIRED,
          "EXPIRED_IN_MATCH": State.EXPIRED, "REJECTED": State.REJECTED}


class Paths:
    def __init__(self, futures: bool) -> None:
        api = "/fapi/v1" if futures else "/api/v3"
        self.order = f"{api}/order"
        self.open_orders = f"{api}/openOrders"
        self.time = f"{api}/time"
        self.info = f"{api}/exchangeInfo"
        self.listen_key = "/fapi/v1/listenKey" if futures else "/api/v3/userDataStream"
        self.restrictions = "/sapi/v1/account/apiRestrictions"


# (REST base, user-data WebSocket base) per network
URLS = {
    ("binance-spot", False): ("https://api.binance.com", "wss://stream.binance.com:9443/ws"),
    ("binance-spot", True): ("https://testnet.binance.vision", "wss://stream.testnet.binance.vision/ws"),
    ("binance-perp", False): ("https://fapi.binance.com", "wss://fstream.binance.com/ws"),
    ("binance-perp", True): ("https://testnet.binancefuture.com", "wss://fstream.binancefuture.com/ws"),
}
# Binance RWA is Binance spot (same hosts, keys and paths) restricted to a whitelist
# (nexus/venues/binance_rwa/orders.py)
URLS[("binance-rwa", False)] = URLS[("binance-spot", False)]
URLS[("binance-rwa", True)] = URLS[("binance-spot", True)]
RESTRICTIONS_HOST = {False: "https://api.binance.com", True: "https://testnet.binance.vision"}


def _wire(d: Decimal) -> str:
    return format(d, "f")


def signed_query(signer, params: str, recv_window_ms: int, timestamp_ms: int) -> str:
    """A SIGNED request's query string as Binance (and MEXC, whose spot v3 API follows the same
    rule) want it: the parameters, `recvWindow`, `timestamp`, then `signature`, the signer's
    HMAC-SHA256 hex of everything before it (totalParams with an empty body)."""
    q = f"{params}&recvWindow={recv_window_ms}&timestamp={timestamp_ms}" if params else \
        f"recvWindow={recv_window_ms}&timestamp={timestamp_ms}"
    return f"{q}&signature={signer._hex(q.encode())}"         # = signer.sign('', '', q, '', '').signature


def order_update(o: dict, states: dict[str, State]) -> OrderUpdate:
    """A Binance-shaped REST order body (clientOrderId, status, executedQty,
    cummulativeQuoteQty or cumQuote, optional fills and avgPrice; Binance's and MEXC's) as an
    OrderUpdate, the venue's status mapped through `states`."""
    status = o.get("status", "NEW")
    cum = o.get("cummulativeQuoteQty", o.get("cumQuote"))
    fills = tuple(Fill(Decimal(f["qty"]), Decimal(f["price"]), Decimal(f["commission"]), f["commissionAsset"],
                       str(f["tradeId"])) for f in o.get("fills", ()))
    avg = o.get("avgPrice")
    return OrderUpdate(o["clientOrderId"], states.get(status, State.ACCEPTED), Decimal(o.get("executedQty") or "0"),
                       str(o.get("orderId", "")), fills, Decimal(cum) if cum not in (None, "") else None,
                       Decimal(avg) if avg else None, status, o.get("symbol", ""))


class BinanceAdapter:
    UNKNOWN_ORDER = (-2013, "Order does not exist.")     # the venue's answer to a query of an unknown id

    def __init__(self, venue: str, creds: Credentials, *, rest_url: str | None = None, ws_url: str | None = None,
                 testnet: bool = False, timeout_s: float = TIMEOUT_S, recv_window_ms: int = RECV_WINDOW_MS,
                 clock_ms: Callable[[], int] | None = None) -> None:
        self.venue = venue
        self.perpetual = venue == "binance-perp"
        self.paths = Paths(self.perpetual)
        rest, ws = URLS[(venue, testnet)]
        self.rest_url = (rest_url or rest).rstrip("/")
        self.ws_url = (ws_url or ws).rstrip("/")
        # apiRestrictions lives on the spot host; a given --rest-url (the simulator) serves it too
        self.restrictions_url = self.rest_url if rest_url else RESTRICTIONS_HOST[testnet]
        self.signer = (BinancePerpSigner if self.perpetual else BinanceSigner)(creds.api_key, creds.secret)
        creds.forget()
        self.recv_window_ms = recv_window_ms
        self.clock_ms = clock_ms or (lambda: time.time_ns() // 1_000_000)
        self.offset_ms = 0
        self.rtt_ms = 0
        self.synced_at = float("-inf")
        self.http = httpx.AsyncClient(timeout=timeout_s)
        self.host = httpx.URL(self.rest_url).netloc.decode()
        self._resp_type = "RESULT" if self.perpetual else "FULL"

    def __repr__(self) -> str:
        return f"<BinanceAdapter {self.venue} {self.rest_url} {self.signer!r}>"

    # -- requests ---------------------------------------------------------------------------
    def now_ms(self) -> int:
        return self.clock_ms() + self.offset_ms

    def order_query(self, req: OrderRequest) -> str:
        """The order's parameters, unsigned, exactly as sent (every value is letters, digits
        and '.', so nothing needs percent-encoding)."""
        t = req.type
        q = f"symbol={req.symbol}&side={'BUY' if req.side.value == 'buy' else 'SELL'}"
        if t is OrderType.MARKET:
            q += "&type=MARKET"
        elif t is OrderType.LIMIT:
            q += "&type=LIMIT&timeInForce=GTC"
        else:
            q += "&type=STOP_MARKET" if self.perpetual else "&type=STOP_LOSS"
        q += "&quantity=" + _wire(req.qty)
        if req.price is not None:
            q += "&price=" + _wire(req.price)
        if req.stop_price is not None:
            q += "&stopPrice=" + _wire(req.stop_price)
        if req.reduce_only:
            if not self.perpetual:
                raise OrderError("binance-spot has no reduce-only orders (a spot sell only sells what you hold)")
            q += "&reduceOnly=true"
        return f"{q}&newClientOrderId={req.client_id}&newOrderRespType={self._resp_type}"

    def signed_query(self, params: str) -> str:
        return signed_query(self.signer, params, self.recv_window_ms, self.now_ms())

    def order_bytes(self, req: OrderRequest) -> bytes:
        """The complete signed HTTP/1.1 request for `req`, ready to write to the socket."""
        return (f"POST {self.paths.order}?{self.signed_query(self.order_query(req))} HTTP/1.1\r\n"
                f"Host: {self.host}\r\n{API_KEY_HEADER}: {self.signer.api_key}\r\n"
                "Content-Length: 0\r\n\r\n").encode()

    async def _call(self, method: str, path: str, params: str = "", *, signed: bool = True,
                    base: str | None = None) -> Any:
        if signed and time.monotonic() - self.synced_at > RESYNC_S:
            await self.sync_time()
        query = self.signed_query(params) if signed else params
        url = f"{base or self.rest_url}{path}" + (f"?{query}" if query else "")
        try:
            r = await self.http.request(method, url, headers={API_KEY_HEADER: self.signer.api_key})
        except httpx.TimeoutException:
            raise VenueUnreachable(f"{self.venue}: {method} {path} timed out") from None
        except httpx.TransportError as e:
            raise VenueUnreachable(f"{self.venue}: {method} {path}: {type(e).__name__}") from None
        try:
            body = r.json()
        except ValueError:
            raise VenueUnreachable(f"{self.venue}: {method} {path}: HTTP {r.status_code}, not JSON") from None
        if r.status_code >= 500:
            raise VenueUnreachable(f"{self.venue}: {method} {path}: HTTP {r.status_code}")
        if r.status_code >= 400 or (isinstance(body, dict) and isinstance(body.get("code"), int) and body["code"] < 0):
            code, msg = body.get("code", r.status_code), body.get("msg", "")
            if code == -1021:
                raise await self._drift(code, msg)
            raise VenueRejected(self.venue, code, msg, r.status_code)
        return body

    # -- time -------------------------------------------------------------------------------
    async def sync_time(self) -> None:
        t0 = self.clock_ms()
        try:
            r = await self.http.get(self.rest_url + self.paths.time)
            server = int(r.json()["serverTime"])
        except (httpx.TransportError, ValueError, KeyError) as e:
            raise VenueUnreachable(f"{self.venue}: server time: {type(e).__name__}") from None
        t1 = self.clock_ms()
        self.rtt_ms = t1 - t0
        self.offset_ms = server - (t0 + t1) // 2
        self.synced_at = time.monotonic()

    async def _drift(self, code: int, msg: str) -> ClockDrift:
        used = self.offset_ms
        await self.sync_time()
        drift = used - self.offset_ms
        return ClockDrift(self.venue, code, f"{msg} The request's timestamp was {drift:+d} ms off {self.venue}'s "
                                            f"server time (round trip {self.rtt_ms} ms, recvWindow "
                                            f"{self.recv_window_ms} ms): {CLOCK_FIX}. Nothing was placed.")

    async def connect(self) -> None:
        await self.sync_time()

    async def key_info(self) -> dict:
        """The key's permissions and the clock: refuses a key that can withdraw."""
        await self.sync_time()
        r = await self._call("GET", self.paths.restrictions, base=self.restrictions_url)
        info = {"venue": self.venue, "api_key": mask(self.signer.api_key), "time_offset_ms": self.offset_ms,
                "round_trip_ms": self.rtt_ms, "permissions": {k: v for k, v in r.items() if isinstance(v, bool)}}
        if r.get("enableWithdrawals"):
            raise KeyRefused(f"{self.venue}: this API key can withdraw funds: refused. {WITHDRAWAL_ADVICE}.")
        return info

    # -- instruments ------------------------------------------------------------------------
    async def instrument(self, symbol: str) -> Instrument:
        try:
            body = await self._call("GET", self.paths.info, f"symbol={symbol}", signed=False)
        except VenueRejected as e:
            raise OrderError(f"unknown symbol {symbol!r} on {self.venue} ({e.code} {e.message})") from None
        s = next((x for x in body.get("symbols", ()) if x.get("symbol") == symbol), None)
        if s is None:
            raise OrderError(f"unknown symbol {symbol!r} on {self.venue}")
        filters = {f.get("filterType"): f for f in s.get("filters", ())}
        return instrument(self.venue, symbol, _trim(filters["PRICE_FILTER"]["tickSize"]),
                          _trim(filters["LOT_SIZE"]["stepSize"]), kind="linear" if self.perpetual else "spot",
                          base=s.get("baseAsset", ""), quote=s.get("quoteAsset", ""), pe=WIRE_EXPONENT,
                          qe=WIRE_EXPONENT)

    # -- orders -----------------------------------------------------------------------------
    async def place(self, req: OrderRequest) -> OrderUpdate:
        return self.update(await self._call("POST", self.paths.order, self.order_query(req)))

    async def query(self, symbol: str, client_id: str) -> OrderUpdate | None:
        try:
            body = await self._call("GET", self.paths.order, f"symbol={symbol}&origClientOrderId={client_id}")
        except VenueRejected as e:
            if e.code == -2013:
                return None
            raise
        return self.update(body)

    async def cancel(self, symbol: str, client_id: str) -> OrderUpdate:
        body = await self._call("DELETE", self.paths.order, f"symbol={symbol}&origClientOrderId={client_id}")
        if not self.perpetual:
            body = {**body, "clientOrderId": body.get("origClientOrderId", client_id)}
        return self.update(body)

    async def open_orders(self, symbol: str | None = None) -> list[OrderUpdate]:
        body = await self._call("GET", self.paths.open_orders, f"symbol={symbol}" if symbol else "")
        return [self.update(o) for o in body]

    async def set_leverage(self, symbol: str, leverage: int) -> int:
        if not self.perpetual:
            raise OrderError("binance-spot has no leverage")
        body = await self._call("POST", "/fapi/v1/leverage", f"symbol={symbol}&leverage={leverage}")
        return int(body["leverage"])

    async def positions(self) -> list[VenuePosition]:
        if self.perpetual:
            rows = await self._call("GET", "/fapi/v2/positionRisk")
            return [VenuePosition(self.venue, r["symbol"], Decimal(r["positionAmt"]), Decimal(r["entryPrice"]),
                                  Decimal(r["unRealizedProfit"]), int(r["leverage"]), {"markPrice": r["markPrice"]})
                    for r in rows]
        body = await self._call("GET", "/api/v3/account")
        return [VenuePosition(self.venue, b["asset"], Decimal(b["free"]) + Decimal(b["locked"]),
                              extra={"free": b["free"], "locked": b["locked"]})
                for b in body["balances"] if Decimal(b["free"]) or Decimal(b["locked"])]

    def update(self, o: dict) -> OrderUpdate:
        """A REST order body (new order RESULT/FULL, query, cancel) as an OrderUpdate."""
        return order_update(o, STATES)

    def stream_update(self, msg: dict) -> OrderUpdate | None:
        """A user-data event as an OrderUpdate (None: not an order event)."""
        if msg.get("e") == "executionReport":
            o, cid = msg, (msg.get("C") or msg["c"]) if msg.get("x") == "CANCELED" else msg["c"]
            cum = Decimal(o["Z"])
        elif msg.get("e") == "ORDER_TRADE_UPDATE":
            o = msg["o"]
            cid, cum = o["c"], None
        else:
            return None
        last = Decimal(o["l"])
        fills = (Fill(last, Decimal(o["L"]), Decimal(o.get("n") or 0), o.get("N") or "", str(o["t"])),) if last else ()
        return OrderUpdate(cid, STATES.get(o["X"], State.ACCEPTED), Decimal(o["z"]), str(o["i"]), fills, cum,
                           Decimal(o["ap"]) if o.get("ap") else None, o["X"], o["s"])

    # -- user data --------------------------------------------------------------------------
    async def user_stream(self, on_update: Callable[[OrderUpdate], None], ready: asyncio.Event | None = None) -> None:
        import aiohttp

        key = (await self._call("POST", self.paths.listen_key, signed=False))["listenKey"]
        keepalive = asyncio.get_running_loop().create_task(self._keepalive(key))
        try:
            async with aiohttp.ClientSession() as s, s.ws_connect(f"{self.ws_url}/{key}") as ws:
                if ready is not None:
                    ready.set()
                async for msg in ws:
                    if msg.type != aiohttp.WSMsgType.TEXT:
                        continue
                    upd = self.stream_update(json.loads(msg.data))
                    if upd is not None:
                        on_update(upd)
        except aiohttp.ClientError as e:
            raise VenueUnreachable(f"{self.venue}: user-data stream: {type(e).__name__}") from None
        finally:
            keepalive.cancel()

    async def _keepalive(self, key: str) -> None:
        while True:
            await asyncio.sleep(KEEPALIVE_S)
            await self._call("PUT", self.paths.listen_key, f"listenKey={key}", signed=False)

    async def close(self) -> None:
        await self.http.aclose()


def spot(creds: Credentials, **kw) -> BinanceAdapter:
    return BinanceAdapter("binance-spot", creds, **kw)


def perp(creds: Credentials, **kw) -> BinanceAdapter:
    return BinanceAdapter("binance-perp", creds, **kw)
