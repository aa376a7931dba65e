"""Ring micro-benchmarks (pytest-benchmark). Each checks its result before it is timed.
The cross-process figures and the Queue/pipe baselines are in `nexus bench ring --json`."""
import os

import numpy as np
import pytest

from nexus import record
from nexus.ring import RingReader, RingWriter

BATCH = 4096


@pytest.fixture
def ring():
    name = f"bench-{os.getpid()}"
    w = RingWriter(name, slots=1 << 16)
    r = RingReader(name)
    yield w, r
    w.close()


@pytest.mark.benchmark(group="ring")
def test_publish_consume_batch_4096(benchmark, ring):
    w, r = ring
    src = record.empty(BATCH)
    src["seq"] = np.arange(BATCH)
    out = record.empty(BATCH)

    def step():
        w.publish(src)
        return r.poll(out)

    assert step() == BATCH and (out["seq"] == src["seq"]).all() and r.lost == 0
    n = benchmark(step)
    assert n == BATCH and r.lost == 0
    benchmark.extra_info["records_per_call"] = BATCH


@pytest.mark.benchmark(group="ring")
def test_publish_consume_single_record(benchmark, ring):
    w, r = ring
    one = record.empty(1)
    out = record.empty(16)

    def step():
        w.publish(one)
        return r.poll(out)

    assert step() == 1
    assert benchmark(step) == 1
