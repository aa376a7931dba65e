# Smart money: persistent large-lot accumulation or distribution.
#
# What it means to a trader: one patient participant keeps taking size in one direction --
# many large market orders on the same side over a minute rather than one block. Points in
# the direction of the large lots (accumulation: buy, distribution: sell).
#
# Definition. Detectors see aggressive ORDERS: consecutive prints with the same taker side
# and exchange timestamp are one order (engine/detctx.pxd), so a market order that sweeps
# three levels is one lot, not three small ones. An order is a large lot when its quantity
# is >= T = max(min_qty, mult_pct % of the average order size) (the average before this
# order) AND it is in the top of the venue's own recent order sizes: fewer than top_permille
# per mille of the last size_window orders (at least min_orders of them seen) are in a
# higher size bucket (buckets of an eighth of an octave: 8 * floor(log2 q) + the next three
# bits of q; the order is ranked before it joins the window). A multiple of the average is
# not enough on a busy venue, where ~1 % of the background orders exceed 10x the median on
# both sides and hid a patient accumulator's lots from the sign test; the rank adapts to
# each venue's own size distribution. Large lots enter a rolling window of window_ns (at
# most SM_RING lots). After a large lot in direction d it fires when, with n_d and n_o the large lots in d and in the
# other direction in the window, n_d - n_o >= min_count and the excess is persistent beyond
# chance: n_d - n_o >= z_x100/100 * sqrt(n_d + n_o) (a sign test: on a busy venue large lots
# of random sides are common, and a real accumulator stands out of them), and the volume
# imbalance (Q_d - Q_o) / (Q_d + Q_o) >= imbalance_pct %; at most once per direction per
# cooldown_ns. Confidence: the mean of conf_ratio(min_count, n_d - n_o) and
# conf_ratio(imbalance_pct, imbalance %). Facts: net large quantity Q_d - Q_o, large lots in
# d, total large quantity, age of the oldest lot (ns), T, net large-lot count n_d - n_o.
from libc.stdint cimport int64_t
from engine.detctx cimport DetCtx, ctx_avg_order, ctx_warm
from engine.signal cimport SignalOut, emit, conf_ratio, SIG_SMART_MONEY

cdef extern from *:
    int __builtin_clzll(unsigned long long) nogil

cdef enum:
    SM_RING = 1024
    SM_SIZE_RING = 8192
    SM_BUCKETS = 512

cdef struct SmartMoneyParams:
    int64_t mult_pct
    int64_t min_qty
    int64_t window_ns
    int64_t min_count
    int64_t imbalance_pct
    int64_t z_x100
    int64_t cooldown_ns
    int64_t size_window
    int64_t top_permille
    int64_t min_orders

cdef struct SmartMoney:
    SmartMoneyParams p
    int64_t r_ts[SM_RING]
    int64_t r_q[SM_RING]           # signed: + buy, - sell
    int64_t head
    int64_t count
    int64_t q[3]
    int64_t n[3]
    int64_t last_fire_ts[3]
    bint ever_fired[3]
    # the size buckets of the last size_window orders
    int64_t sz_ring[SM_SIZE_RING]
    int64_t sz_head
    int64_t sz_n
    int64_t sz_hist[SM_BUCKETS]


cdef inline int64_t sm_bucket(int64_t q) noexcept nogil:
    """8 * floor(log2 q) + the three bits after the leading one (0 for q < 1)."""
    cdef int e
    if q < 1:
        return 0
    e = 63 - __builtin_clzll(<unsigned long long>q)
    if e >= 3:
        return e * 8 + ((q >> (e - 3)) & 7)
    return e * 8 + ((q << (3 - e)) & 7)


cdef inline bint sm_top(const SmartMoney* m, int64_t b) noexcept nogil:
    """Fewer than top_permille per mille of the window's orders are in a bucket above b."""
    cdef int64_t i, cnt = 0, limit
    if m.sz_n < m.p.min_orders or m.sz_n == 0:
        return 0
    limit = m.p.top_permille * m.sz_n
    for i in range(b + 1, SM_BUCKETS):
        cnt += m.sz_hist[i]
        if cnt * 1000 >= limit:
            return 0
    return cnt * 1000 < limit


cdef inline void sm_size_push(SmartMoney* m, int64_t b) noexcept nogil:
    if m.sz_n == m.p.size_window:
        m.sz_hist[m.sz_ring[m.sz_head]] -= 1
        m.sz_head += 1
        if m.sz_head == SM_SIZE_RING:
            m.sz_head = 0
        m.sz_n -= 1
    m.sz_ring[(m.sz_head + m.sz_n) % SM_SIZE_RING] = b
    m.sz_n += 1
    m.sz_hist[b] += 1


cdef inline void smart_money_order(SmartMoney* m, DetCtx* c, int taker, int64_t px, int64_t q, int64_t ts, SignalOut* o) noexcept nogil:
    cdef int64_t thr, old, slot, mine, other, imb, net, b
    cdef int d
    cdef bint top
    b = sm_bucket(q)
    top = sm_top(m, b)
    sm_size_push(m, b)
    if not ctx_warm(c):
        return
    thr = ctx_avg_order(c) * m.p.mult_pct // 100
    if thr < m.p.min_qty:
        thr = m.p.min_qty
    if thr < 1:
        thr = 1
    while m.count > 0 and (m.count == SM_RING or ts - m.r_ts[m.head] > m.p.window_ns):
        old = m.r_q[m.head]
        d = 1 if old > 0 else 2
        m.q[d] -= old if old > 0 else -old
        m.n[d] -= 1
        m.head += 1
        if m.head == SM_RING:
            m.head = 0
        m.count -= 1
    if q < thr or not top:
        return
    slot = (m.head + m.count) % SM_RING
    m.r_ts[slot] = ts
    m.r_q[slot] = q if taker == 1 else -q
    m.count += 1
    m.q[taker] += q
    m.n[taker] += 1
    mine = m.q[taker]
    other = m.q[3 - taker]
    net = m.n[taker] - m.n[3 - taker]
    if net < m.p.min_count or net * net * 10000 < m.p.z_x100 * m.p.z_x100 * (m.n[taker] + m.n[3 - taker]):
        return
    if (mine - other) * 100 < m.p.imbalance_pct * (mine + other):
        return
    if m.ever_fired[taker] and ts - m.last_fire_ts[taker] < m.p.cooldown_ns:
        return
    imb = (mine - other) * 100 // (mine + other)
    emit(o, SIG_SMART_MONEY, taker, px,
         (conf_ratio(m.p.min_count, net) + conf_ratio(m.p.imbalance_pct if m.p.imbalance_pct > 0 else 1, imb)) // 2,
         mine - other, m.n[taker], mine + other, ts - m.r_ts[m.head], thr, net)
    m.ever_fired[taker] = 1
    m.last_fire_ts[taker] = ts
