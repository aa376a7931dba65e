# Delta spike: the taker delta over the last `bucket_ns` is an outlier against the recent
# history of deltas (a z-score over a rolling window).
#
# Sources: the signed taker volume ("delta") is the trade part of Cont, Kukanov and Stoikov's
# order-flow imbalance (J. Financial Econometrics 12(1), 2014: price changes are driven by the
# net order flow at the best quotes) and of Lee and Ready's trade direction (J. Finance 46(2),
# 1991; here the venue gives the aggressor side). A spike is an outlier of that net flow
# against its own recent history (a z-score), as in Harris, *Trading and Exchanges* ch. 4 on
# impatient (aggressive) traders who demand liquidity quickly and move the price.
# What it does NOT detect: one-sided flow that builds slowly (the z is against the recent
# buckets, so it adapts); a burst into one level that holds (that is absorption: prints at
# fewer than min_levels prices); a single large block (fewer than min_orders orders); flow
# whose side the venue does not publish (unknown sides are left out).
#
# What it means to a trader: sudden directional aggression -- far more buying (selling)
# market orders in the last moment than the recent norm. Points in the direction of the delta.
#
# Definition. A print's signed quantity is + for a taker buy and - for a taker sell (unknown
# sides are left out). The baseline is a rolling window of the last `window` completed
# fixed buckets of bucket_ns (by exchange timestamp; a trade that opens a later bucket pushes
# the finished bucket and one zero per empty bucket in between, at most `window`), with
# c buckets, S1 = sum and S2 = sum of squares (exact integers); by default 240 buckets of
# 0.5 s, the last 2 minutes: the norm a spike stands out from is the market's flow over
# minutes, not a half-minute lull, after which ordinary flow resuming would read as a spike
# (measured on the tuning seeds, nexus/flow/params.py). On every print, the SLIDING
# delta d = the signed volume of the prints in (t - bucket_ns, t] (a spike is not cut in two
# by a bucket edge) is scored:
#     z = (c*d - S1) / sqrt(c*S2 - S1^2)          (= (d - mean) / population sd)
# in IEEE double; when c*S2 - S1^2 = 0 the sd is floored at one quantity unit,
# z = (c*d - S1) / c. It fires when c >= min_buckets, |d| >= min_qty, |d| >= min_rate_pct %
# of the market's normal taker volume over bucket_ns (engine/detctx.pxd), z and d have the
# same sign, |z| * 100 >= z_x100, and, when calm_z_x100 > 0, the sliding delta of the
# bucket_ns before, (t - 2 bucket_ns, t - bucket_ns], scored the same way, had |z| below
# calm_z_x100 / 100 (off by default: the definition is the z-score alone, and a burst whose
# delta z reaches the threshold is a spike whatever came before it); the sliding window holds
# at least min_orders aggressive orders in the spike's direction (prints with distinct
# timestamps: one block is a large lot, not a spike), the delta without its largest order
# (the prints of one timestamp) still scores |z| >= z_x100 / 100 -- a spike does not rest
# on one block: a single market order sweeping the book (the simulator's heavy-tailed
# background on thin books, Crypto.com and Aster, seed 204: one order across 20-31 levels
# among a few ordinary ones) made the whole z and passed min_orders on the small orders
# around it -- and the aggression moved through the
# book: its prints in the spike's direction traded at >= min_levels distinct prices. A delta
# that trades into one level while the price holds is absorption, not a spike; counting
# levels rather than a basis-point move does not punish deep books, where a real spike walks
# many levels but the price moves little (distinct prices are counted up to min_levels, at
# most DS_LEVELS_MAX). After a signal it stays quiet for bucket_ns. Prints are kept for
# 2 bucket_ns (at most DS_RING; the oldest leave first). Confidence: conf_ratio(z_x100, |z|*100). Facts: delta,
# z*100 (truncated), window sum S1, buckets in the window c, bucket_ns.
#
# A robust baseline (clip_z_x100 > 0; OFF by default: measured on the tuning seeds it finds
# more spikes but the simulator's heavy-tailed background bursts then pass z too, see
# nexus/flow/params.py): the history a spike is measured against
# is the market's NORMAL flow, so a completed bucket enters the window winsorised to
# median +- (clip_z_x100 / 100) * 1.4826 * MAD of the buckets already there (once there are
# min_buckets of them; MAD = median absolute deviation, 1.4826 MAD estimates the sd of normal
# data). This is Hampel's outlier identifier (F. R. Hampel, "The influence curve and its role
# in robust estimation", JASA 69, 1974; Rousseeuw and Croux, JASA 88, 1993) used as Huber's
# winsorisation (P. J. Huber, "Robust estimation of a location parameter", Ann. Math.
# Statist. 35, 1964): without it one earlier burst -- another spike, an exhaustion's push, a
# block accumulation -- inflates the sd for the whole window (30 s by default) and hides the
# next spike, as a z-score over contaminated data does. The buckets are taken into the
# median in DS_MEDIAN_MAX at most (the most recent ones).
from libc.stdint cimport int64_t
from engine.params cimport DeltaSpikeParams   # generated from nexus/flow/params.py
from libc.math cimport sqrt, fabs
from engine.int128 cimport int128_t
from engine.detctx cimport DetCtx, ctx_flow, ctx_warm
from engine.signal cimport SignalOut, emit, conf_ratio, SIG_DELTA_SPIKE
from engine.sortbuf cimport sorted_insert

cdef enum:
    DS_WINDOW_MAX = 4096
    DS_RING = 8192
    DS_LEVELS_MAX = 64
    DS_MEDIAN_MAX = 256              # buckets a winsorising median is taken over, at most

cdef struct DeltaSpike:
    DeltaSpikeParams p
    int64_t ring[DS_WINDOW_MAX]      # completed bucket deltas
    int64_t count
    int64_t pos
    int64_t s1
    int128_t s2
    bint started
    int64_t bucket
    int64_t delta                    # the current fixed bucket's delta
    # prints of the last 2 bucket_ns: [head, mid) older than t - bucket_ns, [mid, tail) recent
    int64_t r_ts[DS_RING]
    int64_t r_q[DS_RING]
    int64_t r_px[DS_RING]
    int64_t head
    int64_t mid
    int64_t n
    int64_t recent
    int64_t older
    bint fired
    int64_t fired_ts


cdef inline double ds_z(const DeltaSpike* s, int64_t d) noexcept nogil:
    """z of a delta d against the window as it stands (sd floored at one quantity unit)."""
    cdef int128_t num = <int128_t>s.count * d - s.s1
    cdef int128_t var = <int128_t>s.count * s.s2 - <int128_t>s.s1 * s.s1
    if s.count == 0:
        return 0.0
    if var > 0:
        return <double>num / sqrt(<double>var)
    return <double>num / <double>s.count


cdef inline void ds_push(DeltaSpike* s, int64_t v) noexcept nogil:
    cdef int64_t old
    if s.count == s.p.window:
        old = s.ring[s.pos]
        s.s1 -= old
        s.s2 -= <int128_t>old * old
    else:
        s.count += 1
    s.ring[s.pos] = v
    s.pos += 1
    if s.pos == s.p.window:
        s.pos = 0
    s.s1 += v
    s.s2 += <int128_t>v * v


cdef inline int64_t ds_winsorise(const DeltaSpike* s, int64_t v) noexcept nogil:
    """v clipped to median +- clip_z * 1.4826 * MAD of the window's buckets (the last
    DS_MEDIAN_MAX of them); v itself before min_buckets buckets or when clip_z_x100 is 0."""
    cdef int64_t buf[DS_MEDIAN_MAX]
    cdef int64_t dev[DS_MEDIAN_MAX]
    cdef Py_ssize_t i, n = s.count if s.count < DS_MEDIAN_MAX else DS_MEDIAN_MAX
    cdef int64_t med, mad, x, lo, hi
    cdef double half
    if s.p.clip_z_x100 <= 0 or s.count < s.p.min_buckets or n == 0:
        return v
    for i in range(n):                   # the n most recent: ring positions pos-1, pos-2, ...
        x = s.ring[(s.pos - 1 - i + s.p.window) % s.p.window]
        sorted_insert(buf, i, x)
    med = buf[n // 2]
    for i in range(n):
        x = buf[i] - med
        sorted_insert(dev, i, x if x >= 0 else -x)
    mad = dev[n // 2]
    if mad < 1:
        mad = 1
    half = <double>s.p.clip_z_x100 / 100.0 * 1.4826 * <double>mad
    lo = med - <int64_t>half
    hi = med + <int64_t>half
    if v < lo:
        return lo
    if v > hi:
        return hi
    return v


cdef inline bint ds_shape(const DeltaSpike* s, int64_t d, int64_t* block) noexcept nogil:
    """The recent window holds >= min_orders orders in d's direction, whose prints traded at
    >= min_levels distinct prices (counted up to min_levels, at most DS_LEVELS_MAX).
    *block: the largest of those orders (its prints' signed quantities summed)."""
    cdef int64_t i, j, slot, q, px, orders = 0, last_ts = -1, nlev = 0, cur = 0
    cdef int64_t want = s.p.min_levels if s.p.min_levels < DS_LEVELS_MAX else DS_LEVELS_MAX
    cdef int64_t seen[DS_LEVELS_MAX]
    block[0] = 0
    for i in range(s.mid, s.head + s.n):
        slot = i % DS_RING
        q = s.r_q[slot]
        if (d > 0 and q > 0) or (d < 0 and q < 0):
            if s.r_ts[slot] != last_ts:
                orders += 1
                last_ts = s.r_ts[slot]
                cur = 0
            cur += q
            if (cur > block[0]) if d > 0 else (cur < block[0]):
                block[0] = cur
            if nlev < want:
                px = s.r_px[slot]
                for j in range(nlev):
                    if seen[j] == px:
                        break
                else:
                    seen[nlev] = px
                    nlev += 1
    return orders >= s.p.min_orders and nlev >= want


cdef inline void ds_slide(DeltaSpike* s, int64_t sq, int64_t px, int64_t ts) noexcept nogil:
    """Add a print to the sliding sums and move the window edges to ts."""
    cdef int64_t slot, q
    if s.n == DS_RING:                   # full: the oldest print leaves
        q = s.r_q[s.head % DS_RING]
        if s.mid == s.head:
            s.recent -= q
            s.mid += 1
        else:
            s.older -= q
        s.head += 1
        s.n -= 1
    slot = (s.head + s.n) % DS_RING
    s.r_ts[slot] = ts
    s.r_q[slot] = sq
    s.r_px[slot] = px
    s.n += 1
    s.recent += sq
    while s.mid < s.head + s.n and s.r_ts[s.mid % DS_RING] <= ts - s.p.bucket_ns:
        q = s.r_q[s.mid % DS_RING]
        s.recent -= q
        s.older += q
        s.mid += 1
    while s.head < s.mid and s.r_ts[s.head % DS_RING] <= ts - 2 * s.p.bucket_ns:
        s.older -= s.r_q[s.head % DS_RING]
        s.head += 1
        s.n -= 1


cdef inline void delta_spike_trade(DeltaSpike* s, DetCtx* c, int taker, int64_t px, int64_t q, int64_t ts, SignalOut* o) noexcept nogil:
    cdef int64_t b = ts // s.p.bucket_ns
    cdef int64_t gap, i, absd, d, block, sq = q if taker == 1 else -q
    cdef double z, az, zr
    if not s.started:
        s.started = 1
        s.bucket = b
        s.delta = 0
    elif b > s.bucket:
        ds_push(s, ds_winsorise(s, s.delta))
        gap = b - s.bucket - 1
        if gap > s.p.window:
            gap = s.p.window
        for i in range(gap):
            ds_push(s, 0)
        s.bucket = b
        s.delta = 0
    s.delta += sq
    ds_slide(s, sq, px, ts)
    if s.fired and ts - s.fired_ts < s.p.bucket_ns:
        return
    if s.count < s.p.min_buckets or not ctx_warm(c):
        return
    d = s.recent
    absd = d if d >= 0 else -d
    if absd < s.p.min_qty or absd == 0 or absd < ctx_flow(c, s.p.min_rate_pct, s.p.bucket_ns):
        return
    if s.p.calm_z_x100 > 0 and fabs(ds_z(s, s.older)) * 100.0 >= <double>s.p.calm_z_x100:
        return
    z = ds_z(s, d)
    if (z > 0) != (d > 0):
        return
    az = fabs(z) * 100.0
    if az < <double>s.p.z_x100:
        return
    if not ds_shape(s, d, &block):
        return
    zr = ds_z(s, d - block)                  # one block is a large lot, not a spike
    if (zr > 0) != (d > 0) or fabs(zr) * 100.0 < <double>s.p.z_x100:
        return
    emit(o, SIG_DELTA_SPIKE, 1 if d > 0 else 2, px, conf_ratio(s.p.z_x100, <int64_t>az),
         d, <int64_t>(z * 100.0), s.s1, s.count, s.p.bucket_ns, 0)
    s.fired = 1
    s.fired_ts = ts
