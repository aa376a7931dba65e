# The learned oracle (issue 18 point 5): a logistic regression over the engine's own
# features, applied here in nogil code; trained offline by nexus/flow/oracle_model.py
# (`nexus signals oracle-train`, scikit-learn), shipped as nexus/flow/oracle_model.json.
#
# What it predicts (the LABEL, fixed before any training): at a sample time t, whether the
# mid price ((best bid + best ask) / 2 of the book the engine holds) is HIGHER at t + H than
# at t, H = the model file's horizon_ns (default 5 s), among the samples where it moved
# (an unchanged mid is no label: such samples are left out of training and scoring). The
# mid "at t + H" is the mid after the last message with exchange time <= t + H.
#
# When it is evaluated: at the first message end at or after each whole sample_ns (1 s) of
# exchange time, once the book has both sides and OM_WARM_BUCKETS of history exist.
# The model: z = b + sum_i w_i (x_i - mu_i) / s_i,  p = 1 / (1 + exp(-z)) (probability of up).
# It emits SIG_ORACLE with side buy when p >= 0.5 else sell, confidence round(100 max(p, 1-p))
# (then the model file's calibration table, engine/flow.pyx calib[]), when that confidence
# >= min_conf, and the direction differs from its last signal or cooldown_ns has passed.
# Facts: fresh signal types, types agreeing, their mask (as the rule oracle), round(1000 z),
# model id 1 (the rule oracle writes 0).
#
# The features (OM_NF, in this order; "window w" = the 250 ms buckets of exchange time whose
# ids lie in (now_bucket - w / 250 ms, now_bucket]):
#   0 obi      (sum bid - sum ask) / (sum bid + sum ask), top obi_levels levels (engine/obi.pxd)
#   1 ofi_1s   multi-level OFI (sum of the ofi_levels per-level e_n, Cont-Kukanov-Stoikov)
#              summed over the 1 s window, divided by the current top-obi_levels depth
#   2 ofi_5s   the same over 5 s
#   3 cvd_1s   CVD change over 1 s / taker volume over 1 s, in -1..1 (0 without trades)
#   4 cvd_5s   the same over 5 s
#   5 tox_5s   |taker buy - taker sell| / volume over 5 s: the VPIN idea (order-flow toxicity,
#              Easley-Lopez de Prado-O'Hara) on time buckets with the exact trade sides
#              (the engine's VPIN proper needs a per-instrument bucket volume and is off in
#              the signal path)
#   6 ret_1s   mid now / mid at the end of the bucket 4 buckets back (1 s) - 1, in basis
#              points, clipped to +-OM_CLIP
#   7 ret_5s   the same 20 buckets back (5 s)
#   8 spread   (best ask - best bid) / mid in basis points, clipped to 0..OM_CLIP
#   9..14      per detector type (absorption, iceberg, exhaustion, delta_spike, spoof,
#              smart_money): direction (+1 buy / -1 sell) x raw confidence / 100 x freshness,
#              freshness = 1 - age / oracle_window_ns (0 once older): the rule oracle's
#              own memory (engine/det_oracle.pxd)
# What it does NOT do: it has no memory beyond 5 s of flow and the oracle window, no
# cross-venue input, and it knows only what its training recordings showed (the simulator's
# flow, unless trained on real recordings).
from libc.stdint cimport int64_t
from libc.math cimport exp, fabs, floor
from engine.signal cimport SignalOut, emit, SIG_ORACLE, SIG_ABSORPTION, SIG_SMART_MONEY
from engine.det_oracle cimport Oracle

cdef enum:
    OM_NF = 15                 # features
    OM_BUCKETS = 24            # ring of 250 ms buckets (>= 20 + 1 for the 5 s return)
    OM_SHORT = 4               # buckets in the 1 s window
    OM_LONG = 20               # buckets in the 5 s window
    OM_WARM_BUCKETS = 20       # history needed before the first sample
    OM_BUCKET_NS = 250000000   # the bucket: 250 ms of exchange time
    OM_CLIP = 50               # returns, spread (bps) and OFI / depth are clipped to +-this


cdef struct OracleModel:
    bint loaded                # a model is installed: it replaces the rule oracle's eval
    bint collect               # keep every sample's features (training: FlowEngine.oracle_features)
    double bias
    double w[OM_NF]
    double mu[OM_NF]
    double sd[OM_NF]
    int64_t min_conf
    int64_t cooldown_ns
    int64_t sample_ns
    # emission state
    bint emitted
    int64_t last_dir
    int64_t last_ts
    # the bucket ring
    bint started
    int64_t cur                # id (ts // OM_BUCKET_NS) of the newest bucket
    int64_t first              # id of the first bucket seen
    int64_t bid_id[OM_BUCKETS]
    double ofi[OM_BUCKETS]
    int64_t buy[OM_BUCKETS]
    int64_t sell[OM_BUCKETS]
    int64_t mid2[OM_BUCKETS]   # bid + ask at the bucket's end (carried over empty buckets); 0 none
    int64_t last_mid2
    int64_t last_sample        # id (ts // sample_ns) of the last sample taken, -1 none


cdef inline void om_reset(OracleModel* m) noexcept nogil:
    m.started = 0
    m.last_mid2 = 0
    m.last_sample = -1


cdef inline void om_advance(OracleModel* m, int64_t b) noexcept nogil:
    """Move the ring to bucket id b (>= cur), clearing the buckets in between; an empty
    bucket keeps the last mid."""
    cdef int64_t i, s
    if not m.started:
        m.started = 1
        m.first = b
        m.cur = b - 1
        for i in range(OM_BUCKETS):
            m.bid_id[i] = -1
    if b <= m.cur:
        return
    if b - m.cur > OM_BUCKETS:
        m.cur = b - OM_BUCKETS
    i = m.cur + 1
    while i <= b:
        s = i % OM_BUCKETS
        m.bid_id[s] = i
        m.ofi[s] = 0
        m.buy[s] = 0
        m.sell[s] = 0
        m.mid2[s] = m.last_mid2
        i += 1
    m.cur = b


cdef inline void om_message(OracleModel* m, int64_t ts, double ofi, int64_t buy, int64_t sell,
                            int64_t mid2) noexcept nogil:
    """A message ended at exchange time ts: its OFI (summed over levels), taker volumes and
    the book's bid + ask (0: a side is empty)."""
    cdef int64_t s
    if ts < 0:
        ts = 0
    om_advance(m, ts // OM_BUCKET_NS)
    s = m.cur % OM_BUCKETS
    m.ofi[s] += ofi
    m.buy[s] += buy
    m.sell[s] += sell
    if mid2 > 0:
        m.last_mid2 = mid2
        m.mid2[s] = mid2


cdef inline double _clip(double v, double lo, double hi) noexcept nogil:
    return lo if v < lo else (hi if v > hi else v)


cdef inline double _ret(OracleModel* m, int back) noexcept nogil:
    cdef int64_t id = m.cur - back
    cdef int64_t s = id % OM_BUCKETS
    if id < m.first or m.bid_id[s] != id or m.mid2[s] <= 0 or m.last_mid2 <= 0:
        return 0.0
    return _clip(1e4 * (<double>(m.last_mid2 - m.mid2[s])) / m.mid2[s], -OM_CLIP, OM_CLIP)


cdef inline void om_features(OracleModel* m, const Oracle* q, int64_t now, int64_t obi_num,
                             int64_t obi_den, int64_t bid, int64_t ask, int64_t tick,
                             double* x) noexcept nogil:
    """The feature vector (header) at `now` into x[OM_NF]."""
    cdef int k, t
    cdef int64_t s, b1 = 0, s1 = 0, b5 = 0, s5 = 0, age
    cdef double o1 = 0, o5 = 0, den = <double>obi_den if obi_den > 0 else 0.0
    for k in range(OM_LONG):
        s = (m.cur - k) % OM_BUCKETS
        if m.cur - k < 0 or m.bid_id[s] != m.cur - k:
            continue
        o5 += m.ofi[s]
        b5 += m.buy[s]
        s5 += m.sell[s]
        if k < OM_SHORT:
            o1 += m.ofi[s]
            b1 += m.buy[s]
            s1 += m.sell[s]
    x[0] = (<double>obi_num) / den if den > 0 else 0.0
    x[1] = _clip(o1 / den, -OM_CLIP, OM_CLIP) if den > 0 else 0.0
    x[2] = _clip(o5 / den, -OM_CLIP, OM_CLIP) if den > 0 else 0.0
    x[3] = (<double>(b1 - s1)) / (b1 + s1) if b1 + s1 > 0 else 0.0
    x[4] = (<double>(b5 - s5)) / (b5 + s5) if b5 + s5 > 0 else 0.0
    x[5] = fabs(x[4])
    x[6] = _ret(m, OM_SHORT)
    x[7] = _ret(m, OM_LONG)
    x[8] = _clip(2e4 * (<double>(ask - bid)) / (ask + bid), 0.0, OM_CLIP) if bid > 0 and ask > 0 else 0.0
    for t in range(SIG_ABSORPTION, SIG_SMART_MONEY + 1):
        x[8 + t] = 0.0
        if q.dir[t] == 0:
            continue
        age = now - q.ts[t]
        if age < 0:
            age = 0
        if age >= q.p.window_ns:
            continue
        x[8 + t] = q.dir[t] * (q.conf[t] / 100.0) * (1.0 - (<double>age) / q.p.window_ns)


cdef inline double om_logit(const OracleModel* m, const double* x) noexcept nogil:
    cdef int i
    cdef double z = m.bias
    for i in range(OM_NF):
        z += m.w[i] * ((x[i] - m.mu[i]) / m.sd[i])
    return z


cdef inline double om_prob(double z) noexcept nogil:
    """The logistic function, written so neither branch overflows."""
    cdef double e
    if z >= 0:
        return 1.0 / (1.0 + exp(-z))
    e = exp(z)
    return e / (1.0 + e)


cdef inline int64_t om_conf(double p) noexcept nogil:
    """round(100 max(p, 1 - p)), halves up."""
    cdef double c = p if p >= 0.5 else 1.0 - p
    return <int64_t>floor(100.0 * c + 0.5)


cdef inline bint om_due(OracleModel* m, int64_t now) noexcept nogil:
    """Whether a sample is taken at this message end (and mark it taken)."""
    cdef int64_t sid
    if not m.started or m.cur - m.first < OM_WARM_BUCKETS or m.sample_ns <= 0:
        return 0
    sid = now // m.sample_ns
    if sid <= m.last_sample:
        return 0
    m.last_sample = sid
    return 1


cdef inline void om_emit(OracleModel* m, const Oracle* q, int64_t now, const double* x,
                         int64_t price, SignalOut* o) noexcept nogil:
    """Evaluate the installed model on x and emit the oracle signal when it is confident."""
    cdef double z = om_logit(m, x)
    cdef double p = om_prob(z)
    cdef int64_t conf = om_conf(p), sdir = 1 if p >= 0.5 else -1
    cdef int t, types = 0, agree = 0, mask = 0
    cdef int64_t age
    if conf < m.min_conf:
        return
    if m.emitted and sdir == m.last_dir and now - m.last_ts < m.cooldown_ns:
        return
    for t in range(SIG_ABSORPTION, SIG_SMART_MONEY + 1):
        if q.dir[t] == 0:
            continue
        age = now - q.ts[t]
        if age < q.p.window_ns:
            types += 1
            mask |= 1 << t
            if q.dir[t] == sdir:
                agree += 1
    emit(o, SIG_ORACLE, 1 if sdir > 0 else 2, price, conf, types, agree, mask,
         <int64_t>floor(1000.0 * z + 0.5), 1, 0)
    m.emitted = 1
    m.last_dir = sdir
    m.last_ts = now
