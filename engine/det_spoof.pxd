# Spoof: large resting size away from the touch, pulled before it could trade.
#
# What it means to a trader: a wall that is meant to be seen, not filled -- one large order
# placed behind the touch to lean on the price, cancelled before the price gets to it. A
# pulled bid wall was fake buying interest, so the signal points down (sell); a pulled ask
# wall points up (buy) ("often inverted": the signal is already the inverse of what the
# wall suggested).
#
# Definition, per side, at the end of every message that changed the book:
#   * among the `levels` best levels, a level other than the touch whose size is >= T =
#     max(min_qty, mult_pct % of the MEDIAN size of those levels, order_mult_pct % of the
#     average aggressive order (engine/detctx.pxd)) AND grew by >= T since the
#     previous message (one order placed at once, not depth that built up) becomes a tracked
#     wall (up to SPOOF_MAX_WALLS per side) with its peak size, the time first seen and the
#     volume traded at its price since (a trade through the price counts as the whole peak:
#     the wall was reachable);
#   * a tracked wall is dropped when it becomes the touch (it could trade) or after
#     max_life_ns; it is PULLED when, in one message, its size falls by >= pull_pct % of its
#     peak to <= (100 - pull_pct) % of the peak;
#   * a pulled wall fires when at most max_traded_pct % of its peak traded at its price, at
#     least min_rank better levels still stood in front of it, at least min_behind levels
#     behind it (it did not merely drop off the end of a depth-limited feed as the price
#     moved away), and the touch had come closer: its distance to the wall is at most
#     approach_pct % of the distance when the wall appeared (pulled as the price approached,
#     "before it could trade"; 100 turns this off).
# Confidence: conf_ratio(T, peak). Facts: peak size, life ns, levels in front when pulled,
# traded at the price, distance from the touch at the pull and when it appeared (price
# units).
from libc.stdint cimport int64_t
from engine.detctx cimport DetCtx, ctx_side, ctx_avg_order, ctx_warm
from engine.ladder cimport LadderSide, side_px, side_sz, side_qty_at, side_rank
from engine.signal cimport SignalOut, emit, conf_ratio, SIG_SPOOF

cdef enum:
    SPOOF_MAX_WALLS = 8
    SPOOF_MAX_LEVELS = 20

cdef struct SpoofParams:
    int64_t levels
    int64_t mult_pct
    int64_t order_mult_pct
    int64_t min_qty
    int64_t max_life_ns
    int64_t pull_pct
    int64_t max_traded_pct
    int64_t min_rank
    int64_t min_behind
    int64_t approach_pct

cdef struct Wall:
    bint active
    int64_t price
    int64_t peak
    int64_t last
    int64_t thr
    int64_t first_ts
    int64_t traded
    int64_t dist0

cdef struct Spoof:
    SpoofParams p
    Wall w[3 * SPOOF_MAX_WALLS]      # index side * SPOOF_MAX_WALLS + i (side 1, 2)
    int64_t prev_px[3 * SPOOF_MAX_LEVELS]
    int64_t prev_q[3 * SPOOF_MAX_LEVELS]
    int64_t prev_n[3]


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
    s.prev_n[1] = 0
    s.prev_n[2] = 0


cdef inline int64_t spoof_median(const int64_t* q, Py_ssize_t n) noexcept nogil:
    """Median (the upper one for an even count) of n <= SPOOF_MAX_LEVELS sizes."""
    cdef int64_t buf[SPOOF_MAX_LEVELS]
    cdef int64_t v
    cdef Py_ssize_t i, j
    for i in range(n):
        v = q[i]
        j = i
        while j > 0 and buf[j - 1] > v:
            buf[j] = buf[j - 1]
            j -= 1
        buf[j] = v
    return buf[n // 2]


cdef inline int64_t spoof_dist(const LadderSide* side, int ps, int64_t price) noexcept nogil:
    """Distance in price units from the touch of side ps to `price` (0 with no touch)."""
    if side.n == 0:
        return 0
    return side_px(side, 0) - price if ps == 1 else price - side_px(side, 0)


cdef inline void spoof_scan(Spoof* s, DetCtx* c, int ps) noexcept nogil:
    """Find new walls among the best `levels` levels of side ps; remember those levels."""
    cdef LadderSide* side = ctx_side(c, ps)
    cdef Py_ssize_t k, j, L = s.p.levels if s.p.levels < side.n else side.n
    cdef int64_t cur_px[SPOOF_MAX_LEVELS]
    cdef int64_t cur_q[SPOOF_MAX_LEVELS]
    cdef int64_t thr, t2, q, price, before
    cdef int i, free_slot
    cdef Wall* w
    for k in range(L):
        cur_px[k] = side_px(side, k)
        cur_q[k] = side_sz(side, k)
    if L >= 2 and (s.p.order_mult_pct == 0 or ctx_warm(c)):
        thr = spoof_median(cur_q, L) * s.p.mult_pct // 100
        t2 = ctx_avg_order(c) * s.p.order_mult_pct // 100
        if t2 > thr:
            thr = t2
        if thr < s.p.min_qty:
            thr = s.p.min_qty
        if thr < 1:
            thr = 1
        for k in range(1, L):
            q = cur_q[k]
            if q < thr:
                continue
            price = cur_px[k]
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
            if free_slot < 0:
                continue
            before = 0
            for j in range(s.prev_n[ps]):
                if s.prev_px[ps * SPOOF_MAX_LEVELS + j] == price:
                    before = s.prev_q[ps * SPOOF_MAX_LEVELS + j]
                    break
            if q - before < thr:
                continue                     # built up, not placed at once
            w = &s.w[ps * SPOOF_MAX_WALLS + free_slot]
            w.active = 1
            w.price = price
            w.peak = q
            w.last = q
            w.thr = thr
            w.first_ts = c.now_ns
            w.traded = 0
            w.dist0 = spoof_dist(side, ps, price)
    for k in range(L):
        s.prev_px[ps * SPOOF_MAX_LEVELS + k] = cur_px[k]
        s.prev_q[ps * SPOOF_MAX_LEVELS + k] = cur_q[k]
    s.prev_n[ps] = L


cdef inline void spoof_message(Spoof* s, DetCtx* c, SignalOut* o) noexcept nogil:
    cdef int ps, i
    cdef Wall* w
    cdef LadderSide* side
    cdef int64_t d, rank, behind, dist, last
    for ps in range(1, 3):
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
            last = w.last
            w.last = d
            if d * 100 > (100 - s.p.pull_pct) * w.peak or (last - d) * 100 < s.p.pull_pct * w.peak:
                continue
            w.active = 0
            behind = side.n - rank - (1 if d > 0 else 0)
            if w.traded * 100 > s.p.max_traded_pct * w.peak or rank < s.p.min_rank or behind < s.p.min_behind:
                continue
            dist = spoof_dist(side, ps, w.price)
            if s.p.approach_pct < 100 and dist * 100 > s.p.approach_pct * w.dist0:
                continue
            emit(o, SIG_SPOOF, 3 - ps, w.price, conf_ratio(w.thr, w.peak),
                 w.peak, c.now_ns - w.first_ts, rank, w.traded, dist, w.dist0)
        spoof_scan(s, c, ps)
