"""Plain, obviously-correct reference implementations of the flow metrics, written from the
definitions (engine/ofi.pxd, obi.pxd, vpin.pxd, nexus.flow.params) without looking at the
engine's data structures: a dict book re-sorted whenever it is read, whole-state
comparisons, Fractions for ratios, windows recomputed from scratch with sum().

Records are taken as plain tuples (kind, side, price, qty, flags, ts) so the reference
shares no code with the engine."""

from __future__ import annotations

import math
from fractions import Fraction

BOOK_LEVEL, BOOK_CLEAR, TRADE = 1, 2, 3
F_LAST, F_RESYNC = 1, 4
BID, ASK = 1, 2
PHI_ONE = 2**20
INF = math.inf


def as_tuples(batch):
    return [(int(r["kind"]), int(r["side"]), int(r["price"]), int(r["qty"]), int(r["flags"]), int(r["ts_exchange_ns"]))
            for r in batch]


def messages(recs):
    """Split (record ordinal, record) into messages ending with F_LAST; a trailing partial
    message is left out (it has not ended)."""
    out, cur = [], []
    for i, r in enumerate(recs):
        cur.append((i, r))
        if r[4] & F_LAST:
            out.append(cur)
            cur = []
    return out


def level(book_side, k, is_bid):
    """(price, size) of the k-th best level, or (-inf, 0) / (+inf, 0) when absent."""
    prices = sorted(book_side, reverse=is_bid)
    if k < len(prices):
        return prices[k], book_side[prices[k]]
    return (-INF if is_bid else INF), 0


def ofi_level(now_b, before_b, now_a, before_a):
    """e_n of Cont, Kukanov & Stoikov (2014), eq. 3, for one level."""
    (pb, qb), (pb0, qb0), (pa, qa), (pa0, qa0) = now_b, before_b, now_a, before_a
    return ((qb if pb >= pb0 else 0) - (qb0 if pb <= pb0 else 0)
            - (qa if pa <= pa0 else 0) + (qa0 if pa >= pa0 else 0))


def metrics(recs, ofi_levels=5, obi_levels=5):
    """One dict per message that changed the book or carried trades."""
    bids, asks = {}, {}
    prev = None  # (bids, asks) copies after the previous book-changing message
    cvd = 0
    rows = []
    for n, msg in enumerate(messages(recs)):
        before = (dict(bids), dict(asks))
        buy = sell = trades = 0
        resync = False
        for _, (kind, side, price, qty, flags, ts) in msg:
            resync = resync or bool(flags & F_RESYNC)
            if kind == BOOK_CLEAR:
                if side in (0, BID):
                    bids.clear()
                if side in (0, ASK):
                    asks.clear()
            elif kind == BOOK_LEVEL and side in (BID, ASK):
                book = bids if side == BID else asks
                if qty > 0:
                    book[price] = qty
                else:
                    book.pop(price, None)
            elif kind == TRADE and qty > 0:
                trades += 1
                if side == BID:
                    buy += qty
                    cvd += qty
                elif side == ASK:
                    sell += qty
                    cvd -= qty
        changed = (bids, asks) != before
        if not (changed or trades):
            continue
        ofi = [0] * ofi_levels
        reset = False
        if changed:
            reset = resync or prev is None
            if not reset:
                pb, pa = prev
                ofi = [ofi_level(level(bids, k, True), level(pb, k, True), level(asks, k, False), level(pa, k, False))
                       for k in range(ofi_levels)]
            prev = (dict(bids), dict(asks))
        sb = sum(q for _, q in sorted(bids.items(), reverse=True)[:obi_levels])
        sa = sum(q for _, q in sorted(asks.items())[:obi_levels])
        rows.append({
            "msg": n, "rec": msg[-1][0],
            "best_bid": max(bids) if bids else None, "best_ask": min(asks) if asks else None,
            "bid_qty": bids[max(bids)] if bids else 0, "ask_qty": asks[min(asks)] if asks else 0,
            "ofi": ofi, "obi": Fraction(sb - sa, sb + sa) if sb + sa else None,
            "cvd": cvd, "buy": buy, "sell": sell, "changed": changed, "reset": reset,
        })
    return rows


def bvc_phi_q(dps):
    """floor(Phi(dP/sigma) * 2^20) for the last value of `dps` (the window, current bar last),
    the standard normal CDF in IEEE double exactly as documented in engine/vpin.pxd."""
    dp, c = dps[-1], len(dps)
    s1, s2 = sum(dps), sum(d * d for d in dps)
    num = c * s2 - s1 * s1
    if num <= 0:
        return PHI_ONE if dp > 0 else 0 if dp < 0 else PHI_ONE // 2
    z = (float(dp) * float(c)) / math.sqrt(float(num))
    return int(0.5 * math.erfc(-z * math.sqrt(0.5)) * PHI_ONE)


def vpin(recs, bucket_volume, window, sigma_bars=50, bar_ns=0):
    """[(record ordinal, Fraction VPIN)] per completed bucket once `window` buckets exist.

    Bars are built first (with the record ordinal at which each closes), then each bar's
    volume is cut into bucket-sized pieces; VPIN is the mean |sell - buy| / V over the last
    `window` buckets."""
    bars = []  # (ordinal at which the bar closes, volume, close price)
    open_bar = None  # [bar id, volume, close]
    for i, (kind, side, price, qty, flags, ts) in enumerate(recs):
        if kind != TRADE or qty <= 0:
            continue
        if bar_ns == 0:
            bars.append((i, qty, price))
            continue
        bid = max(ts, 0) // bar_ns
        if open_bar is not None and bid > open_bar[0]:
            bars.append((i, open_bar[1], open_bar[2]))
            open_bar = None
        if open_bar is None:
            open_bar = [bid, 0, 0]
        open_bar[1] += qty
        open_bar[2] = price
    dps = []
    buckets = []  # Fraction imbalance / V per bucket
    out = []
    fill, buy = 0, Fraction(0)
    for j, (i, vol, close) in enumerate(bars):
        if j == 0:
            phi = Fraction(1, 2)
        else:
            dps.append(close - bars[j - 1][2])
            phi = Fraction(bvc_phi_q(dps[-sigma_bars:]), PHI_ONE)
        while vol > 0:
            take = min(vol, bucket_volume - fill)
            fill += take
            buy += take * phi
            vol -= take
            if fill == bucket_volume:
                sell = bucket_volume - buy
                buckets.append(abs(sell - buy) / bucket_volume)
                if len(buckets) >= window:
                    out.append((i, sum(buckets[-window:]) / window))
                fill, buy = 0, Fraction(0)
    return out
