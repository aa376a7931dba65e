"""The flow engine on the Aggregator's consensus book: it sees the merged book (best bid and
ask equal the consensus after every update, OFI equal to the plain reference over the
sequence of consensus states), and a print reported by two feeds counts once."""

import numpy as np

import flow_reference as ref
from flow_streams import to_batch
from nexus.agg.aggregator import Aggregator
from nexus.flow.consensus import ConsensusFlow
from nexus.flow.params import FlowParams
from nexus.instruments import Instrument


def test_engine_follows_the_consensus_book_and_counts_a_shared_print_once():
    a = Instrument("binance-perp", "BTCUSDT", tick_size="0.1", lot_size="0.001")
    b = Instrument("bybit-perp", "BTCUSDT", tick_size="0.1", lot_size="0.001")
    agg = Aggregator({"binance-perp": a, "bybit-perp": b})
    flow = ConsensusFlow(agg, FlowParams(signals=False, ofi_levels=2, obi_levels=2))
    rng = np.random.default_rng(4)
    states, rows = [], []
    ts = 10**18
    for n in range(300):
        ts += 10_000_000
        venue, inst = (("binance-perp", a), ("bybit-perp", b))[n % 2]
        recs = [dict(kind=1, side=s, price=650_000 + (-1 - k if s == 1 else 1 + k), qty=int(rng.integers(0, 50)), flags=0)
                for s in (1, 2) for k in rng.choice(8, 3, replace=False)]
        recs[-1]["flags"] = 1
        agg.on_book(venue, to_batch(recs, instrument_id=inst.instrument_id), ts)
        for out in flow.after_book(ts):
            rows.extend([int(v) for v in r["ofi"][:2]] for r in out.metrics)  # copy: buffers are reused
        bb, ba = agg.consensus.best_bid(), agg.consensus.best_ask()
        assert flow.runner.engine.top(1, 1) == ([(bb[0], bb[1])] if bb else [])
        assert flow.runner.engine.top(2, 1) == ([(ba[0], ba[1])] if ba else [])
        states.append(({p: q for p, q, _ in agg.consensus.top(1, 100)}, {p: q for p, q, _ in agg.consensus.top(2, 100)}))
    # OFI over the sequence of consensus states, by the plain reference (one message per state)
    tuples = []
    for bids, asks in states:
        tuples.append((2, 0, 0, 0, 0, 0))
        tuples += [(1, 1, p, q, 0, 0) for p, q in bids.items()] + [(1, 2, p, q, 0, 0) for p, q in asks.items()]
        tuples[-1] = tuples[-1][:4] + (1, 0)
    want = ref.metrics(tuples, 2, 2)
    got = flow.runner.run(np.zeros(0, dtype=flow.runner.signals.dtype)).metrics  # nothing new
    assert len(got) == 0
    assert [w["ofi"] for w in want] == rows and len(rows) > 250
    # the same print through both feeds: the Aggregator accepts it once, CVD moves once
    pc = 650_000 * agg.venues["binance-perp"].scale.price_mul
    for venue in ("binance-perp", "bybit-perp"):
        if agg.on_trade(venue, ts, 650_000, 5, 1, 77, ts):
            flow.trade(ts, pc, 5 * agg.venues[venue].scale.qty_mul, 1)
    assert flow.runner.engine.cvd == 5 * agg.venues["binance-perp"].scale.qty_mul
