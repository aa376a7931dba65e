"""The simulator's exchange: accounts, orders and fills on one simulated venue book, so a
client can trade the simulator as it would trade the venue. Venue-neutral: each venue's
`sim.py` speaks its own authenticated REST and private-stream formats on top of this and
maps the reasons below to the venue's own error codes and bodies.

What it models:

- **Accounts** with the credentials the venue would issue (key, secret, passphrase) held in
  memory only, permissions (a key with withdrawal rights can be made, so clients can refuse
  it), balances per asset (spot) or a margin wallet in the quote currency (perpetuals).
- **MARKET** orders walk the venue's simulated book as a taker (`VenueSim.market`): the fills
  print as trades on the public feed like anyone's. What the book cannot fill expires.
- **LIMIT** orders cross what they can at once, and rest the rest *in* the public book at
  their price, behind the quantity already there (FIFO): the level grows on the public
  feed; as the market trades through the level, the quantity ahead is taken first, then
  ours. A resting level is protected from the simulator's own cancels.
- **STOP** orders (stop-market) trigger when a trade prints at or through the stop price,
  then execute as MARKET; **STOP_LIMIT** orders (Coinbase's stop-limit) trigger the same way,
  then execute as a LIMIT at their price (the remainder rests).
- **Perpetuals**: one net position per account, average entry, realised PnL into the
  wallet, initial margin = notional / leverage; reduce-only orders may only shrink the
  position (else refused, as venues do).
- Fees: taker and maker rates on the notional, charged in the quote currency.

Prices and quantities are integers in the venue instrument's units (`SimInstrument`), as
everywhere in the simulator; balances are `Decimal`. Every change of an order is an
`ExecEvent` given to the account's listeners (the venue's private stream renders it).
Self-trade: an account's taker order may fill its own resting order (not prevented).
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Callable

from nexus.sim.market import ASK, BID, BUY, SELL, Fill, VenueSim
from nexus.sim.specs import SimInstrument

TAKER_FEE = Decimal("0.0005")
MAKER_FEE = Decimal("0.0002")
LEVERAGE_DEFAULT = 10
OPEN_ORDERS_MAX = 200          # per account, as venues cap them (Binance: 200 per symbol)

# Order states, as the simulator keeps them (each venue renders its own names).
NEW, PARTIALLY_FILLED, FILLED, CANCELED, EXPIRED, REJECTED = (
    "NEW", "PARTIALLY_FILLED", "FILLED", "CANCELED", "EXPIRED", "REJECTED")
TERMINAL = frozenset({FILLED, CANCELED, EXPIRED, REJECTED})
LIMITS = frozenset({"LIMIT", "STOP_LIMIT"})     # execute with a limit price, rest the remainder
STOPS = frozenset({"STOP", "STOP_LIMIT"})       # wait for the last price to reach the stop


class Reject(Exception):
    """An order or request the venue refuses. `reason` is one of REASONS; venues map it to
    their own code and message."""

    def __init__(self, reason: str, detail: str = "") -> None:
        assert reason in REASONS, reason
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


REASONS = frozenset({
    "insufficient_balance", "reduce_only", "off_grid_price", "off_grid_qty", "qty_invalid",
    "price_invalid", "duplicate_client_id", "unknown_order", "leverage_invalid", "too_many_orders",
    "order_type_invalid",
})


@dataclass
class SimAccount:
    """One API key's account on one simulated venue. Never printed with its secret."""

    api_key: str
    secret: str = field(repr=False)
    passphrase: str | None = field(default=None, repr=False)
    can_withdraw: bool = False
    balances: dict[str, Decimal] = field(default_factory=dict)     # spot: free balance per asset
    locked: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    leverage: int = LEVERAGE_DEFAULT
    position: int = 0                   # perpetuals: signed quantity units
    entry_cost: Decimal = Decimal(0)    # price * base qty of the open position (signed)
    realised: Decimal = Decimal(0)


@dataclass
class SimOrder:
    oid: int
    client_id: str
    account: str
    side: int                    # BUY or SELL
    type: str                    # MARKET, LIMIT, STOP
    qty: int
    price: int | None = None
    stop: int | None = None
    reduce_only: bool = False
    status: str = NEW
    filled: int = 0
    notional: Decimal = Decimal(0)      # quote currency, sum of fill price * base qty
    fees: Decimal = Decimal(0)
    ahead: int = 0                      # others' quantity in front of it at its level
    resting: bool = False
    created_ns: int = 0
    updated_ns: int = 0

    @property
    def remaining(self) -> int:
        return self.qty - self.filled


@dataclass(frozen=True)
class ExecEvent:
    """An order changed: its state after the change, and the fill that changed it, if any."""

    order: SimOrder
    ts_ns: int
    fill_qty: int = 0
    fill_price: int | None = None
    maker: bool = False
    fee: Decimal = Decimal(0)
    trade_id: int = 0


class SimExchange:
    """Order entry on one venue's simulated book. It is a `VenueSim` hook (stop triggers before
    each step's flow, FIFO fills of resting orders as the level trades, protection of
    resting levels), added to `vs.hooks` on creation."""

    def __init__(self, vs: VenueSim, spec: SimInstrument, *, perpetual: bool,
                 clock: Callable[[], int], publish_fills: Callable[[list[Fill]], None] | None = None,
                 leverage_max: int = 100) -> None:
        self.vs = vs
        self.spec = spec
        self.perpetual = perpetual
        self.clock = clock
        self.publish_fills = publish_fills   # fills made between steps reach the public feed here
        self.leverage_max = leverage_max
        self.accounts: dict[str, SimAccount] = {}
        self.orders: dict[int, SimOrder] = {}
        self.by_client: dict[tuple[str, str], SimOrder] = {}
        self.listeners: dict[str, list[Callable[[ExecEvent], None]]] = defaultdict(list)
        self._oids = itertools.count(1)
        self._trade_ids = itertools.count(1)
        self._resting: dict[tuple[int, int], list[SimOrder]] = defaultdict(list)   # (book side, price)
        self._stops: list[SimOrder] = []
        self._in_step = False
        self.last_trade_price: int | None = None
        self.done = False                       # a VenueSim hook stays for the whole run
        self.response_delays_s: list[float] = []   # test-only fault, see delay_next_response
        vs.hooks.append(self)

    # -- units ----------------------------------------------------------------------------
    def price_dec(self, p: int) -> Decimal:
        return Decimal(p).scaleb(-self.spec.price_dec)

    def base_qty(self, q: int) -> Decimal:
        """Quantity units -> base coin (contracts x contract value on OKX)."""
        return Decimal(q).scaleb(-self.spec.qty_dec) * Decimal(self.spec.contract_value)

    def notional(self, p: int, q: int) -> Decimal:
        return self.price_dec(p) * self.base_qty(q)

    # -- accounts -------------------------------------------------------------------------
    def open_account(self, api_key: str, secret: str, *, passphrase: str | None = None,
                     balances: dict[str, str | Decimal] | None = None, can_withdraw: bool = False) -> SimAccount:
        acct = SimAccount(api_key, secret, passphrase, can_withdraw,
                          {k: Decimal(v) for k, v in (balances or {}).items()})
        self.accounts[api_key] = acct
        return acct

    def listen(self, api_key: str, fn: Callable[[ExecEvent], None]) -> None:
        self.listeners[api_key].append(fn)

    def unlisten(self, api_key: str, fn: Callable[[ExecEvent], None]) -> None:
        if fn in self.listeners.get(api_key, ()):
            self.listeners[api_key].remove(fn)

    def _emit(self, ev: ExecEvent) -> None:
        for fn in list(self.listeners.get(ev.order.account, ())):
            fn(ev)

    def set_leverage(self, acct: SimAccount, leverage: int) -> None:
        if not self.perpetual or not 1 <= leverage <= self.leverage_max:
            raise Reject("leverage_invalid", f"leverage must be 1 to {self.leverage_max}")
        acct.leverage = leverage

    def free(self, acct: SimAccount, asset: str) -> Decimal:
        return acct.balances.get(asset, Decimal(0)) - acct.locked.get(asset, Decimal(0))

    def unrealised(self, acct: SimAccount) -> Decimal:
        if not acct.position:
            return Decimal(0)
        mid = self.vs.best_bid() if acct.position > 0 else self.vs.best_ask()
        if mid is None:
            return Decimal(0)
        return self.notional(mid, acct.position) - acct.entry_cost

    def margin_used(self, acct: SimAccount) -> Decimal:
        pos = abs(acct.entry_cost)
        pending = sum((self.notional(o.price or o.stop or 0, o.remaining) for o in self.open_orders(acct)
                       if not o.reduce_only), Decimal(0))
        return (pos + pending) / acct.leverage

    def available(self, acct: SimAccount) -> Decimal:
        """Perpetuals: wallet + unrealised - initial margin in use (quote currency)."""
        return self.free(acct, self.spec.quote) + self.unrealised(acct) - self.margin_used(acct)

    # -- orders ---------------------------------------------------------------------------
    def open_orders(self, acct: SimAccount) -> list[SimOrder]:
        return [o for o in self.orders.values() if o.account == acct.api_key and o.status not in TERMINAL]

    def find(self, acct: SimAccount, *, oid: int | None = None, client_id: str | None = None) -> SimOrder:
        o = self.orders.get(oid) if oid is not None else self.by_client.get((acct.api_key, client_id or ""))
        if o is None or o.account != acct.api_key:
            raise Reject("unknown_order", "order does not exist")
        return o

    def place(self, acct: SimAccount, client_id: str, side: int, type: str, qty: int, *,
              price: int | None = None, stop: int | None = None, reduce_only: bool = False) -> SimOrder:
        """Check, accept and execute an order; raises Reject (nothing changed) when refused."""
        self._check(acct, client_id, side, type, qty, price, stop, reduce_only)
        now = self.clock()
        o = SimOrder(next(self._oids), client_id, acct.api_key, side, type, qty, price, stop, reduce_only,
                     created_ns=now, updated_ns=now)
        self.orders[o.oid] = o
        self.by_client[(acct.api_key, client_id)] = o
        self._lock(acct, o)
        self._emit(ExecEvent(o, now))
        if type in STOPS:
            self._stops.append(o)
        else:
            self._execute(acct, o)
        return o

    def cancel(self, acct: SimAccount, *, oid: int | None = None, client_id: str | None = None) -> SimOrder:
        o = self.find(acct, oid=oid, client_id=client_id)
        if o.status in TERMINAL:
            raise Reject("unknown_order", f"order is already {o.status}")
        self._finish(acct, o, CANCELED)
        return o

    def _check(self, acct, client_id, side, type, qty, price, stop, reduce_only) -> None:
        s = self.spec
        if type not in ("MARKET", "LIMIT", "STOP", "STOP_LIMIT"):
            raise Reject("order_type_invalid", f"order type {type!r}")
        if (acct.api_key, client_id) in self.by_client:
            raise Reject("duplicate_client_id", client_id)
        if qty <= 0:
            raise Reject("qty_invalid", "quantity must be positive")
        if qty % s.lot:
            raise Reject("off_grid_qty", f"quantity not a multiple of {s.lot_str()}")
        for p, need in ((price, type in LIMITS), (stop, type in STOPS)):
            if need and (p is None or p <= 0):
                raise Reject("price_invalid", "price must be positive")
            if p is not None and p % s.tick:
                raise Reject("off_grid_price", f"price not a multiple of {s.tick_str()}")
        if len(self.open_orders(acct)) >= OPEN_ORDERS_MAX:
            raise Reject("too_many_orders", f"at most {OPEN_ORDERS_MAX} open orders")
        if reduce_only:
            if not self.perpetual:
                raise Reject("reduce_only", "reduce-only is for perpetuals")
            # untriggered stops do not count: a take-profit and a stop-loss may both cover the
            # whole position (a stop is checked again when it triggers, see before_flow)
            pending = sum(o.remaining for o in self.open_orders(acct)
                          if o.reduce_only and o.side == side and o not in self._stops)
            if type not in STOPS and not self._reduces(acct, side, qty + pending):
                raise Reject("reduce_only", "reduce-only order would increase the position")
            if type in STOPS and not self._reduces(acct, side, qty):
                raise Reject("reduce_only", "reduce-only order would increase the position")
        ref = price or stop or (self.vs.best_ask() if side == BUY else self.vs.best_bid())
        if ref is None:
            raise Reject("insufficient_balance", "no price to value the order at")
        if self.perpetual:
            if not reduce_only and self.notional(ref, qty) / acct.leverage > self.available(acct):
                raise Reject("insufficient_balance", "margin is insufficient")
        elif side == BUY:
            cost = self._walk_cost(qty) if type == "MARKET" else self.notional(ref, qty)
            if cost is None or cost * (1 + TAKER_FEE) > self.free(acct, s.quote):
                raise Reject("insufficient_balance", f"{s.quote} balance is insufficient")
        elif self.base_qty(qty) > self.free(acct, s.base):
            raise Reject("insufficient_balance", f"{s.base} balance is insufficient")

    @staticmethod
    def _reduces(acct: SimAccount, side: int, qty: int) -> bool:
        return acct.position != 0 and (acct.position > 0) != (side == BUY) and qty <= abs(acct.position)

    def _walk_cost(self, qty: int) -> Decimal | None:
        """What a market buy of `qty` would cost now (None: the book cannot fill it)."""
        cost, left = Decimal(0), qty
        for p, q in self.vs.levels(ASK):
            take = min(q, left)
            cost += self.notional(p, take)
            left -= take
            if not left:
                return cost
        return None

    def _lock(self, acct: SimAccount, o: SimOrder) -> None:
        if self.perpetual or o.type == "MARKET":
            return
        if o.side == BUY:
            acct.locked[self.spec.quote] += self.notional(o.price or o.stop, o.remaining) * (1 + TAKER_FEE)
        else:
            acct.locked[self.spec.base] += self.base_qty(o.remaining)

    def _unlock(self, acct: SimAccount, o: SimOrder, qty: int, price: int | None) -> None:
        if self.perpetual or o.type == "MARKET" or not qty:
            return
        if o.side == BUY:
            acct.locked[self.spec.quote] -= self.notional(o.price or o.stop or price, qty) * (1 + TAKER_FEE)
        else:
            acct.locked[self.spec.base] -= self.base_qty(qty)

    def _execute(self, acct: SimAccount, o: SimOrder) -> None:
        """Take what the order can take now; rest a limit's remainder, expire a market's."""
        vs = self.vs
        start = len(vs.fills)
        taker = BUY if o.side == BUY else SELL
        vs.market(taker, o.remaining // self.spec.lot, limit=o.price if o.type in LIMITS else None)
        fills = vs.fills[start:]
        for f in fills:
            self._fill(acct, o, f.qty, f.price, maker=False, ts_ns=f.ts_ns)
        if fills and not self._in_step and self.publish_fills is not None:
            del vs.fills[start:]          # made between steps: they go out with the next publication
            self.publish_fills(fills)
        if o.status in TERMINAL:
            return
        if o.type in LIMITS:
            side = BID if o.side == BUY else ASK
            level = vs.book_side(side).get(o.price, 0)
            queue = self._resting[(side, o.price)]
            o.ahead = level - sum(r.remaining for r in queue)   # others' quantity, not ours
            o.resting = True
            queue.append(o)
            vs.set_level(side, o.price, level + o.remaining)
        else:
            self._finish(acct, o, EXPIRED)    # the book could not fill all of it

    def _fill(self, acct: SimAccount, o: SimOrder, qty: int, price: int, *, maker: bool, ts_ns: int) -> None:
        fee = self.notional(price, qty) * (MAKER_FEE if maker else TAKER_FEE)
        self._unlock(acct, o, qty, price)
        o.filled += qty
        o.notional += self.notional(price, qty)
        o.fees += fee
        o.status = FILLED if o.filled == o.qty else PARTIALLY_FILLED
        o.updated_ns = ts_ns
        self._settle(acct, o.side, qty, price, fee)
        if o.status == FILLED:
            self._unrest(o)
        self._emit(ExecEvent(o, ts_ns, qty, price, maker, fee, next(self._trade_ids)))

    def _settle(self, acct: SimAccount, side: int, qty: int, price: int, fee: Decimal) -> None:
        s = self.spec
        value = self.notional(price, qty)
        if not self.perpetual:
            sign = 1 if side == BUY else -1
            acct.balances[s.base] = acct.balances.get(s.base, Decimal(0)) + sign * self.base_qty(qty)
            acct.balances[s.quote] = acct.balances.get(s.quote, Decimal(0)) - sign * value - fee
            return
        signed = qty if side == BUY else -qty
        if acct.position and (acct.position > 0) != (signed > 0):
            closing = min(qty, abs(acct.position))
            part = acct.entry_cost * closing / abs(acct.position)
            direction = 1 if acct.position > 0 else -1
            pnl = (self.notional(price, closing) - abs(part)) * direction
            acct.realised += pnl
            acct.balances[s.quote] = acct.balances.get(s.quote, Decimal(0)) + pnl
            acct.entry_cost -= part
            acct.position -= closing * direction
            signed += closing * direction
            if not acct.position:
                acct.entry_cost = Decimal(0)
        if signed:
            acct.position += signed
            acct.entry_cost += self.notional(price, signed)
        acct.balances[s.quote] = acct.balances.get(s.quote, Decimal(0)) - fee

    def _unrest(self, o: SimOrder) -> None:
        if not o.resting:
            return
        key = (BID if o.side == BUY else ASK, o.price)
        q = self._resting.get(key)
        if q and o in q:
            q.remove(o)
            if not q:
                del self._resting[key]
        o.resting = False

    def _finish(self, acct: SimAccount, o: SimOrder, status: str) -> None:
        if o.resting:
            side = BID if o.side == BUY else ASK
            book = self.vs.book_side(side)
            self.vs.set_level(side, o.price, book.get(o.price, 0) - o.remaining)
            self._unrest(o)
        if o in self._stops:
            self._stops.remove(o)
        self._unlock(acct, o, o.remaining, o.price)
        o.status = status
        o.updated_ns = self.clock()
        self._emit(ExecEvent(o, o.updated_ns))

    # -- test-only fault --------------------------------------------------------------------
    def delay_next_response(self, seconds: float) -> None:
        """The next order placed is accepted and executed at once, but the venue's wire layer
        answers it `seconds` late (what a client sees as a timeout: did it go through?)."""
        self.response_delays_s.append(seconds)

    def take_response_delay(self) -> float:
        return self.response_delays_s.pop(0) if self.response_delays_s else 0.0

    # -- the VenueSim hook ------------------------------------------------------------------
    def before_flow(self, vs: VenueSim, t_ns: int) -> None:
        """Stops trigger on the last trade price (the latest print, see after_fill)."""
        last = self.last_trade_price
        if last is None or not self._stops:
            return
        fired = [o for o in self._stops if (o.side == BUY and last >= o.stop) or (o.side == SELL and last <= o.stop)]
        self._in_step = True
        try:
            for o in fired:
                self._stops.remove(o)
                acct = self.accounts[o.account]
                if o.reduce_only and not self._reduces(acct, o.side, o.remaining):
                    self._finish(acct, o, EXPIRED)     # the position it was to reduce is gone
                else:
                    self._execute(acct, o)
        finally:
            self._in_step = False

    def protects(self, side: int, price: int) -> bool:
        return (side, price) in self._resting

    def before_consume(self, vs: VenueSim, side: int, price: int) -> None:
        pass

    def after_fill(self, vs: VenueSim, side: int, price: int, fill_qty: int, left: int) -> int:
        """A level holding resting orders traded `fill_qty`: the quantity ahead goes first."""
        self.last_trade_price = price           # every print passes here (VenueSim.market)
        queue = self._resting.get((side, price))
        if not queue:
            return left
        q = fill_qty
        snapshot = list(queue)
        for i, o in enumerate(snapshot):
            d = min(o.ahead, q)
            for later in snapshot[i:]:
                later.ahead -= d
            q -= d
            take = min(q, o.remaining)
            if take:
                q -= take
                self._fill(self.accounts[o.account], o, take, price, maker=True, ts_ns=vs.t_ns or self.clock())
            if not q:
                break
        return left
