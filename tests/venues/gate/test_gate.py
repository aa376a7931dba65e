"""Gate: instruments from the currency pair and contract listings (quanto multiplier as the
contract value), the spot/futures symbol spelling, a spot `full` update replacing the book."""

from decimal import Decimal

import pytest

from nexus import record
from nexus.exceptions import ConfigError
from nexus.venues.gate import data as gate
from nexus.venues.gate.feed import FEED, futures_url

# Shapes of GET /api/v4/spot/currency_pairs/{pair} and /api/v4/futures/usdt/contracts/{contract}
# (Gate API v4 docs, https://www.gate.io/docs/developers/apiv4/en/)
PAIR = (b'{"id":"ETH_USDT","base":"ETH","quote":"USDT","fee":"0.2","min_base_amount":"0.001",'
        b'"min_quote_amount":"1.0","amount_precision":3,"precision":6,"trade_status":"tradable",'
        b'"sell_start":1516378650,"buy_start":1516378650}')
CONTRACTS = (b'[{"name":"BTC_USDT","type":"direct","quanto_multiplier":"0.0001","order_price_round":"0.1",'
             b'"mark_price_round":"0.01","order_size_min":1,"order_size_max":1000000,"in_delisting":false}]')


def test_instruments_from_the_listings():
    dec = gate.Decoder()
    assert dec.load_metadata(PAIR) == 1 and dec.load_metadata(CONTRACTS) == 1
    spot = dec.instrument("ETH_USDT")
    assert (spot.tick_size, spot.lot_size, spot.contract_kind) == ("0.000001", "0.001", "spot")
    fut = dec.instrument("BTC_USDT:USDT")
    assert (fut.tick_size, fut.lot_size, fut.contract_value, fut.contract_kind) == ("0.1", "1", "0.0001", "linear")
    assert fut.base_qty(58794) == Decimal("5.8794")  # contracts x quanto_multiplier


def test_symbol_spelling_and_futures_address():
    assert FEED.symbol_of("BTCUSDT") == "BTC_USDT"
    assert FEED.symbol_of("btcusdt:usdt") == "BTC_USDT:USDT"
    with pytest.raises(ConfigError):
        FEED.symbol_of("BTCUSD:BTC")
    assert b"futures.order_book_update" in FEED.subscribe("BTC_USDT:USDT")[0]
    assert b'"payload":["BTC_USDT","100ms","100"]' in FEED.subscribe("BTC_USDT:USDT")[0]
    assert "contract=BTC_USDT&" in FEED.snapshot_path("BTC_USDT:USDT")
    assert futures_url("wss://api.gateio.ws/ws/v4/") == "wss://fx-ws.gateio.ws/v4/ws/usdt"
    assert futures_url("ws://127.0.0.1:5/gate/ws/v4/") == "ws://127.0.0.1:5/gate/v4/ws/usdt"


def test_a_full_spot_update_replaces_the_book():
    # spot.order_book_update with "full": true (Gate announcement 'WebSocket order book push
    # optimisation': the message carries full depth and overwrites the local book)
    dec = gate.Decoder()
    sync = gate.Sync(dec)
    out = record.empty(64)
    msg = (b'{"time":1,"time_ms":1000,"channel":"spot.order_book_update","event":"update","result":{"t":1000,'
           b'"full":true,"s":"BTC_USDT","U":10,"u":10,"b":[["100","1"]],"a":[["101","2"]]}}')
    sync.feed(dec.decode(msg, out), out)
    upd = (b'{"time":1,"time_ms":1100,"channel":"spot.order_book_update","event":"update","result":{"t":1100,'
           b'"s":"BTC_USDT","U":11,"u":12,"b":[["100","0"],["99","4"]],"a":[]}}')
    sync.feed(dec.decode(upd, out), out)
    r = sync.result("BTC_USDT")
    assert r["bids"] == [["99", "4"]] and r["asks"] == [["101", "2"]] and r["gaps"] == 0


def test_a_negative_book_size_or_a_spot_book_for_a_futures_symbol_is_refused():
    from nexus.exceptions import DecodeError

    dec = gate.Decoder()
    out = record.empty(16)
    with pytest.raises(DecodeError):
        dec.decode(b'{"channel":"futures.order_book_update","event":"update","result":{"t":1,"s":"BTC_USDT",'
                   b'"U":1,"u":1,"b":[{"p":"1","s":-3}],"a":[]}}', out)
    dec.rest_symbol = "BTC_USDT:USDT"
    with pytest.raises(DecodeError):
        dec.decode(b'{"id":5,"current":1,"update":1,"asks":[["2","1"]],"bids":[]}', out)
