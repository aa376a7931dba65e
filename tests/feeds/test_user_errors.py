"""A user's mistake on record / replay / export / agg replay is one clear line on stderr and
exit status 2 (the usage-error status of the contract), never a traceback, and leaves no file
behind. Real processes, real files."""
import subprocess
import sys

import pytest

from nexus.feeds.recording import FRAME, RecordingWriter


def nexus(*args):
    return subprocess.run([sys.executable, "-m", "nexus.cli", *args], capture_output=True, text=True, timeout=120)


def one_line_usage_error(p, *words):
    assert p.returncode == 2, (p.returncode, p.stderr[-2000:])
    assert "Traceback" not in p.stderr
    lines = [x for x in p.stderr.splitlines() if x.strip()]
    last = lines[-1]
    assert all(w in last for w in words), last
    assert len(lines) <= 3  # click's usage errors add "Usage:" and "Try --help" lines before it


@pytest.fixture
def okx_recording(tmp_path):
    path = tmp_path / "okx.nxr"
    with RecordingWriter(path, {"venues": ["okx-swap"], "symbol": "BTCUSDT"}) as w:
        w.write(1, 4, FRAME, b'{"event":"subscribe"}')
    return path


def test_export_into_a_directory_that_cannot_be_made(okx_recording):
    p = nexus("export", str(okx_recording), "--parquet", "/proc/forbidden")
    one_line_usage_error(p, "/proc/forbidden")


def test_record_to_a_path_that_cannot_be_made(tmp_path):
    p = nexus("record", "--sim", "--venues", "okx-swap", "--duration", "1", "-o", "/proc/nope/x.nxr")
    one_line_usage_error(p, "/proc/nope")


def test_record_with_an_unknown_symbol_writes_no_file(tmp_path):
    out = tmp_path / "x.nxr"
    p = nexus("record", "--venues", "okx-swap", "--symbol", "NOSUCH", "--duration", "1", "-o", str(out),
              "--endpoint", "okx-swap=ws://127.0.0.1:1/")
    one_line_usage_error(p, "NOSUCH")
    assert not out.exists()


def test_replay_of_an_unknown_venue_or_one_not_recorded_is_a_usage_error(okx_recording):
    one_line_usage_error(nexus("replay", str(okx_recording), "--venue", "nosuch"), "nosuch")
    one_line_usage_error(nexus("replay", str(okx_recording), "--venue", "kraken"), "kraken", "okx-swap")
    assert nexus("replay", str(okx_recording), "--venue", "okx-swap").returncode == 0


def test_agg_replay_with_a_bad_divergence_threshold(okx_recording):
    one_line_usage_error(nexus("agg", "replay", str(okx_recording), "--divergence-pct", "abc"), "--divergence-pct")


def test_record_makes_private_files_and_refuses_to_overwrite_without_force(tmp_path):
    import os
    import stat

    out = tmp_path / "new" / "deeper" / "sim.nxr"
    p = nexus("record", "--sim", "--venues", "okx-swap", "--duration", "1", "-o", str(out))
    assert p.returncode == 0, p.stderr[-2000:]
    mode = lambda path: stat.S_IMODE(os.stat(path).st_mode)  # noqa: E731
    assert mode(out) == 0o600 and mode(out.parent) == 0o700 and mode(out.parent.parent) == 0o700
    before = out.read_bytes()
    p = nexus("record", "--sim", "--venues", "okx-swap", "--duration", "1", "-o", str(out))
    one_line_usage_error(p, str(out), "--force")
    assert out.read_bytes() == before
    os.chmod(out, 0o644)
    p = nexus("record", "--sim", "--venues", "okx-swap", "--duration", "1", "-o", str(out), "--force")
    assert p.returncode == 0 and out.read_bytes() != before and mode(out) == 0o600


def test_export_makes_private_files_and_refuses_to_overwrite_without_force(okx_recording, tmp_path):
    import os
    import stat

    out = tmp_path / "pq"
    assert nexus("export", str(okx_recording), "--parquet", str(out)).returncode == 0
    mode = lambda path: stat.S_IMODE(os.stat(path).st_mode)  # noqa: E731
    assert mode(out) == 0o700 and mode(out / "books.parquet") == mode(out / "trades.parquet") == 0o600
    before = (out / "books.parquet").stat().st_mtime_ns
    one_line_usage_error(nexus("export", str(okx_recording), "--parquet", str(out)), "books.parquet", "--force")
    assert (out / "books.parquet").stat().st_mtime_ns == before
    assert nexus("export", str(okx_recording), "--parquet", str(out), "--force").returncode == 0
    assert sorted(x.name for x in out.iterdir()) == ["books.parquet", "trades.parquet"]  # no temporaries left
