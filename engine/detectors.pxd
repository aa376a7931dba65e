# The six detectors and the oracle, composed: what the flow engine calls per trade, per book
# record and per message end. Each detector is one function family in its own file
# (engine/det_*.pxd) whose header gives its definition, parameters and facts.
from libc.stdint cimport int64_t
from libc.string cimport memset
from engine.detctx cimport DetCtx, ctx_on_trade, ctx_fold_order
from engine.signal cimport SignalOut, SIG_ORACLE
from engine.det_absorption cimport Absorption, absorption_trade, absorption_message
from engine.det_iceberg cimport Iceberg, iceberg_trade, iceberg_level, iceberg_clear, iceberg_message
from engine.det_exhaustion cimport Exhaustion, exhaustion_trade, exhaustion_message
from engine.det_delta_spike cimport DeltaSpike, delta_spike_trade
from engine.det_spoof cimport Spoof, spoof_trade, spoof_message, spoof_reset
from engine.det_smart_money cimport SmartMoney, smart_money_order
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


cdef inline void det_close_order(Detectors* d, SignalOut* o) noexcept nogil:
    """The aggressive order assembled from prints is complete: size-based detectors see it."""
    cdef DetCtx* c = &d.ctx
    if d.on_smart_money:
        smart_money_order(&d.smart_money, c, c.ord_side, c.ord_px, c.ord_qty, c.ord_ts, o)
    ctx_fold_order(c, c.ord_qty)
    c.ord_open = 0


cdef inline void det_trade(Detectors* d, int taker, int64_t px, int64_t q, int64_t ts, SignalOut* o) noexcept nogil:
    """A print with a known taker side (1 buy, 2 sell), q > 0, ts >= 0."""
    cdef Py_ssize_t first = o.n
    cdef DetCtx* c = &d.ctx
    if c.ord_open and (taker != c.ord_side or ts != c.ord_ts):
        det_close_order(d, o)
    ctx_on_trade(c, q, ts)
    if d.on_absorption:
        absorption_trade(&d.absorption, c, taker, px, q, ts)
    if d.on_iceberg:
        iceberg_trade(&d.iceberg, c, &d.absorption, o, taker, px, q, ts)
    if d.on_exhaustion:
        exhaustion_trade(&d.exhaustion, c, taker, px, q, ts)
    if d.on_delta_spike:
        delta_spike_trade(&d.delta_spike, c, taker, px, q, ts, o)
    if d.on_spoof:
        spoof_trade(&d.spoof, taker, px, q)
    if c.ord_open:
        c.ord_qty += q
    else:
        c.ord_open = 1
        c.ord_side = taker
        c.ord_ts = ts
        c.ord_qty = q
    c.ord_px = px
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
    if d.ctx.ord_open and d.ctx.now_ns > d.ctx.ord_ts:
        det_close_order(d, o)
    if d.on_absorption:
        absorption_message(&d.absorption, &d.ctx, o)
    if d.on_iceberg:
        iceberg_message(&d.iceberg, &d.ctx, &d.absorption, o)
    if d.on_exhaustion:
        exhaustion_message(&d.exhaustion, &d.ctx, o)
    if d.on_spoof and book_changed:
        spoof_message(&d.spoof, &d.ctx, o)
    det_feed_oracle(d, o, first)
