"""Aster futures: Binance USD-M compatible (Aster Finance Futures API docs,
github.com/asterdex/api-docs): its documented examples through the reused decoder/sync, its
own hosts and exchangeInfo."""

from nexus import record
from nexus.venues import registry
from nexus.venues.aster import data as aster
from nexus.venues.base import SegKind

# Shape of GET /fapi/v1/exchangeInfo (Aster docs, Exchange Information).
EXCHANGE_INFO = (
    b'{"timezone":"UTC","serverTime":1565246363776,"futuresType":"U_MARGINED","rateLimits":[],"exchangeFilters":[],'
    b'"symbols":[{"symbol":"BTCUSDT","pair":"BTCUSDT","contractType":"PERPETUAL","status":"TRADING",'
    b'"baseAsset":"BTC","quoteAsset":"USDT","marginAsset":"USDT","pricePrecision":1,"quantityPrecision":3,'
    b'"filters":[{"filterType":"PRICE_FILTER","minPrice":"1","maxPrice":"1000000","tickSize":"0.1"},'
    b'{"filterType":"LOT_SIZE","minQty":"0.001","maxQty":"100","stepSize":"0.001"}]}]}')
DOC_DEPTH = (b'{"e":"depthUpdate","E":123456789,"T":123456788,"s":"BTCUSDT","U":157,"u":160,"pu":149,'
             b'"b":[["0.0024","10"]],"a":[["0.0026","100"]]}')
DOC_AGG = (b'{"e":"aggTrade","E":123456789,"s":"BTCUSDT","a":5933014,"p":"0.001","q":"100","f":100,"l":105,'
           b'"T":123456785,"m":true}')


def test_documented_depth_and_aggtrade_examples():
    dec = aster.Decoder()
    out = record.empty(8)
    (seg,) = dec.decode(DOC_DEPTH, out)
    assert (seg.first_seq, seg.seq, seg.prev_seq) == (157, 160, 149)
    assert out[0]["venue_id"] == 16
    (t,) = dec.decode(DOC_AGG, out)
    assert t.kind is SegKind.TRADES and t.trade_ids == ["5933014"] and out[0]["side"] == record.Side.ASK


def test_exchange_info_and_no_builtin_instruments():
    dec = aster.Decoder()
    assert dec.DEFAULTS == ()
    assert dec.load_metadata(EXCHANGE_INFO) == 1
    i = dec.instrument("BTCUSDT")
    assert (i.tick_size, i.lot_size, i.contract_kind) == ("0.1", "0.001", "linear")


def test_feed_spec_uses_aster_hosts_and_is_not_simulated_by_default():
    v = registry.venue("aster")
    spec = v.feed_spec()
    assert spec.ws_url.startswith("wss://fstream.asterdex.com") and spec.rest_url == "https://fapi.asterdex.com"
    assert spec.snapshot_path("BTCUSDT") == "/fapi/v1/depth?symbol=BTCUSDT&limit=1000"
    assert spec.instruments_path("BTCUSDT") == "/fapi/v1/exchangeInfo"
    assert v.sim_default is False
