"""The risk gate of engine/risk.pyx in pure Python, check for check and fill for fill (same
order of checks, same integer rules: average cost with floor division of the released cost,
inclusive boundaries). It is the baseline of `nexus bench risk` and the reference the
property test (tests/risk/test_gate_twin.py) compares the compiled gate with. Python ints do
not overflow; the compiled gate's bound (units_max) is applied the same way so both agree.
"""

from __future__ import annotations

from math import isqrt

BUY, SELL = 1, 2
MARKET, LIMIT, STOP = 1, 2, 3
AUTO = 1
ACTIVE, REDUCING, HALTED = 0, 1, 2
LATCH_NONE, LATCH_LOSS, LATCH_PROFIT = 0, 1, 2
(ACCEPT, DAILY_LOSS, DAILY_PROFIT, HALTED_R, BAD_ORDER, UNKNOWN, AUTO_OFF, REDUCING_ONLY, REDUCE_ONLY,
 MAX_QTY, NO_TOUCH, PRICE_BAND, MAX_NOTIONAL, MAX_POSITIONS, COOLDOWN, RATE) = range(16)
UNITS_MAX = 10**14
BAND_BP_DEN = 10_000


class _Slot:
    __slots__ = ("venue_id", "max_qty", "max_notional", "cv", "scale", "units_max", "pos", "cost", "bid", "ask", "upnl")

    def __init__(self, venue_id, max_qty, max_notional, cv, scale):
        self.venue_id, self.max_qty, self.max_notional, self.cv, self.scale = venue_id, max_qty, max_notional, cv, scale
        self.units_max = min(UNITS_MAX, isqrt((1 << 126) // (cv * scale)))
        self.pos = self.cost = self.bid = self.ask = self.upnl = 0


class PyRiskGate:
    def __init__(self) -> None:
        self.slots: dict[int, _Slot] = {}
        self.open_positions = 0
        self.max_positions, self.cooldown_ns, self.rate_max, self.rate_window_ns, self.band_bp = 1, 0, 1, 1, 0
        self.loss_cap = self.profit_cap = 0
        self.state, self.latch, self.auto_enabled = ACTIVE, LATCH_NONE, False
        self.last_auto_ts_ns: int | None = None
        self.rate_ts: list[int] = []
        self.rate_head = 0
        self.realised_day = self.upnl_total = self.upnl_day_start = 0

    def set_limits(self, max_positions, cooldown_ns, rate_max, rate_window_ns, band_bp, loss_cap, profit_cap):
        self.max_positions, self.cooldown_ns, self.rate_window_ns, self.band_bp = max_positions, cooldown_ns, rate_window_ns, band_bp
        if rate_max != self.rate_max:
            self.rate_ts, self.rate_head = [], 0
        self.rate_max, self.loss_cap, self.profit_cap = rate_max, loss_cap, profit_cap
        self._caps()

    def add_instrument(self, instrument_id, venue_id, max_qty, max_notional, cv, scale):
        self.slots[instrument_id] = _Slot(venue_id, max_qty, max_notional, cv, scale)

    def set_auto(self, on):
        self.auto_enabled = bool(on)

    def _caps(self) -> int:
        if self.latch == LATCH_NONE:
            pnl = self.realised_day + self.upnl_total - self.upnl_day_start
            if self.loss_cap > 0 and pnl <= -self.loss_cap:
                self.latch = LATCH_LOSS
            elif self.profit_cap > 0 and pnl >= self.profit_cap:
                self.latch = LATCH_PROFIT
            else:
                return ACCEPT
            self.state, self.auto_enabled = HALTED, False
        return DAILY_LOSS if self.latch == LATCH_LOSS else DAILY_PROFIT

    def _upnl(self, s: _Slot) -> None:
        u = 0
        if s.pos and s.bid > 0 and s.ask > 0:
            u = (s.pos * (s.bid if s.pos > 0 else s.ask) - s.cost) * s.cv * s.scale
        self.upnl_total += u - s.upnl
        s.upnl = u

    def touch(self, instrument_id, bid, ask):
        s = self.slots[instrument_id]
        if bid > 0:
            s.bid = bid
        if ask > 0:
            s.ask = ask
        self._upnl(s)
        self._caps()

    def check(self, o) -> int:
        """o: (ts_ns, qty, price, instrument_id, venue_id, side, type, reduce_only, source)."""
        ts, qty, price, iid, vid, side, typ, ro, src = o
        if self.latch != LATCH_NONE:  # caps are evaluated where the PnL changes
            return DAILY_LOSS if self.latch == LATCH_LOSS else DAILY_PROFIT
        if self.state == HALTED:
            return HALTED_R
        if side not in (BUY, SELL) or not MARKET <= typ <= STOP or ro > 1 or src > AUTO or qty <= 0:
            return BAD_ORDER
        if (typ == MARKET and price != 0) or (typ != MARKET and price <= 0):
            return BAD_ORDER
        s = self.slots.get(iid)
        if s is None or s.venue_id != vid:
            return UNKNOWN
        if qty > s.units_max or price > s.units_max:
            return BAD_ORDER
        reducing = s.pos != 0 and (s.pos > 0) == (side == SELL) and qty <= abs(s.pos)
        adds = src == AUTO and not reducing
        if adds and not self.auto_enabled:
            return AUTO_OFF
        if self.state == REDUCING and not reducing:
            return REDUCING_ONLY
        if ro and not reducing:
            return REDUCE_ONLY
        if qty > s.max_qty:
            return MAX_QTY
        touch = s.ask if side == BUY else s.bid
        if not (s.bid > 0 and s.ask > 0):
            return NO_TOUCH
        if typ == MARKET:
            px = touch
        else:
            px = price
            if abs(px - touch) * BAND_BP_DEN > self.band_bp * touch:
                return PRICE_BAND
        if qty * px * s.cv > s.max_notional:
            return MAX_NOTIONAL
        if s.pos == 0 and self.open_positions >= self.max_positions:
            return MAX_POSITIONS
        if adds and self.last_auto_ts_ns is not None and ts - self.last_auto_ts_ns < self.cooldown_ns:
            return COOLDOWN
        if len(self.rate_ts) >= self.rate_max and ts - self.rate_ts[self.rate_head] < self.rate_window_ns:
            return RATE
        if len(self.rate_ts) < self.rate_max:
            self.rate_ts.append(ts)
        else:
            self.rate_ts[self.rate_head] = ts
            self.rate_head = (self.rate_head + 1) % self.rate_max
        if adds:
            self.last_auto_ts_ns = ts
        return ACCEPT

    def check_batch(self, orders) -> list[int]:
        return [self.check(o) for o in orders]

    def fill(self, instrument_id, side, qty, price) -> int:
        s = self.slots[instrument_id]
        if side not in (BUY, SELL) or not 0 < qty <= s.units_max or not 0 < price <= s.units_max:
            raise ValueError("malformed fill")
        q = qty if side == BUY else -qty
        pos, newpos, rz = s.pos, s.pos + q, 0
        if abs(newpos) > s.units_max:
            raise ValueError("position past units_max")
        if pos == 0 or (pos > 0) == (q > 0):
            s.cost += q * price
        else:
            r = min(qty, abs(pos))
            rel = abs(s.cost) * r // abs(pos)
            if s.cost < 0:
                rel = -rel
            rz = (r * price - rel if pos > 0 else -(r * price) - rel) * s.cv * s.scale
            s.cost -= rel
            if qty > abs(pos):
                s.cost = newpos * price
            self.realised_day += rz
        self.open_positions += (newpos != 0) - (pos != 0)
        s.pos = newpos
        self._upnl(s)
        self._caps()
        return rz
