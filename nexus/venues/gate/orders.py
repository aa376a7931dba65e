"""Gate API v4 order entry, spot and USDT-settled futures: the venue adapter of
nexus.exec.client. One venue id serves both, as for market data: `BTCUSDT` (or BTC_USDT) is
the spot pair, `BTCUSDT:USDT` the USDT-settled contract BTC_USDT (sizes in contracts).

Requests as Gate documents them (https://www.gate.io/docs/developers/apiv4/en/; models in the
official SDK's docs, github.com/gateio/gateapi-python docs/Order.md, FuturesOrder.md,
Position.md, SpotAccount.md, AccountDetail.md), signed by nexus/venues/gate/sign.py
(HMAC-SHA512 hex of METHOD, /api/v4 path, query, SHA-512 of the body and the timestamp in
seconds; headers KEY, Timestamp, SIGN). Errors are an HTTP 4xx with `{"label", "message"}`:
the label is the VenueRejected code.

- Spot: "Create an order" POST /spot/orders, "Query single order details" / "Cancel single
  order" /spot/orders/{order_id}?currency_pair=, "List orders" /spot/orders?currency_pair=
  &status=open|finished, "List all open orders" /spot/open_orders, "List spot trading
  accounts" /spot/accounts.
- Futures: "Create a futures order" POST /futures/usdt/orders ({"contract", "size" signed
  contracts, "price" ("0" with tif ioc: market), "tif", "text", "reduce_only"}), "Get a
  single order" / "Cancel a single order" /futures/usdt/orders/{order_id}, "List futures
  orders" ?contract&status, "List all positions of a user" /futures/usdt/positions, "Update
  position leverage" POST /futures/usdt/positions/{contract}/leverage?leverage=N (refused
  before sending above the contract's `leverage_max`, read from its listing).
- Time: "Get server current time" GET /spot/time {"server_time": ms}; "Account" GET
  /account/detail (user id, key mode, IP whitelist).

The client order id travels as the order's `text`, "t-" + id (at most 28 characters after
"t-": longer ids are refused before sending). Gate finds an order by its text only while it
is open (spot; futures: and for 60 s after it ended), so `query` asks by the Gate order id
when this session knows it, else by text, else looks the text up in the finished orders: a
retry after a timeout never sends a filled order again.

Order types: LIMIT is a GTC limit. Spot MARKET sell is `market` IOC with the base amount. A
Gate spot market BUY takes its `amount` in the QUOTE currency, so a base quantity cannot be
bought at market exactly: Nexus sends it as an IOC `limit` at a price cap (the ask that covers
the quantity in the pair's current book, plus MARKET_BUY_BAND, rounded up to the tick), which
takes at most the quantity asked and never pays beyond the cap. Futures MARKET is price "0",
tif ioc. STOP is one of Gate's price-triggered orders, an entry's stop-loss (--sl-ticks) too:
nexus/venues/gate/stops.py (their lost answers, and following what they put once fired).

States: spot finish_as `open` -> accepted / partially filled, `filled` -> filled,
`cancelled` -> cancelled, `ioc` / `fok` / `depth_not_enough` / `trader_not_enough` / `small`
/ `poc` / `stp` -> expired (ended by the venue with what was filled); futures status `open`,
then finish_as `filled` / `cancelled` / the venue's endings (ioc, reduce_only, liquidated ...
-> expired).

Time: Gate refuses a Timestamp more than 60 s off its clock (REQUEST_EXPIRED): that becomes
`ClockDrift` naming the drift. Gate reports no permissions of a key (account/detail names the
user, the key mode and the IP whitelist), so `key_info` cannot see withdrawal rights: it says
so with the seed's advice.

Private streams: the spot WebSocket wss://api.gateio.ws/ws/v4/ (spot.orders,
spot.usertrades, payload ["!all"]) and the futures one wss://fx-ws.gateio.ws/v4/ws/usdt
(futures.orders, futures.usertrades, payload [user id, "!all"]), both at once
(https://www.gate.io/docs/developers/apiv4/ws/en/, .../futures/ws/en/): each subscribe
request carries `"auth": {"method": "api_key", "KEY", "SIGN"}` with SIGN = HMAC-SHA512 hex
of "channel=<channel>&event=subscribe&time=<time>". Order updates (cumulative `left`,
`filled_total`) become OrderUpdates carrying the user trades that came before them (their
fees); `spot.ping` / `futures.ping` every PING_S.
"""

from __future__ import annotations

import asyncio
import json
from hashlib import sha512
from decimal import ROUND_CEILING, Decimal
from typing import Any, Callable
from urllib.parse import urlsplit

from nexus.exec.client import Fill, OrderUpdate, VenuePosition, VenueRejected, VenueUnreachable
from nexus.exec.http import WITHDRAWAL_ADVICE, HttpVenue
from nexus.exec.keys import Credentials
from nexus.exec.orders import OrderError, OrderRequest, OrderType, State
from nexus.exec.signing.base import mask
from nexus.instruments import Instrument
from nexus.venues.gate.data import FUTURES_SUFFIX, futures_instrument, spot_instrument
from nexus.venues.gate.feed import futures_url
from nexus.venues.gate.markets import API, FUTURES, TEXT_PREFIX, _dec, _plain, client_text, contract_of, is_futures, \
    pair_of
from nexus.venues.gate.stops import GateStops
from nexus.venues.gate.sign import GateSigner

VENUE = "gate"
TIME_PATH = f"{API}/spot/time"
URLS = ("https://api.gateio.ws", "wss://api.gateio.ws/ws/v4/")
PING_S = 20.0
MARKET_BUY_BAND = Decimal("0.01")   # a market buy's price cap: 1 % beyond the covering ask
BOOK_DEPTH = 100
WINDOW = "Gate accepts a Timestamp within 60 s of its clock"
EXPIRED = frozenset({"ioc", "fok", "depth_not_enough", "trader_not_enough", "small", "poc", "stp", "unknown"})
PRIVATE_CHANNELS = ("spot.orders", "spot.usertrades")
ORDER_PATHS = {False: f"{API}/spot/orders", True: f"{API}{FUTURES}/orders"}    # by is_futures
ORDER_SIGN_HEADS = {f: f"POST\n{p}\n\n".encode() for f, p in ORDER_PATHS.items()}   # method, path, no query
STOP_NOT_HERE = "gate: a stop is a price-triggered order (stop_body), not an order body"
FUTURES_WS_URL = "wss://fx-ws.gateio.ws/v4/ws/usdt"
FUTURES_CHANNELS = ("futures.orders", "futures.usertrades")
FUTURES_EXPIRED = frozenset({"ioc", "liquidated", "auto_deleveraged", "reduce_only", "position_closed",
                             "reduce_out", "stp"})


def state_of(o: dict) -> State:
    finish, status = o.get("finish_as", ""), o.get("status", "open")
    filled = _filled(o)
    if finish == "filled" or (status == "closed" and not finish):
        return State.FILLED
    if status == "open" or finish == "open":
        return State.PARTIALLY_FILLED if filled else State.ACCEPTED
    if finish in EXPIRED:
        return State.EXPIRED
    return State.CANCELLED


def futures_state_of(o: dict) -> State:
    size, left = abs(int(o.get("size") or 0)), abs(int(o.get("left") or 0))
    if o.get("status", "open") == "open":
        return State.PARTIALLY_FILLED if size - left else State.ACCEPTED
    finish = o.get("finish_as", "")
    if finish == "filled":
        return State.FILLED
    if finish in FUTURES_EXPIRED:
        return State.EXPIRED
    return State.CANCELLED


def _filled(o: dict) -> Decimal:
    """The base quantity filled: `filled_amount`, else amount - left (a limit or a market sell;
    a market buy's amount is quote: its filled base is filled_total / avg_deal_price)."""
    if o.get("filled_amount") not in (None, ""):
        return Decimal(o["filled_amount"])
    if o.get("type") == "market" and o.get("side") == "buy":
        total, avg = _dec(o.get("filled_total")) or Decimal(0), _dec(o.get("avg_deal_price"))
        return total / avg if avg else Decimal(0)
    return Decimal(o.get("amount") or 0) - Decimal(o.get("left") or 0)


class GateAdapter(GateStops, HttpVenue):
    venue = VENUE
    perpetual = False
    UNKNOWN_ORDER = ("ORDER_NOT_FOUND", "Order not found")

    def __init__(self, creds: Credentials, *, rest_url: str | None = None, ws_url: str | None = None,
                 testnet: bool = False, **kw) -> None:
        if testnet:
            raise OrderError("gate: Gate's testnet serves futures only; spot orders have none: use --sim")
        super().__init__(rest_url or URLS[0], **kw)
        self.ws_url = ws_url or URLS[1]
        self.base_path = urlsplit(self.rest_url).path      # the simulator's /gate prefix
        self.futures_ws_url = futures_url(self.ws_url)     # the futures WebSocket (or the simulator's path)
        self.signer = GateSigner(creds.api_key, creds.secret)
        creds.forget()
        self.order_ids: dict[str, str] = {}           # client id -> Gate order id
        self.ticks: dict[str, str] = {}
        self.trades: dict[str, list[Fill]] = {}       # Gate order id -> its trades not yet counted
        # stops (price-triggered orders, module docstring): client id -> (price order id, futures)
        self.stops: dict[str, tuple[str, bool]] = {}
        self.stop_cids: dict[str, str] = {}           # price order id -> client id (claimed)
        self.stop_sent: dict[str, tuple[OrderRequest, int]] = {}   # sent, no answer yet: (request, server ms)
        self.stops_ended: set[str] = set()            # client ids of stops that ended without firing
        self.fired: dict[str, str] = {}               # Gate order id a stop put -> the stop's client id
        self.orphans: dict[str, list[tuple[bool, dict, tuple[Fill, ...]]]] = {}   # pushed, maybe a fired stop's
        self._on_update: Callable[[OrderUpdate], None] | None = None
        self._resolver: asyncio.Task | None = None
        # order_bytes: what does not change between orders, rendered once
        self._request_heads = {f: (f"POST {self.base_path}{ORDER_PATHS[f]} HTTP/1.1\r\nHost: {self.host}\r\n"
                                   f"KEY: {self.signer.api_key}\r\nTimestamp: ").encode() for f in (False, True)}
        self._contract_heads: dict[str, str] = {}
        self._ts_sec, self._ts_bytes = -1, b""

    def __repr__(self) -> str:
        return f"<GateAdapter {self.rest_url} {self.signer!r}>"

    # -- requests ---------------------------------------------------------------------------
    def check_request(self, req: OrderRequest) -> None:
        """Gate's rules beyond the grid, refused before the order is tracked or sent (the
        Executor's optional hook): the text's length; reduce-only on futures only; whole
        contracts."""
        client_text(req.client_id)
        futures = is_futures(req.symbol)
        if req.reduce_only and not futures:
            raise OrderError("gate spot: reduce-only applies to perpetuals only")
        if futures and req.qty != req.qty.to_integral_value():
            raise OrderError(f"gate futures: size {req.qty} is not a whole number of contracts: not sent")

    def order_body(self, req: OrderRequest, cap: Decimal | None = None) -> str:
        """The order as Gate's JSON body, compact, keys in a fixed order (what is signed). A
        market buy needs its price `cap` (see the module docstring)."""
        if is_futures(req.symbol):
            return self.futures_body(req)
        if req.reduce_only:
            raise OrderError("gate spot: reduce-only applies to perpetuals only")
        pair, side, t, qty = pair_of(req.symbol), req.side.value, req.type, _plain(req.qty)
        head = f'{{"text":"{client_text(req.client_id)}","currency_pair":"{pair}",'
        if t is OrderType.LIMIT:
            return head + (f'"type":"limit","account":"spot","side":"{side}","amount":"{qty}",'
                           f'"price":"{_plain(req.price)}","time_in_force":"gtc"}}')
        if t is OrderType.STOP:
            raise OrderError(STOP_NOT_HERE)
        if side == "sell":
            return head + f'"type":"market","account":"spot","side":"sell","amount":"{qty}","time_in_force":"ioc"}}'
        if cap is None:
            raise OrderError("gate: a market buy is sent as an IOC limit at a price cap; none was given")
        return head + (f'"type":"limit","account":"spot","side":"buy","amount":"{qty}",'
                       f'"price":"{_plain(cap)}","time_in_force":"ioc"}}')

    def futures_body(self, req: OrderRequest) -> str:
        """A futures order (FuturesOrder): `size` whole contracts, positive to buy, negative to
        sell; a market order is price "0" with tif ioc."""
        n = int(req.qty)
        if n != req.qty:
            raise OrderError(f"gate futures: size {req.qty} is not a whole number of contracts: not sent")
        if req.type is OrderType.STOP:
            raise OrderError(STOP_NOT_HERE)
        head = self._contract_heads.get(req.symbol)
        if head is None:
            head = self._contract_heads[req.symbol] = f'{{"contract":"{contract_of(req.symbol)}","size":'
        price, tif = ("0", "ioc") if req.type is OrderType.MARKET else (_plain(req.price), "gtc")
        return (f'{head}{n if req.side.value == "buy" else -n},"price":"{price}","tif":"{tif}",'
                f'"text":"{client_text(req.client_id)}"' + (',"reduce_only":true}' if req.reduce_only else "}"))

    def headers(self, method: str, path: str, query: str, body: str) -> dict[str, str]:
        return self.signer.sign(method, path, query, body, str(self.now_ms() // 1000)).headers

    auth_headers = headers

    def order_bytes(self, req: OrderRequest, cap: Decimal | None = None) -> bytes:
        """The complete signed HTTP/1.1 request for `req`, ready to write to the socket."""
        body = self.order_body(req, cap).encode()
        futures = is_futures(req.symbol)
        sec = self.now_ms() // 1000
        if sec != self._ts_sec:                         # the timestamp's bytes, once a second
            self._ts_sec, self._ts_bytes = sec, str(sec).encode()
        ts = self._ts_bytes
        sig = self.signer._hex(b"".join((ORDER_SIGN_HEADS[futures], sha512(body).hexdigest().encode(), b"\n", ts)))
        return b"".join((self._request_heads[futures], ts, b"\r\nSIGN: ", sig.encode(),
                         b"\r\nContent-Type: application/json\r\nContent-Length: ", str(len(body)).encode(),
                         b"\r\n\r\n", body))

    async def _call(self, method: str, path: str, query: str = "", body: str = "", *, signed: bool = True,
                    missing_ok: bool = False) -> Any:
        """A request to `API + path`; Gate's error body raised as VenueRejected (label, message),
        REQUEST_EXPIRED as ClockDrift; `missing_ok`: ORDER_NOT_FOUND answers None."""
        if signed and self.stale():
            await self.resync()
        full = API + path
        headers = self.headers(method, full, query, body) if signed else {}
        if body:
            headers["Content-Type"] = "application/json"
        r = await self.send(method, full, query=query, body=body, headers=headers)
        if r.status_code >= 500:
            raise VenueUnreachable(f"{self.venue}: {method} {full}: HTTP {r.status_code}")
        try:
            doc = r.json()
        except ValueError:
            raise VenueUnreachable(f"{self.venue}: {method} {full}: HTTP {r.status_code}, not JSON") from None
        if r.status_code < 300:
            return doc
        err = doc if isinstance(doc, dict) else {}
        label, msg = str(err.get("label", r.status_code)), str(err.get("message", err.get("detail", "")))
        if label == "REQUEST_EXPIRED":
            raise await self.drift_error(label, msg, WINDOW, self.resync)
        if label == "ORDER_NOT_FOUND" and missing_ok:
            return None
        raise VenueRejected(self.venue, label, msg, r.status_code)

    # -- time, key --------------------------------------------------------------------------
    async def resync(self) -> None:
        await self.sync_time(lambda r: int(r.json()["server_time"]), TIME_PATH)

    async def connect(self) -> None:
        await self.resync()

    async def key_info(self) -> dict:
        await self.resync()
        d = await self._call("GET", "/account/detail")
        return {"venue": self.venue, "api_key": mask(self.signer.api_key), "time_offset_ms": self.offset_ms,
                "round_trip_ms": self.rtt_ms, "user_id": d.get("user_id"), "key_mode": (d.get("key") or {}).get("mode"),
                "ip_whitelist": d.get("ip_whitelist") or [],
                "permissions": {}, "note": "Gate's API reports no permissions of a key: check its settings "
                                           f"yourself. {WITHDRAWAL_ADVICE}."}

    # -- instruments ------------------------------------------------------------------------
    async def instrument(self, symbol: str) -> Instrument:
        if is_futures(symbol):
            return await self.futures_instrument(symbol)
        pair = pair_of(symbol)
        r = await self.send("GET", f"{API}/spot/currency_pairs/{pair}")
        if r.status_code in (400, 404):
            raise OrderError(f"unknown symbol {symbol!r} on {self.venue}")
        if r.status_code != 200:
            raise VenueUnreachable(f"{self.venue}: currency pair {pair}: HTTP {r.status_code}")
        p = r.json()
        inst = spot_instrument(p["id"], p["precision"], p["amount_precision"], p.get("base", ""), p.get("quote", ""))
        self.ticks[pair] = inst.tick_size
        return inst

    async def futures_instrument(self, symbol: str) -> Instrument:
        c = contract_of(symbol)
        r = await self.send("GET", f"{API}{FUTURES}/contracts/{c}")
        if r.status_code in (400, 404):
            raise OrderError(f"unknown symbol {symbol!r} on {self.venue} (USDT futures)")
        if r.status_code != 200:
            raise VenueUnreachable(f"{self.venue}: contract {c}: HTTP {r.status_code}")
        k = r.json()
        inst = futures_instrument(k["name"], k["order_price_round"], k["quanto_multiplier"])
        self.max_leverage[symbol] = self.max_leverage[inst.symbol] = int(Decimal(k["leverage_max"]))
        return inst

    async def market_buy_cap(self, pair: str, qty: Decimal) -> Decimal:
        """The price cap of a market buy of `qty`: the ask that covers it in the current book
        (the last one when the book holds less) plus MARKET_BUY_BAND, up to the tick."""
        r = await self.send("GET", f"{API}/spot/order_book", query=f"currency_pair={pair}&limit={BOOK_DEPTH}")
        if r.status_code != 200:
            raise VenueUnreachable(f"{self.venue}: order book {pair}: HTTP {r.status_code}")
        asks = r.json().get("asks") or []
        if not asks:
            raise OrderError(f"gate: {pair} has no asks: a market buy has no price to cap at: not sent")
        left, worst = qty, Decimal(asks[-1][0])
        for p, q in asks:
            left -= Decimal(q)
            if left <= 0:
                worst = Decimal(p)
                break
        tick = Decimal(self.ticks.get(pair) or (await self.instrument(pair)).tick_size)
        return (worst * (1 + MARKET_BUY_BAND) / tick).to_integral_value(ROUND_CEILING) * tick

    # -- orders -----------------------------------------------------------------------------
    async def place(self, req: OrderRequest) -> OrderUpdate:
        if req.type is OrderType.STOP:
            return await self.place_stop(req)
        if is_futures(req.symbol):
            o = await self._call("POST", f"{FUTURES}/orders", body=self.futures_body(req))
            self.order_ids[req.client_id] = str(o.get("id", ""))
            return self.futures_update(o)
        cap = None
        if req.type is OrderType.MARKET and req.side.value == "buy":
            cap = await self.market_buy_cap(pair_of(req.symbol), req.qty)
        o = await self._call("POST", "/spot/orders", body=self.order_body(req, cap))
        self.order_ids[req.client_id] = str(o.get("id", ""))
        return self.update(o)

    async def _get(self, pair: str, order_id: str) -> OrderUpdate | None:
        o = await self._call("GET", f"/spot/orders/{order_id}", f"currency_pair={pair}", missing_ok=True)
        return self.update(o) if o else None

    async def _futures_get(self, order_id: str) -> OrderUpdate | None:
        o = await self._call("GET", f"{FUTURES}/orders/{order_id}", missing_ok=True)
        return self.futures_update(o) if o else None

    async def futures_query(self, symbol: str, client_id: str) -> OrderUpdate | None:
        oid = self.order_ids.get(client_id)
        if oid:
            return await self._futures_get(oid)
        upd = await self._futures_get(client_text(client_id))   # open, or ended in the last 60 s
        if upd is not None:
            return upd
        text = client_text(client_id)
        for o in await self._call("GET", f"{FUTURES}/orders",
                                  f"contract={contract_of(symbol)}&status=finished&limit=100"):
            if o.get("text") == text:
                return self.futures_update(o)
        return None

    async def query(self, symbol: str, client_id: str) -> OrderUpdate | None:
        if client_id in self.stops or client_id in self.stop_sent:
            return await self.stop_query(client_id)
        if is_futures(symbol):
            return await self.futures_query(symbol, client_id)
        pair = pair_of(symbol)
        oid = self.order_ids.get(client_id)
        if oid:
            return await self._get(pair, oid)
        upd = await self._get(pair, client_text(client_id))      # an open order, by its text
        if upd is not None:
            return upd
        text = client_text(client_id)                              # finished: by the pair's history
        for o in await self._call("GET", "/spot/orders", f"currency_pair={pair}&status=finished&limit=100"):
            if o.get("text") == text:
                return self.update(o)
        return None

    async def cancel(self, symbol: str, client_id: str) -> OrderUpdate:
        if client_id in self.stops or client_id in self.stop_sent:
            return await self.stop_cancel(client_id)
        oid = self.order_ids.get(client_id)
        if not oid:
            upd = await self.query(symbol, client_id)
            if upd is None:
                raise VenueRejected(self.venue, *self.UNKNOWN_ORDER, 404)
            oid = upd.venue_order_id
        if is_futures(symbol):
            return self.futures_update(await self._call("DELETE", f"{FUTURES}/orders/{oid}"))
        pair = pair_of(symbol)
        return self.update(await self._call("DELETE", f"/spot/orders/{oid}", f"currency_pair={pair}"))

    async def open_orders(self, symbol: str | None = None) -> list[OrderUpdate]:
        """The open orders and the open (not yet triggered) price orders."""
        return await self._open_plain(symbol) + await self.open_stops(symbol)

    async def _open_plain(self, symbol: str | None = None) -> list[OrderUpdate]:
        if symbol and is_futures(symbol):
            return [self.futures_update(o) for o in
                    await self._call("GET", f"{FUTURES}/orders", f"contract={contract_of(symbol)}&status=open")]
        if symbol:
            rows = await self._call("GET", "/spot/orders", f"currency_pair={pair_of(symbol)}&status=open")
        else:
            rows = [o for p in await self._call("GET", "/spot/open_orders") for o in p.get("orders", ())]
        out = [self.update(o) for o in rows]
        if not symbol:
            out += [self.futures_update(o) for o in await self._futures_rows("GET", f"{FUTURES}/orders", "status=open")]
        return out

    async def _futures_rows(self, method: str, path: str, query: str = "") -> list:
        """A futures list; an account that never used futures has none (USER_NOT_FOUND)."""
        try:
            return await self._call(method, path, query)
        except VenueRejected as e:
            if e.code == "USER_NOT_FOUND":
                return []
            raise

    async def set_leverage(self, symbol: str, leverage: int) -> int:
        """Gate's "Update position leverage": POST /futures/usdt/positions/{contract}/leverage
        ?leverage=N (isolated margin at N; Gate's 0 would be cross margin)."""
        if not is_futures(symbol):
            raise OrderError("gate spot: leverage applies to perpetuals only")
        await self.check_leverage(symbol, leverage)
        p = await self._call("POST", f"{FUTURES}/positions/{contract_of(symbol)}/leverage", f"leverage={leverage}")
        return int(Decimal(p.get("leverage") or leverage))

    async def positions(self) -> list[VenuePosition]:
        """Spot: each currency's balance (available + locked); USDT futures: each open position
        as "<contract>:USDT", size in contracts (negative: short)."""
        out = []
        for a in await self._call("GET", "/spot/accounts"):
            free, locked = Decimal(a["available"]), Decimal(a["locked"])
            if free or locked:
                out.append(VenuePosition(self.venue, a["currency"], free + locked,
                                         extra={"free": a["available"], "locked": a["locked"]}))
        for p in await self._futures_rows("GET", f"{FUTURES}/positions"):
            size = int(p.get("size") or 0)
            if size:
                lev = int(Decimal(p.get("leverage") or 0))
                out.append(VenuePosition(self.venue, p["contract"] + FUTURES_SUFFIX, Decimal(size), _dec(p.get("entry_price")),
                                         _dec(p.get("unrealised_pnl")), lev or None,
                                         {"mark_price": p.get("mark_price"), "realised_pnl": p.get("realised_pnl"),
                                          "mode": p.get("mode")}))
        return out

    def futures_update(self, o: dict, fills: tuple[Fill, ...] = ()) -> OrderUpdate:
        """A FuturesOrder (REST, or a futures.orders push) as an OrderUpdate, in contracts."""
        cid = self._client_id(o)
        filled = Decimal(abs(int(o.get("size") or 0)) - abs(int(o.get("left") or 0)))
        avg = _dec(o.get("fill_price")) if filled else None
        return OrderUpdate(cid, futures_state_of(o), filled, str(o.get("id", "")), fills, None, avg,
                           o.get("finish_as") or o.get("status", ""), o.get("contract", "") + FUTURES_SUFFIX)

    def update(self, o: dict, fills: tuple[Fill, ...] | None = None) -> OrderUpdate:
        """A Gate order object (REST, or a spot.orders push) as an OrderUpdate. A REST body
        itemises no trades: what it filled is given as one fill at its average with the
        order's fee (so a fee is counted when the answer is the first news of the fill);
        a pushed update carries the spot.usertrades that came before it (`fills`)."""
        cid = self._client_id(o)
        filled = _filled(o)
        cum = _dec(o.get("filled_total"))
        avg = _dec(o.get("avg_deal_price")) if filled else None
        if fills is None:
            fills = ()
            if filled and cum is not None:
                fills = (Fill(filled, cum / filled, Decimal(o.get("fee") or 0), o.get("fee_currency", ""), ""),)
        return OrderUpdate(cid, state_of(o), filled, str(o.get("id", "")), fills, cum, avg,
                           o.get("finish_as") or o.get("status", ""), o.get("currency_pair", ""))

    def _client_id(self, o: dict) -> str:
        """Ours from the order's text ("t-" + id), or the client id of the stop that put it."""
        oid = str(o.get("id", ""))
        cid = self.fired.get(oid)
        if cid is not None:
            return cid
        text = str(o.get("text", ""))
        cid = text[len(TEXT_PREFIX):] if text.startswith(TEXT_PREFIX) else text
        if oid:
            self.order_ids.setdefault(cid, oid)
        return cid

    def stream_updates(self, msg: dict) -> list[OrderUpdate]:
        ch = msg.get("channel")
        if msg.get("error") and (ch in PRIVATE_CHANNELS or ch in FUTURES_CHANNELS):
            err = msg["error"]
            raise VenueRejected(self.venue, err.get("code", ""), str(err.get("message", "")))
        if msg.get("event") != "update":
            return []
        if ch == "futures.usertrades":
            for t in msg.get("result") or ():
                self.trades.setdefault(str(t.get("order_id")), []).append(
                    Fill(Decimal(abs(int(t["size"]))), Decimal(str(t["price"])), Decimal(str(t.get("fee") or 0)),
                         "USDT", str(t.get("id", ""))))
            return []
        if ch == "futures.orders":
            return self._order_pushes(True, msg.get("result") or ())
        if ch == "spot.usertrades":       # kept until the order's next update, which counts them
            for t in msg.get("result") or ():
                self.trades.setdefault(str(t.get("order_id")), []).append(
                    Fill(Decimal(t["amount"]), Decimal(t["price"]), Decimal(t.get("fee") or 0),
                         t.get("fee_currency", ""), str(t.get("id", ""))))
            return []
        if ch != "spot.orders":
            return []
        return self._order_pushes(False, msg.get("result") or ())

    # -- private stream ---------------------------------------------------------------------
    def subscribe_message(self, channel: str, req_id: int, payload: list | None = None) -> str:
        t = self.now_ms() // 1000
        sign = self.signer._hex(f"channel={channel}&event=subscribe&time={t}".encode())
        return json.dumps({"time": t, "id": req_id, "channel": channel, "event": "subscribe", "payload": payload or ["!all"],
                           "auth": {"method": "api_key", "KEY": self.signer.api_key, "SIGN": sign}},
                          separators=(",", ":"))

    async def user_stream(self, on_update: Callable[[OrderUpdate], None], ready: asyncio.Event | None = None) -> None:
        """The spot channels on the spot WebSocket and the futures channels (payload [user id,
        "!all"]: the user id from /account/detail) on the futures WebSocket, together."""
        self._on_update = on_update
        user_id = (await self._call("GET", "/account/detail")).get("user_id")

        def handshake(channels: tuple[str, ...], payload: list):
            async def run(ws) -> None:
                for i, ch in enumerate(channels, 1):
                    await ws.send_str(self.subscribe_message(ch, i, payload))
                    while True:
                        doc = json.loads(await asyncio.wait_for(ws.receive_str(), 10))
                        if doc.get("channel") == ch and doc.get("event") == "subscribe":
                            if doc.get("error"):
                                e = doc["error"]
                                raise VenueRejected(self.venue, e.get("code", ""), str(e.get("message", "")))
                            break
            return run

        spot_ready, futures_ready = asyncio.Event(), asyncio.Event()
        ping = lambda market: json.dumps({"time": 0, "channel": f"{market}.ping"}, separators=(",", ":"))  # noqa: E731
        streams = [
            self.private_stream(on_update, spot_ready, handshake(PRIVATE_CHANNELS, ["!all"]), ping("spot"), PING_S),
            self.private_stream(on_update, futures_ready, handshake(FUTURES_CHANNELS, [str(user_id), "!all"]),
                                ping("futures"), PING_S, url=self.futures_ws_url),
        ]
        tasks = [asyncio.ensure_future(x) for x in streams]

        async def both_ready() -> None:
            await spot_ready.wait()
            await futures_ready.wait()
            if ready is not None:
                ready.set()

        waiter = asyncio.ensure_future(both_ready())
        try:
            await asyncio.gather(*tasks)
        finally:
            waiter.cancel()
            for t in tasks:
                t.cancel()

    async def close(self) -> None:
        if self._resolver is not None:            # a lookup of held pushes (stops.py)
            self._resolver.cancel()
        await super().close()


def spot(creds: Credentials, **kw) -> GateAdapter:
    return GateAdapter(creds, **kw)
