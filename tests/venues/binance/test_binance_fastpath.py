"""The native depthUpdate fast path must decide exactly as the general decoder: same records,
same segments, same rejections (it may only decline, never decide differently)."""
import json

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from nexus import record
from nexus.exceptions import BatchFull, DecodeError
from nexus.venues.base import Decoder
from nexus.venues.binance.perp import Decoder as PerpDecoder
from nexus.venues.binance.spot import Decoder as SpotDecoder

price = st.one_of(st.decimals(min_value="0.01", max_value="200000", places=2).map(str),
                  st.sampled_from(["0", "-1", "1e3", "0.000000001", "abc", "", "1.5.5"]))
qty = st.one_of(st.decimals(min_value="0", max_value="1000", places=5).map(str), st.sampled_from(["-0.1", "x"]))
level = st.one_of(st.tuples(price, qty).map(list), st.just(["1.00", "1", "extra"]), st.just("notalist"))


def message(u0, n, bids, asks, pu, sym, use_t, form=0):
    """form 0: Binance's compact form (the native one-pass reader, core/scan.rs); 1: a space
    after the `"b":` key (the native path's serde_json reader); 2: json.dumps's spaced form
    (the general path: the decoder's prefix test does not offer it to the native path)."""
    m = {"e": "depthUpdate", "E": 1700000000123, "s": sym, "U": u0, "u": u0 + n, "b": bids, "a": asks}
    if use_t:
        m["T"] = 1700000000120
    if pu is not None:
        m["pu"] = pu
    raw = json.dumps(m, separators=None if form == 2 else (",", ":")).encode()
    return raw.replace(b'"b":', b'"b": ', 1) if form == 1 else raw


@settings(max_examples=400, deadline=None)
@given(st.sampled_from([SpotDecoder, PerpDecoder]), st.integers(0, 2**64), st.integers(-3, 50),
       st.lists(level, max_size=12), st.lists(level, max_size=12), st.one_of(st.none(), st.integers(-3, 10**12)),
       st.sampled_from(["BTCUSDT", "ETHUSDT", "NEWCOIN"]), st.booleans(), st.sampled_from([0, 0, 1, 2]))
def test_fast_path_equals_general_path(cls, u0, n, bids, asks, pu, sym, use_t, form):
    raw = message(u0, n, bids, asks, pu, sym, use_t, form)
    fast, slow = cls(), cls()
    a, b = record.empty(64), record.empty(64)

    def run(fn):
        try:
            return fn(), None
        except DecodeError as e:
            return None, str(e)

    ra, ea = run(lambda: fast.decode(raw, a, 42))
    rb, eb = run(lambda: Decoder.decode(slow, raw, b, 42))
    assert (ea is None) == (eb is None), (ea, eb)
    if ea is None:
        assert [(s.kind, s.start, s.stop, s.seq, s.first_seq, s.prev_seq, s.ts_exchange_ns, s.snapshot)
                for s in ra] == [(s.kind, s.start, s.stop, s.seq, s.first_seq, s.prev_seq, s.ts_exchange_ns,
                                  s.snapshot) for s in rb]
        n_rec = ra[-1].stop if ra else 0
        assert a[:n_rec].tobytes() == b[:n_rec].tobytes()


def test_fast_path_is_taken_for_the_documented_message():
    import nexus.venues.binance.data as mod

    calls = []
    real = mod.binance_depth
    mod.binance_depth = lambda *a: calls.append(1) or real(*a)
    try:
        d = SpotDecoder()
        raw = b'{"e":"depthUpdate","E":1672515782136,"s":"BTCUSDT","U":157,"u":160,"b":[["65000.01","1.5"]],"a":[["65000.02","0"]]}'
        segs = d.decode(raw, record.empty(8))
    finally:
        mod.binance_depth = real
    assert calls and segs[0].seq == 160 and segs[0].stop == 2


# The aggTrade / trade fast path (native/src/core/binance.rs decode_trade) decides exactly as the
# general decoder too: same record, same segment, or the same error.
trade_px = st.one_of(st.decimals(min_value="0.01", max_value="200000", places=2).map(str),
                     st.sampled_from(["0", "-1", "1e3", "0.000000001", "abc", ""]), st.just(5), st.none())
trade_id = st.one_of(st.integers(0, 2**63 - 1), st.sampled_from([-1, 2**63, 2**64 - 1, "17", "x", None, 1.5]))
trade_ts = st.one_of(st.just(1700000000120), st.sampled_from([-1, "1700000000120", 2**63, None, True]))


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([SpotDecoder, PerpDecoder]), st.sampled_from(["aggTrade", "trade", "other"]), trade_px,
       st.one_of(qty, st.just("0")), trade_id, trade_ts, st.sampled_from([True, False, 1, None]),
       st.sampled_from(["BTCUSDT", "ETHUSDT", "NEWCOIN"]), st.booleans(), st.booleans(), st.sampled_from([1, 8]),
       st.integers(0, 2), st.decimals(min_value="0.01", max_value="200000", places=2).map(str), st.integers(0, 2**63 - 1))
def test_trade_fast_path_equals_general_path(cls, ev, px, q, tid, ts, m, sym, compact, wrapped, size, good, gpx, gtid):
    if good:  # mostly the events Binance sends: the fast path's own work
        ev, px, q, tid, ts, m, compact, wrapped = ev if ev != "other" else "aggTrade", gpx, "1.5", gtid, 1700000000120, \
            good == 1, True, False
    d = {"e": ev, "E": 1700000000123, "s": sym, "a" if ev == "aggTrade" else "t": tid, "p": px, "q": q,
         "f": 1, "l": 2, "T": ts, "m": m, "M": True}
    if wrapped:
        d = {"stream": sym.lower() + "@aggTrade", "data": d}
    raw = json.dumps(d, separators=(",", ":") if compact else None).encode()
    if compact and good == 2:  # the compact head with one space later: the native serde_json reader
        raw = raw.replace(b'"q":', b'"q": ', 1)
    fast, slow = cls(), cls()
    a, b = record.empty(size), record.empty(size)

    def run(fn, out):
        try:
            segs = fn()
        except DecodeError as e:
            return "error", str(e)
        return ([(s.kind, s.symbol, s.start, s.stop, s.seq, s.ts_exchange_ns, s.trade_ids) for s in segs],
                out.tobytes())

    assert run(lambda: fast.decode(raw, a, 42), a) == run(lambda: Decoder.decode(slow, raw, b, 42), b)


@pytest.mark.skipif(__import__("nexus.venues.binance.data").venues.binance.data.binance_trade is None,
                    reason="nexus._native built without binance_trade")
def test_trade_fast_path_is_taken_for_the_documented_message():
    import nexus.venues.binance.data as mod

    calls = []
    real = mod.binance_trade
    mod.binance_trade = lambda *a: calls.append(1) or real(*a)
    try:
        # the aggTrade payload of Binance's spot "WebSocket Streams" documentation, symbol BTCUSDT
        raw = (b'{"e":"aggTrade","E":1672515782136,"s":"BTCUSDT","a":12345,"p":"0.001","q":"100","f":100,'
               b'"l":105,"T":1672515782136,"m":true,"M":true}')
        out = record.empty(2)
        segs = SpotDecoder().decode(raw, out)
    finally:
        mod.binance_trade = real
    assert calls and segs[0].trade_ids == ["12345"] and out[0]["side"] == 2 and out[0]["flags"] & record.Flag.LAST


# The REST depth snapshot fast path (native/src/core/binance.rs decode_snapshot) decides exactly
# as the general decoder: same records (BOOK_CLEAR + levels), same segment, or the same error.
snap_ts = st.one_of(st.none(), st.just(1589436922959), st.sampled_from([-1, "1", None, 2**63, 0]))


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([SpotDecoder, PerpDecoder]), st.one_of(st.integers(0, 2**63 - 1), st.sampled_from([-1, 2**63, "5"])),
       st.lists(level, max_size=8), st.lists(level, max_size=8), snap_ts, snap_ts, st.sampled_from([None, "e", "x"]),
       st.sampled_from(["BTCUSDT", "NEWCOIN", None]), st.booleans(), st.sampled_from([2, 64]), st.booleans(),
       st.lists(st.tuples(st.decimals(min_value="0.01", max_value="200000", places=2).map(str),
                          st.decimals(min_value="0", max_value="1000", places=5).map(str)).map(list), max_size=8))
def test_snapshot_fast_path_equals_general_path(cls, last, bids, asks, e_ms, t_ms, extra, sym, compact, size, good,
                                                good_levels):
    if good:  # mostly the bodies Binance sends: the fast path's own work
        last, bids, asks, extra, sym = abs(last) if type(last) is int else 7, good_levels, good_levels[::-1], None, "BTCUSDT"
    d = {"lastUpdateId": last}
    for k, v in (("E", e_ms), ("T", t_ms)):
        if v is not None:
            d[k] = v
    if extra:
        d[extra] = 1
    d["bids"], d["asks"] = bids, asks
    raw = json.dumps(d, separators=(",", ":") if compact else None).encode()
    fast, slow = cls(), cls()
    fast.rest_symbol = slow.rest_symbol = sym
    a, b = record.empty(size), record.empty(size)

    def run(fn, out):
        try:
            segs = fn()
        except (DecodeError, BatchFull) as e:
            return "error", type(e).__name__, str(e)
        return ([(s.kind, s.symbol, s.start, s.stop, s.seq, s.ts_exchange_ns, s.snapshot, s.rest) for s in segs],
                out.tobytes())

    assert run(lambda: fast.decode(raw, a, 42), a) == run(lambda: Decoder.decode(slow, raw, b, 42), b)


def test_snapshot_fast_path_is_taken_for_a_rest_body():
    import nexus.venues.binance.data as mod

    calls = []
    real = mod.binance_snapshot
    mod.binance_snapshot = lambda *a: calls.append(1) or real(*a)
    try:
        d = SpotDecoder()
        segs = d.decode_rest_snapshot(b'{"lastUpdateId":1027024,"bids":[["4.00000000","431.00000000"]],'
                                      b'"asks":[["4.00000200","12.00000000"]]}', "BNBBTC", out := record.empty(8))
    finally:
        mod.binance_snapshot = real
    assert calls and [(s.snapshot, s.rest, s.seq, s.stop) for s in segs] == [(True, True, 1027024, 3)]
    assert out[2]["flags"] & record.Flag.LAST and out[0]["kind"] == record.Kind.BOOK_CLEAR
