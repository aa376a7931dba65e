from decimal import Decimal

import pytest
from hypothesis import given, strategies as st

from nexus.exceptions import ConfigError, DecimalError, UnknownInstrument
from nexus.instruments import Instrument, Registry, instrument_id_of


def btc():
    return Instrument("binance-perp", "BTCUSDT", tick_size="0.10", lot_size="0.001", base="BTC", quote="USDT", contract_kind="linear")


def test_exponents_come_from_tick_and_lot():
    i = btc()
    assert (i.price_exponent, i.qty_exponent) == (1, 3)
    assert i.price_to_int("65000.1") == 650001
    assert i.price_str(650001) == "65000.1"
    assert i.qty_to_int("0.250") == 250


def test_off_tick_price_is_refused():
    half = Instrument("kraken", "BTC/USD", tick_size="0.5", lot_size="0.00000001")
    assert half.price_to_int("100.5") == 1005
    with pytest.raises(DecimalError, match="tick size 0.5"):
        half.price_to_int("100.2")
    with pytest.raises(DecimalError):
        btc().price_to_int("65000.15")


def test_contract_value_and_inverse():
    okx = Instrument("okx-swap", "BTC-USDT-SWAP", tick_size="0.1", lot_size="0.01", contract_value="0.01", contract_kind="linear")
    assert okx.base_qty(okx.qty_to_int("3")) == Decimal("0.03")
    inv = Instrument("deribit", "BTC-PERPETUAL", tick_size="0.5", lot_size="10", contract_value="10", contract_kind="inverse")
    # 100 contracts x 10 USD = 1000 USD at 50,000 -> 0.02 BTC
    assert inv.base_qty(inv.qty_to_int("100"), inv.price_to_int("50000")) == Decimal("0.02")
    with pytest.raises(ConfigError, match="needs a price"):
        inv.base_qty(1)


@pytest.mark.parametrize("field,value", [("tick_size", "0"), ("lot_size", "-1"), ("tick_size", "abc")])
def test_bad_metadata_is_refused(field, value):
    kw = dict(venue="x", symbol="Y", tick_size="0.1", lot_size="1")
    kw[field] = value
    with pytest.raises(ConfigError, match=field):
        Instrument(**kw)


def test_registry_lookup_and_stable_ids():
    reg = Registry([btc()])
    assert reg.get("binance-perp", "BTCUSDT").instrument_id == instrument_id_of("binance-perp", "BTCUSDT")
    assert reg.by_id(instrument_id_of("binance-perp", "BTCUSDT")).symbol == "BTCUSDT"
    with pytest.raises(UnknownInstrument, match="ETHUSDT"):
        reg.get("binance-perp", "ETHUSDT")


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_price_round_trip_on_grid(ticks):
    i = btc()
    assert i.price_to_int(i.price_str(ticks)) == ticks
