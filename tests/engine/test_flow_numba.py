"""The engine against an independent second implementation in numba (nexus/research/flow.py):
book tops, per-level OFI and VPIN on random streams, exactly; plus the research sweeps."""

import numpy as np
import pytest

from flow_streams import Market, random_stream
from nexus.flow.params import FlowParams
from nexus.flow.runner import FlowRunner

numba_flow = pytest.importorskip("nexus.research.flow", reason="numba is in the dev extra")


@pytest.mark.parametrize("seed", range(5))
def test_numba_ofi_matches_engine(seed):
    batch = random_stream(seed, messages=1500)
    batch["flags"] &= np.uint8(0xFF ^ 4)  # no resyncs: the numba helper knows no resets
    levels = 1 + 2 * seed
    tops, recs = numba_flow.book_tops(batch, levels)
    ofi = numba_flow.ofi_from_tops(tops)  # between consecutive book messages
    out = FlowRunner(FlowParams(signals=False, ofi_levels=levels)).run(batch)
    rows = out.metrics[(out.metrics["flags"] & 1) != 0]  # rows of messages that changed the book
    index = {int(r): k for k, r in enumerate(recs)}
    assert int(rows[0]["flags"]) & 4 and index[int(rows[0]["rec"])] == 0  # the first state: reset
    # A message that did not change the book leaves the state as it was, so the OFI between
    # consecutive book messages is the engine's OFI for the changed ones and 0 for the others.
    for row in rows[1:]:
        assert list(map(int, row["ofi"][:levels])) == ofi[index[int(row["rec"])] - 1].tolist()
    changed = {int(r) for r in rows["rec"]}
    assert not any(ofi[index[r] - 1].any() for r in index if r not in changed and index[r] > 0)
    assert len(rows) > 500


@pytest.mark.parametrize("seed,bar_ns,window,sigma", [(1, 0, 5, 50), (2, 300_000_000, 3, 7), (3, 0, 1, 2)])
def test_numba_vpin_matches_engine(seed, bar_ns, window, sigma):
    batch = random_stream(seed, messages=3000)
    V = 31
    out = FlowRunner(FlowParams(signals=False, vpin_bucket_volume=V, vpin_window=window, vpin_sigma_bars=sigma,
                                vpin_bar_ns=bar_ns)).run(batch)
    trades = np.flatnonzero(batch["kind"] == 3)
    t = batch[trades]
    rows = numba_flow.vpin_from_trades(t["price"], t["qty"], t["ts_exchange_ns"], V, window, sigma, bar_ns)
    got = [(int(trades[r[0]]), int(r[1]), int(r[2]), int(r[3])) for r in rows]
    want = [(int(v["rec"]), int(v["bucket"]), int(v["num"]), int(v["den"])) for v in out.vpin]
    assert got == want and len(got) > 10


def test_delta_zscores_and_sweep():
    m = Market(2)
    m.run(60)
    for _ in range(30):  # a burst of buying in one second
        m.trade(1, 8)
    m.run(10)
    b = m.batch()
    t = b[b["kind"] == 3]
    signed = np.where(t["side"] == 1, t["qty"], -t["qty"]).astype(np.int64)
    ids, deltas = numba_flow.delta_buckets(t["ts_exchange_ns"], signed, 1_000_000_000)
    assert deltas.sum() == signed.sum()
    z = numba_flow.delta_zscores(deltas, 30)
    assert np.nanmax(z) > 4  # the burst second stands out
    hits = numba_flow.sweep_delta_spike(deltas, np.array([20, 60]), np.array([200, 400, 800]), 10)
    assert hits.shape == (2, 3) and (np.diff(hits, axis=1) <= 0).all()  # higher thresholds, fewer hits
    assert hits[:, 1].min() >= 1


def test_sweep_engine_counts_signals_per_setting():
    b = Market(4).batch()
    res = numba_flow.sweep_engine(b, [{"spoof_mult_pct": 150}, {"spoof_mult_pct": 5000}])
    assert res[0]["signals"]["spoof"] >= res[1]["signals"]["spoof"] == 0
