"""Bitget v2 spot order entry (venue `bitget`, spot symbols such as `BTCUSDT`): the venue
adapter of nexus.exec.client.

Requests as Bitget documents them (https://www.bitget.com/api-doc/, Spot > Trade: POST
/api/v2/spot/trade/place-order, /cancel-order, GET /trade/orderInfo, /trade/unfilled-orders;
plan (trigger) orders POST /trade/place-plan-order, /trade/cancel-plan-order, GET
/trade/current-plan-order, /trade/history-plan-order, /trade/plan-sub-order; Spot > Account:
GET /account/info, /account/assets; Spot > Market: GET /public/symbols, /market/tickers;
Common: GET /api/v2/public/time), signed with nexus/venues/bitget/sign.py (Base64
HMAC-SHA256 of timestamp (ms) + METHOD + path[?query] + body; headers ACCESS-KEY /
-SIGN / -TIMESTAMP / -PASSPHRASE, and `locale`). `order_bytes(req)` renders the complete
HTTP/1.1 request (what `nexus bench exec` times).

The passphrase is required before anything is built: a missing one is refused here (seed,
Troubleshooting: "For Bitget & OKX make sure passphrase is also pasted — these exchanges
silently fail if it's missing"). Bitget refuses a timestamp more than 30 s away from its
clock (40008): that becomes `ClockDrift` naming the drift. A key whose `authorities` include
"wwow" (wallet withdrawal) is refused (seed: "Never enable Withdrawals").

Order types: LIMIT is `limit` / `gtc`. MARKET SELL is `market` (size in base coin). A
market BUY's `size` is in the QUOTE coin on Bitget ("Place Order": "For Market-Buy orders, it
represents the number of quote coins"), which cannot express a base quantity exactly, so a
MARKET buy is sent as an immediate-or-cancel limit (`force` "ioc") for the exact base
quantity at the best ask + `MARKET_BUY_BAND` rounded up to the tick (inside Bitget's
buyLimitPriceRatio of 5 %): what the book cannot fill within the band is cancelled, as a
market order's unfilled rest. STOP is a plan order (`orderType` market, `planType` amount:
size in base coin, `triggerType` fill_price: it triggers on the last trade price); it is
queried as a plan (live / executed / cancelled), and once executed through the order it
placed (plan-sub-order). Bitget answers a new order with its ids only, so `place` reads it
back. Orders are queried by orderId once known (Bitget's "Get Order Info" finds an order by
clientOid while it is unfilled), else by clientOid.

Private stream: /v2/ws/private, `login` with sign = Base64 HMAC of timestamp (Unix seconds)
+ "GET" + "/user/verify", channel `orders` (instType SPOT, instId "default"); the text
"ping" every `PING_S` (Common > WebSocket API: answered "pong").

USDT futures (`BTCUSDT:USDT-FUTURES`, Bitget's "mix" API, https://www.bitget.com/api-doc/contract/):
POST /api/v2/mix/order/place-order (productType USDT-FUTURES, marginMode crossed,
marginCoin USDT, size in base coin, reduceOnly YES|NO, one-way position mode), GET
/order/detail, POST /order/cancel-order, GET /order/orders-pending; STOP is a trigger order
(POST /order/place-plan-order, planType normal_plan, orderType market, triggerType
fill_price), found in GET /order/orders-plan-pending or /order/orders-plan-history (its
executeOrderId once executed) and cancelled with /order/cancel-plan-order; leverage through
POST /api/v2/mix/account/set-leverage (above the contract's maxLever: refused before
sending); positions from GET /api/v2/mix/position/all-position (holdSide long|short). The
stream subscribes `orders` for USDT-FUTURES too. One adapter serves both markets, so
`perpetual` (which makes the Executor's TP/SL reduce-only) is False: a futures entry's TP/SL
are plain closing orders; give --reduce-only orders yourself where that matters.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, Decimal
from typing import Any

from nexus.exec.client import Fill, KeyRefused, OrderUpdate, VenuePosition, VenueRejected, VenueUnreachable
from nexus.exec.http import WITHDRAWAL_ADVICE, HttpVenue
from nexus.exec.keys import Credentials, KeysMissing
from nexus.exec.orders import OrderError, OrderRequest, OrderType, Side, State, plain
from nexus.exec.signing.base import mask
from nexus.instruments import Instrument
from nexus.venues.bitget.data import FUTURES_TYPES, _step, instrument, split, symbol_of
from nexus.venues.bitget.sign import BitgetSigner
from nexus.venues.okx.orders import LoginStream

VENUE = "bitget"
OK = "00000"
PING_S = 30.0
TIME_PATH = "/api/v2/public/time"
SPOT = "/api/v2/spot/"
MIX = "/api/v2/mix/"
MARGIN_COIN = "USDT"
FUTURES_ORDER_MISSING = "40768"
PUBLIC_WS_PATH, PRIVATE_WS_PATH = "/v2/ws/public", "/v2/ws/private"
URLS = ("https://api.bitget.com", "wss://ws.bitget.com/v2/ws/private")
LOCALE = "en-US"
TIMESTAMP_EXPIRED = "40008"
ORDER_MISSING = ("43001", "The order does not exist")
PLAN_MISSING = "43025"
MARKET_BUY_BAND = Decimal("0.01")     # a MARKET buy's IOC limit: best ask + 1 %
WITHDRAW_AUTHORITY = "wwow"
PLAN_HISTORY_MS = 90 * 86_400_000     # history-plan-order's window (startTime/endTime)
CHANNELS = ({"instType": "SPOT", "channel": "orders", "instId": "default"},
            {"instType": "USDT-FUTURES", "channel": "orders", "instId": "default"})
PASSPHRASE_MISSING = ("bitget needs the API passphrase too (NEXUS_BITGET_API_PASSPHRASE): Bitget fails silently "
                      "without it (seed, Troubleshooting: \"make sure passphrase is also pasted — these exchanges "
                      "silently fail if it's missing\"). Nothing was sent")

STATES = {"init": State.ACCEPTED, "new": State.ACCEPTED, "live": State.ACCEPTED,
          "partially_filled": State.PARTIALLY_FILLED, "partially_fill": State.PARTIALLY_FILLED,
          "filled": State.FILLED, "full_fill": State.FILLED, "cancelled": State.CANCELLED,
          "canceled": State.CANCELLED}
FUTURES_PLAN_STATES = {"live": State.ACCEPTED, "executing": State.ACCEPTED, "cancelled": State.CANCELLED,
                       "canceled": State.CANCELLED, "fail_execute": State.REJECTED, "fail_trigger": State.REJECTED}
PLAN_STATES = {"live": State.ACCEPTED, "executing": State.ACCEPTED, "cancelled": State.CANCELLED,
               "fail_execute": State.REJECTED}


def private_ws(url: str) -> str:
    url = url.rstrip("/")
    return url[: -len(PUBLIC_WS_PATH)] + PRIVATE_WS_PATH if url.endswith(PUBLIC_WS_PATH) else url


def _dec(text) -> Decimal | None:
    return Decimal(text) if text not in ("", None) else None


def _market(symbol: str) -> tuple[str, str]:
    """(instType, Bitget's symbol): ("SPOT", "BTCUSDT") or ("USDT-FUTURES", "BTCUSDT")."""
    inst_type, inst_id = split(symbol)
    if inst_type != "SPOT" and inst_type not in FUTURES_TYPES:
        raise OrderError(f"{symbol}: Bitget order entry trades spot (BTCUSDT) and USDT futures "
                         "(BTCUSDT:USDT-FUTURES) only: not sent")
    return inst_type, inst_id


def _product(inst_type: str, inst_id: str) -> str:
    """The mix endpoints' common fields."""
    return f'"symbol":"{inst_id}","productType":"{inst_type}","marginCoin":"{MARGIN_COIN}"'


class BitgetAdapter(LoginStream, HttpVenue):
    venue = VENUE
    perpetual = False
    VERIFY_PATH, CHANNELS, PING_S = "/user/verify", CHANNELS, PING_S  # LoginStream (OKX's kind of stream)
    UNKNOWN_ORDER = ORDER_MISSING

    def __init__(self, creds: Credentials, *, rest_url: str | None = None, ws_url: str | None = None,
                 testnet: bool = False, **kw) -> None:
        if testnet:
            raise OrderError("bitget: the demo-trading switch is not built; Binance has the seed's Testnet")
        if not creds.passphrase:
            raise KeysMissing(PASSPHRASE_MISSING)
        rest, ws = URLS
        super().__init__(rest_url or rest, **kw)
        self.ws_url = private_ws(ws_url or ws)
        self.signer = BitgetSigner(creds.api_key, creds.secret, creds.passphrase)
        key, sign, stamp, passphrase = BitgetSigner.header_names      # order_bytes' fixed parts, rendered once
        self._order_head = f"Host: {self.host}\r\n{key}: {self.signer.api_key}\r\n{sign}: "
        self._order_stamp, self._order_pass = f"\r\n{stamp}: ", f"\r\n{passphrase}: "
        creds.forget()
        self.ticks: dict[str, Decimal] = {}
        self.order_ids: dict[str, str] = {}      # client id -> Bitget orderId
        self.client_ids: dict[str, str] = {}     # orderId a plan placed -> the plan's client id

    def __repr__(self) -> str:
        return f"<BitgetAdapter {self.rest_url} {self.signer!r}>"

    # -- requests ---------------------------------------------------------------------------
    def order_body(self, req: OrderRequest, protect: Decimal | None = None) -> tuple[str, str]:
        """(path, compact JSON body) for `req`; a spot MARKET buy needs `protect`, its IOC limit price."""
        inst_type, inst_id = _market(req.symbol)
        if inst_type != "SPOT":
            return self.futures_body(req, inst_type, inst_id)
        if req.reduce_only:
            raise OrderError("bitget spot: reduce-only applies to perpetuals only")
        side, sym, cid = "sell" if req.side is Side.SELL else "buy", req.symbol, req.client_id
        if req.type is OrderType.STOP:
            return SPOT + "trade/place-plan-order", (
                f'{{"symbol":"{sym}","side":"{side}","triggerPrice":"{plain(req.stop_price)}","orderType":"market",'
                f'"size":"{plain(req.qty)}","planType":"amount","triggerType":"fill_price","clientOid":"{cid}"}}')
        if req.type is OrderType.LIMIT:
            kind, force, px = "limit", "gtc", req.price
        elif req.side is Side.BUY:
            if protect is None:
                raise OrderError("bitget: a MARKET buy is an IOC limit at the best ask + band: its price is needed")
            kind, force, px = "limit", "ioc", protect
        else:
            kind, force, px = "market", "gtc", None
        price = f',"price":"{plain(px)}"' if px is not None else ""
        return SPOT + "trade/place-order", (
            f'{{"symbol":"{sym}","side":"{side}","orderType":"{kind}","force":"{force}"{price},"size":"{plain(req.qty)}",'
            f'"clientOid":"{cid}"}}')

    def futures_body(self, req: OrderRequest, inst_type: str, inst_id: str) -> tuple[str, str]:
        side, cid = "sell" if req.side is Side.SELL else "buy", req.client_id
        ro = "YES" if req.reduce_only else "NO"
        if req.type is OrderType.STOP:
            return MIX + "order/place-plan-order", (
                f'{{"planType":"normal_plan",{_product(inst_type, inst_id)},"marginMode":"crossed",'
                f'"size":"{plain(req.qty)}","triggerPrice":"{plain(req.stop_price)}","triggerType":"fill_price","side":"{side}",'
                f'"orderType":"market","clientOid":"{cid}","reduceOnly":"{ro}"}}')
        price = f',"price":"{plain(req.price)}"' if req.type is OrderType.LIMIT else ""
        kind = "limit" if req.type is OrderType.LIMIT else "market"
        return MIX + "order/place-order", (
            f'{{{_product(inst_type, inst_id)},"marginMode":"crossed","size":"{plain(req.qty)}"{price},"side":"{side}",'
            f'"orderType":"{kind}","force":"gtc","clientOid":"{cid}","reduceOnly":"{ro}"}}')

    def headers(self, method: str, path: str, query: str, body: str) -> dict[str, str]:
        h = self.signer.sign(method, path, query, body, str(self.now_ms())).headers
        h["locale"] = LOCALE
        return h

    def order_bytes(self, req: OrderRequest) -> bytes:
        """The complete signed HTTP/1.1 request for `req` (a MARKET buy: at `req.price` as its
        protection price, which `place` gets from the book): this millisecond's timestamp and a
        fresh HMAC (as BitgetSigner.sign), the host and key lines rendered once."""
        path, body = self.order_body(req, req.price)
        ts = str(self.now_ms())
        signer = self.signer
        sig = signer._b64(f"{ts}POST{path}{body}".encode())      # no query
        return (f"POST {path} HTTP/1.1\r\n{self._order_head}{sig}{self._order_stamp}{ts}"
                f"{self._order_pass}{signer._passphrase}\r\nlocale: {LOCALE}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n{body}").encode()

    def auth_headers(self, method: str, path: str, query: str, body: str) -> dict[str, str]:
        return self.headers(method, path, query, body)

    async def _call(self, method: str, path: str, params: str = "", *, signed: bool = True,
                    missing: tuple[str, ...] = ()) -> Any:
        r, doc = await self.request_json(method, path, params, signed)
        try:
            code, msg = str(doc["code"]), str(doc.get("msg", ""))
        except (KeyError, TypeError):
            raise VenueUnreachable(f"{self.venue}: {method} {path}: HTTP {r.status_code}, not Bitget's envelope") \
                from None
        if code == OK:
            return doc.get("data")
        if code == TIMESTAMP_EXPIRED:
            raise await self.drift_error(code, msg, "Bitget accepts 30 s either way", self.resync)
        if code in missing:
            return None
        raise VenueRejected(self.venue, code, msg, r.status_code)

    # -- time, key --------------------------------------------------------------------------
    async def resync(self) -> None:
        await self.sync_time(lambda r: int(r.json()["data"]["serverTime"]), TIME_PATH)

    async def connect(self) -> None:
        await self.resync()

    async def key_info(self) -> dict:
        await self.resync()
        acct = await self._call("GET", SPOT + "account/info")
        auth = [str(a) for a in acct.get("authorities") or ()]
        info = {"venue": self.venue, "api_key": mask(self.signer.api_key), "time_offset_ms": self.offset_ms,
                "round_trip_ms": self.rtt_ms, "permissions": {a: True for a in auth},
                "ip_whitelist": acct.get("ips", "")}
        if WITHDRAW_AUTHORITY in auth:
            raise KeyRefused(f"{self.venue}: this API key can withdraw funds (authorities: {WITHDRAW_AUTHORITY}): "
                             f"refused. {WITHDRAWAL_ADVICE}.")
        return info

    # -- instruments ------------------------------------------------------------------------
    async def instrument(self, symbol: str) -> Instrument:
        inst_type, inst_id = _market(symbol)
        if inst_type != "SPOT":
            return await self.contract(symbol, inst_type, inst_id)
        try:
            rows = await self._call("GET", SPOT + "public/symbols", f"symbol={symbol}", signed=False)
        except VenueRejected as e:
            raise OrderError(f"unknown symbol {symbol!r} on {self.venue} ({e.code} {e.message})") from None
        s = next((x for x in rows or () if x.get("symbol") == symbol), None)
        if s is None:
            raise OrderError(f"unknown symbol {symbol!r} on {self.venue}")
        tick = _step(s["pricePrecision"])
        self.ticks[symbol] = Decimal(tick)
        return instrument(symbol, tick, _step(s["quantityPrecision"]), "spot", s.get("baseCoin", ""),
                          s.get("quoteCoin", ""))

    async def contract(self, symbol: str, inst_type: str, inst_id: str) -> Instrument:
        try:
            rows = await self._call("GET", MIX + "market/contracts", f"productType={inst_type}&symbol={inst_id}",
                                    signed=False)
        except VenueRejected as e:
            raise OrderError(f"unknown symbol {symbol!r} on {self.venue} ({e.code} {e.message})") from None
        c = next((x for x in rows or () if x.get("symbol") == inst_id), None)
        if c is None:
            raise OrderError(f"unknown symbol {symbol!r} on {self.venue}")
        self.max_leverage[symbol] = int(Decimal(c.get("maxLever") or 1))
        tick = _step(c["pricePlace"], c.get("priceEndStep") or "1")
        self.ticks[symbol] = Decimal(tick)
        return instrument(symbol, tick, c.get("sizeMultiplier") or _step(c["volumePlace"]), "linear",
                          c.get("baseCoin", ""), c.get("quoteCoin", ""))

    async def protection_price(self, symbol: str) -> Decimal:
        """A MARKET buy's IOC limit: the best ask + MARKET_BUY_BAND, up to the tick."""
        if symbol not in self.ticks:
            await self.instrument(symbol)
        rows = await self._call("GET", SPOT + "market/tickers", f"symbol={symbol}", signed=False)
        ask = _dec((rows or [{}])[0].get("askPr"))
        if not ask:
            raise OrderError(f"bitget {symbol}: no ask in the book to buy at market: not sent")
        tick = self.ticks[symbol]
        return (ask * (1 + MARKET_BUY_BAND) / tick).to_integral_value(ROUND_CEILING) * tick

    # -- orders -----------------------------------------------------------------------------
    async def place(self, req: OrderRequest) -> OrderUpdate:
        protect = None
        futures = _market(req.symbol)[0] != "SPOT"
        if req.type is OrderType.MARKET and req.side is Side.BUY and not futures:
            protect = await self.protection_price(req.symbol)
        path, body = self.order_body(req, protect)
        data = await self._call("POST", path, body)
        if req.type is OrderType.STOP:
            return OrderUpdate(req.client_id, State.ACCEPTED, Decimal(0), data.get("orderId", ""),
                               venue_status="plan live", symbol=req.symbol)
        self.order_ids[req.client_id] = data["orderId"]
        upd = await self.query(req.symbol, req.client_id)
        return upd or OrderUpdate(req.client_id, State.ACCEPTED, Decimal(0), data["orderId"], symbol=req.symbol)

    async def _order(self, query: str) -> dict | None:
        rows = await self._call("GET", SPOT + "trade/orderInfo", query)
        return rows[0] if rows else None

    async def query(self, symbol: str, client_id: str) -> OrderUpdate | None:
        inst_type, inst_id = _market(symbol)
        if inst_type != "SPOT":
            return await self.futures_query(symbol, inst_type, inst_id, client_id)
        oid = self.order_ids.get(client_id)
        o = await self._order(f"orderId={oid}" if oid else f"clientOid={client_id}")
        if o is not None:
            self.order_ids[client_id] = o["orderId"]
            return self.update(o)
        plan = await self._plan(symbol, client_id)
        if plan is None:
            return None
        if plan.get("status") == "executed":
            subs = await self._call("GET", SPOT + "trade/plan-sub-order", f"planOrderId={plan['orderId']}")
            if subs:
                self.client_ids[subs[0]["orderId"]] = client_id
                o = await self._order(f"orderId={subs[0]['orderId']}")
                if o is not None:
                    return self.update(o)
        return OrderUpdate(client_id, PLAN_STATES.get(plan.get("status"), State.ACCEPTED), Decimal(0),
                           plan.get("orderId", ""), venue_status=f"plan {plan.get('status')}", symbol=symbol)

    async def _detail(self, inst_type: str, inst_id: str, ref: str) -> dict | None:
        return await self._call("GET", MIX + "order/detail", f"symbol={inst_id}&productType={inst_type}&{ref}",
                                missing=(FUTURES_ORDER_MISSING,))

    async def futures_query(self, symbol: str, inst_type: str, inst_id: str, client_id: str) -> OrderUpdate | None:
        oid = self.order_ids.get(client_id)
        o = await self._detail(inst_type, inst_id, f"orderId={oid}" if oid else f"clientOid={client_id}")
        if o:
            self.order_ids[client_id] = o["orderId"]
            return self.update(o, symbol)
        plan = await self._futures_plan(inst_type, inst_id, client_id)
        if plan is None:
            return None
        status = plan.get("planStatus")
        if status == "executed" and plan.get("executeOrderId"):
            self.client_ids[plan["executeOrderId"]] = client_id
            o = await self._detail(inst_type, inst_id, f"orderId={plan['executeOrderId']}")
            if o:
                return self.update(o, symbol)
        return OrderUpdate(client_id, FUTURES_PLAN_STATES.get(status, State.ACCEPTED), Decimal(0),
                           plan.get("orderId", ""), venue_status=f"plan {status}", symbol=symbol)

    async def _futures_plan(self, inst_type: str, inst_id: str, client_id: str) -> dict | None:
        now = self.now_ms()
        q = f"productType={inst_type}&planType=normal_plan&symbol={inst_id}"
        for path, extra in (("orders-plan-pending", ""),
                            ("orders-plan-history", f"&startTime={now - PLAN_HISTORY_MS}&endTime={now}")):
            data = await self._call("GET", MIX + "order/" + path, q + extra)
            for p in (data or {}).get("entrustedList") or ():
                if p.get("clientOid") == client_id:
                    return p
        return None

    async def _plan(self, symbol: str, client_id: str) -> dict | None:
        """The plan order with this client id: current ones first, then history."""
        now = self.now_ms()
        for path, q in (("current-plan-order", f"symbol={symbol}"),
                        ("history-plan-order", f"symbol={symbol}&startTime={now - PLAN_HISTORY_MS}&endTime={now}")):
            data = await self._call("GET", SPOT + "trade/" + path, q)
            for p in (data or {}).get("orderList") or ():
                if p.get("clientOid") == client_id:
                    return p
        return None

    async def cancel(self, symbol: str, client_id: str) -> OrderUpdate:
        inst_type, inst_id = _market(symbol)
        if inst_type != "SPOT":
            return await self.futures_cancel(symbol, inst_type, inst_id, client_id)
        oid = self.order_ids.get(client_id)
        ref = f'"orderId":"{oid}"' if oid else f'"clientOid":"{client_id}"'
        done = await self._call("POST", SPOT + "trade/cancel-order", f'{{"symbol":"{symbol}",{ref}}}',
                                missing=(ORDER_MISSING[0],))
        if done is None:
            plan = await self._plan(symbol, client_id)
            if plan is None or plan.get("status") != "live":
                raise VenueRejected(self.venue, *self.UNKNOWN_ORDER)
            await self._call("POST", SPOT + "trade/cancel-plan-order", f'{{"orderId":"{plan["orderId"]}"}}')
        upd = await self.query(symbol, client_id)
        if upd is None:
            raise VenueRejected(self.venue, *self.UNKNOWN_ORDER)
        return upd

    async def futures_cancel(self, symbol: str, inst_type: str, inst_id: str, client_id: str) -> OrderUpdate:
        oid = self.order_ids.get(client_id)
        ref = f'"orderId":"{oid}"' if oid else f'"clientOid":"{client_id}"'
        done = await self._call("POST", MIX + "order/cancel-order", f"{{{_product(inst_type, inst_id)},{ref}}}",
                                missing=(FUTURES_ORDER_MISSING,))
        if done is None:
            plan = await self._futures_plan(inst_type, inst_id, client_id)
            if plan is None or plan.get("planStatus") != "live":
                raise VenueRejected(self.venue, FUTURES_ORDER_MISSING, "Order does not exist")
            res = await self._call("POST", MIX + "order/cancel-plan-order",
                                   f'{{{_product(inst_type, inst_id)},"planType":"normal_plan",'
                                   f'"orderIdList":[{{"orderId":"{plan["orderId"]}","clientOid":"{client_id}"}}]}}')
            failed = (res or {}).get("failureList") or ()
            if failed:
                raise VenueRejected(self.venue, FUTURES_ORDER_MISSING, str(failed[0].get("errorMsg", "")))
        upd = await self.query(symbol, client_id)
        if upd is None:
            raise VenueRejected(self.venue, FUTURES_ORDER_MISSING, "Order does not exist")
        return upd

    async def open_orders(self, symbol: str | None = None) -> list[OrderUpdate]:
        out: list[OrderUpdate] = []
        inst_type, inst_id = _market(symbol) if symbol else ("", "")
        if inst_type in ("", "SPOT"):
            rows = await self._call("GET", SPOT + "trade/unfilled-orders", f"symbol={inst_id}" if symbol else "")
            out += [self.update(o) for o in rows or ()]
        for it in ([inst_type] if symbol and inst_type != "SPOT" else [] if symbol else sorted(FUTURES_TYPES)):
            data = await self._call("GET", MIX + "order/orders-pending",
                                    f"productType={it}" + (f"&symbol={inst_id}" if symbol else ""))
            out += [self.update(o, symbol_of(it, o["symbol"])) for o in (data or {}).get("entrustedList") or ()]
        return out

    async def set_leverage(self, symbol: str, leverage: int) -> int:
        inst_type, inst_id = _market(symbol)
        if inst_type == "SPOT":
            raise OrderError(f"bitget {symbol} is spot: leverage applies to USDT futures (e.g. {symbol}:USDT-FUTURES)")
        await self.check_leverage(symbol, leverage)
        res = await self._call("POST", MIX + "account/set-leverage",
                               f'{{{_product(inst_type, inst_id)},"leverage":"{leverage}"}}')
        return int(res.get("crossMarginLeverage") or res.get("longLeverage") or leverage)

    async def positions(self) -> list[VenuePosition]:
        """Spot: each coin's balance (available + frozen + locked); USDT futures: each open
        position, signed (short negative), under its Nexus symbol."""
        out = []
        for it in sorted(FUTURES_TYPES):
            for p in await self._call("GET", MIX + "position/all-position",
                                      f"productType={it}&marginCoin={MARGIN_COIN}") or ():
                n = Decimal(p.get("total") or 0) * (-1 if p.get("holdSide") == "short" else 1)
                if n:
                    out.append(VenuePosition(self.venue, symbol_of(it, p["symbol"]), n, _dec(p.get("openPriceAvg")),
                                             _dec(p.get("unrealizedPL")), int(Decimal(p.get("leverage") or 0)),
                                             {"markPrice": p.get("markPrice"), "realisedPnl": p.get("achievedProfits"),
                                              "marginMode": p.get("marginMode")}))
        for a in await self._call("GET", SPOT + "account/assets") or ():
            free, frozen, locked = (Decimal(a.get(k) or 0) for k in ("available", "frozen", "locked"))
            if free or frozen or locked:
                out.append(VenuePosition(self.venue, a["coin"], free + frozen + locked,
                                         extra={"free": a.get("available"), "locked": str(frozen + locked)}))
        return out

    def update(self, o: dict, symbol: str | None = None) -> OrderUpdate:
        """An order (Get Order Info, unfilled orders, the `orders` channel) as an OrderUpdate.
        Bitget's fees are signed (negative: charged); Fill.fee is what was charged."""
        oid = o.get("orderId", "")
        cid = self.client_ids.get(oid) or o.get("clientOid", "")
        status = o.get("status") or o.get("state") or "live"
        filled = Decimal(o["accBaseVolume"] if "accBaseVolume" in o else o.get("baseVolume") or 0)  # stream: cumulative
        fills = ()
        if o.get("tradeId") and o.get("fillPrice"):
            fills = (Fill(Decimal(o["baseVolume"]), Decimal(o["fillPrice"]), -Decimal(o.get("fillFee") or 0),
                          o.get("fillFeeCoin", ""), str(o["tradeId"])),)
        avg = _dec(o.get("priceAvg"))
        return OrderUpdate(cid, STATES.get(status, State.ACCEPTED), filled, oid, fills,
                           _dec(o.get("quoteVolume")) if "quoteVolume" in o else None,
                           avg if avg else None, status, symbol or o.get("symbol") or o.get("instId", ""))

    def stream_updates(self, msg: dict) -> list[OrderUpdate]:
        arg = msg.get("arg") or {}
        if arg.get("channel") == "orders":
            it = arg.get("instType", "SPOT")
            return [self.update(o, symbol_of(it, o.get("instId", ""))) for o in msg.get("data") or ()]
        return []


def spot(creds: Credentials, **kw) -> BitgetAdapter:
    return BitgetAdapter(creds, **kw)
