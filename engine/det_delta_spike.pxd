# Delta spike: the taker delta of the current time bucket is an outlier against the
# previous ones (a z-score over a rolling window).
#
# What it means to a trader: sudden directional aggression -- far more buying (selling)
# market orders in this interval than the recent norm. Points in the direction of the delta.
#
# Definition. Time is cut into buckets of bucket_ns by exchange timestamp; a bucket's delta
# is taker buy quantity minus taker sell quantity (trades with an unknown side are left out).
# When a trade opens a later bucket, the finished bucket and then one zero for each empty
# bucket in between (at most `window`) enter a rolling window of the last `window` buckets.
# On every trade, with d the current (partial) bucket's delta and c, S1 = sum, S2 = sum of
# squares over the window (exact integers):
#     z = (c*d - S1) / sqrt(c*S2 - S1^2)          (= (d - mean) / population sd)
# computed in IEEE double; when c*S2 - S1^2 = 0 the sd is floored at one quantity unit,
# z = (c*d - S1) / c. It fires when c >= min_buckets, |d| >= min_qty, z and d have the same
# sign, |z| * 100 >= z_x100 and |d| >= min_rate_pct % of the market's normal taker volume
# over bucket_ns (engine/detctx.pxd: a spike is large for the market, not only for a quiet
# window); at most once per bucket. The current bucket is not in its own baseline. Confidence: conf_ratio(z_x100, |z|*100). Facts: delta, z*100 (truncated),
# window sum S1, buckets in the window c, bucket_ns.
from libc.stdint cimport int64_t
from libc.math cimport sqrt, fabs
from engine.int128 cimport int128_t
from engine.detctx cimport DetCtx, ctx_flow, ctx_warm
from engine.signal cimport SignalOut, emit, conf_ratio, SIG_DELTA_SPIKE

cdef enum:
    DS_MAX_WINDOW = 4096

cdef struct DeltaSpikeParams:
    int64_t bucket_ns
    int64_t window
    int64_t min_buckets
    int64_t z_x100
    int64_t min_qty
    int64_t min_rate_pct

cdef struct DeltaSpike:
    DeltaSpikeParams p
    int64_t ring[DS_MAX_WINDOW]
    int64_t count
    int64_t pos
    int64_t s1
    int128_t s2
    bint started
    bint fired
    int64_t bucket
    int64_t delta


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


cdef inline void delta_spike_trade(DeltaSpike* s, DetCtx* c, int taker, int64_t px, int64_t q, int64_t ts, SignalOut* o) noexcept nogil:
    cdef int64_t b = ts // s.p.bucket_ns
    cdef int64_t gap, i, absd
    cdef int128_t num, var
    cdef double z, az
    if not s.started:
        s.started = 1
        s.bucket = b
        s.delta = 0
        s.fired = 0
    elif b > s.bucket:
        ds_push(s, s.delta)
        gap = b - s.bucket - 1
        if gap > s.p.window:
            gap = s.p.window
        for i in range(gap):
            ds_push(s, 0)
        s.bucket = b
        s.delta = 0
        s.fired = 0
    s.delta += q if taker == 1 else -q
    if s.fired or s.count < s.p.min_buckets or not ctx_warm(c):
        return
    absd = s.delta if s.delta >= 0 else -s.delta
    if absd < s.p.min_qty or absd == 0 or absd < ctx_flow(c, s.p.min_rate_pct, s.p.bucket_ns):
        return
    num = <int128_t>s.count * s.delta - s.s1
    var = <int128_t>s.count * s.s2 - <int128_t>s.s1 * s.s1
    if var > 0:
        z = <double>num / sqrt(<double>var)
    else:
        z = <double>num / <double>s.count
    if (z > 0) != (s.delta > 0):
        return
    az = fabs(z) * 100.0
    if az < <double>s.p.z_x100:
        return
    emit(o, SIG_DELTA_SPIKE, 1 if s.delta > 0 else 2, px, conf_ratio(s.p.z_x100, <int64_t>az),
         s.delta, <int64_t>(z * 100.0), s.s1, s.count, s.p.bucket_ns, 0)
    s.fired = 1
