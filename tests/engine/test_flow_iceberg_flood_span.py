"""The iceberg holds its fire until the flood by turnover is known (engine/det_iceberg.pxd,
iceberg_flood_span_ns): an absorption's first clips, taken at an ordinary pace before the
flood builds, look like a refilled clip; over absorption's window the level's turnover shows
the flood. An episode that ends sooner is tested as it ends. Compiled engine and its
pure-Python twin, output for output."""

from flow_streams import TRADE, Market
from nexus.flow.params import FlowParams
from nexus.flow.signals import SignalType as T
from test_flow_pyengine import assert_same, both

BID, ASK = 1, 2


def kinds(out, py, t0, kind):
    assert_same(out, py)
    return [(int(s["side"]), int(s["price"]), int(s["ts_exchange_ns"])) for s in out.signals
            if int(s["aux"]) == kind and int(s["ts_exchange_ns"]) >= t0]


def clip_then_flood():
    """A warm market; a bid showing 3, taken by a sell of 4 every 0.2 s and shown again (4
    clips: 20 lots a second, ~7x its display, about half the market's own flow), then 40
    sells of 8 in 0.8 s into the same level, which keeps showing 3: an absorption whose
    first 0.8 s read as an iceberg."""
    m = Market(1)
    m.run(40)
    t0 = m.t
    p = m.best(BID)
    m.emit([m.setq(BID, p, 3)])
    for _ in range(4):
        m.run(0.2, trade_prob=0, protect={(BID, p)})
        m.emit([(TRADE, ASK, p, 4)])
        m.step(trade_prob=0, protect={(BID, p)})
        m.emit([m.setq(BID, p, 3)])
    for _ in range(40):
        m.emit([(TRADE, ASK, p, 8)])
        m.t += 10_000_000
        m.emit([m.setq(BID, p, 3)])
        m.t += 10_000_000
    m.run(2, protect={(BID, p)})
    return m, t0, p


def test_an_absorption_whose_first_clips_look_refilled_is_not_an_iceberg():
    m, t0, p = clip_then_flood()
    out, py = both(m.batch(), FlowParams())
    assert [s[:2] for s in kinds(out, py, t0, T.ABSORPTION)] == [(BID, p)]
    assert kinds(out, py, t0, T.ICEBERG) == []
    # Without the hold the clips' first second fires an iceberg, before the flood.
    out, py = both(m.batch(), FlowParams(iceberg_flood_span_ns=0))
    got = kinds(out, py, t0, T.ICEBERG)
    assert [s[:2] for s in got] == [(BID, p)] and got[0][2] - t0 < 2_000_000_000


def short_iceberg(gone: bool):
    """An ask showing 3, each clip taken by a buy of 4 every 0.25 s and shown again, 4 times
    (1 s: ~5x its display a second), then the last slice taken and the level gone -- or, not
    gone, the clip still showing with no print after."""
    m = Market(1)
    m.run(40)
    t0 = m.t
    p = m.best(ASK)
    m.emit([m.setq(ASK, p, 3)])
    for k in range(5):
        m.run(0.25, trade_prob=0, protect={(ASK, p)})
        last = k == 4
        m.emit([(TRADE, BID, p, 3 if last else 4)])
        m.step(trade_prob=0, protect={(ASK, p)})
        m.emit([m.setq(ASK, p, 0 if (last and gone) else 3)])
    m.run(1.5, trade_prob=0, protect=set() if gone else {(ASK, p)})
    return m, t0, p


def test_an_iceberg_taken_within_the_span_fires_as_its_level_goes():
    for late_ns in (500_000_000, 0):
        m, t0, p = short_iceberg(gone=True)
        out, py = both(m.batch(), FlowParams(iceberg_late_ns=late_ns))
        got = kinds(out, py, t0, T.ICEBERG)
        assert [s[:2] for s in got] == [(ASK, p)]


def test_an_iceberg_still_showing_fires_once_the_span_is_known():
    """The same clip, still showing: tested at every message, it fires once the window has
    passed since its first print (0.25 s after t0) -- about 1.5 s later than without the hold."""
    m, t0, p = short_iceberg(gone=False)
    out, py = both(m.batch(), FlowParams())
    got = kinds(out, py, t0, T.ICEBERG)
    assert [s[:2] for s in got] == [(ASK, p)] and got[0][2] - t0 >= 2_250_000_000
    out, py = both(m.batch(), FlowParams(iceberg_flood_span_ns=0))
    got = kinds(out, py, t0, T.ICEBERG)
    assert [s[:2] for s in got] == [(ASK, p)] and got[0][2] - t0 < 1_500_000_000
