"""Risk gate micro-benchmarks (pytest-benchmark). Each checks its result first; the side by
side with the pure-Python gate and the signal -> order latency are `nexus bench risk --json`."""
import numpy as np
import pytest

from bench.baselines.risk_gate import PyRiskGate
from engine.risk import RiskGate
from nexus.bench.risk import configure, make_orders

N = 200_000


@pytest.fixture(scope="module")
def orders():
    return make_orders(N)


def compiled_codes(orders):
    g = RiskGate(5)
    configure(g)
    out = np.zeros(len(orders), np.uint8)
    g.check_batch(orders, out)
    return out


@pytest.mark.benchmark(group="risk")
def test_gate_check_batch(benchmark, orders):
    py = PyRiskGate()
    configure(py)
    want = py.check_batch([tuple(r[:9]) for r in orders[:20_000].tolist()])
    assert compiled_codes(orders[:20_000]).tolist() == want
    out = benchmark(compiled_codes, orders)
    assert len(out) == N
    benchmark.extra_info["orders"] = N


@pytest.mark.benchmark(group="risk")
def test_python_gate_check(benchmark, orders):
    rows = [tuple(r[:9]) for r in orders[:20_000].tolist()]

    def run():
        g = PyRiskGate()
        configure(g)
        return g.check_batch(rows)

    assert benchmark(run) == compiled_codes(orders[:20_000]).tolist()
