"""MEXC spot v3: protobuf frames (MEXC's published .proto files, compiled in
nexus/venues/mexc/pb), b64: lines, JSON control messages, exchangeInfo instruments, the
fromVersion/toVersion sync. Sources: MEXC Spot v3 API docs, Websocket Market Streams and
Market Data Endpoints (https://mexcdevelop.github.io/apidocs/spot_v3_en/)."""

import base64

import pytest

from nexus import record
from nexus.exceptions import DecodeError
from nexus.venues.base import SegKind
from nexus.venues.mexc import data as mexc
from nexus.venues.mexc.pb.PushDataV3ApiWrapper_pb2 import PushDataV3ApiWrapper

DEPTH = "spot@public.aggre.depth.v3.api.pb@100ms"
# Shape of GET /api/v3/exchangeInfo (MEXC docs, Market Data Endpoints > Exchange Information).
EXCHANGE_INFO = (
    b'{"timezone":"CST","serverTime":1739337600000,"rateLimits":[],"exchangeFilters":[],"symbols":[{'
    b'"symbol":"BTCUSDT","status":"1","baseAsset":"BTC","baseAssetPrecision":6,"quoteAsset":"USDT",'
    b'"quotePrecision":2,"quoteAssetPrecision":2,"baseCommissionPrecision":6,"quoteCommissionPrecision":2,'
    b'"orderTypes":["LIMIT","MARKET","LIMIT_MAKER"],"isSpotTradingAllowed":true,"isMarginTradingAllowed":false,'
    b'"quoteAmountPrecision":"1","baseSizePrecision":"0","permissions":["SPOT"],"filters":[],'
    b'"maxQuoteAmount":"2000000","makerCommission":"0","takerCommission":"0.0005"}]}')


def depth_frame(frm, to, bids=(), asks=()):
    m = PushDataV3ApiWrapper(channel=f"{DEPTH}@BTCUSDT", symbol="BTCUSDT", sendTime=1736411838730)
    for p, q in bids:
        m.publicAggreDepths.bids.add(price=p, quantity=q)
    for p, q in asks:
        m.publicAggreDepths.asks.add(price=p, quantity=q)
    m.publicAggreDepths.eventType = DEPTH
    m.publicAggreDepths.fromVersion = str(frm)
    m.publicAggreDepths.toVersion = str(to)
    return m.SerializeToString()


def test_documented_depth_example_parses_from_the_binary_frame_and_its_b64_line():
    raw = depth_frame(10589632359, 10589632359, bids=[("92877.58", "0.00000000")])
    dec = mexc.Decoder()
    out = record.empty(8)
    for frame in (raw, b"b64:" + base64.b64encode(raw)):
        (seg,) = dec.decode(frame, out)
        assert (seg.kind, seg.symbol, seg.first_seq, seg.seq) == (SegKind.BOOK, "BTCUSDT", 10589632359, 10589632359)
        assert seg.ts_exchange_ns == 1736411838730 * 10**6
        assert out[0]["qty"] == 0 and out[0]["side"] == record.Side.BID


def test_documented_deals_example_is_a_sell():
    m = PushDataV3ApiWrapper(channel="spot@public.aggre.deals.v3.api.pb@100ms@BTCUSDT", symbol="BTCUSDT",
                             sendTime=1736409765052)
    m.publicAggreDeals.deals.add(price="93220.00", quantity="0.04438243", tradeType=2, time=1736409765051)
    out = record.empty(4)
    (seg,) = mexc.Decoder().decode(m.SerializeToString(), out)
    assert seg.kind is SegKind.TRADES and seg.stop == 1
    assert out[0]["side"] == record.Side.ASK and out[0]["ts_exchange_ns"] == 1736409765051 * 10**6


@pytest.mark.parametrize("ack", [b'{"id":0,"code":0,"msg":"PONG"}',
                                 b'{"id":0,"code":0,"msg":"spot@public.aggre.depth.v3.api.pb@100ms@BTCUSDT"}'])
def test_json_acks_are_control(ack):
    assert [s.kind for s in mexc.Decoder().decode(ack, record.empty(2))] == [SegKind.CONTROL]


@pytest.mark.parametrize("bad", [
    b"\x00\x01 not json }{",                                           # not a protobuf message
    b"b64:!!!",                                                        # not base64
    PushDataV3ApiWrapper(channel=f"{DEPTH}@BTCUSDT", symbol="BTCUSDT").SerializeToString(),  # no body
    depth_frame(5, 4),                                                 # versions backwards
])
def test_a_frame_that_is_not_the_protobuf_message_is_malformed(bad):
    with pytest.raises(DecodeError):
        mexc.Decoder().decode(bad, record.empty(4))


def test_truncated_frame_is_rejected():
    raw = depth_frame(10589632359, 10589632359, bids=[("92877.58", "0.00000000")])
    with pytest.raises(DecodeError, match="PushDataV3ApiWrapper"):
        mexc.Decoder().decode(raw[: len(raw) // 2], record.empty(4))


def test_exchange_info_gives_tick_and_step():
    dec = mexc.Decoder()
    assert dec.load_metadata(EXCHANGE_INFO) == 1
    i = dec.instrument("BTCUSDT")
    assert (i.tick_size, i.lot_size, i.base, i.quote) == ("0.01", "0.000001", "BTC", "USDT")
    assert "BTCUSDT" not in dec.generic


def test_versions_sync_against_the_rest_snapshot():
    dec = mexc.Decoder()
    dec.load_metadata(EXCHANGE_INFO)
    sync = mexc.Sync(dec)
    out = record.empty(16)
    # buffered before the snapshot
    sync.feed(dec.decode(depth_frame(101, 101, bids=[("10.00", "1.00000000")]), out), out)
    sync.feed(dec.decode_rest_snapshot(b'{"lastUpdateId":100,"bids":[["9.00","2"]],"asks":[["11.00","1"]],'
                                       b'"timestamp":1}', "BTCUSDT", out), out)
    st = sync.books["BTCUSDT"]
    assert st.synced and st.last_seq == 101
    sync.feed(dec.decode(depth_frame(102, 103, asks=[("11.00", "0")]), out), out)
    assert st.synced and st.last_seq == 103 and st.gaps == 0
    sync.feed(dec.decode(depth_frame(105, 105, asks=[("12.00", "1")]), out), out)  # 104 missing
    assert not st.synced and st.gaps == 1
