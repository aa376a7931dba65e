import asyncio
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


def test_truncated_tail_keeps_everything_before(tmp_path):
    path = tmp_path / "t.nxr"
    with RecordingWriter(path, {}, chunk_bytes=1000) as w:
        for i in range(100):
            w.write(i, 1, FRAME, b"x" * 100)
    data = path.read_bytes()
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
            rec = FeedRecorder(w, {"bybit-perp": spec("bybit-perp")}, "BTCUSDT", {"bybit-perp": srv.url}, {})
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
    out = tmp_path / "cli.nxr"
    p = subprocess.run([sys.executable, "-m", "nexus.cli", "record", "--venues", "okx-swap", "--duration", "1.5",
                        "-o", str(out), "--endpoint", f"okx-swap={ready['url']}", "--json"],
                       capture_output=True, text=True, timeout=60)
    done.set()
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
