# The flow engine: one state object per instrument that folds record batches into the
# order-flow metrics (engine/ofi.pxd, engine/obi.pxd, CVD, engine/vpin.pxd) and runs the
# signal detectors (engine/det_*.pxd) at every message boundary. Outputs go into arrays the
# caller owns (STYLE rule 3); their NumPy mirrors are nexus.flow.dtypes, checked against
# these structs at import.
from libc.stdint cimport int64_t, uint64_t, uint32_t, uint16_t, uint8_t
from engine.record cimport Record
from engine.ladder cimport LadderSide
from engine.vpin cimport Vpin, VpinRow
from engine.signal cimport SignalOut, SignalFacts
from engine.detectors cimport Detectors
from engine.params cimport EngineParams
from engine.oracle_model cimport OracleModel

cdef enum:
    # Levels of multi-level OFI and of OBI: a fixed array in every metrics row.
    FLOW_LEVELS_MAX = 20
    # int64 per entry of the message's change log: side, price, size before, size set
    UNDO = 4

# MetricRow.flags
cdef enum:
    ROW_BOOK_CHANGED = 1     # the message changed the book
    ROW_TRADES = 2           # the message carried trades
    ROW_RESET = 4            # OFI baseline reset (first book state, or F_RESYNC)
    ROW_HAVE_BID = 8         # bid_px / bid_qty are valid
    ROW_HAVE_ASK = 16

# One row per message that changed the book or carried trades.
cdef packed struct MetricRow:
    int64_t msg             # message ordinal (0-based over every message this engine saw)
    int64_t rec             # ordinal of the record that ended the message (F_LAST)
    int64_t ts_exchange_ns  # of that record
    int64_t bid_px
    int64_t bid_qty
    int64_t ask_px
    int64_t ask_qty
    int64_t ofi[FLOW_LEVELS_MAX]   # per-level OFI e_n; ofi[0] is level 1; `levels` are valid
    int64_t obi_num         # sum bid - sum ask over the top obi_levels
    int64_t obi_den         # sum bid + sum ask (0: no OBI)
    int64_t cvd             # cumulative taker buy - taker sell quantity
    int64_t buy_qty         # taker buy quantity in this message
    int64_t sell_qty        # taker sell quantity in this message
    uint32_t flags
    uint32_t levels

# Engine status codes returned by the nogil loop.
cdef enum:
    RUN_OK = 0
    RUN_OUT_FULL = 1         # an output buffer is full: drain and call again
    RUN_BOOK_LIMIT = 2       # a book side exceeded LADDER_LEVELS_MAX or memory ran out


cdef class FlowEngine:
    # configuration
    cdef readonly int ofi_levels
    cdef readonly int obi_levels
    cdef readonly bint vpin_enabled
    cdef readonly bint signals_enabled
    cdef readonly uint32_t instrument_id     # 0 = every instrument in the batch
    # calibration: a signal of type t emitted with raw confidence c (0..100) carries
    # calib[t * 101 + c] (identity until set_calibration; nexus/flow/calibration.py)
    cdef int64_t calib[808]
    # book
    cdef LadderSide bids
    cdef LadderSide asks
    cdef LadderSide saved_bids               # a side's levels before a clear in this message
    cdef LadderSide saved_asks
    cdef bint saved_b, saved_a
    cdef int64_t prev_bpx[FLOW_LEVELS_MAX]
    cdef int64_t prev_bq[FLOW_LEVELS_MAX]
    cdef int64_t prev_apx[FLOW_LEVELS_MAX]
    cdef int64_t prev_aq[FLOW_LEVELS_MAX]
    cdef bint have_prev
    # levels changed by this message and the size each had before it (to tell a message
    # whose changes cancel out, e.g. insert then delete, from one that changed the book)
    cdef int64_t* undo
    cdef Py_ssize_t undo_n, undo_cap
    cdef bint undo_lost
    # message state
    cdef bint msg_book, msg_changed, msg_resync
    cdef int64_t msg_buy, msg_sell, msg_trades
    # counters
    cdef readonly int64_t messages
    cdef readonly int64_t records
    cdef readonly int64_t cvd
    cdef readonly int64_t trades_unknown_side
    # VPIN
    cdef Vpin vpin
    # detectors
    cdef Detectors det
    # the learned oracle (engine/oracle_model.pxd) and, when collecting, every sample's
    # (ts, bid, ask) and features, for training (oracle_features)
    cdef OracleModel om
    cdef int64_t* om_meta
    cdef double* om_x
    cdef Py_ssize_t om_n, om_cap
    cdef readonly int64_t oracle_samples_lost

    cdef int _run(self, const Record* recs, Py_ssize_t n, Py_ssize_t* consumed,
                  MetricRow* mrows, Py_ssize_t mcap, Py_ssize_t* nm,
                  VpinRow* vrows, Py_ssize_t vcap, Py_ssize_t* nv,
                  SignalOut* sig) noexcept nogil
    cdef _init_detectors(self, const EngineParams* cfg)
    cpdef void reset_counters(self) noexcept
    cdef int _book(self, const Record* r) noexcept nogil
    cdef int _save(self, LadderSide* s, LadderSide* saved, bint* flag) noexcept nogil
    cdef bint _differs(self, const LadderSide* s, const LadderSide* saved) noexcept nogil
    cdef void _log_change(self, int side, int64_t price, int64_t old_qty, int64_t new_qty) noexcept nogil
    cdef bint _changes_stand(self) noexcept nogil
    cdef void _trade(self, const Record* r, VpinRow* vrows, Py_ssize_t* nv, SignalOut* sig) noexcept nogil
    cdef void _end_message(self, const Record* r, MetricRow* mrows, Py_ssize_t* nm, SignalOut* sig) noexcept nogil
    cdef void _oracle_model(self, double ofi, SignalOut* sig) noexcept nogil
