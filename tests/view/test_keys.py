"""The venue picker: `--view-venue`, the key handler, the key reader on a real pseudo-terminal
(cbreak while it runs, the settings restored after, also on an exception), and `nexus run --sim`
driven through a pty at 80x24: `v` moves the ladder to the next venue, `q` stops, the end
summary is a table, and the terminal is left as it was (also after SIGTERM)."""

import asyncio
import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time

import pytest
from click.testing import CliRunner

from nexus.cli import cli
from nexus.exceptions import ConfigError
from nexus.view import CONSENSUS, ModelBuilder
from nexus.view.keys import KeyReader, handle_key

ANSI = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\x1b[=>]")
VENUES = ["okx-swap", "binance-perp", "kraken"]


def test_handle_key_cycles_both_ways_and_quits():
    b = ModelBuilder(VENUES, "BTCUSDT", agg=True, depth=12)
    assert b.picked == CONSENSUS
    stops = []
    seen = []
    for _ in range(4):
        assert handle_key("v", b, lambda: stops.append(1))
        seen.append(b.picked)
    assert seen == ["okx-swap", "binance-perp", "kraken", CONSENSUS]
    assert handle_key("V", b, lambda: None) and b.picked == "kraken"
    assert not handle_key("x", b, lambda: stops.append(1)) and b.picked == "kraken"
    assert not stops
    assert handle_key("q", b, lambda: stops.append(1)) and stops == [1]


def test_view_venue_picks_the_first_book():
    assert ModelBuilder(VENUES, "BTCUSDT", agg=False, depth=12, picked="kraken").picked == "kraken"
    assert ModelBuilder(VENUES, "BTCUSDT", agg=False, depth=12).picked == "okx-swap"
    with pytest.raises(ConfigError):
        ModelBuilder(VENUES, "BTCUSDT", agg=False, depth=12, picked="agg")


def test_view_venue_not_run_is_a_usage_error():
    r = CliRunner().invoke(cli, ["run", "--sim", "--venues", "okx-swap", "--view-venue", "kraken", "--duration", "1"])
    assert r.exit_code == 2 and "--view-venue" in r.output
    r = CliRunner().invoke(cli, ["run", "--sim", "--venues", "okx-swap", "--view-venue", "agg", "--duration", "1"])
    assert r.exit_code == 2


def _cbreak(fd) -> bool:
    lflag = termios.tcgetattr(fd)[3]
    return not lflag & termios.ICANON and not lflag & termios.ECHO


def test_key_reader_on_a_pty_reads_without_blocking_and_restores():
    master, slave = pty.openpty()
    before = termios.tcgetattr(slave)
    assert not _cbreak(slave)
    got = []

    async def main_():
        stream = os.fdopen(os.dup(slave), "rb", buffering=0)
        with KeyReader(got.append, stream) as keys:
            assert keys.active and _cbreak(slave)
            os.write(master, b"vVq")
            for _ in range(100):   # the loop keeps running while keys arrive
                await asyncio.sleep(0.01)
                if len(got) == 3:
                    break
        assert termios.tcgetattr(slave) == before
        with pytest.raises(RuntimeError):
            with KeyReader(got.append, stream):
                raise RuntimeError("boom")
        assert termios.tcgetattr(slave) == before
        stream.close()

    asyncio.run(main_())
    assert got == ["v", "V", "q"]
    os.close(master)
    os.close(slave)


def test_key_reader_off_a_terminal_does_nothing(tmp_path):
    async def main_():
        with open(tmp_path / "f", "wb+") as f, KeyReader(lambda k: None, f) as keys:
            assert not keys.active

    asyncio.run(main_())


class PtyRun:
    """`nexus run` on the slave side of a pty sized 80x24; the screen as text, ANSI removed."""

    def __init__(self, *args):
        self.master, self.slave = pty.openpty()
        fcntl.ioctl(self.slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        self.before = termios.tcgetattr(self.slave)
        env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "80", "LINES": "24"}
        self.p = subprocess.Popen([sys.executable, "-m", "nexus.cli", "run", *args], stdin=self.slave,
                                  stdout=self.slave, stderr=self.slave, env=env, start_new_session=True)
        self.out = b""

    def read_until(self, text: str, timeout_s: float = 60) -> str:
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            r, _, _ = select.select([self.master], [], [], 0.2)
            if r:
                try:
                    self.out += os.read(self.master, 65536)
                except OSError:
                    break
            plain = ANSI.sub(b"", self.out).decode("utf-8", "replace")
            if text in plain:
                return plain
        raise AssertionError(f"{text!r} not on screen: {ANSI.sub(b'', self.out)[-2000:]!r}")

    def close(self):
        try:
            self.p.wait(60)
        finally:
            if self.p.poll() is None:
                self.p.kill()
            os.close(self.master)
            os.close(self.slave)


def test_run_on_a_pty_v_picks_the_next_venue_q_stops_terminal_restored():
    run = PtyRun("--sim", "--venues", ",".join(VENUES), "--view-venue", "binance-perp", "--duration", "60")
    try:
        run.read_until("book binance-perp")
        run.read_until("mid ")
        time.sleep(0.5)
        os.write(run.master, b"v")
        run.read_until("book kraken")
        os.write(run.master, b"v")
        run.read_until("book okx-swap")
        mark = len(run.out)
        os.write(run.master, b"q")
        assert run.p.wait(60) == 0
        screen = run.read_until("feed events", 10)
        tail = ANSI.sub(b"", run.out[mark:]).decode("utf-8", "replace")
        assert "venues" in tail and all(v in tail for v in VENUES) and '{"summary"' not in tail
        assert termios.tcgetattr(run.slave) == run.before
        assert "trades (UTC)" in screen
    finally:
        run.close()


def test_run_on_a_pty_sigterm_restores_the_terminal():
    run = PtyRun("--sim", "--venues", "okx-swap", "--duration", "60")
    try:
        run.read_until("book okx-swap")
        assert _cbreak(run.slave)
        run.p.send_signal(signal.SIGTERM)
        assert run.p.wait(60) == 0
        run.read_until("feed events", 10)
        assert termios.tcgetattr(run.slave) == run.before
    finally:
        run.close()
