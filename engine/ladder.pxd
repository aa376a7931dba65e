# The engine's own L2 ladder: the book state the flow metrics and detectors read at every
# message boundary.
#
# Why the engine keeps a book of its own: OFI and the detectors need the top N levels after
# *every* venue message (F_LAST). The native book (nexus._native.Book) applies whole
# batches; asking it for the top N per message would cross the Rust/Cython boundary per
# message, which STYLE rule 2 forbids (the languages meet only at record buffers). The
# ladder is the same data structure as native/src/core/book.rs (a sorted array per side,
# best level LAST so touch updates move few bytes) and tests/engine/test_ladder.py checks it
# against the native book level for level on random streams.
#
# Everything here is a pure inline leaf helper (STYLE rule 4): no Python objects, nogil.
from libc.stdint cimport int64_t, INT64_MIN, INT64_MAX
from libc.stdlib cimport malloc, realloc, free
from libc.string cimport memmove

cdef enum:
    LADDER_INITIAL_LEVELS = 256
    # Levels from the touch searched linearly before the binary search (updates cluster there).
    LADDER_SCAN = 4
    # A limit on everything: a side deeper than this is refused (an error, never a silent cut).
    LADDER_LEVELS_MAX = 1 << 20

cdef struct Level:
    int64_t price
    int64_t qty

cdef struct LadderSide:
    Level* levels       # sorted so that the BEST level is last (bids ascending, asks descending)
    Py_ssize_t n
    Py_ssize_t cap
    bint is_bid


cdef inline int side_init(LadderSide* s, bint is_bid) noexcept nogil:
    """0 on success, -1 when the first allocation fails."""
    s.levels = <Level*>malloc(LADDER_INITIAL_LEVELS * sizeof(Level))
    s.n = 0
    s.cap = LADDER_INITIAL_LEVELS if s.levels != NULL else 0
    s.is_bid = is_bid
    return 0 if s.levels != NULL else -1


cdef inline void side_free(LadderSide* s) noexcept nogil:
    free(s.levels)
    s.levels = NULL
    s.n = 0
    s.cap = 0


cdef inline Py_ssize_t side_lower_bound(const LadderSide* s, int64_t price) noexcept nogil:
    """First storage index whose price does not sort before `price`. Updates cluster at the
    touch (the end of the array), so the first LADDER_SCAN levels from the touch are scanned
    linearly, then a branchless binary search covers the rest."""
    cdef Py_ssize_t i = s.n, stop = s.n - LADDER_SCAN, base, length, half
    cdef const Level* a = s.levels
    if stop < 0:
        stop = 0
    if s.is_bid:
        while i > stop and a[i - 1].price >= price:
            i -= 1
        if i > stop or i == 0 or a[i - 1].price < price:
            return i
        base = 0                              # a[i-1].price >= price: search [0, i)
        length = i
        while length > 1:
            half = length >> 1
            if a[base + half].price < price:
                base += half
            length -= half
        return base + (1 if a[base].price < price else 0)
    while i > stop and a[i - 1].price <= price:
        i -= 1
    if i > stop or i == 0 or a[i - 1].price > price:
        return i
    base = 0
    length = i
    while length > 1:
        half = length >> 1
        if a[base + half].price > price:
            base += half
        length -= half
    return base + (1 if a[base].price > price else 0)


cdef inline int64_t side_qty_at(const LadderSide* s, int64_t price) noexcept nogil:
    """Displayed quantity at `price` (0 when there is no such level)."""
    cdef Py_ssize_t i
    if s.n > 0 and s.levels[s.n - 1].price == price:
        return s.levels[s.n - 1].qty
    i = side_lower_bound(s, price)
    if i < s.n and s.levels[i].price == price:
        return s.levels[i].qty
    return 0


cdef inline Py_ssize_t side_rank(const LadderSide* s, int64_t price) noexcept nogil:
    """0-based distance in levels from the touch of the level at or just inside `price`
    (how many existing levels are strictly better than `price`)."""
    cdef Py_ssize_t i = side_lower_bound(s, price)
    if i < s.n and s.levels[i].price == price:
        return s.n - 1 - i
    return s.n - i


cdef inline int side_set(LadderSide* s, int64_t price, int64_t qty, int64_t* old_qty) noexcept nogil:
    """Set the level at `price` to `qty` (0 deletes); `old_qty` receives the size it had (0
    when absent). Returns 1 when the book changed, 0 when it did not (same size, or deleting
    an absent level), -1 when the side would exceed LADDER_LEVELS_MAX or memory ran out (the
    level is then not inserted)."""
    cdef Py_ssize_t i, newcap
    cdef Level* grown
    cdef Level* top
    old_qty[0] = 0
    # Fast path: the touch itself.
    if s.n > 0:
        top = &s.levels[s.n - 1]
        if top.price == price:
            old_qty[0] = top.qty
            if qty == 0:
                s.n -= 1
                return 1
            if top.qty == qty:
                return 0
            top.qty = qty
            return 1
    i = side_lower_bound(s, price)
    if i < s.n and s.levels[i].price == price:
        old_qty[0] = s.levels[i].qty
        if qty == 0:
            memmove(&s.levels[i], &s.levels[i + 1], (s.n - i - 1) * sizeof(Level))
            s.n -= 1
            return 1
        if s.levels[i].qty == qty:
            return 0
        s.levels[i].qty = qty
        return 1
    if qty == 0:
        return 0
    if s.n == s.cap:
        if s.cap >= LADDER_LEVELS_MAX:
            return -1
        newcap = s.cap * 2 if s.cap > 0 else LADDER_INITIAL_LEVELS
        grown = <Level*>realloc(s.levels, newcap * sizeof(Level))
        if grown == NULL:
            return -1
        s.levels = grown
        s.cap = newcap
    memmove(&s.levels[i + 1], &s.levels[i], (s.n - i) * sizeof(Level))
    s.levels[i].price = price
    s.levels[i].qty = qty
    s.n += 1
    return 1


cdef inline void side_clear(LadderSide* s) noexcept nogil:
    s.n = 0


cdef inline int64_t side_px(const LadderSide* s, Py_ssize_t k) noexcept nogil:
    """Price of the k-th level from the touch (0 = best); the empty-level sentinel when the
    side has fewer levels: INT64_MIN for bids, INT64_MAX for asks."""
    if k < s.n:
        return s.levels[s.n - 1 - k].price
    return INT64_MIN if s.is_bid else INT64_MAX


cdef inline int64_t side_sz(const LadderSide* s, Py_ssize_t k) noexcept nogil:
    """Quantity of the k-th level from the touch; 0 when absent."""
    if k < s.n:
        return s.levels[s.n - 1 - k].qty
    return 0
