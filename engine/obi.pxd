# Order-book imbalance (OBI) over the top N levels.
#
#   OBI = (sum of bid sizes - sum of ask sizes) / (sum of bid sizes + sum of ask sizes)
#
# over the N best levels of each side (fewer when a side is shallower). The engine keeps the
# numerator and denominator as exact integers (instrument quantity units); the ratio is
# formed only at the edge (nexus.flow.format.ratio_str: rounded half-to-even to 6 decimal
# places). An empty book (denominator 0) has no OBI (printed as null).
#
# Reference: the depth imbalance of e.g. Cartea, Jaimungal & Penalva, "Algorithmic and
# High-Frequency Trading" (2015), ch. 4; Cao, Hansch & Wang (2009) for depth beyond level 1.
# Parameter: N (1..FLOW_MAX_LEVELS).
from libc.stdint cimport int64_t
from engine.ladder cimport LadderSide


cdef inline int64_t depth_sum(const LadderSide* s, Py_ssize_t levels) noexcept nogil:
    """Sum of the sizes of the `levels` best levels of one side."""
    cdef Py_ssize_t k, m = levels if levels < s.n else s.n
    cdef int64_t total = 0
    for k in range(m):
        total += s.levels[s.n - 1 - k].qty
    return total
