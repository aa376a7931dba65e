# What every detector may read: the book at the moment, the engine clock and the baselines
# the relative thresholds are scaled by. Maintained by engine/detectors.pxd.
#
# Baselines (integers; x_q16 = x * 65536):
#   * rate_q16: the market's taker volume per second, an EWMA over one-second buckets of
#     exchange time (a bucket's total volume of trades with a known side; empty seconds count
#     as zero, at most CTX_GAP_S_MAX of them at once): rate += (v16 - rate) >> 6 (alpha 1/64,
#     about a minute of memory). Thresholds "x times the normal flow over a window" use it.
#   * avg_order_q16: the average size of an aggressive ORDER: consecutive prints with the same
#     taker side and the same exchange timestamp are one order (a market order that sweeps
#     several levels prints once per level); an order counts at most CTX_ORDER_CAP times the
#     average, so one block does not become the baseline large lots are measured against:
#     avg += (min(o16, 8 avg) - avg) >> 5 (alpha 1/32).
#   * sizes: the median size of the last order_median_window aggressive orders
#     (engine/ordersize.pxd) -- the typical order, robust to a few large lots.
# Relative-threshold detectors stay quiet until `warmup_s` seconds and `warmup_trades` trades
# have been seen. Shifts of negative numbers floor (as Python's >>).
from libc.stdint cimport int64_t
from engine.ladder cimport LadderSide
from engine.ordersize cimport OrderSizes, os_push, os_median

cdef enum:
    CTX_RATE_SHIFT = 6
    CTX_ORDER_SHIFT = 5
    CTX_ORDER_CAP = 8
    CTX_GAP_S_MAX = 64

cdef struct DetCtx:
    LadderSide* bids
    LadderSide* asks
    int64_t now_ns            # the largest exchange timestamp seen
    int64_t tick              # price units per tick
    int64_t warmup_trades
    int64_t warmup_s
    int64_t trades            # trades with a known side seen so far
    int64_t seconds           # one-second buckets folded into the rate
    bint sec_started
    int64_t sec_id
    int64_t sec_vol
    int64_t rate_q16
    int64_t avg_order_q16
    OrderSizes sizes
    # the aggressive order being assembled from prints
    bint ord_open
    int ord_side
    int64_t ord_ts
    int64_t ord_qty
    int64_t ord_px
    # what the message just ended changed (valid during det_message only): the engine's log of
    # level changes, (side, price, size before, size set) per change -- a level's first entry
    # holds its size at the message start, its last entry its size now; and, for a side the
    # message cleared (a snapshot), that side as the message found it (NULL otherwise)
    const int64_t* undo
    Py_ssize_t undo_n
    const LadderSide* saved_bids
    const LadderSide* saved_asks


cdef inline LadderSide* ctx_side(DetCtx* c, int side) noexcept nogil:
    return c.bids if side == 1 else c.asks


cdef inline int64_t ctx_avg_order(const DetCtx* c) noexcept nogil:
    return c.avg_order_q16 >> 16


cdef inline int64_t ctx_median_order(const DetCtx* c) noexcept nogil:
    """The median of the last order_median_window orders (1 before any)."""
    return os_median(&c.sizes)


cdef inline int64_t ctx_flow(const DetCtx* c, int64_t pct, int64_t window_ns) noexcept nogil:
    """pct % of the normal taker volume over window_ns (quantity units, floor)."""
    return ((c.rate_q16 >> 8) * pct // 100 * (window_ns // 1000000) // 1000) >> 8


cdef inline bint ctx_warm(const DetCtx* c) noexcept nogil:
    return c.trades >= c.warmup_trades and c.seconds >= c.warmup_s and c.rate_q16 > 0 and c.avg_order_q16 > 0


cdef inline void ctx_fold_second(DetCtx* c, int64_t vol) noexcept nogil:
    cdef int64_t v16 = vol << 16
    if c.seconds == 0:
        c.rate_q16 = v16
    else:
        c.rate_q16 += (v16 - c.rate_q16) >> CTX_RATE_SHIFT
    c.seconds += 1


cdef inline void ctx_on_trade(DetCtx* c, int64_t qty, int64_t ts) noexcept nogil:
    """Volume into the one-second buckets (ts >= 0)."""
    cdef int64_t s = ts // 1000000000, gap, i
    if not c.sec_started:
        c.sec_started = 1
        c.sec_id = s
        c.sec_vol = 0
    elif s > c.sec_id:
        ctx_fold_second(c, c.sec_vol)
        gap = s - c.sec_id - 1
        if gap > CTX_GAP_S_MAX:
            gap = CTX_GAP_S_MAX
        for i in range(gap):
            ctx_fold_second(c, 0)
        c.sec_id = s
        c.sec_vol = 0
    c.sec_vol += qty
    c.trades += 1


cdef inline void ctx_fold_order(DetCtx* c, int64_t qty) noexcept nogil:
    cdef int64_t o16 = qty << 16
    if c.avg_order_q16 == 0:
        c.avg_order_q16 = o16
    else:
        if o16 > CTX_ORDER_CAP * c.avg_order_q16:
            o16 = CTX_ORDER_CAP * c.avg_order_q16
        c.avg_order_q16 += (o16 - c.avg_order_q16) >> CTX_ORDER_SHIFT
    os_push(&c.sizes, qty)
