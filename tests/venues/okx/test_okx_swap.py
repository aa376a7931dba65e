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
