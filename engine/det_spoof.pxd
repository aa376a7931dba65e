# Spoof: large resting size away from the touch, pulled before it could trade.
#
# Sources: Harris, *Trading and Exchanges* (2003), ch. 12 (manipulative trading strategies:
# bluffing with orders the trader does not intend to have filled, to create a false
# impression of supply or demand); the legal definition in the Dodd-Frank Act s.747 (CEA
# 4c(a)(5)(C): "bidding or offering with the intent to cancel the bid or offer before
# execution"); J. Lee, K. S. Eom, K. S. Park, "Microstructure-based manipulation: strategic
# behavior and performance of spoofing traders", J. Financial Markets 16(2), 2013 (large
# orders away from the best price, cancelled as the price nears them). Intent is not in the
# feed: what is detected is the footprint -- a wall placed at once, standing, cancelled
# before the touch reached it, with (almost) nothing traded at its price.
#
# What it does NOT detect: intent (a genuine order cancelled for a genuine reason looks the
# same); layering across many small orders at several prices (each is judged alone and none
# is a wall); spoofing at the touch (the touch could trade: it is dropped) or placed just
# behind it (rank 1, where ordinary depth is pulled as the price nears: min_front) or within
# min_dist_vol_pct % of the touch's usual one-second move (an order that may well trade in a
# second is real liquidity, whatever its intent); walls
# beyond max_bps or beyond a depth-limited feed; a wall that trades (more than max_traded_pct
# of it filled at its price: it was real liquidity); fleeting orders shorter than min_life_ns or
# shown in fewer than min_updates book updates or seen standing (first to last book message that
# showed it) for less than min_seen_ns (a wall shown for one book update cannot mislead
# anyone; Hasbrouck and Saar, "Technology and liquidity provision", 2009, call these fleeting
# orders; on a 200 ms feed one update outlasts min_life_ns, so the age alone does not say it);
# a wall first seen among the last min_behind levels of a depth-limited view (it scrolled in).
#
# What it means to a trader: a wall that is meant to be seen, not filled -- one large order
# placed behind the touch to lean on the price, cancelled before the price gets to it. A
# pulled bid wall was fake buying interest, so the signal points down (sell); a pulled ask
# wall points up (buy) ("often inverted": the signal is already the inverse of what the
# wall suggested).
#
# Definition, per side, at the end of every message that changed the book:
#   * a wall is a level placed away from the touch: at least two levels in front (min_front:
#     the touch and at least one more better level), at least min_dist_vol_pct % (50) of the
#     touch's usual one-second move from it ("away from the best price", Lee-Eom-Park: where
#     it is unlikely to trade before it is pulled; a level count alone is 0.02 USD on a
#     0.01-tick book and 1 USD on a 0.5-tick one: the move is the market's own yardstick,
#     the mean |change| of the mid from one second to the next, sampled at the first book
#     message of each second, averaged over ~32 s; no wall is tracked before SPOOF_VOL_MIN
#     samples), and at least min_behind levels behind it
#     when the message placed it (a level first seen at the edge of a depth-limited view -- a
#     deep resting order scrolling into Crypto.com's 50 levels at rank 48 -- was not placed
#     there: the pull's min_behind rule, at placement), within
#     max_bps basis points of the touch, that the message made >= T = max(min_qty, mult_pct %
#     of the MEDIAN size of the `levels` best levels, order_mult_pct % of the average
#     aggressive order (engine/detctx.pxd)) and grew by >= T in that one message (one order
#     placed at once, not depth that built up;
#     the engine's log of the message's level changes gives the size before, or the side as
#     the message found it when the message re-sent the whole side). Up to SPOOF_WALLS_MAX
#     walls per side are tracked by price, with their peak size, the time and the distance
#     from the touch when placed, and the volume traded AT their price since. A print
#     through the price (beyond it, the wall not filled) does not count: a resting wall
#     would have been hit first, so it was gone by then and only the book message saying
#     so was still to come (trades and book are separate streams; Hyperliquid's book is a
#     0.5 s snapshot, Bybit's a 20 ms push) -- it was pulled before it could trade;
#   * a tracked wall is dropped when it becomes the touch (it could trade) or after
#     max_life_ns; it is PULLED when, in one message, its size falls by >= pull_pct % of its
#     peak to <= (100 - pull_pct) % of the peak -- except when it vanished with fewer than
#     min_behind levels behind its price: on a depth-limited feed (Kraken's book shows 10
#     levels, Hyperliquid's 20) levels added in front push a wall beyond the last shown
#     level and back, and leaving the view is not a pull. Such a wall stays tracked, out of
#     view; shown again at its price it is the same wall (its life still runs from its
#     placement -- it was displayed, in and out of the window, all along) and fires only if
#     pulled while in view. (Before, each return started a new wall: a Kraken wall in and
#     out of the window for 3.9 s and pulled 50 ms after its last return was a "fleeting
#     order".);
#   * a pulled wall fires when at most max_traded_pct % of its peak traded at its price, at
#     least min_rank better levels still stood in front of it, at least min_behind levels
#     behind it (it did not merely drop off the end of a depth-limited feed as the price
#     moved away), and the touch had come closer: its distance to the wall is at most
#     approach_pct % of the distance when the wall appeared (pulled as the price approached,
#     "before it could trade"; 100 turns this off), it stood at least min_life_ns, it was
#     shown in at least min_updates book messages (the placing one and every later one that
#     ended with it in view and not pulled), and those messages span at least min_seen_ns
#     (from the placing one to the last that showed it: how long the wire PROVES it stood --
#     the age at the pull runs to the message that reports it gone, which may come up to one
#     book interval after the cancel; 0, the default, turns this off: measured, not adopted,
#     see nexus/flow/params.py). With 150 ms a 100 ms feed must show it in 3 messages, a 200 ms
#     feed (Bitget) or a 0.5 s snapshot feed (Hyperliquid) in 2, a 20 ms feed over 150 ms.
# Confidence: conf_ratio(T, peak). Facts: peak size, life ns, levels in front when pulled,
# traded at the price, distance from the touch at the pull and when it appeared (price
# units).
from libc.stdint cimport int64_t
from engine.params cimport SpoofParams   # generated from nexus/flow/params.py
from engine.detctx cimport DetCtx, ctx_side, ctx_avg_order, ctx_warm
from engine.ladder cimport LadderSide, side_px, side_sz, side_qty_at, side_rank
from engine.signal cimport SignalOut, emit, conf_ratio, SIG_SPOOF
from engine.sortbuf cimport sorted_insert

cdef enum:
    SPOOF_WALLS_MAX = 8
    SPOOF_LEVELS_MAX = 20            # levels the median is taken over, at most
    SPOOF_SCAN_CAP = 4096            # levels of a re-sent side examined for walls, at most
    SPOOF_VOL_SHIFT = 5              # the touch's one-second move: EWMA over ~32 s
    SPOOF_VOL_MIN = 10               # ... known after this many one-second samples

cdef struct Wall:
    bint active
    int64_t price
    int64_t peak
    int64_t last
    int64_t thr
    int64_t first_ts
    int64_t traded
    int64_t dist0
    int64_t shown                    # book messages that ended with it standing in view
    int64_t seen_ns                  # the last of them (the placing one at first)

cdef struct Spoof:
    SpoofParams p
    # the market's typical one-second move, for min_dist_vol_pct: bid + ask sampled at the
    # first book message of each second, |its change| over consecutive seconds averaged (Q16)
    int64_t vol_sec                  # that second + 1 (0: no sample yet)
    int64_t vol_mid2
    int64_t vol_q16
    int64_t vol_n
    Wall w[3 * SPOOF_WALLS_MAX]      # index side * SPOOF_WALLS_MAX + i (side 1, 2)


cdef inline void spoof_trade(Spoof* s, int taker, int64_t px, int64_t q) noexcept nogil:
    cdef int ps = 3 - taker
    cdef Wall* w
    cdef int i
    for i in range(SPOOF_WALLS_MAX):
        w = &s.w[ps * SPOOF_WALLS_MAX + i]
        if not w.active:
            continue
        if px == w.price:
            w.traded += q


cdef inline void spoof_reset(Spoof* s) noexcept nogil:
    cdef int i
    for i in range(3 * SPOOF_WALLS_MAX):
        s.w[i].active = 0


cdef inline int64_t spoof_median(const LadderSide* side, Py_ssize_t n) noexcept nogil:
    """Median (the upper one for an even count) of the n <= SPOOF_LEVELS_MAX best sizes."""
    cdef int64_t buf[SPOOF_LEVELS_MAX]
    cdef Py_ssize_t i
    for i in range(n):
        sorted_insert(buf, i, side_sz(side, i))
    return buf[n // 2]


cdef inline int64_t spoof_dist(const LadderSide* side, int ps, int64_t price) noexcept nogil:
    """Distance in price units from the touch of side ps to `price` (0 with no touch)."""
    if side.n == 0:
        return 0
    return side_px(side, 0) - price if ps == 1 else price - side_px(side, 0)


cdef inline void spoof_vol(Spoof* s, const DetCtx* c) noexcept nogil:
    """The one-second move of bid + ask, sampled at the first book message of each second."""
    cdef int64_t sec, m2, d
    if c.bids.n == 0 or c.asks.n == 0:
        return
    sec = c.now_ns // 1000000000 + 1
    if sec == s.vol_sec:
        return
    m2 = side_px(c.bids, 0) + side_px(c.asks, 0)
    if s.vol_sec != 0 and sec == s.vol_sec + 1:
        d = m2 - s.vol_mid2
        if d < 0:
            d = -d
        if s.vol_n == 0:
            s.vol_q16 = d << 16
        else:
            s.vol_q16 += ((d << 16) - s.vol_q16) >> SPOOF_VOL_SHIFT
        s.vol_n += 1
    s.vol_sec = sec
    s.vol_mid2 = m2


cdef inline void spoof_consider(Spoof* s, DetCtx* c, int ps, const LadderSide* side, int64_t price,
                                int64_t before, int64_t thr) noexcept nogil:
    """A level the message changed: track it as a wall if it qualifies."""
    cdef int64_t q = side_qty_at(side, price), dist, rank
    cdef int i, free_slot = -1
    cdef Wall* w
    if q < thr or q - before < thr or side.n == 0:
        return
    dist = spoof_dist(side, ps, price)
    if dist <= 0 or dist * 10000 > s.p.max_bps * side_px(side, 0):
        return
    if s.p.min_dist_vol_pct > 0 and (s.vol_n < SPOOF_VOL_MIN or dist * 200 < s.p.min_dist_vol_pct * (s.vol_q16 >> 16)):
        return                               # within the touch's usual one-second move: it may well trade
    for i in range(SPOOF_WALLS_MAX):
        w = &s.w[ps * SPOOF_WALLS_MAX + i]
        if w.active and w.price == price:
            if q > w.peak:
                w.peak = q
            return
        if not w.active and free_slot == -1:
            free_slot = i
    rank = side_rank(side, price)
    if free_slot < 0 or rank < s.p.min_front:
        return                               # placed too close: a wall just behind the touch
    if side.n - rank - 1 < s.p.min_behind:
        return                               # at the edge of the view: it scrolled in, not placed
    w = &s.w[ps * SPOOF_WALLS_MAX + free_slot]
    w.active = 1
    w.price = price
    w.peak = q
    w.last = q
    w.thr = thr
    w.first_ts = c.now_ns
    w.traded = 0
    w.dist0 = dist
    w.shown = 1
    w.seen_ns = c.now_ns


cdef inline int64_t spoof_threshold(Spoof* s, DetCtx* c, const LadderSide* side, Py_ssize_t L) noexcept nogil:
    cdef int64_t thr = spoof_median(side, L) * s.p.mult_pct // 100
    cdef int64_t t2 = ctx_avg_order(c) * s.p.order_mult_pct // 100
    if t2 > thr:
        thr = t2
    if thr < s.p.min_qty:
        thr = s.p.min_qty
    if thr < 1:
        thr = 1
    return thr


cdef inline void spoof_scan(Spoof* s, DetCtx* c, int ps) noexcept nogil:
    """New walls among the levels of side ps this message changed. The median (a small sort)
    is only taken once a level passes the cheaper part of the threshold."""
    cdef LadderSide* side = ctx_side(c, ps)
    cdef const LadderSide* saved = c.saved_bids if ps == 1 else c.saved_asks
    cdef Py_ssize_t k, j, n, L = s.p.levels if s.p.levels < side.n else side.n
    cdef int64_t thr = -1, t0, price, q, before
    cdef bint last
    if L < 2 or (s.p.order_mult_pct > 0 and not ctx_warm(c)):
        return
    t0 = ctx_avg_order(c) * s.p.order_mult_pct // 100   # thr >= t0 whatever the median
    if t0 < s.p.min_qty:
        t0 = s.p.min_qty
    if t0 < 1:
        t0 = 1
    if saved != NULL:                    # the message re-sent this side: compare level by level
        n = side.n if side.n < SPOOF_SCAN_CAP else SPOOF_SCAN_CAP
        for k in range(1, n):
            price = side_px(side, k)
            if (side_px(side, 0) - price if ps == 1 else price - side_px(side, 0)) * 10000 > s.p.max_bps * side_px(side, 0):
                break
            q = side_sz(side, k)
            if q < t0:
                continue
            before = side_qty_at(saved, price) if saved.n >= 0 else 0
            if q - before < t0:
                continue
            if thr < 0:
                thr = spoof_threshold(s, c, side, L)
            spoof_consider(s, c, ps, side, price, before, thr)
        return
    for k in range(c.undo_n):                # a level's last change holds its size now
        if c.undo[4 * k] != ps:
            continue
        q = c.undo[4 * k + 3]
        if q < t0:
            continue
        price = c.undo[4 * k + 1]
        before = c.undo[4 * k + 2]
        last = 1
        for j in range(k + 1, c.undo_n):
            if c.undo[4 * j] == ps and c.undo[4 * j + 1] == price:
                last = 0
                break
        if not last:
            continue
        for j in range(k):                   # and its first change its size at the start
            if c.undo[4 * j] == ps and c.undo[4 * j + 1] == price:
                before = c.undo[4 * j + 2]
                break
        if q - before < t0:
            continue
        if thr < 0:
            thr = spoof_threshold(s, c, side, L)
        spoof_consider(s, c, ps, side, price, before, thr)


cdef inline void spoof_message(Spoof* s, DetCtx* c, SignalOut* o) noexcept nogil:
    cdef int ps, i
    cdef Wall* w
    cdef LadderSide* side
    cdef int64_t d, rank, behind, dist, last
    spoof_vol(s, c)
    for ps in range(1, 3):
        side = ctx_side(c, ps)
        for i in range(SPOOF_WALLS_MAX):
            w = &s.w[ps * SPOOF_WALLS_MAX + i]
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
                if d > 0:
                    w.shown += 1             # one more message that ended with it in view
                    w.seen_ns = c.now_ns
                continue
            behind = side.n - rank - (1 if d > 0 else 0)
            if d == 0 and behind < s.p.min_behind:
                continue                     # out of view, not pulled: tracked until it shows again
            w.active = 0
            if w.traded * 100 > s.p.max_traded_pct * w.peak or rank < s.p.min_rank or behind < s.p.min_behind:
                continue
            if (c.now_ns - w.first_ts < s.p.min_life_ns or w.shown < s.p.min_updates
                    or w.seen_ns - w.first_ts < s.p.min_seen_ns):
                continue
            dist = spoof_dist(side, ps, w.price)
            if s.p.approach_pct < 100 and dist * 100 > s.p.approach_pct * w.dist0:
                continue
            emit(o, SIG_SPOOF, 3 - ps, w.price, conf_ratio(w.thr, w.peak),
                 w.peak, c.now_ns - w.first_ts, rank, w.traded, dist, w.dist0)
        spoof_scan(s, c, ps)
