"""The consensus book handed to the flow engine in AGG mode (nexus/flow/consensus.py
ConsensusFlow.image, 100 levels a side from a two-venue consensus of 150 levels each),
side by side with building the same records from Consensus.top's per-level Python tuples
(how it was done before Consensus.top_into). Both are checked byte-identical first."""
import numpy as np
import pytest

from nexus import record
from nexus.agg.aggregator import Aggregator
from nexus.flow.consensus import _F_LAST, _F_SNAP, _K_CLEAR, _K_LEVEL, ASK, BID, ConsensusFlow
from nexus.flow.params import FlowParams
from nexus.instruments import Instrument


@pytest.fixture(scope="module")
def flow():
    insts = {v: Instrument(v, "BTCUSDT", tick_size="0.1", lot_size="0.001") for v in ("binance-perp", "bybit-perp")}
    agg = Aggregator(insts)
    for v, inst in insts.items():
        b = record.empty(300)
        b["kind"] = _K_LEVEL
        b["instrument_id"] = inst.instrument_id
        b["side"][:150], b["side"][150:] = BID, ASK
        k = np.arange(150)
        b["price"][:150], b["price"][150:] = 650_000 - 1 - k, 650_000 + 1 + k
        b["qty"][:150], b["qty"][150:] = 5 + k, 5 + k
        b["flags"][-1] = _F_LAST
        agg.on_book(v, b, 10**18)
    return ConsensusFlow(agg, FlowParams(signals=False))


def image_from_tuples(flow, ts_ns):
    bids = flow.agg.consensus.top(BID, flow.levels)
    asks = flow.agg.consensus.top(ASK, flow.levels)
    out = record.empty(1 + len(bids) + len(asks))
    out["kind"], out["flags"], out["ts_exchange_ns"] = _K_LEVEL, _F_SNAP, ts_ns
    out[0]["kind"] = _K_CLEAR
    out["side"][1:1 + len(bids)], out["side"][1 + len(bids):] = BID, ASK
    out["price"][1:1 + len(bids)] = [x[0] for x in bids]
    out["qty"][1:1 + len(bids)] = [x[1] for x in bids]
    out["price"][1 + len(bids):] = [x[0] for x in asks]
    out["qty"][1 + len(bids):] = [x[1] for x in asks]
    out["flags"][-1] |= _F_LAST
    return out


@pytest.mark.benchmark(group="agg-image")
def test_image_native_top_into(benchmark, flow):
    want = image_from_tuples(flow, 5).tobytes()
    assert len(flow.image(5)) == 201 and flow.image(5).tobytes() == want
    benchmark(flow.image, 5)


@pytest.mark.benchmark(group="agg-image")
def test_image_from_python_tuples(benchmark, flow):
    assert image_from_tuples(flow, 5).tobytes() == flow.image(5).tobytes()
    benchmark(image_from_tuples, flow, 5)
