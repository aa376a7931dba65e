# Iceberg: a level that keeps refilling after prints exceed its displayed size.
#
# Source: Harris, *Trading and Exchanges* (2003), ch. 6 (order types: "iceberg" / hidden-size
# orders show only part of their size; when the displayed part fills, the next part is
# displayed at the same price) and ch. 4 / 13 on order exposure: traders hide size to avoid
# being front-run. What a feed shows of it: at one price, prints repeatedly exceed what was
# displayed, and the display reappears (refills) after each depletion, at the ordinary pace of
# the takers who happen to hit it.
#
# What it does NOT detect: hidden size that never shows (fully hidden orders fill without a
# refill to see); a large displayed level eaten once and not refilled (that is depth, not an
# iceberg); refills that arrive as several new orders from different traders (the feed cannot
# tell them from one iceberg: they ARE read as one); a level flooded by aggression (far above
# the market's normal flow, or taken many times its display each second): that is absorption
# (engine/det_absorption.pxd), one level, one reading. Venues that aggregate the book over
# long intervals (0.5 s snapshots) show fewer refills than happened.
#
# What it means to a trader: a large hidden order shows only a small clip at price P; each
# time the clip is taken it reappears. Bid icebergs point up (buy), ask icebergs down (sell).
#
# Definition, per passive side:
#   * an episode is the run of trades at one price P on that side (a trade at another
#     price, or one more than window_ns after the start, starts a new one); it remembers the
#     displayed size D at P when it starts and the largest displayed size Dmax since;
#   * at the end of every message that updated the level P (a level record at P, or a clear
#     of that side), with displayed size d now and volume X traded at P since the previous
#     such update: if X > 0 and d > D - X (more is showing than the fills left) it is a
#     refill; then D = d. A level that is gone (d = 0) is not a refill; the episode ends
#     when the touch moves through P (best bid < P, best ask > P) with the level gone;
#   * it fires once refills >= min_refills, the traded volume V >= T = max(min_qty,
#     vol_mult_pct % of Dmax) (prints exceeded the display), at least settle_ns after the
#     first print, and the same level did not take absorption-grade flow within window_ns
#     (engine/det_absorption.pxd armed there): one level, one reading -- a steadily
#     refilled clip is an iceberg, a level soaking up a flood of aggression is absorption.
#     The flood is also judged directly, before absorption has had time to arm: when
#     flood_pct > 0 it does not fire while V >= flood_pct % of the market's normal taker
#     volume over the episode so far (first print to now; engine/detctx.pxd), nor before
#     the normal volume is known (the context's warm-up, as for every relative threshold:
#     absorption cannot arm before it either, so a flood in the first seconds of a stream
#     was read as an iceberg -- Deribit, seed 205, at 0.5 s) -- the one level alone taking what the whole market
#     normally trades is a flood, not a clip being refilled. And when flood_orders_per_s > 0
#     it does not fire while V >= flood_orders_per_s average aggressive orders (detctx.pxd)
#     per second since the first print (over at least one millisecond): the PACE of the
#     takers in the venue's own order sizes. A clip is taken at the pace of ordinary
#     trading; a burst of aggression into a wall is absorption even on a venue so busy
#     that the burst is a small share of its total flow (the share above misses it there).
#     Issue 18: flood_pct now defaults to 200 (textbook icebergs, hand-written scenarios in
#     tests/fixtures/signals, take about the market's own flow, 0.5-1.2x; floods 3-20x) and
#     flood_orders_per_s to 0 (it read a textbook iceberg lifted by clip-sized orders in a
#     busy market as a flood); the flood by turnover is judged instead: it does not fire while
#     V >= absorption_turnover_pct % of Dmax per second since the first print (the same test
#     absorption arms on; a clip is taken a few times a second at most, a flood is the level
#     taken ten and more times over each second).
#     One signal per episode, at most one per side per cooldown_ns.
# Confidence: the mean of conf_ratio(min_refills, refills) and conf_ratio(T, V), then the
# measured calibration (nexus/flow/calibration.py). Facts:
# volume, refills, largest display, duration ns, displayed now, volume beyond the display.
from libc.stdint cimport int64_t
from engine.params cimport IcebergParams   # generated from nexus/flow/params.py
from engine.detctx cimport DetCtx, ctx_side, ctx_flow, ctx_avg_order, ctx_warm
from engine.ladder cimport side_px, side_qty_at
from engine.signal cimport SignalOut, emit, conf_ratio, SIG_ICEBERG
from engine.det_absorption cimport Absorption, absorption_heavy

cdef struct IcebergSide:
    bint active
    bint fired
    bint touched
    int64_t px
    int64_t traded
    int64_t traded_since
    int64_t last_disp
    int64_t max_disp
    int64_t refills
    int64_t start_ts
    int64_t last_fire_ts
    bint ever_fired

cdef struct Iceberg:
    IcebergParams p
    IcebergSide s[3]


cdef inline void iceberg_trade(Iceberg* b, DetCtx* c, int taker, int64_t px, int64_t q, int64_t ts) noexcept nogil:
    cdef int ps = 3 - taker
    cdef IcebergSide* e = &b.s[ps]
    if not e.active or px != e.px or ts - e.start_ts > b.p.window_ns:
        e.active = 1
        e.fired = 0
        e.touched = 0
        e.px = px
        e.last_disp = side_qty_at(ctx_side(c, ps), px)
        e.max_disp = e.last_disp
        e.traded = 0
        e.traded_since = 0
        e.refills = 0
        e.start_ts = ts
    e.traded += q
    e.traded_since += q


cdef inline void iceberg_level(Iceberg* b, int side, int64_t price) noexcept nogil:
    """A book record at (side, price): marks the episode's level as updated."""
    if b.s[side].active and b.s[side].px == price:
        b.s[side].touched = 1


cdef inline void iceberg_clear(Iceberg* b, int side) noexcept nogil:
    if side != 2:
        b.s[1].touched = b.s[1].active
    if side != 1:
        b.s[2].touched = b.s[2].active


cdef inline void iceberg_message(Iceberg* b, DetCtx* c, const Absorption* a, SignalOut* o) noexcept nogil:
    cdef int ps
    cdef IcebergSide* e
    cdef int64_t d, best, thr, ms
    for ps in range(1, 3):
        e = &b.s[ps]
        if not e.active:
            continue
        if e.touched:
            e.touched = 0
            d = side_qty_at(ctx_side(c, ps), e.px)
            if d == 0:
                best = side_px(ctx_side(c, ps), 0)
                if (ps == 1 and best < e.px) or (ps == 2 and best > e.px):
                    e.active = 0
                e.last_disp = 0
                continue
            if e.traded_since > 0 and d > e.last_disp - e.traded_since:
                e.refills += 1
            e.traded_since = 0
            e.last_disp = d
            if d > e.max_disp:
                e.max_disp = d
        if e.fired or e.refills < b.p.min_refills or c.now_ns - e.start_ts < b.p.settle_ns:
            continue
        if absorption_heavy(a, ps, e.px, c.now_ns, b.p.window_ns):
            continue
        if b.p.flood_pct > 0 and (not ctx_warm(c) or e.traded >= ctx_flow(c, b.p.flood_pct, c.now_ns - e.start_ts)):
            continue
        if b.p.flood_orders_per_s > 0:
            ms = (c.now_ns - e.start_ts) // 1000000
            if ms < 1:
                ms = 1
            if e.traded * 1000 >= b.p.flood_orders_per_s * ctx_avg_order(c) * ms:
                continue
        if a.p.turnover_pct > 0 and e.max_disp > 0:
            ms = (c.now_ns - e.start_ts) // 1000000
            if ms < 1:
                ms = 1
            if e.traded * 100000 >= a.p.turnover_pct * e.max_disp * ms:
                continue
        thr = e.max_disp * b.p.vol_mult_pct // 100
        if thr < b.p.min_qty:
            thr = b.p.min_qty
        if thr < 1:
            thr = 1
        if e.traded < thr:
            continue
        if e.ever_fired and c.now_ns - e.last_fire_ts < b.p.cooldown_ns:
            continue
        emit(o, SIG_ICEBERG, ps, e.px,
             (conf_ratio(b.p.min_refills, e.refills) + conf_ratio(thr, e.traded)) // 2,
             e.traded, e.refills, e.max_disp, c.now_ns - e.start_ts, e.last_disp, e.traded - e.max_disp)
        e.fired = 1
        e.ever_fired = 1
        e.last_fire_ts = c.now_ns
