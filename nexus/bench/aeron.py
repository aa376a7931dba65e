"""`nexus bench aeron`: the record stream over Aeron (aeron:ipc and UDP loopback) side by side
with the shared-memory ring, same 64-byte records, same run.

(a) Nexus path, through the Python API: a near ring -> AeronPublisher.pump -> Aeron ->
    AeronSubscriber.pump -> a far ring, four native calls per 4096-record batch, checked for
    count, order, loss;
(a') the same loop in Rust (`aeron_bench_rings_throughput`), step for step and check for check:
    (a')/(a) is the Python layer's cost;
(b) the C client alone (the rusteron wrappers, no Python and no rings in the loop): a publisher
    thread offers full messages, this thread polls them: Aeron's own ceiling, one copy where the
    Nexus path makes four (into the near ring, ring -> term buffer, term buffer -> far ring,
    far ring -> reader; `copies_per_record`); each round runs (a) and (a') back to back (order
    alternating), then (b); the overheads are medians of the per-round ratios
    (`overhead_method`), each round's figures and 1-minute load average are reported too;
(c) one-way latency: single-record messages stamped with CLOCK_MONOTONIC just before the offer
    and on receipt, through an embedded driver in shared threading mode with the busy-spin idle
    strategy, the subscriber busy-polling, the publisher sleeping between messages;
(d) the ring itself (nexus.bench.ring): batch throughput and cross-process latency.
"""

from __future__ import annotations

import os
import shutil
import time

import numpy as np

from nexus import record
from nexus.bench.stats import median, percentiles_ns


LAT_GAP_NS = 100_000


def _dir(tag: str) -> str:
    return f"/dev/shm/nexus-aeron-bench-{tag}-{os.getpid()}"


# The loop's shape, the same in Rust (native/src/core/aeron.rs: bench_rings_throughput's
# batch_len, BENCH_POLL).
BATCH = 4096
POLL = 1 << 16
PUB_BUDGET = 1 << 16
SUB_FRAGMENTS = 64


def nexus_path_throughput(aeron_dir: str, channel: str, stream_id: int, total: int, batch_len: int = BATCH,
                          renumber: bool = False) -> dict:
    """(a) ring -> Aeron -> ring through the Python API, verified: one thread in lock step, so
    each batch crosses the copies while it is still in the CPU's cache. Per iteration, the same
    steps and checks as `aeron_bench_rings_throughput` (the same loop in Rust): when no more than
    half a ring is in flight, write the batch into the near ring (with `renumber`, then add
    `batch_len` to every record's sequence number in place, so each record carries its stream
    index; without, each carries its index in the batch); pump the publisher (PUB_BUDGET records)
    and the subscriber (SUB_FRAGMENTS messages); one poll of the far ring into a POLL-record array
    (it holds more than a batch, so one call takes what the pumps brought), whose last sequence
    number must be the count so far minus one (modulo `batch_len` without `renumber`). Timed
    until `total` records came out; then what is in flight is drained (same check) and the counts
    must be exact: every record published came out once (publisher, subscriber and far reader
    agree), nothing lost. Four native calls per batch: publish, two pumps, poll. Before the timed
    part, one untimed lap of the publication's log (three terms), so the timed records go through
    term pages already touched (a fresh publication's first lap is mostly page faults: measured,
    over half the run's time in the kernel), as on a publication that has been running.
    Without `renumber` (the default): renumbering is the producer's work, not the Aeron API's,
    and numpy's strided add over the 64-byte records' `seq` column costs a Python loop about
    4 times what the compiled loop pays (measured: it was most of the Python-layer figure).
    (Measured on a 2-CPU host: the two ends on two threads or two processes were slower, the
    publisher running megabytes ahead of the subscriber, out of cache.)"""
    from nexus.aeron import AeronPublisher, AeronSubscriber
    from nexus.ring import RingReader, RingWriter

    near = f"bench-aeron-near-{os.getpid()}-{stream_id}"
    prefix = "far-"
    slots = 1 << 18
    half = slots // 2
    batch = record.empty(batch_len)
    batch["kind"] = record.Kind.TRADE  # no book upkeep: the stream's own cost
    batch["seq"] = np.arange(batch_len)
    seqs = batch["seq"]  # a view: sequence numbers carried through, checked at the far end
    out = record.empty(POLL)
    out_seq = out["seq"]
    modulo = (1 << 64) if renumber else batch_len
    with RingWriter(near, slots=slots) as w:
        sub = AeronSubscriber(aeron_dir, channel, stream_id, prefix, slots)
        pub = AeronPublisher(aeron_dir, channel, stream_id, [(near, b"")], 3600.0)
        far = None
        end = time.monotonic() + 10
        while far is None and time.monotonic() < end:
            pub.pump()
            sub.pump()
            try:
                far = RingReader(prefix + near, start="earliest")
            except Exception:
                time.sleep(0.0002)
        if far is None:
            raise RuntimeError(f"bench: no subscriber ring on {channel}")
        while far.poll(out):
            pass
        records0 = sub.stats()["records"]

        def bad(got: int, last: int):
            return AssertionError(f"aeron bench on {channel}: record {got - 1} carries sequence number {last} "
                                  "(out of order, lost or doubled)")

        publish, pub_pump, sub_pump, poll, now = w.publish, pub.pump, sub.pump, far.poll, time.monotonic

        def lockstep(until: int, got: int, seq: int, more: bool = True, seconds: float = 120) -> tuple[int, int]:
            """Publish (while `more`), pump both sides and poll the far ring until it has `until`
            records or `seconds` pass; every poll's last sequence number checked."""
            deadline = now() + seconds
            while got < until and now() < deadline:
                if more and seq - got <= half:  # never more in flight than half a ring (UDP: the window holds it back)
                    publish(batch)
                    seq += batch_len
                    if renumber:
                        np.add(seqs, batch_len, out=seqs)  # the next batch's sequence numbers, in place
                pub_pump(PUB_BUDGET)
                sub_pump(SUB_FRAGMENTS)
                n = poll(out)
                if n:
                    got += n
                    if out_seq[n - 1] != (got - 1) % modulo:
                        raise bad(got, int(out_seq[n - 1]))
            return got, seq

        # One untimed lap of the publication's log first (three terms): the timed records then go
        # through term pages already touched, as on a publication that has been running.
        got, seq = lockstep(3 * pub.term_length // record.RECORD_SIZE, 0, 0)
        got0 = got
        c0 = time.thread_time_ns()
        t0 = time.perf_counter_ns()
        got, seq = lockstep(got0 + total, got, seq)
        dt = time.perf_counter_ns() - t0
        cpu = time.thread_time_ns() - c0
        timed = got - got0
        got, _ = lockstep(seq, got, seq, more=False, seconds=10)  # what is still in flight: every count must then be exact
        ps, ss = pub.stats(), sub.stats()
        far_lost = far.lost
        far.close()
        pub.close()
        sub.close()
    sub_records = ss["records"] - records0
    if timed < total or got != seq or ps["records"] != seq or sub_records != seq or ps["lost"] or far_lost:
        raise AssertionError(f"aeron bench on {channel} lost records: published {seq}, publisher sent {ps['records']}, "
                             f"subscriber wrote {sub_records}, far reader got {got} (of {total} timed), "
                             f"publisher lost {ps['lost']}, far reader lost {far_lost}")
    return {"records_per_s": timed / (dt / 1e9), "cpu_records_per_s": timed / (max(cpu, 1) / 1e9),
            "back_pressured": ps["back_pressured"], "messages": ss["messages"]}


def _paired_rounds(rounds: int, python_run, native_run, c_run) -> dict:
    """`rounds` rounds, each running the Python-driven loop and the same loop in Rust back to back
    (Python first in even rounds, Rust first in odd ones, so neither always runs on the warmer or
    the quieter side of a round), then the C client alone. Each round gives its own ratios; the
    overheads are the medians of those per-round ratios (a load spike spoils one round's pair,
    not the whole figure, as a ratio of medians taken from different rounds would).
    `python_run` / `native_run` return (records per wall second, records per CPU second of the
    loop's thread); `c_run` records per wall second."""
    keys = ("python", "native", "python_cpu", "native_cpu", "c", "python_pct", "python_cpu_pct", "c_pct", "load")
    r: dict = {k: [] for k in keys}
    for i in range(rounds):
        r["load"].append(round(os.getloadavg()[0], 2))
        if i % 2 == 0:
            a = python_run(i)
            b = native_run(i)
        else:
            b = native_run(i)
            a = python_run(i)
        cc = c_run(i)
        r["python"].append(a[0])
        r["python_cpu"].append(a[1])
        r["native"].append(b[0])
        r["native_cpu"].append(b[1])
        r["c"].append(cc)
        r["python_pct"].append(100.0 * (b[0] / a[0] - 1.0))
        r["python_cpu_pct"].append(100.0 * (b[1] / a[1] - 1.0))
        r["c_pct"].append(100.0 * (cc / b[0] - 1.0))
    return r


def _nexus(d: str, channel: str, stream_id: int, total: int, renumber: bool = False) -> tuple[float, float]:
    f = nexus_path_throughput(d, channel, stream_id, total, renumber=renumber)
    return f["records_per_s"], f["cpu_records_per_s"]


def run(quick: bool = False, progress=None) -> dict:
    """All figures in one object (the `nexus bench aeron --json` contract)."""
    from nexus.aeron import AeronDriver, aeron_bench_latency, aeron_bench_rings_throughput, aeron_bench_throughput
    from nexus.bench import ring as ring_bench

    say = progress or (lambda msg: None)
    # Many short rounds rather than a few long ones: each round's pair is close in time, and the
    # median over nine rounds shrugs off the rounds a loaded host spoils.
    total = 1_000_000 if quick else 5_000_000
    c_total = 2_000_000 if quick else 10_000_000
    lat_count = 5_000 if quick else 20_000
    res: dict = {"benchmark": "aeron", "record_size": record.RECORD_SIZE, "cpus": os.cpu_count(),
                 "driver": "embedded Aeron C media driver (rusteron-media-driver), shared threading mode"}
    res["load_avg_1m_start"] = round(os.getloadavg()[0], 2)
    port = 42000 + os.getpid() % 20000
    # Batched: one message carries as many records as the channel's MTU allows (Aeron's default
    # MTU, 1408 bytes, holds 20 records; 64 KiB holds 1022). Loopback carries 64 KiB datagrams.
    ipc = "aeron:ipc?mtu=65504"
    # UDP: a 2 MiB receiver window and socket buffers (Aeron's default window, 128 KiB, is about
    # 2000 records in flight: the sender then waits on the receiver's status messages; measured
    # here 0.3-0.7 M records/s with it against 1.9 M with 2 MiB through the Python API).
    udp = f"aeron:udp?endpoint=127.0.0.1:{port}|mtu=65504|rcv-wnd=2m|so-rcvbuf=2m|so-sndbuf=2m"
    udp_lat = f"aeron:udp?endpoint=127.0.0.1:{port + 1}"
    res["ipc_channel"], res["udp_channel"] = ipc, udp
    rounds = 3 if quick else 9
    res["rounds"] = rounds
    d = _dir("tp")
    drv = AeronDriver(d, False)
    try:
        # One short unrecorded pass of each loop first: the process's first publication and first
        # rings pay one-off costs (code and page faults) that belong to neither side.
        nexus_path_throughput(d, ipc, 4900, total // 10)
        aeron_bench_rings_throughput(d, ipc, 4901, total // 10)
        say("aeron:ipc: ring -> Aeron -> ring through the Python API and the same in Rust, paired per round, "
            "then the C client alone")
        ipc_r = _paired_rounds(rounds,
                               lambda i: _nexus(d, ipc, 5001 + i, total),
                               lambda i: aeron_bench_rings_throughput(d, ipc, 5401 + i, total),
                               lambda i: aeron_bench_throughput(d, ipc, 5101 + i, c_total)[0])
        say("aeron:ipc with a producer that renumbers every record (numpy in Python, a loop in Rust), paired")
        ren_r = _paired_rounds(max(1, rounds // 3),
                               lambda i: _nexus(d, ipc, 5601 + i, total, renumber=True),
                               lambda i: aeron_bench_rings_throughput(d, ipc, 5701 + i, total, renumber=True),
                               lambda i: 1.0)
        say("UDP loopback: the same, paired per round")
        udp_r = _paired_rounds(rounds,
                               lambda i: _nexus(d, udp, 5201 + i, total // 2),
                               lambda i: aeron_bench_rings_throughput(d, udp, 5501 + i, total // 2),
                               lambda i: aeron_bench_throughput(d, udp, 5301 + i, c_total // 2)[0])
        res["ipc_records_per_s"], res["ipc_c_client_records_per_s"] = median(ipc_r["python"]), median(ipc_r["c"])
        res["udp_records_per_s"], res["udp_c_client_records_per_s"] = median(udp_r["python"]), median(udp_r["c"])
        res["ipc_native_path_records_per_s"] = median(ipc_r["native"])
        res["udp_native_path_records_per_s"] = median(udp_r["native"])
        res["rounds_records_per_s"] = {k: [round(x) for x in v] for k, v in (
            ("ipc", ipc_r["python"]), ("ipc_native_path", ipc_r["native"]), ("ipc_c_client", ipc_r["c"]),
            ("udp", udp_r["python"]), ("udp_native_path", udp_r["native"]), ("udp_c_client", udp_r["c"]))}
        res["rounds_cpu_records_per_s"] = {k: [round(x) for x in v] for k, v in (
            ("ipc", ipc_r["python_cpu"]), ("ipc_native_path", ipc_r["native_cpu"]),
            ("udp", udp_r["python_cpu"]), ("udp_native_path", udp_r["native_cpu"]))}
        res["rounds_load_avg_1m"] = {"ipc": ipc_r["load"], "udp": udp_r["load"]}
    finally:
        drv.close()
        shutil.rmtree(d, ignore_errors=True)
    # Latency with spin idle strategies: the driver (shared threading mode: conductor, sender and
    # receiver on one agent thread) busy-spins, the subscriber busy-polls; the publisher sleeps
    # between messages (LAT_GAP_NS apart) so that the two spinning threads keep the two cores a
    # small host has.
    res["driver_idle"] = "busy-spin (latency); backoff (throughput)"
    d = _dir("lat")
    drv = AeronDriver(d, True)
    try:
        say("one-way latency, aeron:ipc")
        res.update(percentiles_ns(aeron_bench_latency(d, "aeron:ipc", 6001, lat_count, LAT_GAP_NS)[100:],
                                  "ipc_one_way_ns"))
        say("one-way latency, UDP loopback")
        res.update(percentiles_ns(aeron_bench_latency(d, udp_lat, 6002, lat_count, LAT_GAP_NS)[100:],
                                  "udp_one_way_ns"))
    finally:
        drv.close()
        shutil.rmtree(d, ignore_errors=True)
    say("shared-memory ring: batch throughput and cross-process latency")
    rt = ring_bench.ring_throughput(total, 4096, rounds=3)
    res["ring_records_per_s"] = rt["throughput_records_per_s"]
    rl = ring_bench.ring_latency(20_000 if quick else 100_000, gap_ns=2_000)
    res["ring_one_way_ns_p50"] = rl["latency_ns_p50"]
    res["ring_one_way_ns_p99"] = rl["latency_ns_p99"]
    res["load_avg_1m_end"] = round(os.getloadavg()[0], 2)
    # The Python layer: the same ring -> Aeron -> ring loop in Rust over the Python-driven one,
    # the median of the per-round ratios (the two ran back to back inside each round). The rings'
    # copies: the C client alone over the Rust loop, likewise per round.
    res["overhead_method"] = ("median over rounds of per-round paired ratios: in each round the Python-driven loop "
                              "and the same loop in Rust run back to back (order alternating round by round), then "
                              "the C client; python_layer_overhead_pct = 100 * (median_i(native_i / python_i) - 1), "
                              "rings_vs_c_client_overhead_pct = 100 * (median_i(c_i / native_i) - 1); *_cpu_pct: "
                              "the same on records per CPU second of the loop's thread. The producer writes a fixed "
                              "batch (records carry their index in the batch: the far end checks every poll's last "
                              "record modulo the batch, and exact counts after a drain)")
    res["python_layer_overhead_pct"] = round(median(ipc_r["python_pct"]), 1)
    res["udp_python_layer_overhead_pct"] = round(median(udp_r["python_pct"]), 1)
    res["rings_vs_c_client_overhead_pct"] = round(median(ipc_r["c_pct"]), 1)
    res["rounds_python_layer_overhead_pct"] = {"ipc": [round(x, 1) for x in ipc_r["python_pct"]],
                                               "udp": [round(x, 1) for x in udp_r["python_pct"]]}
    # The same ratio on the loop thread's CPU time (records per CPU second): the time a loaded
    # host keeps the loop off the CPU is not in it, so it is the steadier figure there. (UDP: the
    # driver's sender and receiver work on their own thread, outside this figure.)
    res["python_layer_overhead_cpu_pct"] = round(median(ipc_r["python_cpu_pct"]), 1)
    res["udp_python_layer_overhead_cpu_pct"] = round(median(udp_r["python_cpu_pct"]), 1)
    res["rounds_python_layer_overhead_cpu_pct"] = {"ipc": [round(x, 1) for x in ipc_r["python_cpu_pct"]],
                                                   "udp": [round(x, 1) for x in udp_r["python_cpu_pct"]]}
    res["rounds_rings_vs_c_client_overhead_pct"] = [round(x, 1) for x in ipc_r["c_pct"]]
    # The same pairs with a producer that renumbers every record between batches (numpy's strided
    # add over the records' seq column in Python, a loop in Rust): the producer's work, not the
    # Aeron API's, shown apart (it was most of the former Python-layer figure).
    res["python_layer_overhead_renumbering_producer_pct"] = round(median(ren_r["python_pct"]), 1)
    res["python_layer_overhead_renumbering_producer_cpu_pct"] = round(median(ren_r["python_cpu_pct"]), 1)
    res["copies_per_record"] = {
        "nexus_path": 4,
        "nexus_path_detail": ["producer batch -> near ring (the ring writer's own copy)",
                              "near ring -> publication term buffer (claimed: read straight into it)",
                              "subscription term buffer -> far ring slots (straight from the fragment)",
                              "far ring -> reader's array (the ring reader's own copy)"],
        "c_client": 1,
        "c_client_detail": ["prepared message -> publication term buffer (offer); the poller only counts"],
    }
    res["targets"] = {
        "ipc_records_per_s": {"target": 10_000_000, "met": res["ipc_records_per_s"] >= 10_000_000},
        "udp_one_way_ns_p50": {"target": 20_000, "met": 0 <= res["udp_one_way_ns_p50"] <= 20_000},
        "python_layer_overhead_pct": {"target": 10, "met": res["python_layer_overhead_pct"] <= 10},
    }
    return res
