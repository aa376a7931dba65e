"""The pure-Python consensus books `nexus bench agg` compares the native Consensus with
(benchmark baselines and test references, not shipped in the nexus package):

* PySortedConsensus: the native book's job in pure Python -- per-venue quantity per level,
  totals over the included venues and the live levels kept sorted (bisect), so its touch
  is available after every message;
* PyUnsortedConsensus: the former baseline, an unsorted dict sorted once at the end (no
  touch between messages; it does less than the native book);
* PyRecordConsensus: PySortedConsensus behind the native Consensus API the Aggregator
  calls, for the full five-venue replay;
* remerge_timed: the naive aggregator that re-merges the venues' books after every message.
"""

from __future__ import annotations

import heapq
import time
from bisect import bisect_left, insort

from nexus import record
from nexus.bench.agg import ASK, BID, VENUES

class PySortedConsensus:
    """Pure-Python consensus doing the native book's job: per side, {price: [qty per venue
    ..., total over included venues]} and a sorted list of the keys of the levels with a
    positive total (bids: price, asks: -price, so the best is last on both sides and most
    inserts and deletes near the touch move few list items)."""

    def __init__(self, venues: int = VENUES):
        self.n = venues
        self.rows: tuple = (None, {}, {})  # indexed by side (BID 1, ASK 2)
        self.keys: tuple = (None, [], [])
        self.included = [True] * venues

    def set(self, v, side, price, qty):
        rows = self.rows[side]
        row = rows.get(price)
        if row is None:
            if not qty:
                return
            row = rows[price] = [0] * (self.n + 1)
        old = row[v]
        row[v] = qty
        if self.included[v]:
            n = self.n
            was = row[n]
            now = row[n] = was + qty - old
            if (was > 0) is not (now > 0):
                keys = self.keys[side]
                k = price if side == BID else -price
                if now > 0:
                    insort(keys, k)
                else:
                    del keys[bisect_left(keys, k)]
        if not qty and not any(row):  # no venue left (the total is then 0 too)
            del rows[price]

    def apply(self, v, msg):
        """One venue message, [(side, price, qty), ...]: `set` unrolled with its lookups
        hoisted out of the loop (about a third faster than calling `set` per update)."""
        n = self.n
        inc = self.included[v]
        _, bid_rows, ask_rows = self.rows
        _, bid_keys, ask_keys = self.keys
        for side, price, qty in msg:
            if side == BID:
                rows, keys, k = bid_rows, bid_keys, price
            else:
                rows, keys, k = ask_rows, ask_keys, -price
            row = rows.get(price)
            if row is None:
                if not qty:
                    continue
                row = rows[price] = [0] * (n + 1)
            old = row[v]
            row[v] = qty
            if inc:
                was = row[n]
                now = row[n] = was + qty - old
                if (was > 0) is not (now > 0):
                    if now > 0:
                        insort(keys, k)
                    else:
                        del keys[bisect_left(keys, k)]
            if not qty and not any(row):
                del rows[price]

    def best(self, side):
        """(price, total) of the best level with a positive total, or None."""
        keys = self.keys[side]
        if not keys:
            return None
        p = keys[-1] if side == BID else -keys[-1]
        return p, self.rows[side][p][self.n]

    def touch(self):
        """(bid price, bid total, ask price, ask total), or None while a side is empty."""
        _, bk, ak = self.keys
        if not bk or not ak:
            return None
        _, br, ar = self.rows
        b, a = bk[-1], -ak[-1]
        return b, br[b][self.n], a, ar[a][self.n]

    def set_included(self, v, included):
        if self.included[v] == included:
            return
        self.included[v] = included
        sign = 1 if included else -1
        for side in (BID, ASK):
            for row in self.rows[side].values():
                row[self.n] += sign * row[v]
            self.keys[side][:] = sorted((p if side == BID else -p) for p, r in self.rows[side].items() if r[self.n] > 0)

    def top(self, side, n):
        keys = self.keys[side]
        rows = self.rows[side]
        out = []
        for k in reversed(keys[-n:]):
            p = k if side == BID else -k
            out.append((p, rows[p][self.n], rows[p][: self.n]))
        return out

    def top_into(self, bids_out, asks_out):
        """As native Consensus.top_into: (price, total) rows into (n, 2) arrays."""
        counts = []
        for side, arr in ((BID, bids_out), (ASK, asks_out)):
            levels = self.top(side, len(arr))
            for i, (p, total, _) in enumerate(levels):
                arr[i] = (p, total)
            counts.append(len(levels))
        return tuple(counts)


class PyUnsortedConsensus:
    """The former baseline, kept for comparison: {price: [qty per venue, total]} per side,
    no order kept, sorted once at the end (no touch available between messages)."""

    def __init__(self):
        self.levels = {BID: {}, ASK: {}}

    def set(self, v, side, price, qty):
        lv = self.levels[side]
        row = lv.get(price)
        if row is None:
            if qty == 0:
                return
            row = lv[price] = [0] * (VENUES + 1)
        row[VENUES] += qty - row[v]
        row[v] = qty
        if row[VENUES] == 0 and not any(row[:VENUES]):
            del lv[price]

    def top(self, side, n):
        lv = self.levels[side]
        prices = sorted((p for p, r in lv.items() if r[VENUES] > 0), reverse=(side == BID))[:n]
        return [(p, lv[p][VENUES]) for p in prices]


_K_LEVEL, _K_CLEAR = int(record.Kind.BOOK_LEVEL), int(record.Kind.BOOK_CLEAR)


class PyRecordConsensus(PySortedConsensus):
    """PySortedConsensus behind the native Consensus API the Aggregator uses (records in venue
    units converted by per-venue scales, apply_touch, touch, best/top/depth reads, clears,
    exclusions): the pure-Python merge in the full five-venue replay, same run."""

    def __init__(self, venues: int = VENUES):
        super().__init__(venues)
        self.scales = [(1, 1, 1, False)] * venues
        self._hide = {BID: [None] * venues, ASK: [None] * venues}

    def set_scale(self, v, price_mul, qty_mul, qty_div=1, inverse=False):
        self.scales[v] = (price_mul, qty_mul, qty_div, inverse)

    def set_tick(self, tick):
        pass  # a layout hint for the native ladder; nothing to do here

    def apply_touch(self, v, batch) -> bool:
        before = (self.best(BID), self.best(ASK))   # per side, as native: a side appearing counts
        pm, qm, qd, inv = self.scales[v]
        msg = []
        for k, side, p, q in zip(batch["kind"].tolist(), batch["side"].tolist(), batch["price"].tolist(),
                                 batch["qty"].tolist()):
            if k == _K_LEVEL:
                pc = p * pm
                if inv:
                    qc = (q * qm) // (pc * qd) if pc else 0
                else:
                    qc = q * qm // qd
                msg.append((side, pc, qc))
            elif k == _K_CLEAR:
                if msg:
                    self.apply(v, msg)
                    msg = []
                self.clear_venue(v, side)
        if msg:
            self.apply(v, msg)
        return (self.best(BID), self.best(ASK)) != before

    def clear_venue(self, v, side=0):
        for s in (BID, ASK):
            if side in (0, s):
                self.apply(v, [(s, p, 0) for p, row in list(self.rows[s].items()) if row[v]])

    def best_bid(self):
        t = self.top(BID, 1)
        return t[0] if t else None

    def best_ask(self):
        t = self.top(ASK, 1)
        return t[0] if t else None

    def depth_between(self, side, lo, hi):
        per, total = [0] * self.n, 0
        for p, row in self.rows[side].items():
            if lo <= p <= hi:
                for v in range(self.n):
                    if self.included[v] and not self._hidden(side, v, p):
                        per[v] += row[v]
                total += row[self.n]
        return per, total

    # -- hidden levels (native Consensus.set_hide: the Aggregator's uncrossing by freshness) --

    def _hidden(self, side, v, p):
        h = self._hide[side][v]
        return h is not None and (p >= h if side == BID else p <= h)

    def set_hide(self, v, side, price=None):
        """Venue v's levels on `side` at `price` and better leave the totals (None: none do);
        the totals of the levels whose state changes are redone, the live keys re-sorted."""
        old = self._hide[side][v]
        if old == price:
            return
        self._hide[side][v] = price
        if not self.included[v]:
            return
        n, keys = self.n, self.keys[side]
        for p, row in self.rows[side].items():
            if not row[v]:
                continue
            was_h = old is not None and (p >= old if side == BID else p <= old)
            now_h = self._hidden(side, v, p)
            if was_h is now_h:
                continue
            was = row[n]
            now = row[n] = was + (row[v] if was_h else -row[v])
            if (was > 0) is not (now > 0):
                k = p if side == BID else -p
                if now > 0:
                    insort(keys, k)
                else:
                    del keys[bisect_left(keys, k)]

    def hidden_from(self, v, side):
        return self._hide[side][v]

    def apply(self, v, msg):
        if self._hide[BID][v] is None and self._hide[ASK][v] is None:
            return super().apply(v, msg)
        # a venue with hidden levels: a hidden update is stored and counts in no total
        for side, price, qty in msg:
            if not self._hidden(side, v, price):
                self.set(v, side, price, qty)
                continue
            rows = self.rows[side]
            row = rows.get(price)
            if row is None:
                if not qty:
                    continue
                row = rows[price] = [0] * (self.n + 1)
            row[v] = qty
            if not qty and not any(row):
                del rows[price]

    def set_included(self, v, included):
        if self.included[v] == included:
            return
        self.included[v] = included
        n = self.n
        for side in (BID, ASK):
            for p, row in self.rows[side].items():
                row[n] = sum(row[u] for u in range(n) if self.included[u] and not self._hidden(side, u, p))
            self.keys[side][:] = sorted((p if side == BID else -p) for p, r in self.rows[side].items() if r[n] > 0)

    def top(self, side, n):
        out = []
        for p, total, qty in super().top(side, n):
            out.append((p, total, [0 if self._hidden(side, v, p) else q for v, q in enumerate(qty)]))
        return out



def remerge_timed(streams, order, native_ns) -> dict:
    """The naive aggregator: keep each venue's book as a dict and, after each venue message,
    merge the five books' top levels into a fresh consensus (what a consumer recomputing the
    fused view per message does). Timed on a prefix of the stream: it is slow."""
    books = [{BID: {}, ASK: {}} for _ in range(VENUES)]
    for v in range(VENUES):
        s = streams[v][0][1:]
        for side, p, q in zip(s["side"].tolist(), s["price"].tolist(), s["qty"].tolist()):
            books[v][side][p] = q

    def merged_top(side, n=25):
        iters = [sorted(b[side].items(), reverse=(side == BID))[:n] for b in books]
        out: dict[int, int] = {}
        for p, q in heapq.merge(*iters, key=lambda x: -x[0] if side == BID else x[0]):
            out[p] = out.get(p, 0) + q
        return sorted(out.items(), reverse=(side == BID))[:n]

    msgs = [(v, streams[v][2][i]) for v, i in order]
    prefix = msgs[: max(50, len(msgs) // 20)]
    t0 = time.perf_counter_ns()
    for v, msg in prefix:
        for side, p, q in msg:
            if q:
                books[v][side][p] = q
            else:
                books[v][side].pop(p, None)
        merged_top(BID), merged_top(ASK)
    dt = time.perf_counter_ns() - t0
    ns = dt / (len(prefix) * 20)
    return {"python_remerge_ns_per_venue_level_update": ns, "ratio_native_vs_python_remerge": ns / native_ns,
            "python_remerge_messages_timed": len(prefix)}
