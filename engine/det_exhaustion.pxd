# Exhaustion: a directional burst that fails to continue.
#
# What it means to a trader: a burst of aggressive buying (selling) drives the price to an
# extreme, then stalls and gives back ground -- the aggressors ran out. A failed buy burst
# points down (signal side sell), a failed sell burst up (buy); the price is the extreme.
#
# Definition. Trades with a known taker side enter a rolling window of window_ns (at most
# EXH_RING trades; the oldest leave first). On a trade in direction d:
#   * a burst is armed when the window's volume in d is >= T = max(min_qty, burst_rate_pct %
#     of the market's normal taker volume over window_ns), is >= dominance_pct % of the
#     window's volume, the price has travelled >= min_move_bps basis points in d from the
#     oldest trade in the window, and the aggression was sustained: at least min_orders
#     aggressive orders in d (prints with distinct timestamps) and at least spread_pct % of
#     the window's d-volume in its older half (a series of orders, not one block or one
#     flash); the burst extreme E is that trade's price;
#   * while armed, a trade in d beyond E is continuation: E moves there and the stall clock
#     restarts.
# At the end of every message, an armed burst fires when no new extreme came for stall_ns
# and the mid (floor((bid + ask) / 2)) has retraced >= retrace_pct % of the burst's move
# (from the window's oldest trade to E) back from E; after watch_ns without a new extreme it
# is dropped silently. At most one signal per direction per cooldown_ns. Confidence: mean of
# conf_ratio(T, burst volume) and conf_ratio(retrace_pct, retrace % of the move). Facts:
# burst volume, move (price units), retrace (price units), ns since the extreme, burst
# direction (1 buy, 2 sell), T.
from libc.stdint cimport int64_t
from engine.detctx cimport DetCtx, ctx_flow, ctx_warm
from engine.signal cimport SignalOut, emit, conf_ratio, SIG_EXHAUSTION

cdef enum:
    EXH_RING = 4096

cdef struct ExhaustionParams:
    int64_t window_ns
    int64_t burst_rate_pct
    int64_t min_qty
    int64_t dominance_pct
    int64_t min_move_bps
    int64_t min_orders
    int64_t spread_pct
    int64_t stall_ns
    int64_t retrace_pct
    int64_t watch_ns
    int64_t cooldown_ns

cdef struct Exhaustion:
    ExhaustionParams p
    int64_t r_ts[EXH_RING]
    int64_t r_q[EXH_RING]          # signed: + buy, - sell
    int64_t r_px[EXH_RING]
    int64_t head                   # index of the oldest
    int64_t count
    int64_t buy
    int64_t sell
    bint armed[3]
    int64_t extreme[3]
    int64_t ext_ts[3]
    int64_t start_px[3]
    int64_t burst_vol[3]
    int64_t burst_thr[3]
    int64_t last_fire_ts[3]
    bint ever_fired[3]


cdef inline void exh_evict(Exhaustion* x) noexcept nogil:
    cdef int64_t q = x.r_q[x.head]
    if q > 0:
        x.buy -= q
    else:
        x.sell += q
    x.head += 1
    if x.head == EXH_RING:
        x.head = 0
    x.count -= 1


cdef inline bint exh_sustained(const Exhaustion* x, int taker, int64_t now, int64_t vol) noexcept nogil:
    """At least min_orders orders in direction `taker` in the window and spread_pct % of its
    volume in the older half of the window."""
    cdef int64_t i, slot, q, orders = 0, older = 0, last_ts = -1
    cdef int64_t half = now - x.p.window_ns // 2
    for i in range(x.count):
        slot = (x.head + i) % EXH_RING
        q = x.r_q[slot]
        if (taker == 1 and q <= 0) or (taker == 2 and q >= 0):
            continue
        if x.r_ts[slot] != last_ts:
            orders += 1
            last_ts = x.r_ts[slot]
        if x.r_ts[slot] < half:
            older += q if q > 0 else -q
    return orders >= x.p.min_orders and older * 100 >= x.p.spread_pct * vol


cdef inline void exhaustion_trade(Exhaustion* x, DetCtx* c, int taker, int64_t px, int64_t q, int64_t ts) noexcept nogil:
    cdef int64_t slot, vol, thr, move, oldest_px
    while x.count > 0 and (x.count == EXH_RING or ts - x.r_ts[x.head] > x.p.window_ns):
        exh_evict(x)
    slot = (x.head + x.count) % EXH_RING
    x.r_ts[slot] = ts
    x.r_px[slot] = px
    if taker == 1:
        x.r_q[slot] = q
        x.buy += q
    else:
        x.r_q[slot] = -q
        x.sell += q
    x.count += 1
    if x.armed[taker]:
        if (taker == 1 and px > x.extreme[taker]) or (taker == 2 and px < x.extreme[taker]):
            x.extreme[taker] = px
            x.ext_ts[taker] = ts
        return
    if not ctx_warm(c):
        return
    if x.ever_fired[taker] and ts - x.last_fire_ts[taker] < x.p.cooldown_ns:
        return
    vol = x.buy if taker == 1 else x.sell
    thr = ctx_flow(c, x.p.burst_rate_pct, x.p.window_ns)
    if thr < x.p.min_qty:
        thr = x.p.min_qty
    if thr < 1:
        thr = 1
    if vol < thr or vol * 100 < x.p.dominance_pct * (x.buy + x.sell):
        return
    oldest_px = x.r_px[x.head]
    move = px - oldest_px if taker == 1 else oldest_px - px
    if move <= 0 or move * 10000 < x.p.min_move_bps * oldest_px:
        return
    if not exh_sustained(x, taker, ts, vol):
        return
    x.armed[taker] = 1
    x.extreme[taker] = px
    x.ext_ts[taker] = ts
    x.start_px[taker] = oldest_px
    x.burst_vol[taker] = vol
    x.burst_thr[taker] = thr


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
             (conf_ratio(x.burst_thr[d], x.burst_vol[d]) + conf_ratio(x.p.retrace_pct if x.p.retrace_pct > 0 else 1, pct)) // 2,
             x.burst_vol[d], move, retrace, c.now_ns - x.ext_ts[d], d, x.burst_thr[d])
        x.armed[d] = 0
        x.ever_fired[d] = 1
        x.last_fire_ts[d] = c.now_ns
