"""Bybit v5 linear: instruments-info metadata and trade decoding."""

from pathlib import Path

from nexus import record
from nexus.venues.bybit import data as bybit_perp
from nexus.venues.base import SegKind, trade_id_int


def test_instruments_info_sets_price_scale_tick_and_step():
    # Shape of GET /v5/market/instruments-info?category=linear (Bybit V5 docs, Market > Get Instruments Info)
    body = (b'{"retCode":0,"retMsg":"OK","result":{"category":"linear","list":[{"symbol":"1000PEPEUSDT",'
            b'"contractType":"LinearPerpetual","status":"Trading","baseCoin":"1000PEPE","quoteCoin":"USDT",'
            b'"priceScale":"7","priceFilter":{"minPrice":"0.0000001","maxPrice":"1.9999998","tickSize":"0.0000001"},'
            b'"lotSizeFilter":{"maxOrderQty":"80000000","minOrderQty":"100","qtyStep":"100"}}],"nextPageCursor":""},'
            b'"retExtInfo":{},"time":1707186451514}')
    dec = bybit_perp.Decoder()
    assert dec.load_metadata(body) == 1
    i = dec.instrument("1000PEPEUSDT")
    assert (i.price_exponent, i.qty_exponent, i.lot_size, i.contract_kind) == (7, 0, "100", "linear")
    assert dec.decode(body, record.empty(4))[0].kind is SegKind.CONTROL


# The listing's BTCUSDT (tests/fixtures/venues/bybit-perp/instruments.json, from the V5 docs).
LISTING = Path(__file__).resolve().parents[2] / "fixtures" / "venues" / "bybit-perp" / "instruments.json"


def test_several_trades_in_one_message():
    dec = bybit_perp.Decoder()
    assert dec.load_metadata(LISTING.read_bytes()) == 1
    out = record.empty(8)
    raw = (b'{"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":1672304486868,"data":['
           b'{"T":1672304486865,"s":"BTCUSDT","S":"Buy","v":"0.001","p":"16578.50","L":"PlusTick","i":"a-1","BT":false},'
           b'{"T":1672304486866,"s":"BTCUSDT","S":"Sell","v":"0.002","p":"16578.40","L":"MinusTick","i":"a-2","BT":false}]}')
    segs = dec.decode(raw, out)
    assert len(segs) == 1 and (segs[0].start, segs[0].stop) == (0, 2) and segs[0].trade_ids == ["a-1", "a-2"]
    assert out[0]["side"] == record.Side.BID and out[1]["side"] == record.Side.ASK
    assert out[1]["trade_id"] == trade_id_int("a-2") and out[1]["flags"] == record.Flag.LAST
    assert out[0]["price"] == 1657850 and out[1]["qty"] == 2
