"""`nexus signals eval --jobs N` (nexus/flow/eval_pool.py): seeds scored in worker processes
give the output one process gives, byte for byte -- the JSON, the readable text and the
fitted calibration -- and a bad N is a usage error."""

import json
import os
import subprocess
import sys
import tempfile
import time

import pytest

from nexus.flow.eval_pool import workers_for

# Two short scenarios on a venue with exchange times on its book messages and one without.
ARGS = ("signals", "eval", "--seeds", "102,101", "--duration", "30", "--venues", "okx-swap,bitfinex")


def nexus(*args):
    return subprocess.run([sys.executable, "-m", "nexus.cli", *args], capture_output=True, timeout=600)


def spawned_workers(pid: int) -> int:
    """How many of `pid`'s child processes are multiprocessing 'spawn' workers now (read from
    /proc: each child's parent pid and command line)."""
    n = 0
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat", "rb") as f:
                ppid = int(f.read().rsplit(b")", 1)[1].split()[1])
            if ppid == pid:
                with open(f"/proc/{d}/cmdline", "rb") as f:
                    n += b"spawn_main" in f.read()
        except (OSError, IndexError, ValueError):
            continue                     # gone meanwhile
    return n


def nexus_watched(*args):
    """nexus(*args), also returning the most spawn workers seen running under it at once."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        p = subprocess.Popen([sys.executable, "-m", "nexus.cli", *args], stdout=out, stderr=err)
        most = 0
        while p.poll() is None:
            most = max(most, spawned_workers(p.pid))
            time.sleep(0.05)
        out.seek(0)
        err.seek(0)
        return subprocess.CompletedProcess(p.args, p.returncode, out.read(), err.read()), most


def test_json_output_is_the_same_with_two_jobs():
    one, workers_one = nexus_watched(*ARGS, "--json", "--jobs", "1")
    two, workers_two = nexus_watched(*ARGS, "--json", "--jobs", "2")
    assert one.returncode == 0, one.stderr[-2000:]
    assert two.returncode == 0, two.stderr[-2000:]
    res = json.loads(one.stdout)
    assert res["seeds"] == [102, 101]                    # in the order given, not the order finished
    assert sum(d["labelled"] for d in res["pooled"].values()) > 0 and set(res["per_venue"]) == {"okx-swap", "bitfinex"}
    assert two.stdout == one.stdout
    assert b"2 at a time" in two.stderr and two.stderr.count(b"done (") == 2     # progress as seeds finish
    assert workers_one == 0 and workers_two == 2     # the seeds really ran in two worker processes


def test_text_output_and_fitted_calibration_are_the_same_with_two_jobs(tmp_path):
    outs = {}
    for jobs in ("1", "2"):
        fit = tmp_path / f"calib-{jobs}.json"
        p = nexus(*ARGS, "--jobs", jobs, "--fit-calibration", str(fit))
        assert p.returncode == 0, p.stderr[-2000:]
        outs[jobs] = (p.stdout, fit.read_bytes())
    assert outs["1"][0].startswith(b"seeds 102, 101 pooled")
    assert outs["2"] == outs["1"]


@pytest.mark.parametrize("bad", ["-1", "two", "1.5"])
def test_a_bad_jobs_value_is_a_usage_error(bad):
    p = nexus(*ARGS, "--jobs", bad)
    assert p.returncode == 2
    assert b"Invalid value for '--jobs'" in p.stderr


def test_workers_never_outnumber_the_seeds():
    assert workers_for(1, 20) == 1
    assert workers_for(4, 3) == 3
    assert workers_for(0, 100) == (os.cpu_count() or 1)
    with pytest.raises(ValueError):
        workers_for(-1, 5)
