# Absorption: large traded volume into a level while its price holds.
#
# What it means to a trader: aggressive sellers keep hitting the bid at price P (or buyers
# lift the offer at P), far more than the market normally trades and far more than P ever
# showed, and the level does not give way -- a passive participant is soaking up the flow.
# Bid absorption points up (signal side buy), ask absorption points down (sell).
#
# Definition, per passive side (bids hit by taker sells, asks lifted by taker buys):
#   * an episode is the run of trades at one price P on that side, starting at the first
#     trade at P; a trade at another price starts a new one, and so does one more than
#     window_ns after the episode began. It keeps the volume V and prints at P and the
#     largest displayed size D at P (at its first print and at every message end);
#   * it arms when V >= T = max(min_qty, rate_pct % of the market's normal taker volume over
#     window_ns, display_pct % of D) with at least min_prints prints: heavy for the market,
#     and more than the level ever showed;
#   * it fires when, hold_ns after arming, the level still holds at the end of a message
#     (best bid >= P, best ask <= P); a touch worse than P ends the episode without a
#     signal. One signal per episode, at most one per side per cooldown_ns.
# Confidence: conf_ratio(T, V). Facts: volume, prints, displayed size at P now, duration ns
# (first print to signal), T.
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
    int64_t disp
    int64_t start_ts
    int64_t armed_ts
    int64_t thr
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
    cdef int64_t thr, t2
    if not e.active or px != e.px or ts - e.start_ts > a.p.window_ns:
        e.active = 1
        e.armed = 0
        e.fired = 0
        e.px = px
        e.vol = 0
        e.prints = 0
        e.disp = side_qty_at(ctx_side(c, ps), px)
        e.start_ts = ts
    e.vol += q
    e.prints += 1
    if e.armed or e.fired or not ctx_warm(c) or e.prints < a.p.min_prints:
        return
    thr = ctx_flow(c, a.p.rate_pct, a.p.window_ns)
    t2 = e.disp * a.p.display_pct // 100
    if t2 > thr:
        thr = t2
    if thr < a.p.min_qty:
        thr = a.p.min_qty
    if thr < 1:
        thr = 1
    if e.vol >= thr:
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
        emit(o, SIG_ABSORPTION, ps, e.px, conf_ratio(e.thr, e.vol),
             e.vol, e.prints, d, c.now_ns - e.start_ts, e.thr, 0)
        e.fired = 1
        e.ever_fired = 1
        e.last_fire_ts = c.now_ns
