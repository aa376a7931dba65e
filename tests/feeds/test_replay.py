"""Record from the simulator, replay, export: byte-identical replays, exact counts, bounded memory."""
import json
import subprocess
import sys
import tracemalloc

import pytest

from nexus.feeds.recording import FRAME, RecordingReader, RecordingWriter
from nexus.feeds.replay import Replayer

VENUES = "binance-spot,binance-perp,okx-swap,kraken,coinbase,bybit-perp,hyperliquid"


def nexus(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "nexus.cli", *args], capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    path = tmp_path_factory.mktemp("rec") / "sim.nxr"
    p = nexus("record", "--sim", "--venues", VENUES, "--duration", "6", "--fault", "malformed:coinbase:2",
              "-o", str(path), "--json")
    assert p.returncode == 0, p.stderr[-2000:]
    return path


def test_recording_holds_every_venue_and_the_binance_rest_snapshots(recording):
    with RecordingReader(recording) as r:
        frames = list(r)
        assert r.header["venues"] == VENUES.split(",") and r.header["sim"] is True
    by_venue = {}
    for f in frames:
        by_venue.setdefault(f.venue_id, []).append(f)
    assert len(by_venue) == 7
    rest = [f for f in frames if f.kind == 1]
    assert len(rest) >= 2 and all(b'"lastUpdateId"' in f.payload for f in rest)  # spot + perp
    ts = [f.ts_local_ns for f in frames]
    assert ts == sorted(ts)


def test_replay_is_byte_identical_twice_and_reports_malformed_frames(recording):
    a, b = nexus("replay", str(recording)), nexus("replay", str(recording))
    assert a.returncode == b.returncode == 3  # the injected malformed frames
    assert "malformed frame" in a.stderr
    assert a.stdout == b.stdout and len(a.stdout) > 10_000
    events = [json.loads(x) for x in a.stdout.splitlines()]
    assert {e["venue"] for e in events} == set(VENUES.split(","))
    assert {e["type"] for e in events} == {"book", "trade"}
    t = next(e for e in events if e["type"] == "trade")
    assert set(t) == {"type", "venue", "symbol", "price", "size", "side", "trade_id", "ts_exchange_ns"}


def test_replay_events_equal_normalize_on_the_same_frames(recording):
    """Per venue, replaying the recording gives what `nexus normalize` gives on its raw frames
    (from the first connection: normalize has no connection events)."""
    with RecordingReader(recording) as r:
        okx = [f.payload for f in r if f.venue_id == 4 and f.kind == FRAME]
    n = subprocess.run([sys.executable, "-m", "nexus.cli", "normalize", "--venue", "okx-swap"],
                       input=b"\n".join(okx) + b"\n", capture_output=True, timeout=60)
    r = nexus("replay", str(recording), "--venue", "okx-swap")
    assert r.returncode == 0 and n.returncode == 0
    assert [json.loads(x) for x in r.stdout.splitlines()] == [json.loads(x) for x in n.stdout.splitlines()]


def test_export_parquet_rows_match_the_replay(recording, tmp_path):
    import pyarrow.parquet as pq

    p = nexus("export", str(recording), "--parquet", str(tmp_path / "pq"), "--json")
    assert p.returncode == 3  # malformed frames are reported, the rest exported
    summary = json.loads(p.stdout)
    events = [json.loads(x) for x in nexus("replay", str(recording)).stdout.splitlines()]
    trades = [e for e in events if e["type"] == "trade"]
    levels = sum(len(e["bids"]) + len(e["asks"]) for e in events if e["type"] == "book")
    assert summary["trade_rows"] == len(trades) and summary["book_rows"] == levels
    t = pq.read_table(tmp_path / "pq" / "trades.parquet")
    from decimal import Decimal
    assert [Decimal(e["price"]) for e in trades] == t.column("price").to_pylist()  # exact, any scale
    assert [Decimal(e["size"]) for e in trades] == t.column("size").to_pylist()


def test_replay_memory_stays_bounded_on_a_long_recording(recording, tmp_path):
    """Replaying 4x more frames must not need more memory: one chunk at a time."""
    with RecordingReader(recording) as r:
        frames = [f for f in r if f.kind == FRAME and f.venue_id == 2]  # binance-perp diffs + trades
        header = r.header

    def make(copies):
        path = tmp_path / f"long{copies}.nxr"
        with RecordingWriter(path, header, chunk_bytes=256 << 10) as w:
            for _ in range(copies):
                for f in frames:
                    w.write(f.ts_local_ns, f.venue_id, f.kind, f.payload)
        return path

    def peak(path):
        tracemalloc.start()
        rp = Replayer(str(path))
        n = sum(1 for _ in rp)
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rp.close()
        return n, top

    n1, p1 = peak(make(5))
    n4, p4 = peak(make(20))
    assert n4 == 4 * n1
    assert p4 < p1 * 1.5 + (1 << 20), (p1, p4)
