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


# The native fast path for orderbook and publicTrade pushes (native/src/core/bybit.rs) only
# declines, never decides: on any push, well-formed or damaged, it gives the general path's
# records and segments, or the general path's error. Compact, as Bybit sends them.
import pytest  # noqa: E402
from hypothesis import given, settings, strategies as st  # noqa: E402

from tests.venues.fastpath import assert_fast_path_decides_as_the_general_path, maybe_damaged  # noqa: E402

_ANY = {"px": st.one_of(st.sampled_from(['"65002.80"', '"0"', '"-1"', '"1e-5"', '"0.001"', "5", "null", '""']),
                        st.decimals(min_value=0, max_value=10**5, places=3).map(lambda d: f'"{d}"')),
        "sym": st.sampled_from(['"BTCUSDT"', '"ETHUSDT"', '""', "null", '"BTC\\u0055SDT"']),
        "u": st.sampled_from(["1", "0", "-1", "1000011", "null", '"5"', "1.0", "9223372036854775808"]),
        "ts": st.sampled_from(["1767225601100", '"1767225601100"', "-1", "null", "99999999999999999"]),
        "type": st.sampled_from(['"delta"', '"snapshot"', '"x"', "null"]),
        "cts": st.sampled_from(["", ',"cts":1767225601099', ',"cts":null', ',"cts":"1"']),
        "tid": st.sampled_from(['"450dd3e8-2ad1-42ec-2b96-993c86181c55"', '"123"', "7", '"1234567890123456789"',
                                '"\\u0661\\u0662"', '"\u0661\u0662"', '"\u00e9-1"', '""', '"x"', '"' + "a" * 200 + '"']),
        "side": st.sampled_from(['"Buy"', '"Sell"', '"buy"']),
        "extra": st.sampled_from([[], ['"1"'], ['"1"', '"2"']]), "data": st.sampled_from(["book", "trades"])}
# the values Bybit sends for BTCUSDT (tick 0.10, step 0.001): the fast path's own work
_GOOD = {**_ANY, "px": st.decimals(min_value="0.1", max_value=10**5, places=1).map(lambda d: f'"{d:.2f}"'),
         "sz": st.decimals(min_value=0, max_value=10**3, places=3).map(lambda d: f'"{d}"'),
         "sym": st.just('"BTCUSDT"'), "u": st.sampled_from(["1", "1000011"]), "ts": st.just("1767225601100"),
         "type": st.sampled_from(['"delta"', '"snapshot"']), "cts": st.sampled_from(["", ',"cts":1767225601099']),
         "tid": st.sampled_from(['"450dd3e8-2ad1-42ec-2b96-993c86181c55"', '"123"']),
         "side": st.sampled_from(['"Buy"', '"Sell"']), "extra": st.just([])}


@st.composite
def _pushes(draw):
    v = _GOOD if draw(st.integers(0, 2)) else _ANY
    sz = v.get("sz", v["px"])
    sym = draw(v["sym"])
    if draw(st.booleans()):
        lv = lambda: "[" + ",".join(  # noqa: E731
            "[" + ",".join([draw(v["px"]), draw(sz)] + draw(v["extra"])) + "]"
            for _ in range(draw(st.integers(0, 3)))) + "]"
        msg = (f'{{"topic":"orderbook.200.BTCUSDT","type":{draw(v["type"])},"ts":{draw(v["ts"])},'
               f'"data":{{"s":{sym},"b":{lv()},"a":{lv()},"u":{draw(v["u"])},"seq":6000000}}{draw(v["cts"])}}}')
    else:
        trades = [f'{{"T":{draw(v["ts"])},"s":{draw(v["sym"]) if draw(st.booleans()) else sym},"S":{draw(v["side"])},'
                  f'"v":{draw(sz)},"p":{draw(v["px"])},"L":"MinusTick","i":{draw(v["tid"])},"BT":false}}'
                  for _ in range(draw(st.integers(0, 3)))]
        msg = f'{{"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":1767225601120,"data":[{",".join(trades)}]}}'
    return maybe_damaged(draw, msg.encode())


def _listed():
    dec = bybit_perp.Decoder()
    dec.load_metadata(LISTING.read_bytes())
    return dec


@pytest.mark.skipif(bybit_perp.bybit_message is None, reason="nexus._native built without bybit_message")
@given(st.lists(_pushes(), min_size=1, max_size=4), st.sampled_from([2, 64]))
@settings(max_examples=400, deadline=None)
def test_the_native_path_gives_the_general_paths_records(msgs, size):
    assert_fast_path_decides_as_the_general_path(_listed, msgs, size)


@pytest.mark.skipif(bybit_perp.bybit_message is None, reason="nexus._native built without bybit_message")
def test_the_native_path_takes_bybit_pushes():
    raw = (b'{"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":1767225601120,"data":[{"T":1767225601120,'
           b'"s":"BTCUSDT","S":"Sell","v":"0.015","p":"65002.40","L":"MinusTick",'
           b'"i":"450dd3e8-2ad1-42ec-2b96-993c86181c55","BT":false,"seq":60000000296}]}')
    assert bybit_perp.bybit_message(raw, record.empty(2), _listed()._ent("BTCUSDT").native, 0)[0] == "trades"
    segs = _listed().decode(raw, out := record.empty(2))
    assert [(s.kind, s.stop, s.trade_ids) for s in segs] == [(SegKind.TRADES, 1, ["450dd3e8-2ad1-42ec-2b96-993c86181c55"])]
    assert out[0]["trade_id"] == trade_id_int("450dd3e8-2ad1-42ec-2b96-993c86181c55") and out[0]["price"] == 6500240
