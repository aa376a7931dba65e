"""OKX swap: the checksum over more than 25 levels, updates verified by checksums computed
here with zlib from hand-built check strings, instrument metadata with contract values."""

import json
import zlib

from nexus import record
from nexus.venues.okx import data as okx_swap
from nexus.venues.base import BID


def signed(c: int) -> int:
    return c - (1 << 32) if c >= 1 << 31 else c


def books(action, bids, asks, seq, prev, checksum):
    return json.dumps({"arg": {"channel": "books", "instId": "BTC-USDT-SWAP"}, "action": action, "data": [
        {"asks": [[p, s, "0", "1"] for p, s in asks], "bids": [[p, s, "0", "1"] for p, s in bids],
         "ts": "1700000000000", "checksum": checksum, "prevSeqId": prev, "seqId": seq}]}).encode()


def test_checksum_uses_the_top_25_levels_interleaved():
    bids = [(f"{40000 - i}", f"{i + 1}") for i in range(30)]
    asks = [(f"{40001 + i}.5", "0.01") for i in range(27)]
    check = ":".join(f"{b[0]}:{b[1]}:{a[0]}:{a[1]}" for b, a in zip(bids[:25], asks[:25]))
    expected = signed(zlib.crc32(check.encode()))
    dec = okx_swap.Decoder()
    sync = okx_swap.Sync(dec)
    out = record.empty(128)
    sync.feed(dec.decode(books("snapshot", bids, asks, 10, -1, expected), out), out)
    st = sync.books["BTC-USDT-SWAP"]
    assert st.synced and st.checksum_failures == 0
    assert sync.result("BTC-USDT-SWAP")["checksum"] == expected
    # an update: drop the best bid, add an ask; checksum of the new top 25 built by hand
    bids2, asks2 = bids[1:], [("40000.5", "3")] + asks
    check2 = ":".join(f"{b[0]}:{b[1]}:{a[0]}:{a[1]}" for b, a in zip(bids2[:25], asks2[:25]))
    sync.feed(dec.decode(books("update", [("40000", "0")], [("40000.5", "3")], 11, 10,
                                signed(zlib.crc32(check2.encode()))), out), out)
    r = sync.result("BTC-USDT-SWAP", depth=2)
    assert st.synced and r["checksum_ok"] is True and r["bids"] == [["39999", "2"], ["39998", "3"]]
    assert r["asks"] == [["40000.5", "3"], ["40001.5", "0.01"]]


def test_checksum_zero_means_not_sent():
    dec = okx_swap.Decoder()
    sync = okx_swap.Sync(dec)
    out = record.empty(16)
    sync.feed(dec.decode(books("snapshot", [("1", "1")], [("2", "1")], 1, -1, 0), out), out)
    r = sync.result("BTC-USDT-SWAP")
    assert r["checksum_ok"] is None and r["checksum_failures"] == 0 and r["checksum"] is not None


def test_instruments_give_contract_value_and_kind():
    # Shape of GET /api/v5/public/instruments?instType=SWAP (OKX v5 docs, Public Data > Get instruments)
    body = (b'{"code":"0","msg":"","data":[{"instType":"SWAP","instId":"LTC-USD-SWAP","uly":"LTC-USD",'
            b'"instFamily":"LTC-USD","settleCcy":"LTC","ctVal":"10","ctMult":"1","ctValCcy":"USD","ctType":"inverse",'
            b'"tickSz":"0.01","lotSz":"1","minSz":"1","state":"live"},{"instType":"SWAP","instId":"DOGE-USDT-SWAP",'
            b'"settleCcy":"USDT","ctVal":"1000","ctValCcy":"DOGE","ctType":"linear","tickSz":"0.00001","lotSz":"0.01",'
            b'"state":"live"}]}')
    dec = okx_swap.Decoder()
    assert dec.load_metadata(body) == 2
    ltc, doge = dec.instrument("LTC-USD-SWAP"), dec.instrument("DOGE-USDT-SWAP")
    assert (ltc.contract_value, ltc.contract_kind, ltc.tick_size) == ("10", "inverse", "0.01")
    assert (doge.contract_value, doge.contract_kind, doge.base) == ("1000", "linear", "DOGE")
    # 3 contracts of 1000 DOGE
    assert doge.base_qty(doge.qty_to_int("3")) == 3000


def test_plain_text_pong_is_a_heartbeat():
    segs = okx_swap.Decoder().decode(b"pong", record.empty(4))
    assert segs[0].stop == 0 and segs[0].kind == 0


def test_books5_pushes_are_whole_snapshots():
    dec = okx_swap.Decoder()
    sync = okx_swap.Sync(dec)
    out = record.empty(16)
    # the documented books5 push (OKX v5 docs, Order book channel, "Push Data Example of books5")
    raw = (b'{"arg":{"channel":"books5","instId":"BCH-USDT-SWAP"},"data":[{"asks":[["111.06","55154","0","2"],'
           b'["111.07","53276","0","2"]],"bids":[["111.05","57745","0","2"]],"instId":"BCH-USDT-SWAP",'
           b'"ts":"1670324386802","seqId":363996337}]}')
    sync.feed(dec.decode(raw, out), out)
    st = sync.books["BCH-USDT-SWAP"]
    assert st.synced and st.book.depth(BID) == 1
    assert sync.result("BCH-USDT-SWAP")["asks"] == [["111.06", "55154"], ["111.07", "53276"]]


# The native fast path for books and trades pushes (native/src/core/okx.rs) only declines, never
# decides: on any push, well-formed or damaged, it gives the general path's records and segments,
# or the general path's error. The messages are written compactly, as OKX sends them.
import pytest  # noqa: E402
from hypothesis import given, settings, strategies as st  # noqa: E402

from tests.venues.fastpath import assert_fast_path_decides_as_the_general_path, maybe_damaged  # noqa: E402

_NUM = st.one_of(st.sampled_from(['"64997"', '"0"', '"4.82"', '"-1"', '"1e-5"', '"0.001"', "5", "null", '"x"', '""']),
                 st.decimals(min_value=0, max_value=10**5, places=2, allow_nan=False).map(lambda d: f'"{d}"'))
_INST = st.sampled_from(['"BTC-USDT-SWAP"', '"ETH-USDT-SWAP"', '""', "null", '"BTC\\u002dUSDT-SWAP"'])
_INT = st.sampled_from(["1", "-1", "-2", "0", "12000000108", "null", '"5"', "1.0", "9223372036854775808", "2147483648"])
_TID = st.sampled_from(['"900000052"', '"1"', '"a1"', "7", '"1234567890123456789"'])
_SIDE = st.sampled_from(['"buy"', '"sell"', '"Buy"'])
_TS = st.sampled_from(['"1767225601100"', '"0"', '""', "1767225601100", '"9999999999999999"', '"17x"', "null"])
_ANY = {"px": _NUM, "sz": _NUM, "inst": _INST, "int": _INT, "ts": _TS, "tid": _TID, "side": _SIDE,
        "action": st.sampled_from(['"action":"update",', '"action":"snapshot",', "", '"action":null,',
                                   '"action":"x",']),
        "extra": st.sampled_from([[], ['"0"', '"2"'], ['"0"']]), "entries": st.sampled_from([1, 0, 2]),
        "top": st.sampled_from(["", '"event":"error",', '"action":"snapshot",'])}
# the values OKX sends (tick 0.1, lot 0.01): the fast path's own work
_GOOD = {**_ANY, "px": st.decimals(min_value="0.1", max_value=10**5, places=1).map(lambda d: f'"{d}"'),
         "sz": st.decimals(min_value=0, max_value=10**3, places=2).map(lambda d: f'"{d}"'),
         "inst": st.just('"BTC-USDT-SWAP"'), "int": st.sampled_from(["1", "-1", "0", "12000000108"]),
         "ts": st.just('"1767225601100"'), "tid": st.sampled_from(['"900000052"', '"1"']),
         "side": st.sampled_from(['"buy"', '"sell"']),
         "action": st.sampled_from(['"action":"update",', '"action":"snapshot",', ""]),
         "extra": st.just(['"0"', '"2"']), "entries": st.just(1), "top": st.just("")}


@st.composite
def _pushes(draw):
    v = _GOOD if draw(st.integers(0, 2)) else _ANY
    inst = draw(v["inst"])
    if draw(st.booleans()):
        lv = lambda: "[" + ",".join(  # noqa: E731
            "[" + ",".join([draw(v["px"]), draw(v["sz"])] + draw(v["extra"])) + "]"
            for _ in range(draw(st.integers(0, 3)))) + "]"
        entry = (f'{{"asks":{lv()},"bids":{lv()},"ts":{draw(v["ts"])},"checksum":{draw(v["int"])},'
                 f'"prevSeqId":{draw(v["int"])},"seqId":{draw(v["int"])}}}')
        entries = [entry] * draw(v["entries"])
        msg = f'{{"arg":{{"channel":"books","instId":{inst}}},{draw(v["action"])}"data":[{",".join(entries)}]}}'
    else:
        trades = [f'{{"instId":{draw(v["inst"]) if draw(st.booleans()) else inst},"tradeId":{draw(v["tid"])},'
                  f'"px":{draw(v["px"])},"sz":{draw(v["sz"])},"side":{draw(v["side"])},'
                  f'"ts":{draw(v["ts"])},"count":"1"}}' for _ in range(draw(st.integers(0, 3)))]
        msg = f'{{"arg":{{"channel":"trades","instId":{inst}}},{draw(v["top"])}"data":[{",".join(trades)}]}}'
    return maybe_damaged(draw, msg.encode())


def _listed():
    dec = okx_swap.Decoder()
    dec.load_metadata(b'{"code":"0","msg":"","data":[{"instType":"SWAP","instId":"BTC-USDT-SWAP","settleCcy":"USDT",'
                      b'"ctVal":"0.01","ctValCcy":"BTC","ctType":"linear","tickSz":"0.1","lotSz":"0.01"}]}')
    return dec


@pytest.mark.skipif(okx_swap.okx_message is None, reason="nexus._native built without okx_message")
@given(st.lists(_pushes(), min_size=1, max_size=4), st.sampled_from([2, 64]))
@settings(max_examples=400, deadline=None)
def test_the_native_path_gives_the_general_paths_records(msgs, size):
    assert_fast_path_decides_as_the_general_path(_listed, msgs, size)


@pytest.mark.skipif(okx_swap.okx_message is None, reason="nexus._native built without okx_message")
def test_the_native_path_takes_okx_pushes():
    raw = (b'{"arg":{"channel":"trades","instId":"BTC-USDT-SWAP"},"data":[{"instId":"BTC-USDT-SWAP",'
           b'"tradeId":"900000052","px":"64998.9","sz":"2.59","side":"sell","ts":"1767225601130","count":"1"}]}')
    dec = _listed()
    assert okx_swap.okx_message(raw, record.empty(2), dec._ent("BTC-USDT-SWAP").native, 0)[0] == "trades"
    segs = dec.decode(raw, out := record.empty(2))
    assert [(s.kind, s.stop, s.trade_ids) for s in segs] == [(2, 1, ["900000052"])]
    assert out[0]["price"] == 649989 and out[0]["trade_id"] == 900000052 and out[0]["flags"] & record.Flag.LAST
