"""The compiled gate and its pure-Python twin (bench/baselines/risk_gate.py) agree, code for
code and PnL for PnL, on random order streams with fills and touches interleaved."""

import numpy as np
from hypothesis import given, settings, strategies as st

from bench.baselines.risk_gate import PyRiskGate
from engine.risk import RiskGate
from nexus.bench.risk import configure, make_orders
from nexus.risk.codes import ORDER_DTYPE

IIDS = [1000, 1001, 1002, 1008]  # 1008: unknown

order = st.tuples(
    st.integers(0, 2_000_000),            # ts step
    st.integers(-1, 1_200),               # qty (0 and -1 malformed)
    st.integers(-1, 7_000_000),           # price
    st.sampled_from(IIDS), st.sampled_from([2, 2, 2, 3]),
    st.integers(0, 3), st.integers(0, 4), st.integers(0, 1), st.integers(0, 1),
)
event = st.one_of(
    st.tuples(st.just("order"), order),
    st.tuples(st.just("fill"), st.tuples(st.sampled_from(IIDS[:3]), st.integers(1, 2), st.integers(1, 800),
                                         st.integers(6_000_000, 7_000_000))),
    st.tuples(st.just("touch"), st.tuples(st.sampled_from(IIDS[:3]), st.integers(6_000_000, 7_000_000))),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(event, max_size=120), st.integers(1, 20), st.integers(0, 10**6))
def test_compiled_and_python_agree(events, caps, cooldown_ns):
    c, p = RiskGate(5), PyRiskGate()
    for g in (c, p):
        configure(g)
        g.set_limits(3, cooldown_ns, 5, 1_000_000, 300, caps * 10**8, caps * 2 * 10**8)
    ts = 0
    for kind, e in events:
        if kind == "order":
            ts += e[0]
            o = (ts,) + e[1:]
            arr = np.zeros(1, ORDER_DTYPE)
            for name, v in zip(ORDER_DTYPE.names, o):
                arr[name] = max(v, 0) if name != "qty" and name != "price" else v
            out = np.zeros(1, np.uint8)
            c.check_batch(arr, out)
            assert int(out[0]) == p.check(tuple(int(arr[n][0]) for n in ORDER_DTYPE.names[:9])), (o, events)
        elif kind == "fill":
            iid, side, qty, px = e
            assert c.fill(iid, side, qty, px) == p.fill(iid, side, qty, px)
        else:
            iid, bid = e
            c.touch(iid, bid, bid + 10)
            p.touch(iid, bid, bid + 10)
        assert c.pnl() == (p.realised_day, p.upnl_total, p.upnl_day_start)
        assert (c.latch, c.state, c.open_positions) == (p.latch, p.state, p.open_positions)


def test_agree_on_the_bench_stream():
    orders = make_orders(20_000, seed=3)
    c, p = RiskGate(5), PyRiskGate()
    configure(c)
    configure(p)
    out = np.zeros(len(orders), np.uint8)
    c.check_batch(orders, out)
    want = p.check_batch([tuple(r[:9]) for r in orders.tolist()])
    assert out.tolist() == want
    assert len(set(want)) >= 6, "the stream exercises several checks"


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 6), st.integers(0, 300_000), st.integers(1, 400_000), st.integers(1, 10_000),
       st.sampled_from([0, 1, 2]), st.booleans(), st.integers(1, 8), st.lists(st.integers(1, 700), min_size=1, max_size=12))
def test_agree_across_batch_splits_and_settings(rate_max, cooldown_ns, window_ns, band_bp, state, auto, max_pos, cuts):
    """The compiled gate's batch state (rate ring, cooldown) carries over from one
    check_batch call to the next and every setting is honoured: any split of a stream into
    batches gives the twin's codes, with tight rate windows (rate_max 1 and 2 included),
    any band, REDUCING / HALTED, AUTO off, few or many open positions."""
    orders = make_orders(2_000, seed=rate_max * 7 + band_bp)
    orders["venue_id"][::13] = 3                       # venue mismatch: unknown
    c, p = RiskGate(5), PyRiskGate()
    for g in (c, p):
        configure(g)
        g.set_limits(max_pos, cooldown_ns, rate_max, window_ns, band_bp, 10**12, 10**12)
        g.set_auto(auto)
    c.set_state(state)
    p.state = state
    want = p.check_batch([tuple(r[:9]) for r in orders.tolist()])
    out = np.zeros(len(orders), np.uint8)
    i = 0
    for k in cuts * 10:
        if i >= len(orders):
            break
        c.check_batch(orders[i:i + k], out[i:i + k])
        i += k
    if i < len(orders):
        c.check_batch(orders[i:], out[i:])
    assert out.tolist() == want
