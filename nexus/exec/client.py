"""Venue-neutral order entry: the adapter protocol every venue implements
(nexus/venues/<venue>/orders.py) and the `Executor` that places, cancels and tracks orders
through one.

The Executor owns the session's `OrderTracker` (one transition table for every venue) and
`Positions`. Every venue answer and private-stream update reaches it as an `OrderUpdate`
(cumulative filled quantity, the latest fills, the venue's state mapped onto ours) and is
applied idempotently: a fill already counted (the place answer and the stream report the
same trade) is not counted twice, and a stale update (a `NEW` arriving after a fill) moves
nothing.

Retries never double an order: a request that timed out or lost its connection may have
reached the venue, so before anything is resent the order is queried by its client order
id; only a venue that does not know it gets the request again (with the same client id, so
a venue would refuse a duplicate anyway). When the network stays down, `NetworkFailure`
carries the order's last known state, queried before giving up.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Callable, Protocol

from nexus.exceptions import NexusError
from nexus.exec.orders import (
    Order, OrderError, OrderRequest, OrderTracker, OrderType, Side, State, bracket, legal,
)
from nexus.exec.positions import Positions
from nexus.instruments import Instrument

ATTEMPTS_DEFAULT = 3          # sends of one order at most (each after a query found nothing)
QUERY_ATTEMPTS = 3            # queries by client id after a timeout before giving up
RETRY_PAUSE_S = 0.2


log = logging.getLogger("nexus.exec")

class VenueRejected(NexusError):
    """The venue refused a request: its own code and message."""

    def __init__(self, venue: str, code: int | str, message: str, status: int = 400) -> None:
        super().__init__(f"{venue} rejected the request: {code} {message}")
        self.venue, self.code, self.message, self.status = venue, code, message, status


class ClockDrift(VenueRejected):
    """The venue refused the request's timestamp; the message names the drift and the fix."""


class KeyRefused(NexusError):
    """A key Nexus will not trade with (e.g. one with withdrawal rights)."""


class VenueUnreachable(NexusError):
    """The request got no answer (connection refused, reset, timed out): it may or may not
    have reached the venue."""


class NetworkFailure(NexusError):
    """Order entry gave up on the network; `state` is the order's last known state."""

    def __init__(self, message: str, order: Order | None) -> None:
        super().__init__(message)
        self.order = order


@dataclass(frozen=True)
class Fill:
    qty: Decimal
    price: Decimal
    fee: Decimal = Decimal(0)
    fee_asset: str = ""
    trade_id: str = ""


@dataclass(frozen=True)
class OrderUpdate:
    """An order as the venue reports it: the state mapped onto ours, the cumulative filled
    quantity, the fills that led up to it (the latest ones, in order; may be empty) and the
    cumulative quote amount where the venue gives it."""

    client_id: str
    state: State
    filled: Decimal
    venue_order_id: str = ""
    fills: tuple[Fill, ...] = ()
    cum_quote: Decimal | None = None
    avg_price: Decimal | None = None
    venue_status: str = ""
    symbol: str = ""


@dataclass(frozen=True)
class VenuePosition:
    venue: str
    symbol: str            # a spot venue reports assets here, with qty the balance
    qty: Decimal
    entry_price: Decimal | None = None
    unrealised: Decimal | None = None
    leverage: int | None = None
    extra: dict = field(default_factory=dict)


class VenueAdapter(Protocol):
    """What a venue's order entry provides (async; raises VenueRejected, VenueUnreachable)."""

    venue: str
    perpetual: bool
    UNKNOWN_ORDER: tuple[int | str, str]      # the venue's code and message for an unknown order id

    async def connect(self) -> None: ...                    # server-time sync (and key check)
    async def instrument(self, symbol: str) -> Instrument: ...   # tick/lot grid from the venue
    async def place(self, req: OrderRequest) -> OrderUpdate: ...
    async def query(self, symbol: str, client_id: str) -> OrderUpdate | None: ...  # None: unknown
    async def cancel(self, symbol: str, client_id: str) -> OrderUpdate: ...
    async def open_orders(self, symbol: str | None = None) -> list[OrderUpdate]: ...
    async def set_leverage(self, symbol: str, leverage: int) -> int: ...
    async def positions(self) -> list[VenuePosition]: ...
    async def key_info(self) -> dict: ...                   # permissions, time drift
    # optional: def check_request(self, req: OrderRequest) -> None  (raise OrderError: not sent)
    # optional: def tick_at(self, price: Decimal) -> Decimal  (the tick at that price, for TP/SL ticks)
    async def user_stream(self, on_update: Callable[[OrderUpdate], None],
                          ready: asyncio.Event | None = None) -> None: ...
    async def close(self) -> None: ...


class Executor:
    """Orders of one session on one venue adapter."""

    def __init__(self, adapter: VenueAdapter, *, attempts: int = ATTEMPTS_DEFAULT, agg_mode: bool = False) -> None:
        self.adapter = adapter
        self.attempts = attempts
        self.agg_mode = agg_mode
        self.tracker = OrderTracker(on_event=self._on_event)
        self.positions = Positions()
        self.instruments: dict[str, Instrument] = {}
        self.sends = 0                          # order requests sent (tests: never doubled)
        self.unknown_updates = 0                # updates for orders this session did not place
        self.on_fill: Callable[[Order, Decimal, Decimal, Decimal], None] | None = None   # (order, qty, price, fee)
        self.on_unknown: Callable[[OrderUpdate], None] | None = None
        self._changed = asyncio.Condition()
        self._stream: asyncio.Task | None = None
        # TP/SL of entries that rest: placed when the entry fills (or ends part-filled)
        self._pending_brackets: dict[str, Instrument] = {}
        self._bracket_tasks: set[asyncio.Task] = set()
        self.bracket_errors: list[str] = []

    # -- lifecycle --------------------------------------------------------------------------
    async def start(self, stream: bool = True) -> None:
        await self.adapter.connect()
        if stream:
            ready = asyncio.Event()
            self._stream = asyncio.get_running_loop().create_task(self.adapter.user_stream(self.apply, ready))
            waiter = asyncio.ensure_future(ready.wait())
            await asyncio.wait({waiter, self._stream}, return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
            if self._stream.done():
                self._stream.result()           # the stream failed to open: say why

    async def stop(self) -> None:
        if self._stream is not None:
            self._stream.cancel()
            try:
                await self._stream
            except (asyncio.CancelledError, NexusError):
                pass
        await self.adapter.close()

    async def instrument(self, symbol: str) -> Instrument:
        inst = self.instruments.get(symbol)
        if inst is None:
            inst = self.instruments[symbol] = await self.adapter.instrument(symbol)
        return inst

    async def request(self, symbol: str, side: str, type: str, qty: str, **kw) -> OrderRequest:
        """An OrderRequest checked on the venue's own grid for `symbol`."""
        return OrderRequest.make(await self.instrument(symbol), side, type, qty, **kw)

    # -- orders -----------------------------------------------------------------------------
    async def place(self, req: OrderRequest) -> Order:
        """Send an order; an entry with TP/SL that filled returns with them placed (when it
        rests, they are placed by this session when it fills: `brackets_pending`)."""
        order = await self._place(req)
        await self.wait_brackets()      # the private stream may have reported the fill first
        return order

    async def _place(self, req: OrderRequest) -> Order:
        if self.agg_mode:
            from nexus.agg.aggregator import refuse_order_in_agg
            refuse_order_in_agg()
        inst = await self.instrument(req.symbol)
        check = getattr(self.adapter, "check_request", None)   # optional: venue rules beyond the grid
        if check is not None:                                 # (Bitfinex: 5 significant digits), refused
            check(req)                                        # before the order is tracked or sent
        if req.reduce_only:
            await self._check_reduces(req)
        if req.leverage is not None:
            await self.adapter.set_leverage(req.symbol, req.leverage)
        order = self.tracker.add(req)
        if req.tp_ticks or req.sl_ticks:
            self._pending_brackets[req.client_id] = inst
        upd = await self._send(req, order)
        self._apply(upd)
        if self._pending_brackets.get(req.client_id) is not None and \
                (order.state is State.FILLED or (order.state.terminal and order.filled_qty > 0)):
            await self._brackets(order, self._pending_brackets.pop(req.client_id))  # a rejection raises
        elif order.state.terminal:
            self._pending_brackets.pop(req.client_id, None)
        return order

    def brackets_pending(self, client_id: str) -> bool:
        """The entry's TP/SL wait for it to fill (placed by this session when it does)."""
        return client_id in self._pending_brackets

    async def wait_brackets(self) -> None:
        """Until every TP/SL placement started so far is done."""
        while self._bracket_tasks:
            await asyncio.gather(*list(self._bracket_tasks), return_exceptions=True)

    def _bracket_when_filled(self, o: Order) -> None:
        """After an update: an entry with TP/SL that has filled (or ended with part of it filled)
        gets its closing orders, once; one that ended unfilled needs none."""
        if o.client_id not in self._pending_brackets:
            return
        if o.state is State.FILLED or (o.state.terminal and o.filled_qty > 0):
            inst = self._pending_brackets.pop(o.client_id)
            task = asyncio.get_running_loop().create_task(self._brackets_logged(o, inst))
            self._bracket_tasks.add(task)
            task.add_done_callback(self._bracket_tasks.discard)
        elif o.state.terminal:
            del self._pending_brackets[o.client_id]

    async def _brackets_logged(self, entry: Order, inst: Instrument) -> None:
        try:
            await self._brackets(entry, inst)
        except NexusError as e:                  # the entry stands; its protection did not
            msg = f"{self.adapter.venue}: TP/SL of {entry.client_id} not placed: {e}"
            self.bracket_errors.append(msg)
            log.error("%s", msg)

    async def _send(self, req: OrderRequest, order: Order) -> OrderUpdate:
        for _ in range(self.attempts):
            try:
                self.sends += 1
                return await self.adapter.place(req)
            except VenueRejected as e:
                self.tracker.move(req.client_id, State.REJECTED, reason=f"{e.code} {e.message}")
                raise
            except VenueUnreachable:
                found = await self._find(req)
                if found is not None:
                    return found                 # it reached the venue: never resend
                await asyncio.sleep(RETRY_PAUSE_S)
        raise NetworkFailure(f"{self.adapter.venue}: order {req.client_id} got no answer after {self.attempts} "
                             f"attempts and the venue does not know it: not placed", order)

    async def _find(self, req: OrderRequest) -> OrderUpdate | None:
        """The order as the venue knows it after a send that got no answer (None: unknown)."""
        for _ in range(QUERY_ATTEMPTS):
            try:
                return await self.adapter.query(req.symbol, req.client_id)
            except VenueUnreachable:
                await asyncio.sleep(RETRY_PAUSE_S)
        raise NetworkFailure(f"{self.adapter.venue}: order {req.client_id}: no answer to the order nor to "
                             f"{QUERY_ATTEMPTS} queries; its state at the venue is unknown (check with "
                             f"`nexus order status --client-id {req.client_id}`)", self.tracker.get(req.client_id))

    async def _check_reduces(self, req: OrderRequest) -> None:
        held = {p.symbol: p.qty for p in await self.adapter.positions()}
        pos = held.get(req.symbol, Decimal(0))
        if not pos or (pos > 0) == (req.side is Side.BUY) or req.qty > abs(pos):
            raise OrderError(f"reduce-only {req.side.value} {req.qty} {req.symbol} would increase or open a "
                             f"position (position at {self.adapter.venue}: {pos}): not sent")

    async def _brackets(self, entry: Order, inst: Instrument) -> None:
        """Take-profit (limit) and stop-loss (stop) closing a filled entry, in ticks of the
        symbol's own tick from the average fill price snapped to the tick grid."""
        req = entry.request
        tick_at = getattr(self.adapter, "tick_at", None)   # optional: a tick that depends on the price
        tick = Decimal(inst.tick_size) if tick_at is None else tick_at(entry.avg_price)   # (Bitfinex)
        ref = (entry.avg_price / tick).to_integral_value() * tick
        tp, sl = bracket(ref, req.side, str(tick), req.tp_ticks, req.sl_ticks)
        close = req.side.opposite
        reduce = self.adapter.perpetual or inst.contract_kind != "spot"   # a venue with both (Gate)
        # _place, not place: a bracket task never waits for the others (no wait cycle)
        if tp is not None:
            await self._place(OrderRequest.make(inst, close, OrderType.LIMIT, entry.filled_qty, price=tp,
                                               reduce_only=reduce))
        if sl is not None:
            await self._place(OrderRequest.make(inst, close, OrderType.STOP, entry.filled_qty, stop_price=sl,
                                               reduce_only=reduce))

    async def cancel(self, symbol: str, client_id: str) -> OrderUpdate:
        upd = await self.adapter.cancel(symbol, client_id)
        self.apply(upd)
        return upd

    async def status(self, symbol: str, client_id: str) -> OrderUpdate | None:
        upd = await self.adapter.query(symbol, client_id)
        if upd is not None:
            self.apply(upd)
        return upd

    # -- updates ----------------------------------------------------------------------------
    def apply(self, upd: OrderUpdate) -> None:
        """Bring our order to what the venue reports; fills counted once, stale updates ignored."""
        o = self._apply(upd)
        if o is not None and self._pending_brackets:
            self._bracket_when_filled(o)

    def _apply(self, upd: OrderUpdate) -> Order | None:
        o = self.tracker.orders.get(upd.client_id)
        if o is None:                             # not ours: counted and reported, never applied
            self.unknown_updates += 1
            if self.on_unknown is not None:
                self.on_unknown(upd)
            return None
        if o.state.terminal:
            return o
        inst = self.instruments.get(o.request.symbol)
        start = upd.filled - sum((f.qty for f in upd.fills), Decimal(0))
        for f in upd.fills:
            end = start + f.qty
            if end > o.filled_qty:
                new = end - max(start, o.filled_qty)
                fee = f.fee if new == f.qty and inst is not None and f.fee_asset == inst.quote else Decimal(0)
                self._fill(o, new, f.price, fee, upd)
            start = end
        if upd.filled > o.filled_qty:             # fills the venue did not itemise: their average
            new = upd.filled - o.filled_qty
            if upd.cum_quote is not None:
                price = (upd.cum_quote - o.notional) / new
            else:
                price = upd.avg_price
            self._fill(o, new, price, Decimal(0), upd)
        if upd.state in (State.PARTIALLY_FILLED, State.FILLED):
            return o
        if upd.state is not o.state and legal(o.state, upd.state):
            self.tracker.move(o.client_id, upd.state, venue_order_id=upd.venue_order_id or None)
        return o

    def _fill(self, o: Order, qty: Decimal, price: Decimal, fee: Decimal, upd: OrderUpdate) -> None:
        total = o.filled_qty + qty
        dst = State.FILLED if total == o.request.qty else State.PARTIALLY_FILLED
        self.tracker.move(o.client_id, dst, fill_qty=qty, fill_price=price,
                          venue_order_id=upd.venue_order_id or None)
        inst = self.instruments.get(o.request.symbol)
        cv = inst.contract_value if inst is not None else "1"
        self.positions.get(self.adapter.venue, o.request.symbol, cv).apply(o.request.side, qty, price, fee)
        if self.on_fill is not None:
            self.on_fill(o, qty, price, fee)

    def _on_event(self, _ev) -> None:
        loop = asyncio.get_running_loop()
        loop.create_task(self._notify())

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def wait_for(self, client_id: str, done: Callable[[Order], bool], timeout_s: float) -> Order:
        """Wait until `done(order)` (fills and state changes arrive on the private stream)."""
        o = self.tracker.get(client_id)
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: done(o)), timeout_s)
        return o

