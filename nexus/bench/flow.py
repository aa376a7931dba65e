"""`nexus bench flow` (formerly `nexus bench engine`, still accepted): the compiled flow
engine with every metric and detector on, against the same logic in pure Python
(bench/baselines/flow_engine.py in the source tree), on one core, in the same run. Without
the source tree the compiled figures are reported alone, `python_baseline` saying why.

Stream (deterministic, see make_stream): a 200-level-per-side snapshot, then messages of a
venue-like mix -- 65 % book deltas of 1-20 levels within 30 levels of the touch (updates,
inserts, deletes), 5 % touch moves, 30 % trade messages of 1-3 prints at the touch (sizes
1-20 with occasional blocks), 1 ms apart in exchange time; the book is never crossed. Before any figure is reported both implementations run the
same prefix of the stream and their outputs (metrics rows, VPIN rows, every signal and its
facts) must be identical; the compiled engine's output on the whole stream is also checked
to be the same whether fed in one batch or in ring-sized chunks.
"""

from __future__ import annotations

import time

import numpy as np

from nexus import record
from nexus.bench import baselines
from nexus.bench.stats import median
from nexus.flow.params import FlowParams

BID, ASK = int(record.Side.BID), int(record.Side.ASK)
K_LEVEL, K_CLEAR, K_TRADE = int(record.Kind.BOOK_LEVEL), int(record.Kind.BOOK_CLEAR), int(record.Kind.TRADE)
F_LAST = int(record.Flag.LAST)


def make_stream(records: int, seed: int = 1, depth: int = 200) -> np.ndarray:
    """A venue-like stream that keeps the book sane (never crossed): the touch moves one tick
    at a time by removing the opposite touch and adding a level, deltas change sizes within 30
    levels of the touch (a fifth of them delete a level behind it), trades print at the touch."""
    rng = np.random.default_rng(seed)
    bid, ask = 6_500_000, 6_500_002
    rows = [(0, K_CLEAR, 0, 0, 0, 0)]
    for k in range(depth):
        rows.append((0, K_LEVEL, BID, bid - k, int(rng.integers(1, 200)), 0))
        rows.append((0, K_LEVEL, ASK, ask + k, int(rng.integers(1, 200)), 0))
    rows[-1] = rows[-1][:5] + (F_LAST,)
    ts = 1_767_225_600_000_000_000
    kinds = rng.random(records).tolist()
    r = rng.integers(0, 1 << 30, (records, 4)).tolist()
    m = 0
    while len(rows) < records:
        ts += 1_000_000
        u = kinds[m]
        a, b, c, d = r[m]
        m += 1
        start = len(rows)
        if u < 0.65:                          # a book delta of 1..20 levels
            for j in range(1 + a % 20):
                side = BID if (b >> j) & 1 else ASK
                off = (c >> (2 * j)) % 30
                qty = 0 if off and (d >> j) % 5 == 0 else 1 + (d >> (j + 3)) % 199
                rows.append((ts, K_LEVEL, side, bid - off if side == BID else ask + off, qty, 0))
        elif u < 0.70:                        # the touch moves a tick
            if b & 1:
                rows.append((ts, K_LEVEL, ASK, ask, 0, 0))
                bid, ask = bid + 1, ask + 1
                rows.append((ts, K_LEVEL, BID, bid, 1 + c % 199, 0))
                rows.append((ts, K_LEVEL, ASK, ask, 1 + d % 199, 0))
            else:
                rows.append((ts, K_LEVEL, BID, bid, 0, 0))
                bid, ask = bid - 1, ask - 1
                rows.append((ts, K_LEVEL, ASK, ask, 1 + c % 199, 0))
                rows.append((ts, K_LEVEL, BID, bid, 1 + d % 199, 0))
        else:                                 # 1..3 prints at the touch
            for j in range(1 + a % 3):
                buy = (b >> j) & 1
                q = 1 + (c >> (5 * j)) % 20
                if (d >> j) % 100 == 0:
                    q *= 15
                rows.append((ts, K_TRADE, BID if buy else ASK, ask if buy else bid, q, 0))
        rows[-1] = rows[-1][:5] + (F_LAST,)
        if m == len(kinds):
            kinds = rng.random(records).tolist()
            r = rng.integers(0, 1 << 30, (records, 4)).tolist()
            m = 0
    rows = rows[:records]
    arr = np.array(rows, dtype=np.int64)
    out = record.empty(len(rows))
    out["ts_exchange_ns"] = arr[:, 0]
    out["ts_local_ns"] = arr[:, 0]
    out["kind"] = arr[:, 1]
    out["side"] = arr[:, 2]
    out["price"] = arr[:, 3]
    out["qty"] = arr[:, 4]
    out["flags"] = arr[:, 5]
    out["trade_id"] = np.arange(len(rows))
    return out


def bench_params() -> FlowParams:
    """Every metric and detector on (VPIN included), the oracle too."""
    return FlowParams(ofi_levels=10, obi_levels=10, vpin_bucket_volume=2_000, vpin_window=50)


def _engine_pass(batch, params, chunk: int | None = None):
    from nexus.flow import dtypes
    from engine.flow import FlowEngine

    eng = FlowEngine(params.engine_dict())
    n = len(batch)
    metrics = np.zeros(n + 1, dtypes.METRIC_DTYPE)
    vpin = np.zeros(n + 64, dtypes.VPIN_DTYPE)
    sigs = record.empty(max(4096, n // 4))
    facts = np.zeros(len(sigs), dtypes.FACTS_DTYPE)
    for a in (metrics, vpin, sigs, facts):  # touch the pages: a live engine reuses warm buffers
        a[...] = 0
    w0, t0 = time.perf_counter_ns(), time.thread_time_ns()
    if chunk is None:
        consumed, nm, nv, ns = eng.update(batch, sigs, facts, metrics, vpin)
        assert consumed == n, "output buffers sized for the whole stream"
    else:
        nm = nv = ns = 0
        for a in range(0, n, chunk):
            c, m1, v1, s1 = eng.update(batch[a:a + chunk], sigs[ns:], facts[ns:], metrics[nm:], vpin[nv:])
            assert c == min(chunk, n - a)
            nm, nv, ns = nm + m1, nv + v1, ns + s1
    dt, wall = time.thread_time_ns() - t0, time.perf_counter_ns() - w0
    return (dt, wall), (metrics[:nm].copy(), vpin[:nv].copy(), sigs[:ns].copy(), facts[:ns].copy())


def _py_pass(base, tuples, params):
    eng = base.PyFlowEngine(params.engine_dict())
    w0, t0 = time.perf_counter_ns(), time.thread_time_ns()
    eng.update(tuples)
    return (time.thread_time_ns() - t0, time.perf_counter_ns() - w0), eng


def _same(out, py) -> bool:
    metrics, vpin, sigs, facts = out
    got_m = [(int(r["msg"]), int(r["rec"]), int(r["ts_exchange_ns"]), int(r["bid_px"]), int(r["bid_qty"]),
              int(r["ask_px"]), int(r["ask_qty"]), [int(v) for v in r["ofi"][:int(r["levels"])]],
              int(r["obi_num"]), int(r["obi_den"]), int(r["cvd"]), int(r["buy_qty"]), int(r["sell_qty"]),
              int(r["flags"])) for r in metrics]
    got_v = [tuple(int(v) for v in r.tolist()) for r in vpin]
    got_s = [(int(s["aux"]), int(s["side"]), int(s["price"]), int(s["qty"]), tuple(int(v) for v in f["f"]),
              int(s["seq"]), int(s["trade_id"]), int(s["ts_exchange_ns"])) for s, f in zip(sigs, facts)]
    return got_m == py.metrics and got_v == py.vpin_rows and got_s == py.signals


def run(records: int = 2_000_000, python_records: int = 200_000, rounds: int = 5, progress=None) -> dict:
    say = progress or (lambda m: None)
    params = bench_params()
    say(f"stream: {records:,} records")
    batch = make_stream(records)
    python_records = min(python_records, len(batch))
    res: dict = {"benchmark": "flow", "records": len(batch), "python_records": python_records,
                 "params": {"ofi_levels": params.ofi_levels, "obi_levels": params.obi_levels,
                            "vpin_bucket_volume": params.vpin_bucket_volume, "vpin_window": params.vpin_window,
                            "detectors": "all six + oracle"}}
    base, res["python_baseline"] = baselines.load_or_report("flow_engine")
    if base is not None:
        say("correctness: compiled vs pure Python on the prefix")
        prefix = batch[:python_records]
        tuples = [tuple(r)[:12] for r in prefix.tolist()]
        _, out_prefix = _engine_pass(prefix, params)
        t_py0, py = _py_pass(base, tuples, params)
        if not _same(out_prefix, py):
            raise AssertionError("compiled engine and pure-Python engine disagree on the benchmark stream")
        res["outputs_identical"] = True
        res["prefix_outputs"] = {"metric_rows": len(py.metrics), "vpin_rows": len(py.vpin_rows), "signals": len(py.signals)}
    else:
        res["outputs_identical"] = None  # no second implementation to compare with

    say("compiled engine: whole stream, every metric and detector on")
    times, walls, out = [], [], None
    for _ in range(rounds):
        (dt, wall), o = _engine_pass(batch, params)
        times.append(dt)
        walls.append(wall)
        out = o
    (dt_chunk, _), out_chunk = _engine_pass(batch, params, chunk=4096)
    if not all(np.array_equal(a, b) for a, b in zip(out, out_chunk)):
        raise AssertionError("the engine's output depends on how the stream is cut into batches")
    t = median(times)
    res["clock"] = "CPU time of the running thread (time.thread_time_ns), median of rounds; wall time beside it"
    res["rounds"] = rounds
    res["engine_ns_per_record"] = t / len(batch)
    res["engine_records_per_s"] = len(batch) / (t / 1e9)
    res["engine_wall_ns_per_record"] = median(walls) / len(batch)
    res["engine_ns_per_record_4096_chunks"] = dt_chunk / len(batch)
    res["engine_outputs"] = {"metric_rows": len(out[0]), "vpin_rows": len(out[1]), "signals": len(out[2])}

    say("compiled engine: metrics only (detectors off), for reference")
    mt = [_engine_pass(batch, params.replace(signals=False))[0][0] for _ in range(rounds)]
    res["engine_metrics_only_ns_per_record"] = median(mt) / len(batch)

    ratio = None
    if base is not None:
        say(f"pure Python: {python_records:,} records")
        py_runs = [t_py0] + [_py_pass(base, tuples, params)[0] for _ in range(max(0, rounds // 2 - 1))]
        tp = median([x[0] for x in py_runs])
        res["python_ns_per_record"] = tp / python_records
        res["python_records_per_s"] = python_records / (tp / 1e9)
        res["python_wall_ns_per_record"] = median([x[1] for x in py_runs]) / python_records
        ratio = res["ratio_engine_vs_python"] = res["python_ns_per_record"] / res["engine_ns_per_record"]
    res["targets"] = {
        "engine_records_per_s": {"target": 5_000_000, "met": res["engine_records_per_s"] >= 5_000_000},
        "ratio_engine_vs_python": {"target": 30, "met": None if ratio is None else ratio >= 30},
    }
    return res
