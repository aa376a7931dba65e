# Exhaustion: a directional burst that fails to continue.
#
# What it means to a trader: a burst of aggressive buying (selling) drives the price to an
# extreme, then stalls and gives back ground -- the aggressors ran out. A failed buy burst
# points down (signal side sell), a failed sell burst up (buy); the price is the extreme.
#
# Source: Campbell, Grossman and Wang, "Trading Volume and Serial Correlation in Stock
# Returns", QJE 1993 (price moves made on heavy one-sided volume driven by liquidity demand,
# not information, tend to reverse); Harris, *Trading and Exchanges* (2003), on dealers and
# transitory price impact (takers who demand liquidity fast pay for it, and the price they
# pushed comes back when they stop); the technical analysts' "buying / selling climax".
#
# What it does NOT detect: a slow drift that turns (no burst above the venue's own rate);
# a burst that rests on one block (one market order sweeping a thin book, its deepest print
# the "extreme": the burst without its largest order must still reach the z); a burst that
# keeps going (continuation, not failure); a reversal made by the other side's aggression
# alone without a retrace of the mid; whether the aggressors were informed (the feed cannot
# tell: an informed burst that pauses, retraces and then resumes reads as exhausted).
#
# Definition. A burst is one-sided aggression well above the venue's own normal one-sided
# rate over a short window, measured robustly against that venue's recent history:
#   * baseline: fixed buckets of burst_ns (by exchange timestamp); every completed bucket
#     gives TWO samples, its taker-buy volume and its taker-sell volume (one distribution of
#     "one-sided volume per burst_ns", whichever side); a trade that opens a later bucket
#     pushes the finished bucket and a (0, 0) per empty bucket in between (at most
#     base_window); the last base_window buckets are kept, c = 2 x buckets samples, S1 = sum,
#     S2 = sum of squares (exact integers);
#   * on a trade with taker direction d, its SLIDING one-sided volume v = the d-volume of the
#     prints in (t - burst_ns, t] is scored z = (c*v - S1) / sqrt(c*S2 - S1^2) (= (v - mean) /
#     population sd; IEEE double; when c*S2 - S1^2 = 0, z = (c*v - S1) / c);
#   * a burst is armed when the baseline holds >= min_buckets buckets, v >= max(min_qty, 1),
#     z * 100 >= burst_z_x100, v is >= dominance_pct % of the window's volume of both sides
#     (directional, not a two-sided surge), the window holds >= min_orders aggressive orders
#     in d (prints with distinct timestamps: one block is a large lot, not a burst) whose
#     count scores z * 100 >= orders_z_x100 against the same buckets' order counts, v without
#     its largest order (the prints of one timestamp) still scores z * 100 >= burst_z_x100 --
#     a burst does not rest on one block: a single market order sweeping a thin book (the
#     simulator's accumulation lots on Hyperliquid and Deribit; nexus/flow/params.py)
#     made the whole z among a few ordinary orders, its deepest print became E, and the
#     published mid, which never showed that print, read as a retrace at once -- and the
#     price has travelled >= min_move_bps basis points in d from the oldest print IN d of the
#     last window_ns (the lookback the move is measured over; window_ns >= burst_ns; a print
#     of the other side would add the spread to the move); the burst start S is that print's
#     price, the extreme E this trade's price. Its duration is not prescribed: a 0.5 s spike
#     and a 1.5 s push both arm it;
#   * while armed, a trade in d beyond E is continuation: E moves there and the stall clock
#     restarts. E comes from the prints, not the quote: a venue's published book can lag its
#     trades (on coinbase a burst printed 4 bp down while the published bid moved 1.5 bp).
# Prints are kept for window_ns (at most EXH_RING; the oldest leave first).
# At the end of every message, an armed burst fires when no new extreme came for stall_ns
# and the mid (floor((bid + ask) / 2)) has retraced >= retrace_pct % of the burst's move
# (S to E) back from E; after watch_ns without a new extreme it is dropped silently. At most
# one signal per direction per cooldown_ns. Confidence: mean of conf_ratio(burst_z_x100,
# z*100 at arming) and conf_ratio(retrace_pct, retrace % of the move). Facts: burst volume v,
# move (price units), retrace (price units), ns since the extreme, burst direction (1 buy,
# 2 sell), z*100 at arming (truncated).
from libc.stdint cimport int64_t
from engine.params cimport ExhaustionParams   # generated from nexus/flow/params.py
from libc.math cimport sqrt
from engine.int128 cimport int128_t
from engine.detctx cimport DetCtx, ctx_warm
from engine.signal cimport SignalOut, emit, conf_ratio, SIG_EXHAUSTION

cdef enum:
    EXH_RING = 4096
    EXH_WINDOW_MAX = 4096

cdef struct Exhaustion:
    ExhaustionParams p
    # prints of the last window_ns: absolute indices [head, head + n), slot = i % EXH_RING;
    # [mid, head + n) are the prints of the last burst_ns
    int64_t r_ts[EXH_RING]
    int64_t r_q[EXH_RING]          # signed: + buy, - sell
    int64_t r_px[EXH_RING]
    int64_t head
    int64_t n
    int64_t mid
    int64_t b_buy                  # volumes in the last burst_ns
    int64_t b_sell
    # baseline: completed buckets' one-sided volumes
    int64_t base_buy[EXH_WINDOW_MAX]
    int64_t base_sell[EXH_WINDOW_MAX]
    int64_t base_obuy[EXH_WINDOW_MAX]   # aggressive orders per bucket, buy and sell
    int64_t base_osell[EXH_WINDOW_MAX]
    int64_t os1
    int128_t os2
    int64_t cur_obuy
    int64_t cur_osell
    int64_t last_ts[3]             # the last print's timestamp per direction (order boundaries)
    bint seen[3]
    int64_t bcount
    int64_t bpos
    int64_t s1
    int128_t s2
    bint started
    int64_t bucket
    int64_t cur_buy
    int64_t cur_sell
    bint armed[3]
    int64_t extreme[3]
    int64_t ext_ts[3]
    int64_t start_px[3]
    int64_t burst_vol[3]
    int64_t burst_z[3]             # z * 100 at arming
    int64_t last_fire_ts[3]
    bint ever_fired[3]


cdef inline void exh_push(Exhaustion* x, int64_t vb, int64_t vs, int64_t nb, int64_t ns) noexcept nogil:
    cdef int64_t ob, os_
    if x.bcount == x.p.base_window:
        ob = x.base_buy[x.bpos]
        os_ = x.base_sell[x.bpos]
        x.s1 -= ob + os_
        x.s2 -= <int128_t>ob * ob + <int128_t>os_ * os_
        ob = x.base_obuy[x.bpos]
        os_ = x.base_osell[x.bpos]
        x.os1 -= ob + os_
        x.os2 -= <int128_t>ob * ob + <int128_t>os_ * os_
    else:
        x.bcount += 1
    x.base_buy[x.bpos] = vb
    x.base_sell[x.bpos] = vs
    x.base_obuy[x.bpos] = nb
    x.base_osell[x.bpos] = ns
    x.os1 += nb + ns
    x.os2 += <int128_t>nb * nb + <int128_t>ns * ns
    x.bpos += 1
    if x.bpos == x.p.base_window:
        x.bpos = 0
    x.s1 += vb + vs
    x.s2 += <int128_t>vb * vb + <int128_t>vs * vs


cdef inline double exh_z(const Exhaustion* x, int64_t v, int64_t s1, int128_t s2) noexcept nogil:
    """z of v against the baseline samples with sum s1 and sum of squares s2."""
    cdef int64_t c = 2 * x.bcount
    cdef int128_t num = <int128_t>c * v - s1
    cdef int128_t var = <int128_t>c * s2 - <int128_t>s1 * s1
    if c == 0:
        return 0.0
    if var > 0:
        return <double>num / sqrt(<double>var)
    return <double>num / <double>c


cdef inline void exh_leave_burst(Exhaustion* x, int64_t slot) noexcept nogil:
    cdef int64_t q = x.r_q[slot]
    if q > 0:
        x.b_buy -= q
    else:
        x.b_sell += q


cdef inline void exh_evict(Exhaustion* x) noexcept nogil:
    if x.mid == x.head:                # the oldest print is still in the burst window
        exh_leave_burst(x, x.head % EXH_RING)
        x.mid += 1
    x.head += 1
    x.n -= 1


cdef inline int64_t exh_orders(const Exhaustion* x, int taker, int64_t* block) noexcept nogil:
    """Aggressive orders (distinct timestamps) in direction `taker` in the last burst_ns.
    *block: the largest of them (its prints' quantities summed)."""
    cdef int64_t i, slot, q, orders = 0, last_ts = -1, cur = 0
    block[0] = 0
    for i in range(x.mid, x.head + x.n):
        slot = i % EXH_RING
        q = x.r_q[slot]
        if (taker == 1 and q <= 0) or (taker == 2 and q >= 0):
            continue
        if x.r_ts[slot] != last_ts:
            orders += 1
            last_ts = x.r_ts[slot]
            cur = 0
        cur += q if q > 0 else -q
        if cur > block[0]:
            block[0] = cur
    return orders


cdef inline int64_t exh_oldest_px(const Exhaustion* x, int taker) noexcept nogil:
    """The price of the oldest print in direction `taker` of the last window_ns (the ring
    holds this trade's, so there is one)."""
    cdef int64_t i, slot, q
    for i in range(x.head, x.head + x.n):
        slot = i % EXH_RING
        q = x.r_q[slot]
        if (taker == 1 and q > 0) or (taker == 2 and q < 0):
            return x.r_px[slot]
    return x.r_px[(x.head + x.n - 1) % EXH_RING]


cdef inline void exhaustion_trade(Exhaustion* x, DetCtx* c, int taker, int64_t px, int64_t q, int64_t ts) noexcept nogil:
    cdef int64_t slot, vol, move, oldest_px, b, gap, i, orders, block
    cdef double z, zo
    cdef bint new_order
    # the baseline's fixed buckets
    b = ts // x.p.burst_ns
    if not x.started:
        x.started = 1
        x.bucket = b
        x.cur_buy = 0
        x.cur_sell = 0
    elif b > x.bucket:
        exh_push(x, x.cur_buy, x.cur_sell, x.cur_obuy, x.cur_osell)
        gap = b - x.bucket - 1
        if gap > x.p.base_window:
            gap = x.p.base_window
        for i in range(gap):
            exh_push(x, 0, 0, 0, 0)
        x.bucket = b
        x.cur_buy = 0
        x.cur_sell = 0
        x.cur_obuy = 0
        x.cur_osell = 0
    new_order = not x.seen[taker] or ts != x.last_ts[taker]
    x.seen[taker] = 1
    x.last_ts[taker] = ts
    if taker == 1:
        x.cur_buy += q
        x.cur_obuy += new_order
    else:
        x.cur_sell += q
        x.cur_osell += new_order
    # the prints of the last window_ns and of the last burst_ns
    while x.n > 0 and (x.n == EXH_RING or ts - x.r_ts[x.head % EXH_RING] > x.p.window_ns):
        exh_evict(x)
    slot = (x.head + x.n) % EXH_RING
    x.r_ts[slot] = ts
    x.r_px[slot] = px
    if taker == 1:
        x.r_q[slot] = q
        x.b_buy += q
    else:
        x.r_q[slot] = -q
        x.b_sell += q
    x.n += 1
    while x.mid < x.head + x.n and x.r_ts[x.mid % EXH_RING] <= ts - x.p.burst_ns:
        exh_leave_burst(x, x.mid % EXH_RING)
        x.mid += 1
    if x.armed[taker]:
        if (taker == 1 and px > x.extreme[taker]) or (taker == 2 and px < x.extreme[taker]):
            x.extreme[taker] = px
            x.ext_ts[taker] = ts
        return
    if not ctx_warm(c):
        return
    if x.ever_fired[taker] and ts - x.last_fire_ts[taker] < x.p.cooldown_ns:
        return
    if x.bcount < x.p.min_buckets:
        return
    vol = x.b_buy if taker == 1 else x.b_sell
    if vol < x.p.min_qty or vol < 1 or vol * 100 < x.p.dominance_pct * (x.b_buy + x.b_sell):
        return
    z = exh_z(x, vol, x.s1, x.s2)
    if z * 100.0 < <double>x.p.burst_z_x100:
        return
    oldest_px = exh_oldest_px(x, taker)
    move = px - oldest_px if taker == 1 else oldest_px - px
    if move <= 0 or move * 10000 < x.p.min_move_bps * oldest_px:
        return
    orders = exh_orders(x, taker, &block)
    if orders < x.p.min_orders:
        return
    if exh_z(x, vol - block, x.s1, x.s2) * 100.0 < <double>x.p.burst_z_x100:
        return                          # one block is a large lot, not a burst
    zo = exh_z(x, orders, x.os1, x.os2)
    if zo * 100.0 < <double>x.p.orders_z_x100:
        return
    x.armed[taker] = 1
    x.extreme[taker] = px
    x.ext_ts[taker] = ts
    x.start_px[taker] = oldest_px
    x.burst_vol[taker] = vol
    x.burst_z[taker] = <int64_t>(z * 100.0)


cdef inline void exhaustion_message(Exhaustion* x, DetCtx* c, SignalOut* o) noexcept nogil:
    cdef int d
    cdef int64_t mid, retrace, move, pct
    if c.bids.n == 0 or c.asks.n == 0:
        return
    mid = (c.bids.levels[c.bids.n - 1].price + c.asks.levels[c.asks.n - 1].price) >> 1
    for d in range(1, 3):
        if not x.armed[d]:
            continue
        if c.now_ns - x.ext_ts[d] > x.p.watch_ns:
            x.armed[d] = 0
            continue
        if c.now_ns - x.ext_ts[d] < x.p.stall_ns:
            continue
        retrace = x.extreme[d] - mid if d == 1 else mid - x.extreme[d]
        move = x.extreme[d] - x.start_px[d] if d == 1 else x.start_px[d] - x.extreme[d]
        if retrace <= 0 or move <= 0 or retrace * 100 < x.p.retrace_pct * move:
            continue
        pct = retrace * 100 // move
        emit(o, SIG_EXHAUSTION, 3 - d, x.extreme[d],
             (conf_ratio(x.p.burst_z_x100 if x.p.burst_z_x100 > 0 else 1, x.burst_z[d])
              + conf_ratio(x.p.retrace_pct if x.p.retrace_pct > 0 else 1, pct)) // 2,
             x.burst_vol[d], move, retrace, c.now_ns - x.ext_ts[d], d, x.burst_z[d])
        x.armed[d] = 0
        x.ever_fired[d] = 1
        x.last_fire_ts[d] = c.now_ns
