# What every detector may read: the book at the moment, the engine clock and the baselines
# the relative thresholds are scaled by. Maintained by engine/detectors.pxd.
#
# Baselines are integer EWMAs in 2^-16 quantity units (x_q16 = x * 65536):
#   avg_trade_q16 += (min(q16, 8 * avg_trade_q16) - avg_trade_q16) >> 5   per trade with a side
#     (alpha = 1/32; a trade counts at most 8x the average, so one block does not become
#     the baseline that large lots are measured against);
#   avg_touch_q16 += (touch_q16 - avg_touch_q16) >> 6   per book message with both sides,
#     touch_q16 = (best bid size + best ask size) * 2^15 (the mean touch size).
# The first observation initialises each. Shifts of negative numbers floor (as Python's >>).
from libc.stdint cimport int64_t
from engine.ladder cimport LadderSide

cdef enum:
    CTX_TRADE_SHIFT = 5
    CTX_TOUCH_SHIFT = 6
    CTX_TRADE_CAP = 8

cdef struct DetCtx:
    LadderSide* bids
    LadderSide* asks
    int64_t now_ns            # the largest exchange timestamp seen
    int64_t tick              # price units per tick
    int64_t warmup_trades     # relative-threshold detectors stay quiet until this many trades
    int64_t trades            # trades with a known side seen so far
    int64_t avg_trade_q16
    int64_t avg_touch_q16


cdef inline LadderSide* ctx_side(DetCtx* c, int side) noexcept nogil:
    return c.bids if side == 1 else c.asks


cdef inline int64_t ctx_avg_trade(const DetCtx* c) noexcept nogil:
    return c.avg_trade_q16 >> 16


cdef inline int64_t ctx_avg_touch(const DetCtx* c) noexcept nogil:
    return c.avg_touch_q16 >> 16


cdef inline bint ctx_warm(const DetCtx* c) noexcept nogil:
    return c.trades >= c.warmup_trades and c.avg_trade_q16 > 0


cdef inline void ctx_on_trade(DetCtx* c, int64_t qty) noexcept nogil:
    cdef int64_t q16 = qty << 16
    if c.avg_trade_q16 == 0:
        c.avg_trade_q16 = q16
    else:
        if q16 > CTX_TRADE_CAP * c.avg_trade_q16:
            q16 = CTX_TRADE_CAP * c.avg_trade_q16
        c.avg_trade_q16 += (q16 - c.avg_trade_q16) >> CTX_TRADE_SHIFT
    c.trades += 1


cdef inline void ctx_on_book(DetCtx* c) noexcept nogil:
    cdef int64_t t16
    if c.bids.n == 0 or c.asks.n == 0:
        return
    t16 = (c.bids.levels[c.bids.n - 1].qty + c.asks.levels[c.asks.n - 1].qty) << 15
    if c.avg_touch_q16 == 0:
        c.avg_touch_q16 = t16
    else:
        c.avg_touch_q16 += (t16 - c.avg_touch_q16) >> CTX_TOUCH_SHIFT
