# Small sorted buffers: the medians the detectors take over a handful of values (a spoof's
# top levels, smart money's per-window background) by insertion, no allocation.
from libc.stdint cimport int64_t


cdef inline void sorted_insert(int64_t* buf, Py_ssize_t n, int64_t x) noexcept nogil:
    """Insert x into buf[0:n] (sorted ascending, room for n + 1)."""
    cdef Py_ssize_t j = n
    while j > 0 and buf[j - 1] > x:
        buf[j] = buf[j - 1]
        j -= 1
    buf[j] = x
