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

Inputs in cache (`*_warm_inputs`, an additional series; the figures above and their
definition are unchanged): the stream above is 10,000 prebuilt messages, 12.8 MB of records
for the native book and more of tuples for Python, walked once per round right after the
other side's run evicted them, so each message starts with misses to memory. Those cost
both sides a similar few nanoseconds per update (one paired run on the shared 2-core host,
load 14: native 6.7 -> 10.5, Python 195 -> 202 ns per update, inputs in cache -> cold),
which is some 40 % of the native figure and 3 % of Python's: the cold stream measures the
memory system as much as the merge. In Nexus the consensus reads a batch the moment after
the venue's book applied it (nexus/agg/aggregator.py: `v.book.apply(batch)` then
`consensus.apply_touch(v.idx, batch)`), in cache, as a Python merge would read the tuples
its decoder had just built. The warm series times the same job on the same messages in
chunks of `WARM_CHUNK` messages whose inputs are read, untimed, just before (native: the
records; Python: the tuples and their ints); both pay the timer calls of every chunk.

Floors (`native_read_floor_*`, additional figures; the rounds above, their order and
what they time are unchanged): the same input records read by native code and merged into
nothing, `Consensus.read_records`, in a phase after the rounds, each timing right after an
untimed pure-Python round so the records are as cold as the native series finds them.
Per message (`native_read_floor_ns_per_venue_level_update`) through the very loop and call
path of the native series: the Python loop, the call, the batch checks and the cache misses
of its records, which `apply_touch` cannot go below; `native_merge_over_read_floor(_cpu)`
is the native series over it (1.0: the merge costs nothing beyond reading its input). In
bulk (`native_read_floor_bulk_*`, one call per venue stream): the machine's streaming read
of the same 12.8 MB, as GB/s too, against the bulk apply. Measured on the shared 2-core
host (load 7-14, ten full runs): the native series at 1.02-1.23x its per-message read
floor in thread CPU time, the bulk read at 8.4-9.8 GB/s of CPU time. Per message the native
path is the Python call plus the cache misses of a cold stream (the message's records, its
array object and shape); the merge adds a tenth or so on top of them.

The pure-Python baselines live in the source tree, bench/baselines/consensus.py (not in the
shipped package); when they cannot be loaded the native figures are still reported, with
`python_baseline.available` false and the reason. The pure-Python baseline for that job
(`PySortedConsensus`) keeps what the native book
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


from nexus import record
from nexus._native import Consensus
from nexus.bench import baselines
from nexus.bench.book import make_stream
from nexus.bench.stats import median

BID, ASK = int(record.Side.BID), int(record.Side.ASK)
VENUES = 5
RECORD_BYTES = record.RECORD_DTYPE.itemsize  # read per venue level update
WARM_CHUNK = 100  # messages per chunk of the warm-input series (~130 KB of records)


def replay_throughput(base=None, seconds: float = 15, rounds: int = 3, progress=None) -> dict:
    """A recorded five-venue simulator session through decoders, sync rules and the
    consensus (`nexus agg replay` without printing), as fast as possible; with `base` (the
    baselines module) also with its pure-Python merge, lines checked identical first."""
    import os
    import tempfile

    from nexus.agg.replay import replay_agg
    from nexus.bench.feeds import record_session
    from nexus.feeds.recording import FRAME, REST, RecordingReader

    say = progress or (lambda m: None)
    res: dict = {}
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "five.nxr")
        say("recording a five-venue session for the replay throughput")
        record_session(path, seconds)
        with RecordingReader(path) as r:
            n = sum(1 for f in r if f.kind in (FRAME, REST))
        if base is not None:
            native_lines, py_lines = [], []
            replay_agg(path, native_lines.append)
            replay_agg(path, py_lines.append, consensus=base.PyRecordConsensus())
            if native_lines != py_lines:
                raise AssertionError("the replay's lines differ between the native and the pure-Python consensus")
            res["agg_replay_lines_checked"] = len(native_lines)
        times, py_times = [], []
        for _ in range(rounds):  # timed alternately
            t0 = time.perf_counter_ns()
            replay_agg(path, lambda line: None)
            times.append(time.perf_counter_ns() - t0)
            if base is not None:
                t0 = time.perf_counter_ns()
                replay_agg(path, lambda line: None, consensus=base.PyRecordConsensus())
                py_times.append(time.perf_counter_ns() - t0)
    res.update({"agg_replay_msgs": n, "agg_replay_msgs_per_s": n / (median(times) / 1e9)})
    if py_times:
        res["agg_replay_python_merge_msgs_per_s"] = n / (median(py_times) / 1e9)
        res["agg_replay_ratio_native_vs_python_merge"] = median(py_times) / median(times)
    return res


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


def _check_equal(base, streams, order) -> None:
    """Untimed: the native book and the sorted baseline agree on the touch after every
    message, and on the final top 25 per side with the per-venue breakdown."""
    c, pc = _native_loaded(streams), _python_loaded(base.PySortedConsensus, streams)
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


def _time_native(series, streams, views) -> Consensus:
    """One round of the native series; returns the book after the last one."""
    c = _native_loaded(streams)
    apply_touch, touch = c.apply_touch, c.touch
    t = touch()
    t0, c0 = time.perf_counter_ns(), time.thread_time_ns()
    for v, view in views:
        if apply_touch(v, view):   # the touch changed: read it (else the last one holds)
            t = touch()
    series["native_cpu"].append(time.thread_time_ns() - c0)
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

    # the same job with each chunk's records read (untimed) just before it: see the docstring
    c = _native_loaded(streams)
    apply_touch, touch = c.apply_touch, c.touch
    t = touch()
    wall = cpu = 0
    for j in range(0, len(views), WARM_CHUNK):
        chunk = views[j : j + WARM_CHUNK]
        for _, view in chunk:
            view.tobytes()
        t0, c0 = time.perf_counter_ns(), time.thread_time_ns()
        for v, view in chunk:
            if apply_touch(v, view):
                t = touch()
        cpu += time.thread_time_ns() - c0
        wall += time.perf_counter_ns() - t0
    series["native_warm"].append(wall)
    series["native_warm_cpu"].append(cpu)
    if t != c.touch():
        raise AssertionError("the touch followed through apply_touch differs from the book's (warm inputs)")

    # one apply per venue stream isolates the merge from Python call overhead
    c = _native_loaded(streams)
    t0 = time.perf_counter_ns()
    for v in range(VENUES):
        c.apply(v, streams[v][1])
    series["bulk"].append(time.perf_counter_ns() - t0)
    return c


def _time_floors(base, series, streams, views, msgs) -> None:
    """One round of the floors under the native series (not part of the rounds above, so
    those keep their order): the same input records read by native code and merged
    into nothing. Each is timed with the records as cold as the native series finds them,
    right after a full pure-Python round (untimed, its figures dropped; without the
    baselines a 64 MB scan stands in for it).

    `read`: one `Consensus.read_records(v, view)` per message through the loop the native
    series runs (`if read(v, view): ...`): the same Python loop, call path, batch checks
    and cache misses as `apply_touch`, only the merge missing. `read_bulk`: one call per
    venue stream, the machine's streaming read of the same 12.8 MB."""
    def evict():
        if base is not None:
            _time_python(base, {k: [] for k in series}, streams, msgs)
        else:
            bytes(64 << 20).count(1)

    c = _native_loaded(streams)
    read = c.read_records
    odd = 0
    evict()
    t0, c0 = time.perf_counter_ns(), time.thread_time_ns()
    for v, view in views:
        if read(v, view):
            odd += 1
    series["read_cpu"].append(time.thread_time_ns() - c0)
    series["read"].append(time.perf_counter_ns() - t0)
    evict()
    t0, c0 = time.perf_counter_ns(), time.thread_time_ns()
    for v in range(VENUES):
        read(v, streams[v][1])
    series["read_bulk_cpu"].append(time.thread_time_ns() - c0)
    series["read_bulk"].append(time.perf_counter_ns() - t0)


def _time_python(base, series, streams, msgs):
    """One round of the pure-Python series; returns the unsorted book after it."""
    pc = _python_loaded(base.PySortedConsensus, streams)
    papply, ptouch = pc.apply, pc.touch
    t0, c0 = time.perf_counter_ns(), time.thread_time_ns()
    for v, msg in msgs:
        papply(v, msg)
        ptouch()
    series["py_cpu"].append(time.thread_time_ns() - c0)
    series["py"].append(time.perf_counter_ns() - t0)

    pc = _python_loaded(base.PySortedConsensus, streams)
    papply, ptouch = pc.apply, pc.touch
    wall = cpu = 0
    for j in range(0, len(msgs), WARM_CHUNK):
        chunk = msgs[j : j + WARM_CHUNK]
        for _, msg in chunk:
            for _, p, q in msg:
                p < q  # noqa: B015 -- reads both ints (untimed warm-up)
        t0, c0 = time.perf_counter_ns(), time.thread_time_ns()
        for v, msg in chunk:
            papply(v, msg)
            ptouch()
        cpu += time.thread_time_ns() - c0
        wall += time.perf_counter_ns() - t0
    series["py_warm"].append(wall)
    series["py_warm_cpu"].append(cpu)

    pu = _python_loaded(base.PyUnsortedConsensus, streams)
    uset = pu.set
    t0 = time.perf_counter_ns()
    for v, msg in msgs:
        for side, p, q in msg:
            uset(v, side, p, q)
    series["py_unsorted"].append(time.perf_counter_ns() - t0)
    return pu


def _python_figures(base, res, series, ns, streams, order, pu, c) -> None:
    want = (pu.top(BID, 25), pu.top(ASK, 25))
    got = ([(p, t) for p, t, _ in c.top(BID, 25)], [(p, t) for p, t, _ in c.top(ASK, 25)])
    if got != want:
        raise AssertionError("native consensus disagrees with the unsorted pure-Python merge")
    res["python_ns_per_venue_level_update"] = ns["py"]
    res["ratio_native_vs_python"] = ns["py"] / ns["native"]
    res["python_unsorted_dict_ns_per_venue_level_update"] = ns["py_unsorted"]
    res["ratio_native_apply_only_vs_python_unsorted_dict"] = ns["py_unsorted"] / ns["native_apply"]
    res["per_round_ratio_native_vs_python"] = [p / n for p, n in zip(series["py"], series["native"])]
    # The same rounds in the thread's CPU time: what the job costs, without the time the
    # process waited for a core. A native round is ~2 ms against ~50 ms of Python, so on a
    # shared machine one preemption inside it moves its wall-clock ratio by several x; the
    # CPU-time ratio shows whether a low round was the code or the scheduler.
    res["ratio_native_vs_python_cpu"] = ns["py_cpu"] / ns["native_cpu"]
    res["per_round_ratio_native_vs_python_cpu"] = [p / n for p, n in zip(series["py_cpu"], series["native_cpu"])]
    res["python_warm_inputs_ns_per_venue_level_update"] = ns["py_warm"]
    res["native_warm_inputs_ns_per_venue_level_update"] = ns["native_warm"]
    res["ratio_native_vs_python_warm_inputs"] = ns["py_warm"] / ns["native_warm"]
    res["ratio_native_vs_python_warm_inputs_cpu"] = ns["py_warm_cpu"] / ns["native_warm_cpu"]
    res["per_round_ratio_native_vs_python_warm_inputs"] = [p / n for p, n in zip(series["py_warm"], series["native_warm"])]
    res["per_round_ratio_native_vs_python_warm_inputs_cpu"] = [
        p / n for p, n in zip(series["py_warm_cpu"], series["native_warm_cpu"])]
    res["baselines"] = {
        "python": "PySortedConsensus: per-venue quantities, totals over included venues, live levels kept "
                  "sorted (bisect); after each venue message reads the touch (best bid/ask price and total); "
                  "the native run holds the same touch via Consensus.apply_touch() + touch() when it changed",
        "python_unsorted_dict": "former baseline PyUnsortedConsensus: unsorted dict, sorted once at the end, "
                                "no touch between messages; compared with native_apply_only (no reads either)",
        "python_remerge": "each venue's book as a dict, the top 25 re-merged after every message",
    }
    res.update(base.remerge_timed(streams, order, ns["native"]))


def run(messages: int = 10_000, rounds: int = 5, progress=None, replay: bool = True) -> dict:
    say = progress or (lambda m: None)
    streams = [make_stream(messages // VENUES, depth=500, seed=10 + v) for v in range(VENUES)]
    # interleave venues message by message, as the runtime would see them
    order = [(v, i) for i in range(messages // VENUES) for v in range(VENUES)]
    n_updates = sum(len(s[1]) for s in streams)
    res: dict = {"benchmark": "agg", "venues": VENUES, "venue_level_updates": n_updates, "rounds": rounds}
    base, res["python_baseline"] = baselines.load_or_report("consensus")

    if base is not None:
        say("checking the native consensus against the pure-Python merge, message by message")
        _check_equal(base, streams, order)

    views = [(v, streams[v][1][i * 20 : i * 20 + 20]) for v, i in order]
    msgs = [(v, streams[v][2][i]) for v, i in order]
    series: dict[str, list[int]] = {k: [] for k in ("native", "native_cpu", "native_warm", "native_warm_cpu",
                                                    "native_best_lists", "native_apply", "bulk", "py", "py_cpu",
                                                    "py_warm", "py_warm_cpu", "py_unsorted",
                                                    "read", "read_cpu", "read_bulk", "read_bulk_cpu")}
    for r in range(rounds):  # every series once per round, so load changes hit them all alike
        say(f"round {r + 1}/{rounds}: native, then pure Python")
        c = _time_native(series, streams, views)
        if base is not None:
            pu = _time_python(base, series, streams, msgs)

    for r in range(rounds):
        say(f"floor round {r + 1}/{rounds}: the same records read natively, no merge")
        _time_floors(base, series, streams, views, msgs)

    ns = {k: median(v) / n_updates for k, v in series.items() if v}
    res["native_ns_per_venue_level_update"] = ns["native"]
    res["native_best_lists_ns_per_venue_level_update"] = ns["native_best_lists"]
    res["native_apply_only_ns_per_venue_level_update"] = ns["native_apply"]
    res["native_ns_per_venue_level_update_bulk"] = ns["bulk"]
    res["native_warm_inputs_ns_per_venue_level_update"] = ns["native_warm"]
    # the floors (see _time_floors): what memory and the per-message call path cost alone
    res["native_read_floor_ns_per_venue_level_update"] = ns["read"]
    res["native_read_floor_bulk_ns_per_venue_level_update"] = ns["read_bulk"]
    res["native_read_floor_bulk_gb_per_s"] = RECORD_BYTES / ns["read_bulk"]
    res["native_merge_over_read_floor"] = ns["native"] / ns["read"]
    res["native_merge_over_read_floor_cpu"] = ns["native_cpu"] / ns["read_cpu"]
    res["native_read_floor_bulk_gb_per_s_cpu"] = RECORD_BYTES / ns["read_bulk_cpu"]
    res["native_bulk_over_read_floor_bulk"] = ns["bulk"] / ns["read_bulk"]
    res["per_round_native_merge_over_read_floor_cpu"] = [
        n / r for n, r in zip(series["native_cpu"], series["read_cpu"])]
    if base is not None:
        say("pure-Python re-merge of the five venue books after every message (top 25)")
        _python_figures(base, res, series, ns, streams, order, pu, c)
    if replay:
        res.update(replay_throughput(base, progress=progress))
    ratio = res.get("ratio_native_vs_python")
    res["targets"] = {
        "native_ns_per_venue_level_update": {"target": 200, "met": res["native_ns_per_venue_level_update"] <= 200},
        "ratio_native_vs_python": {
            "target": 20, "met": None if ratio is None else ratio >= 20, "baseline": "python",
            "why": "the pure-Python merge doing the same job as the native book (sorted levels, touch read after "
                   "every venue message); the unsorted-dict baseline skips the ordering the native book pays for",
        },
    }
    return res
