# VPIN: volume-synchronized probability of informed trading.
#
# Reference: D. Easley, M. M. Lopez de Prado, M. O'Hara, "Flow Toxicity and Liquidity in a
# High-Frequency World", Review of Financial Studies 25(5), 2012, section 2.
#
# 1. Bars. Trades are grouped into bars: with bar_ns = 0 every trade record is its own bar;
#    with bar_ns > 0 a bar holds the trades whose exchange timestamp falls in the same
#    [k*bar_ns, (k+1)*bar_ns) interval (the paper uses one-minute bars). A time bar closes
#    when the first trade of a later bar arrives (a timestamp that goes backwards stays in
#    the open bar). Bars without trades do not exist. Trades of every aggressor side count,
#    including unknown: bulk volume classification needs no side.
# 2. Bulk volume classification (BVC). For each bar after the first, dP = close price minus
#    the previous bar's close (integer price units). sigma is the population standard
#    deviation of the last W values of dP, this bar's included (W = sigma_bars):
#    sigma^2 = (c*S2 - S1^2) / c^2 with c values, S1 = sum dP, S2 = sum dP^2 (exact integers).
#    The bar's buy fraction is Phi(dP / sigma), Phi the standard normal CDF, computed in IEEE
#    double as 0.5*erfc(-z/sqrt 2) with z = (dP*c)/sqrt(c*S2 - S1^2), then truncated to
#    PHI_BITS = 20 binary places: phi_q = floor(Phi * 2^20). When c*S2 - S1^2 = 0 (fewer than
#    two distinct values in the window) Phi is the limit step: 1 if dP > 0, 0 if dP < 0, 1/2
#    if dP = 0. The first bar has no dP and gets Phi = 1/2; it adds nothing to the window.
#    This is the only floating-point step; everything after it is exact integer arithmetic
#    in units of 2^-20 of a quantity unit.
# 3. Buckets. Bar volume fills equal-volume buckets of V (bucket_volume, quantity units) in
#    order; a bar that straddles a boundary is split, each part keeping the bar's buy fraction.
#    For a full bucket, B = sum(part volume * phi_q) and the imbalance is
#    |V_sell - V_buy| = |V*2^20 - 2B| (in 2^-20 units).
# 4. VPIN over the last n buckets (n = window): VPIN = sum |V_sell - V_buy| / (n*V), emitted
#    as an exact fraction (num, den = n*V*2^20) each time a bucket completes once at least n
#    buckets exist (before that there is no VPIN: the estimator is defined over n buckets).
#
# What it does NOT say: VPIN is a toxicity estimate over many buckets, not an event
# detector -- it names no side, no level and no moment (it lags by construction, one
# bucket of volume at least); bulk classification guesses the sides from price changes, so
# on flat prices it reads one half each whatever the aggressors were.
#
# Limits (checked when the engine is built): V*n*2^20 < 2^63, so V*n < 2^43.
from libc.stdint cimport int64_t, uint32_t
from libc.stdlib cimport malloc, free
from libc.math cimport sqrt, erfc, M_SQRT1_2
from engine.int128 cimport int128_t

cdef enum:
    VPIN_PHI_BITS = 20
    VPIN_PHI_ONE = 1 << 20
    VPIN_PHI_HALF = 1 << 19
    VPIN_WINDOW_MAX = 1 << 16
    VPIN_SIGMA_BARS_MAX = 1 << 16

# One completed bucket: emitted into a caller-owned array (nexus.flow.dtypes.VPIN_DTYPE).
cdef packed struct VpinRow:
    int64_t msg             # message ordinal of the message whose record completed the bucket
    int64_t rec             # ordinal of that record
    int64_t ts_exchange_ns
    int64_t bucket          # 0-based ordinal of the completed bucket
    int64_t num             # VPIN = num / den exactly
    int64_t den

cdef struct Vpin:
    # parameters
    int64_t bucket_volume
    int64_t window
    int64_t sigma_bars
    int64_t bar_ns
    # the open bar (time bars only)
    bint bar_open
    int64_t bar_id
    int64_t bar_volume
    int64_t bar_close_px
    # BVC
    bint have_prev_close
    int64_t prev_close_px
    int64_t* dp_ring
    int64_t dp_count
    int64_t dp_pos
    int64_t s1
    int128_t s2
    # buckets
    int64_t filled
    int64_t buy_fp
    int64_t* imb_ring
    int64_t buckets
    int64_t imb_sum


cdef inline int vpin_init(Vpin* v, int64_t bucket_volume, int64_t window, int64_t sigma_bars, int64_t bar_ns) noexcept nogil:
    """0, or -1 when memory runs out. Parameters are validated by the caller."""
    v.bucket_volume = bucket_volume
    v.window = window
    v.sigma_bars = sigma_bars
    v.bar_ns = bar_ns
    v.bar_open = 0
    v.bar_id = 0
    v.bar_volume = 0
    v.bar_close_px = 0
    v.have_prev_close = 0
    v.prev_close_px = 0
    v.dp_count = 0
    v.dp_pos = 0
    v.s1 = 0
    v.s2 = 0
    v.filled = 0
    v.buy_fp = 0
    v.buckets = 0
    v.imb_sum = 0
    v.dp_ring = <int64_t*>malloc(sigma_bars * sizeof(int64_t))
    v.imb_ring = <int64_t*>malloc(window * sizeof(int64_t))
    return 0 if (v.dp_ring != NULL and v.imb_ring != NULL) else -1


cdef inline void vpin_free(Vpin* v) noexcept nogil:
    free(v.dp_ring)
    free(v.imb_ring)
    v.dp_ring = NULL
    v.imb_ring = NULL


cdef inline int64_t vpin_phi_q(int64_t dp, int64_t c, int64_t s1, int128_t s2) noexcept nogil:
    """floor(Phi(z) * 2^20) for z = dp / sigma over a window of c values (see the header)."""
    cdef int128_t num = <int128_t>c * s2 - <int128_t>s1 * s1
    cdef double z, phi
    if num <= 0:
        if dp > 0:
            return VPIN_PHI_ONE
        if dp < 0:
            return 0
        return VPIN_PHI_HALF
    z = (<double>dp * <double>c) / sqrt(<double>num)
    phi = 0.5 * erfc(-z * M_SQRT1_2)
    return <int64_t>(phi * VPIN_PHI_ONE)


cdef inline int64_t vpin_classify(Vpin* v, int64_t close_px) noexcept nogil:
    """The buy fraction (2^-20 units) of a bar closing at close_px; updates the dP window."""
    cdef int64_t dp, old
    if not v.have_prev_close:
        v.have_prev_close = 1
        v.prev_close_px = close_px
        return VPIN_PHI_HALF
    dp = close_px - v.prev_close_px
    v.prev_close_px = close_px
    if v.dp_count == v.sigma_bars:
        old = v.dp_ring[v.dp_pos]
        v.s1 -= old
        v.s2 -= <int128_t>old * old
    else:
        v.dp_count += 1
    v.dp_ring[v.dp_pos] = dp
    v.dp_pos += 1
    if v.dp_pos == v.sigma_bars:
        v.dp_pos = 0
    v.s1 += dp
    v.s2 += <int128_t>dp * dp
    return vpin_phi_q(dp, v.dp_count, v.s1, v.s2)


cdef inline Py_ssize_t vpin_fill(Vpin* v, int64_t volume, int64_t phi_q, VpinRow* out,
                                 int64_t msg, int64_t rec, int64_t ts) noexcept nogil:
    """Pour one classified bar into the buckets; writes a row per completed bucket once the
    window is full. Returns the number of rows written (the caller guarantees room for
    volume // bucket_volume + 1)."""
    cdef Py_ssize_t written = 0
    cdef int64_t take, imb, slot
    while volume > 0:
        take = v.bucket_volume - v.filled
        if take > volume:
            take = volume
        v.filled += take
        v.buy_fp += take * phi_q
        volume -= take
        if v.filled == v.bucket_volume:
            imb = v.bucket_volume * VPIN_PHI_ONE - 2 * v.buy_fp
            if imb < 0:
                imb = -imb
            slot = v.buckets % v.window
            if v.buckets >= v.window:
                v.imb_sum -= v.imb_ring[slot]
            v.imb_ring[slot] = imb
            v.imb_sum += imb
            if v.buckets + 1 >= v.window:
                out[written].msg = msg
                out[written].rec = rec
                out[written].ts_exchange_ns = ts
                out[written].bucket = v.buckets
                out[written].num = v.imb_sum
                out[written].den = v.window * v.bucket_volume * VPIN_PHI_ONE
                written += 1
            v.buckets += 1
            v.filled = 0
            v.buy_fp = 0
    return written


cdef inline Py_ssize_t vpin_room(const Vpin* v, int64_t qty) noexcept nogil:
    """Upper bound on the rows one trade of `qty` can complete (with an open time bar)."""
    cdef int64_t pending = qty + v.filled + (v.bar_volume if v.bar_open else 0)
    return <Py_ssize_t>(pending // v.bucket_volume + 2)


cdef inline Py_ssize_t vpin_trade(Vpin* v, int64_t price, int64_t qty, int64_t ts, VpinRow* out,
                                  int64_t msg, int64_t rec) noexcept nogil:
    """Fold one trade in; returns the number of VPIN rows written to `out`."""
    cdef int64_t bar_id
    cdef Py_ssize_t written = 0
    if qty <= 0:
        return 0
    if v.bar_ns == 0:
        return vpin_fill(v, qty, vpin_classify(v, price), out, msg, rec, ts)
    bar_id = ts // v.bar_ns
    if v.bar_open and bar_id > v.bar_id:
        written = vpin_fill(v, v.bar_volume, vpin_classify(v, v.bar_close_px), out, msg, rec, ts)
        v.bar_open = 0
    if not v.bar_open:
        v.bar_open = 1
        v.bar_id = bar_id
        v.bar_volume = 0
    v.bar_volume += qty
    v.bar_close_px = price
    return written
