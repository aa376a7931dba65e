# cython: language_level=3
"""Running statistics over record batches: counts per kind, traded volume by taker side,
last trade price and the spread of local timestamps. A minimal kernel in the house shape
(state object, `update(batch)`, nogil loop) used by the demo reader and the ring tests."""
from libc.stdint cimport int64_t, uint64_t
from engine.record cimport Record, KIND_TRADE, SIDE_BID, SIDE_ASK

cdef enum:
    N_KINDS = 8


cdef class BatchStats:
    cdef public uint64_t records
    cdef uint64_t counts[N_KINDS]
    cdef public int64_t buy_qty
    cdef public int64_t sell_qty
    cdef public int64_t last_trade_price
    cdef public int64_t ts_local_min_ns
    cdef public int64_t ts_local_max_ns
    cdef public uint64_t seq_max

    def __cinit__(self):
        self.reset()

    cpdef void reset(self) noexcept:
        cdef int i
        for i in range(N_KINDS):
            self.counts[i] = 0
        self.records = 0
        self.buy_qty = 0
        self.sell_qty = 0
        self.last_trade_price = 0
        self.ts_local_min_ns = 0x7FFFFFFFFFFFFFFF
        self.ts_local_max_ns = 0
        self.seq_max = 0

    def update(self, const Record[::1] batch, Py_ssize_t n=-1):
        """Fold the first `n` records of `batch` (all when n < 0) into the statistics."""
        if n < 0 or n > batch.shape[0]:
            n = batch.shape[0]
        with nogil:
            self._update(&batch[0] if n > 0 else NULL, n)
        return n

    cdef void _update(self, const Record* recs, Py_ssize_t n) noexcept nogil:
        cdef Py_ssize_t i
        cdef const Record* r
        for i in range(n):
            r = &recs[i]
            self.counts[r.kind & (N_KINDS - 1)] += 1
            if r.kind == KIND_TRADE:
                if r.side == SIDE_BID:
                    self.buy_qty += r.qty
                elif r.side == SIDE_ASK:
                    self.sell_qty += r.qty
                self.last_trade_price = r.price
            if r.ts_local_ns < self.ts_local_min_ns:
                self.ts_local_min_ns = r.ts_local_ns
            if r.ts_local_ns > self.ts_local_max_ns:
                self.ts_local_max_ns = r.ts_local_ns
            if r.seq > self.seq_max:
                self.seq_max = r.seq
        self.records += n

    def count(self, int kind):
        if kind < 0 or kind >= N_KINDS:
            raise ValueError(f"kind must be in 0..{N_KINDS - 1}")
        return self.counts[kind]
