# Order-flow imbalance (OFI), per message and per level.
#
# Reference: R. Cont, A. Kukanov, S. Stoikov, "The Price Impact of Order Book Events",
# Journal of Financial Econometrics 12(1), 2014, eq. (3); the multi-level form is the same
# expression applied to the m-th best level of each side, as in K. Xu, M. D. Gould,
# S. D. Howison, "Multi-Level Order-Flow Imbalance in a Limit Order Book", 2018.
#
# With Pb, qb the price and size of the m-th best bid and Pa, qa of the m-th best ask, after
# message n and after message n-1:
#
#   e_n = 1{Pb_n >= Pb_n-1} qb_n - 1{Pb_n <= Pb_n-1} qb_n-1
#       - 1{Pa_n <= Pa_n-1} qa_n + 1{Pa_n >= Pa_n-1} qa_n-1
#
# in the instrument's integer quantity units (exact). A level that does not exist has size 0
# and price -inf on the bid side (INT64_MIN) and +inf on the ask side (INT64_MAX): a bid
# level that appears then contributes +qb_n, one that vanishes -qb_n-1, and two absent
# levels contribute 0 -- the limits of the formula, with no special cases.
#
# What it does NOT say: OFI is a flow measure, not a signal -- it names no pattern and no
# level; hidden (iceberg) liquidity and trades against it are invisible to it except
# through the displayed sizes; across a resync it is reset, not reconstructed.
#
# Parameters: the number of levels N (1..FLOW_MAX_LEVELS, engine/flow.pxd); level 1 is the
# Cont-Kukanov-Stoikov OFI. When there is no previous state (the first book message) or the
# venue marked the message as a resync (F_RESYNC), e_n is defined as 0 on every level.
from libc.stdint cimport int64_t


cdef inline int64_t ofi_term(int64_t bp, int64_t bq, int64_t pbp, int64_t pbq,
                             int64_t ap, int64_t aq, int64_t pap, int64_t paq) noexcept nogil:
    """e_n for one level, given (price, size) now and before on each side."""
    cdef int64_t e = 0
    if bp >= pbp:
        e += bq
    if bp <= pbp:
        e -= pbq
    if ap <= pap:
        e -= aq
    if ap >= pap:
        e += paq
    return e
