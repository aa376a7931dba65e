"""Each check of the compiled gate refuses what it must and accepts its boundary case."""

import pytest

from engine.risk import RiskGate
from nexus.risk.codes import Latch, OrderType as T, Reason as R, Side, Source, State

IID, VID = 7, 2
BID, ASK = 10_000, 10_010           # price units
MAX_QTY, MAX_NOTIONAL = 100, 1_001_000  # qty units; notional at price+qty exponents
COOLDOWN_NS, RATE_MAX, WINDOW_NS, BAND_BP = 15_000_000_000, 3, 1_000_000_000, 500


def gate(max_positions=2, loss=0, profit=0):
    g = RiskGate(4)
    g.set_limits(max_positions, COOLDOWN_NS, RATE_MAX, WINDOW_NS, BAND_BP, loss, profit)
    for iid in (IID, IID + 1, IID + 2):
        g.add_instrument(iid, VID, MAX_QTY, MAX_NOTIONAL, 1, 1)
        g.touch(iid, BID, ASK)
    g.set_auto(True)
    return g


def chk(g, side=Side.BUY, typ=T.LIMIT, qty=10, price=ASK, ro=0, src=Source.MANUAL, ts=0, iid=IID, vid=VID):
    return R(g.check(vid, iid, side, typ, qty, price, ro, src, ts))


def test_accepts_a_plain_order():
    assert chk(gate()) == R.ACCEPT


def test_max_qty_boundary():
    g = gate()
    assert chk(g, qty=MAX_QTY, price=BID) == R.ACCEPT
    assert chk(g, qty=MAX_QTY + 1, price=BID, ts=10**10) == R.MAX_QTY


def test_max_notional_boundary():
    g = gate()
    assert chk(g, qty=100, price=10_010) == R.ACCEPT           # 1,001,000 exactly
    assert chk(g, qty=100, price=10_011, ts=10**10) == R.MAX_NOTIONAL
    assert chk(g, typ=T.MARKET, qty=100, price=0, ts=2 * 10**10) == R.ACCEPT   # valued at the ask


def test_price_band_boundary_both_sides():
    g = gate()
    hi = ASK + ASK * BAND_BP // 10_000       # exactly 5 % above the ask
    assert chk(g, price=hi, qty=1) == R.ACCEPT
    assert chk(g, price=hi + 1, qty=1, ts=10**10) == R.PRICE_BAND
    lo = BID - BID * BAND_BP // 10_000
    assert chk(g, side=Side.SELL, price=lo, qty=1, ts=2 * 10**10) == R.ACCEPT
    assert chk(g, side=Side.SELL, price=lo - 1, qty=1, ts=3 * 10**10) == R.PRICE_BAND


def test_no_touch_refused():
    g = RiskGate(4)
    g.set_limits(2, 0, 10, WINDOW_NS, BAND_BP, 0, 0)
    g.add_instrument(IID, VID, MAX_QTY, MAX_NOTIONAL, 1, 1)
    assert chk(g) == R.NO_TOUCH
    g.touch(IID, BID, 0)
    assert chk(g) == R.NO_TOUCH
    g.touch(IID, 0, ASK)
    assert chk(g) == R.ACCEPT


def test_max_positions_boundary():
    g = gate(max_positions=2)
    g.fill(IID, Side.BUY, 10, ASK)
    assert chk(g, iid=IID + 1) == R.ACCEPT           # one open: a second may open
    g.fill(IID + 1, Side.BUY, 10, ASK)
    assert chk(g, iid=IID + 2, ts=10**10) == R.MAX_POSITIONS
    assert chk(g, iid=IID, ts=2 * 10**10) == R.ACCEPT  # adding to an open one is not a new position


def test_cooldown_boundary_auto_only():
    g = gate()
    assert chk(g, src=Source.AUTO, ts=0) == R.ACCEPT
    assert chk(g, src=Source.AUTO, ts=COOLDOWN_NS - 1) == R.COOLDOWN
    assert chk(g, src=Source.MANUAL, ts=COOLDOWN_NS - 1) == R.ACCEPT
    assert chk(g, src=Source.AUTO, ts=COOLDOWN_NS) == R.ACCEPT


def test_cooldown_does_not_block_a_reducing_auto_exit():
    g = gate()
    g.fill(IID, Side.BUY, 10, ASK)
    assert chk(g, src=Source.AUTO, ts=0) == R.ACCEPT
    assert chk(g, side=Side.SELL, price=BID, src=Source.AUTO, ts=1) == R.ACCEPT


def test_rate_boundary():
    g = gate()
    for k in range(RATE_MAX):
        assert chk(g, ts=k) == R.ACCEPT
    assert chk(g, ts=WINDOW_NS - 1) == R.RATE
    assert chk(g, ts=WINDOW_NS) == R.ACCEPT          # the first left the window


def test_reduce_only_consistency():
    g = gate()
    assert chk(g, ro=1) == R.REDUCE_ONLY             # flat: nothing to reduce
    g.fill(IID, Side.BUY, 10, ASK)
    assert chk(g, ro=1, ts=1) == R.REDUCE_ONLY       # same side would increase
    assert chk(g, side=Side.SELL, price=BID, qty=11, ro=1, ts=2) == R.REDUCE_ONLY  # would flip
    assert chk(g, side=Side.SELL, price=BID, qty=10, ro=1, ts=3) == R.ACCEPT       # closes exactly


def test_reducing_state_allows_only_reducing_orders():
    g = gate()
    g.fill(IID, Side.SELL, 10, BID)
    g.set_state(State.REDUCING)
    assert chk(g, side=Side.SELL, price=BID) == R.REDUCING_ONLY
    assert chk(g, side=Side.BUY, qty=11, ts=1) == R.REDUCING_ONLY
    assert chk(g, side=Side.BUY, qty=10, ts=2) == R.ACCEPT


def test_halted_refuses_all():
    g = gate()
    g.fill(IID, Side.BUY, 10, ASK)
    g.set_state(State.HALTED)
    assert chk(g) == R.HALTED
    assert chk(g, side=Side.SELL, price=BID, ro=1) == R.HALTED


def test_auto_off_refuses_auto_entries_not_exits():
    g = gate()
    g.fill(IID, Side.BUY, 10, ASK)
    g.set_auto(False)
    assert chk(g, src=Source.AUTO) == R.AUTO_OFF
    assert chk(g, side=Side.SELL, price=BID, src=Source.AUTO, ts=1) == R.ACCEPT


@pytest.mark.parametrize("kw", [dict(qty=0), dict(side=3), dict(typ=4), dict(typ=T.MARKET, price=5),
                                dict(typ=T.LIMIT, price=0), dict(ro=2), dict(src=2)])
def test_malformed(kw):
    assert chk(gate(), **kw) == R.BAD_ORDER


def test_unknown_instrument_or_wrong_venue():
    assert chk(gate(), iid=99) == R.UNKNOWN_INSTRUMENT
    assert chk(gate(), vid=VID + 1) == R.UNKNOWN_INSTRUMENT


def test_daily_loss_cap_boundary_latches():
    # long 10 @ 10,010 valued at the bid: unrealised = 10 * (bid - 10,010)
    g = gate(loss=1000)
    g.fill(IID, Side.BUY, 10, ASK)
    g.touch(IID, ASK - 99, ASK + 10)          # -990 > -1000: still fine
    assert g.latch == Latch.NONE and chk(g) == R.ACCEPT
    g.touch(IID, ASK - 100, ASK + 10)         # -1000: the cap is reached
    assert g.latch == Latch.LOSS and g.state == State.HALTED and not g.auto_enabled
    assert chk(g, side=Side.SELL, price=ASK - 100) == R.DAILY_LOSS
    g.touch(IID, ASK + 500, ASK + 510)        # recovering does not unlatch
    assert chk(g) == R.DAILY_LOSS
    with pytest.raises(ValueError):
        g.set_state(State.ACTIVE)
    with pytest.raises(ValueError):
        g.set_auto(True)


def test_daily_profit_cap_boundary_latches_on_realised():
    g = gate(profit=1000)
    g.fill(IID, Side.BUY, 10, 10_000)
    g.touch(IID, 9_000, 9_010)                # no unrealised gain
    assert g.fill(IID, Side.SELL, 10, 10_099) == 990
    assert g.latch == Latch.NONE
    g.fill(IID, Side.BUY, 1, 10_000)
    assert g.fill(IID, Side.SELL, 1, 10_010) == 10  # realised 1000 in total
    assert g.latch == Latch.PROFIT and chk(g) == R.DAILY_PROFIT


def test_fills_exact_average_cost_and_flip():
    g = gate()
    g.fill(IID, Side.BUY, 3, 10_000)
    g.fill(IID, Side.BUY, 4, 10_003)              # cost 70,012 for 7
    assert g.fill(IID, Side.SELL, 2, 10_010) == 20_020 - 70_012 * 2 // 7
    q, cost, *_ = g.position(IID)
    assert (q, cost) == (5, 70_012 - 70_012 * 2 // 7)
    realised = g.fill(IID, Side.SELL, 8, 10_020)  # closes 5, opens short 3
    assert realised == 5 * 10_020 - cost
    assert g.position(IID)[:2] == (-3, -30_060)
    assert g.open_positions == 1
    total = g.pnl()[0]
    assert total == (20_020 + 5 * 10_020) - 70_012    # the whole round trip, exactly
