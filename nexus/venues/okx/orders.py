"""OKX v5 order entry for USDT swaps (okx-swap): the venue adapter of nexus.exec.client.

Requests as OKX documents them (docs-v5 "Trade": POST /api/v5/trade/order, /cancel-order,
GET /trade/order, /orders-pending, trigger algo orders POST /trade/order-algo, GET
/trade/order-algo, POST /trade/cancel-algos; "Account": POST /account/set-leverage, GET
/account/positions, /account/config; "Public": GET /public/time, /public/instruments),
signed with nexus/venues/okx/sign.py (Base64 HMAC-SHA256 of ISO-8601 timestamp + method +
path?query + body; headers OK-ACCESS-KEY / -SIGN / -TIMESTAMP / -PASSPHRASE).
`order_bytes(req)` renders the complete HTTP/1.1 request (what `nexus bench exec` times).

The passphrase is required before anything is built: a missing one is refused here (seed,
Troubleshooting: "For Bitget & OKX make sure passphrase is also pasted — these exchanges
silently fail if it's missing"). OKX refuses a timestamp more than 30 s away from its clock
(50102): that becomes `ClockDrift` naming the drift. A key whose `perm` includes "withdraw"
is refused (seed: "Never enable Withdrawals").

Sizes are contracts: `sz` is the order quantity in the instrument's own units (ctVal base
coin each: 0.01 BTC for BTC-USDT-SWAP). `OrderRequest.qty` for okx-swap is contracts;
`contracts(inst, base)` and `base_qty(inst, contracts)` convert explicitly (a base quantity
off the contract grid is refused, never rounded), positions report both.

OKX answers a new order with its ids and sCode only, so `place` reads it back by clOrdId.
States: live -> accepted, partially_filled, filled, canceled / mmp_canceled -> cancelled.
STOP is a trigger algo order (ordType "trigger", orderPx "-1": market when the last price
reaches triggerPx); it is queried as an algo (live / canceled), and once effective through
the order it created. Private stream: /ws/v5/private, `login` with sign = Base64 HMAC of
timestamp (Unix seconds) + "GET/users/self/verify", channels orders, orders-algo,
positions, account; "ping" every `PING_S`.
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Callable

from nexus.exec.client import Fill, KeyRefused, OrderUpdate, VenuePosition, VenueRejected, VenueUnreachable
from nexus.exec.http import WITHDRAWAL_ADVICE, HttpVenue
from nexus.exec.keys import Credentials, KeysMissing
from nexus.exec.orders import OrderError, OrderRequest, OrderType, Side, State, plain
from nexus.exec.signing.base import mask
from nexus.instruments import Instrument
from nexus.venues.okx.data import instrument
from nexus.venues.okx.sign import OkxSigner

VENUE = "okx-swap"
PING_S = 25.0
TIME_PATH = "/api/v5/public/time"
PUBLIC_WS_PATH, PRIVATE_WS_PATH = "/ws/v5/public", "/ws/v5/private"
URLS = {False: ("https://www.okx.com", "wss://ws.okx.com:8443/ws/v5/private")}
CHANNELS = ({"channel": "orders", "instType": "SWAP"}, {"channel": "orders-algo", "instType": "SWAP"},
            {"channel": "positions", "instType": "SWAP"}, {"channel": "account"})
TIMESTAMP_EXPIRED = "50102"
ORDER_MISSING = "51603"
PASSPHRASE_MISSING = ("okx-swap needs the API passphrase too (NEXUS_OKX_API_PASSPHRASE): OKX fails silently "
                      "without it (seed, Troubleshooting: \"make sure passphrase is also pasted — these exchanges "
                      "silently fail if it's missing\"). Nothing was sent")

STATES = {"live": State.ACCEPTED, "partially_filled": State.PARTIALLY_FILLED, "filled": State.FILLED,
          "canceled": State.CANCELLED, "mmp_canceled": State.CANCELLED}
ALGO_STATES = {"live": State.ACCEPTED, "pause": State.ACCEPTED, "canceled": State.CANCELLED,
               "order_failed": State.REJECTED}


def private_ws(url: str) -> str:
    url = url.rstrip("/")
    return url[: -len(PUBLIC_WS_PATH)] + PRIVATE_WS_PATH if url.endswith(PUBLIC_WS_PATH) else url


_second = [-1, ""]      # the last second formatted: strftime is most of a request's cost otherwise


def iso_ms(ms: int) -> str:
    """OKX's timestamp: ISO 8601 UTC with milliseconds, e.g. 2020-12-08T09:08:57.715Z."""
    sec, frac = divmod(ms, 1000)
    if sec != _second[0]:
        _second[:] = [sec, datetime.fromtimestamp(sec, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.")]
    return f"{_second[1]}{frac:03d}Z"


def contracts(inst: Instrument, base: Decimal | str) -> Decimal:
    """A base-coin quantity as contracts of `inst`; refused when not a whole lot multiple."""
    c = Decimal(base) / Decimal(inst.contract_value)
    if c % Decimal(inst.lot_size):
        raise OrderError(f"{base} {inst.base} is not a multiple of {inst.symbol}'s lot of {inst.lot_size} contracts "
                         f"x {inst.contract_value} {inst.base}")
    return c


def base_qty(inst: Instrument, n: Decimal | str) -> Decimal:
    return Decimal(n) * Decimal(inst.contract_value)


def _dec(text) -> Decimal | None:
    return Decimal(text) if text not in ("", None) else None


class LoginStream:
    """The private stream of OKX's kind (Bitget's API v2 follows it), a mixin for an HttpVenue
    whose signer has `_b64` (base64 HMAC-SHA256 with the secret), `api_key` and `_passphrase`:
    a `login` op signed over "{seconds}GET{VERIFY_PATH}", then a `subscribe` op for `CHANNELS`,
    each answered by events ("error" refuses with the venue's code); the text "ping" every
    `PING_S` seconds (answered "pong", skipped while waiting for the events)."""

    VERIFY_PATH = "/users/self/verify"
    CHANNELS: tuple = ()
    PING_S = 25.0

    def login_message(self) -> str:
        ts = str(self.now_ms() // 1000)
        sign = self.signer._b64(f"{ts}GET{self.VERIFY_PATH}".encode())
        return json.dumps({"op": "login", "args": [{"apiKey": self.signer.api_key,
                                                   "passphrase": self.signer._passphrase, "timestamp": ts,
                                                   "sign": sign}]})

    async def user_stream(self, on_update: Callable[[OrderUpdate], None], ready: asyncio.Event | None = None) -> None:
        async def handshake(ws) -> None:
            await ws.send_str(self.login_message())
            await self._expect(ws, "login", 1)
            await ws.send_str(json.dumps({"op": "subscribe", "args": list(self.CHANNELS)}))
            await self._expect(ws, "subscribe", len(self.CHANNELS))

        await self.private_stream(on_update, ready, handshake, "ping", self.PING_S)

    async def _expect(self, ws, event: str, n: int) -> None:
        deadline = time.monotonic() + 10
        while n:
            text = await asyncio.wait_for(ws.receive_str(), max(0.1, deadline - time.monotonic()))
            if text == "pong":
                continue
            doc = json.loads(text)
            if doc.get("event") == "error":
                raise VenueRejected(self.venue, doc.get("code", ""), str(doc.get("msg", "")))
            if doc.get("event") == event:
                n -= 1


class OkxAdapter(LoginStream, HttpVenue):
    venue = VENUE
    perpetual = True
    CHANNELS, PING_S = CHANNELS, PING_S  # LoginStream: its orders and algo orders
    UNKNOWN_ORDER = ("51603", "Order does not exist")

    def __init__(self, creds: Credentials, *, rest_url: str | None = None, ws_url: str | None = None,
                 testnet: bool = False, **kw) -> None:
        if testnet:
            raise OrderError("okx-swap: the demo-trading switch is not built; Binance has the seed's Testnet")
        if not creds.passphrase:
            raise KeysMissing(PASSPHRASE_MISSING)
        rest, ws = URLS[False]
        super().__init__(rest_url or rest, **kw)
        self.ws_url = private_ws(ws_url or ws)
        self.signer = OkxSigner(creds.api_key, creds.secret, creds.passphrase)
        creds.forget()
        key, sign, stamp, passphrase = OkxSigner.header_names      # order_bytes' fixed parts, rendered once
        self._order_head = f"Host: {self.host}\r\n{key}: {self.signer.api_key}\r\n{sign}: "
        self._order_stamp, self._order_pass = f"\r\n{stamp}: ", f"\r\n{passphrase}: "

    def __repr__(self) -> str:
        return f"<OkxAdapter {self.rest_url} {self.signer!r}>"

    # -- requests ---------------------------------------------------------------------------
    def order_body(self, req: OrderRequest) -> tuple[str, str]:
        """(path, compact JSON body) for `req`: a regular order, or a trigger algo for STOP."""
        side = "sell" if req.side is Side.SELL else "buy"
        ro = ',"reduceOnly":true' if req.reduce_only else ""
        t = req.type
        if t is OrderType.STOP:
            return "/api/v5/trade/order-algo", (
                f'{{"instId":"{req.symbol}","tdMode":"cross","side":"{side}","ordType":"trigger","sz":"{plain(req.qty)}",'
                f'"triggerPx":"{plain(req.stop_price)}","orderPx":"-1","triggerPxType":"last"{ro},'
                f'"algoClOrdId":"{req.client_id}"}}')
        if t is OrderType.LIMIT:
            return "/api/v5/trade/order", (
                f'{{"instId":"{req.symbol}","tdMode":"cross","side":"{side}","ordType":"limit","sz":"{plain(req.qty)}",'
                f'"px":"{plain(req.price)}"{ro},"clOrdId":"{req.client_id}"}}')
        return "/api/v5/trade/order", (
            f'{{"instId":"{req.symbol}","tdMode":"cross","side":"{side}","ordType":"market","sz":"{plain(req.qty)}"'
            f'{ro},"clOrdId":"{req.client_id}"}}')

    def headers(self, method: str, path: str, query: str, body: str) -> dict[str, str]:
        return self.signer.sign(method, path, query, body, iso_ms(self.now_ms())).headers

    def order_bytes(self, req: OrderRequest) -> bytes:
        """The complete signed HTTP/1.1 request for `req` (the same signature and headers as
        `headers()`: this millisecond's timestamp, a fresh HMAC, rendered straight into the
        request text; the host and key lines were rendered once)."""
        path, body = self.order_body(req)
        ts = iso_ms(self.now_ms())
        signer = self.signer
        sig = signer._b64(f"{ts}POST{path}{body}".encode())      # as OkxSigner.sign (no query)
        return (f"POST {path} HTTP/1.1\r\n{self._order_head}{sig}{self._order_stamp}{ts}"
                f"{self._order_pass}{signer._passphrase}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n{body}").encode()

    def auth_headers(self, method: str, path: str, query: str, body: str) -> dict[str, str]:
        return self.headers(method, path, query, body)

    async def _call(self, method: str, path: str, params: str = "", *, signed: bool = True,
                    missing_ok: bool = False) -> Any:
        r, doc = await self.request_json(method, path, params, signed)
        try:
            code, msg = str(doc["code"]), str(doc.get("msg", ""))
        except (KeyError, TypeError):
            raise VenueUnreachable(f"{self.venue}: {method} {path}: HTTP {r.status_code}, not OKX's envelope") from None
        if code == TIMESTAMP_EXPIRED:
            raise await self.drift_error(code, msg, "OKX accepts 30 s either way", self.resync)
        if code == ORDER_MISSING and missing_ok:
            return None
        if code != "0":
            item = (doc.get("data") or [{}])[0]
            if item.get("sCode") not in (None, "", "0"):       # an order-level failure: its own code
                code, msg = item["sCode"], item.get("sMsg", "")
            raise VenueRejected(self.venue, code, msg, r.status_code)
        return doc.get("data") or []

    # -- time, key --------------------------------------------------------------------------
    async def resync(self) -> None:
        await self.sync_time(lambda r: int(r.json()["data"][0]["ts"]), TIME_PATH)

    async def connect(self) -> None:
        await self.resync()

    async def key_info(self) -> dict:
        await self.resync()
        cfg = (await self._call("GET", "/api/v5/account/config"))[0]
        perms = [p for p in str(cfg.get("perm", "")).split(",") if p]
        info = {"venue": self.venue, "api_key": mask(self.signer.api_key), "time_offset_ms": self.offset_ms,
                "round_trip_ms": self.rtt_ms, "permissions": {p: True for p in perms},
                "position_mode": cfg.get("posMode")}
        if "withdraw" in perms:
            raise KeyRefused(f"{self.venue}: this API key can withdraw funds (perm: withdraw): refused. "
                             f"{WITHDRAWAL_ADVICE}.")
        return info

    # -- instruments ------------------------------------------------------------------------
    async def instrument(self, symbol: str) -> Instrument:
        try:
            rows = await self._call("GET", "/api/v5/public/instruments", f"instType=SWAP&instId={symbol}", signed=False)
        except VenueRejected as e:
            raise OrderError(f"unknown symbol {symbol!r} on {self.venue} ({e.code} {e.message})") from None
        s = next((x for x in rows if x.get("instId") == symbol), None)
        if s is None:
            raise OrderError(f"unknown symbol {symbol!r} on {self.venue}")
        self.max_leverage[symbol] = int(Decimal(s.get("lever") or 1))
        base, quote = (s.get("uly") or s.get("instFamily") or "-").split("-")[:2]
        return instrument(symbol, s["tickSz"], s["lotSz"], s["ctVal"], s.get("ctType") or "linear", base, quote)

    # -- orders -----------------------------------------------------------------------------
    async def place(self, req: OrderRequest) -> OrderUpdate:
        path, body = self.order_body(req)
        data = await self._call("POST", path, body)
        upd = await self.query(req.symbol, req.client_id)
        return upd or OrderUpdate(req.client_id, State.ACCEPTED, Decimal(0), data[0].get("ordId", ""), symbol=req.symbol)

    async def query(self, symbol: str, client_id: str) -> OrderUpdate | None:
        rows = await self._call("GET", "/api/v5/trade/order", f"instId={symbol}&clOrdId={client_id}", missing_ok=True)
        if rows:
            return self.update(rows[0])
        algo = await self._algo(client_id)
        if algo is None:
            return None
        if algo.get("state") == "effective" and algo.get("ordId"):
            rows = await self._call("GET", "/api/v5/trade/order", f"instId={symbol}&ordId={algo['ordId']}",
                                    missing_ok=True)
            if rows:
                return self.update(rows[0])
        return OrderUpdate(client_id, ALGO_STATES.get(algo.get("state"), State.ACCEPTED), Decimal(0),
                           algo.get("algoId", ""), venue_status=f"algo {algo.get('state')}", symbol=symbol)

    async def _algo(self, client_id: str) -> dict | None:
        rows = await self._call("GET", "/api/v5/trade/order-algo", f"algoClOrdId={client_id}", missing_ok=True)
        return rows[0] if rows else None

    async def cancel(self, symbol: str, client_id: str) -> OrderUpdate:
        algo = None
        if await self._call("GET", "/api/v5/trade/order", f"instId={symbol}&clOrdId={client_id}", missing_ok=True) is None:
            algo = await self._algo(client_id)
        if algo is not None:
            await self._call("POST", "/api/v5/trade/cancel-algos",
                             f'[{{"instId":"{symbol}","algoId":"{algo["algoId"]}"}}]')
        else:
            await self._call("POST", "/api/v5/trade/cancel-order", f'{{"instId":"{symbol}","clOrdId":"{client_id}"}}')
        upd = await self.query(symbol, client_id)
        if upd is None:
            raise VenueRejected(self.venue, *self.UNKNOWN_ORDER)
        return upd

    async def open_orders(self, symbol: str | None = None) -> list[OrderUpdate]:
        q = "instType=SWAP" + (f"&instId={symbol}" if symbol else "")
        return [self.update(o) for o in await self._call("GET", "/api/v5/trade/orders-pending", q)]

    async def set_leverage(self, symbol: str, leverage: int) -> int:
        await self.check_leverage(symbol, leverage)
        rows = await self._call("POST", "/api/v5/account/set-leverage",
                                f'{{"instId":"{symbol}","lever":"{leverage}","mgnMode":"cross"}}')
        return int(rows[0]["lever"])

    async def positions(self) -> list[VenuePosition]:
        out = []
        for p in await self._call("GET", "/api/v5/account/positions", "instType=SWAP"):
            n = Decimal(p["pos"])
            extra = {"markPrice": p.get("markPx"), "unit": "contracts", "realisedPnl": p.get("realizedPnl")}
            inst = await self.instrument(p["instId"])
            extra["base_qty"] = str(base_qty(inst, n))
            out.append(VenuePosition(self.venue, p["instId"], n, _dec(p.get("avgPx")), _dec(p.get("upl")),
                                     int(Decimal(p.get("lever") or 0)), extra))
        return out

    def update(self, o: dict) -> OrderUpdate:
        """An order object (query, pending list, `orders` channel) as an OrderUpdate. OKX's
        fee is signed (negative: charged); Fill.fee is what was charged."""
        cid = o.get("clOrdId") or o.get("algoClOrdId", "")
        state = o.get("state", "live")
        fills = ()
        if o.get("fillSz") not in (None, "", "0"):
            fills = (Fill(Decimal(o["fillSz"]), Decimal(o["fillPx"]), -Decimal(o.get("fillFee") or 0),
                          o.get("fillFeeCcy", ""), o.get("tradeId", "")),)
        return OrderUpdate(cid, STATES.get(state, State.ACCEPTED), Decimal(o.get("accFillSz") or 0), o.get("ordId", ""),
                           fills, None, _dec(o.get("avgPx")), state, o.get("instId", ""))

    def stream_updates(self, msg: dict) -> list[OrderUpdate]:
        ch = (msg.get("arg") or {}).get("channel")
        if ch == "orders":
            return [self.update(o) for o in msg.get("data", ())]
        if ch == "orders-algo":
            return [OrderUpdate(a["algoClOrdId"], ALGO_STATES.get(a.get("state"), State.ACCEPTED), Decimal(0),
                                a.get("algoId", ""), venue_status=f"algo {a.get('state')}", symbol=a.get("instId", ""))
                    for a in msg.get("data", ()) if a.get("algoClOrdId") and a.get("state") != "effective"]
        return []


def swap(creds: Credentials, **kw) -> OkxAdapter:
    return OkxAdapter(creds, **kw)
