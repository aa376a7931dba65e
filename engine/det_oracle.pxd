# Oracle: one direction and confidence from the other detectors' recent signals.
#
# What it means to a trader: the consensus of the six signal types. It is emitted like any
# signal but is OFF by default for trading: nexus.flow.signals.TRADE_DEFAULT leaves it out,
# as the seed's auto-trader does ("Oracle prediction -- off by default").
#
# Definition. The oracle keeps, per signal type t, the most recent signal: direction
# s_t = +1 (buy) / -1 (sell), confidence c_t, time and price. A signal is fresh while its
# age a_t < window_ns, with weight f_t = window_ns - a_t (linear decay). After any detector
# signal, with w_t the configured type weights:
#     score = sum_t w_t s_t c_t f_t,   norm = sum_t w_t f_t     (fresh types only)
#     confidence = |score| // norm  (0..100: a weighted mean of signed confidences)
# It emits (side = sign of score, price = the newest fresh signal's price) when at least
# min_types types are fresh, confidence >= min_conf, and the direction differs from the last
# oracle signal or cooldown_ns has passed since it. Facts: fresh types, types agreeing with
# the result, bit mask of fresh types (1 << t), score // window_ns, model 0.
#
# This is the RULE oracle, the default. A learned model (engine/oracle_model.pxd, trained by
# `nexus signals oracle-train`) can be installed instead (FlowEngine.set_oracle_model;
# `signals replay --oracle learned|FILE`): `learned` is then set, oracle_eval stays silent,
# and this struct only keeps the other detectors' latest signals, which the model reads.
from libc.stdint cimport int64_t
from engine.params cimport OracleParams   # generated from nexus/flow/params.py
from engine.signal cimport (SignalOut, emit, SIG_ORACLE, SIG_TYPES, SIG_ABSORPTION,
                            SIG_SMART_MONEY)

cdef struct Oracle:
    OracleParams p
    int64_t dir[SIG_TYPES]
    int64_t conf[SIG_TYPES]
    int64_t ts[SIG_TYPES]
    int64_t px[SIG_TYPES]
    bint emitted
    int64_t last_dir
    int64_t last_ts
    bint learned             # a learned model is installed (engine/oracle_model.pxd): it
                             # speaks instead; this struct still keeps the signals it reads


cdef inline void oracle_note(Oracle* q, int sig_type, int side, int64_t conf, int64_t px, int64_t ts) noexcept nogil:
    q.dir[sig_type] = 1 if side == 1 else -1
    q.conf[sig_type] = conf
    q.ts[sig_type] = ts
    q.px[sig_type] = px


cdef inline void oracle_eval(Oracle* q, int64_t now, SignalOut* o) noexcept nogil:
    cdef int t, types = 0, agree = 0, mask = 0
    cdef int64_t score = 0, norm = 0, f, age, conf, sdir, newest_ts = -1, price = 0
    if q.learned:
        return
    for t in range(SIG_ABSORPTION, SIG_SMART_MONEY + 1):
        if q.dir[t] == 0:
            continue
        age = now - q.ts[t]
        if age < 0:
            age = 0
        if age >= q.p.window_ns:
            continue
        f = q.p.window_ns - age
        score += q.p.weights[t - 1] * q.dir[t] * q.conf[t] * f
        norm += q.p.weights[t - 1] * f
        types += 1
        mask |= 1 << t
        if q.ts[t] > newest_ts:
            newest_ts = q.ts[t]
            price = q.px[t]
    if types < q.p.min_types or norm <= 0 or score == 0:
        return
    sdir = 1 if score > 0 else -1
    conf = (score if score > 0 else -score) // norm
    if conf < q.p.min_conf:
        return
    if q.emitted and sdir == q.last_dir and now - q.last_ts < q.p.cooldown_ns:
        return
    for t in range(SIG_ABSORPTION, SIG_SMART_MONEY + 1):
        if (mask >> t) & 1 and q.dir[t] == sdir:
            agree += 1
    emit(o, SIG_ORACLE, 1 if sdir > 0 else 2, price, conf, types, agree, mask,
         score // q.p.window_ns if score > 0 else -((-score) // q.p.window_ns), 0, 0)
    q.emitted = 1
    q.last_dir = sdir
    q.last_ts = now
