"""The order model: what a user asks for (`OrderRequest`), checked exactly on the
instrument's grid before anything is sent, and what becomes of it (`Order`), moved only by
the one transition table below, each change recorded as an `OrderEvent`.

States (seed 000, "TRADE EXECUTION"; the venues' own states map onto these):

    new ──▶ accepted ──▶ partially_filled ──▶ filled
     │          │               │
     │          ├──▶ cancelled ◀┤
     │          └──▶ expired  ◀─┘
     ├──▶ rejected
     └──▶ filled / partially_filled / cancelled / expired   (a venue may answer the
          request with the order already in that state: an IOC market order comes back filled)

Terminal states take no further transition: a late or duplicated venue update for a
terminal order is reported (`TransitionError`), never applied.

Quantities and prices are `Decimal`, exact; a value off the instrument's tick or lot grid is
refused naming the grid, before any request is built. Take-profit / stop-loss distances are
given in ticks and scaled by the symbol's own tick size (the seed's "TP/SL ticks").
"""

from __future__ import annotations

import itertools
import os
import time
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Callable

from nexus.exceptions import NexusError
from nexus.instruments import Instrument

CLIENT_ID_PREFIX = "nx"
CLIENT_ID_LEN_MAX = 32      # the tightest venue limit (OKX clOrdId: 32 alphanumerics)
LEVERAGE_MAX = 125          # no venue of the seed's matrix allows more; each venue caps lower
TICKS_MAX = 1_000_000       # TP/SL distances beyond this are a typing error, not a strategy


def plain(d: Decimal) -> str:
    """`format(d, "f")` (a decimal as sent: no exponent, its own places kept), by the faster
    str() when that has no exponent (str() differs from "f" only when it writes one: an
    exponent above 0 or a value below 1e-6). The order path's (order_bytes) formatting."""
    t = str(d)
    return format(d, "f") if "E" in t else t


class OrderError(NexusError):
    """A request refused before it is sent (off-grid, bad quantity, missing field, ...)."""


class TransitionError(NexusError):
    """A state change the transition table does not allow (reported, never applied)."""


class Side(str, Enum):
    BUY = "buy"
    SELL = "sell"

    @property
    def sign(self) -> int:
        return 1 if self is Side.BUY else -1

    @property
    def opposite(self) -> "Side":
        return Side.SELL if self is Side.BUY else Side.BUY


class OrderType(str, Enum):
    MARKET = "market"
    LIMIT = "limit"
    STOP = "stop"       # a stop-market order: triggers on the last price at `stop_price`


class State(str, Enum):
    NEW = "new"
    ACCEPTED = "accepted"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    EXPIRED = "expired"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL


TERMINAL = frozenset({State.FILLED, State.CANCELLED, State.REJECTED, State.EXPIRED})

# The one transition table: state -> the states it may move to.
TRANSITIONS: dict[State, frozenset[State]] = {
    State.NEW: frozenset({State.ACCEPTED, State.PARTIALLY_FILLED, State.FILLED, State.CANCELLED,
                          State.REJECTED, State.EXPIRED}),
    State.ACCEPTED: frozenset({State.PARTIALLY_FILLED, State.FILLED, State.CANCELLED, State.EXPIRED}),
    State.PARTIALLY_FILLED: frozenset({State.PARTIALLY_FILLED, State.FILLED, State.CANCELLED,
                                       State.EXPIRED}),
    State.FILLED: frozenset(),
    State.CANCELLED: frozenset(),
    State.REJECTED: frozenset(),
    State.EXPIRED: frozenset(),
}
assert set(TRANSITIONS) == set(State)
assert all(not TRANSITIONS[s] for s in TERMINAL)


def legal(src: State, dst: State) -> bool:
    return dst in TRANSITIONS[src]


_counter = itertools.count(1)


def new_client_id(prefix: str = CLIENT_ID_PREFIX) -> str:
    """A client order id unique across processes and restarts: prefix, milliseconds, pid and
    a per-process counter, alphanumeric only (every venue of the matrix accepts it) and at
    most CLIENT_ID_LEN_MAX characters."""
    cid = f"{prefix}{int(time.time() * 1000):x}{os.getpid() & 0xFFFFF:x}{next(_counter):x}"
    assert cid.isalnum() and len(cid) <= CLIENT_ID_LEN_MAX
    return cid


def _decimal(value: str | Decimal | int, what: str) -> Decimal:
    if isinstance(value, float):
        raise OrderError(f"{what} must be given as a decimal string, not a binary float ({value!r})")
    try:
        d = Decimal(str(value))
    except InvalidOperation:
        raise OrderError(f"{what} {value!r} is not a decimal number") from None
    if not d.is_finite():
        raise OrderError(f"{what} {value!r} is not a finite number")
    return d


def on_grid(value: Decimal, step: str, what: str, inst: Instrument) -> None:
    if value % Decimal(step):
        raise OrderError(f"{what} {value} is off the grid of {inst.venue} {inst.symbol}: "
                         f"it must be a multiple of {step}")


def _price_for(type: OrderType, needs: OrderType, value, what: str, option: str) -> Decimal | None:
    """`value` as a Decimal when `type` is the one that takes it (and then it is required);
    None when absent; refused when given to another type."""
    if type is needs:
        if value is None:
            raise OrderError(f"a {type.value} order needs {option}")
        return _decimal(value, what)
    if value is not None:
        raise OrderError(f"a {type.value} order takes no {option}")
    return None


@dataclass(frozen=True)
class OrderRequest:
    """What the user asked for. Build it with `OrderRequest.make`, which checks it."""

    venue: str
    symbol: str
    side: Side
    type: OrderType
    qty: Decimal
    client_id: str
    price: Decimal | None = None         # LIMIT
    stop_price: Decimal | None = None    # STOP
    reduce_only: bool = False
    leverage: int | None = None          # perps: set through the venue's leverage endpoint
    tp_ticks: int | None = None          # take-profit distance from the entry, in ticks
    sl_ticks: int | None = None          # stop-loss distance from the entry, in ticks

    @classmethod
    def make(cls, inst: Instrument, side: str | Side, type: str | OrderType, qty: str | Decimal, *,
             price: str | Decimal | None = None, stop_price: str | Decimal | None = None,
             reduce_only: bool = False, leverage: int | None = None, tp_ticks: int | None = None,
             sl_ticks: int | None = None, client_id: str | None = None) -> "OrderRequest":
        try:
            side = Side(side)
        except ValueError:
            raise OrderError(f"side must be buy or sell, got {side!r}") from None
        try:
            type = OrderType(type)
        except ValueError:
            raise OrderError(f"type must be market, limit or stop, got {type!r}") from None
        q = _decimal(qty, "quantity")
        if q <= 0:
            raise OrderError(f"quantity must be positive, got {qty}")
        on_grid(q, inst.lot_size, "quantity", inst)
        p = _price_for(type, OrderType.LIMIT, price, "price", "--price")
        sp = _price_for(type, OrderType.STOP, stop_price, "stop price", "--stop-price")
        for v, what in ((p, "price"), (sp, "stop price")):
            if v is not None:
                if v <= 0:
                    raise OrderError(f"{what} must be positive, got {v}")
                on_grid(v, inst.tick_size, what, inst)
        if leverage is not None:
            if inst.contract_kind == "spot":
                raise OrderError(f"{inst.venue} {inst.symbol} is spot: leverage applies to perpetuals only")
            if not 1 <= leverage <= LEVERAGE_MAX:
                raise OrderError(f"leverage must be 1 to {LEVERAGE_MAX}, got {leverage}")
        for n, what in ((tp_ticks, "take-profit ticks"), (sl_ticks, "stop-loss ticks")):
            if n is not None and not 1 <= n <= TICKS_MAX:
                raise OrderError(f"{what} must be 1 to {TICKS_MAX}, got {n}")
        if reduce_only and (tp_ticks or sl_ticks):
            raise OrderError("take-profit / stop-loss attach to an entry, not to a reduce-only order")
        cid = client_id or new_client_id()
        if not cid.isalnum() or len(cid) > CLIENT_ID_LEN_MAX:
            raise OrderError(f"client order id {cid!r}: letters and digits only, at most {CLIENT_ID_LEN_MAX}")
        return cls(inst.venue, inst.symbol, side, type, q, cid, p, sp, reduce_only, leverage, tp_ticks, sl_ticks)


def bracket(entry: Decimal, side: Side, tick: str, tp_ticks: int | None, sl_ticks: int | None
            ) -> tuple[Decimal | None, Decimal | None]:
    """Take-profit and stop-loss prices for an entry at `entry`: `tp_ticks` / `sl_ticks` of the
    symbol's own tick size away, on the winning / losing side of the position."""
    t = Decimal(tick)
    s = side.sign
    tp = entry + s * tp_ticks * t if tp_ticks else None
    sl = entry - s * sl_ticks * t if sl_ticks else None
    if sl is not None and sl <= 0:
        raise OrderError(f"stop-loss {sl_ticks} ticks below {entry} is not a positive price")
    return tp, sl


@dataclass(frozen=True)
class OrderEvent:
    """One change of an order, as it happened (kept in order on the Order)."""

    client_id: str
    src: State
    dst: State
    ts_ns: int
    filled_qty: Decimal = Decimal(0)     # cumulative after the event
    fill_qty: Decimal = Decimal(0)       # this event's fill
    fill_price: Decimal | None = None
    venue_order_id: str | None = None
    reason: str = ""                     # the venue's code and message for a rejection


@dataclass
class Order:
    request: OrderRequest
    state: State = State.NEW
    venue_order_id: str | None = None
    filled_qty: Decimal = Decimal(0)
    notional: Decimal = Decimal(0)       # sum of fill qty * price
    reason: str = ""
    events: list[OrderEvent] = field(default_factory=list)

    @property
    def client_id(self) -> str:
        return self.request.client_id

    @property
    def remaining(self) -> Decimal:
        return self.request.qty - self.filled_qty

    @property
    def avg_price(self) -> Decimal | None:
        return self.notional / self.filled_qty if self.filled_qty else None


class OrderTracker:
    """Every order of a session by client id, moved only through the transition table. A
    fill is applied once: fills beyond the order's quantity, or any change to a terminal
    order, raise TransitionError and leave the order as it was."""

    def __init__(self, on_event: Callable[[OrderEvent], None] | None = None) -> None:
        self.orders: dict[str, Order] = {}
        self.on_event = on_event

    def add(self, req: OrderRequest) -> Order:
        if req.client_id in self.orders:
            raise OrderError(f"client order id {req.client_id} is already in use")
        o = self.orders[req.client_id] = Order(req)
        return o

    def get(self, client_id: str) -> Order:
        try:
            return self.orders[client_id]
        except KeyError:
            raise OrderError(f"no order with client id {client_id}") from None

    def move(self, client_id: str, dst: State, *, ts_ns: int | None = None, fill_qty: Decimal | str = "0",
             fill_price: Decimal | str | None = None, venue_order_id: str | None = None,
             reason: str = "") -> OrderEvent:
        o = self.get(client_id)
        if not legal(o.state, dst):
            raise TransitionError(f"order {client_id}: {o.state.value} -> {dst.value} is not a legal transition")
        fq = Decimal(fill_qty)
        if fq < 0 or o.filled_qty + fq > o.request.qty:
            raise TransitionError(f"order {client_id}: a fill of {fq} after {o.filled_qty} exceeds {o.request.qty}")
        if fq and fill_price is None:
            raise TransitionError(f"order {client_id}: a fill needs its price")
        filled = o.filled_qty + fq
        if dst is State.FILLED and filled != o.request.qty:
            raise TransitionError(f"order {client_id}: filled with {filled} of {o.request.qty}")
        if dst is State.PARTIALLY_FILLED and not (0 < filled < o.request.qty):
            raise TransitionError(f"order {client_id}: partially filled with {filled} of {o.request.qty}")
        ev = OrderEvent(client_id, o.state, dst, ts_ns if ts_ns is not None else time.time_ns(), filled, fq,
                        Decimal(fill_price) if fill_price is not None else None,
                        venue_order_id or o.venue_order_id, reason)
        o.state = dst
        o.filled_qty = filled
        if fq:
            o.notional += fq * ev.fill_price
        if venue_order_id:
            o.venue_order_id = venue_order_id
        if reason:
            o.reason = reason
        o.events.append(ev)
        if self.on_event is not None:
            self.on_event(ev)
        return ev

    def open_orders(self) -> list[Order]:
        return [o for o in self.orders.values() if not o.state.terminal]
