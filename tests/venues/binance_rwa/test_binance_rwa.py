"""Binance RWA: Binance spot data for whitelisted real-world-asset symbols only."""

import pytest

from nexus import record
from nexus.exceptions import ConfigError, DecodeError
from nexus.venues import registry
from nexus.venues.binance_rwa import data as rwa
from nexus.venues.binance_rwa import whitelist

EXCHANGE_INFO = (
    # Shape of GET /api/v3/exchangeInfo (Binance Spot API docs, Exchange information); values hand-made.
    b'{"timezone":"UTC","serverTime":1565246363776,"rateLimits":[],"exchangeFilters":[],"symbols":['
    b'{"symbol":"PAXGUSDT","status":"TRADING","baseAsset":"PAXG","quoteAsset":"USDT","filters":['
    b'{"filterType":"PRICE_FILTER","minPrice":"0.01","maxPrice":"100000","tickSize":"0.01000000"},'
    b'{"filterType":"LOT_SIZE","minQty":"0.0001","maxQty":"9000","stepSize":"0.00010000"}]},'
    b'{"symbol":"BTCUSDT","status":"TRADING","baseAsset":"BTC","quoteAsset":"USDT","filters":['
    b'{"filterType":"PRICE_FILTER","tickSize":"0.01000000"},{"filterType":"LOT_SIZE","stepSize":"0.00001000"}]}]}')
BTC_DEPTH = b'{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":157,"u":160,"b":[["0.0024","10"]],"a":[]}'


def test_default_whitelist_is_paxg(monkeypatch):
    monkeypatch.delenv(whitelist.ENV, raising=False)
    assert whitelist.assets() == ("PAXG",)
    spec = registry.venue("binance-rwa").feed_spec()
    assert spec.symbol_of("paxgusdt") == "PAXGUSDT"
    with pytest.raises(ConfigError, match="not a whitelisted real-world-asset symbol"):
        spec.symbol_of("BTCUSDT")


def test_non_whitelisted_message_is_refused_and_metadata_filtered(monkeypatch):
    monkeypatch.delenv(whitelist.ENV, raising=False)
    dec = rwa.Decoder()
    assert dec.load_metadata(EXCHANGE_INFO) == 1
    assert dec.instrument("PAXGUSDT").tick_size == "0.01"
    with pytest.raises(DecodeError, match="NEXUS_BINANCE_RWA_ASSETS"):
        dec.decode(BTC_DEPTH, record.empty(4))


def test_whitelist_is_configurable(monkeypatch):
    monkeypatch.setenv(whitelist.ENV, "paxg, btc")
    assert whitelist.assets() == ("PAXG", "BTC")
    (seg,) = rwa.Decoder().decode(BTC_DEPTH, record.empty(4))
    assert seg.symbol == "BTCUSDT" and seg.seq == 160
    assert not whitelist.allowed("BTCDOMUSDT")
