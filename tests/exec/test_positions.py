"""Positions and PnL from fills: worked cases and a property over random fill sequences
(realised + unrealised always equals the cash flows valued at the mark, exactly)."""

from decimal import Decimal as D
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nexus.exec.orders import Side
from nexus.exec.positions import Position, Positions


def test_long_then_partial_close_then_flip():
    p = Position("binance-perp", "BTCUSDT")
    assert p.apply(Side.BUY, D("2"), D("100")) == 0
    assert p.apply(Side.BUY, D("1"), D("103")) == 0
    assert p.avg_entry == D("101")  # (200 + 103) / 3
    assert p.apply(Side.SELL, D("1"), D("104")) == D("3")
    assert p.qty == 2 and p.avg_entry == D("101")
    assert p.apply(Side.SELL, D("3"), D("99")) == D("-4")  # closes 2 at -2 each, opens 1 short at 99
    assert p.qty == -1 and p.avg_entry == D("99") and p.side is Side.SELL
    assert p.unrealised(D("97.5")) == D("1.5")
    assert p.realised == D("-1")


def test_fees_are_realised_and_contract_value_scales_pnl():
    p = Position("okx-swap", "BTC-USDT-SWAP", contract_value=D("0.01"))
    p.apply(Side.SELL, D("100"), D("65000.1"), fee=D("0.5"))
    assert p.realised == D("-0.5") and p.fees == D("0.5")
    assert p.unrealised(D("64990.1")) == D("10.00")   # 10 USDT a coin, 1 coin short
    assert p.apply(Side.BUY, D("100"), D("64990.1"), fee=D("0.5")) == D("9.50")
    assert p.qty == 0 and p.avg_entry is None and p.unrealised(D("1")) == 0


def test_reduce_only_semantics():
    p = Position("bybit-perp", "BTCUSDT")
    assert not p.reduces(Side.SELL, D("1"))  # flat: anything opens
    p.apply(Side.BUY, D("2"), D("100"))
    assert p.reduces(Side.SELL, D("2")) and not p.reduces(Side.SELL, D("2.001"))
    assert not p.reduces(Side.BUY, D("1"))


def test_bad_fill_is_refused_and_changes_nothing():
    p = Position("kraken", "BTC/USD")
    with pytest.raises(ValueError):
        p.apply(Side.BUY, D("0"), D("100"))
    assert p.qty == 0 and p.fills == 0


def test_positions_per_venue_and_symbol():
    ps = Positions()
    ps.get("binance-spot", "BTCUSDT").apply(Side.BUY, D("1"), D("10"))
    ps.get("bybit-perp", "BTCUSDT").apply(Side.SELL, D("1"), D("10"))
    assert {(p.venue, p.symbol) for p in ps.open()} == {("binance-spot", "BTCUSDT"), ("bybit-perp", "BTCUSDT")}
    assert ps.get("binance-spot", "BTCUSDT").qty == 1


fills = st.lists(st.tuples(st.sampled_from([Side.BUY, Side.SELL]),
                           st.integers(1, 500).map(lambda n: D(n) / 100),
                           st.integers(1, 10_000_00).map(lambda n: D(n) / 100),
                           st.integers(0, 100).map(lambda n: D(n) / 1000)), min_size=1, max_size=40)


@settings(max_examples=300, deadline=None)
@given(fills, st.integers(1, 10_000_00).map(lambda n: D(n) / 100), st.sampled_from([D(1), D("0.01"), D("0.1")]))
def test_pnl_equals_cash_flows_at_the_mark(seq, mark, cv):
    p = Position("v", "s", contract_value=cv)
    cash = D(0)
    qty = D(0)
    for side, q, px, fee in seq:
        p.apply(side, q, px, fee)
        cash -= side.sign * q * px * cv + fee
        qty += side.sign * q
    assert p.qty == qty
    assert p.realised_exact + p.unrealised_exact(mark) == Fraction(cash + qty * mark * cv)
    if qty:
        # the average entry is a price between the extremes of the fills
        assert min(f[2] for f in seq) <= p.avg_entry <= max(f[2] for f in seq)


def test_a_non_terminating_average_stays_exact():
    p = Position("v", "s")
    p.apply(Side.SELL, D("0.01"), D("0.02"))
    p.apply(Side.SELL, D("0.1"), D("0.01"))       # average entry 0.0012 / 0.11 = 0.0109090...
    p.apply(Side.BUY, D("0.01"), D("0.01"))       # closes a tenth-and-a-bit at that average
    assert p.realised_exact == Fraction(1, 110000)
    assert p.realised == D("0.000009090909090909")  # shown to 18 places, half-even
    assert p.realised_exact + p.unrealised_exact(D("0.01")) == Fraction(D("0.0011") - D("0.001"))
