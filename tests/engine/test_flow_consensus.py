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


def test_image_holds_the_consensus_top_levels_as_records():
    # The image comes from Consensus.top_into (no Python objects per level): the same levels
    # as Consensus.top, capped at `levels` per side, a side may be empty, and the buffers it
    # reuses carry nothing over from a deeper earlier image.
    a = Instrument("binance-perp", "BTCUSDT", tick_size="0.1", lot_size="0.001")
    agg = Aggregator({"binance-perp": a})
    flow = ConsensusFlow(agg, FlowParams(signals=False), levels=5)
    bids = [dict(kind=1, side=1, price=650_000 - k, qty=10 + k, flags=0) for k in range(8)]
    asks = [dict(kind=1, side=2, price=650_001 + k, qty=20 + k, flags=0) for k in range(3)]
    (asks or bids)[-1]["flags"] = 1
    agg.on_book("binance-perp", to_batch(bids + asks, instrument_id=a.instrument_id), 10**18)
    img = flow.image(123)
    want = [(1, p, q) for p, q, _ in agg.consensus.top(1, 5)] + [(2, p, q) for p, q, _ in agg.consensus.top(2, 5)]
    assert len(want) == 8                                           # 5 of 8 bids, all 3 asks
    assert int(img[0]["kind"]) == 2 and len(img) == 1 + len(want)
    assert [(int(r["side"]), int(r["price"]), int(r["qty"])) for r in img[1:]] == want
    assert (img["ts_exchange_ns"] == 123).all() and int(img[-1]["flags"]) & 1
    assert not any(int(r["flags"]) & 1 for r in img[:-1])
    gone = [dict(kind=1, side=2, price=650_001 + k, qty=0, flags=0) for k in range(3)]
    gone[-1]["flags"] = 1
    agg.on_book("binance-perp", to_batch(gone, instrument_id=a.instrument_id), 10**18 + 1)
    img = flow.image(124)
    assert [(int(r["side"]), int(r["price"])) for r in img[1:]] == [(1, 650_000 - k) for k in range(5)]
    assert not any(int(r["flags"]) & 1 for r in img[:-1]) and int(img[-1]["flags"]) & 1


def test_python_baseline_consensus_top_into_matches_native():
    # nexus bench agg's pure-Python merge stands in for the native book behind the same
    # Aggregator API; its top_into fills the arrays the same way.
    from bench.baselines.consensus import PyRecordConsensus

    a = Instrument("binance-perp", "BTCUSDT", tick_size="0.1", lot_size="0.001")
    b = Instrument("bybit-perp", "BTCUSDT", tick_size="0.1", lot_size="0.001")
    aggs = [Aggregator({"binance-perp": a, "bybit-perp": b}),
            Aggregator({"binance-perp": a, "bybit-perp": b}, consensus=PyRecordConsensus())]
    rng = np.random.default_rng(9)
    for n in range(60):
        venue, inst = (("binance-perp", a), ("bybit-perp", b))[n % 2]
        recs = [dict(kind=1, side=s, price=650_000 + (-1 - k if s == 1 else 1 + k), qty=int(rng.integers(0, 9)), flags=0)
                for s in (1, 2) for k in rng.choice(30, 6, replace=False)]
        recs[-1]["flags"] = 1
        got = []
        for agg in aggs:
            agg.on_book(venue, to_batch(recs, instrument_id=inst.instrument_id), 10**18 + n)
            bb, ab = np.zeros((7, 2), np.int64), np.zeros((7, 2), np.int64)
            nb, na = agg.consensus.top_into(bb, ab)
            got.append((nb, na, bb[:nb].tolist(), ab[:na].tolist()))
        assert got[0] == got[1]
