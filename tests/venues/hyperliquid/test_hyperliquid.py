"""Hyperliquid: meta (szDecimals) gives tick and lot sizes."""

import pytest

from nexus import record
from nexus.exceptions import DecodeError
from nexus.venues.hyperliquid import data as hyperliquid


def test_meta_sets_size_and_price_decimals():
    dec = hyperliquid.Decoder()
    # The documented meta response (Info endpoint > Perpetuals > Retrieve perpetuals metadata)
    n = dec.load_metadata(b'{"universe":[{"name":"BTC","szDecimals":5,"maxLeverage":50},{"name":"ETH","szDecimals":4,'
                          b'"maxLeverage":50},{"name":"HPOS","szDecimals":0,"maxLeverage":3,"onlyIsolated":true}]}')
    assert n == 3
    hpos = dec.instrument("HPOS")
    assert (hpos.tick_size, hpos.lot_size, hpos.price_exponent, hpos.qty_exponent) == ("0.000001", "1", 6, 0)
    assert dec.instrument("BTC").tick_size == "0.1"


def test_bad_sz_decimals_are_rejected():
    with pytest.raises(DecodeError):
        hyperliquid.Decoder().load_metadata(b'{"universe":[{"name":"X","szDecimals":9}]}')


def test_levels_must_be_two_sides():
    with pytest.raises(DecodeError, match="bids, asks"):
        hyperliquid.Decoder().decode(b'{"channel":"l2Book","data":{"coin":"BTC","time":1,"levels":[[]]}}',
                                     record.empty(4))
