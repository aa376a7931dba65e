"""`nexus run` and its rings under the signals a user's session sends: a closed terminal
(SIGHUP, to the process or to its whole process group with --procs) stops it cleanly with its
rings removed, and the rings a SIGKILLed run left behind are reclaimed by the next run.
Real `nexus run --sim` processes, real segments in /dev/shm."""
import json
import os
import signal
import subprocess
import sys

import pytest

from nexus.exceptions import RingNotFound
from nexus.ring import ring_list, ring_remove

VENUES = "okx-swap,bybit-perp"


def rings_of(pid: int) -> list[str]:
    return sorted(str(r["name"]) for r in ring_list() if str(r["name"]).startswith(f"nx-{pid}-"))


def start_run(*extra):
    return subprocess.Popen([sys.executable, "-m", "nexus.cli", "run", "--sim", "--venues", VENUES, "--json",
                             "--no-signals", *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)


def wait_live(p) -> None:
    """Read the run's lines until every venue is LIVE."""
    for _ in range(30):
        line = p.stdout.readline()
        assert line, p.stderr.read()[-2000:]
        venues = json.loads(line)["venues"]
        if all(v["state"] == "LIVE" for v in venues.values()):
            return
    pytest.fail("the venues did not go LIVE")


@pytest.fixture
def cleanup():
    pids = []
    yield pids
    for pid in pids:
        for name in rings_of(pid):
            try:
                ring_remove(name, True)
            except RingNotFound:
                pass


@pytest.mark.parametrize("procs", [False, True], ids=["in-process", "procs"])
def test_sighup_stops_run_cleanly_and_removes_its_rings(procs, cleanup):
    p = start_run(*(["--procs"] if procs else []))
    cleanup.append(p.pid)
    try:
        wait_live(p)
        assert rings_of(p.pid) == [f"nx-{p.pid}-{v}" for v in sorted(VENUES.split(","))]
        os.killpg(p.pid, signal.SIGHUP)  # what closing the terminal does: the whole group
        out, err = p.communicate(timeout=60)
    finally:
        p.kill()
    assert p.returncode == 0, (p.returncode, err[-2000:])
    assert "summary" in json.loads(out.splitlines()[-1])
    assert rings_of(p.pid) == []


def test_rings_of_a_killed_run_are_reclaimed_by_the_next_run(cleanup):
    killed = start_run()
    cleanup.append(killed.pid)
    try:
        wait_live(killed)
        killed.send_signal(signal.SIGKILL)
        killed.wait(30)
    finally:
        killed.kill()
        killed.stdout.close()
        killed.stderr.close()
    left = rings_of(killed.pid)
    assert len(left) == 2 and not any(r["writer_alive"] for r in ring_list() if r["name"] in left)
    p = subprocess.run([sys.executable, "-m", "nexus.cli", "run", "--sim", "--venues", "okx-swap", "--json",
                        "--no-signals", "--duration", "1"], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr[-2000:]
    assert rings_of(killed.pid) == []
