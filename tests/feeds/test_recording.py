import asyncio
import dataclasses
import os

import pytest

from nexus.feeds.recorder import FeedRecorder
from nexus.feeds.recording import EVENT, FRAME, RecordingError, RecordingReader, RecordingWriter
from nexus.feeds.specs import spec

from .wsserver import ScriptServer


def test_round_trip_across_many_chunks(tmp_path):
    path = tmp_path / "r.nxr"
    frames = [(i * 10, 1 + i % 3, FRAME, os.urandom(i % 300)) for i in range(5000)]
    with RecordingWriter(path, {"symbol": "BTCUSDT"}, chunk_bytes=4096) as w:
        for f in frames:
            w.write(*f)
            assert len(w._buf) < 4096 + 400  # bounded: at most one chunk buffered
    with RecordingReader(path) as r:
        assert r.header["symbol"] == "BTCUSDT" and r.header["format"] == "nexus-recording"
        got = [(f.ts_local_ns, f.venue_id, f.kind, f.payload) for f in r]
        assert not r.truncated
    assert got == frames


def hundred_frames(path):
    """100 frames of 100 bytes (ts 0..99) in chunks of 9 frames."""
    with RecordingWriter(path, {}, chunk_bytes=1000) as w:
        for i in range(100):
            w.write(i, 1, FRAME, b"x" * 100)
    return path.read_bytes()


def test_truncated_tail_keeps_everything_before(tmp_path):
    path = tmp_path / "t.nxr"
    data = hundred_frames(path)
    path.write_bytes(data[:-50])
    with RecordingReader(path) as r:
        got = list(r)
        assert r.truncated
    assert 80 <= len(got) < 100 and [f.ts_local_ns for f in got] == list(range(len(got)))


def test_not_a_recording_is_a_clear_error(tmp_path):
    p = tmp_path / "x.nxr"
    p.write_bytes(b"hello world")
    with pytest.raises(RecordingError, match="not a Nexus recording"):
        RecordingReader(p)
    with pytest.raises(RecordingError, match="no such recording"):
        RecordingReader(tmp_path / "missing.nxr")


def test_recorder_writes_frames_as_received_with_connection_events(tmp_path):
    async def main():
        msgs = [b'{"e":"depthUpdate","n":%d}' % i for i in range(20)]
        srv = await ScriptServer(lambda n: msgs).start()
        path = tmp_path / "live.nxr"
        with RecordingWriter(path, {"venues": ["bybit-perp"]}) as w:
            # WebSocket frames only here: no instrument listing to fetch (see the CLI test below)
            bybit = dataclasses.replace(spec("bybit-perp"), instruments_path=None)
            rec = FeedRecorder(w, {"bybit-perp": bybit}, "BTCUSDT", {"bybit-perp": srv.url}, {})
            await rec.run(1.0, asyncio.Event())
        await srv.stop()
        return srv, msgs, path

    srv, msgs, path = asyncio.run(main())
    assert b"orderbook.50.BTCUSDT" in srv.received[0]  # Bybit v5 subscribe
    with RecordingReader(path) as r:
        frames = list(r)
    assert [f.payload for f in frames if f.kind == FRAME] == msgs
    assert frames[0].kind == EVENT and b'"connected"' in frames[0].payload
    assert all(f.venue_id == 3 for f in frames)


def test_record_command_against_a_local_server(tmp_path):
    import json
    import subprocess
    import sys
    import threading

    msgs = [b'{"arg":{"channel":"books"},"n":%d}' % i for i in range(30)]

    async def serve(ready, done):
        srv = await ScriptServer(lambda n: msgs).start()
        ready["url"] = srv.url
        ready["ev"].set()
        while not done.is_set():
            await asyncio.sleep(0.05)
        await srv.stop()

    ready, done = {"ev": threading.Event()}, threading.Event()
    t = threading.Thread(target=lambda: asyncio.run(serve(ready, done)), daemon=True)
    t.start()
    assert ready["ev"].wait(10)
    # OKX's instrument listing (GET /api/v5/public/instruments), served by a plain HTTP server
    from http.server import BaseHTTPRequestHandler, HTTPServer

    listing = (b'{"code":"0","msg":"","data":[{"instType":"SWAP","instId":"BTC-USDT-SWAP","ctType":"linear",'
               b'"ctVal":"0.01","ctValCcy":"BTC","settleCcy":"USDT","tickSz":"0.1","lotSz":"0.01"}]}')
    asked = []

    class Listing(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            asked.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(listing)))
            self.end_headers()
            self.wfile.write(listing)

        def log_message(self, *a):
            pass

    http = HTTPServer(("127.0.0.1", 0), Listing)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    out = tmp_path / "cli.nxr"
    p = subprocess.run([sys.executable, "-m", "nexus.cli", "record", "--venues", "okx-swap", "--duration", "1.5",
                        "-o", str(out), "--endpoint", f"okx-swap={ready['url']}",
                        "--rest-endpoint", f"okx-swap=http://127.0.0.1:{http.server_port}", "--json"],
                       capture_output=True, text=True, timeout=60)
    done.set()
    http.shutdown()
    assert asked == ["/api/v5/public/instruments?instType=SWAP&instId=BTC-USDT-SWAP"]
    with RecordingReader(out) as r:  # the listing is saved: an "instruments" event, then its body
        kinds = [(f.kind, f.payload) for f in r if f.kind != FRAME]
    i = next(k for k, (kind, pl) in enumerate(kinds) if kind == EVENT and b'"instruments"' in pl)
    assert kinds[i + 1] == (1, listing)
    assert p.returncode == 0, p.stderr
    summary = json.loads(p.stdout.splitlines()[-1])["summary"]
    assert summary["venues"]["okx-swap"]["msgs"] == 30
    with RecordingReader(out) as r:
        assert r.header["venues"] == ["okx-swap"]
        assert [f.payload for f in r if f.kind == FRAME] == msgs


def test_record_command_exits_4_when_nothing_is_reachable(tmp_path):
    import subprocess
    import sys

    p = subprocess.run([sys.executable, "-m", "nexus.cli", "record", "--venues", "okx-swap", "--duration", "1",
                        "-o", str(tmp_path / "x.nxr"), "--endpoint", "okx-swap=ws://127.0.0.1:9/"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 4
    assert "no venue sent anything" in p.stderr


def test_header_is_on_disk_before_the_first_chunk_and_old_chunks_flush_on_time(tmp_path):
    """A writer killed before its first chunk still leaves a valid recording, and a chunk is
    written once its first frame is `chunk_age_s_max` old even when no more frames come."""
    import time

    path = tmp_path / "open.nxr"
    w = RecordingWriter(path, {"symbol": "BTCUSDT"}, chunk_age_s_max=0.05)
    with RecordingReader(path) as r:  # the writer is still open: nothing closed or flushed by hand
        assert r.header["symbol"] == "BTCUSDT" and list(r) == []
    w.write(1, 4, FRAME, b"first")
    w.flush_due()
    with RecordingReader(path) as r:
        assert list(r) == []  # younger than the age limit: still in memory
    time.sleep(0.1)
    w.flush_due()
    with RecordingReader(path) as r:
        assert [f.payload for f in r] == [b"first"] and not r.truncated
    w.close()


def test_a_killed_recorder_loses_at_most_the_last_second(tmp_path):
    """SIGKILL a real `nexus record --sim` after a few seconds: the file is a valid recording
    whose last frame was received less than a second before the kill (CLOCK_MONOTONIC is the
    host's clock: the recorder's receive times and this process's time compare)."""
    import signal
    import subprocess
    import sys
    import time

    path = tmp_path / "killed.nxr"
    p = subprocess.Popen([sys.executable, "-m", "nexus.cli", "record", "--sim", "--venues", "okx-swap,bybit-perp",
                          "--duration", "120", "-o", str(path), "--json"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(4):  # one progress line a second once recording
            line = p.stdout.readline()
            assert line, p.stderr.read()[-2000:]
        killed_ns = time.monotonic_ns()
        p.send_signal(signal.SIGKILL)
        p.wait(30)
    finally:
        p.kill()
    with RecordingReader(path) as r:
        frames = list(r)
    assert r.header["venues"] == ["okx-swap", "bybit-perp"]
    data = [f for f in frames if f.kind == FRAME]
    assert len({f.venue_id for f in data}) == 2
    assert killed_ns - frames[-1].ts_local_ns < 1_000_000_000, (killed_ns - frames[-1].ts_local_ns) / 1e9


def test_reader_reports_what_a_cut_or_damaged_file_lost(tmp_path):
    path = tmp_path / "c.nxr"
    data = hundred_frames(path)
    cut = tmp_path / "cut.nxr"
    cut.write_bytes(data[:-5])  # inside the last chunk
    with RecordingReader(cut) as r:
        n = len(list(r))
    assert r.damage.reason == "truncated chunk" and r.damage.bytes_lost == len(data) - 5 - r.damage.offset
    assert r.damage.frames_lost == 100 - n and "could not be read" in str(r.damage)
    bad = tmp_path / "bad.nxr"  # a flipped byte inside the second chunk's compressed data
    import struct

    from nexus.feeds.recording import CHUNK_HEAD, MAGIC

    first = len(MAGIC) + 4 + struct.unpack_from("<I", data, len(MAGIC))[0]
    second = first + CHUNK_HEAD.size + CHUNK_HEAD.unpack_from(data, first)[1]
    raw = bytearray(data)
    raw[second + CHUNK_HEAD.size + 20] ^= 0xFF
    bad.write_bytes(bytes(raw))
    with RecordingReader(bad) as r:
        got = list(r)
    assert r.damage is not None and r.damage.reason.startswith("damaged chunk") and r.damage.offset == second
    assert [f.ts_local_ns for f in got] == list(range(len(got))) and 0 < len(got) < 100
    empty = tmp_path / "empty.nxr"
    empty.write_bytes(b"")
    with pytest.raises(RecordingError, match="is empty"):
        RecordingReader(empty)
