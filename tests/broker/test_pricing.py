"""Quotes in integer smallest units; every rounding favours the broker; never a float."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings, strategies as st

from nexus import record
from nexus.broker import pricing
from nexus.broker.clock import ManualClock
from nexus.broker.errors import Invalid
from nexus.broker.pricing import PaymentMethod, RingInstrument, RingPriceSource
from nexus.broker.units import ETH, EUR, USDT, to_str, to_units

SEPA = PaymentMethod("sepa", "EUR", 900, Decimal("0.01"), 0)
PM2 = PaymentMethod("x", "EUR", 60, Decimal("0.015"), 25)


def test_units_are_exact():
    assert to_units("1.5", ETH) == 15 * 10**17
    assert to_units("0.000001", USDT) == 1
    assert to_str(10**19 + 1, ETH) == "10.000000000000000001"
    assert to_str(-5, EUR) == "-0.05"
    for bad in ("1.001", "1e3", "-1", "", " 1", "1.", ".5"):
        with pytest.raises(Invalid):
            to_units(bad, EUR)


def test_spread_rounds_for_the_broker():
    assert pricing.buy_price(Decimal("2000")) == Decimal("2010.000000")
    assert pricing.sell_price(Decimal("0.92")) == Decimal("0.915400")
    assert pricing.buy_price(Decimal("0.333333333")) == Decimal("0.335000")  # 0.334999999665 rounded up
    assert pricing.sell_price(Decimal("0.333333333")) == Decimal("0.331666")  # floor


def test_buy_quotes():
    q = pricing.quote_buy(Decimal("2010"), SEPA, ETH, EUR, fiat_amount=10000)
    assert (q.fee, q.fiat_amount) == (100, 10000)
    assert q.crypto_amount == 9900 * 10**18 // 201000  # floor(99.00 EUR / 2010 EUR per ETH, in wei)
    q = pricing.quote_buy(Decimal("2010"), PM2, ETH, EUR, crypto_amount=10**18)
    assert q.fiat_amount == 201000 + 3015 + 25 and q.fee == 3040


def test_sell_merchant_gift_quotes():
    q = pricing.quote_sell(Decimal("1990"), SEPA, ETH, EUR, 5 * 10**17)
    assert (q.fiat_amount, q.fee) == (98505, 995)
    m = pricing.quote_merchant(Decimal("1990"), PM2, ETH, EUR, fiat_amount=5000)
    assert m.fiat_amount >= 5000 and m.fiat_amount - 5000 <= 2
    g = pricing.quote_gift(Decimal("2010"), ETH, EUR, crypto_amount=10**16)
    assert (g.fee, g.fiat_amount) == (0, 2010)
    with pytest.raises(Invalid, match="too small"):
        pricing.quote_sell(Decimal("1990"), PM2, ETH, EUR, 10**12)


@settings(max_examples=300, deadline=None)
@given(
    fiat=st.integers(min_value=100, max_value=10_000_000),
    crypto_units=st.integers(min_value=10**12, max_value=50 * 10**18),
    price=st.decimals(min_value=Decimal("0.01"), max_value=Decimal("100000"), places=6),
)
def test_quotes_never_give_away_money(fiat, crypto_units, price):
    q = pricing.quote_buy(price, SEPA, ETH, EUR, fiat_amount=fiat)
    assert isinstance(q.crypto_amount, int) and isinstance(q.fee, int)
    assert Decimal(q.crypto_amount) * price / 10**18 * 100 <= fiat - q.fee  # crypto worth at most the net paid
    try:
        s = pricing.quote_sell(price, SEPA, ETH, EUR, crypto_units)
    except Invalid:
        return
    assert Decimal(s.fiat_amount + s.fee) <= Decimal(crypto_units) * price / 10**18 * 100  # never pays more than the value


def test_ring_price_source(ring_name):
    from nexus.ring import RingWriter

    clock = ManualClock()
    inst = RingInstrument(instrument_id=4242, price_exponent=2, fx=Decimal("0.9"))
    with RingWriter(ring_name, slots=1024) as w:
        src = RingPriceSource(ring_name, {"ETH": inst}, clock, max_age_s=5)
        with pytest.raises(pricing.PriceUnavailable):
            src.mid("ETH")
        batch = record.empty(3)
        batch["kind"] = int(record.Kind.BBO)
        batch["instrument_id"] = 4242
        batch["side"] = [int(record.Side.BID), int(record.Side.ASK), int(record.Side.BID)]
        batch["price"] = [220000, 220200, 220010]  # 2200.00 bid, 2202.00 ask, then bid 2200.10
        w.publish(batch)
        mid, _ = src.mid("ETH")
        assert mid == (Decimal("2200.10") + Decimal("2202.00")) / 2 * Decimal("0.9")
        clock.advance(6)
        with pytest.raises(pricing.PriceUnavailable):
            src.mid("ETH")  # stale
        with pytest.raises(pricing.PriceUnavailable):
            src.mid("USDT")
