# The six detectors and the oracle, composed: what the flow engine calls per trade, per book
# record and per message end. Each detector is one function family in its own file
# (engine/det_*.pxd) whose header gives its definition, parameters and facts.
from libc.stdint cimport int64_t
from libc.string cimport memset
from engine.detctx cimport DetCtx, ctx_on_trade, ctx_on_book
from engine.signal cimport SignalOut, SIG_ORACLE
from engine.det_absorption cimport Absorption, absorption_trade, absorption_message
from engine.det_iceberg cimport Iceberg, iceberg_trade, iceberg_level, iceberg_clear, iceberg_message
from engine.det_exhaustion cimport Exhaustion, exhaustion_trade, exhaustion_message
from engine.det_delta_spike cimport DeltaSpike, delta_spike_trade
from engine.det_spoof cimport Spoof, spoof_trade, spoof_message, spoof_reset
from engine.det_smart_money cimport SmartMoney, smart_money_trade
from engine.det_oracle cimport Oracle, oracle_note, oracle_eval

cdef struct Detectors:
    DetCtx ctx
    bint on_absorption
    bint on_iceberg
    bint on_exhaustion
    bint on_delta_spike
    bint on_spoof
    bint on_smart_money
    bint on_oracle
    Absorption absorption
    Iceberg iceberg
    Exhaustion exhaustion
    DeltaSpike delta_spike
    Spoof spoof
    SmartMoney smart_money
    Oracle oracle


cdef inline void det_feed_oracle(Detectors* d, SignalOut* o, Py_ssize_t first) noexcept nogil:
    """Show the signals emitted since index `first` to the oracle, then let it speak."""
    cdef Py_ssize_t i
    cdef bint any_new = 0
    if not d.on_oracle:
        return
    for i in range(first, o.n):
        if o.recs[i].aux == SIG_ORACLE:
            continue
        oracle_note(&d.oracle, o.recs[i].aux, o.recs[i].side, o.recs[i].qty, o.recs[i].price, d.ctx.now_ns)
        any_new = 1
    if any_new:
        oracle_eval(&d.oracle, d.ctx.now_ns, o)


cdef inline void det_trade(Detectors* d, int taker, int64_t px, int64_t q, int64_t ts, SignalOut* o) noexcept nogil:
    """A trade with a known taker side (1 buy, 2 sell) and q > 0."""
    cdef Py_ssize_t first = o.n
    if d.on_absorption:
        absorption_trade(&d.absorption, &d.ctx, taker, px, q, ts)
    if d.on_iceberg:
        iceberg_trade(&d.iceberg, &d.ctx, taker, px, q, ts)
    if d.on_exhaustion:
        exhaustion_trade(&d.exhaustion, &d.ctx, taker, px, q, ts)
    if d.on_delta_spike:
        delta_spike_trade(&d.delta_spike, &d.ctx, taker, px, q, ts, o)
    if d.on_spoof:
        spoof_trade(&d.spoof, taker, px, q)
    if d.on_smart_money:
        smart_money_trade(&d.smart_money, &d.ctx, taker, px, q, ts, o)
    ctx_on_trade(&d.ctx, q)
    det_feed_oracle(d, o, first)


cdef inline void det_level(Detectors* d, int side, int64_t price) noexcept nogil:
    if d.on_iceberg:
        iceberg_level(&d.iceberg, side, price)


cdef inline void det_clear(Detectors* d, int side) noexcept nogil:
    if d.on_iceberg:
        iceberg_clear(&d.iceberg, side)


cdef inline void det_resync(Detectors* d) noexcept nogil:
    """The venue marked a resync: book changes in this message are not flow."""
    spoof_reset(&d.spoof)


cdef inline void det_message(Detectors* d, bint book_changed, SignalOut* o) noexcept nogil:
    """End of a message, after the book and the metrics were updated."""
    cdef Py_ssize_t first = o.n
    if book_changed:
        ctx_on_book(&d.ctx)
    if d.on_absorption:
        absorption_message(&d.absorption, &d.ctx, o)
    if d.on_iceberg:
        iceberg_message(&d.iceberg, &d.ctx, o)
    if d.on_exhaustion:
        exhaustion_message(&d.exhaustion, &d.ctx, o)
    if d.on_spoof and book_changed:
        spoof_message(&d.spoof, &d.ctx, o)
    det_feed_oracle(d, o, first)
