"""`nexus bench feeds`: the live data path against the venue simulator running in its own
process (as a venue would be).

(a) Replay throughput: a recorded five-venue session pushed through the whole path minus
    the network — decoder, the venue's sync rules, the native book, ring publish, reader
    book rebuild — as fast as possible, in messages/s on one core.
(b) Wire-to-book latency, live: from a message's local receive time (stamped by the
    connection) to the moment the reader has applied it to its book, p50/p99/p99.9, for the
    five venues together and for one venue (`latency_venue`, the issue-19 target: p50 <= 25 µs,
    p99 <= 100 µs), that one broken down per stage (receive, decode, sync, ring publish, reader
    poll, book apply: nexus.feeds.stages), the median over `latency_rounds` runs. With
    `pin_cpu` / `busy_poll` / `keep_warm` the one-venue run is repeated with them ("tuned");
    the simulator is then kept off the pinned CPU.
(d) Decode cost per venue (`decode`): every registry venue's decoder on that venue's simulated
    stream, in ns per message and messages/s (`--decode-only`: this part alone).
(c) Memory: resident set size after each simulated minute up to `minutes` (the simulator
    runs `speed` times faster than real time), in a fresh process that does nothing else, so
    earlier phases' allocator state does not colour the figure. Reported: VmRSS and its
    private part (RssAnon) after the first minute and at the end, the growth over the second
    half of the run (a plateau shows as ~0), and the rings' shared pages against their fixed
    size. The documented bound (MEMORY_BOUND_ANON_BYTES): the private heap grows by at most
    4 MiB from the first to the last minute; the rings are mapped populated (all their pages
    resident from the start), so VmRSS growth is the private growth.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

from nexus import record
from nexus.bench.stats import median, percentiles_ns
from nexus.feeds.recording import EVENT, FRAME, REST, RecordingReader
from nexus.feeds.specs import AGG_DEFAULT_VENUES, spec
from nexus.venues import VENUE_NAMES

VENUES = list(AGG_DEFAULT_VENUES)


def rss_bytes() -> int:
    return rss_parts()["VmRSS"]


def rss_parts() -> dict[str, int]:
    """VmRSS and its parts: RssAnon (private heap: what a leak grows), RssShmem (the rings'
    shared memory, counted once per mapping as pages are first touched: bounded by the ring
    sizes), RssFile (code and mapped files)."""
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            key = line.split(":", 1)[0]
            if key in ("VmRSS", "RssAnon", "RssShmem", "RssFile"):
                out[key] = int(line.split()[1]) * 1024
    return out


class SimProcess:
    """`nexus sim` in a child process; endpoints read from its --json line."""

    def __init__(self, venues, seed=1, speed=1.0, faults=(), max_wall_s=900.0, avoid_cpus=()):
        # --duration is a safety net: the simulator ends by itself even if this process dies
        # before stop() (it is given in simulated seconds, hence * speed).
        args = [sys.executable, "-m", "nexus.cli", "sim", "--port", "0", "--json", "--seed", str(seed),
                "--speed", str(speed), "--venues", ",".join(venues), "--duration", str(max_wall_s * speed)]
        for f in faults:
            args += ["--fault", f]
        # off the CPUs the measured process is pinned to (when others remain)
        cpus = os.sched_getaffinity(0) - set(avoid_cpus)
        pre = (lambda: os.sched_setaffinity(0, cpus)) if avoid_cpus and cpus else None
        self.p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                  preexec_fn=pre)
        line = self.p.stdout.readline()
        if not line:
            raise RuntimeError("nexus sim did not start")
        self.info = json.loads(line)
        import atexit

        atexit.register(self.stop)

    def ws(self):
        return {v: e["ws"] for v, e in self.info["venues"].items()}

    def rest(self):
        return {v: e["rest"] for v, e in self.info["venues"].items()}

    def stop(self):
        if self.p.poll() is not None:
            return
        self.p.terminate()
        try:
            self.p.wait(10)
        except subprocess.TimeoutExpired:
            self.p.kill()


def record_session(path: str, seconds: float, seed: int = 1) -> None:
    p = subprocess.run([sys.executable, "-m", "nexus.cli", "record", "--sim", "--seed", str(seed), "--venues",
                        ",".join(VENUES), "--duration", str(seconds), "-o", path, "--json"],
                       capture_output=True, text=True, timeout=seconds + 120)
    if p.returncode != 0:
        raise RuntimeError(f"recording failed: {p.stderr[-500:]}")


def replay_throughput(path: str, rounds: int = 3) -> dict:
    """Decode + sync + book + ring publish + reader rebuild, every frame of the recording."""
    from nexus._native import Book
    from nexus.exceptions import BatchFull, DecodeError
    from nexus.feeds.handler import PublishingBook
    from nexus.ring import RingReader, RingWriter
    from nexus.venues.base import DEFAULT_BATCH_RECORDS, SegKind
    from nexus.venues.registry import canonical_symbol, load

    with RecordingReader(path) as r:
        frames = [(VENUE_NAMES[f.venue_id], f.kind, f.payload, f.ts_local_ns) for f in r]
        header = r.header
    from nexus.feeds.replay import Replayer

    listings = Replayer._listings(path)
    # the listing REST entries are set-up, not traffic: loaded into each decoder, not timed
    frames = [f for f in frames if not (f[1] == REST and any(f[2] == b for b in listings.get(f[0], ())))]
    n_msgs = sum(1 for f in frames if f[1] in (FRAME, REST))
    rates, wall = [], []
    for _ in range(rounds):
        name = f"bench-feeds-{os.getpid()}"
        with RingWriter(name, slots=1 << 16) as w, RingReader(name) as rd:
            out = record.empty(4096)
            reader_books: dict[int, Book] = {}
            decoders, syncs, handlers = {}, {}, {}
            batch = record.empty(DEFAULT_BATCH_RECORDS)

            def new(venue):
                mod = load(venue)
                d = mod.Decoder()
                d.rest_symbol = canonical_symbol(venue, spec(venue).symbol_of(header.get("symbol", "BTCUSDT")))
                for body in listings.get(venue, ()):  # the instrument listing the recording saved
                    d.load_metadata(body)
                s = mod.Sync(d)
                s.fuse()  # as the feed handler does
                orig = s.state

                def state(inst, orig=orig):
                    st = orig(inst)
                    if not isinstance(st.book, PublishingBook):
                        st.book = PublishingBook(st.book, w.publish, 0, inst.instrument_id)
                        reader_books.setdefault(inst.instrument_id, Book(inst.price_exponent, inst.qty_exponent))
                    return st

                s.state = state
                decoders[venue], syncs[venue] = d, s
                handlers[venue] = (d.decode, s.feed)  # bound once per (re)connection

            out_iid = out["instrument_id"]  # a view made once, as the runtime's readers do
            cap = len(out)
            trades_kind = SegKind.TRADES
            publish, poll = w.publish, rd.poll
            t0, w0 = time.process_time_ns(), time.perf_counter_ns()
            for venue, kind, payload, ts in frames:
                if kind == EVENT:
                    if b'"connected"' in payload:
                        new(venue)
                    continue
                h = handlers.get(venue)
                if h is None:
                    new(venue)
                    h = handlers[venue]
                decode, feed = h
                try:
                    segs = decode(payload, batch, ts)
                except (DecodeError, BatchFull):
                    continue
                feed(segs, batch)
                for seg in segs:
                    if seg.kind is trades_kind and seg.stop > seg.start:
                        publish(batch[seg.start:] if seg.start else batch, seg.stop - seg.start)
                while True:
                    n = poll(out)
                    if not n:
                        break
                    rb = reader_books.get(out_iid.item(0))
                    if rb is not None:
                        rb.apply(out, n)
                    if n < cap:  # drained: spare the empty poll (as the runtime's readers do)
                        break
            while n := rd.poll(out):  # whatever a short poll left (a ring wrap): read to the end
                rb = reader_books.get(out_iid.item(0))
                if rb is not None:
                    rb.apply(out, n)
            dt, dw = time.process_time_ns() - t0, time.perf_counter_ns() - w0
            if rd.lost:
                raise AssertionError(f"reader lost {rd.lost} records")
        rates.append(n_msgs / (dt / 1e9))
        wall.append(n_msgs / (dw / 1e9))
    # One thread, frames in memory, an in-process ring: the process's CPU time is the path's
    # cost (a wall clock on a shared machine also charges whatever else ran meanwhile).
    return {"replay_msgs": n_msgs, "replay_msgs_per_s": median(rates), "replay_us_per_msg": 1e6 / median(rates),
            "replay_clock": "process CPU time", "replay_msgs_per_s_wall": median(wall)}


LATENCY_VENUE = "binance-perp"


def registry_simulated() -> set[str]:
    from nexus.venues import registry

    return set(registry.simulated())
LATENCY_WARMUP_S = 1.0   # connect, instruments and snapshot: not counted


async def _live(ws, rest, seconds, pin_cpu=(), busy_poll=False, busy_poll_socket_us=0, keep_warm=False) -> tuple:
    """A Runtime (in-process feeds, as `nexus run`) against the simulator for `seconds` after
    the warm-up. Returns (per-message stage rows: nexus.feeds.stages, messages, venue stats,
    notes: SO_BUSY_POLL refusals)."""
    from nexus.feeds.runtime import RunConfig, Runtime

    rt = Runtime(RunConfig(venues=list(ws), ws_urls=dict(ws), rest_urls=dict(rest), stages=True,
                           pin_cpu=tuple(pin_cpu), busy_poll=busy_poll, busy_poll_socket_us=busy_poll_socket_us,
                           keep_warm=keep_warm))
    await rt.start()
    t0 = time.monotonic()
    warm = True
    while time.monotonic() - t0 < seconds + LATENCY_WARMUP_S:
        if warm and time.monotonic() - t0 >= LATENCY_WARMUP_S:
            warm = False
            for r in rt.readers.values():
                r.probe.reset()
        rt.poll()
        rt.idle()
        await asyncio.sleep(rt.poll_interval_s)
    rows = np.concatenate([r.probe.array() for r in rt.readers.values()])
    stats = rt.venue_stats()
    msgs = sum(s.get("msgs", 0) for s in stats.values())
    notes = sorted({f.conn.busy_poll_error for f in rt.feeds.values() if f.conn.busy_poll_error})
    await rt.stop()
    return rows, msgs, stats, notes


def live_latency(venues, seconds: float, rounds: int = 1, pin_cpu=(), busy_poll: bool = False,
                 busy_poll_socket_us: int = 0, progress=None, speed: float = 1.0, keep_warm: bool = False) -> dict:
    """Wire-to-book latency per message against `nexus sim` in its own process (kept off the
    pinned CPU), `rounds` times: each round's p50/p99, their medians, and the median round's
    per-stage breakdown."""
    from nexus.feeds.stages import breakdown

    say = progress or (lambda m: None)
    avoid = set(pin_cpu)
    rounds_out, bds = [], []
    notes: set[str] = set()
    for i in range(rounds):
        say(f"wire-to-book {','.join(venues)} round {i + 1}/{rounds}"
            + (f" (pin-cpu {','.join(map(str, pin_cpu))})" if pin_cpu else "") + (" (busy-poll)" if busy_poll else "")
            + (" (keep-warm)" if keep_warm else ""))
        sim = SimProcess(venues, speed=speed, avoid_cpus=avoid)
        try:
            rows, msgs, _, n = asyncio.run(_live(sim.ws(), sim.rest(), seconds, pin_cpu, busy_poll, busy_poll_socket_us,
                                                 keep_warm))
        finally:
            sim.stop()
        notes.update(n)
        bd = breakdown(rows)
        bds.append(bd)
        rounds_out.append({"msgs": msgs, "samples": bd["samples"],
                           "p50_ns": bd.get("total", {}).get("p50_ns", -1), "p99_ns": bd.get("total", {}).get("p99_ns", -1)})
    order = sorted(range(rounds), key=lambda k: rounds_out[k]["p50_ns"])
    mid = order[len(order) // 2]
    out = {"venues": list(venues), "seconds": seconds, "rounds": rounds_out,
           "p50_ns": int(median([r["p50_ns"] for r in rounds_out])),
           "p99_ns": int(median([r["p99_ns"] for r in rounds_out])),
           "breakdown": bds[mid], "pin_cpu": list(pin_cpu), "busy_poll": busy_poll, "keep_warm": keep_warm,
           "sim_speed": speed}
    if busy_poll_socket_us:
        out["so_busy_poll_us"] = busy_poll_socket_us
        out["so_busy_poll"] = "refused: " + "; ".join(sorted(notes)) if notes else "applied"
    return out


LATENCY_TARGET_P50_NS = 25_000
LATENCY_TARGET_P99_NS = 100_000


def run(quick: bool = False, minutes: float = 10.0, speed: float = 10.0, progress=None,
        decode_only: bool = False, latency_only: bool = False, latency_venue: str = LATENCY_VENUE,
        latency_seconds: float | None = None, latency_rounds: int | None = None, pin_cpu=(),
        busy_poll: bool = False, busy_poll_socket_us: int = 0, latency_speed: float = 1.0,
        keep_warm: bool = False) -> dict:
    say = progress or (lambda m: None)
    res: dict = {"benchmark": "feeds", "venues": VENUES}
    secs = latency_seconds if latency_seconds is not None else (4.0 if quick else 10.0)
    rnds = latency_rounds if latency_rounds is not None else (1 if quick else 3)
    if latency_only:
        res.update(_latency(latency_venue, secs, rnds, pin_cpu, busy_poll, busy_poll_socket_us, say, latency_speed, keep_warm))
        return res
    say("decode cost per venue on its simulated stream")
    res["decode"] = decode_costs(quick=quick, progress=say)
    if decode_only:
        return res
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "session.nxr")
        say("recording a five-venue session from the simulator")
        record_session(path, 8 if quick else 30)
        say("replaying it through decoder, sync, book, ring and reader")
        res.update(replay_throughput(path, rounds=2 if quick else 3))

    say("live wire-to-book latency against `nexus sim` in its own process")
    sim = SimProcess(VENUES)
    try:
        rows, msgs, _, _ = asyncio.run(_live(sim.ws(), sim.rest(), 5 if quick else 20))
    finally:
        sim.stop()
    lat = rows[:, -1]
    res.update(percentiles_ns(lat, "wire_to_book_ns"))
    res["wire_to_book_samples"] = int(lat.size)
    res["live_msgs"] = msgs
    res.update(_latency(latency_venue, secs, rnds, pin_cpu, busy_poll, busy_poll_socket_us, say, latency_speed, keep_warm))

    minutes = 2 if quick else minutes
    say(f"memory over {minutes:g} simulated minutes (simulator at {speed:g}x, in a fresh process)")
    res.update(memory_run(minutes, speed))
    return res


def _latency(venue, seconds, rounds, pin_cpu, busy_poll, busy_poll_socket_us, say, speed=1.0, keep_warm=False) -> dict:
    """The one-venue wire-to-book figures: plain, and with the co-location options when given;
    with `speed` > 1 also at that multiple of the simulator's rate ("fast": the handler stays
    hot in the caches, which shows what the path costs when it is not woken from idle)."""
    out = {"wire_to_book_one_venue": live_latency([venue], seconds, rounds, progress=say)}
    if speed > 1:
        out["wire_to_book_one_venue_fast"] = live_latency([venue], seconds, rounds, progress=say, speed=speed)
    targets = {"wire_to_book_one_venue_p50_ns": (LATENCY_TARGET_P50_NS, out["wire_to_book_one_venue"]["p50_ns"]),
               "wire_to_book_one_venue_p99_ns": (LATENCY_TARGET_P99_NS, out["wire_to_book_one_venue"]["p99_ns"])}
    if pin_cpu or busy_poll or busy_poll_socket_us or keep_warm:
        t = live_latency([venue], seconds, rounds, pin_cpu, busy_poll, busy_poll_socket_us, progress=say,
                         keep_warm=keep_warm)
        out["wire_to_book_one_venue_tuned"] = t
        targets["wire_to_book_one_venue_tuned_p50_ns"] = (LATENCY_TARGET_P50_NS, t["p50_ns"])
        targets["wire_to_book_one_venue_tuned_p99_ns"] = (LATENCY_TARGET_P99_NS, t["p99_ns"])
    out["latency_targets"] = {k: {"target": tgt, "measured": m, "met": 0 <= m <= tgt} for k, (tgt, m) in targets.items()}
    return out


MEMORY_BOUND_ANON_BYTES = 4 << 20   # documented bound on private-heap growth, minute 1 -> end


def memory_run(minutes: float, speed: float) -> dict:
    """Run `_memory_child` in a fresh interpreter and return its figures."""
    p = subprocess.run([sys.executable, "-m", "nexus.bench.feeds", "--memory-child", str(minutes), str(speed)],
                       capture_output=True, text=True, timeout=minutes * 60 / speed + 180)
    if p.returncode != 0:
        raise RuntimeError(f"memory run failed: {p.stderr.strip()[-2000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def _memory_child(minutes: float, speed: float) -> dict:
    from nexus.feeds.runtime import RING_SLOTS, RunConfig, Runtime

    series: list[dict] = []

    async def main(sim):
        rt = Runtime(RunConfig(venues=list(sim.ws()), ws_urls=sim.ws(), rest_urls=sim.rest()))
        await rt.start()
        t0 = time.monotonic()
        minute_s = 60 / speed
        nxt = minute_s
        while len(series) < int(minutes):
            rt.poll()
            if time.monotonic() - t0 >= nxt:
                nxt += minute_s
                parts = rss_parts()
                st = rt.venue_stats()
                series.append({"minute": len(series) + 1, "rss": parts["VmRSS"], "anon": parts["RssAnon"],
                               "shmem": parts["RssShmem"], "msgs": sum(s.get("msgs", 0) for s in st.values()),
                               "book_levels": sum(len(r.book) for r in rt.readers.values() if r.book is not None)})
            await asyncio.sleep(0.005)
        states = {v: s["state"] for v, s in rt.venue_stats().items()}
        await rt.stop()
        return states

    sim = SimProcess(VENUES, speed=speed)
    try:
        states = asyncio.run(main(sim))
    finally:
        sim.stop()
    first, end, mid = series[0], series[-1], series[len(series) // 2]
    page = os.sysconf("SC_PAGE_SIZE")
    ring_bytes = -(-(RING_SLOTS * record.RECORD_SIZE + 256) // page) * page
    res = {
        "rss_simulated_minutes": minutes,
        "rss_first_minute_bytes": first["rss"], "rss_end_bytes": end["rss"],
        "rss_growth_bytes": end["rss"] - first["rss"],
        "rss_anon_first_minute_bytes": first["anon"], "rss_anon_end_bytes": end["anon"],
        "rss_anon_growth_bytes": end["anon"] - first["anon"],
        "rss_anon_growth_second_half_bytes": end["anon"] - mid["anon"],
        "rss_shmem_end_bytes": end["shmem"],
        # writer and reader map each venue's ring in this process (populated): fixed size
        "rss_shmem_bound_bytes": 2 * len(VENUES) * ring_bytes,
        "rss_series": series,
        "memory_run_msgs": end["msgs"],
        "memory_run_states": states,
    }
    res["targets"] = {"rss_anon_growth_bytes": {"target": MEMORY_BOUND_ANON_BYTES,
                                                "met": res["rss_anon_growth_bytes"] <= MEMORY_BOUND_ANON_BYTES},
                      "rss_shmem_bytes": {"target": res["rss_shmem_bound_bytes"],
                                          "met": res["rss_shmem_end_bytes"] <= res["rss_shmem_bound_bytes"]}}
    return res


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--memory-child":
        print(json.dumps(_memory_child(float(sys.argv[2]), float(sys.argv[3]))))
    else:
        sys.exit("usage: python -m nexus.bench.feeds --memory-child MINUTES SPEED")


# -- per-venue decode cost ----------------------------------------------------------------------
DECODE_SIM_SECONDS = 20.0        # simulated traffic per venue (--quick: 5)
DECODE_ROUNDS = 3                # the median of this many passes over the stream


class _Capture:
    """A SimCore sink keeping every event the simulator would send, per venue."""

    def __init__(self) -> None:
        self.events: dict[str, list] = {}

    def deliver(self, venue, events) -> None:
        self.events.setdefault(venue, []).extend(events)

    def disconnect(self, venue, until) -> None:
        pass

    def second(self, t) -> None:
        pass


def bench_symbol(venue: str) -> str:
    """BTCUSDT where the venue lists it, else the first simulated symbol it trades (Binance
    RWA: tokenized real-world assets only)."""
    from nexus.exceptions import ConfigError
    from nexus.sim.specs import SYMBOLS
    from nexus.venues import registry

    bases = registry.venue(venue).sim_venue().instruments
    for sym, (base, _, _) in SYMBOLS.items():    # BTCUSDT first
        if base not in bases:
            continue
        try:
            spec(venue).symbol_of(sym)
            return sym
        except ConfigError:
            continue
    raise ConfigError(f"{venue}: the simulator trades no symbol this venue lists")


def simulated_stream(venue: str, seconds: float, seed: int = 1) -> list[bytes]:
    """The raw messages the simulator sends for `venue` over `seconds` simulated seconds,
    as a subscribed connection receives them (per-connection templates rendered)."""
    from nexus.sim.core import SimCore

    eng = SimCore(seed=seed, venues=[venue], patterns=False, symbol=bench_symbol(venue))
    cap = _Capture()
    eng.sink = cap
    steps = int(seconds * 100)  # SimCore steps are 10 ms of simulated time
    for _ in range(steps):
        eng.step()
    feed = eng.feeds[venue]
    out = _rendered(feed, cap.events.get(venue, []), _BenchConn(venue))
    if not out:     # a venue that renders per subscription (Bitfinex channel ids): subscribe first
        conn = _BenchConn(venue)
        feed.on_open(conn)
        for msg in spec(venue).subscribe(spec(venue).symbol_of(bench_symbol(venue))):
            feed.on_text(conn, msg.decode())
        head = list(conn.sent)  # the acks (channel ids the decoder needs) and the snapshot
        conn.sent.clear()
        out = head + _rendered(feed, cap.events.get(venue, []), conn)
    return out


class _BenchConn:
    """The server side of a connection (nexus.sim.feed.Conn) for a feed's render(): frames a
    render sends ahead of its return value are kept in order."""

    def __init__(self, venue: str) -> None:
        self.venue, self.subs, self.state = venue, set(), {}
        self.opened_ns = self.last_sent_ns = 0
        self.path, self.query = "", {}
        self.sent: list[bytes] = []

    def send(self, text) -> None:
        self.sent.append(text.encode() if isinstance(text, str) else bytes(text))

    def ping(self, payload: bytes) -> None:
        pass

    def close(self, code: int = 1000, reason: str = "") -> None:
        pass

    def subscribe(self, channel: str) -> None:
        self.subs.add(channel)

    def unsubscribe(self, channel: str) -> None:
        self.subs.discard(channel)


def _rendered(feed, events, conn: _BenchConn) -> list[bytes]:
    out: list[bytes] = []
    for channel, payload in events:
        if isinstance(payload, tuple):
            try:
                payload = feed.render(conn, channel, payload)
            except Exception:  # a template this connection would not be sent
                continue
            out.extend(conn.sent)
            conn.sent.clear()
        if isinstance(payload, str):
            out.append(payload.encode())
        elif isinstance(payload, (bytes, bytearray, memoryview)):
            out.append(bytes(payload))
    return out


def decode_cost(venue: str, seconds: float = DECODE_SIM_SECONDS, rounds: int = DECODE_ROUNDS) -> dict:
    """Decoder cost of one venue on its simulated stream: each message decoded into a reused
    batch (no sync, no book), the instruments inferred from the stream first (as `normalize`
    does without --instruments). ns_per_msg is the median pass's time per message."""
    from nexus.exceptions import BatchFull, DecodeError
    from nexus.feeds.lines import infer_instruments
    from nexus.venues.base import DEFAULT_BATCH_RECORDS
    from nexus.venues.registry import canonical_symbol, load

    msgs = simulated_stream(venue, seconds)
    if not msgs:
        return {"error": "the simulator sent no message"}
    mod = load(venue)
    rest_symbol = canonical_symbol(venue, spec(venue).symbol_of(bench_symbol(venue)))
    times, records, rejected = [], 0, 0
    for _ in range(rounds):
        dec = mod.Decoder()
        dec.rest_symbol = rest_symbol
        infer_instruments(mod, dec, rest_symbol, msgs)
        batch = record.empty(DEFAULT_BATCH_RECORDS)
        decode = dec.decode
        records = rejected = 0
        t0 = time.perf_counter_ns()
        for raw in msgs:
            while True:
                try:
                    segs = decode(raw, batch)
                except BatchFull as e:
                    batch = record.empty(max(e.needed, 2 * len(batch)))
                    continue
                except DecodeError:
                    rejected += 1
                    segs = ()
                break
            if segs:
                records += segs[-1].stop
        times.append(time.perf_counter_ns() - t0)
    dt = median(times)
    return {"msgs": len(msgs), "bytes_per_msg": round(sum(map(len, msgs)) / len(msgs), 1),
            "records_per_msg": round(records / len(msgs), 2), "rejected": rejected,
            "ns_per_msg": round(dt / len(msgs), 1), "msgs_per_s": round(len(msgs) / (dt / 1e9), 1)}


def decode_costs(quick: bool = False, venues=None, seconds: float | None = None, rounds: int | None = None,
                 progress=None) -> dict:
    """{venue: decode_cost(...)} for every venue of the registry (or `venues`); a venue the
    simulator does not serve gets {"error": ...}."""
    from nexus.venues import registry

    say = progress or (lambda m: None)
    names = list(venues) if venues else list(registry.names())
    served = set(registry.simulated())
    secs = seconds if seconds is not None else (5.0 if quick else DECODE_SIM_SECONDS)
    rnds = rounds if rounds is not None else (2 if quick else DECODE_ROUNDS)
    out: dict = {}
    for v in names:
        if v not in served:
            out[v] = {"error": "no simulator for this venue"}
            continue
        say(f"decode cost: {v}")
        try:
            out[v] = decode_cost(v, secs, rnds)
        except Exception as e:  # one venue's failure is reported, the others still measured
            out[v] = {"error": f"{type(e).__name__}: {e}"}
    return out
