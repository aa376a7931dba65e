"""Gate's stops: price-triggered orders, spot and USDT-settled futures, for the order adapter
(nexus/venues/gate/orders.py, whose GateAdapter this mixin is part of).

Sources: Gate API v4 docs (https://www.gate.io/docs/developers/apiv4/en/): "Create a
price-triggered order", "Retrieve running auto order list", "Get a price-triggered order",
"cancel a price-triggered order" (spot /spot/price_orders, futures /futures/usdt/price_orders);
the official SDK's models (github.com/gateio/gateapi-python docs/SpotPriceTriggeredOrder.md,
SpotPriceTrigger.md, SpotPricePutOrder.md, FuturesPriceTriggeredOrder.md, FuturesInitialOrder.md,
FuturesPriceTrigger.md); labels AUTO_TRIGGER_PRICE_GREATE_LAST / AUTO_TRIGGER_PRICE_LESS_LAST
("invalid argument: Trigger.Price must > last_price") for a futures trigger on the wrong side
of the last price.

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
account could be taken for ours; a request still in flight when the query found nothing (it
reaches Gate after the lookup) is not seen, and the resend then doubles it (with a client id
Gate would refuse the duplicate; here nothing can); and a stop of an earlier session is not
found by its client id (Gate's own id is shown by `order ls`). Query / cancel (DELETE .../price_orders/{id}) /
open orders include them; once it fired (`fired_order_id`, futures `trade_id`) the order it
put is followed under the stop's client id: query and cancel address it, and its pushes on
the private channels (whose text is not ours) are held until the waiting stops are looked up,
then given under the stop's client id. An entry's stop-loss (--sl-ticks) is such a stop
(reduce-only on futures).
"""

from __future__ import annotations

import asyncio
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from nexus.exec.client import Fill, OrderUpdate, VenueRejected, VenueUnreachable
from nexus.exec.orders import OrderError, OrderRequest, State
from nexus.venues.gate.data import FUTURES_SUFFIX
from nexus.venues.gate.markets import FUTURES, TEXT_PREFIX, _plain, contract_of, is_futures, pair_of

PRICE_ORDER_PATHS = {False: "/spot/price_orders", True: f"{FUTURES}/price_orders"}   # by is_futures
STOP_BAND = Decimal("0.01")          # a spot stop puts an IOC limit 1 % beyond its trigger price
SPOT_STOP_EXPIRATION_S = 30 * 86400  # a spot trigger needs an expiration: 30 days
MATCH_SLACK_S = 2                    # a price order's creation time (Gate: seconds) against the send
ORPHAN_TRIES = 3                     # lookups of the stops before an unknown pushed order is passed on


class GateStops:
    """The stops of GateAdapter: its `stops`, `stop_cids`, `stop_sent`, `stops_ended`,
    `fired`, `orphans` maps (made in GateAdapter.__init__) and the calls below."""

    trades: dict[str, list[Fill]]

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
        rule = ">=" if buy else "<="
        return (f'{{"trigger":{{"price":"{stop}","rule":"{rule}","expiration":{SPOT_STOP_EXPIRATION_S}}},'
                f'"put":{{"type":"limit","side":"{req.side.value}","price":"{_plain(cap)}",'
                f'"amount":"{_plain(req.qty)}",'
                f'"account":"normal","time_in_force":"ioc"}},"market":"{pair}"}}')

    async def place_stop(self, req: OrderRequest) -> OrderUpdate:
        futures = is_futures(req.symbol)
        body = await self.stop_body(req)
        self.stop_sent[req.client_id] = (req, self.now_ms())
        try:
            o = await self._call("POST", PRICE_ORDER_PATHS[futures], body=body)
        except VenueRejected:
            self.stop_sent.pop(req.client_id, None)       # refused: nothing to look for
            raise
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
