"""Binance spot and USD-M futures: metadata, stream wrappers, REST bodies, buffering."""

import pytest

from nexus import record
from nexus.exceptions import DecodeError
from nexus.venues.binance import perp as binance_perp
from nexus.venues.binance import spot as binance_spot
from nexus.venues.base import BUFFERED_MESSAGES_MAX, SegKind

EXCHANGE_INFO_SPOT = (
    # Shape of GET /api/v3/exchangeInfo (Binance Spot API docs, General endpoints > Exchange information)
    b'{"timezone":"UTC","serverTime":1565246363776,"rateLimits":[],"exchangeFilters":[],"symbols":[{"symbol":"ETHBTC",'
    b'"status":"TRADING","baseAsset":"ETH","baseAssetPrecision":8,"quoteAsset":"BTC","quotePrecision":8,'
    b'"quoteAssetPrecision":8,"filters":[{"filterType":"PRICE_FILTER","minPrice":"0.00000100",'
    b'"maxPrice":"100000.00000000","tickSize":"0.00000100"},{"filterType":"LOT_SIZE","minQty":"0.00100000",'
    b'"maxQty":"100000.00000000","stepSize":"0.00100000"}]}]}')
EXCHANGE_INFO_FUTURES = (
    # Shape of GET /fapi/v1/exchangeInfo (USD-M Futures docs, Market Data > Exchange Information)
    b'{"timezone":"UTC","serverTime":1565246363776,"symbols":[{"symbol":"BLZUSDT","pair":"BLZUSDT",'
    b'"contractType":"PERPETUAL","baseAsset":"BLZ","quoteAsset":"USDT","pricePrecision":5,"quantityPrecision":0,'
    b'"filters":[{"filterType":"PRICE_FILTER","maxPrice":"300","minPrice":"0.0001","tickSize":"0.0001"},'
    b'{"filterType":"LOT_SIZE","maxQty":"10000000","minQty":"1","stepSize":"1"}]}]}')


def test_exchange_info_sets_tick_and_lot():
    dec = binance_spot.Decoder()
    assert dec.load_metadata(EXCHANGE_INFO_SPOT) == 1
    i = dec.instrument("ETHBTC")
    assert (i.tick_size, i.lot_size, i.base, i.quote) == ("0.000001", "0.001", "ETH", "BTC")
    assert i.price_exponent == 8 and "ETHBTC" not in dec.generic
    fut = binance_perp.Decoder()
    assert fut.load_metadata(EXCHANGE_INFO_FUTURES) == 1
    b = fut.instrument("BLZUSDT")
    assert (b.tick_size, b.lot_size, b.contract_kind) == ("0.0001", "1", "linear")


def test_exchange_info_in_the_stream_is_metadata_not_output():
    dec = binance_spot.Decoder()
    segs = dec.decode(EXCHANGE_INFO_SPOT, record.empty(4))
    assert [s.kind for s in segs] == [SegKind.CONTROL] and "ETHBTC" in {i.symbol for i in dec.registry}


def test_rest_snapshot_needs_a_symbol():
    with pytest.raises(DecodeError, match="--symbol"):
        binance_spot.Decoder().decode(b'{"lastUpdateId":1,"bids":[],"asks":[]}', record.empty(4))


def test_partial_depth_on_a_combined_stream_takes_the_symbol_from_the_stream():
    dec = binance_spot.Decoder()
    out = record.empty(8)
    segs = dec.decode(b'{"stream":"ethusdt@depth5@100ms","data":{"lastUpdateId":160,'
                      b'"bids":[["0.0024","10"]],"asks":[["0.0026","100"]]}}', out)
    assert segs[0].symbol == "ETHUSDT" and segs[0].snapshot and not segs[0].rest and segs[0].seq == 160


def test_buffer_before_the_snapshot_is_bounded():
    dec = binance_spot.Decoder()
    sync = binance_spot.Sync(dec)
    out = record.empty(8)
    for k in range(1, BUFFERED_MESSAGES_MAX + 6):
        raw = b'{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":%d,"u":%d,"b":[["1.00","1"]],"a":[]}' % (k, k)
        sync.feed(dec.decode(raw, out), out)
    st = sync.books["BTCUSDT"]
    assert len(st.buffer) == BUFFERED_MESSAGES_MAX and st.dropped == 5 and st.buffer[0][0] == 6


def test_futures_depth_without_pu_is_rejected_but_spot_accepts_it():
    raw = b'{"e":"depthUpdate","E":1,"T":1,"s":"BTCUSDT","U":1,"u":2,"b":[],"a":[]}'
    with pytest.raises(DecodeError, match="pu"):
        binance_perp.Decoder().decode(raw, record.empty(4))
    assert binance_spot.Decoder().decode(raw, record.empty(4))[0].seq == 2


def test_first_update_id_after_final_is_rejected():
    raw = b'{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":9,"u":2,"b":[],"a":[]}'
    with pytest.raises(DecodeError, match="U=9"):
        binance_spot.Decoder().decode(raw, record.empty(4))


def test_trade_taker_side_follows_m():
    dec = binance_spot.Decoder()
    out = record.empty(4)
    seg = dec.decode(b'{"e":"aggTrade","E":1,"s":"BTCUSDT","a":7,"p":"42000.10","q":"0.5","f":1,"l":1,"T":2,'
                     b'"m":false,"M":true}', out)[0]
    assert seg.kind is SegKind.TRADES and out[0]["side"] == record.Side.BID and out[0]["trade_id"] == 7
    assert out[0]["kind"] == record.Kind.TRADE and out[0]["flags"] == record.Flag.LAST
    with pytest.raises(DecodeError, match="boolean"):
        dec.decode(b'{"e":"aggTrade","E":1,"s":"BTCUSDT","a":7,"p":"1","q":"1","T":2,"m":"true"}', out)


def test_rest_snapshot_helper_and_stats():
    dec = binance_spot.Decoder()
    sync = binance_spot.Sync(dec)
    out = record.empty(8)
    sync.feed(dec.decode_rest_snapshot(b'{"lastUpdateId":3,"bids":[["1.00","1"]],"asks":[]}', "ETHUSDT", out), out)
    assert dec.rest_symbol is None and sync.books["ETHUSDT"].synced
    sync.feed(dec.decode(b'{"e":"depthUpdate","E":1,"s":"ETHUSDT","U":9,"u":9,"b":[],"a":[]}', out), out)
    s = sync.stats()
    assert (s["books"], s["synced"], s["gaps"], s["resyncs"]) == (1, 0, 1, 1)
