# A 128-bit signed integer for the few accumulators whose products can pass 2^63 (sums of
# squared price changes in VPIN's sigma). GCC and Clang provide __int128 on 64-bit targets.
# Cython sees it as a `long long`, so NEVER let one reach Python (it would be truncated):
# convert to double (correctly rounded, like Python's float(int)) or compare in C.
cdef extern from *:
    ctypedef long long int128_t "__int128"
