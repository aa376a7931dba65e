"""The flow engine's logic in pure Python: the same metrics and detectors, step for step, as
engine/flow.pyx and engine/det_*.pxd, written the way a careful Python programmer would
(a dict + sorted price list per book side, bisect, plain ints, collections.deque windows).

Two uses: the baseline of `nexus bench flow` (the same work in pure Python, in the same
run), and a second implementation the tests compare the compiled engine with, output for
output. It takes the same parameter dict and records as tuples
(ts_exchange_ns, ts_local_ns, price, qty, seq, trade_id, instrument_id, aux, venue_id, kind,
flags, side) -- `batch.tolist()` of a record array minus the padding.

Outputs: metrics rows as tuples (msg, rec, ts, bid_px, bid_qty, ask_px, ask_qty, ofi list,
obi_num, obi_den, cvd, buy, sell, flags); VPIN rows (msg, rec, ts, bucket, num, den);
signals (type, side, price, confidence, facts tuple of 6, msg, rec, ts).
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right, insort
from collections import deque
from itertools import islice

BOOK_LEVEL, BOOK_CLEAR, TRADE = 1, 2, 3
F_LAST, F_RESYNC = 1, 4
BID, ASK = 1, 2
INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1
PHI_ONE, PHI_HALF = 1 << 20, 1 << 19
SQRT1_2 = math.sqrt(0.5)
ROW_BOOK_CHANGED, ROW_TRADES, ROW_RESET, ROW_HAVE_BID, ROW_HAVE_ASK = 1, 2, 4, 8, 16
ABSORPTION, ICEBERG, EXHAUSTION, DELTA_SPIKE, SPOOF, SMART_MONEY, ORACLE = range(1, 8)
EXH_RING, SM_RING, SPOOF_WALLS_MAX, DS_LEVELS_MAX = 4096, 1024, 8, 64
SPOOF_VOL_SHIFT, SPOOF_VOL_MIN = 5, 10      # engine/det_spoof.pxd
OS_BUCKETS = 512
ICE_OBS = 16                      # engine/det_iceberg.pxd ICE_OBS


def os_bucket(q):
    """engine/ordersize.pxd os_bucket: 8 * floor(log2 q) + the next three bits."""
    if q < 1:
        return 0
    e = q.bit_length() - 1
    return e * 8 + (((q >> (e - 3)) if e >= 3 else (q << (3 - e))) & 7)


def os_bucket_low(b):
    """engine/ordersize.pxd os_bucket_low: the smallest quantity of bucket b (>= 1)."""
    e, v = b >> 3, 8 + (b & 7)
    return v << (e - 3) if e >= 3 else max(1, v >> (3 - e))


def conf_ratio(threshold, value):
    if value <= 0 or threshold <= 0:
        return 50
    return min(100, max(0, 100 - (50 * threshold) // value))


class Side:
    """One book side: sizes by price and the prices sorted ascending."""

    __slots__ = ("qty", "prices", "is_bid")

    def __init__(self, is_bid):
        self.qty, self.prices, self.is_bid = {}, [], is_bid

    def set(self, price, qty):
        """Returns (changed, old size)."""
        old = self.qty.get(price, 0)
        if qty <= 0:
            if not old:
                return False, 0
            del self.qty[price]
            del self.prices[bisect_left(self.prices, price)]
            return True, old
        if old == qty:
            return False, old
        if not old:
            insort(self.prices, price)
        self.qty[price] = qty
        return True, old

    def px(self, k):
        n = len(self.prices)
        if k < n:
            return self.prices[n - 1 - k] if self.is_bid else self.prices[k]
        return INT64_MIN if self.is_bid else INT64_MAX

    def sz(self, k):
        n = len(self.prices)
        if k < n:
            return self.qty[self.prices[n - 1 - k] if self.is_bid else self.prices[k]]
        return 0

    def rank(self, price):
        """Levels strictly better than `price`."""
        if self.is_bid:
            return len(self.prices) - bisect_right(self.prices, price)
        return bisect_left(self.prices, price)

    def top(self, levels):
        """(prices, sizes) of the `levels` best levels, best first."""
        sel = self.prices[-levels:][::-1] if self.is_bid else self.prices[:levels]
        q = self.qty
        return sel, [q[x] for x in sel]

    def depth_sum(self, levels):
        return sum(self.top(levels)[1])


class PyFlowEngine:
    def __init__(self, params: dict):
        p = dict(params)
        self.p = p
        self.ofi_levels, self.obi_levels = p["ofi_levels"], p["obi_levels"]
        self.instrument_id = p["instrument_id"]
        self.bids, self.asks = Side(True), Side(False)
        self.prev = None
        self.undo, self.saved = [], {}
        self.msg_book = self.msg_resync = False
        self.msg_buy = self.msg_sell = self.msg_trades = 0
        self.messages = self.records = self.cvd = 0
        self.vpin_on = p["vpin_bucket_volume"] > 0
        self.V, self.vn, self.W, self.bar_ns = (p["vpin_bucket_volume"], p["vpin_window"],
                                                p["vpin_sigma_bars"], p["vpin_bar_ns"])
        self.bar_open, self.bar_id, self.bar_vol, self.bar_close = False, 0, 0, 0
        self.prev_close = None
        self.dps = deque()
        self.s1 = self.s2 = 0
        self.filled = self.buy_fp = self.buckets = self.imb_sum = 0
        self.imbs = deque()
        on = bool(p["signals"])
        self.on = {t: on and bool(p[n]) for t, n in ((ABSORPTION, "absorption"), (ICEBERG, "iceberg"),
                   (EXHAUSTION, "exhaustion"), (DELTA_SPIKE, "delta_spike"), (SPOOF, "spoof"),
                   (SMART_MONEY, "smart_money"), (ORACLE, "oracle"))}
        self.signals_on = on
        self.now = 0
        self.tick, self.warmup, self.warmup_s = p["tick"], p["warmup_trades"], p["warmup_s"]
        self.ctx_trades = self.seconds = self.rate = self.avg_order = 0
        self.sec_id = None
        self.sec_vol = 0
        self.order = None  # [side, ts, qty, px] of the aggressive order being assembled
        self.abs = {s: None for s in (BID, ASK)}
        self.ice = {s: None for s in (BID, ASK)}
        self.ice_booked = {s: False for s in (BID, ASK)}
        # per side, the book at the end of its last ICE_OBS book messages, newest last:
        # [ts, best px, size there, prints paired with it, counted as a refill]
        self.ice_obs = {s: deque(maxlen=ICE_OBS) for s in (BID, ASK)}
        self.exh_ring = deque()          # prints of the last window_ns: (ts, signed q, px)
        self.exh_off = 0                 # ring[exh_off:] are the prints of the last burst_ns
        self.exh_buy = self.exh_sell = 0  # their volumes
        self.exh_base = deque()          # completed buckets: (buy volume, sell volume)
        self.exh_s1 = self.exh_s2 = 0
        self.exh_started = False
        self.exh_bucket = self.exh_cur_buy = self.exh_cur_sell = 0
        self.exh_os1 = self.exh_os2 = 0              # the same for aggressive-order counts
        self.exh_cur_obuy = self.exh_cur_osell = 0
        self.exh_last_ts = {}
        self.exh = {d: None for d in (BID, ASK)}
        self.exh_last = {}
        self.ds_ring = deque()
        self.ds_s1 = self.ds_s2 = 0
        self.ds_started = False
        self.ds_bucket = self.ds_delta = 0
        self.ds_recent, self.ds_older = deque(), deque()
        self.ds_recent_sum = self.ds_older_sum = 0
        self.ds_fired_ts = None
        self.walls = {BID: [None] * SPOOF_WALLS_MAX, ASK: [None] * SPOOF_WALLS_MAX}
        self.sv_sec = self.sv_mid2 = self.sv_q16 = self.sv_n = 0   # spoof: the touch's one-second move
        self.sm_ring = deque()
        self.sm_q, self.sm_n = {BID: 0, ASK: 0}, {BID: 0, ASK: 0}
        self.sm_last = {}
        self.os_sizes = deque()           # size buckets of the last order_median_window orders
        self.os_hist = [0] * OS_BUCKETS
        self.os_med_b = self.os_below = 0   # the median's bucket; orders in buckets below it
        self.sm_bin = None                # the current bin of window_ns and its per-side counts
        self.sm_cur = {BID: 0, ASK: 0}
        self.sm_bins = deque()            # (buy, sell) large-lot counts of completed bins
        self.or_last = {}
        self.or_emitted = None
        self.or_w = (0,) + tuple(p["oracle_weights"])
        self.metrics, self.vpin_rows, self.signals = [], [], []
        self._raw = []
        self.calib = {}
        if params.get("calibrated", False) and params.get("signals", True):
            from nexus.flow.calibration import SIG_TYPES, load
            self.calib = {SIG_TYPES[k]: v for k, v in load().items() if k in SIG_TYPES}

    # -- the record loop ----------------------------------------------------------------------
    def update(self, recs):
        for r in recs:
            ts, tsl, price, qty, kind, flags, side = r[0], r[1], r[2], r[3], r[9], r[10], r[11]
            if self.instrument_id and r[6] != self.instrument_id:
                self.records += 1
                continue
            self.cur = (self.messages, self.records, ts)
            if ts > self.now:
                self.now = ts
            # engine/signal.pxd signal_ts: a record without exchange time stamps its signals
            # with the latest one seen, else its receive time
            self.sig_ts = ts if ts > 0 else (self.now if self.now > 0 else tsl)
            if flags & F_RESYNC:
                self.msg_resync = True
            if kind == BOOK_LEVEL or kind == BOOK_CLEAR:
                self._book(kind, side, price, qty)
            elif kind == TRADE:
                self._trade(side, price, qty, ts if ts > 0 else 0)
            self.records += 1
            if flags & F_LAST:
                self._end_message(ts)

    def _book(self, kind, side, price, qty):
        self.msg_book = True
        if kind == BOOK_CLEAR:
            for s, book in ((BID, self.bids), (ASK, self.asks)):
                if side != (ASK if s == BID else BID):
                    self._save(s, book)
                    book.qty.clear()
                    book.prices.clear()
            if self.on[ICEBERG]:
                for s in (BID, ASK):
                    if side != (ASK if s == BID else BID):
                        self.ice_booked[s] = True
                        if self.ice[s] is not None:
                            self.ice[s]["touched"] = self.ice[s]["active"]
            return
        if side not in (BID, ASK):
            return
        changed, old = (self.bids if side == BID else self.asks).set(price, qty if qty > 0 else 0)
        if changed and side not in self.saved:
            self.undo.append((side, price, old, qty if qty > 0 else 0))
        if self.on[ICEBERG]:
            self.ice_booked[side] = True
            e = self.ice[side]
            if e is not None and e["active"] and e["px"] == price:
                e["touched"] = True

    def _save(self, s, book):
        if s in self.saved:
            return
        copy = dict(book.qty)
        for side, price, old, _ in reversed(self.undo):
            if side == s:
                if old:
                    copy[price] = old
                else:
                    copy.pop(price, None)
        self.undo = [u for u in self.undo if u[0] != s]
        self.saved[s] = copy

    def _changed(self):
        if len(self.undo) == 1:
            return True
        seen = set()
        for side, price, old, _ in self.undo:
            if (side, price) in seen:
                continue
            seen.add((side, price))
            if (self.bids if side == BID else self.asks).qty.get(price, 0) != old:
                return True
        for s, copy in self.saved.items():
            if (self.bids if s == BID else self.asks).qty != copy:
                return True
        return False

    def _trade(self, side, price, qty, ts):
        if qty <= 0:
            return
        self.msg_trades += 1
        if side == BID:
            self.msg_buy += qty
            self.cvd += qty
        elif side == ASK:
            self.msg_sell += qty
            self.cvd -= qty
        if self.vpin_on:
            self._vpin_trade(price, qty, ts)
        if self.signals_on and side in (BID, ASK):
            self._det_trade(side, price, qty, ts)

    def _end_message(self, ts):
        changed = bool(self.undo or self.saved) and self._changed()
        if changed or self.msg_trades:
            L = self.ofi_levels
            flags = 0
            ofi = [0] * L
            b, a = self.bids, self.asks
            if changed:
                flags |= ROW_BOOK_CHANGED
                bps, bqs = b.top(L)
                aps, aqs = a.top(L)
                if len(bps) < L:
                    bps, bqs = bps + [INT64_MIN] * (L - len(bps)), bqs + [0] * (L - len(bqs))
                if len(aps) < L:
                    aps, aqs = aps + [INT64_MAX] * (L - len(aps)), aqs + [0] * (L - len(aqs))
                reset = self.msg_resync or self.prev is None
                if reset:
                    flags |= ROW_RESET
                else:
                    pbps, pbqs, paps, paqs = self.prev
                    for k in range(L):
                        bp, bq, ap, aq = bps[k], bqs[k], aps[k], aqs[k]
                        pbp, pbq, pap, paq = pbps[k], pbqs[k], paps[k], paqs[k]
                        ofi[k] = ((bq if bp >= pbp else 0) - (pbq if bp <= pbp else 0)
                                  - (aq if ap <= pap else 0) + (paq if ap >= pap else 0))
                self.prev = (bps, bqs, aps, aqs)
            if self.msg_trades:
                flags |= ROW_TRADES
            if b.prices:
                flags |= ROW_HAVE_BID
            if a.prices:
                flags |= ROW_HAVE_ASK
            sb, sa = b.depth_sum(self.obi_levels), a.depth_sum(self.obi_levels)
            self.metrics.append((self.messages, self.records - 1, ts, b.px(0) if b.prices else 0, b.sz(0),
                                 a.px(0) if a.prices else 0, a.sz(0), ofi, sb - sa, sb + sa, self.cvd,
                                 self.msg_buy, self.msg_sell, flags))
        if self.signals_on:
            if self.msg_resync and self.msg_book:
                self.walls = {BID: [None] * SPOOF_WALLS_MAX, ASK: [None] * SPOOF_WALLS_MAX}
            self._det_message(changed)
        self.undo, self.saved = [], {}
        self.msg_book = self.msg_resync = False
        self.msg_trades = self.msg_buy = self.msg_sell = 0
        self.messages += 1

    # -- VPIN (engine/vpin.pxd) ---------------------------------------------------------------
    def _vpin_trade(self, price, qty, ts):
        if self.bar_ns == 0:
            self._vpin_fill(qty, self._classify(price))
            return
        bid = ts // self.bar_ns
        if self.bar_open and bid > self.bar_id:
            self._vpin_fill(self.bar_vol, self._classify(self.bar_close))
            self.bar_open = False
        if not self.bar_open:
            self.bar_open, self.bar_id, self.bar_vol = True, bid, 0
        self.bar_vol += qty
        self.bar_close = price

    def _classify(self, close):
        if self.prev_close is None:
            self.prev_close = close
            return PHI_HALF
        dp = close - self.prev_close
        self.prev_close = close
        if len(self.dps) == self.W:
            old = self.dps.popleft()
            self.s1 -= old
            self.s2 -= old * old
        self.dps.append(dp)
        self.s1 += dp
        self.s2 += dp * dp
        c = len(self.dps)
        num = c * self.s2 - self.s1 * self.s1
        if num <= 0:
            return PHI_ONE if dp > 0 else 0 if dp < 0 else PHI_HALF
        z = (float(dp) * float(c)) / math.sqrt(float(num))
        return int(0.5 * math.erfc(-z * SQRT1_2) * PHI_ONE)

    def _vpin_fill(self, volume, phi):
        V = self.V
        while volume > 0:
            take = min(V - self.filled, volume)
            self.filled += take
            self.buy_fp += take * phi
            volume -= take
            if self.filled == V:
                imb = abs(V * PHI_ONE - 2 * self.buy_fp)
                if len(self.imbs) == self.vn:
                    self.imb_sum -= self.imbs.popleft()
                self.imbs.append(imb)
                self.imb_sum += imb
                if self.buckets + 1 >= self.vn:
                    m, rec, ts = self.cur
                    self.vpin_rows.append((m, rec, ts, self.buckets, self.imb_sum, self.vn * V * PHI_ONE))
                self.buckets += 1
                self.filled = self.buy_fp = 0

    # -- detectors (engine/detectors.pxd) -----------------------------------------------------
    def _emit(self, t, side, price, conf, f0=0, f1=0, f2=0, f3=0, f4=0, f5=0):
        m, rec, _ = self.cur
        raw = (t, side, price, min(100, max(0, conf)), (f0, f1, f2, f3, f4, f5), m, rec, self.sig_ts)
        self._raw.append(raw)   # the oracle reads the raw confidences (engine/flow.pyx)
        table = self.calib.get(t)
        self.signals.append(raw if table is None else raw[:3] + (table[raw[3]],) + raw[4:])

    def _warm(self):
        return (self.ctx_trades >= self.warmup and self.seconds >= self.warmup_s
                and self.rate > 0 and self.avg_order > 0)

    def _flow(self, pct, window_ns):
        """pct % of the normal taker volume over window_ns (engine/detctx.pxd ctx_flow)."""
        return ((self.rate >> 8) * pct // 100 * (window_ns // 1000000) // 1000) >> 8

    def _fold_second(self, vol):
        v16 = vol << 16
        self.rate = v16 if self.seconds == 0 else self.rate + ((v16 - self.rate) >> 6)
        self.seconds += 1

    def _book_side(self, s):
        return self.bids if s == BID else self.asks

    def _close_order(self):
        side, ts, qty, px = self.order
        if self.on[SMART_MONEY]:
            self._smart_money_order(side, px, qty, ts)
        o16 = qty << 16
        if self.avg_order == 0:
            self.avg_order = o16
        else:
            if o16 > 8 * self.avg_order:
                o16 = 8 * self.avg_order
            self.avg_order += (o16 - self.avg_order) >> 5
        self._os_push(qty)
        self.order = None

    def _det_trade(self, taker, px, q, ts):
        first = len(self.signals)
        if self.order is not None and (taker != self.order[0] or ts != self.order[1]):
            self._close_order()
        sec = ts // 1000000000
        if self.sec_id is None:
            self.sec_id, self.sec_vol = sec, 0
        elif sec > self.sec_id:
            self._fold_second(self.sec_vol)
            for _ in range(min(sec - self.sec_id - 1, 64)):
                self._fold_second(0)
            self.sec_id, self.sec_vol = sec, 0
        self.sec_vol += q
        self.ctx_trades += 1
        on = self.on
        if on[ABSORPTION]:
            self._absorption_trade(taker, px, q, ts)
        if on[ICEBERG]:
            self._iceberg_trade(taker, px, q, ts)
        if on[EXHAUSTION]:
            self._exhaustion_trade(taker, px, q, ts)
        if on[DELTA_SPIKE]:
            self._delta_spike_trade(taker, px, q, ts)
        if on[SPOOF]:
            self._spoof_trade(taker, px, q)
        if self.order is not None:
            self.order[2] += q
            self.order[3] = px
        else:
            self.order = [taker, ts, q, px]
        self._feed_oracle(first)

    def _det_message(self, changed):
        first = len(self.signals)
        if self.order is not None and self.now > self.order[1]:
            self._close_order()
        on = self.on
        if on[ABSORPTION]:
            self._absorption_message()
        if on[ICEBERG]:
            self._iceberg_message()
        if on[EXHAUSTION]:
            self._exhaustion_message()
        if on[SPOOF] and changed:
            self._spoof_message()
        self._feed_oracle(first)

    def _absorption_trade(self, taker, px, q, ts):
        p = self.p
        ps = 3 - taker
        e = self.abs[ps]
        if e is None or not e["active"] or px != e["px"] or (e["last_ts"] >= 0 and ts - e["last_ts"] > p["absorption_window_ns"]):
            last = e["last"] if e is not None else None
            heavy = e["heavy"] if e is not None else None
            e = self.abs[ps] = {"active": True, "armed": False, "fired": False, "px": px, "vol": 0, "prints": 0,
                                "orders": 0, "last_ts": -1, "conf": 0,
                                "disp": self._book_side(ps).qty.get(px, 0), "start": ts, "armed_ts": 0, "thr": 0,
                                "last": last, "heavy": heavy}
        e["vol"] += q
        e["prints"] += 1
        if ts != e["last_ts"]:
            e["orders"] += 1
        e["last_ts"] = ts
        if e["armed"] or e["fired"] or not self._warm() or e["prints"] < p["absorption_min_prints"]:
            return
        span = max(ts - e["start"], p["absorption_window_ns"])
        thr = max(self._flow(p["absorption_rate_pct"], span), 1)
        if e["vol"] < e["disp"] * p["absorption_display_pct"] // 100 or e["vol"] < p["absorption_min_qty"]:
            return
        c1 = conf_ratio(thr, e["vol"]) if e["vol"] >= thr else 0
        c2 = 0
        t2 = e["disp"] * p["absorption_turnover_pct"] // 100 * (span // 1000000) // 1000
        if p["absorption_turnover_pct"] > 0 and e["disp"] > 0 and e["vol"] >= t2:
            c2 = conf_ratio(t2, e["vol"])
        if c1 > 0 or c2 > 0:
            e["conf"] = max(c1, c2)
            e["armed"], e["armed_ts"], e["thr"] = True, ts, thr
            e["heavy"] = (px, ts)

    def _absorption_heavy(self, side, px, now):
        e = self.abs[side]
        h = e["heavy"] if e is not None else None
        return h is not None and h[0] == px and now - h[1] <= self.p["iceberg_window_ns"]

    def _absorption_message(self):
        for ps in (BID, ASK):
            e = self.abs[ps]
            if e is None or not e["active"]:
                continue
            side = self._book_side(ps)
            best = side.px(0)
            if (ps == BID and best < e["px"]) or (ps == ASK and best > e["px"]):
                e["active"] = False
                continue
            d = side.qty.get(e["px"], 0)
            if d > e["disp"]:
                e["disp"] = d
            if not e["armed"] or e["fired"] or self.now - e["armed_ts"] < self.p["absorption_hold_ns"]:
                continue
            if e["last"] is not None and self.now - e["last"] < self.p["absorption_cooldown_ns"]:
                continue
            self._emit(ABSORPTION, ps, e["px"], e["conf"], e["vol"], e["prints"],
                       d, self.now - e["start"], e["thr"])
            e["fired"] = True
            e["last"] = self.now

    def _ice_late_slot(self, obs, ts):
        """engine/det_iceberg.pxd ice_late_slot: the index in obs of the oldest observation at
        or after ts whose predecessor is still there, for a print at most late_ns old; None."""
        late = self.p["iceberg_late_ns"]
        if late <= 0 or not obs or ts > obs[-1][0] or obs[-1][0] - ts > late:
            return None
        j = len(obs) - 1
        while j - 1 >= 0 and obs[j - 1][0] >= ts:
            j -= 1
        return j if j >= 1 else None

    def _iceberg_trade(self, taker, px, q, ts):
        ps = 3 - taker
        e = self.ice[ps]
        obs = self.ice_obs[ps]
        j = self._ice_late_slot(obs, ts)
        if (e is None or not e["active"] or px != e["px"] or ts - e["start"] > self.p["iceberg_window_ns"]
                or (e["gone"] is not None and (j is None or ts > e["gone"]))):
            if e is not None and e["active"]:
                self._iceberg_fire(ps, e, e["last_ts"], True)     # its last chance, at its last print
            disp = self._book_side(ps).qty.get(px, 0)
            if j is not None and obs[j - 1][1] == px:
                disp = obs[j - 1][2]
            last = e["last"] if e is not None else None
            e = self.ice[ps] = {"active": True, "fired": False, "touched": False, "gone": None, "px": px,
                                "last_disp": disp, "max_disp": disp, "traded": 0, "since": 0, "refills": 0,
                                "start": ts, "last": last, "last_ts": ts, "late": False}
        e["traded"] += q
        e["last_ts"] = max(e["last_ts"], ts)
        if j is None:
            e["since"] += q
            return
        e["late"] = True
        o, op = obs[j], obs[j - 1]
        if o[1] != px or op[1] != px:
            return
        o[3] += q
        e["max_disp"] = max(e["max_disp"], op[2])
        if not o[4] and o[2] > 0 and o[2] > op[2] - o[3]:
            o[4] = True
            e["refills"] += 1
            e["max_disp"] = max(e["max_disp"], o[2])

    def _iceberg_message(self):
        p = self.p
        for ps in (BID, ASK):
            obs = self.ice_obs[ps]
            if self.ice_booked[ps]:
                self.ice_booked[ps] = False
                if p["iceberg_late_ns"] > 0:
                    side = self._book_side(ps)
                    best = side.px(0)
                    obs.append([self.now, best, side.qty.get(best, 0), 0, False])
            e = self.ice[ps]
            if e is None or not e["active"]:
                continue
            if e["gone"] is not None:
                if self.now - e["gone"] > p["iceberg_late_ns"]:
                    self._iceberg_fire(ps, e, e["last_ts"], True)     # the episode ends
                    e["active"] = False
                    continue
            elif e["touched"]:
                e["touched"] = False
                side = self._book_side(ps)
                d = side.qty.get(e["px"], 0)
                if d == 0:
                    best = side.px(0)
                    if (ps == BID and best < e["px"]) or (ps == ASK and best > e["px"]):
                        if p["iceberg_late_ns"] > 0:
                            e["gone"] = self.now
                        else:
                            self._iceberg_fire(ps, e, e["last_ts"], True)
                            e["active"] = False
                    e["last_disp"] = 0
                    continue
                mine = obs and obs[-1][1] == e["px"]
                if e["since"] > 0 and d > e["last_disp"] - e["since"]:
                    e["refills"] += 1
                    if mine:
                        obs[-1][4] = True
                if mine:
                    obs[-1][3] += e["since"]
                e["since"] = 0
                e["last_disp"] = d
                if d > e["max_disp"]:
                    e["max_disp"] = d
            self._iceberg_fire(ps, e, self.now, False)

    def _iceberg_fire(self, ps, e, now, final):
        """engine/det_iceberg.pxd ice_fire: the episode's fire test as of exchange time now
        (final: the episode ends here)."""
        p = self.p
        if e["fired"] or e["refills"] < p["iceberg_min_refills"] or now - e["start"] < p["iceberg_settle_ns"]:
            return
        if self._absorption_heavy(ps, e["px"], now):
            return
        span = (e["last_ts"] if e["late"] else now) - e["start"]
        if not final and now - e["start"] < p["iceberg_flood_span_ns"] + (p["iceberg_late_ns"] if e["late"] else 0):
            return
        if p["iceberg_flood_pct"] > 0 and (not self._warm() or e["traded"] >= self._flow(p["iceberg_flood_pct"], span)):
            return
        ms = max(1, span // 1000000)
        if p["iceberg_flood_orders_per_s"] > 0 and e["traded"] * 1000 >= (
                p["iceberg_flood_orders_per_s"] * (self.avg_order >> 16) * ms):
            return
        tms = ms if final else max(ms, p["iceberg_flood_span_ns"] // 1000000)
        if p["absorption_turnover_pct"] > 0 and e["max_disp"] > 0 and e["traded"] * 100000 >= (
                p["absorption_turnover_pct"] * e["max_disp"] * tms):
            return
        thr = max(e["max_disp"] * p["iceberg_vol_mult_pct"] // 100, p["iceberg_min_qty"], 1)
        if e["traded"] < thr:
            return
        if e["last"] is not None and now - e["last"] < p["iceberg_cooldown_ns"]:
            return
        self._emit(ICEBERG, ps, e["px"],
                   (conf_ratio(p["iceberg_min_refills"], e["refills"]) + conf_ratio(thr, e["traded"])) // 2,
                   e["traded"], e["refills"], e["max_disp"], now - e["start"], e["last_disp"],
                   e["traded"] - e["max_disp"])
        e["fired"] = True
        e["last"] = now

    def _exh_push(self, vb, vs, nb, ns):
        if len(self.exh_base) == self.p["exhaustion_base_window"]:
            ob, os_, onb, ons = self.exh_base.popleft()
            self.exh_s1 -= ob + os_
            self.exh_s2 -= ob * ob + os_ * os_
            self.exh_os1 -= onb + ons
            self.exh_os2 -= onb * onb + ons * ons
        self.exh_base.append((vb, vs, nb, ns))
        self.exh_s1 += vb + vs
        self.exh_s2 += vb * vb + vs * vs
        self.exh_os1 += nb + ns
        self.exh_os2 += nb * nb + ns * ns

    def _exh_z(self, v, s1, s2):
        c = 2 * len(self.exh_base)
        if c == 0:
            return 0.0
        num = c * v - s1
        var = c * s2 - s1 * s1
        return float(num) / math.sqrt(float(var)) if var > 0 else float(num) / float(c)

    def _exh_leave(self, sq):
        if sq > 0:
            self.exh_buy -= sq
        else:
            self.exh_sell += sq

    def _exhaustion_trade(self, taker, px, q, ts):
        p, ring = self.p, self.exh_ring
        B = p["exhaustion_burst_ns"]
        b = ts // B
        if not self.exh_started:
            self.exh_started, self.exh_bucket, self.exh_cur_buy, self.exh_cur_sell = True, b, 0, 0
        elif b > self.exh_bucket:
            self._exh_push(self.exh_cur_buy, self.exh_cur_sell, self.exh_cur_obuy, self.exh_cur_osell)
            for _ in range(min(b - self.exh_bucket - 1, p["exhaustion_base_window"])):
                self._exh_push(0, 0, 0, 0)
            self.exh_bucket, self.exh_cur_buy, self.exh_cur_sell = b, 0, 0
            self.exh_cur_obuy = self.exh_cur_osell = 0
        new_order = 1 if self.exh_last_ts.get(taker) != ts else 0
        self.exh_last_ts[taker] = ts
        if taker == BID:
            self.exh_cur_buy += q
            self.exh_cur_obuy += new_order
        else:
            self.exh_cur_sell += q
            self.exh_cur_osell += new_order
        while ring and (len(ring) == EXH_RING or ts - ring[0][0] > p["exhaustion_window_ns"]):
            _, oq, _ = ring.popleft()
            if self.exh_off == 0:
                self._exh_leave(oq)
            else:
                self.exh_off -= 1
        if taker == BID:
            ring.append((ts, q, px))
            self.exh_buy += q
        else:
            ring.append((ts, -q, px))
            self.exh_sell += q
        while self.exh_off < len(ring) and ring[self.exh_off][0] <= ts - B:
            self._exh_leave(ring[self.exh_off][1])
            self.exh_off += 1
        b = self.exh[taker]
        if b is not None:
            if (taker == BID and px > b["ext"]) or (taker == ASK and px < b["ext"]):
                b["ext"], b["ext_ts"] = px, ts
            return
        if not self._warm():
            return
        last = self.exh_last.get(taker)
        if last is not None and ts - last < p["exhaustion_cooldown_ns"]:
            return
        if len(self.exh_base) < p["exhaustion_min_buckets"]:
            return
        vol = self.exh_buy if taker == BID else self.exh_sell
        if vol < p["exhaustion_min_qty"] or vol < 1 or vol * 100 < p["exhaustion_dominance_pct"] * (self.exh_buy + self.exh_sell):
            return
        z = self._exh_z(vol, self.exh_s1, self.exh_s2)
        if z * 100.0 < float(p["exhaustion_burst_z_x100"]):
            return
        oldest = next(px_ for _, sq, px_ in ring if (sq > 0) == (taker == BID))
        move = px - oldest if taker == BID else oldest - px
        if move <= 0 or move * 10000 < p["exhaustion_min_move_bps"] * oldest:
            return
        orders, last_ts, cur, block = 0, -1, 0, 0
        for t, sq, _ in islice(ring, self.exh_off, None):
            if (taker == BID and sq <= 0) or (taker == ASK and sq >= 0):
                continue
            if t != last_ts:
                orders += 1
                last_ts = t
                cur = 0
            cur += abs(sq)
            block = max(block, cur)
        if orders < p["exhaustion_min_orders"]:
            return
        if self._exh_z(vol - block, self.exh_s1, self.exh_s2) * 100.0 < float(p["exhaustion_burst_z_x100"]):
            return                      # one block is a large lot, not a burst
        if self._exh_z(orders, self.exh_os1, self.exh_os2) * 100.0 < float(p["exhaustion_orders_z_x100"]):
            return
        self.exh[taker] = {"ext": px, "ext_ts": ts, "start": oldest, "vol": vol, "z": int(z * 100.0)}

    def _exhaustion_message(self):
        if not self.bids.prices or not self.asks.prices:
            return
        p = self.p
        mid = (self.bids.px(0) + self.asks.px(0)) >> 1
        for d in (BID, ASK):
            b = self.exh[d]
            if b is None:
                continue
            if self.now - b["ext_ts"] > p["exhaustion_watch_ns"]:
                self.exh[d] = None
                continue
            if self.now - b["ext_ts"] < p["exhaustion_stall_ns"]:
                continue
            retrace = b["ext"] - mid if d == BID else mid - b["ext"]
            move = b["ext"] - b["start"] if d == BID else b["start"] - b["ext"]
            if retrace <= 0 or move <= 0 or retrace * 100 < p["exhaustion_retrace_pct"] * move:
                continue
            pct = retrace * 100 // move
            rp = p["exhaustion_retrace_pct"] if p["exhaustion_retrace_pct"] > 0 else 1
            zt = p["exhaustion_burst_z_x100"] if p["exhaustion_burst_z_x100"] > 0 else 1
            self._emit(EXHAUSTION, 3 - d, b["ext"], (conf_ratio(zt, b["z"]) + conf_ratio(rp, pct)) // 2,
                       b["vol"], move, retrace, self.now - b["ext_ts"], d, b["z"])
            self.exh[d] = None
            self.exh_last[d] = self.now

    def _ds_z(self, d):
        c = len(self.ds_ring)
        if c == 0:
            return 0.0
        num = c * d - self.ds_s1
        var = c * self.ds_s2 - self.ds_s1 * self.ds_s1
        return float(num) / math.sqrt(float(var)) if var > 0 else float(num) / float(c)

    def _ds_push(self, v):
        if len(self.ds_ring) == self.p["delta_spike_window"]:
            old = self.ds_ring.popleft()
            self.ds_s1 -= old
            self.ds_s2 -= old * old
        self.ds_ring.append(v)
        self.ds_s1 += v
        self.ds_s2 += v * v

    def _delta_spike_trade(self, taker, px, q, ts):
        p = self.p
        W = p["delta_spike_bucket_ns"]
        sq = q if taker == BID else -q
        b = ts // W
        if not self.ds_started:
            self.ds_started, self.ds_bucket, self.ds_delta = True, b, 0
        elif b > self.ds_bucket:
            self._ds_push(self.ds_delta)
            for _ in range(min(b - self.ds_bucket - 1, p["delta_spike_window"])):
                self._ds_push(0)
            self.ds_bucket, self.ds_delta = b, 0
        self.ds_delta += sq
        # sliding sums: prints in (ts - W, ts] and (ts - 2W, ts - W]
        recent, older = self.ds_recent, self.ds_older
        if len(recent) + len(older) == 8192:
            if older:
                self.ds_older_sum -= older.popleft()[1]
            else:
                self.ds_recent_sum -= recent.popleft()[1]
        recent.append((ts, sq, px))
        self.ds_recent_sum += sq
        while recent and recent[0][0] <= ts - W:
            e = recent.popleft()
            self.ds_recent_sum -= e[1]
            older.append(e)
            self.ds_older_sum += e[1]
        while older and older[0][0] <= ts - 2 * W:
            self.ds_older_sum -= older.popleft()[1]
        if self.ds_fired_ts is not None and ts - self.ds_fired_ts < W:
            return
        c = len(self.ds_ring)
        if c < p["delta_spike_min_buckets"] or not self._warm():
            return
        d = self.ds_recent_sum
        if abs(d) < p["delta_spike_min_qty"] or d == 0 or abs(d) < self._flow(p["delta_spike_min_rate_pct"], W):
            return
        if p["delta_spike_calm_z_x100"] > 0 and abs(self._ds_z(self.ds_older_sum)) * 100.0 >= float(p["delta_spike_calm_z_x100"]):
            return
        z = self._ds_z(d)
        if (z > 0) != (d > 0):
            return
        az = abs(z) * 100.0
        if az < float(p["delta_spike_z_x100"]):
            return
        if not recent:
            return
        orders, last_ts, want, levels = 0, -1, min(p["delta_spike_min_levels"], DS_LEVELS_MAX), set()
        cur = block = 0
        for t, q_, px_ in recent:
            if (d > 0 and q_ > 0) or (d < 0 and q_ < 0):
                if t != last_ts:
                    orders += 1
                    last_ts = t
                    cur = 0
                cur += q_
                if (cur > block) if d > 0 else (cur < block):
                    block = cur
                if len(levels) < want:
                    levels.add(px_)
        if orders < p["delta_spike_min_orders"] or len(levels) < want:
            return
        zr = self._ds_z(d - block)          # one block is a large lot, not a spike
        if (zr > 0) != (d > 0) or abs(zr) * 100.0 < float(p["delta_spike_z_x100"]):
            return
        self._emit(DELTA_SPIKE, BID if d > 0 else ASK, px, conf_ratio(p["delta_spike_z_x100"], int(az)),
                   d, int(z * 100.0), self.ds_s1, c, W)
        self.ds_fired_ts = ts

    def _spoof_trade(self, taker, px, q):
        ps = 3 - taker
        for w in self.walls[ps]:
            if w is None:
                continue
            if px == w["price"]:
                w["traded"] += q

    def _spoof_consider(self, ps, side, price, before, thr):
        p, walls = self.p, self.walls[ps]
        q = side.qty.get(price, 0)
        if q < thr or q - before < thr or not side.prices:
            return
        touch = side.px(0)
        dist = touch - price if ps == BID else price - touch
        if dist <= 0 or dist * 10000 > p["spoof_max_bps"] * touch:
            return
        if p["spoof_min_dist_vol_pct"] > 0 and (self.sv_n < SPOOF_VOL_MIN
                                                or dist * 200 < p["spoof_min_dist_vol_pct"] * (self.sv_q16 >> 16)):
            return
        slot = -1
        for i, w in enumerate(walls):
            if w is not None and w["price"] == price:
                if q > w["peak"]:
                    w["peak"] = q
                return
            if w is None and slot == -1:
                slot = i
        rank = side.rank(price)
        if slot >= 0 and rank >= p["spoof_min_front"] and len(side.prices) - rank - 1 >= p["spoof_min_behind"]:
            walls[slot] = {"price": price, "peak": q, "last": q, "thr": thr, "first": self.now, "traded": 0,
                           "dist0": dist, "shown": 1, "seen": self.now}

    def _spoof_scan(self, ps):
        p, side = self.p, self._book_side(ps)
        L = min(p["spoof_levels"], len(side.prices))
        if L < 2 or (p["spoof_order_mult_pct"] > 0 and not self._warm()):
            return
        thr = max(sorted(side.top(L)[1])[L // 2] * p["spoof_mult_pct"] // 100,
                  (self.avg_order >> 16) * p["spoof_order_mult_pct"] // 100, p["spoof_min_qty"], 1)
        saved = self.saved.get(ps)
        if saved is not None:
            prices, sizes = side.top(4096)
            touch = prices[0]
            for price, q in zip(prices[1:], sizes[1:]):
                if (touch - price if ps == BID else price - touch) * 10000 > p["spoof_max_bps"] * touch:
                    break
                if q >= thr:
                    self._spoof_consider(ps, side, price, saved.get(price, 0), thr)
            return
        undo = self.undo
        for k, (s_, price, _, q) in enumerate(undo):     # a level's last change: its size now
            if s_ != ps or any(u[0] == ps and u[1] == price for u in undo[k + 1:]):
                continue
            before = next(u[2] for u in undo if u[0] == ps and u[1] == price)  # its first: the start
            self._spoof_consider(ps, side, price, before, thr)

    def _spoof_vol(self):
        bids, asks = self._book_side(BID), self._book_side(ASK)
        if not bids.prices or not asks.prices:
            return
        sec = self.now // 1_000_000_000 + 1
        if sec == self.sv_sec:
            return
        m2 = bids.px(0) + asks.px(0)
        if self.sv_sec != 0 and sec == self.sv_sec + 1:
            d = abs(m2 - self.sv_mid2)
            self.sv_q16 = d << 16 if self.sv_n == 0 else self.sv_q16 + (((d << 16) - self.sv_q16) >> SPOOF_VOL_SHIFT)
            self.sv_n += 1
        self.sv_sec, self.sv_mid2 = sec, m2

    def _spoof_message(self):
        p = self.p
        self._spoof_vol()
        for ps in (BID, ASK):
            side, walls = self._book_side(ps), self.walls[ps]
            for i, w in enumerate(walls):
                if w is None:
                    continue
                if self.now - w["first"] > p["spoof_max_life_ns"]:
                    walls[i] = None
                    continue
                d = side.qty.get(w["price"], 0)
                rank = side.rank(w["price"])
                if d > 0 and rank == 0:
                    walls[i] = None
                    continue
                last, w["last"] = w["last"], d
                if d * 100 > (100 - p["spoof_pull_pct"]) * w["peak"] or (last - d) * 100 < p["spoof_pull_pct"] * w["peak"]:
                    if d > 0:
                        w["shown"] += 1     # one more message that ended with it in view
                        w["seen"] = self.now
                    continue
                behind = len(side.prices) - rank - (1 if d > 0 else 0)
                if d == 0 and behind < p["spoof_min_behind"]:
                    continue        # out of view (beyond the shown depth), not pulled: kept
                walls[i] = None
                if (w["traded"] * 100 > p["spoof_max_traded_pct"] * w["peak"] or rank < p["spoof_min_rank"]
                        or behind < p["spoof_min_behind"]):
                    continue
                if (self.now - w["first"] < p["spoof_min_life_ns"] or w["shown"] < p["spoof_min_updates"]
                        or w["seen"] - w["first"] < p["spoof_min_seen_ns"]):
                    continue
                touch = side.px(0)
                dist = 0 if not side.prices else (touch - w["price"] if ps == BID else w["price"] - touch)
                if p["spoof_approach_pct"] < 100 and dist * 100 > p["spoof_approach_pct"] * w["dist0"]:
                    continue
                self._emit(SPOOF, 3 - ps, w["price"], conf_ratio(w["thr"], w["peak"]),
                           w["peak"], self.now - w["first"], rank, w["traded"], dist, w["dist0"])
            self._spoof_scan(ps)

    def _os_push(self, q):
        """engine/ordersize.pxd os_push: the order joins the median's window."""
        b = os_bucket(q)
        if len(self.os_sizes) == self.p["order_median_window"]:
            old = self.os_sizes.popleft()
            self.os_hist[old] -= 1
            self.os_below -= old < self.os_med_b
        self.os_sizes.append(b)
        self.os_hist[b] += 1
        self.os_below += b < self.os_med_b
        half, h = len(self.os_sizes) // 2, self.os_hist
        while self.os_below > half:
            self.os_med_b -= 1
            self.os_below -= h[self.os_med_b]
        while self.os_below + h[self.os_med_b] <= half:
            self.os_below += h[self.os_med_b]
            self.os_med_b += 1

    def _median_order(self):
        return os_bucket_low(self.os_med_b)

    def _smart_money_order(self, taker, px, q, ts):
        p, ring = self.p, self.sm_ring
        ranked = len(self.os_sizes) >= p["smart_money_min_orders"] and len(self.os_sizes) > 0
        thr = p["smart_money_mult_pct"] * self._median_order() // 100
        b, K = ts // p["smart_money_window_ns"], p["smart_money_base_windows"]
        if self.sm_bin is None:
            self.sm_bin = b
        self.sm_bin = max(self.sm_bin, b - K)
        while self.sm_bin < b:
            if len(self.sm_bins) == K:
                self.sm_bins.popleft()
            self.sm_bins.append((self.sm_cur[BID], self.sm_cur[ASK]))
            self.sm_cur = {BID: 0, ASK: 0}
            self.sm_bin += 1
        if not self._warm():
            return
        thr = max(thr, p["smart_money_min_qty"], 1)
        while ring and (len(ring) == SM_RING or ts - ring[0][0] > p["smart_money_window_ns"]):
            _, old = ring.popleft()
            d = BID if old > 0 else ASK
            self.sm_q[d] -= abs(old)
            self.sm_n[d] -= 1
        if q < thr or not ranked:
            return
        self.sm_cur[taker] += 1
        ring.append((ts, q if taker == BID else -q))
        self.sm_q[taker] += q
        self.sm_n[taker] += 1
        mine, other = self.sm_q[taker], self.sm_q[3 - taker]
        net = self.sm_n[taker] - self.sm_n[3 - taker]
        if net < p["smart_money_min_count"]:
            return
        counts = sorted(v for pair in self.sm_bins for v in pair)
        e_m = max(counts[len(counts) // 2] if counts else 0, self.sm_n[3 - taker], 1) * 1000
        need = p["smart_money_z_x100"] * math.isqrt(e_m * 1000) // 100
        excess = self.sm_n[taker] * 1000 - e_m
        if excess < need or excess <= 0:
            return
        if (mine - other) * 100 < p["smart_money_imbalance_pct"] * (mine + other):
            return
        last = self.sm_last.get(taker)
        if last is not None and ts - last < p["smart_money_cooldown_ns"]:
            return
        self._emit(SMART_MONEY, taker, px,
                   (conf_ratio(p["smart_money_min_count"], net) + conf_ratio(need if need > 0 else 1, excess)) // 2,
                   mine - other, self.sm_n[taker], self.sm_n[3 - taker], e_m, thr, net)
        self.sm_last[taker] = ts

    def _feed_oracle(self, first):
        if not self.on[ORACLE]:
            return
        new = [s for s in self._raw[first:] if s[0] != ORACLE]
        for t, side, price, conf, *_ in new:
            self.or_last[t] = (1 if side == BID else -1, conf, self.now, price)
        if not new:
            return
        p, now = self.p, self.now
        window = p["oracle_window_ns"]
        score = norm = types = mask = 0
        newest, price = -1, 0
        for t in range(ABSORPTION, SMART_MONEY + 1):
            last = self.or_last.get(t)
            if last is None:
                continue
            d, conf, ts, px = last
            age = max(now - ts, 0)
            if age >= window:
                continue
            f = window - age
            score += self.or_w[t] * d * conf * f
            norm += self.or_w[t] * f
            types += 1
            mask |= 1 << t
            if ts > newest:
                newest, price = ts, px
        if types < p["oracle_min_types"] or norm <= 0 or score == 0:
            return
        sdir = 1 if score > 0 else -1
        conf = abs(score) // norm
        if conf < p["oracle_min_conf"]:
            return
        if self.or_emitted is not None and sdir == self.or_emitted[0] and now - self.or_emitted[1] < p["oracle_cooldown_ns"]:
            return
        agree = sum(1 for t in range(ABSORPTION, SMART_MONEY + 1) if mask >> t & 1 and self.or_last[t][0] == sdir)
        s = score // window if score > 0 else -((-score) // window)
        self._emit(ORACLE, BID if sdir > 0 else ASK, price, conf, types, agree, mask, s)
        self.or_emitted = (sdir, now)
