"""`Gate`: the compiled risk checks (engine.risk.RiskGate) configured from decimal settings,
with the day's PnL, positions, trading state and the LIMIT HIT latch kept in a `RiskStore`.

Every source (CLI, auto-trader, bridges, web view) hands orders to one Gate: `check(...)` for
one order, `check_batch(orders, out)` for an ORDER_DTYPE array (nogil, one reason code per
order). Fills go through `on_fill`, which applies them exactly and writes the fill, the
position and the day's figures in one transaction before it returns. When a cap is crossed
(on a fill, a touch or a check) the latch is persisted at once.

Units: quantities and prices are the instrument's integers (nexus.instruments); money is an
integer at the gate's money exponent: the largest price + qty + contract value exponent of
its instruments, so every instrument's PnL is exact in it (all instruments share one quote
currency). Caps and notional limits are rounded down onto their grid: never looser.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import Any, Callable

import numpy as np

from engine.risk import CV_SCALE_MAX, RiskGate
from nexus.exceptions import ConfigError
from nexus.instruments import Instrument, decimals_of
from nexus.risk.codes import REASON_TEXT, Latch, Reason, Side, Source, State
from nexus.risk.day import day_span_ns, trading_day
from nexus.risk.settings import InstrumentLimits, RiskSettings, limits_problems, validated
from nexus.risk.store import DayState, FillRow, PositionRow, RiskStateError, RiskStore
from nexus.venues import venue_id

MONEY_EXPONENT_MIN = 2


@dataclass(frozen=True)
class _Inst:
    inst: Instrument
    limits: InstrumentLimits
    cv: int           # contract value at cv_exp
    cv_exp: int
    venue_id: int


def _scaled(d: Decimal, exp: int) -> int:
    """d * 10^exp rounded toward zero (limits: never looser)."""
    return int((d.scaleb(exp)).to_integral_value(rounding=ROUND_DOWN))


class Gate:
    def __init__(self, settings: RiskSettings, instruments: list[tuple[Instrument, InstrumentLimits]] = (),
                 store: RiskStore | None = None, *, clock_ns: Callable[[], int] = time.time_ns,
                 halt_reason: str | None = None) -> None:
        self.settings = validated(settings)
        self.store = store
        self.clock_ns = clock_ns
        self.halt_reason = halt_reason
        self.usable = not halt_reason  # False: opened from a state that could not be read
        self._by_id: dict[int, _Inst] = {}
        self._by_name: dict[tuple[str, str], _Inst] = {}
        quotes = set()
        for inst, lim in instruments:
            found = limits_problems(lim)
            if found:
                raise ConfigError("; ".join(found))
            if inst.contract_kind == "inverse":
                raise ConfigError(f"{inst.venue} {inst.symbol}: inverse contracts are not supported by the risk gate yet")
            cv_exp = decimals_of(inst.contract_value)
            e = _Inst(inst, lim, _scaled(Decimal(inst.contract_value), cv_exp), cv_exp, venue_id(inst.venue))
            self._by_id[inst.instrument_id] = self._by_name[(inst.venue, inst.symbol)] = e
            if inst.quote:
                quotes.add(inst.quote)
        if len(quotes) > 1:
            raise ConfigError(f"instruments quote in {sorted(quotes)}: one gate's caps are in one currency")
        caps = [c for c in (settings.daily_loss, settings.daily_profit) if c is not None]
        self.money_exponent = max([MONEY_EXPONENT_MIN] + [self._pnl_exp(e) for e in self._by_id.values()]
                                  + [decimals_of(c) for c in caps])
        self.rg = RiskGate(self.money_exponent)
        for e in self._by_id.values():
            scale = 10 ** (self.money_exponent - self._pnl_exp(e))
            if e.cv * scale > CV_SCALE_MAX:
                raise ConfigError(f"{e.inst.venue} {e.inst.symbol}: price/qty exponents too far from the other "
                                  f"instruments' for one exact money grid (10^{self.money_exponent})")
            self.rg.add_instrument(e.inst.instrument_id, e.venue_id, e.inst.qty_to_int(str(e.limits.max_qty)),
                                   _scaled(e.limits.max_notional, self._pnl_exp(e)), e.cv, scale)
        self._apply_limits()
        self.day = trading_day(clock_ns(), settings.day_boundary_min)
        self._day_span: tuple[int, int, str, str] | None = None
        self.fills = 0
        self._latches = 0
        if halt_reason:
            self.rg.set_state(State.HALTED)

    @staticmethod
    def _pnl_exp(e: _Inst) -> int:
        return e.inst.price_exponent + e.inst.qty_exponent + e.cv_exp

    def _apply_limits(self) -> None:
        s = self.settings
        self.rg.set_limits(s.max_positions, s.cooldown_ms * 1_000_000, s.max_orders, s.rate_window_ms * 1_000_000,
                           s.band_bp, self._money_int(s.daily_loss), self._money_int(s.daily_profit))

    def _money_int(self, d: Decimal | None) -> int:
        return 0 if d is None else _scaled(d, self.money_exponent)

    def money(self, v: int) -> Decimal:
        return Decimal(v).scaleb(-self.money_exponent)

    # -- opening from the store ---------------------------------------------------------
    @classmethod
    def open(cls, url: str | None = None, *, clock_ns: Callable[[], int] = time.time_ns) -> "Gate":
        """The gate as persisted at `url`. A missing-where-expected or unreadable state gives a
        gate that refuses everything (HALTED, `halt_reason` says why), never a fresh one."""
        try:
            store = RiskStore(url, now_ns=clock_ns())
            settings = store.settings()
            insts = [(Instrument(r["venue"], r["symbol"], r["tick_size"], r["lot_size"], r["contract_value"],
                                 r["contract_kind"], quote=r["quote"], price_exponent=r["price_exponent"],
                                 qty_exponent=r["qty_exponent"]),
                      InstrumentLimits(r["venue"], r["symbol"], r["max_qty"], r["max_notional"]))
                     for r in store.limits()]
            gate = cls(settings, insts, store, clock_ns=clock_ns)
            gate._restore(store.state(), store.positions())
            return gate
        except (RiskStateError, ConfigError, ValueError, KeyError) as e:
            reason = str(e) if isinstance(e, RiskStateError) else f"risk state unusable: {type(e).__name__}: {e}"
            return cls(RiskSettings(), [], None, clock_ns=clock_ns, halt_reason=reason)

    def _restore(self, st: DayState, positions: list[PositionRow]) -> None:
        for p in positions:
            e = self._by_name.get((p.venue, p.symbol))
            if e is None:
                if p.qty:
                    raise RiskStateError(f"stored position in {p.venue}:{p.symbol} has no limits row")
                continue
            pe, qe = e.inst.price_exponent, e.inst.qty_exponent
            self.rg.set_position(e.inst.instrument_id, _exact(p.qty, qe), _exact(p.cost, pe + qe),
                                 _exact(p.bid or 0, pe), _exact(p.ask or 0, pe))
        self.fills = st.fills
        self.halt_reason = st.halt_reason
        self.day = st.day or self.day
        self.rg.set_day(_exact(st.realised_day, self.money_exponent), _exact(st.upnl_day_start, self.money_exponent))
        if st.latch != Latch.NONE:
            self.rg.set_latch(int(st.latch))
        elif self.rg.latch == Latch.NONE:
            self.rg.set_state(int(st.state))
        self._latches = self.rg.latches
        self.roll_day()
        if self.rg.latches != self._latches or not st.day:
            self._persist()

    # -- state --------------------------------------------------------------------------
    @property
    def state(self) -> State:
        return State(self.rg.state)

    @property
    def latch(self) -> Latch:
        return Latch(self.rg.latch)

    def set_state(self, state: State, reason: str | None = None) -> None:
        if self.store is None and self.halt_reason:
            raise RiskStateError(f"refusing to trade: {self.halt_reason}")
        try:
            self.rg.set_state(int(state))
        except ValueError as e:
            raise ConfigError(str(e)) from None
        self.halt_reason = reason if state == State.HALTED else None
        self._persist()

    def set_auto(self, on: bool) -> None:
        try:
            self.rg.set_auto(on)
        except ValueError as e:
            raise ConfigError(str(e)) from None

    def roll_day(self) -> bool:
        """Start a new trading day when the boundary has passed: realised PnL back to 0 and
        unrealised measured from now. The latch and the trading state are kept."""
        now = self.clock_ns()
        span = self._day_span     # (start, end, boundary, day): the day last seen, checked per order
        if span is not None and span[0] <= now < span[1] and span[2] == self.settings.day_boundary_utc \
                and span[3] == self.day:
            return False
        bmin = self.settings.day_boundary_min
        day = trading_day(now, bmin)
        self._day_span = (*day_span_ns(now, bmin), self.settings.day_boundary_utc, day)
        if day == self.day:
            return False
        self.rg.new_day()
        self.day = day
        self._persist()
        return True

    # -- orders, touches, fills --------------------------------------------------------
    def instrument(self, venue: str, symbol: str) -> Instrument:
        e = self._by_name.get((venue, symbol))
        if e is None:
            raise ConfigError(f"no risk limits for {venue}:{symbol}: set them with `nexus risk set --instrument`")
        return e.inst

    def limits(self, inst: Instrument) -> InstrumentLimits:
        """The per-order limits of `inst` (ConfigError when it has none)."""
        self.instrument(inst.venue, inst.symbol)
        return self._by_name[(inst.venue, inst.symbol)].limits

    def check(self, inst: Instrument, side: Side, type_: int, qty: int, price: int, *, reduce_only: bool = False,
              source: Source = Source.MANUAL, ts_ns: int | None = None) -> Reason:
        self.roll_day()
        code = self.rg.check(venue_id(inst.venue), inst.instrument_id, int(side), int(type_), qty, price,
                             int(reduce_only), int(source), self.clock_ns() if ts_ns is None else ts_ns)
        self._after()
        return Reason(code)

    def check_batch(self, orders: np.ndarray, out: np.ndarray) -> int:
        self.roll_day()
        n = self.rg.check_batch(orders, out)
        self._after()
        return n

    def touch(self, inst: Instrument, bid: int, ask: int) -> None:
        self.rg.touch(inst.instrument_id, bid, ask)
        self._after()

    def touch_batch(self, records: np.ndarray, n: int = -1) -> int:
        applied = self.rg.touch_batch(records, n)
        self._after()
        return applied

    def on_fill(self, inst: Instrument, side: Side, qty: int, price: int, *, ts_ns: int | None = None,
                source: Source = Source.MANUAL, tag: str = "", fee: Decimal = Decimal(0)) -> Decimal:
        """Apply a fill and persist it (fill, position, day figures: one transaction). A store
        write failure halts the gate and raises: the fill happened, new orders must not.

        Returns the PnL the fill realised BEFORE fees. `fee` (quote currency, as the venue
        reported it) is stored with the fill for the statistics' gross / fees / net figures; it
        does not enter the daily caps, which stay on the issue's definition (realised +
        unrealised trading PnL, exact, in the compiled gate)."""
        ts = self.clock_ns() if ts_ns is None else ts_ns
        self.roll_day()
        try:
            realised = self.money(self.rg.fill(inst.instrument_id, int(side), qty, price))
        except KeyError:
            raise ConfigError(f"fill for {inst.venue}:{inst.symbol}, which has no risk limits: not applied") from None
        self.fills += 1
        if self.store is not None:
            pe, qe = inst.price_exponent, inst.qty_exponent
            row = FillRow(ts, self.day, inst.venue, inst.symbol, Side(side).name.lower(), Decimal(qty).scaleb(-qe),
                          Decimal(price).scaleb(-pe), realised, Source(source).name.lower(), tag, Decimal(fee))
            try:
                self.store.record_fill(row, self._position_row(self._by_id[inst.instrument_id]), self._day_state())
            except Exception as e:
                self.rg.set_state(int(State.HALTED))
                self.halt_reason = f"risk state write failed: {type(e).__name__}: {e}"
                raise RiskStateError(self.halt_reason) from e
        self._latches = self.rg.latches
        return realised

    def add_fee(self, tag: str, fee: Decimal) -> None:
        """A fee reported after its fill was applied (see RiskStore.add_fee): persisted with
        the trade's latest fill; not part of the daily caps (see on_fill)."""
        if self.store is not None:
            self.store.add_fee(tag, fee)

    def _after(self) -> None:
        if self.rg.latches != self._latches:  # a cap latched: persist it now
            self._latches = self.rg.latches
            self._persist()

    # -- persistence and views -----------------------------------------------------------
    def _day_state(self) -> DayState:
        realised, _, start = self.rg.pnl()
        reason = self.halt_reason
        if self.latch != Latch.NONE:
            reason = REASON_TEXT[Reason.DAILY_LOSS if self.latch == Latch.LOSS else Reason.DAILY_PROFIT]
        return DayState(self.day, self.money(realised), self.money(start), self.state, self.latch, reason,
                        self.fills, self.clock_ns())

    def _position_row(self, e: _Inst) -> PositionRow:
        q, cost, bid, ask, _ = self.rg.position(e.inst.instrument_id)
        pe, qe = e.inst.price_exponent, e.inst.qty_exponent
        return PositionRow(e.inst.venue, e.inst.symbol, Decimal(q).scaleb(-qe), Decimal(cost).scaleb(-pe - qe),
                           Decimal(bid).scaleb(-pe) if bid else None, Decimal(ask).scaleb(-pe) if ask else None)

    def _persist(self) -> None:
        """The day's state with every open position's last touch (so a restart values them
        where the latch was decided)."""
        if self.store is not None:
            open_ = [self._position_row(e) for e in self._by_id.values() if self.rg.position(e.inst.instrument_id)[0]]
            self.store.put_state(self._day_state(), positions=open_)

    def day_pnl(self) -> Decimal:
        realised, upnl, start = self.rg.pnl()
        return self.money(realised + upnl - start)

    def snapshot(self) -> dict[str, Any]:
        realised, upnl, start = self.rg.pnl()
        positions = []
        for e in self._by_id.values():
            q, cost, bid, ask, u = self.rg.position(e.inst.instrument_id)
            if q:
                pe, qe = e.inst.price_exponent, e.inst.qty_exponent
                positions.append({"venue": e.inst.venue, "symbol": e.inst.symbol, "qty": e.inst.qty_str(abs(q)),
                                  "side": "long" if q > 0 else "short",
                                  "avg_entry": str(Decimal(cost).scaleb(-pe - qe) / Decimal(q).scaleb(-qe)),
                                  "unrealised": str(self.money(u))})
        return {
            "state": self.state.name, "limit_hit": self.latch != Latch.NONE, "latch": self.latch.name,
            "halt_reason": self._day_state().halt_reason if self.state == State.HALTED else None,
            "auto_enabled": self.rg.auto_enabled, "day": self.day, "realised": str(self.money(realised)),
            "unrealised": str(self.money(upnl - start)), "day_pnl": str(self.day_pnl()),
            "open_positions": self.rg.open_positions, "positions": positions, "fills": self.fills,
            "settings": self.settings.to_obj() if self.usable else None,
            "instruments": [e.limits.to_obj() for e in self._by_id.values()],
        }

    def reset(self, who: str, reason: str) -> dict[str, Any]:
        """Clear the LIMIT HIT latch and HALTED (audited). The day's PnL is kept: if it is still
        past a cap, the next check latches again; raise the cap or wait for the next day."""
        if self.store is None:
            raise RiskStateError(f"refusing to reset: {self.halt_reason}")
        if not reason.strip():
            raise ConfigError("a reset needs a --reason")
        before, pnl = self._day_state(), self.day_pnl()
        self.rg.set_latch(int(Latch.NONE))
        relatched = self.rg.latch != Latch.NONE
        if not relatched:
            self.rg.set_state(int(State.ACTIVE))
            self.halt_reason = None
        self._latches = self.rg.latches
        after = self._day_state()
        self.store.record_reset(who, reason, before, pnl, after)
        return {"who": who, "reason": reason, "latch_before": before.latch.name, "state_before": before.state.name,
                "state_after": after.state.name, "relatched": relatched, "day_pnl": str(pnl)}

    def with_settings(self, settings: RiskSettings) -> RiskSettings:
        """Validate, apply and persist new settings (caps re-evaluated at once)."""
        settings = validated(settings)
        money_needed = max([decimals_of(c) for c in (settings.daily_loss, settings.daily_profit) if c is not None] or [0])
        if money_needed > self.money_exponent:
            raise ConfigError(f"caps have more decimals than the PnL grid (at most {self.money_exponent})")
        old, self.settings = self.settings, settings
        try:
            self._apply_limits()
        except ValueError as e:
            self.settings = old
            raise ConfigError(str(e)) from None
        if self.store is not None:
            self.store.put_settings(settings)
        self._after()
        return settings



def _exact(d: Decimal | int, exp: int) -> int:
    v = Decimal(d).scaleb(exp)
    if v != v.to_integral_value():
        raise RiskStateError(f"stored value {d} is not on the 10^-{exp} grid")
    return int(v)
