"""Bitfinex v2 order entry on the exchange wallet (spot): the venue adapter of
nexus.exec.client.

Requests as Bitfinex documents them (docs.bitfinex.com, REST Authenticated: "Submit Order"
POST /v2/auth/w/order/submit, "Cancel Order" /v2/auth/w/order/cancel, "Retrieve Orders"
/v2/auth/r/orders[/{symbol}], "Orders History" /v2/auth/r/orders/{symbol}/hist, "Wallets"
/v2/auth/r/wallets, "Key Permissions" /v2/auth/r/permissions). Every authenticated call is a
POST with a JSON body, signed by nexus/venues/bitfinex/sign.py: headers bfx-nonce,
bfx-apikey, bfx-signature = hex HMAC-SHA384 of "/api/" + path + nonce + body. The nonce is
the local clock in microseconds, kept strictly increasing within the process (Bitfinex
refuses a nonce at or below the key's last one: 10114 "nonce: small"; that error becomes
`ClockDrift` naming the cause: another client using the same key with a larger nonce, or a
clock that went back). `order_bytes(req)` renders the complete HTTP/1.1 request (what
`nexus bench exec` times); `place` sends the same body.

Orders: MARKET is "EXCHANGE MARKET", LIMIT "EXCHANGE LIMIT", STOP "EXCHANGE STOP" (a stop
market on the exchange wallet, triggered by the last price); `amount` is negative for sells.
The client order id is Bitfinex's `cid`, an integer unique per UTC day (`cid_date`): a
numeric client id up to 2**45 - 1 is used as is, any other one is mapped to a 44-bit
integer (the first 11 hex digits of its SHA-256), so a retry or another process finds the
same order. Bitfinex keeps the integer only: an order listed by a process that did not place
it (`nexus order ls`) shows that integer as its client id (`status` / `cancel` with the
original client id find it). Reduce-only and leverage belong to margin trading: refused here before sending.

Prices: Bitfinex keeps five significant digits and silently truncates more ("API will
truncate price with precision > 5", docs "Price Precision"), so a price with more is refused
before sending, naming the tick at that price (TP/SL distances in ticks are in that tick too:
`tick_at`); amounts have at most 8 decimals and at least
the pair's minimum order size (/v2/conf/pub:info:pair).

Statuses: ACTIVE -> accepted, PARTIALLY FILLED @ .. -> partially filled, EXECUTED @ .. ->
filled, CANCELED (also "CANCELED was: PARTIALLY FILLED @ ..", INSUFFICIENT MARGIN .., RSN_*)
-> cancelled. Filled quantity = |AMOUNT_ORIG| - |AMOUNT|.

Server time: Bitfinex has no time endpoint. The offset is read from the HTTP `Date` header
of GET /v2/platform/status (one-second resolution, taken at the middle of its second); it is
reported by `keys check` and not needed for signing (Bitfinex checks no timestamp window).

Private stream: wss://api.bitfinex.com/ws/2, `{"event":"auth","apiKey","authSig",
"authNonce","authPayload":"AUTH"+nonce}` (authSig = hex HMAC-SHA384 of the payload), then
channel 0: "on"/"ou"/"oc" order arrays and "te" trades (fills); `{"event":"ping"}` every
PING_S.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Any, Callable
from urllib.parse import urlsplit

from nexus.exec.client import ClockDrift, Fill, KeyRefused, OrderUpdate, VenuePosition, VenueRejected, VenueUnreachable
from nexus.exec.http import WITHDRAWAL_ADVICE, HttpVenue
from nexus.exec.keys import Credentials
from nexus.exec.orders import OrderError, OrderRequest, OrderType, State
from nexus.exec.signing.base import mask
from nexus.instruments import Instrument
from nexus.venues.bitfinex.data import instrument, pair_parts
from nexus.venues.bitfinex.feed import symbol_of
from nexus.venues.bitfinex.sign import BitfinexSigner

VENUE = "bitfinex"
URLS = ("https://api.bitfinex.com", "wss://api.bitfinex.com/ws/2")
PUBLIC_HOSTS = {"api-pub.bitfinex.com": "api.bitfinex.com"}
STATUS_PATH = "/v2/platform/status"
SUBMIT_PATH = "/v2/auth/w/order/submit"
SIG_DIGITS = 5
CID_MAX = 2 ** 45 - 1
PING_S = 15.0
NONCE_SMALL = 10114
TYPES = {OrderType.MARKET: "EXCHANGE MARKET", OrderType.LIMIT: "EXCHANGE LIMIT", OrderType.STOP: "EXCHANGE STOP"}
NONCE_FIX = ("Bitfinex needs every request's nonce above the last one this key used: use this key from one "
             "client only (or give each client its own key), and keep the clock from going back")


def cid_of(client_id: str) -> int:
    """Bitfinex's integer cid for a client order id (deterministic: retries and other
    processes map the same id to the same cid)."""
    if client_id.isdigit() and 0 < int(client_id) <= CID_MAX:
        return int(client_id)
    return int(hashlib.sha256(client_id.encode()).hexdigest()[:11], 16) or 1


def state_of(status: str) -> State:
    if status.startswith("ACTIVE"):
        return State.ACCEPTED
    if status.startswith("EXECUTED"):
        return State.FILLED
    if status.startswith("PARTIALLY FILLED"):
        return State.PARTIALLY_FILLED
    return State.CANCELLED      # CANCELED, CANCELED was: .., INSUFFICIENT MARGIN .., RSN_DUST, RSN_PAUSE


def sig_tick(price: Decimal) -> Decimal:
    """The price step at `price` for five significant digits."""
    return Decimal(1).scaleb(price.adjusted() - SIG_DIGITS + 1)


def _dec(v: Any) -> Decimal:
    return Decimal(str(v)) if v is not None else Decimal(0)


class BitfinexAdapter(HttpVenue):
    venue = VENUE
    perpetual = False
    UNKNOWN_ORDER = (10001, "Order not found.")

    def __init__(self, creds: Credentials, *, rest_url: str | None = None, ws_url: str | None = None,
                 testnet: bool = False, **kw) -> None:
        if testnet:
            raise OrderError("bitfinex has no testnet: use paper trading sub-account keys, or --sim")
        super().__init__(rest_url or URLS[0], **kw)
        ws = ws_url or URLS[1]
        for pub, auth in PUBLIC_HOSTS.items():
            ws = ws.replace(pub, auth)
        self.ws_url = ws
        self.signer = BitfinexSigner(creds.api_key, creds.secret)
        creds.forget()
        self._nonce = 0
        self._names: dict[int, str] = {}        # cid -> the client id it came from
        self._cids: dict[str, int] = {}         # client id -> cid
        self.path_prefix = urlsplit(self.rest_url).path.rstrip("/")   # "" on Bitfinex; "/bitfinex" in the simulator
        self._submit_line = f"POST {self.path_prefix}{SUBMIT_PATH} HTTP/1.1\r\nHost: {self.host}\r\nbfx-nonce: "
        self._dates: dict[str, str] = {}        # client id -> cid_date of its placement
        self._cum: dict[int, Decimal] = {}      # venue order id -> filled so far ("te" sums)
        self._min_size: dict[str, Decimal] = {}

    def __repr__(self) -> str:
        return f"<BitfinexAdapter {self.rest_url} {self.signer!r}>"

    # -- requests ---------------------------------------------------------------------------
    def nonce(self) -> str:
        n = max(self.clock_ms() * 1000, self._nonce + 1)
        self._nonce = n
        return str(n)

    def cid(self, client_id: str) -> int:
        c = self._cids.get(client_id)
        if c is None:
            c = self._cids[client_id] = cid_of(client_id)
            self._names[c] = client_id
        return c

    def order_body(self, req: OrderRequest) -> str:
        """The order as Bitfinex's JSON body, compact, keys in a fixed order (what is signed)."""
        if req.reduce_only:
            raise OrderError("bitfinex exchange orders are spot: reduce-only applies to margin positions only")
        amount = f"{'-' if req.side.value == 'sell' else ''}{req.qty:f}"
        b = f'{{"type":"{TYPES[req.type]}","symbol":"{req.symbol}","amount":"{amount}"'
        if req.type is OrderType.LIMIT:
            b += f',"price":"{req.price:f}"'
        elif req.type is OrderType.STOP:
            b += f',"price":"{req.stop_price:f}"'
        return b + f',"cid":{self.cid(req.client_id)}}}'

    def auth_headers(self, method: str, path: str, query: str, body: str) -> dict[str, str]:
        return self.signer.sign("POST", path, "", body, "", nonce=self.nonce()).headers

    def order_bytes(self, req: OrderRequest) -> bytes:
        """The complete signed HTTP/1.1 request for `req`, ready to write to the socket."""
        body = self.order_body(req)
        nonce = self.nonce()
        sig = self.signer._hex(f"/api{SUBMIT_PATH}{nonce}{body}".encode())   # as BitfinexSigner.sign
        return (f"{self._submit_line}{nonce}\r\nbfx-apikey: {self.signer.api_key}\r\nbfx-signature: {sig}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n{body}").encode()

    async def _call(self, path: str, body: dict | str | None = None, *, signed: bool = True) -> Any:
        text = body if isinstance(body, str) else json.dumps(body or {}, separators=(",", ":"))
        if signed:
            r, doc = await self.request_json("POST", path, text, True)
        else:
            r, doc = await self.request_json("GET", path, "", False)
        if isinstance(doc, list) and len(doc) >= 3 and doc[0] == "error":
            code, msg = doc[1], str(doc[2])
            if code == NONCE_SMALL:
                raise ClockDrift(self.venue, code, f"{msg}: {NONCE_FIX}. Nothing was placed.")
            raise VenueRejected(self.venue, code, msg, r.status_code)
        if r.status_code >= 400:
            raise VenueRejected(self.venue, r.status_code, str(doc)[:200], r.status_code)
        return doc

    async def request_json(self, method: str, path: str, params: str, signed: bool):
        if not signed:
            return await super().request_json(method, path, params, signed)
        # Bitfinex's authenticated calls are POSTs with the JSON body signed; the path signed is
        # Bitfinex's apiPath ("/api" + path: a URL prefix such as the simulator's is not signed).
        headers = self.auth_headers("POST", path, "", params)
        headers["Content-Type"] = "application/json"
        r = await self.send("POST", path, body=params, headers=headers)
        if r.status_code >= 500:
            try:
                doc = r.json()
            except ValueError:
                doc = None
            if isinstance(doc, list) and doc[:1] == ["error"]:
                return r, doc                  # Bitfinex answers its errors with HTTP 500
            raise VenueUnreachable(f"{self.venue}: POST {path}: HTTP {r.status_code}")
        try:
            return r, r.json()
        except ValueError:
            raise VenueUnreachable(f"{self.venue}: POST {path}: HTTP {r.status_code}, not JSON") from None

    # -- time, key --------------------------------------------------------------------------
    async def resync(self) -> None:
        def server_ms(r) -> int:
            return int(parsedate_to_datetime(r.headers["date"]).timestamp() * 1000) + 500
        await self.sync_time(server_ms, STATUS_PATH)

    async def connect(self) -> None:
        await self.resync()

    async def key_info(self) -> dict:
        await self.resync()
        rows = await self._call("/v2/auth/r/permissions")
        perms = {f"{scope}.{kind}": bool(v) for scope, read, write in rows
                 for kind, v in (("read", read), ("write", write))}
        info = {"venue": self.venue, "api_key": mask(self.signer.api_key), "time_offset_ms": self.offset_ms,
                "round_trip_ms": self.rtt_ms, "time_source": "Date header of /v2/platform/status (1 s resolution)",
                "permissions": perms}
        if perms.get("withdraw.write"):
            raise KeyRefused(f"{self.venue}: this API key can withdraw funds (withdraw: write): refused. "
                             f"{WITHDRAWAL_ADVICE}.")
        return info

    # -- instruments ------------------------------------------------------------------------
    async def instrument(self, symbol: str) -> Instrument:
        sym = symbol_of(symbol)
        doc = await self._call("/v2/conf/pub:info:pair", signed=False)
        row = next((x for x in (doc[0] if doc else ()) if isinstance(x, list) and "t" + str(x[0]) == sym), None)
        if row is None:
            raise OrderError(f"unknown symbol {symbol!r} on {self.venue}")
        info = row[1] if len(row) > 1 and isinstance(row[1], list) else []
        if len(info) > 3 and info[3] is not None:
            self._min_size[sym] = Decimal(str(info[3]))
        base, quote = pair_parts(sym[1:])
        return instrument(sym, base, quote)

    @staticmethod
    def tick_at(price: Decimal) -> Decimal:
        """The tick at `price` (five significant digits): what TP/SL distances in ticks scale by."""
        return sig_tick(price)

    def check_request(self, req: OrderRequest) -> None:
        """What Bitfinex would truncate or refuse, refused before sending."""
        for p, what in ((req.price, "price"), (req.stop_price, "stop price")):
            if p is not None and len(p.normalize().as_tuple().digits) > SIG_DIGITS:
                raise OrderError(f"{what} {p} has more than {SIG_DIGITS} significant digits: Bitfinex would "
                                 f"truncate it; at this price the tick is {sig_tick(p):f}")
        least = self._min_size.get(req.symbol)
        if least is not None and req.qty < least:
            raise OrderError(f"quantity {req.qty} is below {self.venue}'s minimum order size {least} for {req.symbol}")

    # -- orders -----------------------------------------------------------------------------
    async def place(self, req: OrderRequest) -> OrderUpdate:
        self.check_request(req)
        body = self.order_body(req)
        self._dates[req.client_id] = datetime.fromtimestamp(self.now_ms() / 1000, timezone.utc).strftime("%Y-%m-%d")
        doc = await self._call(SUBMIT_PATH, body)
        rows = self._notification(doc)
        o = rows[0] if rows and isinstance(rows[0], list) else None
        if o is None:
            return OrderUpdate(req.client_id, State.ACCEPTED, Decimal(0), symbol=req.symbol)
        return self.update(o)

    def _notification(self, doc: Any) -> Any:
        """A notification [MTS, TYPE, MSG_ID, null, DATA, CODE, STATUS, TEXT]: DATA, or the refusal."""
        if not isinstance(doc, list) or len(doc) < 8:
            raise VenueUnreachable(f"{self.venue}: not a notification: {str(doc)[:120]}")
        if doc[6] != "SUCCESS":
            raise VenueRejected(self.venue, doc[5] if doc[5] is not None else doc[6], str(doc[7]))
        return doc[4]

    def _dates_for(self, client_id: str) -> list[str]:
        if client_id in self._dates:
            return [self._dates[client_id]]
        today = datetime.fromtimestamp(self.now_ms() / 1000, timezone.utc)
        return [d.strftime("%Y-%m-%d") for d in (today, today - timedelta(days=1))]

    async def query(self, symbol: str, client_id: str) -> OrderUpdate | None:
        sym, cid = symbol_of(symbol), self.cid(client_id)
        dates = self._dates_for(client_id)

        def mine(o: list) -> bool:
            day = datetime.fromtimestamp(o[4] / 1000, timezone.utc).strftime("%Y-%m-%d")
            return o[2] == cid and day in dates

        for path, body in ((f"/v2/auth/r/orders/{sym}", {}), (f"/v2/auth/r/orders/{sym}/hist", {"limit": 2500})):
            found = [o for o in await self._call(path, body) if mine(o)]
            if found:
                return self.update(max(found, key=lambda o: o[4]))
        return None

    async def cancel(self, symbol: str, client_id: str) -> OrderUpdate:
        cid = self.cid(client_id)
        doc = await self._call("/v2/auth/w/order/cancel", {"cid": cid, "cid_date": self._dates_for(client_id)[0]})
        self._notification(doc)
        upd = await self.query(symbol, client_id)
        if upd is None:
            raise VenueRejected(self.venue, *self.UNKNOWN_ORDER)
        return upd

    async def open_orders(self, symbol: str | None = None) -> list[OrderUpdate]:
        path = f"/v2/auth/r/orders/{symbol_of(symbol)}" if symbol else "/v2/auth/r/orders"
        return [self.update(o) for o in await self._call(path)]

    async def set_leverage(self, symbol: str, leverage: int) -> int:
        raise OrderError("bitfinex exchange orders are spot: leverage applies to margin positions only")

    async def positions(self) -> list[VenuePosition]:
        out = []
        for w in await self._call("/v2/auth/r/wallets"):
            if w[0] == "exchange":
                out.append(VenuePosition(self.venue, w[1], _dec(w[2]), extra={
                    "wallet": "exchange", "available": str(_dec(w[4])) if w[4] is not None else None}))
        return out

    def update(self, o: list) -> OrderUpdate:
        """An order array (REST, notification or channel 0) as an OrderUpdate."""
        orig, left = abs(_dec(o[7])), abs(_dec(o[6]))
        filled = orig - left
        avg = _dec(o[17]) if o[17] else None
        status = str(o[13])
        st = state_of(status)
        if st is State.CANCELLED and filled == orig and filled:
            st = State.FILLED
        return OrderUpdate(self._names.get(o[2], str(o[2])), st, filled, str(o[0]), (),
                           avg * filled if avg is not None else None, avg, status, o[3])

    def trade(self, t: list) -> OrderUpdate | None:
        """A "te" array: one fill, with the order's filled quantity after it."""
        oid = t[3]
        qty = abs(_dec(t[4]))
        cum = self._cum[oid] = self._cum.get(oid, Decimal(0)) + qty
        cid = t[11] if len(t) > 11 else None
        if cid is None:
            return None
        fill = Fill(qty, _dec(t[5]), trade_id=str(t[0]))
        return OrderUpdate(self._names.get(cid, str(cid)), State.PARTIALLY_FILLED, cum, str(oid), (fill,),
                           symbol=t[1])

    def stream_updates(self, msg: Any) -> list[OrderUpdate]:
        if not isinstance(msg, list) or len(msg) < 3 or msg[0] != 0:
            return []
        kind, data = msg[1], msg[2]
        if kind in ("on", "ou", "oc"):
            return [self.update(data)]
        if kind == "os":
            return [self.update(o) for o in data]
        if kind == "te":
            u = self.trade(data)
            return [u] if u is not None else []
        return []

    # -- private stream ---------------------------------------------------------------------
    def auth_message(self) -> str:
        nonce = self.nonce()
        payload = f"AUTH{nonce}"
        return json.dumps({"event": "auth", "apiKey": self.signer.api_key, "authSig": self.signer._hex(payload.encode()),
                           "authNonce": nonce, "authPayload": payload}, separators=(",", ":"))

    async def user_stream(self, on_update: Callable[[OrderUpdate], None], ready: asyncio.Event | None = None) -> None:
        async def handshake(ws) -> None:
            await ws.send_str(self.auth_message())
            while True:
                doc = json.loads(await asyncio.wait_for(ws.receive_str(), 10))
                if isinstance(doc, dict) and doc.get("event") == "auth":
                    if doc.get("status") != "OK":
                        code = doc.get("code", "auth")
                        if code == NONCE_SMALL:
                            raise ClockDrift(self.venue, code, f"{doc.get('msg', '')}: {NONCE_FIX}")
                        raise VenueRejected(self.venue, code, str(doc.get("msg", "")))
                    return

        await self.private_stream(on_update, ready, handshake, '{"event":"ping","cid":1}', PING_S)


def spot(creds: Credentials, **kw) -> BitfinexAdapter:
    return BitfinexAdapter(creds, **kw)
