# Detector output: one SIGNAL record (kind 5) per signal, plus a row of facts beside it.
#
# The record (the same 64 bytes as every market event, so it can go onto a ring and into the
# view): kind = KIND_SIGNAL, aux = signal type (below), side = 1 buy / 2 sell (the direction
# the signal points to), price = the level or trade price it is about, qty = confidence
# 0..100, ts_local_ns / venue_id / instrument_id = those of the record that triggered it,
# ts_exchange_ns = that record's exchange time, or where it has none the latest one seen
# (signal_ts below), seq = the message ordinal, trade_id = the record ordinal, flags = F_LAST.
# The facts row (nexus.flow.dtypes.FACTS_DTYPE) holds up to SIGNAL_FACTS integers whose
# meaning per signal type is listed in nexus/flow/signals.py (FACT_NAMES) and in each
# detector's header.
from libc.stdint cimport int64_t, uint64_t, uint32_t, uint16_t, uint8_t
from engine.record cimport Record, KIND_SIGNAL, F_LAST

cdef enum:
    SIG_ABSORPTION = 1
    SIG_ICEBERG = 2
    SIG_EXHAUSTION = 3
    SIG_DELTA_SPIKE = 4
    SIG_SPOOF = 5
    SIG_SMART_MONEY = 6
    SIG_ORACLE = 7
    SIG_TYPES = 8            # array size for per-type tables (index 0 unused)
    SIGNAL_FACTS = 6
    # Room the engine keeps free in the signal buffer before each record: no detector step
    # can emit more than this (spoof: 2 sides x SPOOF_WALLS_MAX, plus the others, plus oracle).
    SIGNALS_PER_RECORD_MAX = 48

cdef packed struct SignalFacts:
    int64_t f[SIGNAL_FACTS]

cdef struct SignalOut:
    Record* recs
    SignalFacts* facts
    Py_ssize_t n
    Py_ssize_t cap
    int64_t dropped
    # provenance of the record being processed
    int64_t msg
    int64_t rec
    int64_t ts
    int64_t ts_local
    uint32_t instrument_id
    uint16_t venue_id


cdef inline int64_t signal_ts(int64_t ts_exchange_ns, int64_t now_ns, int64_t ts_local_ns) noexcept nogil:
    """The exchange time a signal carries: its record's, or -- for a record without one
    (Bitfinex's and dYdX's book messages carry none) -- the latest exchange time the engine
    has seen (`now_ns`, from trades and other venues' records), or the receive time when it has
    seen none yet. A signal stamped 0 would fall outside every time window it is matched in."""
    if ts_exchange_ns > 0:
        return ts_exchange_ns
    if now_ns > 0:
        return now_ns
    return ts_local_ns


cdef inline int64_t clamp_conf(int64_t c) noexcept nogil:
    if c < 0:
        return 0
    if c > 100:
        return 100
    return c


cdef inline int64_t conf_ratio(int64_t threshold, int64_t value) noexcept nogil:
    """Confidence from how far `value` passed `threshold` (both > 0, value >= threshold):
    100 - 50 * threshold / value, so just at the threshold is 50 (below the auto-trader's
    default minimum of 65), twice the threshold 75, four times 88, approaching 100."""
    if value <= 0 or threshold <= 0:
        return 50
    return clamp_conf(100 - (50 * threshold) // value)


cdef inline void emit(SignalOut* o, uint32_t sig_type, uint8_t side, int64_t price, int64_t conf,
                      int64_t f0, int64_t f1, int64_t f2, int64_t f3, int64_t f4, int64_t f5) noexcept nogil:
    cdef Record* r
    cdef SignalFacts* f
    if o.n >= o.cap:
        o.dropped += 1
        return
    r = &o.recs[o.n]
    r.ts_exchange_ns = o.ts
    r.ts_local_ns = o.ts_local
    r.price = price
    r.qty = clamp_conf(conf)
    r.seq = <uint64_t>o.msg
    r.trade_id = <uint64_t>o.rec
    r.instrument_id = o.instrument_id
    r.aux = sig_type
    r.venue_id = o.venue_id
    r.kind = KIND_SIGNAL
    r.flags = F_LAST
    r.side = side
    r._pad[0] = 0
    r._pad[1] = 0
    r._pad[2] = 0
    f = &o.facts[o.n]
    f.f[0] = f0
    f.f[1] = f1
    f.f[2] = f2
    f.f[3] = f3
    f.f[4] = f4
    f.f[5] = f5
    o.n += 1
