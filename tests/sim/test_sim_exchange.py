"""The simulator's exchange on a real simulated market (SimCore): market orders walk the
book and print on the public feed, limits rest in the public book behind the quantity
already there and fill as the market trades through, stops trigger on the last price,
perpetual positions and reduce-only, and every refusal changes nothing. (The simulated instruments' ticks and lots are one integer
unit each, so off-grid values are refused where the wire's decimal strings are parsed, in
each venue's endpoints.)"""

from decimal import Decimal as D

import pytest

from nexus.sim.core import SimCore
from nexus.sim.exchange import FILLED, NEW, PARTIALLY_FILLED, Reject
from nexus.sim.market import ASK, BID, BUY, SELL


def core(venue):
    c = SimCore(seed=3, venues=[venue], patterns=False)
    c.advance(1.0)
    return c


def test_an_unused_exchange_changes_nothing():
    a, b = SimCore(seed=3, venues=["binance-spot"], patterns=False), SimCore(seed=3, venues=["binance-spot"], patterns=False)
    b.exchange("binance-spot")
    a.advance(5.0)
    b.advance(5.0)
    assert a.sim.venues["binance-spot"].levels(BID, 20) == b.sim.venues["binance-spot"].levels(BID, 20)


def test_spot_market_buy_walks_the_book_and_prints_publicly():
    c = core("binance-spot")
    ex = c.exchange("binance-spot")
    vs = c.sim.venues["binance-spot"]
    acct = ex.open_account("k", "s", balances={"USDT": "100000", "BTC": "0"})
    asks = vs.levels(ASK, 50)
    lot = ex.spec.lot
    qty = asks[0][1] + lot                         # one lot more than the best ask holds
    expect_cost = ex.notional(asks[0][0], asks[0][1]) + ex.notional(asks[1][0], lot)
    events = []
    ex.listen("k", events.append)
    o = ex.place(acct, "c1", BUY, "MARKET", qty)
    assert o.status == FILLED and o.filled == qty and o.notional == expect_cost
    assert acct.balances["BTC"] == ex.base_qty(qty)
    assert acct.balances["USDT"] == D("100000") - expect_cost - o.fees
    assert [e.fill_qty for e in events if e.fill_qty] == [asks[0][1], lot]
    # the fills go out as public trades with the next publication
    feed = c.feeds["binance-spot"]
    assert [f.qty for f in feed.pending_fills][-2:] == [asks[0][1], lot]


def test_limit_rests_behind_the_queue_and_fills_as_the_market_trades_through():
    c = core("binance-spot")
    ex = c.exchange("binance-spot")
    vs = c.sim.venues["binance-spot"]
    acct = ex.open_account("k", "s", balances={"USDT": "1000000"})
    bb, bb_qty = vs.levels(BID, 1)[0]
    lot = ex.spec.lot
    o = ex.place(acct, "c1", BUY, "LIMIT", 3 * lot, price=bb)
    assert o.status == NEW and o.resting and o.ahead == bb_qty
    assert vs.bids[bb] == bb_qty + 3 * lot                 # our size is in the public book
    assert ex.free(acct, "USDT") < D("1000000")            # the cost is locked
    vs.market(SELL, bb_qty // lot, limit=bb)               # others' quantity ahead goes first
    assert o.filled == 0 and o.ahead == 0
    vs.market(SELL, 2, limit=bb)
    assert o.status == PARTIALLY_FILLED and o.filled == 2 * lot
    ex.cancel(acct, client_id="c1")
    assert vs.bids.get(bb, 0) == 0 and not ex.protects(BID, bb)
    assert ex.free(acct, "USDT") == acct.balances["USDT"]  # nothing left locked
    assert acct.balances["BTC"] == ex.base_qty(2 * lot)


def test_a_resting_level_is_not_cancelled_by_the_simulated_flow():
    c = core("bybit-perp")
    ex = c.exchange("bybit-perp")
    vs = c.sim.venues["bybit-perp"]
    acct = ex.open_account("k", "s", balances={"USDT": "100000"})
    far = vs.levels(BID, 30)[-1][0] - 5 * ex.spec.tick    # behind most of the book
    o = ex.place(acct, "c1", BUY, "LIMIT", ex.spec.lot, price=far)
    c.advance(20.0)
    assert o.status in (NEW, PARTIALLY_FILLED, FILLED)
    if o.status == NEW:
        assert vs.bids.get(far, 0) >= o.remaining


def test_stop_triggers_on_the_last_price():
    c = core("bybit-perp")
    ex = c.exchange("bybit-perp")
    vs = c.sim.venues["bybit-perp"]
    acct = ex.open_account("k", "s", balances={"USDT": "100000"})
    asks = vs.levels(ASK, 40)
    stop = asks[20][0]                                  # 20 levels up: no print there by chance
    o = ex.place(acct, "s1", BUY, "STOP", ex.spec.lot, stop=stop)
    c.advance(0.05)
    assert o.status == NEW and ex.last_trade_price < stop
    vs.market(BUY, sum(q for p, q in vs.levels(ASK, 40) if p <= stop) // ex.spec.lot)  # prints at the stop
    assert ex.last_trade_price >= stop and o.status == NEW     # triggers at the next step
    c.advance(0.01)
    assert o.status == FILLED and acct.position == ex.spec.lot


def test_perpetual_position_pnl_reduce_only_and_margin():
    c = core("bybit-perp")
    ex = c.exchange("bybit-perp")
    vs = c.sim.venues["bybit-perp"]
    acct = ex.open_account("k", "s", balances={"USDT": "10000"})
    lot = ex.spec.lot
    with pytest.raises(Reject) as e:
        ex.place(acct, "r0", SELL, "MARKET", lot, reduce_only=True)
    assert e.value.reason == "reduce_only"
    ex.place(acct, "b1", BUY, "MARKET", 10 * lot)
    assert acct.position == 10 * lot and acct.entry_cost > 0
    with pytest.raises(Reject) as e:
        ex.place(acct, "r1", SELL, "MARKET", 11 * lot, reduce_only=True)
    assert e.value.reason == "reduce_only"
    wallet = acct.balances["USDT"]
    bid = vs.best_bid()
    o = ex.place(acct, "r2", SELL, "MARKET", 10 * lot, reduce_only=True)
    assert acct.position == 0 and acct.entry_cost == 0
    assert acct.balances["USDT"] == wallet + acct.realised - o.fees
    assert o.notional >= 0 and bid is not None
    with pytest.raises(Reject) as e:                       # 10x leverage on a 10,000 USDT wallet
        ex.place(acct, "big", BUY, "MARKET", 10_000 * lot * 100)
    assert e.value.reason == "insufficient_balance"


@pytest.mark.parametrize("kw, reason", [
    (dict(side=BUY, type="LIMIT", qty=1), "price_invalid"),
    (dict(side=BUY, type="MARKET", qty=0), "qty_invalid"),
    (dict(side=BUY, type="ICEBERG", qty=100), "order_type_invalid"),
    (dict(side=SELL, type="MARKET", qty=100_000), "insufficient_balance"),
])
def test_refusals_change_nothing(kw, reason):
    c = core("binance-spot")
    ex = c.exchange("binance-spot")
    acct = ex.open_account("k", "s", balances={"USDT": "100", "BTC": "0.001"})
    before = (dict(acct.balances), dict(acct.locked), dict(ex.orders))
    with pytest.raises(Reject) as e:
        ex.place(acct, "x", kw.pop("side"), kw.pop("type"), kw.pop("qty"), **kw)
    assert e.value.reason == reason
    assert (dict(acct.balances), dict(acct.locked), dict(ex.orders)) == before


def test_duplicate_client_id_is_refused():
    c = core("binance-spot")
    ex = c.exchange("binance-spot")
    acct = ex.open_account("k", "s", balances={"USDT": "100000"})
    ex.place(acct, "same", BUY, "MARKET", ex.spec.lot)
    with pytest.raises(Reject) as e:
        ex.place(acct, "same", BUY, "MARKET", ex.spec.lot)
    assert e.value.reason == "duplicate_client_id"
    assert ex.find(acct, client_id="same").status == FILLED
