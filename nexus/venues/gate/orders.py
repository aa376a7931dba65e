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
tif ioc.

STOP is one of Gate's price-triggered orders ("Create a price-triggered order", the SDK's
SpotPriceTriggeredOrder / FuturesPriceTriggeredOrder): spot POST /spot/price_orders
{"trigger": {"price", "rule": ">=" (buy) | "<=" (sell), "expiration" (required: 30 days)},
"put": {"type": "limit", "side", "price", "amount", "account": "normal", "time_in_force":
"ioc"}, "market"}, the put an IOC limit STOP_BAND (1 %) beyond the trigger price (as a market
buy's cap: never pays beyond it); futures POST /futures/usdt/price_orders {"initial":
{"contract", "size", "price": "0", "tif": "ioc", "text": "api", "reduce_only"}, "trigger":
{"strategy_type": 0, "price_type": 0 (last price), "price", "rule": 1 (>=) | 2 (<=)}}. Both
answer {"id"}. A price order carries no client order id (its `text` is only the source, web /
api / app), so, as FXCM's adapter does: the client id -> price order id map is kept in this
session; after a lost answer `query` lists the market's price orders (GET .../price_orders
?status=open, then status=finished: it may have fired already) and takes the one with the
stop's trigger price, rule, side and amount created at or after the send (Gate's seconds,
2 s of slack) that no other client id of this session claimed, before anything is resent.
What remains: an identical stop sent at the same moment by another session on the same
account could be taken for ours, and a stop of an earlier session is not found by its client
id (Gate's own id is shown by `order ls`). Query / cancel (DELETE .../price_orders/{id}) /
open orders include them; once it fired (`fired_order_id`, futures `trade_id`) the order it
put is followed under the stop's client id: query and cancel address it, and its pushes on
the private channels (whose text is not ours) are held until the waiting stops are looked up,
then given under the stop's client id. An entry's stop-loss (--sl-ticks) is such a stop
(reduce-only on futures).

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
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
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
from nexus.venues.gate.sign import GateSigner

VENUE = "gate"
API = "/api/v4"
TIME_PATH = f"{API}/spot/time"
URLS = ("https://api.gateio.ws", "wss://api.gateio.ws/ws/v4/")
PING_S = 20.0
TEXT_PREFIX = "t-"
TEXT_MAX = 28                       # characters after "t-" (docs/Order.md `text`)
MARKET_BUY_BAND = Decimal("0.01")   # a market buy's price cap: 1 % beyond the covering ask
BOOK_DEPTH = 100
WINDOW = "Gate accepts a Timestamp within 60 s of its clock"
EXPIRED = frozenset({"ioc", "fok", "depth_not_enough", "trader_not_enough", "small", "poc", "stp", "unknown"})
PRIVATE_CHANNELS = ("spot.orders", "spot.usertrades")
FUTURES = "/futures/usdt"           # below API: USDT-settled futures
ORDER_PATHS = {False: f"{API}/spot/orders", True: f"{API}{FUTURES}/orders"}    # by is_futures
ORDER_SIGN_HEADS = {f: f"POST\n{p}\n\n".encode() for f, p in ORDER_PATHS.items()}   # method, path, no query
PRICE_ORDER_PATHS = {False: "/spot/price_orders", True: f"{FUTURES}/price_orders"}   # by is_futures
STOP_BAND = MARKET_BUY_BAND          # a spot stop puts an IOC limit 1 % beyond its trigger price
SPOT_STOP_EXPIRATION_S = 30 * 86400  # a spot trigger needs an expiration: 30 days
MATCH_SLACK_S = 2                    # a price order's creation time (Gate: seconds) against the send
ORPHAN_TRIES = 3                     # lookups of the stops before an unknown pushed order is passed on
STOP_NOT_HERE = "gate: a stop is a price-triggered order (stop_body), not an order body"
FUTURES_WS_URL = "wss://fx-ws.gateio.ws/v4/ws/usdt"
FUTURES_CHANNELS = ("futures.orders", "futures.usertrades")
FUTURES_EXPIRED = frozenset({"ioc", "liquidated", "auto_deleveraged", "reduce_only", "position_closed",
                             "reduce_out", "stp"})


def _dec(text: Any) -> Decimal | None:
    return Decimal(str(text)) if text not in ("", None) else None


def is_futures(symbol: str) -> bool:
    return symbol.endswith(FUTURES_SUFFIX) or symbol.upper().endswith(FUTURES_SUFFIX)


def contract_of(symbol: str) -> str:
    """BTC_USDT from BTC_USDT:USDT or BTCUSDT:USDT (the USDT-settled contract)."""
    s = symbol.upper()[: -len(FUTURES_SUFFIX)]
    if "_" in s:
        return s
    from nexus.venues.gate.feed import _symbol
    return _symbol(s)


def pair_of(symbol: str) -> str:
    """BTC_USDT from BTC_USDT or BTCUSDT (a quote Nexus knows: USDT, USDC, BTC, ETH...)."""
    if "_" in symbol and ":" not in symbol and symbol.isupper():
        return symbol                      # already Gate's pair (an instrument's symbol)
    from nexus.venues.gate.feed import _symbol

    s = symbol.upper()
    if s.endswith(FUTURES_SUFFIX):
        raise OrderError(f"gate: {symbol} is a USDT futures contract, not a spot pair")
    return s if "_" in s else _symbol(s)


def _plain(d: Decimal) -> str:
    """A decimal as plain text (no exponent); str() is the fast path."""
    t = str(d)
    return format(d, "f") if "E" in t else t


def client_text(client_id: str) -> str:
    if len(client_id) > TEXT_MAX:
        raise OrderError(f"gate: client order id {client_id!r} is longer than Gate's {TEXT_MAX} characters "
                         "(order `text`): not sent")
    return TEXT_PREFIX + client_id


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


class GateAdapter(HttpVenue):
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

    # -- stops: Gate's price-triggered orders (module docstring) --------------------------------
    async def stop_body(self, req: OrderRequest) -> str:
        """The price-triggered order of a STOP, compact JSON. Spot: trigger at the stop price
        (">=" for a buy, "<=" for a sell) putting an IOC limit STOP_BAND beyond it; futures:
        trigger on the last price (rule 1 >=, 2 <=) putting a market order (price "0", ioc)."""
        buy = req.side.value == "buy"
        stop = _plain(req.stop_price)
        if is_futures(req.symbol):
            n = int(req.qty)
            if n != req.qty:
                raise OrderError(f"gate futures: size {req.qty} is not a whole number of contracts: not sent")
            return (f'{{"initial":{{"contract":"{contract_of(req.symbol)}","size":{n if buy else -n},"price":"0",'
                    f'"tif":"ioc","text":"api"' + (',"reduce_only":true' if req.reduce_only else "") +
                    f'}},"trigger":{{"strategy_type":0,"price_type":0,"price":"{stop}","rule":{1 if buy else 2}}}}}')
        if req.reduce_only:
            raise OrderError("gate spot: reduce-only applies to perpetuals only")
        pair = pair_of(req.symbol)
        tick = Decimal(self.ticks.get(pair) or (await self.instrument(pair)).tick_size)
        band = req.stop_price * (1 + STOP_BAND if buy else 1 - STOP_BAND) / tick
        cap = band.to_integral_value(ROUND_CEILING if buy else ROUND_FLOOR) * tick
        return (f'{{"trigger":{{"price":"{stop}","rule":"{">=" if buy else "<="}","expiration":{SPOT_STOP_EXPIRATION_S}}},'
                f'"put":{{"type":"limit","side":"{req.side.value}","price":"{_plain(cap)}","amount":"{_plain(req.qty)}",'
                f'"account":"normal","time_in_force":"ioc"}},"market":"{pair}"}}')

    async def place_stop(self, req: OrderRequest) -> OrderUpdate:
        futures = is_futures(req.symbol)
        body = await self.stop_body(req)
        self.stop_sent[req.client_id] = (req, self.now_ms())
        o = await self._call("POST", PRICE_ORDER_PATHS[futures], body=body)
        poid = str(o.get("id", "")) if isinstance(o, dict) else ""
        if not poid:
            raise VenueUnreachable(f"{self.venue}: {PRICE_ORDER_PATHS[futures]}: created without an id")
        self._claim_stop(req.client_id, poid, futures)
        sym = contract_of(req.symbol) + FUTURES_SUFFIX if futures else pair_of(req.symbol)
        return OrderUpdate(req.client_id, State.ACCEPTED, Decimal(0), poid, venue_status="price order open", symbol=sym)

    def _claim_stop(self, client_id: str, poid: str, futures: bool) -> None:
        self.stops[client_id] = (poid, futures)
        self.stop_cids[poid] = client_id
        self.stop_sent.pop(client_id, None)

    @staticmethod
    def _fired_id(po: dict, futures: bool) -> str:
        f = str(po.get("trade_id" if futures else "fired_order_id") or "")
        return "" if f == "0" else f

    @staticmethod
    def _stop_key(req: OrderRequest) -> tuple:
        buy = req.side.value == "buy"
        if is_futures(req.symbol):
            return Decimal(req.stop_price), 1 if buy else 2, req.side.value, int(req.qty)
        return Decimal(req.stop_price), ">=" if buy else "<=", req.side.value, Decimal(req.qty)

    @staticmethod
    def _po_key(po: dict, futures: bool) -> tuple | None:
        t = po.get("trigger") or {}
        try:
            if futures:
                size = int((po.get("initial") or {}).get("size") or 0)
                return Decimal(str(t.get("price"))), int(t.get("rule") or 0), "buy" if size > 0 else "sell", abs(size)
            put = po.get("put") or {}
            return Decimal(str(t.get("price"))), t.get("rule"), put.get("side"), Decimal(str(put.get("amount")))
        except (ArithmeticError, TypeError, ValueError):
            return None

    async def _find_stop(self, client_id: str) -> str | None:
        """The price order a stop whose answer was lost became: among the market's open price
        orders, then its finished ones (it may have fired already), one with the stop's trigger
        price, rule, side and amount, created at or after the send (Gate's seconds, with
        MATCH_SLACK_S) and not claimed by another client id of this session; claimed when found.
        None: Gate has no such order (the Executor resends)."""
        req, sent_ms = self.stop_sent[client_id]
        futures = is_futures(req.symbol)
        market = f"contract={contract_of(req.symbol)}" if futures else f"market={pair_of(req.symbol)}"
        want, since = self._stop_key(req), sent_ms / 1000 - MATCH_SLACK_S
        for status in ("open", "finished"):
            rows = await self._call("GET", PRICE_ORDER_PATHS[futures], f"status={status}&{market}&limit=100")
            created = (lambda po: float(po.get("create_time") or 0)) if futures else \
                (lambda po: float(po.get("ctime") or 0))                      # noqa: E731
            for po in sorted(rows, key=created):
                poid = str(po.get("id", ""))
                if poid and poid not in self.stop_cids and created(po) >= since and self._po_key(po, futures) == want:
                    self._claim_stop(client_id, poid, futures)
                    return poid
        return None

    def price_update(self, client_id: str, po: dict, futures: bool) -> OrderUpdate:
        """A price order that has not fired (waiting, or ended without firing) as an OrderUpdate."""
        status = po.get("status", "open")
        if futures:
            end = po.get("finish_as") or status
            state = State.ACCEPTED if status == "open" else State.CANCELLED if end == "cancelled" else State.EXPIRED
            sym = (po.get("initial") or {}).get("contract", "") + FUTURES_SUFFIX
        else:
            end = status
            state = {"open": State.ACCEPTED, "cancelled": State.CANCELLED}.get(status, State.EXPIRED)
            sym = po.get("market", "")
        if state is not State.ACCEPTED:
            self.stops_ended.add(client_id)
        return OrderUpdate(client_id, state, Decimal(0), str(po.get("id", "")), venue_status=f"price order {end}",
                           symbol=sym)

    async def _fired_order(self, client_id: str, po: dict, futures: bool) -> OrderUpdate | None:
        """The order a fired price order put, as the stop's update (None: not fired)."""
        fired = self._fired_id(po, futures)
        if not fired:
            return None
        self.fired[fired] = client_id
        if futures:
            o = await self._call("GET", f"{FUTURES}/orders/{fired}", missing_ok=True)
            return self.futures_update(o) if o else None
        o = await self._call("GET", f"/spot/orders/{fired}", f"currency_pair={po.get('market', '')}", missing_ok=True)
        return self.update(o) if o else None

    async def stop_query(self, client_id: str) -> OrderUpdate | None:
        if client_id not in self.stops and await self._find_stop(client_id) is None:
            return None
        poid, futures = self.stops[client_id]
        po = await self._call("GET", f"{PRICE_ORDER_PATHS[futures]}/{poid}", missing_ok=True)
        if po is None:
            return None
        return await self._fired_order(client_id, po, futures) or self.price_update(client_id, po, futures)

    async def stop_cancel(self, client_id: str) -> OrderUpdate:
        """An open price order is cancelled (DELETE); one that fired: the order it put."""
        if client_id not in self.stops and await self._find_stop(client_id) is None:
            raise VenueRejected(self.venue, *self.UNKNOWN_ORDER, 404)
        poid, futures = self.stops[client_id]
        path = f"{PRICE_ORDER_PATHS[futures]}/{poid}"
        po = await self._call("GET", path)
        fired = self._fired_id(po, futures)
        if not fired:
            try:
                return self.price_update(client_id, await self._call("DELETE", path), futures)
            except VenueRejected:
                po = await self._call("GET", path)          # it fired (or ended) meanwhile
                fired = self._fired_id(po, futures)
                if not fired:
                    raise
        self.fired[fired] = client_id
        if futures:
            return self.futures_update(await self._call("DELETE", f"{FUTURES}/orders/{fired}"))
        return self.update(await self._call("DELETE", f"/spot/orders/{fired}", f"currency_pair={po.get('market', '')}"))

    async def open_stops(self, symbol: str | None = None) -> list[OrderUpdate]:
        """The open price orders (those of this session under their client ids; others with "")."""
        out = []
        if symbol is None or not is_futures(symbol):
            q = "status=open" + (f"&market={pair_of(symbol)}" if symbol else "")
            out += [self.price_update(self.stop_cids.get(str(po.get("id")), ""), po, False)
                    for po in await self._call("GET", PRICE_ORDER_PATHS[False], q)]
        if symbol is None or is_futures(symbol):
            q = "status=open" + (f"&contract={contract_of(symbol)}" if symbol else "")
            out += [self.price_update(self.stop_cids.get(str(po.get("id")), ""), po, True)
                    for po in await self._futures_rows("GET", PRICE_ORDER_PATHS[True], q)]
        return out

    def _waiting_stops(self) -> list[str]:
        done = set(self.fired.values()) | self.stops_ended
        return [cid for cid in self.stops if cid not in done]

    def _maybe_fired(self, o: dict) -> bool:
        oid = str(o.get("id", ""))
        if oid in self.orphans:
            return True                 # held already: its pushes stay in order
        return bool(oid) and oid not in self.fired and not str(o.get("text", "")).startswith(TEXT_PREFIX) \
            and bool(self._waiting_stops())

    async def _resolve_orphans(self) -> None:
        """Held pushes (see _order_pushes): the waiting stops are looked up (fired_order_id /
        trade_id); pushes of what they put go on under the stop's client id, the others as
        they are (not ours) once ORPHAN_TRIES lookups found no stop that put them."""
        tries = 0
        while self.orphans:
            tries += 1
            for cid in self._waiting_stops():
                poid, futures = self.stops[cid]
                try:
                    po = await self._call("GET", f"{PRICE_ORDER_PATHS[futures]}/{poid}", missing_ok=True)
                except (VenueRejected, VenueUnreachable):
                    continue
                if po is None:
                    self.stops_ended.add(cid)
                    continue
                fired = self._fired_id(po, futures)
                if fired:
                    self.fired[fired] = cid
                elif po.get("status") != "open":
                    self.stops_ended.add(cid)
            held, self.orphans = self.orphans, {}
            for oid, items in held.items():
                if oid not in self.fired and tries < ORPHAN_TRIES and self._waiting_stops():
                    self.orphans.setdefault(oid, []).extend(items)      # looked up again shortly
                    continue
                for futures, o, fills in items:
                    upd = self.futures_update(o, fills) if futures else self.update(o, fills)
                    if self._on_update is not None:
                        self._on_update(upd)
            if self.orphans:
                await asyncio.sleep(0.2)

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

    def _order_pushes(self, futures: bool, rows) -> list[OrderUpdate]:
        """Pushed orders as updates; one that may be what a stop of this session put (not ours
        by its text, and stops of this session wait) is held until the stops are looked up."""
        out = []
        for o in rows:
            fills = tuple(self.trades.pop(str(o.get("id")), ()))
            if self._maybe_fired(o):
                self.orphans.setdefault(str(o.get("id")), []).append((futures, o, fills))
                if self._resolver is None or self._resolver.done():
                    self._resolver = asyncio.get_running_loop().create_task(self._resolve_orphans())
                continue
            out.append(self.futures_update(o, fills) if futures else self.update(o, fills))
        return out

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


def spot(creds: Credentials, **kw) -> GateAdapter:
    return GateAdapter(creds, **kw)
