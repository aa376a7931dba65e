"""numba helpers over recorded arrays.

All inputs are plain NumPy arrays in the instrument's integer units (as the record carries
them); the definitions are exactly the engine's (engine/ofi.pxd, engine/vpin.pxd,
engine/det_delta_spike.pxd), written independently as array loops, so the tests use these as
a second implementation of the engine.

    tops = book_tops(batch, levels)              # (messages, levels, 4): bid px/qty, ask px/qty
    ofi = ofi_from_tops(tops)                    # (messages-1, levels) per-message OFI
    rows = vpin_from_trades(px, qty, ts, V, n, sigma_bars, bar_ns)
    z = delta_zscores(ts, signed_qty, bucket_ns, window)
    hits = sweep_delta_spike(ts, signed_qty, bucket_ns, windows, z_x100s, min_buckets)
    grid = sweep_engine(batch, [{"spoof_mult_pct": 300}, ...])   # the compiled engine per setting
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

INT64_MIN = np.iinfo(np.int64).min
INT64_MAX = np.iinfo(np.int64).max
PHI_ONE = 1 << 20


def load_records(path: str) -> np.ndarray:
    """A file of raw 64-byte records (e.g. `batch.tofile(path)`)."""
    from nexus.record import RECORD_DTYPE

    return np.fromfile(path, dtype=RECORD_DTYPE)


# -- book tops at message boundaries --------------------------------------------------------

def book_tops(batch: np.ndarray, levels: int) -> tuple[np.ndarray, np.ndarray]:
    """(tops, rec): the top `levels` of each side after every message (F_LAST) that carried
    book records, as an int64 array (messages, levels, 4) = bid price, bid size, ask price,
    ask size, absent levels as (INT64_MIN, 0) / (INT64_MAX, 0); and the ordinal of the record
    that ended each of those messages. A sorted-array book in numba (like the engine's)."""
    return _book_tops(batch["kind"].astype(np.int64), batch["side"].astype(np.int64),
                      batch["price"], batch["qty"], batch["flags"].astype(np.int64), levels)


@njit(cache=True)
def _set(px, qty, n, price, q, is_bid):
    # ascending prices for both sides; the touch is the end (bids) or the start (asks)
    lo, hi = 0, n
    while lo < hi:
        mid = (lo + hi) // 2
        if px[mid] < price:
            lo = mid + 1
        else:
            hi = mid
    if lo < n and px[lo] == price:
        if q > 0:
            qty[lo] = q
            return n
        for j in range(lo, n - 1):
            px[j] = px[j + 1]
            qty[j] = qty[j + 1]
        return n - 1
    if q <= 0:
        return n
    for j in range(n, lo, -1):
        px[j] = px[j - 1]
        qty[j] = qty[j - 1]
    px[lo] = price
    qty[lo] = q
    return n + 1


@njit(cache=True)
def _book_tops(kind, side, price, qty, flags, levels):
    cap = 16
    bp = np.empty(cap, np.int64)
    bq = np.empty(cap, np.int64)
    ap = np.empty(cap, np.int64)
    aq = np.empty(cap, np.int64)
    nb = 0
    na = 0
    n_msgs = 0
    for i in range(len(kind)):
        if flags[i] & 1:
            n_msgs += 1
    tops = np.empty((n_msgs, levels, 4), np.int64)
    recs = np.empty(n_msgs, np.int64)
    m = 0
    book_msg = False
    for i in range(len(kind)):
        k = kind[i]
        if k == 2:
            if side[i] != 2:
                nb = 0
            if side[i] != 1:
                na = 0
            book_msg = True
        elif k == 1 and (side[i] == 1 or side[i] == 2):
            if nb + 1 >= cap or na + 1 >= cap:
                cap *= 2
                bp2 = np.empty(cap, np.int64)
                bq2 = np.empty(cap, np.int64)
                ap2 = np.empty(cap, np.int64)
                aq2 = np.empty(cap, np.int64)
                bp2[:nb] = bp[:nb]
                bq2[:nb] = bq[:nb]
                ap2[:na] = ap[:na]
                aq2[:na] = aq[:na]
                bp, bq, ap, aq = bp2, bq2, ap2, aq2
            if side[i] == 1:
                nb = _set(bp, bq, nb, price[i], qty[i], True)
            else:
                na = _set(ap, aq, na, price[i], qty[i], False)
            book_msg = True
        if flags[i] & 1:
            if book_msg:
                for L in range(levels):
                    if L < nb:
                        tops[m, L, 0] = bp[nb - 1 - L]
                        tops[m, L, 1] = bq[nb - 1 - L]
                    else:
                        tops[m, L, 0] = INT64_MIN
                        tops[m, L, 1] = 0
                    if L < na:
                        tops[m, L, 2] = ap[L]
                        tops[m, L, 3] = aq[L]
                    else:
                        tops[m, L, 2] = INT64_MAX
                        tops[m, L, 3] = 0
                recs[m] = i
                m += 1
            book_msg = False
    return tops[:m], recs[:m]


@njit(cache=True)
def ofi_from_tops(tops):
    """Per-level OFI e_n between consecutive rows of `tops` (Cont, Kukanov & Stoikov 2014):
    row n of the result is the OFI of tops[n + 1] against tops[n]."""
    n, levels = tops.shape[0], tops.shape[1]
    out = np.zeros((max(n - 1, 0), levels), np.int64)
    for i in range(1, n):
        for L in range(levels):
            bp, bq, ap, aq = tops[i, L, 0], tops[i, L, 1], tops[i, L, 2], tops[i, L, 3]
            pbp, pbq, pap, paq = tops[i - 1, L, 0], tops[i - 1, L, 1], tops[i - 1, L, 2], tops[i - 1, L, 3]
            e = 0
            if bp >= pbp:
                e += bq
            if bp <= pbp:
                e -= pbq
            if ap <= pap:
                e -= aq
            if ap >= pap:
                e += paq
            out[i - 1, L] = e
    return out


# -- VPIN -----------------------------------------------------------------------------------

@njit(cache=True)
def _phi_q(win, dp):
    """floor(Phi(dp / sigma) * 2^20) over the window `win` (engine/vpin.pxd). c*S2 - S1^2 is
    formed exactly in int64 when c*S2 fits (S1^2 <= c*S2 by Cauchy-Schwarz, so then all of it
    fits); past that it is formed in floating point (research precision, not the engine's)."""
    c = len(win)
    s1 = 0
    s2 = 0
    exact = True
    for j in range(c):
        v = win[j]
        s1 += v
        if exact:
            if abs(v) > 3037000499 or s2 > INT64_MAX - v * v:
                exact = False
            else:
                s2 += v * v
    if exact and c > 0 and s2 > INT64_MAX // c:
        exact = False
    if exact:
        num = float(c * s2 - s1 * s1)
    else:
        f2 = 0.0
        for j in range(c):
            f2 += float(win[j]) * float(win[j])
        num = float(c) * f2 - float(s1) * float(s1)
    if num <= 0.0:
        if dp > 0:
            return PHI_ONE
        if dp < 0:
            return 0
        return PHI_ONE // 2
    z = (float(dp) * float(c)) / math.sqrt(num)
    return int(0.5 * math.erfc(-z * 0.7071067811865476) * PHI_ONE)


@njit(cache=True)
def vpin_from_trades(price, qty, ts, bucket_volume, window, sigma_bars, bar_ns):
    """VPIN rows (trade index that completed the bucket, bucket ordinal, num, den) for a
    trade tape, by the engine's definition (engine/vpin.pxd); see _phi_q for its one
    precision limit."""
    n = len(price)
    # bars: (closing trade index, volume, close)
    bar_i = np.empty(n + 1, np.int64)
    bar_v = np.empty(n + 1, np.int64)
    bar_c = np.empty(n + 1, np.int64)
    nbars = 0
    open_ = False
    cur_id = 0
    cur_v = 0
    cur_c = 0
    for i in range(n):
        q = qty[i]
        if q <= 0:
            continue
        if bar_ns == 0:
            bar_i[nbars] = i
            bar_v[nbars] = q
            bar_c[nbars] = price[i]
            nbars += 1
            continue
        t = ts[i] if ts[i] > 0 else 0
        b = t // bar_ns
        if open_ and b > cur_id:
            bar_i[nbars] = i
            bar_v[nbars] = cur_v
            bar_c[nbars] = cur_c
            nbars += 1
            open_ = False
        if not open_:
            open_ = True
            cur_id = b
            cur_v = 0
        cur_v += q
        cur_c = price[i]
    out = np.empty((nbars * 2 + (int(qty.sum()) // bucket_volume if n else 0) + 1, 4), np.int64)
    rows = 0
    dps = np.empty(max(nbars, 1), np.int64)
    imbs = np.empty(max(window, 1), np.int64)
    filled = 0
    buy = 0
    buckets = 0
    imb_sum = 0
    for j in range(nbars):
        if j == 0:
            phi = PHI_ONE // 2
        else:
            dps[j - 1] = bar_c[j] - bar_c[j - 1]
            lo = max(0, j - sigma_bars)
            phi = _phi_q(dps[lo:j], dps[j - 1])
        v = bar_v[j]
        while v > 0:
            take = min(v, bucket_volume - filled)
            filled += take
            buy += take * phi
            v -= take
            if filled == bucket_volume:
                imb = abs(bucket_volume * PHI_ONE - 2 * buy)
                slot = buckets % window
                if buckets >= window:
                    imb_sum -= imbs[slot]
                imbs[slot] = imb
                imb_sum += imb
                if buckets + 1 >= window:
                    out[rows, 0] = bar_i[j]
                    out[rows, 1] = buckets
                    out[rows, 2] = imb_sum
                    out[rows, 3] = window * bucket_volume * PHI_ONE
                    rows += 1
                buckets += 1
                filled = 0
                buy = 0
    return out[:rows]


# -- delta z-scores and a sweep ---------------------------------------------------------------

@njit(cache=True)
def delta_buckets(ts, signed_qty, bucket_ns):
    """Per time bucket of bucket_ns (empty buckets included): (bucket ids, deltas)."""
    if len(ts) == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    first = max(ts[0], 0) // bucket_ns
    last = first
    for i in range(len(ts)):
        b = max(ts[i], 0) // bucket_ns
        if b > last:
            last = b
    deltas = np.zeros(last - first + 1, np.int64)
    cur = first
    for i in range(len(ts)):
        b = max(ts[i], 0) // bucket_ns
        if b > cur:
            cur = b
        deltas[cur - first] += signed_qty[i]
    return np.arange(first, last + 1), deltas


@njit(cache=True)
def delta_zscores(deltas, window):
    """z of each bucket's delta against the previous `window` buckets (population sd; NaN
    before two buckets or with zero sd)."""
    n = len(deltas)
    z = np.full(n, np.nan)
    for i in range(1, n):
        lo = max(0, i - window)
        c = i - lo
        s1 = 0.0
        s2 = 0.0
        for j in range(lo, i):
            s1 += deltas[j]
            s2 += float(deltas[j]) * deltas[j]
        var = c * s2 - s1 * s1
        if c >= 2 and var > 0:
            z[i] = (c * deltas[i] - s1) / math.sqrt(var)
    return z


@njit(cache=True)
def sweep_delta_spike(deltas, windows, z_x100s, min_buckets):
    """How many buckets would be delta spikes for each (window, z threshold) pair: a
    research sweep of the delta-spike parameters over a recorded day (completed buckets)."""
    out = np.zeros((len(windows), len(z_x100s)), np.int64)
    for a in range(len(windows)):
        w = windows[a]
        for i in range(1, len(deltas)):
            lo = max(0, i - w)
            c = i - lo
            if c < min_buckets or deltas[i] == 0:
                continue
            s1 = 0.0
            s2 = 0.0
            for j in range(lo, i):
                s1 += deltas[j]
                s2 += float(deltas[j]) * deltas[j]
            var = c * s2 - s1 * s1
            num = c * deltas[i] - s1
            z = num / math.sqrt(var) if var > 0 else num / c
            if (z > 0) != (deltas[i] > 0):
                continue
            for b in range(len(z_x100s)):
                if abs(z) * 100.0 >= z_x100s[b]:
                    out[a, b] += 1
    return out


def sweep_engine(batch: np.ndarray, settings: list[dict], base=None) -> list[dict]:
    """Run the compiled engine once per parameter setting over a recorded batch and count
    the signals per type: the detector parameter sweep (10+ M records/s per setting)."""
    from nexus.flow.params import FlowParams
    from nexus.flow.runner import FlowRunner
    from nexus.flow.signals import SIGNAL_NAMES

    base = base or FlowParams()
    out = []
    for s in settings:
        res = FlowRunner(base.replace(**s), capacity=1 << 14).run(batch)
        counts = {name: int((res.signals["aux"] == t).sum()) for t, name in SIGNAL_NAMES.items()}
        out.append({"setting": s, "signals": counts})
    return out
