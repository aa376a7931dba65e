# Spoof: large resting size away from the touch, pulled before it could trade.
#
# What it means to a trader: a wall that is meant to be seen, not filled -- it leans on the
# price and vanishes as the price comes near. A pulled bid wall was fake buying interest, so
# the signal points down (sell); a pulled ask wall points up (buy) ("often inverted": the
# signal is already the inverse of what the wall suggested).
#
# Definition, per side, at the end of every message that changed the book:
#   * among the `levels` best levels, a level other than the touch whose size is >= T =
#     max(min_qty, mult_pct/100 * mean size of those levels) is a wall; up to
#     SPOOF_MAX_WALLS walls per side are tracked by price with their peak size, the time
#     first seen and the volume traded at their price since (a trade through the price
#     counts as the whole peak: the wall was reachable);
#   * a tracked wall is dropped when it becomes the touch (it could trade) or after
#     max_life_ns; it is PULLED when its size falls to <= (100 - pull_pct) % of its peak;
#   * a pulled wall fires when at most max_traded_pct % of its peak traded at its price and
#     at least min_rank better levels still stood in front of it (it was away from the touch).
# Confidence: conf_ratio(T, peak). Facts: peak size, life ns, levels in front when pulled,
# traded at the price, distance from the touch (price units), size left.
from libc.stdint cimport int64_t
from engine.detctx cimport DetCtx, ctx_side
from engine.ladder cimport LadderSide, side_px, side_sz, side_qty_at, side_rank
from engine.signal cimport SignalOut, emit, conf_ratio, SIG_SPOOF

cdef enum:
    SPOOF_MAX_WALLS = 8

cdef struct SpoofParams:
    int64_t levels
    int64_t mult_pct
    int64_t min_qty
    int64_t max_life_ns
    int64_t pull_pct
    int64_t max_traded_pct
    int64_t min_rank

cdef struct Wall:
    bint active
    int64_t price
    int64_t peak
    int64_t thr
    int64_t first_ts
    int64_t traded

cdef struct Spoof:
    SpoofParams p
    Wall w[3 * SPOOF_MAX_WALLS]      # index side * SPOOF_MAX_WALLS + i (side 1, 2)


cdef inline void spoof_trade(Spoof* s, int taker, int64_t px, int64_t q) noexcept nogil:
    cdef int ps = 3 - taker
    cdef Wall* w
    cdef int i
    for i in range(SPOOF_MAX_WALLS):
        w = &s.w[ps * SPOOF_MAX_WALLS + i]
        if not w.active:
            continue
        if px == w.price:
            w.traded += q
        elif (ps == 1 and px < w.price) or (ps == 2 and px > w.price):
            w.traded += w.peak


cdef inline void spoof_reset(Spoof* s) noexcept nogil:
    cdef int i
    for i in range(3 * SPOOF_MAX_WALLS):
        s.w[i].active = 0


cdef inline void spoof_scan(Spoof* s, DetCtx* c, int ps) noexcept nogil:
    """Find walls among the best `levels` levels of side ps and track them."""
    cdef LadderSide* side = ctx_side(c, ps)
    cdef Py_ssize_t k, L = s.p.levels if s.p.levels < side.n else side.n
    cdef int64_t total = 0, thr, q, price
    cdef int i, free_slot
    cdef Wall* w
    if L < 2:
        return
    for k in range(L):
        total += side_sz(side, k)
    thr = (total // L) * s.p.mult_pct // 100
    if thr < s.p.min_qty:
        thr = s.p.min_qty
    if thr < 1:
        thr = 1
    for k in range(1, L):
        q = side_sz(side, k)
        if q < thr:
            continue
        price = side_px(side, k)
        free_slot = -1
        for i in range(SPOOF_MAX_WALLS):
            w = &s.w[ps * SPOOF_MAX_WALLS + i]
            if w.active and w.price == price:
                if q > w.peak:
                    w.peak = q
                free_slot = -2
                break
            if not w.active and free_slot == -1:
                free_slot = i
        if free_slot >= 0:
            w = &s.w[ps * SPOOF_MAX_WALLS + free_slot]
            w.active = 1
            w.price = price
            w.peak = q
            w.thr = thr
            w.first_ts = c.now_ns
            w.traded = 0


cdef inline void spoof_message(Spoof* s, DetCtx* c, SignalOut* o) noexcept nogil:
    cdef int ps, i
    cdef Wall* w
    cdef LadderSide* side
    cdef int64_t d, rank, touch, dist
    for ps in range(1, 3):
        spoof_scan(s, c, ps)
        side = ctx_side(c, ps)
        for i in range(SPOOF_MAX_WALLS):
            w = &s.w[ps * SPOOF_MAX_WALLS + i]
            if not w.active:
                continue
            if c.now_ns - w.first_ts > s.p.max_life_ns:
                w.active = 0
                continue
            d = side_qty_at(side, w.price)
            rank = side_rank(side, w.price)
            if d > 0 and rank == 0:
                w.active = 0                 # it is the touch: it could trade
                continue
            if d * 100 > (100 - s.p.pull_pct) * w.peak:
                continue
            w.active = 0
            if w.traded * 100 > s.p.max_traded_pct * w.peak or rank < s.p.min_rank:
                continue
            touch = side_px(side, 0)
            if side.n == 0:
                dist = 0
            else:
                dist = touch - w.price if ps == 1 else w.price - touch
            emit(o, SIG_SPOOF, 3 - ps, w.price, conf_ratio(w.thr, w.peak),
                 w.peak, c.now_ns - w.first_ts, rank, w.traded, dist, d)
