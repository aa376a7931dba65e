# cython: language_level=3
"""The risk gate: every order request, from any source, is checked here in compiled code
(`nogil`, no allocation) and gets ACCEPT or one reason code (engine/risk.pxd; mirrored by
nexus.risk.codes.Reason). Fills update positions and the day's PnL exactly (integers only).

Checks, in this order (the first that refuses gives the code):
  1. the LIMIT HIT latch: the day's PnL (realised + unrealised from the touch - unrealised
     at the day's start) at or past -loss cap or +profit cap latches, sets HALTED and turns
     AUTO off; a latched gate refuses everything with the cap's code
  2. HALTED refuses all
  3. a malformed order (side, type, flags out of range; qty or price <= 0; MARKET orders
     carry no price)
  4. an instrument (venue, id) without configured limits, or qty / price above its units_max
  5. an auto order adding exposure while AUTO is off (reducing auto orders pass: exits of
     auto positions keep working after AUTO is switched off)
  6. REDUCING: only orders that reduce (opposite side, qty <= |position|)
  7. reduce-only flag on an order that would open, increase or flip
  8. max order qty of the instrument
  9. no touch where one is needed (MARKET notional, LIMIT/STOP band)
 10. price band: |price - touch| * 10000 > band_bp * touch (buy vs the ask, sell vs the bid)
 11. max notional: qty * price (MARKET: the touch it would take) * contract value
 12. max simultaneous positions: an order on a flat instrument while that many are open
 13. cooldown: an auto order adding exposure less than cooldown_ns after the last one
 14. order rate: rate_max orders accepted within the last rate_window_ns
Every boundary is inclusive on the accepting side (a price exactly at the band, an order
exactly cooldown_ns later, qty equal to the max are accepted).

How a batch runs (gate_run): checks 3..12 read only the order, its instrument's slot and
settings that no check changes, so per block of orders a first pass computes them for every
order independently, without data-dependent branches (each refusal sets the bit of its code,
the lowest set bit wins: the same first-refusal order as a chain of ifs); what a slot would
compute per order (the touch of each side, the quantity up to which an order reduces, the
band in price units) is derived once when the position, touch or band changes (slot_derive).
A second pass runs 13 and 14, which depend on the orders accepted before, in order, over the
orders the first left pending, with its state in registers.

Fills use average cost: a reducing fill releases floor(|cost| * closed / |position|) of the
cost (exact integer division, the same rule in the pure-Python twin), so realised +
unrealised always equals the exact cash flows plus the position at the touch.
"""
from libc.stdint cimport int64_t, uint64_t, uint32_t, uint16_t, uint8_t, INT64_MAX
from libc.stdlib cimport calloc, free
from libc.string cimport memset
from math import isqrt
from engine.int128 cimport int128_t
from engine.record cimport Record, KIND_BBO, SIDE_BID, SIDE_ASK

INT128_MAX_PY = (1 << 127) - 1
UNITS_MAX = RISK_UNITS_MAX
CV_SCALE_MAX = RISK_CV_SCALE_MAX
SLOTS_MAX = RISK_SLOTS_MAX
RATE_MAX = RISK_RATE_MAX
if RISK_SLOTS_MAX != 1 << RISK_SLOTS_BITS or sizeof(InstSlot) != 256:
    raise ImportError(f"risk.pxd: RISK_SLOTS_MAX must be 1 << RISK_SLOTS_BITS, InstSlot 256 bytes ({sizeof(InstSlot)})")


def layout():
    """{"size", "offsets", "constants"} of the compiled OrderReq and enums, for
    nexus.risk.codes to check its NumPy dtype and IntEnums against."""
    cdef OrderReq o
    cdef char* b = <char*>&o
    return {
        "size": sizeof(OrderReq),
        "offsets": {
            "ts_ns": <char*>&o.ts_ns - b, "qty": <char*>&o.qty - b, "price": <char*>&o.price - b,
            "instrument_id": <char*>&o.instrument_id - b, "venue_id": <char*>&o.venue_id - b,
            "side": <char*>&o.side - b, "type": <char*>&o.type - b,
            "reduce_only": <char*>&o.reduce_only - b, "source": <char*>&o.source - b,
        },
        "constants": {
            "ORD_BUY": ORD_BUY, "ORD_SELL": ORD_SELL, "ORD_MARKET": ORD_MARKET,
            "ORD_LIMIT": ORD_LIMIT, "ORD_STOP": ORD_STOP, "SRC_MANUAL": SRC_MANUAL,
            "SRC_AUTO": SRC_AUTO, "ST_ACTIVE": ST_ACTIVE, "ST_REDUCING": ST_REDUCING,
            "ST_HALTED": ST_HALTED, "LATCH_NONE": LATCH_NONE, "LATCH_LOSS": LATCH_LOSS,
            "LATCH_PROFIT": LATCH_PROFIT, "R_ACCEPT": R_ACCEPT, "R_DAILY_LOSS": R_DAILY_LOSS,
            "R_DAILY_PROFIT": R_DAILY_PROFIT, "R_HALTED": R_HALTED, "R_BAD_ORDER": R_BAD_ORDER,
            "R_UNKNOWN_INSTRUMENT": R_UNKNOWN_INSTRUMENT, "R_AUTO_OFF": R_AUTO_OFF,
            "R_REDUCING_ONLY": R_REDUCING_ONLY, "R_REDUCE_ONLY": R_REDUCE_ONLY,
            "R_MAX_QTY": R_MAX_QTY, "R_NO_TOUCH": R_NO_TOUCH, "R_PRICE_BAND": R_PRICE_BAND,
            "R_MAX_NOTIONAL": R_MAX_NOTIONAL, "R_MAX_POSITIONS": R_MAX_POSITIONS,
            "R_COOLDOWN": R_COOLDOWN, "R_RATE": R_RATE, "R_CODES": R_CODES,
        },
    }


# -- int128 across the boundary (Cython would truncate it as a long long) -----------------
cdef object i128_py(int128_t v):
    cdef int64_t hi = <int64_t>(v >> 64)
    cdef uint64_t lo = <uint64_t>v
    return (<object>hi << 64) | <object>lo


cdef int128_t py_i128(object v, str name) except? -1:
    v = int(v)
    if not -INT128_MAX_PY <= v <= INT128_MAX_PY:
        raise OverflowError(f"{name} {v} does not fit in 128 bits")
    cdef int64_t hi = v >> 64
    cdef uint64_t lo = v & 0xFFFFFFFFFFFFFFFF
    return <int128_t>hi * (<int128_t>1 << 64) + <int128_t>lo


# -- leaf helpers -----------------------------------------------------------------------
cdef inline int64_t abs64(int64_t v) noexcept nogil:
    return -v if v < 0 else v


cdef inline int128_t abs128(int128_t v) noexcept nogil:
    return -v if v < 0 else v


cdef inline int128_t muldiv_floor(int128_t c, int128_t r, int128_t q) noexcept nogil:
    """floor(c * r / q) for c >= 0, 0 < r <= q, without forming c * r."""
    return (c / q) * r + ((c % q) * r) / q


cdef inline uint32_t slot_hash(uint32_t k) noexcept nogil:
    # Fibonacci hashing: the top RISK_SLOTS_BITS bits of k * 2^32 / golden ratio (one
    # multiply and one shift on the check path; consecutive ids land far apart).
    return (k * <uint32_t>2654435769u) >> (32 - RISK_SLOTS_BITS)


cdef InstSlot* gate_slot(GateState* g, uint32_t instrument_id) noexcept nogil:
    cdef uint32_t i = slot_hash(instrument_id)
    cdef int n
    for n in range(RISK_SLOTS_MAX):
        if not g.slots[i].used:
            return NULL
        if g.slots[i].instrument_id == instrument_id:
            return &g.slots[i]
        i = (i + 1) & (RISK_SLOTS_MAX - 1)
    return NULL


cdef void slot_derive(GateState* g, InstSlot* s) noexcept nogil:
    """The slot's derived fields (risk.pxd) from its position, touch and the band."""
    cdef int64_t side, touch
    s.touch_of[ORD_BUY] = s.ask
    s.touch_of[ORD_SELL] = s.bid
    s.reduces_up_to[ORD_BUY] = -s.pos_qty if s.pos_qty < 0 else 0   # buying reduces a short
    s.reduces_up_to[ORD_SELL] = s.pos_qty if s.pos_qty > 0 else 0   # selling reduces a long
    for side in range(ORD_BUY, ORD_SELL + 1):
        # |px - touch| * DEN > band_bp * touch  <=>  |px - touch| > floor(band_bp * touch / DEN)
        touch = s.touch_of[side]
        s.band_units[side] = <int64_t>((<int128_t>g.band_bp * touch) // BAND_BP_DEN) if touch > 0 else 0
    s.refuse_bits = (<uint32_t>(not s.has_touch) << R_NO_TOUCH) | (<uint32_t>(s.pos_qty == 0) << R_MAX_POSITIONS)


cdef void slot_upnl(GateState* g, InstSlot* s) noexcept nogil:
    """After a change of the slot's position or touch: its derived fields and unrealised PnL."""
    cdef int128_t u = 0
    cdef int64_t mark
    slot_derive(g, s)
    if s.pos_qty != 0 and s.has_touch:
        mark = s.bid if s.pos_qty > 0 else s.ask
        u = (<int128_t>s.pos_qty * mark - s.cost) * s.cv * s.scale
    g.upnl_total += u - s.upnl
    s.upnl = u


cdef uint8_t gate_caps(GateState* g) noexcept nogil:
    cdef int128_t pnl
    if g.latch == LATCH_NONE:
        pnl = g.realised_day + g.upnl_total - g.upnl_day_start
        if g.loss_cap > 0 and pnl <= -g.loss_cap:
            g.latch = LATCH_LOSS
        elif g.profit_cap > 0 and pnl >= g.profit_cap:
            g.latch = LATCH_PROFIT
        else:
            return R_ACCEPT
        g.state = ST_HALTED
        g.auto_enabled = 0
        g.latches += 1
    return R_DAILY_LOSS if g.latch == LATCH_LOSS else R_DAILY_PROFIT


cdef extern from *:
    """
    #define FLAG_BYTES_BAD 0xFEFEFCFEu
    """
    uint32_t FLAG_BYTES_BAD  # bits that must be 0 in (side - 1, type - 1, reduce_only, source)
    int ctz32 "__builtin_ctz"(unsigned int) noexcept nogil
    void prefetch "__builtin_prefetch"(const void*) noexcept nogil


cdef inline bint malformed(const OrderReq* o) noexcept nogil:
    # Bitwise, not short-circuit: no data-dependent branch per order. The four flag bytes are
    # checked at once: minus 0x0101, side - 1, reduce_only and source must be 0 or 1 and
    # type - 1 at most 3 (a 0 side or type borrows and leaves 0xFF in its byte); type 4 is
    # the compare after. A MARKET order carries price 0, any other a positive one.
    cdef uint32_t f = ((<uint32_t>o.side | (<uint32_t>o.type << 8) | (<uint32_t>o.reduce_only << 16)
                        | (<uint32_t>o.source << 24)) - 0x0101)
    return ((f & FLAG_BYTES_BAD) != 0) | (o.type > ORD_STOP) | (o.qty <= 0) \
        | (o.price < 0) | ((o.price == 0) ^ (o.type == ORD_MARKET))


cdef inline InstSlot* slot_of(GateState* g, const OrderReq* o) noexcept nogil:
    """The order's instrument slot, or &g.nil for an unknown (venue, instrument). The first
    probe is branch-free; probing on (gate_slot) happens only when that slot holds another
    instrument (a hash collision). Products and masks, not `and`: the compiler would split
    those into branches on the (random) instrument of each order."""
    cdef InstSlot* s = &g.slots[slot_hash(o.instrument_id)]
    cdef uint64_t hit
    if <uint64_t>(s.instrument_id ^ o.instrument_id) * s.used:
        s = gate_slot(g, o.instrument_id)
        if s == NULL:
            return &g.nil
    hit = <uint64_t>0 - <uint64_t>((s.used != 0) & (s.instrument_id == o.instrument_id) & (s.venue_id == o.venue_id))
    return <InstSlot*>((<uint64_t>s & hit) | (<uint64_t>&g.nil & ~hit))


cdef enum:
    CHECK_BLOCK = 128     # orders per block of a batch (their pass-1 masks live on the stack)
    ADDS_BIT = 31         # pass-1 mask: the order adds exposure from an auto source
    PREFETCH_AHEAD = 4    # blocks between the one checked and the one prefetched


cdef inline uint32_t order_mask(GateState* g, const OrderReq* o, bint auto_off, bint reducing_state,
                                uint32_t slot_bits) noexcept nogil:
    """Pass 1 of a check: the refusal bits of codes 4..13 of one order, which read only the
    order, its instrument's slot and settings no check changes, so orders are independent
    here; bit ADDS_BIT says the order adds exposure from an auto source (the cooldown's
    concern). Each refusal sets the bit of its code and the lowest set bit is the answer -
    the same first-refusal-wins order as a chain of ifs, with no data-dependent branch (an
    order stream mixing refusals costs no mispredictions). An unknown instrument reads the
    nil slot, whose refuse_bits hold R_UNKNOWN_INSTRUMENT (units_max INT64_MAX: bit 4 stays
    0), so bit 5 is then the lowest set. `slot_bits` keeps R_MAX_POSITIONS of a flat slot's
    refuse_bits only while max positions are open."""
    cdef InstSlot* s
    cdef uint32_t nr, adds
    cdef int64_t touch, px
    if malformed(o):  # rare: a predictable branch; past it side is 1 or 2, flags 0 or 1
        return <uint32_t>1 << R_BAD_ORDER
    s = slot_of(g, o)
    nr = o.qty > s.reduces_up_to[o.side]          # not reducing
    adds = o.source & nr                          # SRC_AUTO is 1
    touch = s.touch_of[o.side]
    # A MARKET order carries price 0 (else it is malformed) and is priced at the touch; then
    # |px - touch| = 0 and its band bit is 0 by itself (no branch on the order type).
    px = o.price | (touch & -<int64_t>(o.type == ORD_MARKET))
    return (<uint32_t>((o.qty if o.qty > o.price else o.price) > s.units_max) << R_BAD_ORDER) \
        | (s.refuse_bits & slot_bits) \
        | ((adds & auto_off) << R_AUTO_OFF) \
        | ((nr & reducing_state) << R_REDUCING_ONLY) \
        | ((o.reduce_only & nr) << R_REDUCE_ONLY) \
        | (<uint32_t>(o.qty > s.max_qty) << R_MAX_QTY) \
        | (<uint32_t>(abs64(px - touch) > s.band_units[o.side]) << R_PRICE_BAND) \
        | (<uint32_t>(<int128_t>o.qty * px > s.max_qp) << R_MAX_NOTIONAL) \
        | (adds << ADDS_BIT)


cdef void gate_run(GateState* g, const OrderReq* o, uint8_t* codes, Py_ssize_t n) noexcept nogil:
    """Check o[0..n) in order; codes[i] is the reason code of o[i], each order seeing the
    state the previous ones left. The latch and HALTED are read once (no check changes
    them). Per block of orders, pass 1 (order_mask) computes what does not depend on the
    earlier orders of the batch; pass 2 adds cooldown (14) and rate (15) and records the
    accepted orders, with its state in locals (registers) and masks instead of branches, so
    the chain from one order to the next is a few instructions long."""
    cdef uint32_t pend[CHECK_BLOCK]   # orders of the block that pass 1 did not refuse
    cdef uint32_t m, slot_bits, j
    cdef Py_ssize_t i, b, k, np_, c, e
    cdef const char* line
    cdef int64_t* rate_ts = g.rate_ts
    cdef int64_t rate_max = g.rate_max, window = g.rate_window_ns, cooldown = g.cooldown_ns
    cdef int64_t count = g.hot.rate_count, head = g.hot.rate_head, last = g.hot.last_auto_ts_ns
    cdef int64_t oldest = rate_ts[head]   # the window's oldest entry once it is full
    cdef int64_t ts, nh
    cdef uint64_t has_last = g.hot.has_last_auto, adds, full, acc, auto_m, cd, rt
    cdef bint auto_off = not g.auto_enabled, reducing_state = g.state == ST_REDUCING
    # The caps were evaluated when the PnL or a cap last changed (fill, touch, set_limits,
    # set_day, set_position): here only the latch is read.
    if g.latch != LATCH_NONE:
        memset(codes, R_DAILY_LOSS if g.latch == LATCH_LOSS else R_DAILY_PROFIT, n)
        return
    if g.state == ST_HALTED:
        memset(codes, R_HALTED, n)
        return
    slot_bits = ~(<uint32_t>0)
    if g.open_positions < g.max_positions:
        slot_bits ^= <uint32_t>1 << R_MAX_POSITIONS
    b = 0
    while b < n:
        k = n - b if n - b < CHECK_BLOCK else CHECK_BLOCK
        # Ask for the orders PREFETCH_AHEAD blocks on while this one is checked: a long batch
        # comes from memory, and the hardware prefetcher alone falls behind the check rate.
        e = b + (PREFETCH_AHEAD + 1) * CHECK_BLOCK
        e = e if e < n else n
        line = <const char*>&o[b + PREFETCH_AHEAD * CHECK_BLOCK if b + PREFETCH_AHEAD * CHECK_BLOCK < e else e]
        while line < <const char*>&o[e]:
            prefetch(line)
            line += 64
        # Pass 1: every order's code from its own checks (its lowest refusal bit); the ones
        # with none pending for pass 2 (index, and ADDS_BIT), listed without a branch.
        np_ = 0
        for i in range(k):
            m = order_mask(g, &o[b + i], auto_off, reducing_state, slot_bits)
            codes[b + i] = <uint8_t>(ctz32(m | (<uint32_t>1 << R_CODES)) & (R_CODES - 1))  # 16 & 15 == R_ACCEPT
            pend[np_] = <uint32_t>i | (m & (<uint32_t>1 << ADDS_BIT))
            np_ += (m & ((<uint32_t>1 << ADDS_BIT) - 1)) == 0
        # Pass 2, in order over the pending ones: cooldown (14) and rate (15), then the
        # accepted ones recorded. The window is a ring written at `head`, which moves on at
        # every accepted order (while it fills, head == count); `count` stops at rate_max.
        for c in range(np_):
            j = pend[c] & ((<uint32_t>1 << ADDS_BIT) - 1)
            adds = pend[c] >> ADDS_BIT
            ts = o[b + j].ts_ns
            full = count >= rate_max
            cd = adds & has_last & (ts - last < cooldown)
            rt = full & (ts - oldest < window)
            codes[b + j] = <uint8_t>((cd * R_COOLDOWN) | ((cd ^ 1) & rt) * R_RATE)
            # Accepted: record it with masks, not branches (the compiler keeps them as they
            # are): a refused order's timestamp goes to the spare entry after the ring.
            acc = (cd | rt) - 1           # all ones when accepted
            rate_ts[(<uint64_t>head & acc) | (<uint64_t>RISK_RATE_MAX & ~acc)] = ts
            nh = head + 1
            nh &= -<int64_t>(nh != rate_max)
            oldest = <int64_t>((<uint64_t>rate_ts[nh] & acc) | (<uint64_t>oldest & ~acc))  # rate_max 1: ts
            head = <int64_t>((<uint64_t>nh & acc) | (<uint64_t>head & ~acc))
            count += <int64_t>(acc & (full ^ 1))
            auto_m = acc & (<uint64_t>0 - adds)
            last = <int64_t>((<uint64_t>ts & auto_m) | (<uint64_t>last & ~auto_m))
            has_last |= auto_m & 1
        b += k
    g.hot.rate_count = count
    g.hot.rate_head = head
    g.hot.last_auto_ts_ns = last
    g.hot.has_last_auto = <uint8_t>has_last


cdef uint8_t gate_check(GateState* g, const OrderReq* o) noexcept nogil:
    cdef uint8_t code
    gate_run(g, o, &code, 1)
    return code


cdef int gate_fill(GateState* g, InstSlot* s, uint8_t side, int64_t qty, int64_t price,
                   int128_t* realised) noexcept nogil:
    """Apply a fill; -1 (nothing applied) for a malformed one or a position past the bound."""
    cdef int64_t q, pos = s.pos_qty, apos = abs64(s.pos_qty), newpos, r
    cdef int128_t rel, rz = 0
    if (side != ORD_BUY and side != ORD_SELL) or qty <= 0 or qty > s.units_max:
        return -1
    if price <= 0 or price > s.units_max:
        return -1
    q = qty if side == ORD_BUY else -qty
    newpos = pos + q
    if abs64(newpos) > s.units_max:
        return -1
    if pos == 0 or (pos > 0) == (q > 0):
        s.cost += <int128_t>q * price
    else:
        r = qty if qty < apos else apos
        rel = muldiv_floor(abs128(s.cost), r, apos)
        if s.cost < 0:
            rel = -rel
        rz = <int128_t>r * price - rel if pos > 0 else -(<int128_t>r * price) - rel
        s.cost -= rel
        if qty > apos:  # a flip: the rest opens the other way (the closed part's cost is 0 now)
            s.cost = <int128_t>newpos * price
        rz = rz * s.cv * s.scale
        g.realised_day += rz
    g.open_positions += (newpos != 0) - (pos != 0)
    s.pos_qty = newpos
    slot_upnl(g, s)
    realised[0] = rz
    gate_caps(g)
    return 0


cdef void gate_touch(GateState* g, InstSlot* s, int64_t bid, int64_t ask) noexcept nogil:
    if bid > 0:
        s.bid = bid
    if ask > 0:
        s.ask = ask
    s.has_touch = s.bid > 0 and s.ask > 0
    slot_upnl(g, s)
    gate_caps(g)


cdef class RiskGate:
    """The gate's state and its checks. `check_batch(orders, out)` checks an ORDER_DTYPE array
    in order (each order sees the state the previous ones left) with the GIL released, writing
    one reason code per order into `out` (uint8); `check(...)` checks one order the same way.
    Limits are integers in the units above; nexus.risk.gate.Gate converts decimal settings."""
    cdef GateState g
    cdef readonly int money_exponent

    def __cinit__(self, int money_exponent):
        self.money_exponent = money_exponent
        self.g.slots = <InstSlot*>calloc(RISK_SLOTS_MAX, sizeof(InstSlot))
        self.g.rate_ts = <int64_t*>calloc(RISK_RATE_MAX + 1, sizeof(int64_t))
        if self.g.slots == NULL or self.g.rate_ts == NULL:
            raise MemoryError()
        self.g.max_positions = 1
        self.g.rate_max = 1
        self.g.rate_window_ns = 1
        self.g.band_bp = 0
        # an unknown (venue, instrument) reads the nil slot: refused with its own code
        self.g.nil.units_max = INT64_MAX
        self.g.nil.refuse_bits = (1 << R_UNKNOWN_INSTRUMENT) | (1 << R_NO_TOUCH)

    def __dealloc__(self):
        free(self.g.slots)
        free(self.g.rate_ts)

    # -- configuration ----------------------------------------------------------------
    def set_limits(self, int64_t max_positions, int64_t cooldown_ns, int64_t rate_max,
                   int64_t rate_window_ns, int64_t band_bp, loss_cap, profit_cap):
        """Caps are money units, 0 for none. Changing rate_max empties the rate window."""
        cdef int i
        if not 1 <= max_positions <= RISK_SLOTS_MAX or cooldown_ns < 0 or rate_window_ns <= 0:
            raise ValueError("max_positions, cooldown_ns or rate_window_ns out of range")
        if not 1 <= rate_max <= RISK_RATE_MAX or not 1 <= band_bp <= BAND_BP_DEN:
            raise ValueError(f"rate_max must be 1..{RISK_RATE_MAX}, band_bp 1..{BAND_BP_DEN}")
        if loss_cap < 0 or profit_cap < 0:
            raise ValueError("caps are >= 0 (0: no cap)")
        self.g.max_positions = max_positions
        self.g.cooldown_ns = cooldown_ns
        if rate_max != self.g.rate_max:
            self.g.hot.rate_count = 0
            self.g.hot.rate_head = 0
        self.g.rate_max = rate_max
        self.g.rate_window_ns = rate_window_ns
        self.g.band_bp = band_bp
        for i in range(RISK_SLOTS_MAX):
            if self.g.slots[i].used:
                slot_derive(&self.g, &self.g.slots[i])
        self.g.loss_cap = py_i128(loss_cap, "loss_cap")
        self.g.profit_cap = py_i128(profit_cap, "profit_cap")
        gate_caps(&self.g)

    def add_instrument(self, uint32_t instrument_id, uint16_t venue_id, int64_t max_qty,
                       max_notional, cv, scale):
        """Add (or change the limits of) an instrument. max_notional is at price + qty +
        contract value exponents; cv the contract value at its exponent; scale the power of
        ten from that notional exponent to the money exponent."""
        cdef InstSlot* s = gate_slot(&self.g, instrument_id)
        cdef uint32_t i
        if max_qty <= 0 or max_notional <= 0 or cv <= 0 or scale <= 0 or cv * scale > RISK_CV_SCALE_MAX:
            raise ValueError(f"max_qty, max_notional, cv, scale must be > 0 and cv * scale <= {RISK_CV_SCALE_MAX}")
        if s == NULL:
            if self.g.n_instruments >= RISK_SLOTS_MAX // 2:  # keep probes short
                raise ValueError(f"at most {RISK_SLOTS_MAX // 2} instruments per gate")
            i = slot_hash(instrument_id)
            while self.g.slots[i].used:
                i = (i + 1) & (RISK_SLOTS_MAX - 1)
            s = &self.g.slots[i]
            s.used = 1
            s.instrument_id = instrument_id
            self.g.n_instruments += 1
        elif s.pos_qty != 0 and (s.cv != py_i128(cv, "cv") or s.scale != py_i128(scale, "scale")):
            raise ValueError("contract value / money scale of an instrument with a position cannot change")
        s.venue_id = venue_id
        s.units_max = min(RISK_UNITS_MAX, isqrt((1 << 126) // (cv * scale)))
        s.max_qty = max_qty
        s.max_notional = py_i128(max_notional, "max_notional")
        s.max_qp = py_i128(int(max_notional) // int(cv), "max_notional")
        s.cv = py_i128(cv, "cv")
        s.scale = py_i128(scale, "scale")
        slot_derive(&self.g, s)

    # -- state ------------------------------------------------------------------------
    @property
    def state(self):
        return self.g.state

    def set_state(self, int state):
        """ACTIVE is refused while the LIMIT HIT latch is set (clear_latch first)."""
        if state not in (ST_ACTIVE, ST_REDUCING, ST_HALTED):
            raise ValueError(f"unknown trading state {state}")
        if state == ST_ACTIVE and self.g.latch != LATCH_NONE:
            raise ValueError("the LIMIT HIT latch is set: only a reset clears it")
        self.g.state = state

    @property
    def latch(self):
        return self.g.latch

    @property
    def latches(self):
        return self.g.latches

    def set_latch(self, int latch):
        """Restore a latch (from the store): HALTED, AUTO off. LATCH_NONE clears it and leaves
        the state HALTED (the caller decides what comes next), unless the day's PnL is still
        past a cap: then it latches again at once."""
        if latch not in (LATCH_NONE, LATCH_LOSS, LATCH_PROFIT):
            raise ValueError(f"unknown latch {latch}")
        self.g.latch = latch
        self.g.state = ST_HALTED
        self.g.auto_enabled = 0
        if latch == LATCH_NONE:
            gate_caps(&self.g)  # a day's PnL still past a cap latches again at once

    @property
    def auto_enabled(self):
        return bool(self.g.auto_enabled)

    def set_auto(self, bint on):
        if on and (self.g.latch != LATCH_NONE or self.g.state == ST_HALTED):
            raise ValueError("AUTO cannot be enabled while HALTED or with LIMIT HIT latched")
        self.g.auto_enabled = on

    @property
    def open_positions(self):
        return self.g.open_positions

    @property
    def n_instruments(self):
        return self.g.n_instruments

    def pnl(self):
        """(realised today, unrealised now, unrealised at the day's start) in money units."""
        return i128_py(self.g.realised_day), i128_py(self.g.upnl_total), i128_py(self.g.upnl_day_start)

    def set_day(self, realised_day, upnl_day_start):
        """Restore the day's figures (from the store) and re-evaluate the caps."""
        self.g.realised_day = py_i128(realised_day, "realised_day")
        self.g.upnl_day_start = py_i128(upnl_day_start, "upnl_day_start")
        return gate_caps(&self.g)

    def new_day(self):
        """A new trading day: realised back to 0, unrealised measured from now. The latch stays."""
        self.g.realised_day = 0
        self.g.upnl_day_start = self.g.upnl_total
        gate_caps(&self.g)

    def units_max(self, uint32_t instrument_id):
        """The bound on qty, price and |position| units of an instrument (no int128 overflow)."""
        cdef InstSlot* s = gate_slot(&self.g, instrument_id)
        if s == NULL:
            raise KeyError(instrument_id)
        return s.units_max

    def position(self, uint32_t instrument_id):
        """(qty, cost, bid, ask, upnl) or None for an unknown instrument."""
        cdef InstSlot* s = gate_slot(&self.g, instrument_id)
        if s == NULL:
            return None
        return s.pos_qty, i128_py(s.cost), s.bid, s.ask, i128_py(s.upnl)

    def set_position(self, uint32_t instrument_id, int64_t qty, cost, int64_t bid, int64_t ask):
        """Restore a position (from the store); the instrument must be added first."""
        cdef InstSlot* s = gate_slot(&self.g, instrument_id)
        if s == NULL:
            raise KeyError(instrument_id)
        if abs64(qty) > s.units_max or (qty == 0) != (cost == 0):
            raise ValueError(f"position {qty} with cost {cost} is not a consistent position")
        self.g.open_positions += (qty != 0) - (s.pos_qty != 0)
        s.pos_qty = qty
        s.cost = py_i128(cost, "cost")
        s.bid = bid if bid > 0 else 0
        s.ask = ask if ask > 0 else 0
        s.has_touch = s.bid > 0 and s.ask > 0
        slot_upnl(&self.g, s)
        return gate_caps(&self.g)

    # -- the hot path -----------------------------------------------------------------
    def check(self, uint16_t venue_id, uint32_t instrument_id, uint8_t side, uint8_t type,
              int64_t qty, int64_t price, uint8_t reduce_only, uint8_t source, int64_t ts_ns):
        cdef OrderReq o
        o.ts_ns = ts_ns
        o.qty = qty
        o.price = price
        o.instrument_id = instrument_id
        o.venue_id = venue_id
        o.side = side
        o.type = type
        o.reduce_only = reduce_only
        o.source = source
        return gate_check(&self.g, &o)

    def check_batch(self, const OrderReq[::1] orders, uint8_t[::1] out):
        """Check every order in order; out[i] is its reason code. Returns the count."""
        cdef Py_ssize_t i, n = orders.shape[0]
        if out.shape[0] < n:
            raise ValueError(f"out holds {out.shape[0]} codes, {n} orders given")
        if n == 0:
            return 0
        with nogil:
            gate_run(&self.g, &orders[0], &out[0], n)
        return n

    def fill(self, uint32_t instrument_id, uint8_t side, int64_t qty, int64_t price):
        """Apply a fill; returns the realised PnL of it in money units."""
        cdef InstSlot* s = gate_slot(&self.g, instrument_id)
        cdef int128_t rz = 0
        if s == NULL:
            raise KeyError(instrument_id)
        if gate_fill(&self.g, s, side, qty, price, &rz) != 0:
            raise ValueError(f"fill side={side} qty={qty} price={price} malformed or past {s.units_max} units")
        return i128_py(rz)

    def touch(self, uint32_t instrument_id, int64_t bid, int64_t ask):
        """Set the touch of an instrument (a side <= 0 keeps its previous value)."""
        cdef InstSlot* s = gate_slot(&self.g, instrument_id)
        if s == NULL:
            raise KeyError(instrument_id)
        gate_touch(&self.g, s, bid, ask)

    def touch_batch(self, const Record[::1] batch, Py_ssize_t n=-1):
        """Fold BBO records (kind 4; side 1 bid, 2 ask) of known instruments into the touch;
        other records are skipped. Returns how many were applied."""
        cdef Py_ssize_t i, applied = 0
        cdef const Record* r
        cdef InstSlot* s
        if n < 0 or n > batch.shape[0]:
            n = batch.shape[0]
        with nogil:
            for i in range(n):
                r = &batch[i]
                if r.kind != KIND_BBO or r.price <= 0:
                    continue
                s = gate_slot(&self.g, r.instrument_id)
                if s == NULL:
                    continue
                if r.side == SIDE_BID:
                    gate_touch(&self.g, s, r.price, 0)
                elif r.side == SIDE_ASK:
                    gate_touch(&self.g, s, 0, r.price)
                else:
                    continue
                applied += 1
        return applied
