"""`nexus bench agg`: consensus-book update cost per venue level update, native vs a
pure-Python merge of the same venue updates, same run, results checked equal first.

Stream: five venues, each a 500-level-per-side snapshot then 10+10-level deltas near the
touch, in venue units already converted to the consensus grid (the conversion is part of
the native apply path and is included in its timing via per-venue scales).

The job timed, native and Python alike: apply one venue message, after which the consumer
holds the current consensus best bid and best ask (price and total). Native:
`Consensus.apply_touch()` applies and says whether the touch changed, and `touch()` is read
only then; Python reads its touch after every message (as cheap as finding out whether it
changed). That is what is read per message in Nexus: the runtime publishes the consensus
touch on the consensus ring when it changes (nexus/feeds/runtime.py `_publish_consensus`).
Applying then reading best_bid() and best_ask() (each side's per-venue list) is timed as
well: `native_best_lists_*`. The Aggregator itself reads nothing from the
consensus per message (its best/mid and depth-share reads are in the once-a-second
`tick`/`venue_metrics`/`summary`; divergence compares the venues' own book mids), and
ConsensusFlow reads the top levels per message, a larger read than this one.

The pure-Python baseline for that job (`PySortedConsensus`) keeps what the native book
keeps: per-venue quantity per level, totals over the included venues, and the order of the
live levels (a sorted key list maintained with bisect, best last), so its touch is
available after every message. The former baseline (`PyUnsortedConsensus`: an unsorted
dict, sorted once at the very end, no reads) does less than the native book; its figure is
still reported, labelled, against the native apply-only figure.

The full five-venue replay (`nexus agg replay` of a recorded simulator session, without
printing) is timed twice in the same run: with the native consensus and with
`PyRecordConsensus` (the same pure-Python merge behind the Consensus API the Aggregator
calls); both replays' lines are checked identical first. Decoding and the venues' sync rules
dominate both, so that ratio is small.
"""

from __future__ import annotations

import time
from bisect import bisect_left, insort

import numpy as np

from nexus import record
from nexus._native import Consensus
from nexus.bench.book import make_stream
from nexus.bench.stats import median

BID, ASK = int(record.Side.BID), int(record.Side.ASK)
VENUES = 5


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


PyConsensus = PyUnsortedConsensus  # the name the former baseline had

_K_LEVEL, _K_CLEAR = int(record.Kind.BOOK_LEVEL), int(record.Kind.BOOK_CLEAR)


class PyRecordConsensus(PySortedConsensus):
    """PySortedConsensus behind the native Consensus API the Aggregator uses (records in venue
    units converted by per-venue scales, apply_touch, touch, best/top/depth reads, clears,
    exclusions): the pure-Python merge in the full five-venue replay, same run."""

    def __init__(self, venues: int = VENUES):
        super().__init__(venues)
        self.scales = [(1, 1, 1, False)] * venues

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
                    if self.included[v]:
                        per[v] += row[v]
                total += row[self.n]
        return per, total


def replay_throughput(seconds: float = 15, rounds: int = 3, progress=None) -> dict:
    """A recorded five-venue simulator session through decoders, sync rules and the
    consensus (`nexus agg replay` without printing), as fast as possible."""
    import os
    import tempfile

    from nexus.agg.replay import replay_agg
    from nexus.bench.feeds import record_session
    from nexus.feeds.recording import FRAME, REST, RecordingReader

    say = progress or (lambda m: None)
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "five.nxr")
        say("recording a five-venue session for the replay throughput")
        record_session(path, seconds)
        with RecordingReader(path) as r:
            n = sum(1 for f in r if f.kind in (FRAME, REST))
        # the same replay with the pure-Python merge in place of the native consensus: lines
        # checked identical first, then timed alternately
        native_lines, py_lines = [], []
        replay_agg(path, native_lines.append)
        replay_agg(path, py_lines.append, consensus=PyRecordConsensus())
        if native_lines != py_lines:
            raise AssertionError("the replay's lines differ between the native and the pure-Python consensus")
        times, py_times = [], []
        for _ in range(rounds):
            t0 = time.perf_counter_ns()
            replay_agg(path, lambda line: None)
            times.append(time.perf_counter_ns() - t0)
            t0 = time.perf_counter_ns()
            replay_agg(path, lambda line: None, consensus=PyRecordConsensus())
            py_times.append(time.perf_counter_ns() - t0)
    return {"agg_replay_msgs": n, "agg_replay_msgs_per_s": n / (median(times) / 1e9),
            "agg_replay_python_merge_msgs_per_s": n / (median(py_times) / 1e9),
            "agg_replay_ratio_native_vs_python_merge": median(py_times) / median(times),
            "agg_replay_lines_checked": len(native_lines)}


def _touch(b, a):
    return (b[0], b[1]) if b else None, (a[0], a[1]) if a else None


def _native_loaded(streams) -> Consensus:
    c = Consensus()
    for v in range(VENUES):
        c.set_scale(v, 1, 1)
        c.apply(v, streams[v][0])
    return c


def _python_loaded(cls, streams):
    pc = cls()
    for v in range(VENUES):
        s = streams[v][0][1:]
        for side, p, q in zip(s["side"].tolist(), s["price"].tolist(), s["qty"].tolist()):
            pc.set(v, side, p, q)
    return pc


def _check_equal(streams, order) -> None:
    """Untimed: the native book and the sorted baseline agree on the touch after every
    message, and on the final top 25 per side with the per-venue breakdown."""
    c, pc = _native_loaded(streams), _python_loaded(PySortedConsensus, streams)
    for n, (v, i) in enumerate(order):
        c.apply(v, streams[v][1][i * 20 : i * 20 + 20])
        if n % 2:
            pc.apply(v, streams[v][2][i])
        else:  # both Python paths checked
            for side, p, q in streams[v][2][i]:
                pc.set(v, side, p, q)
        b, a = c.best_bid(), c.best_ask()
        if (_touch(b, a), c.touch()) != ((pc.best(BID), pc.best(ASK)), pc.touch()):
            raise AssertionError(f"native consensus touch disagrees with the pure-Python merge at venue {v} message {i}")
    for side in (BID, ASK):
        got = [(p, t, q[:VENUES]) for p, t, q in c.top(side, 25)]
        if got != pc.top(side, 25):
            raise AssertionError("native consensus top 25 disagrees with the pure-Python merge")


def run(messages: int = 10_000, rounds: int = 5, progress=None, replay: bool = True) -> dict:
    say = progress or (lambda m: None)
    streams = [make_stream(messages // VENUES, depth=500, seed=10 + v) for v in range(VENUES)]
    # interleave venues message by message, as the runtime would see them
    order = [(v, i) for i in range(messages // VENUES) for v in range(VENUES)]
    n_updates = sum(len(s[1]) for s in streams)
    res: dict = {"benchmark": "agg", "venues": VENUES, "venue_level_updates": n_updates, "rounds": rounds}

    say("checking the native consensus against the pure-Python merge, message by message")
    _check_equal(streams, order)

    views = [(v, streams[v][1][i * 20 : i * 20 + 20]) for v, i in order]
    msgs = [(v, streams[v][2][i]) for v, i in order]
    series: dict[str, list[int]] = {k: [] for k in ("native", "native_best_lists", "native_apply", "bulk", "py", "py_unsorted")}
    for r in range(rounds):  # every series once per round, so load changes hit them all alike
        say(f"round {r + 1}/{rounds}: native, then pure Python")
        c = _native_loaded(streams)
        apply_touch, touch = c.apply_touch, c.touch
        t = touch()
        t0 = time.perf_counter_ns()
        for v, view in views:
            if apply_touch(v, view):   # the touch changed: read it (else the last one holds)
                t = touch()
        series["native"].append(time.perf_counter_ns() - t0)
        if t != c.touch():
            raise AssertionError("the touch followed through apply_touch differs from the book's")

        c = _native_loaded(streams)
        t0 = time.perf_counter_ns()
        for v, view in views:
            c.apply(v, view)
            c.best_bid()
            c.best_ask()
        series["native_best_lists"].append(time.perf_counter_ns() - t0)

        c = _native_loaded(streams)
        t0 = time.perf_counter_ns()
        for v, view in views:
            c.apply(v, view)
        series["native_apply"].append(time.perf_counter_ns() - t0)

        # one apply per venue stream isolates the merge from Python call overhead
        c = _native_loaded(streams)
        t0 = time.perf_counter_ns()
        for v in range(VENUES):
            c.apply(v, streams[v][1])
        series["bulk"].append(time.perf_counter_ns() - t0)

        pc = _python_loaded(PySortedConsensus, streams)
        papply, ptouch = pc.apply, pc.touch
        t0 = time.perf_counter_ns()
        for v, msg in msgs:
            papply(v, msg)
            ptouch()
        series["py"].append(time.perf_counter_ns() - t0)

        pu = _python_loaded(PyUnsortedConsensus, streams)
        uset = pu.set
        t0 = time.perf_counter_ns()
        for v, msg in msgs:
            for side, p, q in msg:
                uset(v, side, p, q)
        series["py_unsorted"].append(time.perf_counter_ns() - t0)
    want = (pu.top(BID, 25), pu.top(ASK, 25))
    got = ([(p, t) for p, t, _ in c.top(BID, 25)], [(p, t) for p, t, _ in c.top(ASK, 25)])
    if got != want:
        raise AssertionError("native consensus disagrees with the unsorted pure-Python merge")

    ns = {k: median(v) / n_updates for k, v in series.items()}
    res["native_ns_per_venue_level_update"] = ns["native"]
    res["native_best_lists_ns_per_venue_level_update"] = ns["native_best_lists"]
    res["native_apply_only_ns_per_venue_level_update"] = ns["native_apply"]
    res["native_ns_per_venue_level_update_bulk"] = ns["bulk"]
    res["python_ns_per_venue_level_update"] = ns["py"]
    res["ratio_native_vs_python"] = ns["py"] / ns["native"]
    res["python_unsorted_dict_ns_per_venue_level_update"] = ns["py_unsorted"]
    res["ratio_native_apply_only_vs_python_unsorted_dict"] = ns["py_unsorted"] / ns["native_apply"]
    res["per_round_ratio_native_vs_python"] = [p / n for p, n in zip(series["py"], series["native"])]
    res["baselines"] = {
        "python": "PySortedConsensus: per-venue quantities, totals over included venues, live levels kept "
                  "sorted (bisect); after each venue message reads the touch (best bid/ask price and total); "
                  "the native run holds the same touch via Consensus.apply_touch() + touch() when it changed",
        "python_unsorted_dict": "former baseline PyUnsortedConsensus: unsorted dict, sorted once at the end, "
                                "no touch between messages; compared with native_apply_only (no reads either)",
        "python_remerge": "each venue's book as a dict, the top 25 re-merged after every message",
    }

    say("pure-Python re-merge of the five venue books after every message (top 25)")
    res.update(_remerge_baseline(streams, order, want, res["native_ns_per_venue_level_update"]))
    if replay:
        res.update(replay_throughput(progress=progress))
    res["targets"] = {
        "native_ns_per_venue_level_update": {"target": 200, "met": res["native_ns_per_venue_level_update"] <= 200},
        "ratio_native_vs_python": {
            "target": 20, "met": res["ratio_native_vs_python"] >= 20, "baseline": "python",
            "why": "the pure-Python merge doing the same job as the native book (sorted levels, touch read after "
                   "every venue message); the unsorted-dict baseline skips the ordering the native book pays for",
        },
    }
    return res


def _remerge_baseline(streams, order, want, native_ns) -> dict:
    """The naive aggregator: keep each venue's book as a dict and, after each venue message,
    merge the five books' top levels into a fresh consensus (what a consumer recomputing the
    fused view per message does). Timed on a prefix of the stream: it is slow."""
    import heapq

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
