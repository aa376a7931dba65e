"""Each detector on a hand-made scenario over the synthetic market (tests/engine/flow_streams.py
Market: a 20-level book around 100 000, background prints of 1-5 lots): the pattern its
definition describes gives its signal, with the documented side and price, and the near-miss
that the definition excludes gives none. Default parameters unless a test says otherwise."""

import numpy as np

from flow_streams import BOOK_LEVEL, TRADE, Market
from nexus.flow.params import FlowParams
from nexus.flow.runner import FlowRunner
from nexus.flow.signals import SignalType as T

BID, ASK = 1, 2


def warm_market(seed=1, seconds=40):
    m = Market(seed)
    m.run(seconds)
    return m


def signals(m, **params):
    out = FlowRunner(FlowParams(**params)).run(m.batch())
    return [(int(s["aux"]), int(s["side"]), int(s["price"]), int(s["ts_exchange_ns"])) for s in out.signals]


def after(sigs, t0, kind=None):
    return [s for s in sigs if s[3] >= t0 and (kind is None or s[0] == kind)]


def test_background_alone_is_quiet():
    m = warm_market(seconds=120)
    assert [s for s in signals(m) if s[0] != T.ORACLE] == []


def place_and_pull_wall(m, side, size, hold_s=1.0, trade_through=False, gradual=False):
    p = m.best(side) - 5 if side == BID else m.best(side) + 5       # 5 levels behind the touch
    if gradual:
        for k in range(1, 11):                                        # built up over 10 messages
            m.emit([m.setq(side, p, m.book[side].get(p, 0) + size // 10)])
            m.step(trade_prob=0, protect={(side, p)})
    else:
        m.emit([m.setq(side, p, m.book[side].get(p, 0) + size)])   # placed at once
    m.run(hold_s, protect={(side, p)})
    if trade_through:
        m.emit([(TRADE, 3 - side, p, size // 4)])                  # a quarter of it traded: reachable
        m.step(trade_prob=0, protect={(side, p)})
    m.emit([m.setq(side, p, 0)])                                     # pulled in one message
    m.run(1)
    return p


def test_spoof_wall_placed_and_pulled():
    m = warm_market()
    t0 = m.t
    p = place_and_pull_wall(m, BID, 400)
    got = after(signals(m), t0, T.SPOOF)
    assert [(s[1], s[2]) for s in got] == [(ASK, p)]               # a pulled bid wall points down


def test_spoof_not_when_the_wall_traded_or_was_built_up():
    m = warm_market()
    t0 = m.t
    place_and_pull_wall(m, ASK, 400, trade_through=True)
    place_and_pull_wall(m, BID, 400, gradual=True)
    assert after(signals(m), t0, T.SPOOF) == []


def test_spoof_when_prints_pass_the_wall_before_the_book_says_it_is_gone():
    # Trades and book are separate streams: the price runs through the wall's level (sells
    # print 1 and 2 ticks below the bid wall, nothing at its price) before the book message
    # removing it arrives. A resting wall would have been hit first: it was pulled before it
    # could trade. The same run with the wall filled at its price is no spoof.
    def run(fill_at_wall):
        m = warm_market()
        t0 = m.t
        p = m.best(BID) - 5
        m.emit([m.setq(BID, p, m.book[BID].get(p, 0) + 400)])
        m.run(1.0, protect={(BID, p)})
        prints = [(TRADE, ASK, p, 400)] if fill_at_wall else []
        m.emit(prints + [(TRADE, ASK, p - 1, 3), (TRADE, ASK, p - 2, 3)])
        m.emit([m.setq(BID, p, 0)])
        m.run(1)
        return p, after(signals(m), t0, T.SPOOF)

    p, got = run(fill_at_wall=False)
    assert [(s[1], s[2]) for s in got] == [(ASK, p)]
    assert run(fill_at_wall=True)[1] == []


def test_spoof_wall_out_of_view_is_not_pulled_and_keeps_its_age():
    # A depth-limited feed (Kraken's book shows 10 levels): the wall and every level behind it
    # leave the shown window (levels added in front pushed them out) and come back. Leaving
    # the view is not a pull -- the wall stays tracked and its life runs from its placement,
    # so pulled in view 50 ms after it showed again (a 50 ms showing alone would be a
    # fleeting order) it is a spoof. The same wall that leaves the view and never comes back
    # gives nothing: its cancel, if any, was never on the wire.
    def run(comes_back):
        m = warm_market()
        t0 = m.t
        p = m.best(BID) - 5
        m.emit([m.setq(BID, p, m.book[BID].get(p, 0) + 400)])
        m.run(0.3, protect={(BID, p)})
        behind = sorted((q for q in m.book[BID] if q <= p), reverse=True)
        saved = {q: m.book[BID][q] for q in behind}
        m.t += m.step_ns
        m.emit([m.setq(BID, q, 0) for q in behind])                  # out of the shown window
        if not comes_back:
            m.t += 10**9
            m.emit([m.setq(BID, q, saved[q] if q != p else 0) for q in behind])  # the window again, no wall
            m.run(1)
            return p, after(signals(m), t0, T.SPOOF)
        m.t += 5 * 10**8
        m.emit([m.setq(BID, q, saved[q]) for q in behind])           # back in view
        m.t += 5 * 10**7
        m.emit([m.setq(BID, p, 0)])                                  # pulled in view
        m.run(1)
        return p, after(signals(m), t0, T.SPOOF)

    p, got = run(comes_back=True)
    assert [(s[1], s[2]) for s in got] == [(ASK, p)]
    assert run(comes_back=False)[1] == []


def iceberg(m, side, clips=10, display=3, print_size=4):
    p = m.best(side)
    m.emit([m.setq(side, p, display)])
    for _ in range(clips):
        m.step(trade_prob=0, protect={(side, p)})
        m.emit([(TRADE, 3 - side, p, print_size)])                  # more prints than show ...
        m.step(trade_prob=0, protect={(side, p)})
        m.emit([m.setq(side, p, display)])                          # ... and the clip is back
        m.run(0.6, trade_prob=0, protect={(side, p)})                # (~6 lots/s: a fraction of
                                                                    # the market's ~37 lots/s)
    m.run(1, protect={(side, p)})
    return p


def test_iceberg_refilled_clip():
    m = warm_market()
    t0 = m.t
    p = iceberg(m, ASK)
    got = after(signals(m), t0, T.ICEBERG)
    assert [(s[1], s[2]) for s in got] == [(ASK, p)]
    assert after(signals(m), t0, T.ABSORPTION) == []


def test_absorption_flood_into_a_level_that_holds_is_not_an_iceberg():
    m = warm_market()
    t0 = m.t
    p = m.best(BID)
    for _ in range(40):                                             # 40 sells of 8 in 0.8 s
        m.emit([(TRADE, ASK, p, 8)])
        m.t += 10_000_000
        m.emit([m.setq(BID, p, 10)])
        m.t += 10_000_000
    m.run(2, protect={(BID, p)})
    sigs = signals(m)
    assert [(s[1], s[2]) for s in after(sigs, t0, T.ABSORPTION)] == [(BID, p)]
    assert after(sigs, t0, T.ICEBERG) == []


def test_iceberg_judges_the_flood_itself_before_absorption_arms():
    # The flood of the test above, with the absorption detector off (as in its first
    # moments, before it arms): the level alone took far more than the whole market's normal
    # flow over the same time (iceberg_flood_pct), and it was taken ~40 times its largest
    # display per second (absorption_turnover_pct, the same test absorption arms on): a
    # burst, not ordinary trading taking a clip. Each test alone keeps it quiet; without
    # both the refills alone make it an iceberg.
    m = warm_market()
    t0 = m.t
    p = m.best(BID)
    for _ in range(40):
        m.emit([(TRADE, ASK, p, 8)])
        m.t += 10_000_000
        m.emit([m.setq(BID, p, 10)])
        m.t += 10_000_000
    m.run(2, protect={(BID, p)})
    assert after(signals(m, absorption=False), t0, T.ICEBERG) == []
    assert after(signals(m, absorption=False, iceberg_flood_pct=0), t0, T.ICEBERG) == []
    assert after(signals(m, absorption=False, absorption_turnover_pct=0), t0, T.ICEBERG) == []
    got = after(signals(m, absorption=False, iceberg_flood_pct=0, absorption_turnover_pct=0), t0, T.ICEBERG)
    assert [(s[1], s[2]) for s in got] == [(BID, p)]


def test_absorption_not_when_the_level_gives_way():
    def flood(breaks):
        m = warm_market()
        t0 = m.t
        p = m.best(BID)
        for _ in range(30):                                         # 30 sells of 8 in 0.24 s ...
            m.emit([(TRADE, ASK, p, 8)])
            m.t += 4_000_000
            m.emit([m.setq(BID, p, 10)])
            m.t += 4_000_000
        if breaks:                                                  # ... then the level breaks,
            m.emit([m.setq(BID, p, 0), m.setq(BID, p - 1, 0)])      # within hold_ns of arming
        m.run(2, protect=() if breaks else {(BID, p)})
        return after(signals(m), t0, T.ABSORPTION)

    assert len(flood(breaks=False)) == 1                            # the same flood that holds fires
    assert flood(breaks=True) == []


def test_smart_money_persistent_large_lots():
    m = warm_market()
    t0 = m.t
    for _ in range(10):
        m.trade(BID, 60)                                            # one order sweeping levels
        m.run(1.5)
    got = after(signals(m), t0, T.SMART_MONEY)
    assert got and all(s[1] == BID for s in got)


def burst(m, side, orders, spacing_ns, size):
    for _ in range(orders):
        m.trade(side, size)
        m.t += spacing_ns
        m.emit(m.refill_side(1) + m.refill_side(2))


def test_exhaustion_burst_then_retrace():
    m = warm_market()
    t0 = m.t
    burst(m, BID, 40, 40_000_000, 12)                               # 1.6 s of buying walks the asks up
    top = m.best(ASK)
    for _ in range(30):                                             # then sellers take it back
        m.trade(ASK, 6)
        m.step(trade_prob=0)
    m.run(3)
    got = after(signals(m), t0, T.EXHAUSTION)
    assert got and got[0][1] == ASK                                  # a failed buying burst points down
    assert got[0][2] <= top


def busy_venue(m, rng, seconds, p=0.25):
    """Background large lots of random sides: 40-80 lots (>= 12x the 1-5 lot median) with
    probability p every 0.5 s, on top of the Market's ordinary prints."""
    for _ in range(round(seconds / 0.5)):
        if rng.random() < p:
            m.trade(rng.choice((BID, ASK)), rng.randint(40, 80))
        m.run(0.5)


def test_smart_money_stands_out_of_a_busy_venues_random_large_lots():
    # About one 40-80 lot order every 2 s, sides at random: ~7 large lots per side in any
    # 30 s. An accumulator's 100-lot buys every second exceed that background by far more
    # than chance; the background alone, the same length, never looks like one.
    import random
    rng = random.Random(7)
    m = warm_market()
    busy_venue(m, rng, 120)
    t0 = m.t
    for _ in range(20):
        m.trade(BID, 100)
        busy_venue(m, rng, 1.0)
    got = after(signals(m), t0, T.SMART_MONEY)
    assert got and all(s[1] == BID for s in got)

    rng = random.Random(7)
    quiet = warm_market()
    busy_venue(quiet, rng, 140)
    assert after(signals(quiet), 0, T.SMART_MONEY) == []


def test_smart_money_an_earlier_accumulators_larger_lots_do_not_hide_the_next_one():
    # 16 sells of 200 lots, then 16 buys of 80 lots: the sells stay in the 2000-order size
    # window. Ranked among the largest recent orders, the 80-lot buys would sit below 16
    # bigger ones (a top-1 % rank of ~800 orders is 8); measured against the venue's MEDIAN
    # order (3 lots, which 16 orders cannot move) they are large lots.
    m = warm_market()
    for _ in range(16):
        m.trade(ASK, 200)
        m.run(1.5)
    m.run(10)
    t0 = m.t
    for _ in range(16):
        m.trade(BID, 80)
        m.run(1.5)
    got = after(signals(m), t0, T.SMART_MONEY)
    assert got and all(s[1] == BID for s in got)
    sells = [s for s in signals(m) if s[0] == T.SMART_MONEY and s[3] < t0]
    assert sells and all(s[1] == ASK for s in sells)


def test_smart_money_too_few_lots_is_not_persistent():
    m = warm_market()
    t0 = m.t
    for _ in range(8):                                              # below min_count (10)
        m.trade(BID, 100)
        m.run(1.5)
    m.run(30)
    assert after(signals(m), t0, T.SMART_MONEY) == []


def sellers_take_it_back(m, n=30):
    for _ in range(n):
        m.trade(ASK, 6)
        m.step(trade_prob=0)
    m.run(3)


def test_exhaustion_short_burst_fires():
    # A burst is judged against the market's own one-sided rate over burst_ns, whatever its
    # length: 14 buy orders in 0.42 s (the background sends ~3 per side per 0.5 s) that walk
    # the asks ~4 bp, then sellers take it back.
    m = warm_market()
    t0 = m.t
    burst(m, BID, 14, 30_000_000, 24)
    top = m.best(ASK)
    sellers_take_it_back(m)
    got = after(signals(m), t0, T.EXHAUSTION)
    assert got and got[0][1] == ASK and got[0][2] <= top


def test_exhaustion_needs_a_series_of_orders_not_a_few_blocks():
    # The same volume from 5 blocks in 0.5 s, moving the price as far: the volume z passes,
    # the order count (5 against ~3 normally) does not -- large lots, not a burst of aggression.
    m = warm_market()
    t0 = m.t
    burst(m, BID, 5, 100_000_000, 70)
    sellers_take_it_back(m)
    assert after(signals(m), t0, T.EXHAUSTION) == []
    # without the order-count test the same flow arms a burst and fires
    got = after(signals(m, exhaustion_orders_z_x100=0), t0, T.EXHAUSTION)
    assert got and got[0][1] == ASK


def test_delta_spike_sudden_buying():
    m = warm_market(seconds=60)
    t0 = m.t
    burst(m, BID, 14, 25_000_000, 10)                               # 0.35 s, 14 orders
    m.run(3)
    got = after(signals(m), t0, T.DELTA_SPIKE)
    assert got and got[0][1] == BID


def test_delta_spike_needs_the_aggression_to_move_through_the_book():
    # The same 14 buy orders of 10 lots in 0.35 s, into ONE level that holds (its owner
    # refills it: consume=False): a one-level delta is absorption, not a spike.
    m = warm_market(seconds=60)
    t0 = m.t
    for _ in range(14):
        m.trade(BID, 10, consume=False)
        m.t += 25_000_000
    m.run(3)
    assert after(signals(m), t0, T.DELTA_SPIKE) == []
    # walking the asks, it trades at >= delta_spike_min_levels distinct prices: a spike
    m = warm_market(seconds=60)
    t0 = m.t
    burst(m, BID, 14, 25_000_000, 10)
    m.run(3)
    assert [s[1] for s in after(signals(m), t0, T.DELTA_SPIKE)][:1] == [BID]
    # and a level count the burst does not reach silences it
    assert after(signals(m, delta_spike_min_levels=64), t0, T.DELTA_SPIKE) == []


def test_delta_spike_on_a_ramping_burst_fires_at_once_unless_calm_is_required():
    # 1 s of steady buying (4 lots every 50 ms), then heavy buying: the delta z crosses the
    # threshold as the heavy orders start. By default (the definition: the z-score alone) it
    # fires there; calm_z_x100 would wait until the ramp has left the bucket before.
    m = warm_market(seconds=60)
    t0 = m.t
    burst(m, BID, 20, 50_000_000, 4)
    t1 = m.t
    burst(m, BID, 14, 25_000_000, 12)
    m.run(3)
    got = after(signals(m), t0, T.DELTA_SPIKE)
    assert got[0][1] == BID and 0 <= got[0][3] - t1 <= 100_000_000
    calm = after(signals(m, delta_spike_calm_z_x100=300), t0, T.DELTA_SPIKE)
    assert calm[0][1] == BID and calm[0][3] - t1 >= 450_000_000


def test_oracle_combines_agreeing_signals():
    m = warm_market()
    t0 = m.t
    iceberg(m, BID)
    burst(m, BID, 14, 25_000_000, 10)
    m.run(2)
    sigs = signals(m, oracle_min_conf=50)
    got = after(sigs, t0, T.ORACLE)
    assert got and got[0][1] == BID


def test_exhaustion_not_one_block_sweeping_a_thin_book():
    # A dozen small buys, then ONE market buy sweeping ~40 levels (~4 bp) whose levels the
    # makers put back at once: the volume z rests on that block (without it, the dozen small
    # orders score far below the threshold), its deepest print would be the extreme and the
    # mid, never up there, a "retrace" -- a large lot, not a failed burst.
    from flow_streams import block_sweep

    batch, t0 = block_sweep()
    out = FlowRunner(FlowParams()).run(batch)
    assert [s for s in out.signals if int(s["aux"]) == T.EXHAUSTION and int(s["ts_exchange_ns"]) >= t0] == []
    # the same prints as one order per level: aggression well above normal, a failed burst
    batch, t0 = block_sweep(split=True)
    out = FlowRunner(FlowParams()).run(batch)
    got = [s for s in out.signals if int(s["aux"]) == T.EXHAUSTION and int(s["ts_exchange_ns"]) >= t0]
    assert got and int(got[0]["side"]) == ASK
