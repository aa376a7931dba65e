"""`nexus signals eval --jobs N` (nexus/flow/eval_pool.py): seeds scored in worker processes
give the output one process gives, byte for byte -- the JSON, the readable text and the
fitted calibration -- and a bad N is a usage error."""

import json
import os
import subprocess
import sys

import pytest

from nexus.flow.eval_pool import workers_for

# Two short scenarios on a venue with exchange times on its book messages and one without.
ARGS = ("signals", "eval", "--seeds", "102,101", "--duration", "30", "--venues", "okx-swap,bitfinex")


def nexus(*args):
    return subprocess.run([sys.executable, "-m", "nexus.cli", *args], capture_output=True, timeout=600)


def test_json_output_is_the_same_with_two_jobs():
    one = nexus(*ARGS, "--json", "--jobs", "1")
    two = nexus(*ARGS, "--json", "--jobs", "2")
    assert one.returncode == 0, one.stderr[-2000:]
    assert two.returncode == 0, two.stderr[-2000:]
    res = json.loads(one.stdout)
    assert res["seeds"] == [102, 101]                    # in the order given, not the order finished
    assert sum(d["labelled"] for d in res["pooled"].values()) > 0 and set(res["per_venue"]) == {"okx-swap", "bitfinex"}
    assert two.stdout == one.stdout
    assert b"2 at a time" in two.stderr and two.stderr.count(b"done (") == 2     # progress as seeds finish


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
