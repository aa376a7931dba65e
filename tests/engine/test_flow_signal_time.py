"""The exchange time a signal carries (engine/signal.pxd signal_ts) on venues whose book
messages carry none (Bitfinex, dYdX: their decoders leave the book records' ts_exchange_ns 0;
their trades have it): the latest exchange time the engine has seen, so `signals eval` can
place the signal in its pattern's time window. (The receive-time fallback, for an engine that
has seen no exchange time at all, has no firing case: the detectors' warm-up counts exchange
seconds, so nothing fires before one is seen.)"""

import numpy as np

from bench.baselines.flow_engine import PyFlowEngine
from flow_streams import BOOK_CLEAR, BOOK_LEVEL, TRADE, Market, market_with_patterns
from nexus.flow.params import FlowParams
from nexus.flow.runner import FlowRunner
from nexus.flow.signals import SignalType as T

BID, ASK = 1, 2


def without_book_times(batch):
    """The same stream as a venue without exchange time on its book messages sends it."""
    out = batch.copy()
    book = (out["kind"] == BOOK_LEVEL) | (out["kind"] == BOOK_CLEAR)
    out["ts_exchange_ns"][book] = 0
    return out


def expected_times(batch, signals):
    """Per signal, from its record ordinal (trade_id): the largest exchange time among the
    records fed so far, or that record's receive time when there is none yet."""
    latest = np.maximum.accumulate(batch["ts_exchange_ns"])
    out = []
    for s in signals:
        i = int(s["trade_id"])
        out.append(int(latest[i]) if latest[i] > 0 else int(batch["ts_local_ns"][i]))
    return out


def spoof_market():
    """A warm market, then a bid wall 5 levels behind the touch, shown 1 s and pulled."""
    m = Market(3)
    m.run(40)
    p = m.best(BID) - 5
    t_placed = m.t
    m.emit([m.setq(BID, p, 400)])
    m.run(1.0, protect={(BID, p)})
    t_pulled = m.t
    m.emit([m.setq(BID, p, 0)])
    m.run(1)
    return m.batch(), p, t_placed, t_pulled


def test_a_signal_on_a_book_record_without_exchange_time_carries_the_latest_one_seen():
    full, p, t_placed, t_pulled = spoof_market()
    batch = without_book_times(full)
    sigs = FlowRunner(FlowParams()).run(batch).signals
    spoofs = [s for s in sigs if int(s["aux"]) == T.SPOOF]
    # the same spoof as with every record timed: the missing times change only its stamp
    timed = [s for s in FlowRunner(FlowParams()).run(full).signals if int(s["aux"]) == T.SPOOF]
    assert [(int(s["side"]), int(s["price"])) for s in spoofs] == [(int(s["side"]), int(s["price"])) for s in timed] \
        == [(ASK, p)]
    assert int(batch["kind"][int(spoofs[0]["trade_id"])]) == BOOK_LEVEL       # triggered by the pull
    assert t_placed <= int(spoofs[0]["ts_exchange_ns"]) <= t_pulled          # within the pattern's time
    got = [int(s["ts_exchange_ns"]) for s in sigs]
    assert all(t > 0 for t in got)
    assert got == expected_times(batch, sigs)


def test_the_pure_python_twin_stamps_the_same_times():
    batch = without_book_times(market_with_patterns(2))
    params = FlowParams(vpin_bucket_volume=100, vpin_window=10, vpin_bar_ns=500_000_000)
    out = FlowRunner(params, capacity=4096).run(batch)
    py = PyFlowEngine(params.engine_dict())
    py.update([tuple(r)[:12] for r in batch.tolist()])
    assert len(out.signals) > 3
    assert any(int(batch["kind"][int(s["trade_id"])]) != TRADE for s in out.signals)   # some on book records
    assert [(int(s["aux"]), int(s["trade_id"]), int(s["ts_exchange_ns"])) for s in out.signals] \
        == [(t, rec, ts) for t, _, _, _, _, _, rec, ts in py.signals]
