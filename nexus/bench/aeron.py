"""`nexus bench aeron`: the record stream over Aeron (aeron:ipc and UDP loopback) side by side
with the shared-memory ring, same 64-byte records, same run.

(a) Nexus path, through the Python API: a near ring -> AeronPublisher.pump -> Aeron ->
    AeronSubscriber.pump -> a far ring, one Python call per batch, checked record for record;
(b) the C client alone (the rusteron wrappers, no Python and no rings in the loop): a publisher
    thread offers full messages, this thread polls them; the ratio (b)/(a) is what the Python
    layer and the ring copies cost;
(c) one-way latency: single-record messages stamped with CLOCK_MONOTONIC just before the offer
    and on receipt, both clients busy-polling, through an embedded driver in shared threading
    mode (busy-spin idle strategy on hosts with 4+ CPUs; backoff on smaller ones, where a
    spinning driver would take a client's core);
(d) the ring itself (nexus.bench.ring): batch throughput and cross-process latency.
"""

from __future__ import annotations

import os
import shutil
import time

import numpy as np

from nexus import record
from nexus.bench.stats import median, percentiles_ns


def _dir(tag: str) -> str:
    return f"/dev/shm/nexus-aeron-bench-{tag}-{os.getpid()}"


def nexus_path_throughput(aeron_dir: str, channel: str, stream_id: int, total: int) -> dict:
    """(a) ring -> Aeron -> ring through the Python API, verified (count, order, no loss)."""
    from nexus.aeron import AeronPublisher, AeronSubscriber
    from nexus.ring import RingReader, RingWriter

    near = f"bench-aeron-near-{os.getpid()}-{stream_id}"
    prefix = "far-"
    batch = record.empty(4096)
    batch["kind"] = record.Kind.TRADE  # no book upkeep: the stream's own cost
    out = record.empty(8192)
    with RingWriter(near, slots=1 << 18) as w:
        sub = AeronSubscriber(aeron_dir, channel, stream_id, prefix, 1 << 18)
        pub = AeronPublisher(aeron_dir, channel, stream_id, [(near, b"")], 3600.0)
        end = time.monotonic() + 10
        while not pub.connected and time.monotonic() < end:
            pub.pump()
            sub.pump()
        far = None
        while far is None and time.monotonic() < end:
            pub.pump()
            sub.pump()
            try:
                far = RingReader(prefix + near, start="earliest")
            except Exception:
                time.sleep(0.001)
        if far is None:
            raise RuntimeError(f"bench: no subscriber ring on {channel}")
        while far.poll(out):
            pass
        got = 0
        seq = 0
        t0 = time.perf_counter_ns()
        sent = 0
        deadline = time.monotonic() + 120
        while got < total and time.monotonic() < deadline:
            if sent < total and w.position - (got + 0) < (1 << 17):
                batch["seq"] = np.arange(seq, seq + len(batch))
                seq += len(batch)
                w.publish(batch)
                sent += len(batch)
            pub.pump(1 << 16)
            sub.pump(4096)
            n = far.poll(out)
            while n:
                got += n
                n = far.poll(out)
        dt = time.perf_counter_ns() - t0
        ps, ss = pub.stats(), sub.stats()
        far_lost = far.lost
        far.close()
        pub.close()
        sub.close()
    if got < total or ps["lost"] or far_lost:
        raise AssertionError(f"aeron bench on {channel} lost records: got {got}/{total}, publisher lost {ps['lost']}, "
                             f"far reader lost {far_lost}")
    return {"records_per_s": got / (dt / 1e9), "back_pressured": ps["back_pressured"], "messages": ss["messages"]}


def run(quick: bool = False, progress=None) -> dict:
    """All figures in one object (the `nexus bench aeron --json` contract)."""
    from nexus.aeron import AeronDriver, aeron_bench_latency, aeron_bench_throughput
    from nexus.bench import ring as ring_bench

    say = progress or (lambda msg: None)
    total = 1_000_000 if quick else 10_000_000
    c_total = 2_000_000 if quick else 20_000_000
    lat_count = 5_000 if quick else 50_000
    res: dict = {"benchmark": "aeron", "record_size": record.RECORD_SIZE, "cpus": os.cpu_count(),
                 "driver": "embedded Aeron C media driver (rusteron-media-driver), shared threading mode"}
    port = 42000 + os.getpid() % 20000
    # Batched: one message carries as many records as the channel's MTU allows (Aeron's default
    # MTU, 1408 bytes, holds 20 records; 64 KiB holds 1022). Loopback carries 64 KiB datagrams.
    ipc = "aeron:ipc?mtu=65504"
    udp = f"aeron:udp?endpoint=127.0.0.1:{port}|mtu=65504"
    udp_lat = f"aeron:udp?endpoint=127.0.0.1:{port + 1}"
    res["ipc_channel"], res["udp_channel"] = ipc, udp
    # Busy-spinning driver only where there are cores to spare for it.
    spin = (os.cpu_count() or 1) >= 4
    res["driver_idle"] = "spin" if spin else "backoff (2 CPUs: a spinning driver would starve the clients)"
    d = _dir("tp")
    drv = AeronDriver(d, False)
    try:
        say("aeron:ipc, ring -> Aeron -> ring through the Python API")
        tp = [nexus_path_throughput(d, ipc, 5001 + i, total)["records_per_s"] for i in range(1 if quick else 3)]
        res["ipc_records_per_s"] = median(tp)
        say("aeron:ipc, the C client alone")
        c_ipc = [aeron_bench_throughput(d, ipc, 5101 + i, c_total)[0] for i in range(1 if quick else 3)]
        res["ipc_c_client_records_per_s"] = median(c_ipc)
        say("UDP loopback, ring -> Aeron -> ring through the Python API")
        u = [nexus_path_throughput(d, udp, 5201 + i, total // 2)["records_per_s"] for i in range(1 if quick else 3)]
        res["udp_records_per_s"] = median(u)
        say("UDP loopback, the C client alone")
        c_udp = [aeron_bench_throughput(d, udp, 5301 + i, c_total // 2)[0] for i in range(1 if quick else 3)]
        res["udp_c_client_records_per_s"] = median(c_udp)
    finally:
        drv.close()
        shutil.rmtree(d, ignore_errors=True)
    d = _dir("lat")
    drv = AeronDriver(d, spin)
    try:
        say("one-way latency, aeron:ipc")
        res.update(percentiles_ns(aeron_bench_latency(d, "aeron:ipc", 6001, lat_count, 10_000)[100:], "ipc_one_way_ns"))
        say("one-way latency, UDP loopback")
        res.update(percentiles_ns(aeron_bench_latency(d, udp_lat, 6002, lat_count, 10_000)[100:],
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
    res["python_layer_overhead_pct"] = round(100.0 * (res["ipc_c_client_records_per_s"] / res["ipc_records_per_s"] - 1.0), 1)
    res["targets"] = {
        "ipc_records_per_s": {"target": 10_000_000, "met": res["ipc_records_per_s"] >= 10_000_000},
        "udp_one_way_ns_p50": {"target": 20_000, "met": 0 <= res["udp_one_way_ns_p50"] <= 20_000},
        "python_layer_overhead_pct": {"target": 10, "met": res["python_layer_overhead_pct"] <= 10},
    }
    return res
