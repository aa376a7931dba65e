"""`nexus bench aeron`: the record stream over Aeron (aeron:ipc and UDP loopback) side by side
with the shared-memory ring, same 64-byte records, same run.

(a) Nexus path, through the Python API: a near ring -> AeronPublisher.pump -> Aeron ->
    AeronSubscriber.pump -> a far ring, one Python call per batch, checked for count, order, loss;
(a') the same loop in Rust (`aeron_bench_rings_throughput`): (a')/(a) is the Python layer's cost;
(b) the C client alone (the rusteron wrappers, no Python and no rings in the loop): a publisher
    thread offers full messages, this thread polls them: Aeron's own ceiling, one copy where the
    Nexus path makes four (into the near ring, ring -> term buffer, term buffer -> far ring,
    far ring -> reader); (a), (a') and (b) alternate round by round (medians reported, each
    round's figure too, with the 1-minute load average at start and end);
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


def nexus_path_throughput(aeron_dir: str, channel: str, stream_id: int, total: int) -> dict:
    """(a) ring -> Aeron -> ring through the Python API, verified (count, order, no loss): one
    thread in lock step (write a 4096-record batch into the near ring, pump the publisher, pump
    the subscriber, drain the far ring), so each batch crosses the four copies while it is still
    in the CPU's cache. `aeron_bench_rings_throughput` runs the same loop in Rust, no Python.
    (Measured on a 2-CPU host: the two ends on two threads or two processes were slower, the
    publisher running megabytes ahead of the subscriber, out of cache.)"""
    from nexus.aeron import AeronPublisher, AeronSubscriber
    from nexus.ring import RingReader, RingWriter

    near = f"bench-aeron-near-{os.getpid()}-{stream_id}"
    prefix = "far-"
    slots = 1 << 18
    batch = record.empty(4096)
    batch["kind"] = record.Kind.TRADE  # no book upkeep: the stream's own cost
    batch["seq"] = np.arange(len(batch))
    seqs = batch["seq"]  # a view: sequence numbers carried through, checked at the far end
    out = record.empty(8192)
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
        got = seq = 0
        last_seq = -1
        t0 = time.perf_counter_ns()
        deadline = time.monotonic() + 120
        while got < total and time.monotonic() < deadline:
            if seq - got <= slots // 2:  # never more in flight than half a ring (UDP: the window holds it back)
                w.publish(batch)
                seq += len(batch)
                seqs += len(batch)  # the next batch's sequence numbers, in place
            pub.pump(1 << 16)
            sub.pump(64)
            n = far.poll(out)
            while n:
                got += n
                last_seq = int(out["seq"][n - 1])
                n = far.poll(out)
        dt = time.perf_counter_ns() - t0
        ps, ss = pub.stats(), sub.stats()
        far_lost = far.lost
        far.close()
        pub.close()
        sub.close()
    if got < total or ps["lost"] or far_lost or last_seq != got - 1:
        raise AssertionError(f"aeron bench on {channel} lost records: got {got}/{total}, publisher lost {ps['lost']}, "
                             f"far reader lost {far_lost}, last seq {last_seq}")
    return {"records_per_s": got / (dt / 1e9), "back_pressured": ps["back_pressured"], "messages": ss["messages"]}


def run(quick: bool = False, progress=None) -> dict:
    """All figures in one object (the `nexus bench aeron --json` contract)."""
    from nexus.aeron import AeronDriver, aeron_bench_latency, aeron_bench_rings_throughput, aeron_bench_throughput
    from nexus.bench import ring as ring_bench

    say = progress or (lambda msg: None)
    total = 1_000_000 if quick else 10_000_000
    c_total = 2_000_000 if quick else 20_000_000
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
    rounds = 1 if quick else 3
    res["rounds"] = rounds
    d = _dir("tp")
    drv = AeronDriver(d, False)
    try:
        # Nexus path and C client alternate round by round, so both see the same machine load.
        tp, n_ipc, c_ipc, u, n_udp, c_udp = [], [], [], [], [], []
        for i in range(rounds):
            say(f"aeron:ipc round {i + 1}: ring -> Aeron -> ring through the Python API, the same in Rust, "
                "the C client alone")
            tp.append(nexus_path_throughput(d, ipc, 5001 + i, total)["records_per_s"])
            n_ipc.append(aeron_bench_rings_throughput(d, ipc, 5401 + i, total))
            c_ipc.append(aeron_bench_throughput(d, ipc, 5101 + i, c_total)[0])
        for i in range(rounds):
            say(f"UDP loopback round {i + 1}: ring -> Aeron -> ring through the Python API, the same in Rust, "
                "the C client alone")
            u.append(nexus_path_throughput(d, udp, 5201 + i, total // 2)["records_per_s"])
            n_udp.append(aeron_bench_rings_throughput(d, udp, 5501 + i, total // 2))
            c_udp.append(aeron_bench_throughput(d, udp, 5301 + i, c_total // 2)[0])
        res["ipc_records_per_s"], res["ipc_c_client_records_per_s"] = median(tp), median(c_ipc)
        res["udp_records_per_s"], res["udp_c_client_records_per_s"] = median(u), median(c_udp)
        res["ipc_native_path_records_per_s"], res["udp_native_path_records_per_s"] = median(n_ipc), median(n_udp)
        res["rounds_records_per_s"] = {k: [round(x) for x in v] for k, v in (
            ("ipc", tp), ("ipc_native_path", n_ipc), ("ipc_c_client", c_ipc),
            ("udp", u), ("udp_native_path", n_udp), ("udp_c_client", c_udp))}
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
    # The Python layer: the same ring -> Aeron -> ring loop in Rust over the Python-driven one.
    # The rings' copies: the C client alone over the Rust loop.
    res["python_layer_overhead_pct"] = round(100.0 * (res["ipc_native_path_records_per_s"] / res["ipc_records_per_s"] - 1.0), 1)
    res["udp_python_layer_overhead_pct"] = round(100.0 * (res["udp_native_path_records_per_s"] / res["udp_records_per_s"] - 1.0), 1)
    res["rings_vs_c_client_overhead_pct"] = round(100.0 * (res["ipc_c_client_records_per_s"] / res["ipc_native_path_records_per_s"] - 1.0), 1)
    res["targets"] = {
        "ipc_records_per_s": {"target": 10_000_000, "met": res["ipc_records_per_s"] >= 10_000_000},
        "udp_one_way_ns_p50": {"target": 20_000, "met": 0 <= res["udp_one_way_ns_p50"] <= 20_000},
        "python_layer_overhead_pct": {"target": 10, "met": res["python_layer_overhead_pct"] <= 10},
    }
    return res
