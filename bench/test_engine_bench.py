"""Flow engine micro-benchmarks (pytest-benchmark). Every benchmark checks its result first.
The side-by-side comparison with the pure-Python engine is `nexus bench flow --json`."""
import numpy as np
import pytest

from bench.baselines.flow_engine import PyFlowEngine
from nexus import record
from nexus.bench.flow import bench_params, make_stream
from nexus.flow import dtypes
from engine.flow import FlowEngine

N = 200_000


@pytest.fixture(scope="module")
def stream():
    return make_stream(N)


def buffers(n):
    metrics = np.zeros(n + 1, dtypes.METRIC_DTYPE)
    vpin = np.zeros(n + 64, dtypes.VPIN_DTYPE)
    sigs = record.empty(max(4096, n // 4))
    facts = np.zeros(len(sigs), dtypes.FACTS_DTYPE)
    return sigs, facts, metrics, vpin


def reference_counts(batch, params):
    py = PyFlowEngine(params.engine_dict())
    py.update([tuple(r)[:12] for r in batch[:20_000].tolist()])
    return len(py.metrics), len(py.vpin_rows), len(py.signals)


@pytest.mark.benchmark(group="engine")
@pytest.mark.parametrize("detectors", [True, False], ids=["all-detectors", "metrics-only"])
def test_engine_update(benchmark, stream, detectors):
    params = bench_params().replace(signals=detectors)
    bufs = buffers(len(stream))
    want = reference_counts(stream, params)
    eng = FlowEngine(params.engine_dict())
    got = eng.update(stream[:20_000], *bufs)
    assert got[0] == 20_000 and got[1:] == want

    def run():
        e = FlowEngine(params.engine_dict())
        return e.update(stream, *bufs)

    consumed = benchmark(run)[0]
    assert consumed == len(stream)
    benchmark.extra_info["records"] = len(stream)
