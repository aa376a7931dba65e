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
# order). Large lots enter a rolling window of window_ns (at most SM_RING lots). After a
# large lot in direction d it fires when, with n_d and n_o the large lots in d and in the
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

cdef enum:
    SM_RING = 1024

cdef struct SmartMoneyParams:
    int64_t mult_pct
    int64_t min_qty
    int64_t window_ns
    int64_t min_count
    int64_t imbalance_pct
    int64_t z_x100
    int64_t cooldown_ns

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


cdef inline void smart_money_order(SmartMoney* m, DetCtx* c, int taker, int64_t px, int64_t q, int64_t ts, SignalOut* o) noexcept nogil:
    cdef int64_t thr, old, slot, mine, other, imb, net
    cdef int d
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
    if q < thr:
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
