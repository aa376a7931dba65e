"""KuCoin spot order entry (HF orders): the venue adapter of nexus.exec.client.

Requests as KuCoin documents them (https://www.kucoin.com/docs-new/, "Spot Trading / Orders":
"Add Order" POST /api/v1/hf/orders, "Get Order By ClientOid" GET
/api/v1/hf/orders/client-order/{clientOid}?symbol=, "Cancel Order By ClientOid" DELETE
/api/v1/hf/orders/client-order/{clientOid}?symbol=, "Get Open Orders" GET
/api/v1/hf/orders/active?symbol=, "Get Symbols With Open Order" GET
/api/v1/hf/orders/active/symbols; "Add Stop Order" POST /api/v1/stop-order, "Get Stop Order By
ClientOid" GET /api/v1/stop-order/queryOrderByClientOid, "Cancel Stop Order By ClientOid" DELETE
/api/v1/stop-order/cancelOrderByClientOid; "Account": GET /api/v1/accounts, "Get Apikey Info"
GET /api/v1/user/api-key; "Get Server Time" GET /api/v1/timestamp; "Get Symbol" GET
/api/v2/symbols/{symbol}; "Get Private Token" POST /api/v1/bullet-private), signed with
nexus/venues/kucoin/sign.py (key version 2: KC-API-SIGN = Base64 HMAC-SHA256 of timestamp (ms)
+ method + endpoint[?query] + body, KC-API-PASSPHRASE itself HMAC-signed with the secret).
`order_bytes(req)` renders the complete HTTP/1.1 request (what `nexus bench exec` times).

The passphrase is required before anything is built: a missing one is refused here (seed,
Troubleshooting: "these exchanges silently fail if it's missing"). KuCoin refuses a timestamp
more than 5 s from its clock (400002): that becomes `ClockDrift` naming the drift. A key whose
`permission` holds "Transfer" (KuCoin's withdrawal right; "Withdrawal" in some listings) is
refused (seed: "Never enable Withdrawals").

KuCoin is spot: no leverage, no reduce-only (refused before sending), positions are balances.
MARKET orders go by base size, LIMIT orders are GTC. STOP is a stop order (market on trigger,
`stop` "entry" for a buy: triggers when the last price rises to stopPrice; "loss" for a sell);
once triggered it is an HF order with the same clientOid. KuCoin answers a new order with its
ids only, so `place` reads it back by clientOid. The stop topic carries no clientOid: the adapter
keeps the stop order ids it was answered.

Private stream: a token from POST /api/v1/bullet-private (signed), the WebSocket at the answer's
endpoint (or the override given, e.g. the simulator's) with `?token=&connectId=`, a `welcome`
frame, then subscriptions to /spotMarket/tradeOrdersV2 and /spotMarket/advancedOrders with
privateChannel true, `{"type":"ping"}` every pingInterval. `orderChange` types received / open
/ update -> accepted, match -> a fill (matchSize at matchPrice), filled -> filled, canceled ->
cancelled; stop `open` -> accepted, `cancel` -> cancelled.
"""

from __future__ import annotations

import asyncio
import json
import time
from decimal import Decimal
from typing import Any, Callable

from nexus.exec.client import Fill, KeyRefused, OrderUpdate, VenuePosition, VenueRejected, VenueUnreachable
from nexus.exec.http import WITHDRAWAL_ADVICE, HttpVenue
from nexus.exec.keys import Credentials, KeysMissing
from nexus.exec.orders import OrderError, OrderRequest, OrderType, State
from nexus.exec.signing.base import mask
from nexus.instruments import Instrument
from nexus.venues.kucoin.data import instrument
from nexus.venues.kucoin.feed import REST_URL, WS_URL
from nexus.venues.kucoin.sign import KucoinSigner

VENUE = "kucoin"
OK = "200000"
TIME_PATH = "/api/v1/timestamp"
HF = "/api/v1/hf/orders"
STOP = "/api/v1/stop-order"
BULLET_PRIVATE = "/api/v1/bullet-private"
TOPICS = ("/spotMarket/tradeOrdersV2", "/spotMarket/advancedOrders")
TIMESTAMP_INVALID = "400002"
ORDER_MISSING = "126043"
WITHDRAW_PERMISSIONS = ("Transfer", "Withdrawal")
STOP_KIND = {"buy": "entry", "sell": "loss"}
HANDSHAKE_S = 10.0
PASSPHRASE_MISSING = ("kucoin needs the API passphrase too (NEXUS_KUCOIN_API_PASSPHRASE): KuCoin fails without it "
                      "(seed, Troubleshooting: \"make sure passphrase is also pasted — these exchanges silently fail "
                      "if it's missing\"). Nothing was sent")

# orderChange `type` -> our state (a match is a fill: partially filled or filled by its size)
TYPES = {"received": State.ACCEPTED, "open": State.ACCEPTED, "update": State.ACCEPTED,
         "filled": State.FILLED, "canceled": State.CANCELLED}
STOP_TYPES = {"open": State.ACCEPTED, "triggered": State.ACCEPTED, "cancel": State.CANCELLED}


def _dec(text: Any) -> Decimal | None:
    return Decimal(text) if text not in ("", None) else None


class KucoinAdapter(HttpVenue):
    venue = VENUE
    perpetual = False
    UNKNOWN_ORDER = (ORDER_MISSING, "Order does not exist")

    def __init__(self, creds: Credentials, *, rest_url: str | None = None, ws_url: str | None = None,
                 testnet: bool = False, **kw) -> None:
        if testnet:
            raise OrderError("kucoin: KuCoin has no spot testnet any more (its sandbox is retired); use --sim")
        if not creds.passphrase:
            raise KeysMissing(PASSPHRASE_MISSING)
        super().__init__(rest_url or REST_URL, **kw)
        self.ws_override = None if ws_url in (None, WS_URL) else ws_url
        self.ws_url = ""
        self.ping_s = 18.0
        self.signer = KucoinSigner(creds.api_key, creds.secret, creds.passphrase)
        creds.forget()
        self.stop_ids: dict[str, str] = {}       # stop order id -> client id (the stop topic has no clientOid)

    def __repr__(self) -> str:
        return f"<KucoinAdapter {self.rest_url} {self.signer!r}>"

    # -- requests ---------------------------------------------------------------------------
    def order_body(self, req: OrderRequest) -> tuple[str, str]:
        """(path, compact JSON body) for `req`: an HF order, or a stop order for STOP."""
        if req.reduce_only:
            raise OrderError("kucoin is spot: reduce-only applies to perpetuals only")
        side = req.side.value
        head = f'{{"clientOid":"{req.client_id}","symbol":"{req.symbol}","side":"{side}"'
        if req.type is OrderType.STOP:
            return STOP, (f'{head},"type":"market","stop":"{STOP_KIND[side]}","stopPrice":"{req.stop_price:f}",'
                          f'"size":"{req.qty:f}"}}')
        if req.type is OrderType.LIMIT:
            return HF, f'{head},"type":"limit","price":"{req.price:f}","size":"{req.qty:f}","timeInForce":"GTC"}}'
        return HF, f'{head},"type":"market","size":"{req.qty:f}"}}'

    def auth_headers(self, method: str, path: str, query: str, body: str) -> dict[str, str]:
        return self.signer.sign(method, path, query, body, str(self.now_ms())).headers

    def order_bytes(self, req: OrderRequest) -> bytes:
        """The complete signed HTTP/1.1 request for `req` (the same signature and headers as
        `auth_headers()`, rendered straight into the request text)."""
        path, body = self.order_body(req)
        ts = str(self.now_ms())
        s = self.signer
        sig = s._b64_prehash(ts, "POST", path, "", body)
        return (f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\nKC-API-KEY: {s.api_key}\r\nKC-API-SIGN: {sig}\r\n"
                f"KC-API-TIMESTAMP: {ts}\r\nKC-API-PASSPHRASE: {s._signed_passphrase}\r\n"
                f"KC-API-KEY-VERSION: {s.key_version}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n{body}").encode()

    async def _call(self, method: str, path: str, params: str = "", *, signed: bool = True,
                    missing_ok: bool = False) -> Any:
        if method == "DELETE":       # query string, like GET (request_json puts non-GET params in the body)
            return await self._delete(path, params, missing_ok)
        r, doc = await self.request_json(method, path, params, signed)
        return await self._checked(r, doc, method, path, missing_ok)

    async def _delete(self, path: str, query: str, missing_ok: bool) -> Any:
        if self.stale():
            await self.resync()
        r = await self.send("DELETE", path, query=query, headers=self.auth_headers("DELETE", path, query, ""))
        if r.status_code >= 500:
            raise VenueUnreachable(f"{self.venue}: DELETE {path}: HTTP {r.status_code}")
        try:
            doc = r.json()
        except ValueError:
            raise VenueUnreachable(f"{self.venue}: DELETE {path}: HTTP {r.status_code}, not JSON") from None
        return await self._checked(r, doc, "DELETE", path, missing_ok)

    async def _checked(self, r, doc, method: str, path: str, missing_ok: bool) -> Any:
        try:
            code, msg = str(doc["code"]), str(doc.get("msg", ""))
        except (KeyError, TypeError):
            raise VenueUnreachable(f"{self.venue}: {method} {path}: HTTP {r.status_code}, "
                                   "not KuCoin's envelope") from None
        if code == TIMESTAMP_INVALID:
            raise await self.drift_error(code, msg, "KuCoin accepts 5 s either way", self.resync)
        if missing_ok and (code == ORDER_MISSING or "not exist" in msg.lower()):
            return None          # 126043; older KuCoin answers say 400100 "order not exist."
        if code != OK:
            raise VenueRejected(self.venue, code, msg, r.status_code)
        return doc.get("data")

    # -- time, key --------------------------------------------------------------------------
    async def resync(self) -> None:
        await self.sync_time(lambda r: int(r.json()["data"]), TIME_PATH)

    async def connect(self) -> None:
        await self.resync()

    async def key_info(self) -> dict:
        await self.resync()
        k = await self._call("GET", "/api/v1/user/api-key")
        perms = [p.strip() for p in str(k.get("permission", "")).split(",") if p.strip()]
        info = {"venue": self.venue, "api_key": mask(self.signer.api_key), "time_offset_ms": self.offset_ms,
                "round_trip_ms": self.rtt_ms, "permissions": {p: True for p in perms},
                "api_version": k.get("apiVersion"), "is_master": k.get("isMaster")}
        if any(p in WITHDRAW_PERMISSIONS for p in perms):
            raise KeyRefused(f"{self.venue}: this API key can withdraw funds (permission: Transfer): refused. "
                             f"{WITHDRAWAL_ADVICE}.")
        return info

    # -- instruments ------------------------------------------------------------------------
    async def instrument(self, symbol: str) -> Instrument:
        r, doc = await self.request_json("GET", f"/api/v2/symbols/{symbol}", "", False)
        s = doc.get("data") if isinstance(doc, dict) and doc.get("code") == OK else None
        if not isinstance(s, dict) or s.get("symbol") != symbol:
            why = f" ({doc.get('code')} {doc.get('msg')})" if isinstance(doc, dict) and doc.get("msg") else ""
            raise OrderError(f"unknown symbol {symbol!r} on {self.venue}{why}")
        return instrument(symbol, s["priceIncrement"], s["baseIncrement"], s.get("baseCurrency", ""),
                          s.get("quoteCurrency", ""))

    # -- orders -----------------------------------------------------------------------------
    async def place(self, req: OrderRequest) -> OrderUpdate:
        path, body = self.order_body(req)
        data = await self._call("POST", path, body)
        oid = str((data or {}).get("orderId", ""))
        if req.type is OrderType.STOP:
            self.stop_ids[oid] = req.client_id
        upd = await self.query(req.symbol, req.client_id)
        return upd or OrderUpdate(req.client_id, State.ACCEPTED, Decimal(0), oid, symbol=req.symbol)

    async def query(self, symbol: str, client_id: str) -> OrderUpdate | None:
        o = await self._call("GET", f"{HF}/client-order/{client_id}", f"symbol={symbol}", missing_ok=True)
        if o:
            return self.update(o)
        stops = await self._call("GET", f"{STOP}/queryOrderByClientOid", f"clientOid={client_id}&symbol={symbol}")
        if not stops:
            return None
        st = stops[0]
        self.stop_ids[st.get("id", "")] = client_id
        return OrderUpdate(client_id, State.ACCEPTED, Decimal(0), st.get("id", ""),
                           venue_status=f"stop {st.get('status', '')}", symbol=symbol)

    async def cancel(self, symbol: str, client_id: str) -> OrderUpdate:
        upd = await self.query(symbol, client_id)
        if upd is None:
            raise VenueRejected(self.venue, *self.UNKNOWN_ORDER)
        if upd.venue_status.startswith("stop"):
            data = await self._call("DELETE", f"{STOP}/cancelOrderByClientOid", f"clientOid={client_id}&symbol={symbol}")
            return OrderUpdate(client_id, State.CANCELLED, Decimal(0), str(data.get("cancelledOrderId", "")),
                               venue_status="stop cancelled", symbol=symbol)
        await self._call("DELETE", f"{HF}/client-order/{client_id}", f"symbol={symbol}")
        return await self.query(symbol, client_id) or upd

    async def open_orders(self, symbol: str | None = None) -> list[OrderUpdate]:
        """Open HF orders of `symbol`, or of every symbol that has some ("Get Symbols With Open Order")."""
        symbols = [symbol] if symbol else (await self._call("GET", f"{HF}/active/symbols") or {}).get("symbols", [])
        return [self.update(o) for s in symbols for o in await self._call("GET", f"{HF}/active", f"symbol={s}") or ()]

    async def set_leverage(self, symbol: str, leverage: int) -> int:
        raise OrderError("kucoin is spot: leverage applies to perpetuals only")

    async def positions(self) -> list[VenuePosition]:
        """Spot: each asset's balance in the trading account (available + holds)."""
        out = []
        for a in await self._call("GET", "/api/v1/accounts", "type=trade") or ():
            total = Decimal(a["balance"])
            if total:
                out.append(VenuePosition(self.venue, a["currency"], total,
                                         extra={"free": a["available"], "locked": a["holds"]}))
        return out

    def update(self, o: dict) -> OrderUpdate:
        """An HF order body (query, open orders) as an OrderUpdate."""
        filled = Decimal(o.get("dealSize") or 0)
        if o.get("active"):
            state = State.PARTIALLY_FILLED if filled else State.ACCEPTED
            status = "active"
        else:
            state = State.FILLED if filled and filled == Decimal(o.get("size") or 0) else State.CANCELLED
            status = "done"
        return OrderUpdate(o.get("clientOid", ""), state, filled, o.get("id", ""), (), _dec(o.get("dealFunds")),
                           None, status, o.get("symbol", ""))

    def stream_order(self, d: dict) -> OrderUpdate:
        """An `orderChange` push as an OrderUpdate (a match carries its fill)."""
        kind = d.get("type", "")
        filled = Decimal(d.get("filledSize") or 0)
        fills: tuple[Fill, ...] = ()
        if kind == "match":
            fills = (Fill(Decimal(d["matchSize"]), Decimal(d["matchPrice"]), trade_id=str(d.get("tradeId", ""))),)
            state = State.FILLED if filled == Decimal(d.get("size") or d.get("originSize") or 0) \
                else State.PARTIALLY_FILLED
        else:
            state = TYPES.get(kind, State.ACCEPTED)
            if state is State.ACCEPTED and filled:
                state = State.PARTIALLY_FILLED
        return OrderUpdate(d.get("clientOid", ""), state, filled, d.get("orderId", ""), fills,
                           venue_status=f"{kind}/{d.get('status', '')}", symbol=d.get("symbol", ""))

    def stream_updates(self, msg: dict) -> list[OrderUpdate]:
        kind = msg.get("type")
        if kind == "error":
            raise VenueRejected(self.venue, msg.get("code", ""), str(msg.get("data", "")))
        if kind != "message":
            return []
        topic, d = msg.get("topic", ""), msg.get("data") or {}
        if topic.startswith(TOPICS[0]):
            return [self.stream_order(d)]
        if topic.startswith(TOPICS[1]):
            cid = self.stop_ids.get(d.get("orderId", ""))
            if cid is None or d.get("type") == "triggered":
                return []
            return [OrderUpdate(cid, STOP_TYPES.get(str(d.get("type")), State.ACCEPTED), Decimal(0), d.get("orderId", ""),
                                venue_status=f"stop {d.get('type')}", symbol=d.get("symbol", ""))]
        return []

    # -- private stream ---------------------------------------------------------------------
    async def _token(self) -> None:
        """A private connect token: the WebSocket address (with token) and the ping period."""
        data = await self._call("POST", BULLET_PRIVATE)
        try:
            token = data["token"]
            server = data["instanceServers"][0]
            endpoint = self.ws_override or server["endpoint"]
            self.ping_s = int(server["pingInterval"]) / 1000
        except (KeyError, IndexError, TypeError, ValueError):
            raise VenueUnreachable(f"{self.venue}: bullet-private answer not understood") from None
        sep = "&" if "?" in endpoint else "?"
        self.ws_url = f"{endpoint}{sep}token={token}&connectId=nexus{time.monotonic_ns() % 10**9}"

    async def user_stream(self, on_update: Callable[[OrderUpdate], None], ready: asyncio.Event | None = None) -> None:
        await self._token()

        async def handshake(ws) -> None:
            await self._expect(ws, "welcome", None)
            for i, topic in enumerate(TOPICS):
                await ws.send_str(json.dumps({"id": f"nexus-sub-{i}", "type": "subscribe", "topic": topic,
                                              "privateChannel": True, "response": True}))
                await self._expect(ws, "ack", f"nexus-sub-{i}")

        await self.private_stream(on_update, ready, handshake, '{"id":"nexus-ping","type":"ping"}', self.ping_s)

    async def _expect(self, ws, kind: str, rid: str | None) -> None:
        deadline = time.monotonic() + HANDSHAKE_S
        while True:
            doc = json.loads(await asyncio.wait_for(ws.receive_str(), max(0.1, deadline - time.monotonic())))
            if doc.get("type") == "error":
                raise VenueRejected(self.venue, doc.get("code", ""), str(doc.get("data", "")))
            if doc.get("type") == kind and (rid is None or doc.get("id") == rid):
                return


def spot(creds: Credentials, **kw) -> KucoinAdapter:
    return KucoinAdapter(creds, **kw)
