"""Iceberg with trades that arrive after the book update they caused (Coinbase: level2 every
50 ms, market_trades in 250 ms batches): prints are paired with the book by exchange time
(engine/det_iceberg.pxd, iceberg_late_ns), in the compiled engine and its pure-Python twin."""

from flow_streams import F_LAST, TRADE, Market, batched_trades, to_batch
from nexus.flow.params import FlowParams
from nexus.flow.signals import SignalType as T
from test_flow_pyengine import assert_same, both

BID, ASK = 1, 2


def last_clips(refilled: bool, gap_s: float = 0.6):
    """A warm market, then three clips of 3 at the best ask each taken by a print of 4 (one
    every `gap_s`) and shown again (refilled), the last slice (3) taken and the level gone;
    or, not refilled, the same prints eating a level that showed all 15 from the start."""
    m = Market(1)
    m.run(40)
    t0 = m.t
    p = m.best(ASK)
    shown = 3 if refilled else 15
    m.emit([m.setq(ASK, p, shown)])
    for k in range(4):
        m.run(gap_s, trade_prob=0, protect={(ASK, p)})
        q = 4 if k < 3 else 3
        m.emit([(TRADE, BID, p, q)])
        m.step(trade_prob=0, protect={(ASK, p)})
        shown = (3 if refilled else shown - q) if k < 3 else 0
        m.emit([m.setq(ASK, p, shown)])
    m.run(1.5, trade_prob=0, protect={(ASK, p)})
    return m, t0, p


def icebergs(out, py, t0):
    assert_same(out, py)
    return [(int(s["side"]), int(s["price"])) for s in out.signals
            if int(s["aux"]) == T.ICEBERG and int(s["ts_exchange_ns"]) >= t0]


def test_trades_batched_after_the_refills_are_paired_by_exchange_time():
    m, t0, p = last_clips(refilled=True)
    stream = to_batch(batched_trades(m.recs))
    rows = stream.tolist()                                           # (ts, ..., kind at 9)
    newest_book = [max((r[0] for r in rows[:i] if r[9] != TRADE), default=0) for i in range(len(rows))]
    assert any(r[9] == TRADE and r[0] >= t0 and r[0] < newest_book[i] for i, r in enumerate(rows))
    out, py = both(stream, FlowParams())
    assert icebergs(out, py, t0) == [(ASK, p)]
    facts = [f["f"] for s, f in zip(out.signals, out.facts) if int(s["aux"]) == T.ICEBERG]
    assert int(facts[0][1]) >= 3                                    # refills, each paired with its print
    # Delivered in time, both pairings read the same iceberg.
    on_time = m.batch()
    assert icebergs(*both(on_time, FlowParams()), t0) == [(ASK, p)]
    assert icebergs(*both(on_time, FlowParams(iceberg_late_ns=0)), t0) == [(ASK, p)]


def test_trades_batched_after_a_level_that_was_never_refilled():
    m, t0, p = last_clips(refilled=False)
    stream = to_batch(batched_trades(m.recs))
    assert icebergs(*both(stream, FlowParams()), t0) == []
    assert icebergs(*both(m.batch(), FlowParams()), t0) == []


def test_what_arrival_order_pairing_misses_exchange_time_pairing_finds():
    """Clips taken 5 times a second, trades held up to 500 ms after the book (within
    iceberg_late_ns): in arrival order the prints meet a level already refilled or gone and
    no iceberg is read; paired by exchange time, it is."""
    m, t0, p = last_clips(refilled=True, gap_s=0.2)
    stream = to_batch(batched_trades(m.recs, trades_ns=500_000_000))
    assert icebergs(*both(stream, FlowParams()), t0) == [(ASK, p)]
    assert icebergs(*both(stream, FlowParams(iceberg_late_ns=0)), t0) == []


def test_an_episode_replaced_within_a_message_is_tested_at_its_last_print():
    """The third clip's print and a sweep through the ten prices behind the level come in one
    batch of trades (Coinbase, seed 202): each new price starts a new episode before the end
    of the message, so the complete iceberg is tested when it is replaced, at its last print."""
    m = Market(1)
    m.run(40)
    t0 = m.t
    p = m.best(ASK)
    m.emit([m.setq(ASK, p, 3)])
    for k in range(3):
        m.run(0.6, trade_prob=0, protect={(ASK, p)})
        if k == 2:
            # a seller opens a trade batch: the clip's print and the sweep 40 ms later wait
            # for the next one, together, after the book messages of both
            while m.t % 250_000_000:
                m.step(trade_prob=0, protect={(ASK, p)})
            m.trade(ASK, 1)
            for _ in range(3):
                m.step(trade_prob=0, protect={(ASK, p)})
        m.emit([(TRADE, BID, p, 4)])
        m.step(trade_prob=0, protect={(ASK, p)})
        m.emit([m.setq(ASK, p, 3)])
    third = m.t
    m.step(trade_prob=0, protect={(ASK, p)})
    behind = sorted(m.book[ASK])[1:11]
    sweep = m.trade(BID, 3 + sum(m.book[ASK][x] for x in behind))
    assert [px for _, _, px, _ in sweep] == [p] + behind
    m.run(1.5, trade_prob=0)
    stream = to_batch(batched_trades(m.recs))
    kind, ts, last = stream["kind"], stream["ts_exchange_ns"], stream["flags"] & F_LAST
    # the message that carries the third clip's print also carries the whole sweep
    i3 = next(i for i in range(len(stream)) if kind[i] == TRADE and ts[i] == third - m.step_ns)
    end = next(i for i in range(i3, len(stream)) if last[i])
    assert sum(1 for i in range(i3, end + 1) if kind[i] == TRADE and ts[i] > third) == len(sweep)
    assert icebergs(*both(stream, FlowParams()), t0) == [(ASK, p)]
