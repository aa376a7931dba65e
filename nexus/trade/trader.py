"""`AutoTrader`: flow-engine signals to orders, every order through the risk gate first.

    trader = AutoTrader(settings, gate, inst, router, clock_ns=...)
    trader.enable(confirmed=True)      # AUTO on: the martingale's base size is captured here
    trader.on_touch(bid, ask)          # Decimal touch of the symbol (values positions, band)
    trader.on_signal(sig)              # a signal dict as nexus.flow.live.LiveFlow emits it
    router -> trader.on_fill(client_id, qty, price, ts_ns, fee=...) / trader.on_done(client_id, state)

A signal is acted on when AUTO is on, it comes from the traded venue, its type is in the
filter and its confidence is at or above the threshold; REVERSE inverts its side. The entry
is a MARKET order of the martingale's size (the base without SMART), tagged with the
signal; once it has filled, a take-profit (LIMIT) and a stop-loss (STOP) close it, both
reduce-only, `tp_ticks` / `sl_ticks` ticks of the symbol from the average entry snapped to
the tick (nexus.exec.orders.bracket). When one leg fills the other is cancelled. While a
trade is open, a signal pointing the other way is skipped (the trader does not net opposite
trades on one symbol); at most the gate's `max_positions` trades are open at once.

Every order (entry and both legs) is checked by the compiled gate (nexus.risk.gate.Gate,
source AUTO) before the router sees it; a refusal is logged with its reason code and
counted. Fills go to the gate (persisted on every fill when it has a store) and to the
journal the statistics are computed from. A fill or update for an order this trader did not
send is logged and counted, never applied. When the gate latches a cap (LIMIT HIT) AUTO is
forced off and stays off: only `nexus risk reset --confirm` and a new start re-enable it.

PnL per trade: gross is what the gate realises on its exit fills (average cost over the
symbol's net position); fees are what the venue charged on every fill of the trade, entry and
exit (the fill report's fee in the quote currency: the simulator's and Binance's
`commission`; a fee in another asset, e.g. BNB, is not converted and counts 0); net = gross -
fees. SMART's win / loss is decided on the NET PnL (a trade that makes less than its fees is
a loss to recover). The gate's daily caps stay on the trading PnL (realised + unrealised,
before fees), as issue 15 defines them; the fees are reported beside them.
"""

from __future__ import annotations

import itertools
import logging
from collections import Counter, deque
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Callable, Protocol

from nexus.exec.orders import OrderRequest, OrderType, Side, bracket
from nexus.instruments import Instrument
from nexus.risk.codes import REASON_TEXT, Latch, OrderType as GateType, Reason, Side as GateSide, Source
from nexus.risk.store import FillRow
from nexus.trade.config import AutoSettings, validated
from nexus.trade.martingale import Martingale

log = logging.getLogger("nexus.trade")

EVENTS_KEPT = 256
LAST_KEPT = 8           # last orders / refusals kept for the view
ENTRY, TP, SL = "entry", "tp", "sl"
_GATE_SIDE = {Side.BUY: GateSide.BUY, Side.SELL: GateSide.SELL}
_GATE_TYPE = {OrderType.MARKET: GateType.MARKET, OrderType.LIMIT: GateType.LIMIT, OrderType.STOP: GateType.STOP}


@dataclass(frozen=True)
class Intent:
    """An order the gate accepted, for the router to send: the request (checked on the
    symbol's grid) and the trade and role it belongs to. Reads through to the request."""

    req: OrderRequest
    trade: int = 0
    role: str = ENTRY

    def __getattr__(self, name: str):
        return getattr(self.req, name)

    # the fields read on every order, as properties: __getattr__ runs only after a failed lookup
    side = property(lambda self: self.req.side)
    type = property(lambda self: self.req.type)
    qty = property(lambda self: self.req.qty)
    price = property(lambda self: self.req.price)
    stop_price = property(lambda self: self.req.stop_price)
    reduce_only = property(lambda self: self.req.reduce_only)
    client_id = property(lambda self: self.req.client_id)


class Router(Protocol):
    """Sends intents to a venue (nexus.trade.venue) or fills them on paper (nexus.trade.paper)."""

    perpetual: bool

    def submit(self, intent: Intent) -> None: ...
    def cancel(self, intent: Intent) -> None: ...


@dataclass
class Trade:
    id: int
    signal: str
    tag: str
    side: Side
    confidence: int
    opened_ns: int
    filled: Decimal = Decimal(0)
    notional: Decimal = Decimal(0)
    closed: Decimal = Decimal(0)
    pnl: Decimal = Decimal(0)                 # gross (before fees)
    fees: Decimal = Decimal(0)
    entry_done: bool = False
    tp: Intent | None = None
    sl: Intent | None = None
    closed_ns: int | None = None

    @property
    def open(self) -> bool:
        return self.closed_ns is None

    def obj(self) -> dict:
        avg = self.notional / self.filled if self.filled else None
        return {"trade": self.id, "signal": self.signal, "tag": self.tag, "side": self.side.value,
                "qty": str(self.filled - self.closed), "entry": None if avg is None else str(avg),
                "tp": str(self.tp.price) if self.tp else None, "sl": str(self.sl.stop_price) if self.sl else None,
                "pnl": str(self.pnl), "fees": str(self.fees)}


class AutoTrader:
    def __init__(self, settings: AutoSettings, gate, inst: Instrument, router: Router, *,
                 clock_ns: Callable[[], int], client_ids: Callable[[], str] | None = None, session: str = "") -> None:
        self.settings = validated(settings)
        self.gate = gate
        self.inst = inst                      # the symbol as the gate knows it (tick, lot, exponents)
        self.router = router
        self.clock_ns = clock_ns
        self.session = session                # in every tag: trades of different runs never merge
        counter = itertools.count(1)
        self.client_ids = client_ids or (lambda: f"nxa{next(counter)}")
        self.tick = Decimal(inst.tick_size)
        self.lot = Decimal(inst.lot_size)
        self.auto = False
        self.sizer: Martingale | None = None
        self.trades: dict[int, Trade] = {}
        self.open_trades: dict[int, Trade] = {}         # the signal path looks at these only (O(open), not O(all))
        self.orders: dict[str, tuple[int, str]] = {}   # client id -> (trade, role)
        self.journal: list[FillRow] = []
        self.events: deque[dict] = deque(maxlen=EVENTS_KEPT)
        self.pending_events: list[dict] = []
        self.signals_seen = 0
        self.skipped: Counter = Counter()
        self.refused: Counter = Counter()
        self.sent = 0
        self.unknown_fills = 0
        self.fees = Decimal(0)
        self.last_orders: deque[dict] = deque(maxlen=LAST_KEPT)
        self.last_refusals: deque[dict] = deque(maxlen=LAST_KEPT)
        self._trade_ids = itertools.count(1)

    # -- AUTO ----------------------------------------------------------------------------------
    def enable(self) -> None:
        """AUTO on (the caller has had the caps confirmed): the base size is captured now."""
        if self.gate.latch != Latch.NONE:
            raise PermissionError("LIMIT HIT is latched: `nexus risk reset --confirm` first")
        base = self.settings.base_qty or self.lot
        max_qty = self.gate.limits(self.inst).max_qty
        win = self.settings.tp_ticks * self.tick * Decimal(self.inst.contract_value)
        self.sizer = Martingale(base, self.lot, win, max_qty, smart=self.settings.smart)
        self.gate.set_auto(True)
        self.auto = True
        self._event("auto_on", base_qty=str(base))

    def disable(self, why: str) -> None:
        if self.auto:
            self.auto = False
            self.gate.set_auto(False)
            self._event("auto_off", reason=why)

    def _watch_latch(self) -> None:
        if self.auto and self.gate.latch != Latch.NONE:
            self.auto = False                  # the gate turned its own AUTO off when it latched
            self._event("limit_hit", latch=self.gate.latch.name, day_pnl=str(self.gate.day_pnl()))

    # -- market --------------------------------------------------------------------------------
    def on_touch(self, bid: Decimal | None, ask: Decimal | None) -> None:
        if bid is None or ask is None:
            return
        self.gate.touch(self.inst, self._px(bid), self._px(ask))
        self._watch_latch()

    def on_signal(self, sig: dict) -> Intent | None:
        """Act on one signal; returns the entry sent (None: skipped or refused)."""
        self.signals_seen += 1
        reason = self._skip_reason(sig)
        if reason:
            self.skipped[reason] += 1
            return None
        side = Side(sig["side"])
        if self.settings.reverse:
            side = side.opposite
        if any(t.side is not side for t in self.open_trades.values()):
            self.skipped["opposite_open"] += 1
            return None
        if len(self.open_trades) >= self.gate.settings.max_positions:
            self.skipped["max_positions"] += 1
            return None
        qty = self.sizer.next_qty()
        tid = next(self._trade_ids)
        intent = Intent(OrderRequest.make(self.inst, side, OrderType.MARKET, qty, client_id=self.client_ids()), tid)
        if not self._gate(intent):
            return None
        t = self.trades[tid] = self.open_trades[tid] = Trade(tid, sig["signal"], f"{sig['signal']}#{self.session}-{tid}", side, int(sig["confidence"]),
                                     self.clock_ns())
        self._send(intent)
        self._event("entry", trade=tid, signal=t.signal, side=side.value, qty=str(qty), confidence=t.confidence)
        return intent

    def _skip_reason(self, sig: dict) -> str | None:
        if sig.get("venue") != self.inst.venue:
            return "other_venue"
        if not self.auto:
            return "auto_off"
        if sig["signal"] not in self.settings.signals:
            return "filtered"
        if int(sig["confidence"]) < self.settings.threshold_pct:
            return "below_threshold"
        return None

    # -- orders --------------------------------------------------------------------------------
    def _px(self, d: Decimal) -> int:
        return self.inst.price_to_int(str(d))

    def _gate(self, it: Intent) -> bool:
        price = it.price if it.price is not None else it.stop_price
        code = self.gate.check(self.inst, _GATE_SIDE[it.side], _GATE_TYPE[it.type], self.inst.qty_to_int(str(it.qty)),
                               0 if price is None else self._px(price), reduce_only=it.reduce_only,
                               source=Source.AUTO, ts_ns=self.clock_ns())
        self._watch_latch()
        if code != Reason.ACCEPT:
            self.refused[code.name] += 1
            self.last_refusals.append({"ts_ns": self.clock_ns(), "trade": it.trade, "role": it.role,
                                       "side": it.side.value, "qty": str(it.qty), "code": code.name,
                                       "reason": REASON_TEXT.get(code, code.name)})
            self._event("refused", trade=it.trade, role=it.role, code=code.name, side=it.side.value, qty=str(it.qty))
            log.warning("auto order refused by the risk gate: %s (%s %s %s)", code.name, it.role, it.side.value, it.qty)
            return False
        return True

    def _send(self, it: Intent) -> None:
        self.orders[it.client_id] = (it.trade, it.role)
        self.sent += 1
        px = it.price if it.price is not None else it.stop_price
        self.last_orders.append({"ts_ns": self.clock_ns(), "client_id": it.client_id, "trade": it.trade, "role": it.role,
                                 "type": it.type.value, "side": it.side.value, "qty": str(it.qty),
                                 "price": None if px is None else str(px)})
        self.router.submit(it)

    def _brackets(self, t: Trade) -> None:
        open_qty = t.filled - t.closed
        if not open_qty:
            return
        ref = (t.notional / t.filled / self.tick).to_integral_value(rounding=ROUND_HALF_EVEN) * self.tick
        tp, sl = bracket(ref, t.side, self.inst.tick_size, self.settings.tp_ticks, self.settings.sl_ticks)
        close = t.side.opposite
        legs = (Intent(OrderRequest.make(self.inst, close, OrderType.LIMIT, open_qty, price=tp, reduce_only=True,
                                         client_id=self.client_ids()), t.id, TP),
                Intent(OrderRequest.make(self.inst, close, OrderType.STOP, open_qty, stop_price=sl, reduce_only=True,
                                         client_id=self.client_ids()), t.id, SL))
        for leg in legs:
            if self._gate(leg):
                setattr(t, leg.role, leg)
                self._send(leg)

    # -- fills and order updates (from the router) ---------------------------------------------
    def on_fill(self, client_id: str, qty: Decimal, price: Decimal, ts_ns: int | None = None,
                fee: Decimal = Decimal(0)) -> None:
        ref = self.orders.get(client_id)
        if ref is None:
            self.unknown_fills += 1
            self._event("unknown_fill", client_id=client_id, qty=str(qty), price=str(price))
            log.warning("fill for an order this trader did not send (%s): counted, not applied", client_id)
            return
        ts = self.clock_ns() if ts_ns is None else ts_ns
        t = self.trades[ref[0]]
        side = t.side if ref[1] == ENTRY else t.side.opposite
        realised = self.gate.on_fill(self.inst, _GATE_SIDE[side], self.inst.qty_to_int(str(qty)), self._px(price),
                                     ts_ns=ts, source=Source.AUTO, tag=t.tag, fee=fee)
        self.journal.append(FillRow(ts, self.gate.day, self.inst.venue, self.inst.symbol, side.value, qty, price,
                                    realised, Source.AUTO.name.lower(), t.tag, fee))
        t.fees += fee
        self.fees += fee
        if ref[1] == ENTRY:
            t.filled += qty
            t.notional += qty * price
        else:
            t.closed += qty
            t.pnl += realised
            if t.entry_done and t.closed >= t.filled:
                self._close(t, ts, ref[1])
        self._watch_latch()

    def on_fee(self, client_id: str, fee: Decimal) -> None:
        """A fee the venue itemised after its fill reached us (Binance USD-M: the REST answer
        carries the average fill, the commission comes on the private stream): added to the
        trade, to the journal's and the store's latest fill of the trade. It normally arrives
        before the trade closes; if it arrives after, SMART has already decided on what was known."""
        ref = self.orders.get(client_id)
        if ref is None or not fee:
            return
        t = self.trades[ref[0]]
        t.fees += fee
        self.fees += fee
        for i in range(len(self.journal) - 1, -1, -1):
            if self.journal[i].tag == t.tag:
                self.journal[i] = replace(self.journal[i], fee=self.journal[i].fee + fee)
                break
        self.gate.add_fee(t.tag, fee)

    def on_done(self, client_id: str, state: str) -> None:
        """An order reached a terminal state (filled, cancelled, expired, rejected)."""
        ref = self.orders.get(client_id)
        if ref is None:
            self.unknown_fills += state == "filled"
            return
        t = self.trades[ref[0]]
        if ref[1] == ENTRY and not t.entry_done:
            t.entry_done = True
            if not t.filled:
                t.closed_ns = self.clock_ns()          # nothing filled: no position, no result
                self.open_trades.pop(t.id, None)
                self._event("entry_unfilled", trade=t.id, state=state)
            else:
                self._brackets(t)
        elif ref[1] != ENTRY and state == "rejected":
            self._event("exit_rejected", trade=t.id, role=ref[1])

    def _close(self, t: Trade, ts: int, by: str) -> None:
        t.closed_ns = ts
        self.open_trades.pop(t.id, None)
        other = t.sl if by == TP else t.tp
        if other is not None:
            self.router.cancel(other)
        self.sizer.on_result(t.pnl - t.fees)          # SMART: win / loss on the net PnL
        self._event("exit", trade=t.id, by=by, pnl=str(t.pnl), fees=str(t.fees), net=str(t.pnl - t.fees),
                    streak=self.sizer.streak)

    # -- reporting -----------------------------------------------------------------------------
    def _event(self, kind: str, **kw) -> None:
        ev = {"event": kind, "ts_ns": self.clock_ns(), **kw}
        self.events.append(ev)
        self.pending_events.append(ev)

    def take_events(self) -> list[dict]:
        out, self.pending_events = self.pending_events, []
        return out

    def status(self) -> dict:
        g = self.gate
        return {
            "auto": self.auto, "smart": self.settings.smart, "reverse": self.settings.reverse, "limit_hit": g.latch != Latch.NONE, "state": g.state.name,
            "loss_streak": self.sizer.streak if self.sizer else 0,
            "next_qty": str(self.sizer.next_qty()) if self.sizer else None,
            "open": [t.obj() for t in self.open_trades.values() if t.filled],
            "day_pnl": str(g.day_pnl()), "fees": str(self.fees),
            "caps": {"daily_loss": _opt(g.settings.daily_loss), "daily_profit": _opt(g.settings.daily_profit)},
            "last_orders": list(self.last_orders), "last_refusals": list(self.last_refusals),
            "orders": {"sent": self.sent, "refused": dict(sorted(self.refused.items()))},
            "signals": {"seen": self.signals_seen, "skipped": dict(sorted(self.skipped.items()))},
            "fills": len(self.journal), "unknown_fills": self.unknown_fills,
            "trades_closed": sum(1 for t in self.trades.values() if not t.open and t.filled),
        }


def _opt(v) -> str | None:
    return None if v is None else str(v)
