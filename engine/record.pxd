# The 64-byte record as a Cython struct: a mirror of native/src/core/record.rs, checked at
# import by engine.check_layout() against nexus._native.record_layout().
from libc.stdint cimport int64_t, uint64_t, uint32_t, uint16_t, uint8_t

cdef packed struct Record:
    int64_t ts_exchange_ns
    int64_t ts_local_ns
    int64_t price
    int64_t qty
    uint64_t seq
    uint64_t trade_id
    uint32_t instrument_id
    uint32_t aux
    uint16_t venue_id
    uint8_t kind
    uint8_t flags
    uint8_t side
    uint8_t _pad[3]

# Kinds, flags and sides (same values as the native constants; checked at import).
cdef enum:
    KIND_BOOK_LEVEL = 1
    KIND_BOOK_CLEAR = 2
    KIND_TRADE = 3
    KIND_BBO = 4
    KIND_SIGNAL = 5
    KIND_HEARTBEAT = 6
    F_LAST = 1
    F_SNAPSHOT = 2
    F_RESYNC = 4
    SIDE_NONE = 0
    SIDE_BID = 1
    SIDE_ASK = 2
