# The venue's typical aggressive order: the median size of its last `window` orders, kept
# incrementally in buckets of an eighth of an octave (8 * floor(log2 q) + the next three bits
# of q; the median is reported as the lower bound of its bucket, within 9 % of the exact one).
# A median, not a mean: a patient accumulator's own lots or a few block trades -- 1 % of the
# window -- move a mean (and fill the top per cent of a ranking) but never the median.
from libc.stdint cimport int64_t

cdef extern from *:
    int __builtin_clzll(unsigned long long) nogil

cdef enum:
    OS_RING = 8192
    OS_BUCKETS = 512

cdef struct OrderSizes:
    int64_t window
    int64_t ring[OS_RING]
    int64_t head
    int64_t n
    int64_t hist[OS_BUCKETS]
    int64_t med_b                  # bucket holding the order of rank n // 2
    int64_t below                  # orders of the window in buckets < med_b


cdef inline int64_t os_bucket(int64_t q) noexcept nogil:
    """8 * floor(log2 q) + the three bits after the leading one (0 for q < 1)."""
    cdef int e
    if q < 1:
        return 0
    e = 63 - __builtin_clzll(<unsigned long long>q)
    if e >= 3:
        return e * 8 + ((q >> (e - 3)) & 7)
    return e * 8 + ((q << (3 - e)) & 7)


cdef inline int64_t os_bucket_low(int64_t b) noexcept nogil:
    """The smallest quantity of bucket b (>= 1)."""
    cdef int64_t e = b >> 3, v = 8 + (b & 7)
    if e >= 3:
        return v << (e - 3)
    v = v >> (3 - e)
    return v if v > 0 else 1


cdef inline int64_t os_median(const OrderSizes* s) noexcept nogil:
    """The median order size (the lower bound of its bucket; 1 before any order)."""
    return os_bucket_low(s.med_b)


cdef inline void os_push(OrderSizes* s, int64_t q) noexcept nogil:
    cdef int64_t old, half, b = os_bucket(q)
    if s.n == s.window:
        old = s.ring[s.head]
        s.hist[old] -= 1
        if old < s.med_b:
            s.below -= 1
        s.head += 1
        if s.head == OS_RING:
            s.head = 0
        s.n -= 1
    s.ring[(s.head + s.n) % OS_RING] = b
    s.n += 1
    s.hist[b] += 1
    if b < s.med_b:
        s.below += 1
    half = s.n // 2
    while s.below > half:
        s.med_b -= 1
        s.below -= s.hist[s.med_b]
    while s.below + s.hist[s.med_b] <= half:
        s.below += s.hist[s.med_b]
        s.med_b += 1
