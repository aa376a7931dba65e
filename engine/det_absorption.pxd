# Absorption: a flood of aggression into one price level that holds.
#
# Source: Harris, *Trading and Exchanges* (2003), ch. 13-14 (large patient traders who
# supply liquidity, "dealers and block traders absorb order imbalances"): a passive
# participant at P takes the other side of aggressive orders that, by their size and pace,
# would have moved the price, and the price does not move. In order-flow terms (the footprint
# / tape-reading literature that follows Harris): heavy one-sided taker volume printing at one
# level while that level keeps its price.
#
# What it means to a trader: aggressive sellers keep hitting the bid at price P (or buyers
# lift the offer at P), far more than the market normally trades in that time, and the level
# does not give way -- a passive participant is soaking up the flow. Bid absorption points up
# (signal side buy), ask absorption points down (sell).
#
# Definition, per passive side (bids hit by taker sells, asks lifted by taker buys):
#   * an episode is the run of trades at one price P on that side, starting at the first
#     trade at P; a trade at another price starts a new one, and so does one more than
#     window_ns after the episode's PREVIOUS print (repeated selling into a bid over many
#     seconds is one episode as long as it does not pause). It keeps the volume V and prints
#     at P and the largest displayed size D at P (at its first print and every message end);
#   * it arms, with at least min_prints prints and V >= max(min_qty, display_pct % of D when
#     display_pct > 0), when the aggression is a FLOOD, by volume or by pace:
#       - V >= T = rate_pct % of the market's normal taker volume (engine/detctx.pxd) over
#         the episode so far (first print to now, at least window_ns): the level alone took
#         several times what the whole market normally trades meanwhile; or
#       - V >= turnover_pct % of D per second over the same span: the level was taken
#         many times over each second and kept its size (a passive order replenishing what
#         was taken at once), even on a venue so busy that the volume is a small share of
#         its total flow;
#   * it fires when, hold_ns after arming, the level still holds at the end of a message
#     (best bid >= P, best ask <= P); a touch worse than P ends the episode without a
#     signal. One signal per episode, at most one per side per cooldown_ns.
# What it does NOT detect: a level taking ordinary-paced flow that is refilled again and
# again (that is an iceberg, engine/det_iceberg.pxd: the same level, one reading); a level
# that gives way (the flood won: a delta spike or a sweep); hidden liquidity BETWEEN the
# published levels; absorption spread over several adjacent prices (each price is judged
# alone); a flood shorter than min_prints prints.
# Confidence: conf_ratio(T, V), or for a flood by turnover conf_ratio(turnover threshold, V)
# if larger; then the measured calibration (nexus/flow/calibration.py).
# Facts: volume, prints, displayed size at P now, duration ns (first print to signal), T.
from libc.stdint cimport int64_t
from engine.params cimport AbsorptionParams   # generated from nexus/flow/params.py
from engine.detctx cimport DetCtx, ctx_side, ctx_flow, ctx_warm
from engine.ladder cimport side_px, side_qty_at
from engine.signal cimport SignalOut, emit, conf_ratio, SIG_ABSORPTION

cdef struct AbsorptionSide:
    bint active
    bint armed
    bint fired
    int64_t px
    int64_t vol
    int64_t prints
    int64_t orders
    int64_t disp
    int64_t start_ts
    int64_t last_ts
    int64_t armed_ts
    int64_t thr
    int64_t conf
    int64_t last_fire_ts
    bint ever_fired
    bint heavy                       # some episode armed: heavy_px took absorption-grade flow
    int64_t heavy_px
    int64_t heavy_ts

cdef struct Absorption:
    AbsorptionParams p
    AbsorptionSide s[3]


cdef inline bint absorption_heavy(const Absorption* a, int side, int64_t px, int64_t now, int64_t memory_ns) noexcept nogil:
    """Whether the level (side, px) took absorption-grade flow (an episode there armed) within
    the last memory_ns."""
    return a.s[side].heavy and a.s[side].heavy_px == px and now - a.s[side].heavy_ts <= memory_ns


cdef inline void absorption_trade(Absorption* a, DetCtx* c, int taker, int64_t px, int64_t q, int64_t ts) noexcept nogil:
    cdef int ps = 3 - taker
    cdef AbsorptionSide* e = &a.s[ps]
    cdef int64_t thr, t2, span, c1, c2
    if not e.active or px != e.px or (e.last_ts >= 0 and ts - e.last_ts > a.p.window_ns):
        e.active = 1
        e.armed = 0
        e.fired = 0
        e.px = px
        e.vol = 0
        e.prints = 0
        e.orders = 0
        e.last_ts = -1
        e.disp = side_qty_at(ctx_side(c, ps), px)
        e.start_ts = ts
    e.vol += q
    e.prints += 1
    if ts != e.last_ts:
        e.orders += 1
    e.last_ts = ts
    if e.armed or e.fired or not ctx_warm(c) or e.prints < a.p.min_prints:
        return
    span = ts - e.start_ts
    if span < a.p.window_ns:
        span = a.p.window_ns
    thr = ctx_flow(c, a.p.rate_pct, span)
    if thr < 1:
        thr = 1
    t2 = e.disp * a.p.display_pct // 100
    if e.vol < t2 or e.vol < a.p.min_qty:
        return
    c1 = conf_ratio(thr, e.vol) if e.vol >= thr else 0
    c2 = 0
    t2 = e.disp * a.p.turnover_pct // 100 * (span // 1000000) // 1000
    if a.p.turnover_pct > 0 and e.disp > 0 and e.vol >= t2:
        c2 = conf_ratio(t2, e.vol)
    if c1 > 0 or c2 > 0:
        e.conf = c1 if c1 > c2 else c2
        e.armed = 1
        e.armed_ts = ts
        e.thr = thr
        e.heavy = 1
        e.heavy_px = px
        e.heavy_ts = ts


cdef inline void absorption_message(Absorption* a, DetCtx* c, SignalOut* o) noexcept nogil:
    cdef int ps
    cdef AbsorptionSide* e
    cdef int64_t best, d
    for ps in range(1, 3):
        e = &a.s[ps]
        if not e.active:
            continue
        best = side_px(ctx_side(c, ps), 0)
        if (ps == 1 and best < e.px) or (ps == 2 and best > e.px):
            e.active = 0                     # the level gave way
            continue
        d = side_qty_at(ctx_side(c, ps), e.px)
        if d > e.disp:
            e.disp = d
        if not e.armed or e.fired or c.now_ns - e.armed_ts < a.p.hold_ns:
            continue
        if e.ever_fired and c.now_ns - e.last_fire_ts < a.p.cooldown_ns:
            continue
        emit(o, SIG_ABSORPTION, ps, e.px, e.conf,
             e.vol, e.prints, d, c.now_ns - e.start_ts, e.thr, 0)
        e.fired = 1
        e.ever_fired = 1
        e.last_fire_ts = c.now_ns
