# The risk gate's C types: the order request every source (CLI, auto-trader, bridge, web view)
# hands to the gate, the per-instrument state, the gate state and the reason codes. The
# order struct is mirrored by nexus.risk.codes.ORDER_DTYPE and the enums by its IntEnums;
# both are checked against engine.risk.layout() at import, so a drift fails loudly.
#
# Units: quantities and prices are int64 at the instrument's exponents (as in the record);
# a position's cost is the signed sum of qty * price of its open part (int128, at
# price_exponent + qty_exponent); money (PnL, caps) is int128 at the gate's money exponent.
from libc.stdint cimport int64_t, uint32_t, uint16_t, uint8_t
from engine.int128 cimport int128_t

cdef enum:
    # sides (the record's SIDE_BID / SIDE_ASK values)
    ORD_BUY = 1
    ORD_SELL = 2
    # order types
    ORD_MARKET = 1
    ORD_LIMIT = 2
    ORD_STOP = 3
    # sources
    SRC_MANUAL = 0
    SRC_AUTO = 1
    # trading states
    ST_ACTIVE = 0
    ST_REDUCING = 1
    ST_HALTED = 2
    # the LIMIT HIT latch: which cap was crossed
    LATCH_NONE = 0
    LATCH_LOSS = 1
    LATCH_PROFIT = 2
    # reason codes, in the order the checks run (one per check)
    R_ACCEPT = 0
    R_DAILY_LOSS = 1          # the daily loss cap was crossed (LIMIT HIT)
    R_DAILY_PROFIT = 2        # the daily profit cap was crossed (LIMIT HIT)
    R_HALTED = 3              # trading state HALTED refuses all
    R_BAD_ORDER = 4           # side/type/flags out of range, qty <= 0, a priced order without price
    R_UNKNOWN_INSTRUMENT = 5  # no limits configured for (venue, instrument)
    R_AUTO_OFF = 6            # an auto order adding exposure while AUTO is disabled
    R_REDUCING_ONLY = 7       # state REDUCING and the order does not reduce
    R_REDUCE_ONLY = 8         # reduce-only flag and the order would open, increase or flip
    R_MAX_QTY = 9             # qty above the instrument's max order qty
    R_NO_TOUCH = 10           # no touch known: no band check or market notional possible
    R_PRICE_BAND = 11         # limit/stop price further than the band from the touch
    R_MAX_NOTIONAL = 12       # qty * price * contract value above the max order notional
    R_MAX_POSITIONS = 13      # a new position while max simultaneous positions are open
    R_COOLDOWN = 14           # an auto order that adds exposure within the cooldown
    R_RATE = 15               # max orders per rate window already accepted
    R_CODES = 16
    # capacities and bounds
    RISK_SLOTS_BITS = 10
    RISK_SLOTS_MAX = 1024     # instruments per gate: 1 << RISK_SLOTS_BITS (open addressing)
    RISK_RATE_MAX = 4096      # max orders per rate window (size of the window's ring)
    BAND_BP_DEN = 10000       # the price band is in basis points of the touch

# Orders, fills and positions above an instrument's `units_max` (qty or price units) are
# refused as malformed: units_max = min(RISK_UNITS_MAX, isqrt(2^126 / (cv * money scale))),
# so no int128 product on the check or fill path can overflow. RISK_CV_SCALE_MAX keeps
# units_max of every instrument at 9 * 10^9 or more.
cdef extern from *:
    """
    #define RISK_UNITS_MAX 100000000000000LL
    #define RISK_CV_SCALE_MAX 1000000000000000000LL
    """
    int64_t RISK_UNITS_MAX
    int64_t RISK_CV_SCALE_MAX

cdef packed struct OrderReq:
    int64_t ts_ns
    int64_t qty
    int64_t price           # limit / stop price; ignored for MARKET
    uint32_t instrument_id
    uint16_t venue_id
    uint8_t side
    uint8_t type
    uint8_t reduce_only
    uint8_t source
    uint8_t _pad[6]

cdef struct InstSlot:
    uint32_t instrument_id
    uint16_t venue_id
    uint8_t used
    uint8_t has_touch
    int64_t max_qty
    int64_t units_max       # bound on qty, price and |position| units (see above)
    int128_t max_notional   # at price_exponent + qty_exponent + contract value exponent
    int128_t max_qp         # max_notional // cv: qty * price > max_qp <=> qty * price * cv > max_notional
    int128_t cv             # contract value in units of its exponent (1 for spot)
    int128_t scale          # 10^(money exponent - that notional exponent)
    int64_t pos_qty         # signed: > 0 long, < 0 short
    int128_t cost           # signed sum of qty * price of the open part
    int64_t bid
    int64_t ask
    int128_t upnl           # money units, from the touch
    # derived by slot_derive whenever the position, the touch or the band changes; indexed
    # by the order's side (ORD_BUY 1, ORD_SELL 2; 0 unused) so a check reads, not computes:
    int64_t touch_of[3]     # the touch an order of that side is compared with (ask, bid)
    int64_t reduces_up_to[3]  # qty <= this <=> the order reduces the position (0: never)
    int64_t band_units[3]   # floor(band_bp * touch / BAND_BP_DEN): |price - touch| above it is refused
    uint32_t refuse_bits    # refusal bits of the slot alone: R_NO_TOUCH, R_MAX_POSITIONS (flat)
    uint32_t _pad[5]        # to 256 bytes: a slot's address is a shift of its index

# What a check reads and writes (the rest of GateState is read-only to a check): a batch of
# checks keeps it in registers and stores it back once.
cdef struct GateHot:
    int64_t last_auto_ts_ns
    int64_t rate_head       # rate_ts is a ring of rate_max entries written at the head, which
    int64_t rate_count      # moves on per accepted order; the count stops at rate_max (full)
    uint8_t has_last_auto

cdef struct GateState:
    InstSlot* slots
    int64_t* rate_ts        # RISK_RATE_MAX + 1: the last one takes the store of a refused order
    InstSlot nil            # what an unknown (venue, instrument) reads (see RiskGate.__cinit__)
    int64_t n_instruments
    int64_t open_positions
    # limits
    int64_t max_positions
    int64_t cooldown_ns
    int64_t rate_max
    int64_t rate_window_ns
    int64_t band_bp
    int128_t loss_cap       # money units; 0 = unset
    int128_t profit_cap     # money units; 0 = unset
    # state
    uint8_t state
    uint8_t latch
    uint8_t auto_enabled
    GateHot hot
    int128_t realised_day
    int128_t upnl_total
    int128_t upnl_day_start
    int64_t latches         # times a cap latched (the wrapper persists when it moves)

cdef InstSlot* gate_slot(GateState* g, uint32_t instrument_id) noexcept nogil
cdef uint8_t gate_check(GateState* g, const OrderReq* o) noexcept nogil
cdef void gate_run(GateState* g, const OrderReq* o, uint8_t* codes, Py_ssize_t n) noexcept nogil
cdef int gate_fill(GateState* g, InstSlot* s, uint8_t side, int64_t qty, int64_t price, int128_t* realised) noexcept nogil
cdef void gate_touch(GateState* g, InstSlot* s, int64_t bid, int64_t ask) noexcept nogil
cdef uint8_t gate_caps(GateState* g) noexcept nogil
