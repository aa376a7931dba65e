"""Wire-to-book stages and the co-location options (issue 19 point 3), over real WebSockets on
127.0.0.1 against the venue simulator. Latency figures are the benchmark's (`nexus bench
feeds`), never asserted here: these tests check that every stage is stamped, that the stages
add up to the total per message, and that --pin-cpu / --busy-poll are applied (read back)."""
import asyncio
import gc
import json
import os
import socket
import subprocess
import sys
import time

import pytest

from nexus.feeds.connection import SO_BUSY_POLL
from nexus.feeds.runtime import RunConfig, Runtime
from nexus.feeds.stages import STAGES, breakdown

VENUE = "binance-perp"


@pytest.fixture
def keep_affinity():
    """The tests pin this process's thread: give it back its CPUs afterwards."""
    cpus = os.sched_getaffinity(0)
    yield sorted(cpus)
    os.sched_setaffinity(0, cpus)


def _book(book, inst, side, depth=10):
    return [(inst.price_str(p), inst.qty_str(q)) for p, q in book.top(side, depth)]


def test_stages_stamped_and_summing_to_the_total():
    out = {}

    async def main():
        rt = Runtime(RunConfig(venues=[VENUE], sim=True, stages=True, signals=False))
        await rt.start()
        try:
            t0 = time.monotonic()
            while time.monotonic() - t0 < 4:
                rt.poll()
                await asyncio.sleep(rt.poll_interval_s)
            rs, feed = rt.readers[VENUE], rt.feeds[VENUE]
            out["rows"] = rs.probe.array()
            out["pending"] = len(rs.probe.pending)
            st = feed.sync.books[feed.symbol]
            out["synced"] = st.synced
            out["feed_book"] = (_book(st.book, st.inst, 1), _book(st.book, st.inst, 2))
            out["reader_book"] = (_book(rs.book, st.inst, 1), _book(rs.book, st.inst, 2))
            out["published"], out["read"] = feed.counters.records_published, rs.records
        finally:
            await rt.stop()

    asyncio.run(main())
    rows = out["rows"]
    assert out["synced"] and rows.shape[0] > 20 and rows.shape[1] == len(STAGES) + 1
    # every message's records were read in the handler's own call: nothing left open
    assert out["pending"] == 0 and out["read"] == out["published"]
    assert out["reader_book"] == out["feed_book"] and out["feed_book"][0]
    assert (rows >= 0).all()
    assert (rows[:, :len(STAGES)].sum(axis=1) == rows[:, -1]).all()
    bd = breakdown(rows)
    assert bd["samples"] == rows.shape[0] and bd["sum_matches_total"] is True
    for s in STAGES + ("total",):
        assert 0 <= bd[s]["p50_ns"] <= bd[s]["p99_ns"] <= rows[:, list(STAGES + ("total",)).index(s)].max()


def test_bench_feeds_latency_json_has_the_breakdown():
    p = subprocess.run([sys.executable, "-m", "nexus.cli", "bench", "feeds", "--latency-only", "--quick",
                        "--latency-seconds", "2", "--latency-venue", VENUE, "--json"],
                       capture_output=True, text=True, timeout=180)
    assert p.returncode == 0, p.stderr[-2000:]
    res = json.loads(p.stdout)
    one = res["wire_to_book_one_venue"]
    assert one["venues"] == [VENUE] and len(one["rounds"]) == 1 and one["pin_cpu"] == [] and not one["busy_poll"]
    bd = one["breakdown"]
    assert bd["samples"] > 0 and bd["sum_matches_total"] is True
    for s in STAGES + ("total",):
        assert set(bd[s]) == {"p50_ns", "p99_ns", "mean_ns"} and bd[s]["p50_ns"] >= 0
    assert one["p50_ns"] == bd["total"]["p50_ns"] and one["p99_ns"] == bd["total"]["p99_ns"]
    assert set(res["latency_targets"]) == {"wire_to_book_one_venue_p50_ns", "wire_to_book_one_venue_p99_ns"}
    assert res["latency_targets"]["wire_to_book_one_venue_p50_ns"]["target"] == 25_000


def test_pin_cpu_and_busy_poll_applied_in_process(keep_affinity):
    cpu = keep_affinity[-1]
    seen = {}

    def on_second(line, rt):
        feed = rt.feeds[VENUE]
        sock = feed.conn._transport.underlying_transport.get_extra_info("socket") if feed.conn._transport else None
        seen.setdefault("affinity", os.sched_getaffinity(0))
        seen.setdefault("interval", rt.poll_interval_s)
        if sock is not None:
            seen["so_busy_poll"] = sock.getsockopt(socket.SOL_SOCKET, SO_BUSY_POLL)
            seen["refused"] = feed.conn.busy_poll_error
        seen["state"] = line["venues"][VENUE]["state"]

    cfg = RunConfig(venues=[VENUE], sim=True, duration_s=3, signals=False, pin_cpu=(cpu,), busy_poll=True,
                    busy_poll_socket_us=50)
    summary = asyncio.run(Runtime(cfg, on_second).run())
    assert seen["affinity"] == {cpu}
    assert seen["interval"] == 0.0  # the loop spins: no sleep between polls
    # SO_BUSY_POLL read back from the socket, or the kernel's refusal reported
    assert seen["so_busy_poll"] == 50 or (seen["refused"] or "").startswith("SO_BUSY_POLL refused")
    assert summary["summary"][VENUE]["msgs"] > 0


def _children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return [int(c) for c in f.read().split()]


@pytest.mark.parametrize("procs", [False, True], ids=["in-process", "procs"])
def test_run_cli_pins_its_processes(procs, keep_affinity):
    cpus = keep_affinity
    first, second = cpus[0], cpus[-1]
    args = [sys.executable, "-m", "nexus.cli", "run", "--sim", "--venues", f"{VENUE},bybit-perp", "--json",
            "--no-signals", "--duration", "30", "--pin-cpu", f"{first},{second}"]
    # --procs: not with --busy-poll here, it would spin three processes on the test machine
    args.append("--procs" if procs else "--busy-poll")
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(30):
            line = p.stdout.readline()
            assert line, p.stderr.read()[-2000:]
            if all(v["state"] == "LIVE" for v in json.loads(line)["venues"].values()):
                break
        else:
            pytest.fail("the venues did not go LIVE")
        assert os.sched_getaffinity(p.pid) == {first}
        if procs:  # the feed processes (multiprocessing spawn) take the CPUs after the first
            feeds = [c for c in _children(p.pid) if b"spawn_main" in open(f"/proc/{c}/cmdline", "rb").read()]
            assert len(feeds) == 2
            assert [os.sched_getaffinity(c) for c in feeds] == [{second}, {second}]
    finally:
        p.terminate()
        p.communicate(timeout=60)


def test_run_cli_refuses_a_cpu_it_cannot_use():
    bad = max(os.sched_getaffinity(0)) + 1000
    p = subprocess.run([sys.executable, "-m", "nexus.cli", "run", "--sim", "--venues", VENUE, "--pin-cpu", str(bad)],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 2 and f"CPU {bad} is not available" in p.stderr


FUSED_VENUES = [VENUE, "bybit-perp", "okx-swap"]  # the venues with a fused diff path (OKX: checksummed)


def test_keep_warm_decodes_between_messages_and_publishes_nothing():
    """--keep-warm: the idle loop re-decodes each feed's last trade frame and last fused diff;
    the rings, the books, the sequences and the checksums are as without it, and a warm pass
    itself publishes nothing."""
    out = {}

    def state(rt, v):
        feed = rt.feeds[v]
        st = feed.sync.books[feed.symbol]
        return (feed.counters.records_published, rt.supervisor.writers[v].position, st.last_seq, st.synced,
                _book(st.book, st.inst, 1), _book(st.book, st.inst, 2))

    async def main():
        rt = Runtime(RunConfig(venues=list(FUSED_VENUES), sim=True, signals=False, keep_warm=True))
        await rt.start()
        try:
            out["frozen"] = gc.get_freeze_count()
            t0 = time.monotonic()
            while time.monotonic() - t0 < 4:
                rt.poll()
                rt.idle()
                await asyncio.sleep(rt.poll_interval_s)
            for v in FUSED_VENUES:
                rs, feed = rt.readers[v], rt.feeds[v]
                st = feed.sync.books[feed.symbol]
                o = out[v] = {"warmed": feed.warmed, "frame": feed.warm_frame, "diff": feed.warm_diff}
                # warm passes between messages: nothing published, book, sequence and checksum unchanged
                before = state(rt, v)
                for _ in range(50):
                    feed.warm()
                o["unchanged"] = before == state(rt, v)
                rt.poll()
                o["feed_book"] = (_book(st.book, st.inst, 1), _book(st.book, st.inst, 2))
                o["reader_book"] = (_book(rs.book, st.inst, 1), _book(rs.book, st.inst, 2))
                o["published"], o["read"] = feed.counters.records_published, rs.records
                o["checksum_failures"], o["gaps"] = st.checksum_failures, st.gaps
            out["trades_read"] = {v: sum(1 for row in rt.tape if row["venue"] == v) for v in FUSED_VENUES}
        finally:
            await rt.stop()
        out["frozen_after"] = gc.get_freeze_count()

    asyncio.run(main())
    for v in FUSED_VENUES:
        o = out[v]
        assert o["warmed"] > 100 and o["frame"] is not None and o["diff"] is not None, v
        assert o["unchanged"], v
        assert o["read"] == o["published"] and o["feed_book"] == o["reader_book"] and o["feed_book"][0], v
        assert o["checksum_failures"] == 0 and o["gaps"] == 0, v
        assert out["trades_read"][v] > 0, v
    # start-up froze what it built (gc.freeze); stop gave it back to the collector
    assert out["frozen"] > 0 and out["frozen_after"] == 0


def test_without_keep_warm_nothing_is_warmed():
    out = {}

    async def main():
        rt = Runtime(RunConfig(venues=[VENUE], sim=True, signals=False))
        await rt.start()
        try:
            t0 = time.monotonic()
            while time.monotonic() - t0 < 2:
                rt.poll()
                rt.idle()
                await asyncio.sleep(rt.poll_interval_s)
            feed = rt.feeds[VENUE]
            out["warmed"], out["frame"], out["msgs"] = feed.warmed, feed.warm_frame, feed.conn.stats.msgs
        finally:
            await rt.stop()

    asyncio.run(main())
    assert out["msgs"] > 0 and out["warmed"] == 0 and out["frame"] is None


def test_frames_of_one_read_reach_the_book_before_the_read_ends():
    """A socket read bringing several frames: each message's records are applied to the reader's
    book as the message is handled (poll_held), and every record is still handed on (on_batch)
    exactly once, in ring order, with the rest of its read."""
    out = {"handed": 0, "order_ok": True, "last_ts": 0}

    def on_batch(venue, rs, batch):
        ts = batch["ts_local_ns"]
        out["order_ok"] &= bool((ts[1:] >= ts[:-1]).all()) and int(ts[0]) >= out["last_ts"]
        out["last_ts"] = int(ts[-1])
        out["handed"] += len(batch)

    async def main():
        rt = Runtime(RunConfig(venues=[VENUE], sim=True, signals=False, stages=True))
        rt.on_batch = on_batch
        await rt.start()
        try:
            rs, feed = rt.readers[VENUE], rt.feeds[VENUE]
            t0 = time.monotonic()
            while time.monotonic() - t0 < 3 or (rs.early == 0 and time.monotonic() - t0 < 15):
                rt.poll()
                rt.idle()
                await asyncio.sleep(rt.poll_interval_s)
            rt.poll()
            st = feed.sync.books[feed.symbol]
            out["early"], out["held"], out["read"] = rs.early, rs.held, rs.records
            out["published"] = feed.counters.records_published
            out["pending"] = len(rs.probe.pending)
            out["marks"] = len(rs.held_marks)
            out["latencies"], out["batches"] = list(rs.latency_ns), rs.batches
            out["rows"] = rs.probe.array()
            out["feed_book"] = (_book(st.book, st.inst, 1), _book(st.book, st.inst, 2))
            out["reader_book"] = (_book(rs.book, st.inst, 1), _book(rs.book, st.inst, 2))
        finally:
            await rt.stop()

    asyncio.run(main())
    assert out["early"] > 0  # the simulator sends a trade and a diff of one tick in one write
    assert out["held"] == 0 and out["pending"] == 0
    assert out["handed"] == out["read"] == out["published"] and out["order_ok"]
    assert out["reader_book"] == out["feed_book"] and out["feed_book"][0]
    # the early applies' latencies and probe rows, taken at the hand-on, are all there: one
    # latency per batch the reader read (early or not), every stage row summing to its total
    assert out["marks"] == 0
    assert len(out["latencies"]) == out["batches"] < 2048 and min(out["latencies"]) > 0
    rows = out["rows"]
    assert rows.shape[0] > 0 and (rows >= 0).all() and (rows[:, :len(STAGES)].sum(axis=1) == rows[:, -1]).all()


def test_a_read_whose_end_never_comes_is_handed_on_by_the_run_loop():
    """A socket read whose last frame picows answers itself (a ping) never calls on_read_end:
    the records its earlier frames had applied early are handed on by the run loop's next poll
    (no callback is scheduled per read). Here the read-end callback is taken away for the run."""
    out = {"handed": 0}

    def on_batch(venue, rs, batch):
        out["handed"] += len(batch)

    async def main():
        rt = Runtime(RunConfig(venues=[VENUE], sim=True, signals=False))
        rt.on_batch = on_batch
        await rt.start()
        try:
            rs, feed = rt.readers[VENUE], rt.feeds[VENUE]
            feed.conn.on_read_end = None   # as if no read's last frame reached the listener
            t0 = time.monotonic()
            while time.monotonic() - t0 < 3 or (rs.early == 0 and time.monotonic() - t0 < 15):
                rt.poll()
                await asyncio.sleep(rt.poll_interval_s)
            rt.poll()
            st = feed.sync.books[feed.symbol]
            out["early"], out["held"], out["read"] = rs.early, rs.held, rs.records
            out["published"] = feed.counters.records_published
            out["feed_book"] = (_book(st.book, st.inst, 1), _book(st.book, st.inst, 2))
            out["reader_book"] = (_book(rs.book, st.inst, 1), _book(rs.book, st.inst, 2))
        finally:
            await rt.stop()

    asyncio.run(main())
    assert out["early"] > 0 and out["held"] == 0
    assert out["handed"] == out["read"] == out["published"]
    assert out["reader_book"] == out["feed_book"] and out["feed_book"][0]


def test_bench_feeds_keep_warm_is_a_tuned_run():
    p = subprocess.run([sys.executable, "-m", "nexus.cli", "bench", "feeds", "--latency-only", "--quick",
                        "--latency-seconds", "2", "--latency-venue", VENUE, "--keep-warm", "--json"],
                       capture_output=True, text=True, timeout=180)
    assert p.returncode == 0, p.stderr[-2000:]
    res = json.loads(p.stdout)
    plain, tuned = res["wire_to_book_one_venue"], res["wire_to_book_one_venue_tuned"]
    assert plain["keep_warm"] is False and tuned["keep_warm"] is True
    assert tuned["pin_cpu"] == [] and tuned["busy_poll"] is False
    assert tuned["breakdown"]["samples"] > 0 and tuned["breakdown"]["sum_matches_total"] is True
    assert res["latency_targets"]["wire_to_book_one_venue_tuned_p50_ns"]["measured"] == tuned["p50_ns"]
