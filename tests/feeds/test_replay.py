"""Record from the simulator, replay, export: byte-identical replays, exact counts, bounded memory."""
import json
import struct
import subprocess
import sys
import tracemalloc

import pytest

from nexus.feeds.recording import CHUNK_HEAD, FRAME, MAGIC, RecordingReader, RecordingWriter
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
    # REST entries: each venue's instrument listing (right after an "instruments" event), then
    # the Binance depth snapshots
    listings = [b for a, b in zip(frames, frames[1:]) if a.kind == 2 and b'"instruments"' in a.payload]
    assert all(f.kind == 1 for f in listings) and len({f.venue_id for f in listings}) == 7
    rest = [f for f in frames if f.kind == 1 and all(f is not x for x in listings)]
    assert len(rest) >= 2 and all(b'"lastUpdateId"' in f.payload for f in rest)  # spot + perp
    ts = [f.ts_local_ns for f in frames]
    assert ts == sorted(ts)


def test_replay_decodes_with_the_listing_the_recording_saved(recording):
    """`nexus record` saved each venue's instrument listing; the replay's decoders (and the
    instruments the agg/trade replays take) come from it, not from a generic stand-in."""
    from decimal import Decimal

    from nexus.sim.core import SimCore

    rp = Replayer(recording)
    try:
        assert set(rp.listings) == set(VENUES.split(","))
        sims = SimCore(seed=1, venues=VENUES.split(",")).feeds
        for venue in VENUES.split(","):
            inst = rp.instrument(venue)
            assert inst.symbol not in rp.decoders[venue].generic
            assert Decimal(inst.lot_size) == Decimal(sims[venue].spec.lot_str()), venue
            if venue == "okx-swap":
                assert Decimal(inst.contract_value) == Decimal(sims[venue].spec.contract_value)
    finally:
        rp.close()


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


def chunk_offsets(data: bytes) -> list[int]:
    """Where each chunk of a recording's bytes starts (the layout in nexus/feeds/recording.py)."""
    off = len(MAGIC) + 4 + struct.unpack_from("<I", data, len(MAGIC))[0]
    out = []
    while off < len(data):
        out.append(off)
        off += CHUNK_HEAD.size + CHUNK_HEAD.unpack_from(data, off)[1]
    return out


@pytest.fixture(scope="module")
def cut_recording(recording, tmp_path_factory):
    """okx-swap's frames of the simulator recording (no fault injected there) in small chunks,
    cut in the middle of its last chunk as a killed recorder leaves it; and a file holding just
    the frames of the whole chunks before the cut."""
    d = tmp_path_factory.mktemp("cut")
    with RecordingReader(recording) as r:
        header = {**r.header, "venues": ["okx-swap"]}
        frames = [f for f in r if f.venue_id == 4]
    full, cut, whole = d / "full.nxr", d / "cut.nxr", d / "whole.nxr"
    with RecordingWriter(full, header, chunk_bytes=16 << 10) as w:
        for f in frames:
            w.write(f.ts_local_ns, f.venue_id, f.kind, f.payload)
    data = full.read_bytes()
    last = chunk_offsets(data)[-1]
    cut.write_bytes(data[: (last + len(data)) // 2])
    with RecordingReader(cut) as r:
        n_whole = len(list(r))
    assert 0 < n_whole < len(frames)
    with RecordingWriter(whole, header) as w:
        for f in frames[:n_whole]:
            w.write(f.ts_local_ns, f.venue_id, f.kind, f.payload)
    return cut, whole


def test_replay_of_a_cut_recording_gives_every_whole_chunk_and_exits_3(cut_recording):
    cut, whole = cut_recording
    got, want = nexus("replay", str(cut)), nexus("replay", str(whole))
    assert want.returncode == 0 and len(want.stdout) > 1000
    assert got.returncode == 3 and got.stdout == want.stdout
    assert "truncated chunk at byte" in got.stderr and "could not be read" in got.stderr


def test_agg_replay_and_export_of_a_cut_recording_exit_3_with_the_whole_chunks(cut_recording, tmp_path):
    import pyarrow.parquet as pq

    cut, whole = cut_recording
    got, want = nexus("agg", "replay", str(cut), "--json"), nexus("agg", "replay", str(whole), "--json")
    assert want.returncode == 0 and got.returncode == 3 and got.stdout == want.stdout
    assert "could not be read" in got.stderr
    got = nexus("export", str(cut), "--parquet", str(tmp_path / "cut"), "--json")
    want = nexus("export", str(whole), "--parquet", str(tmp_path / "whole"), "--json")
    assert want.returncode == 0 and got.returncode == 3, got.stderr
    assert "could not be read" in got.stderr and json.loads(got.stdout)["damage"].startswith("truncated chunk")
    for name in ("books.parquet", "trades.parquet"):
        assert pq.read_table(tmp_path / "cut" / name).equals(pq.read_table(tmp_path / "whole" / name))


def test_export_of_a_damaged_file_leaves_no_empty_parquet_files(tmp_path):
    bad = tmp_path / "bad.nxr"
    bad.write_bytes(b"not a recording at all")
    p = nexus("export", str(bad), "--parquet", str(tmp_path / "out"))
    assert p.returncode == 2 and "not a Nexus recording" in p.stderr and "Traceback" not in p.stderr
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


def test_export_of_a_recording_with_a_corrupt_chunk_keeps_what_came_before(cut_recording, tmp_path):
    cut, whole = cut_recording
    data = bytearray(whole.read_bytes())
    data[chunk_offsets(bytes(data))[0] + CHUNK_HEAD.size + 30] ^= 0xFF  # the only chunk: its data
    bad = tmp_path / "corrupt.nxr"
    bad.write_bytes(bytes(data))
    p = nexus("export", str(bad), "--parquet", str(tmp_path / "out"), "--json")
    assert p.returncode == 3 and "damaged chunk data" in p.stderr and "Traceback" not in p.stderr
    assert json.loads(p.stdout)["trade_rows"] == 0 and (tmp_path / "out" / "books.parquet").exists()


def test_export_says_what_each_size_counts_and_gives_it_in_base_coin(recording, tmp_path):
    """OKX's swap counts contracts (BTC-USDT-SWAP: ctVal 0.01 BTC, OKX's public instruments
    endpoint), Binance spot counts BTC: each row says which, and size_base is in BTC for both."""
    import pyarrow.parquet as pq
    from decimal import Decimal

    p = nexus("export", str(recording), "--parquet", str(tmp_path / "pq"), "--json")
    assert p.returncode == 3, p.stderr[-2000:]  # the fixture's injected malformed frames
    for name in ("books.parquet", "trades.parquet"):
        rows = pq.read_table(tmp_path / "pq" / name).to_pylist()
        okx = [r for r in rows if r["venue"] == "okx-swap"]
        spot = [r for r in rows if r["venue"] == "binance-spot"]
        assert okx and spot
        assert {(r["size_unit"], r["contract_value"]) for r in okx} == {("contracts", Decimal("0.01"))}
        assert all(r["size_base"] == r["size"] * Decimal("0.01") for r in okx)
        assert {(r["size_unit"], r["contract_value"]) for r in spot} == {("base", Decimal(1))}
        assert all(r["size_base"] == r["size"] for r in spot)
