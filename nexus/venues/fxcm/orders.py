"""FXCM order entry: the venue adapter of nexus.exec.client over FXCM's REST API.

Source: FXCM Socket REST API User Guide (fxcm-rest.readthedocs.io/en/latest/
socketrestapispecs.html; the "Socket REST API Specs" PDF and README of github.com/fxcm/RestAPI).

- Session: the socket.io connection is opened first with the access token
  (/socket.io/?EIO=3&transport=websocket&access_token=...); every REST request carries
  "Authorization: Bearer " + socket id + token, form-encoded bodies
  (application/x-www-form-urlencoded). The socket stays open for the whole session: it
  authenticates the requests and carries the trading-table updates (POST /trading/subscribe
  models=Order, OpenPosition, ClosedPosition), pinged with "2" every pingInterval (engine.io 3).
- Orders: MARKET = POST /trading/open_trade (order_type AtMarket, time_in_force GTC);
  LIMIT and STOP = POST /trading/create_entry_order (order_type Entry, rate = the price).
  FXCM decides by price which entry it is: priced away from the market a Limit Entry (LE),
  through it a Stop Entry (SE). So a buy limit at or above the ask (a sell limit at or below
  the bid) would become a stop entry that waits for the price to come to it, and a buy stop
  at or below the ask a limit entry: both are refused before sending, naming the quote
  (from the Offers table; the server's own quote decides, a race is possible in a fast market).
  Cancel = POST /trading/delete_order order_id. Amounts are lots ("amount"), whole lots on
  the Offers grid; rates on the symbol's tick (10^-ratePrecision).
- Answers: {"response":{"executed":true},"data":{"type":0,"orderId":N}}; a refusal is
  {"response":{"executed":false,"error":"<text>"}} where the text is FXCM's JSON
  {"code","message","parameters"} (or a bare word such as "Unauthorized", HTTP 401):
  VenueRejected with that code and message.
- Fills: FXCM's Order table has no fill quantity or price. Every fill opens a trade or closes
  part of one; the OpenPosition / ClosedPosition rows pushed on the socket carry the orderId
  (README: "you will see same order ID + trade ID been insert in open position table") with
  the amount and the open / close price: those rows are the order's fills. Order statuses:
  1 Waiting, 2 InProcess, 6 Executing, 7 Pending, 10 Activated -> accepted; 9 Executed ->
  filled; 3 Canceled, 5 MarginCall, 8 EquityStop -> cancelled; 4 Requoted -> rejected.
  A market order's place() waits for its outcome on the socket (up to PLACE_WAIT_S).

Idempotency (FXCM has no client order id, and its REST API cannot set a request text or
custom id: fxcm/RestAPI issue #2): the client id -> FXCM orderId mapping is kept in this
session's memory, filled from each answer. When an answer is lost (timeout), `query` looks
for the order before anything is resent: first among the Order-table inserts the socket
pushed after the request left (same symbol, side, amount, type and rate, not yet claimed by
another client id of this session), then in a GET /trading/get_model?models=Order snapshot
among orders the server created after the request left (the row's time against the synced
server clock). Found, it is claimed and never resent; not found, the Executor resends. The
match is by content: an identical order sent at the same moment by another session on the
same account could be taken for ours (a limit of FXCM's API, which echoes no client tag). Across sessions an
order is addressed by FXCM's orderId (`--client-id <orderId>`: digits that are no client id
of this session are taken as FXCM's orderId).

Server time: FXCM's requests carry no timestamp (no receive window, so no clock refusal);
the offset is read from the HTTP Date header of a REST answer (one-second resolution) on
connect and when older than nexus.exec.http.RESYNC_S before a request, and shown by
`keys check`.

Reduce-only: FXCM has no reduce-only flag. A reduce-only MARKET on a non-hedging account is
an opposite open_trade, which FXCM nets against the open trades (after the Executor checked
the position). A reduce-only LIMIT or STOP (what TP/SL brackets are) is FXCM's own exit: the
trade's limit or stop, POST /trading/change_trade_stop_limit (trade_id, is_stop, rate,
is_in_pips=false), which FXCM cancels with the trade: it closes one whole trade, so the
symbol must hold exactly one trade to close, of the order's quantity (else refused before
sending, naming the trades). Its answer carries no order id ("data": null): the order is
the trade's new "S" / "L" row in the Order table (pushed on the socket, else the snapshot).

Not built (refused before sending, with the reason): leverage (FXCM sets it per account),
a reduce-only market order on a hedging account (an opposite order there opens a hedge),
reconnecting a closed socket (every request then fails as a network failure, exit 4).
"""

from __future__ import annotations

import asyncio
import datetime
import email.utils
import json
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Callable
from urllib.parse import quote

import httpx

from nexus.exec.client import Fill, OrderUpdate, VenuePosition, VenueRejected, VenueUnreachable
from nexus.exec.http import HttpVenue
from nexus.exec.keys import Credentials
from nexus.exec.orders import OrderError, OrderRequest, OrderType, Side, State
from nexus.exec.signing.base import mask
from nexus.instruments import Instrument

VENUE = "fxcm"
URLS = {False: ("https://api.fxcm.com", "wss://api.fxcm.com/socket.io/"),
        True: ("https://api-demo.fxcm.com", "wss://api-demo.fxcm.com/socket.io/")}
SOCKET_QUERY = "EIO=3&transport=websocket"
USER_AGENT = "nexus"
MODELS = ("Order", "OpenPosition", "ClosedPosition")
PLACE_WAIT_S = 5.0           # a market order's outcome on the socket
CANCEL_WAIT_S = 2.0
OPEN_TIMEOUT_S = 10.0
PING_S_DEFAULT = 25.0
TIME_SLACK_MS = 2000        # the Date header's one-second resolution, and some

STATES = {0: State.ACCEPTED, 1: State.ACCEPTED, 2: State.ACCEPTED, 3: State.CANCELLED, 4: State.REJECTED,
          5: State.CANCELLED, 6: State.ACCEPTED, 7: State.ACCEPTED, 8: State.CANCELLED, 9: State.FILLED,
          10: State.ACCEPTED}
STATUS_NAMES = {0: "Unknown", 1: "Waiting", 2: "InProcess", 3: "Canceled", 4: "Requoted", 5: "MarginCall",
                6: "Executing", 7: "Pending", 8: "EquityStop", 9: "Executed", 10: "Activated"}
FINAL = frozenset({3, 4, 5, 8, 9})
ENTRY_TYPES = frozenset({"LE", "SE", "LTE", "STE"})
RATE_TYPES = ENTRY_TYPES | {"S", "L", "ST", "LT"}     # orders whose rate is their price


def _wire(d: Decimal) -> str:
    return format(d, "f")


def _dec(v: Any) -> Decimal:
    return v if isinstance(v, Decimal) else Decimal(str(v))


@dataclass
class _Track:
    """What this session knows of one FXCM order."""

    order_id: str
    client_id: str | None = None
    symbol: str = ""
    is_buy: bool | None = None
    amount: Decimal | None = None
    type: str = ""
    rate: Decimal | None = None
    trade_id: str = ""
    status: int = 1
    deleted: bool = False
    fills: list[Fill] = field(default_factory=list)
    seen_s: float = 0.0                 # monotonic time of the first push about it

    @property
    def final(self) -> bool:
        return self.status in FINAL or self.deleted


class FxcmAdapter(HttpVenue):
    venue = VENUE
    perpetual = True                     # margin positions (CFDs): closing orders reduce
    UNKNOWN_ORDER = (1, "The specified order does not exist")

    def __init__(self, creds: Credentials, *, rest_url: str | None = None, ws_url: str | None = None,
                 testnet: bool = False, timeout_s: float = 10.0, clock_ms: Callable[[], int] | None = None) -> None:
        rest, ws = URLS[testnet]
        super().__init__(rest_url or rest, timeout_s=timeout_s, clock_ms=clock_ms)
        self.ws_url = (ws_url or ws)
        self.key_id = creds.api_key
        self._token = creds.secret
        creds.forget()
        self.sid = ""
        self.account_id = ""
        self.hedging = ""
        self.tracks: dict[str, _Track] = {}
        self.by_client: dict[str, str] = {}
        # client id -> (request, monotonic send time, server-time estimate of the send in ms)
        self.sent: dict[str, tuple[OrderRequest, float, int]] = {}
        self.on_update: Callable[[OrderUpdate], None] | None = None
        self.instruments: dict[str, Instrument] = {}
        self._session = None
        self._ws = None
        self._tasks: list[asyncio.Task] = []
        self._closed: asyncio.Future | None = None
        self._changed: asyncio.Condition | None = None
        self._resyncing = False

    def __repr__(self) -> str:
        return f"<FxcmAdapter {self.rest_url} token={mask(self.key_id)}>"

    # -- requests -------------------------------------------------------------------------------
    def _headers(self, post: bool) -> dict[str, str]:
        h = {"User-Agent": USER_AGENT, "Accept": "application/json", "Authorization": f"Bearer {self.sid}{self._token}"}
        if post:
            h["Content-Type"] = "application/x-www-form-urlencoded"
        return h

    def order_request(self, req: OrderRequest) -> tuple[str, str]:
        """The order as FXCM takes it: (path, form body), exactly as sent."""
        if req.reduce_only and req.type is not OrderType.MARKET:
            raise OrderError(f"{self.venue}: a reduce-only {req.type.value} is the trade's stop/limit: place() "
                             "finds the trade first")
        side = "true" if req.side is Side.BUY else "false"
        head = f"account_id={self.account_id}&symbol={quote(req.symbol, safe='')}&is_buy={side}"
        if req.type is OrderType.MARKET:
            return "/trading/open_trade", (f"{head}&rate=0&amount={_wire(req.qty)}&at_market=0&order_type=AtMarket"
                                           "&time_in_force=GTC")
        rate = req.price if req.type is OrderType.LIMIT else req.stop_price
        return "/trading/create_entry_order", (f"{head}&rate={_wire(rate)}&amount={_wire(req.qty)}&is_in_pips=false"
                                               "&order_type=Entry&time_in_force=GTC")

    def order_bytes(self, req: OrderRequest) -> bytes:
        """The complete HTTP/1.1 request for `req`, ready to write to the socket."""
        path, body = self.order_request(req)
        return (f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\nUser-Agent: {USER_AGENT}\r\n"
                f"Accept: application/json\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                f"Authorization: Bearer {self.sid}{self._token}\r\nContent-Length: {len(body)}\r\n\r\n{body}").encode()

    async def _call(self, method: str, path: str, form: str = "") -> tuple[httpx.Response, dict]:
        if not self.sid:
            raise VenueUnreachable(f"{self.venue}: no socket open (connect first)")
        if self._closed is not None and self._closed.done():
            # FXCM authorizes a request by its open socket: with the socket gone, nothing can be sent
            raise VenueUnreachable(f"{self.venue}: the socket closed: {method} {path} not sent")
        if self.account_id and not self._resyncing and self.stale():
            self._resyncing = True
            try:
                await self.resync()
            finally:
                self._resyncing = False
        post = method == "POST"
        r = await self.send(method, path, query="" if post else form, body=form if post else "",
                            headers=self._headers(post))
        if r.status_code >= 500:
            raise VenueUnreachable(f"{self.venue}: {method} {path}: HTTP {r.status_code}")
        try:
            body = r.json(parse_float=Decimal)
        except ValueError:
            raise VenueUnreachable(f"{self.venue}: {method} {path}: HTTP {r.status_code}, not JSON") from None
        resp = body.get("response") if isinstance(body, dict) else None
        if not isinstance(resp, dict):
            raise VenueUnreachable(f"{self.venue}: {method} {path}: not an FXCM answer (no 'response')")
        if r.status_code >= 400 or not resp.get("executed"):
            raise _rejection(resp.get("error"), r.status_code)
        return r, body

    # -- session ---------------------------------------------------------------------------------
    async def connect(self) -> None:
        import aiohttp

        self._changed = asyncio.Condition()
        self._closed = asyncio.get_running_loop().create_future()
        sep = "&" if "?" in self.ws_url else "?"
        url = f"{self.ws_url}{sep}{SOCKET_QUERY}&access_token={quote(self._token, safe='')}"
        self._session = aiohttp.ClientSession()
        try:
            self._ws = await asyncio.wait_for(self._session.ws_connect(url, heartbeat=None), OPEN_TIMEOUT_S)
            first = await asyncio.wait_for(self._ws.receive(), OPEN_TIMEOUT_S)
        except (aiohttp.ClientError, asyncio.TimeoutError) as e:
            await self._session.close()
            raise VenueUnreachable(f"{self.venue}: socket: {type(e).__name__}") from None
        text = first.data if first.type == aiohttp.WSMsgType.TEXT else ""
        if not text.startswith("0{"):
            await self._session.close()
            raise _rejection(_socket_error(text), 401)
        opened = json.loads(text[1:])
        self.sid = opened["sid"]
        ping_s = opened.get("pingInterval", PING_S_DEFAULT * 1000) / 1000
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._read()), loop.create_task(self._ping(ping_s))]
        await self.resync()
        await self._call("POST", "/trading/subscribe", "&".join(f"models={m}" for m in MODELS))

    async def _ping(self, every_s: float) -> None:
        while True:
            await asyncio.sleep(every_s)
            await self._ws.send_str("2")

    async def _read(self) -> None:
        import aiohttp

        try:
            async for m in self._ws:
                if m.type != aiohttp.WSMsgType.TEXT:
                    continue
                if m.data.startswith("42"):
                    await self._event(m.data)
        finally:
            if self._closed is not None and not self._closed.done():
                self._closed.set_result(None)

    async def _event(self, text: str) -> None:
        try:
            name, data = json.loads(text[2:])
            row = json.loads(data, parse_float=Decimal) if isinstance(data, str) else data
        except (ValueError, TypeError):
            return                                  # not a table update: nothing to apply
        if not isinstance(row, dict):
            return
        t, fill = None, None
        if name == "Order" and row.get("orderId"):
            t = self._track(str(row["orderId"]))
            t.symbol, t.is_buy, t.type = row.get("currency", t.symbol), row.get("isBuy", t.is_buy), row.get("type", t.type)
            if row.get("amountK") is not None:
                t.amount = _dec(row["amountK"])
            rate = row.get("buy") if row.get("isBuy") else row.get("sell")
            if t.type in RATE_TYPES and rate:
                t.rate = _dec(rate)
            t.trade_id = str(row.get("tradeId") or t.trade_id)
            if isinstance(row.get("status"), int):
                t.status = row["status"]
            t.deleted = t.deleted or row.get("action") == "D"
        elif name in ("OpenPosition", "ClosedPosition") and row.get("action") == "I" and row.get("orderId"):
            t = self._track(str(row["orderId"]))
            price = row["open"] if name == "OpenPosition" else row["close"]
            fill = Fill(_dec(row["amountK"]), _dec(price), _dec(row.get("com", 0)), self._quote(row.get("currency", "")),
                        f"{name[0]}{row.get('tradeId', '')}:{len(t.fills)}")
            t.fills.append(fill)
            t.symbol = t.symbol or row.get("currency", "")
        if t is None:
            return
        if t.client_id is not None and self.on_update is not None:
            self.on_update(self._update(t, (fill,) if fill else ()))
        async with self._changed:
            self._changed.notify_all()

    def _quote(self, symbol: str) -> str:
        inst = self.instruments.get(symbol)
        return inst.quote if inst is not None else symbol.partition("/")[2]

    def _track(self, oid: str) -> _Track:
        t = self.tracks.get(oid)
        if t is None:
            t = self.tracks[oid] = _Track(oid, seen_s=time.monotonic())
        return t

    async def _wait(self, t: _Track, done: Callable[[_Track], bool], timeout_s: float) -> None:
        try:
            async with self._changed:
                await asyncio.wait_for(self._changed.wait_for(lambda: done(t)), timeout_s)
        except asyncio.TimeoutError:
            pass

    def _update(self, t: _Track, fills: tuple[Fill, ...] | None = None) -> OrderUpdate:
        filled = sum((f.qty for f in t.fills), Decimal(0))
        notional = sum((f.qty * f.price for f in t.fills), Decimal(0))
        state = STATES.get(t.status, State.ACCEPTED)
        if t.deleted and t.status not in FINAL:      # gone from the table: done, as far as it filled
            state = State.FILLED if t.amount is not None and filled >= t.amount else State.CANCELLED
        return OrderUpdate(t.client_id or t.order_id, state, filled, t.order_id, tuple(t.fills) if fills is None else fills,
                           notional, notional / filled if filled else None, STATUS_NAMES.get(t.status, str(t.status)),
                           t.symbol)

    # -- time ------------------------------------------------------------------------------------
    async def resync(self) -> None:
        """Server time from the Date header of an authorized answer (the Accounts table, which
        also names the account to trade)."""
        t0 = self.clock_ms()
        r, body = await self._call("GET", "/trading/get_model", "models=Account")
        t1 = self.clock_ms()
        date = r.headers.get("date")
        if date:
            server = int(email.utils.parsedate_to_datetime(date).timestamp() * 1000)
            self.rtt_ms = t1 - t0
            self.offset_ms = server - (t0 + t1) // 2
        self.synced_at = time.monotonic()
        accounts = [a for a in body.get("accounts", ()) if isinstance(a, dict) and a.get("accountId")]
        if not accounts:
            raise VenueRejected(self.venue, "no-account", "the token has no trading account (Accounts table empty)")
        self.account_id = str(accounts[0]["accountId"])
        self.hedging = str(accounts[0].get("hedging", ""))

    async def key_info(self) -> dict:
        await self.resync()
        return {"venue": self.venue, "api_key": mask(self.key_id), "account_id": self.account_id,
                "hedging": self.hedging, "time_offset_ms": self.offset_ms, "round_trip_ms": self.rtt_ms,
                "time_resolution_ms": 1000,
                "permissions": {"withdrawals": False},
                "note": "FXCM's REST API has no withdrawal request: a token can trade, it cannot withdraw"}

    # -- instruments -----------------------------------------------------------------------------
    async def _model(self, model: str) -> list[dict]:
        _, body = await self._call("GET", "/trading/get_model", f"models={model}")
        key = {"Offer": "offers", "Order": "orders", "OpenPosition": "open_positions",
               "ClosedPosition": "closed_positions", "Account": "accounts"}[model]
        return [x for x in body.get(key, ()) if isinstance(x, dict)]

    async def instrument(self, symbol: str) -> Instrument:
        inst = self.instruments.get(symbol)
        if inst is not None:
            return inst
        row = next((o for o in await self._model("Offer") if o.get("currency") == symbol), None)
        if row is None:
            raise OrderError(f"unknown symbol {symbol!r} on {self.venue} (not in the Offers table)")
        p = row.get("ratePrecision")
        if not isinstance(p, int) or not 0 <= p <= 10:
            raise OrderError(f"{self.venue} {symbol}: ratePrecision {p!r} is not usable")
        tick = "1" if p == 0 else "0." + "0" * (p - 1) + "1"
        base, _, quote_ = symbol.partition("/")
        inst = self.instruments[symbol] = Instrument(VENUE, symbol, tick, "1", "1", "linear", base, quote_, p, 0)
        return inst

    async def set_leverage(self, symbol: str, leverage: int) -> int:
        raise OrderError(f"{self.venue}: leverage is set per account by FXCM (the account's leverage profile), "
                         "not per order: place the order without --leverage")

    # -- orders ----------------------------------------------------------------------------------
    async def _check(self, req: OrderRequest) -> None:
        """FXCM's rules Nexus checks before sending (module docstring)."""
        if req.reduce_only:
            if self.hedging == "Y" and req.type is OrderType.MARKET:
                raise OrderError(f"{self.venue}: account {self.account_id} is a hedging account: an opposite order "
                                 "opens a hedge, it does not reduce; nothing sent")
            return                      # a market netted, or the trade's own stop/limit (module docstring)
        if req.type is OrderType.MARKET:
            return
        row = next((o for o in await self._model("Offer") if o.get("currency") == req.symbol), {})
        ask, bid = row.get("buy"), row.get("sell")
        buy = req.side is Side.BUY
        if req.type is OrderType.LIMIT:
            p = req.price
            if buy and ask is not None and p >= _dec(ask) or not buy and bid is not None and p <= _dec(bid):
                raise OrderError(f"{self.venue}: a {req.side.value} limit at {p} is at or through the market "
                                 f"({'ask ' + str(ask) if buy else 'bid ' + str(bid)}): FXCM would make it a stop "
                                 "entry that waits for the price to reach it; use a market order. Nothing sent")
        else:
            p = req.stop_price
            if buy and ask is not None and p < _dec(ask) or not buy and bid is not None and p > _dec(bid):
                raise OrderError(f"{self.venue}: a {req.side.value} stop at {p} is on the wrong side of the market "
                                 f"({'ask ' + str(ask) if buy else 'bid ' + str(bid)}): FXCM would make it a limit "
                                 "entry. Nothing sent")

    async def place(self, req: OrderRequest) -> OrderUpdate:
        await self._check(req)
        if req.reduce_only and req.type is not OrderType.MARKET:
            return await self._trade_exit(req)
        path, body = self.order_request(req)
        self.sent[req.client_id] = (req, time.monotonic(), self.now_ms())
        _, answer = await self._call("POST", path, body)
        data = answer.get("data") or {}
        oid = str(data.get("orderId", ""))
        if not oid:
            raise VenueUnreachable(f"{self.venue}: {path}: executed without an orderId")
        t = self._claim(oid, req.client_id, req)
        if req.type is OrderType.MARKET:
            await self._wait(t, lambda x: x.final, PLACE_WAIT_S)
        return self._update(t)

    async def _trade_exit(self, req: OrderRequest) -> OrderUpdate:
        """A reduce-only LIMIT / STOP as the one trade's limit / stop (module docstring)."""
        buy = req.side is Side.BUY
        trades = [p for p in await self._model("OpenPosition")
                  if p.get("currency") == req.symbol and bool(p.get("isBuy")) != buy]
        if len(trades) != 1 or _dec(trades[0]["amountK"]) != req.qty:
            held = ", ".join(f"{p.get('tradeId')}: {p.get('amountK')}" for p in trades) or "none"
            raise OrderError(f"{self.venue}: a reduce-only {req.type.value} is the trade's own "
                             f"{'stop' if req.type is OrderType.STOP else 'limit'} on FXCM, which closes one whole "
                             f"trade: {req.symbol} must hold one trade of {req.qty} to close (trades: {held}); "
                             "nothing sent")
        tid = str(trades[0]["tradeId"])
        stop = req.type is OrderType.STOP
        rate = req.stop_price if stop else req.price
        sent_s = time.monotonic()
        self.sent[req.client_id] = (req, sent_s, self.now_ms())
        await self._call("POST", "/trading/change_trade_stop_limit",
                         f"trade_id={tid}&is_stop={'true' if stop else 'false'}&rate={_wire(rate)}"
                         "&is_in_pips=false&trailing_step=0")
        kind = "S" if stop else "L"

        def mine(t: _Track) -> bool:
            return t.client_id is None and t.trade_id == tid and t.type == kind and t.seen_s >= sent_s

        found = None

        def seen(_t) -> bool:
            nonlocal found
            found = next((t for t in self.tracks.values() if mine(t)), None)
            return found is not None

        await self._wait(None, seen, CANCEL_WAIT_S)
        oid = found.order_id if found is not None else await self._find_sent(req.client_id)
        if oid is None:
            raise VenueUnreachable(f"{self.venue}: the trade's {'stop' if stop else 'limit'} was set but its order "
                                   "is in no Order table update")
        return self._update(self._claim(oid, req.client_id, req))

    def _claim(self, oid: str, client_id: str, req: OrderRequest | None = None) -> _Track:
        t = self._track(oid)
        t.client_id = client_id
        self.by_client[client_id] = oid
        self.sent.pop(client_id, None)
        if req is not None:
            t.symbol = t.symbol or req.symbol
            t.is_buy = req.side is Side.BUY if t.is_buy is None else t.is_buy
            t.amount = req.qty if t.amount is None else t.amount
        return t

    @staticmethod
    def _matches(t: _Track, req: OrderRequest) -> bool:
        if t.client_id is not None or t.symbol != req.symbol or t.is_buy != (req.side is Side.BUY):
            return False
        if t.amount is None or t.amount != req.qty:
            return False
        rate = req.price if req.type is OrderType.LIMIT else req.stop_price
        if req.type is OrderType.MARKET:
            return t.type in ("OM", "OR")
        if req.reduce_only:             # the trade's own stop / limit
            return t.type == ("L" if req.type is OrderType.LIMIT else "S") and t.rate == rate
        return t.type in ENTRY_TYPES and t.rate == rate

    async def _find_sent(self, client_id: str) -> str | None:
        """The FXCM order a request whose answer was lost became (module docstring)."""
        req, sent_s, sent_ms = self.sent[client_id]
        seen = sorted((t for t in list(self.tracks.values()) if t.seen_s >= sent_s and self._matches(t, req)),
                      key=lambda t: t.seen_s)
        if seen:
            return seen[0].order_id
        for row in await self._model("Order"):
            oid = str(row.get("orderId", ""))
            created = _table_ms(row.get("time"))
            # not seen on the socket: only an order the server created after the request left
            # (its table time, to the Date header's second, with a second of slack)
            if oid and oid not in self.tracks and created is not None and created >= sent_ms - TIME_SLACK_MS:
                await self._event("42" + json.dumps(["Order", json.dumps(row, default=str)]))
                if self._matches(self.tracks[oid], req):
                    return oid
        return None

    async def _order_id(self, client_id: str) -> str | None:
        oid = self.by_client.get(client_id)
        if oid is None and client_id in self.sent:
            oid = await self._find_sent(client_id)
            if oid is not None:
                self._claim(oid, client_id)
        if oid is None and client_id.isdigit():
            oid = client_id                     # FXCM's own order id (another session's order)
        return oid

    async def query(self, symbol: str, client_id: str) -> OrderUpdate | None:
        oid = await self._order_id(client_id)
        if oid is None:
            return None
        t = self.tracks.get(oid)
        if t is None or not t.final:
            row = next((o for o in await self._model("Order") if str(o.get("orderId")) == oid), None)
            if row is None and t is None:
                return None                     # FXCM keeps only live orders: unknown (or long done)
            if row is not None:
                await self._event("42" + json.dumps(["Order", json.dumps(row, default=str)]))
            t = self.tracks[oid]
            if t.client_id is None:
                t.client_id = client_id
        return self._update(t)

    async def cancel(self, symbol: str, client_id: str) -> OrderUpdate:
        oid = await self._order_id(client_id)
        if oid is None:
            raise OrderError(f"{self.venue}: no FXCM order is known for client id {client_id!r} in this session "
                             "(FXCM has no client order ids): cancel by FXCM's orderId (--client-id <orderId>)")
        await self._call("POST", "/trading/delete_order", f"order_id={oid}")
        t = self._track(oid)
        if t.client_id is None:
            t.client_id = client_id
        await self._wait(t, lambda x: x.final, CANCEL_WAIT_S)
        if not t.final:
            t.status = 3                        # FXCM answered executed: the order is deleted
        return self._update(t)

    async def open_orders(self, symbol: str | None = None) -> list[OrderUpdate]:
        out = []
        for row in await self._model("Order"):
            if symbol is not None and row.get("currency") != symbol:
                continue
            oid = str(row.get("orderId", ""))
            known = self.tracks.get(oid)
            t = _Track(oid, known.client_id if known else None, row.get("currency", ""), row.get("isBuy"),
                       _dec(row.get("amountK", 0)), row.get("type", ""), None,
                       row.get("status", 1) if isinstance(row.get("status"), int) else 1)
            out.append(self._update(t, ()))
        return out

    async def positions(self) -> list[VenuePosition]:
        net: dict[str, list] = {}
        for p in await self._model("OpenPosition"):
            qty = _dec(p["amountK"]) * (1 if p.get("isBuy") else -1)
            acc = net.setdefault(p["currency"], [Decimal(0), Decimal(0), Decimal(0), []])
            acc[0] += qty
            acc[1] += qty * _dec(p["open"])
            acc[2] += _dec(p.get("grossPL", 0))
            acc[3].append(str(p.get("tradeId", "")))
        return [VenuePosition(self.venue, sym, q, (cost / q) if q else None, pl, None, {"trades": trades})
                for sym, (q, cost, pl, trades) in net.items()]

    # -- updates ---------------------------------------------------------------------------------
    async def user_stream(self, on_update: Callable[[OrderUpdate], None], ready: asyncio.Event | None = None) -> None:
        """The trading-table updates on the session's socket (subscribed on connect)."""
        if self._closed is None:
            raise VenueUnreachable(f"{self.venue}: no socket open (connect first)")
        self.on_update = on_update
        if ready is not None:
            ready.set()
        await asyncio.shield(self._closed)
        raise VenueUnreachable(f"{self.venue}: the socket closed")

    async def close(self) -> None:
        for t in self._tasks:
            t.cancel()
        if self._ws is not None:
            await self._ws.close()
        if self._session is not None:
            await self._session.close()
        await self.http.aclose()


def _table_ms(text: Any) -> int | None:
    """A trading-table time ("MMDDYYYYhhmmss" and, on updates, milliseconds) in ms (UTC)."""
    if not isinstance(text, str) or len(text) < 14 or not text[:14].isdigit():
        return None
    try:
        d = datetime.datetime.strptime(text[:14], "%m%d%Y%H%M%S").replace(tzinfo=datetime.timezone.utc)
    except ValueError:
        return None
    ms = int(text[14:17]) if text[14:17].isdigit() else 0
    return int(d.timestamp()) * 1000 + ms


def _socket_error(text: str) -> str:
    """The reason of a refused socket ('44{"message":"Unauthorized"}')."""
    if text.startswith("44"):
        try:
            return str(json.loads(text[2:]).get("message", "refused"))
        except (ValueError, AttributeError):
            pass
    return "the socket did not open (no engine.io open packet)"


def _rejection(error: Any, status: int) -> VenueRejected:
    """FXCM's refusal: its error text is JSON {code, message, parameters} or a bare word."""
    if isinstance(error, str):
        try:
            doc = json.loads(error)
        except ValueError:
            doc = None
        if isinstance(doc, dict) and "code" in doc:
            msg = str(doc.get("message", ""))
            params = doc.get("parameters") or []
            if params and not any(str(p) in msg for p in params):
                msg = " ".join(x for x in (msg.strip(), *(str(p) for p in params)) if x)
            return VenueRejected(VENUE, doc["code"], msg, status)
        return VenueRejected(VENUE, status, error or "not executed", status)
    return VenueRejected(VENUE, status, "not executed", status)


def fxcm(creds: Credentials, **kw) -> FxcmAdapter:
    return FxcmAdapter(creds, **kw)
