# Smart money: persistent large-lot accumulation or distribution.
#
# What it means to a trader: one patient participant keeps taking size in one direction --
# many large market orders on the same side over a minute rather than one block. Points in
# the direction of the large lots (accumulation: buy, distribution: sell).
#
# Source: Kyle, "Continuous Auctions and Insider Trading", Econometrica 1985 (an informed
# trader spreads his demand over time to hide it); Easley and O'Hara, "Price, Trade Size, and
# Information in Securities Markets", JFE 1987 (larger trades are more likely informed);
# Harris, *Trading and Exchanges* (2003), on informed traders and order splitting.
#
# What it does NOT detect: stealth trading in ordinary or medium-size orders (Barclay and
# Warner, JFE 1993: informed traders favour medium sizes, which stay under the large-lot
# threshold here); accumulation through passive (resting) orders, which a trade feed shows
# as the other side's aggression; a single block (one lot is not persistence); who the
# participant is (many large traders leaning the same way read as one).
#
# Definition. Detectors see aggressive ORDERS: consecutive prints with the same taker side
# and exchange timestamp are one order (engine/detctx.pxd), so a market order that sweeps
# three levels is one lot, not three small ones.
#   * Large lot. The venue's typical order M is the median size of its last
#     order_median_window orders (engine/ordersize.pxd, kept in engine/detctx.pxd). An order
#     is a large lot when q >= T = max(min_qty, mult_pct % of M, 1), once min_orders orders
#     are in that window; the order is measured before it joins the window. A median, not
#     a mean nor a top rank: a patient accumulator's own lots (or an earlier one's, 15-20
#     orders of one size) are ~1 % of a 2000-order window -- enough to inflate a mean on a
#     quiet venue and to fill the top per cent of the ranking so its next lots no longer
#     rank, never enough to move the median.
#   * Background. Large lots of random sides arrive all the time on a busy venue (about 1 %
#     of its orders are 10x its median). Exchange time is cut into fixed bins of window_ns;
#     the last base_windows completed bins give 2 * base_windows per-side counts of large
#     lots, and the background B is their median (the upper one): a robust long-run rate --
#     bins that held an accumulation (one side, one or two bins) or a burst do not move it,
#     where the plain average over five minutes was inflated by the venue's own earlier
#     patterns to twice its calm rate. In the sliding window of the last window_ns, n_d and
#     n_o are the large lots in the lot's direction d and the other one, Q_d, Q_o their
#     quantities; E = max(B, n_o, 1) is the count expected on one side by chance.
#   * It fires after a large lot in direction d when n_d - n_o >= min_count (a persistent
#     excess, not a burst of a few) and n_d - E >= z_x100/100 * sqrt(E) (n_d beyond chance
#     for a Poisson count of mean E), and the volume imbalance (Q_d - Q_o) / (Q_d + Q_o) >=
#     imbalance_pct % (0: no condition); at most once per direction per cooldown_ns. The
#     sign test used before (n_d - n_o against sqrt(n_d + n_o)) measured the background by
#     the other side's count alone, whose own noise hid ~17 lots among ~11 random ones per
#     side on the busiest venue.
#   Integer arithmetic: E in milli-lots E_m, need = z_x100 * isqrt(E_m * 1000) / 100.
# Confidence: the mean of conf_ratio(min_count, n_d - n_o) and conf_ratio(need, n_d - E).
# Facts: net large quantity Q_d - Q_o, large lots in d, large lots the other way, the
# background E per side (x1000), T, net large-lot count n_d - n_o.
from libc.stdint cimport int64_t
from engine.params cimport SmartMoneyParams   # generated from nexus/flow/params.py
from libc.math cimport sqrt
from engine.detctx cimport DetCtx, ctx_warm, ctx_median_order
from engine.signal cimport SignalOut, emit, conf_ratio, SIG_SMART_MONEY
from engine.sortbuf cimport sorted_insert

cdef enum:
    SM_RING = 1024              # large lots of the window (a power of two)
    SM_BINS_MAX = 64            # base_windows at most

cdef struct SmartMoney:
    SmartMoneyParams p
    # large lots of the window: positions wh (oldest) .. tail (next)
    int64_t r_ts[SM_RING]
    int64_t r_q[SM_RING]           # signed: + buy, - sell
    int64_t tail
    int64_t wh
    # per-side large-lot counts of the last base_windows completed bins, and the current one
    int64_t bins[2 * SM_BINS_MAX]
    int64_t nbins                  # completed bins held (<= base_windows)
    int64_t bin_head               # oldest held bin (its two counts at 2 * bin_head)
    int64_t bin_id
    int64_t cur[3]
    int64_t q[3]
    int64_t n[3]
    int64_t last_fire_ts[3]
    bint ever_fired[3]
    bint started


cdef inline int64_t sm_isqrt(int64_t v) noexcept nogil:
    """floor(sqrt(v)) for 0 <= v < 2^52, exact (corrected after the double estimate)."""
    cdef int64_t r
    if v <= 0:
        return 0
    r = <int64_t>sqrt(<double>v)
    while r * r > v:
        r -= 1
    while (r + 1) * (r + 1) <= v:
        r += 1
    return r


cdef inline void sm_drop_window(SmartMoney* m) noexcept nogil:
    cdef int64_t old = m.r_q[m.wh & (SM_RING - 1)]
    if old > 0:
        m.q[1] -= old
        m.n[1] -= 1
    else:
        m.q[2] += old
        m.n[2] -= 1
    m.wh += 1


cdef inline void sm_close_bin(SmartMoney* m) noexcept nogil:
    cdef int64_t slot
    if m.nbins == m.p.base_windows:
        m.bin_head += 1
        if m.bin_head == m.p.base_windows:
            m.bin_head = 0
        m.nbins -= 1
    slot = (m.bin_head + m.nbins) % m.p.base_windows
    m.bins[2 * slot] = m.cur[1]
    m.bins[2 * slot + 1] = m.cur[2]
    m.nbins += 1
    m.cur[1] = 0
    m.cur[2] = 0


cdef inline int64_t sm_background(SmartMoney* m) noexcept nogil:
    """The upper median of the held bins' per-side counts (0 with none)."""
    cdef int64_t v[2 * SM_BINS_MAX]
    cdef int64_t k = 2 * m.nbins, i
    if k == 0:
        return 0
    for i in range(k):
        sorted_insert(v, i, m.bins[2 * ((m.bin_head + i // 2) % m.p.base_windows) + (i & 1)])
    return v[k // 2]


cdef inline void smart_money_order(SmartMoney* m, DetCtx* c, int taker, int64_t px, int64_t q, int64_t ts, SignalOut* o) noexcept nogil:
    cdef int64_t thr, mine, other, net, e_m, need, excess, b, gap
    cdef bint ranked = c.sizes.n >= m.p.min_orders and c.sizes.n > 0
    thr = m.p.mult_pct * ctx_median_order(c) // 100
    b = ts // m.p.window_ns
    if not m.started:
        m.started = 1
        m.bin_id = b
    gap = b - m.bin_id
    if gap > m.p.base_windows:          # a long silence: only the last base_windows bins matter
        m.bin_id = b - m.p.base_windows
    while m.bin_id < b:
        sm_close_bin(m)
        m.bin_id += 1
    if not ctx_warm(c):
        return
    if thr < m.p.min_qty:
        thr = m.p.min_qty
    if thr < 1:
        thr = 1
    while m.wh < m.tail and (m.tail - m.wh == SM_RING or ts - m.r_ts[m.wh & (SM_RING - 1)] > m.p.window_ns):
        sm_drop_window(m)
    if q < thr or not ranked:
        return
    m.cur[taker] += 1
    m.r_ts[m.tail & (SM_RING - 1)] = ts
    m.r_q[m.tail & (SM_RING - 1)] = q if taker == 1 else -q
    m.tail += 1
    m.q[taker] += q
    m.n[taker] += 1
    mine = m.q[taker]
    other = m.q[3 - taker]
    net = m.n[taker] - m.n[3 - taker]
    if net < m.p.min_count:
        return
    e_m = sm_background(m)
    if e_m < m.n[3 - taker]:
        e_m = m.n[3 - taker]
    if e_m < 1:
        e_m = 1
    e_m *= 1000
    need = m.p.z_x100 * sm_isqrt(e_m * 1000) // 100
    excess = m.n[taker] * 1000 - e_m
    if excess < need or excess <= 0:
        return
    if (mine - other) * 100 < m.p.imbalance_pct * (mine + other):
        return
    if m.ever_fired[taker] and ts - m.last_fire_ts[taker] < m.p.cooldown_ns:
        return
    emit(o, SIG_SMART_MONEY, taker, px,
         (conf_ratio(m.p.min_count, net) + conf_ratio(need if need > 0 else 1, excess)) // 2,
         mine - other, m.n[taker], m.n[3 - taker], e_m, thr, net)
    m.ever_fired[taker] = 1
    m.last_fire_ts[taker] = ts
