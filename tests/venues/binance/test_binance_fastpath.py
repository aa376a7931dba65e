"""The native depthUpdate fast path must decide exactly as the general decoder: same records,
same segments, same rejections (it may only decline, never decide differently)."""
import json

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from nexus import record
from nexus.exceptions import DecodeError
from nexus.venues.base import Decoder
from nexus.venues.binance.perp import Decoder as PerpDecoder
from nexus.venues.binance.spot import Decoder as SpotDecoder

price = st.one_of(st.decimals(min_value="0.01", max_value="200000", places=2).map(str),
                  st.sampled_from(["0", "-1", "1e3", "0.000000001", "abc", "", "1.5.5"]))
qty = st.one_of(st.decimals(min_value="0", max_value="1000", places=5).map(str), st.sampled_from(["-0.1", "x"]))
level = st.one_of(st.tuples(price, qty).map(list), st.just(["1.00", "1", "extra"]), st.just("notalist"))


def message(u0, n, bids, asks, pu, sym, use_t):
    m = {"e": "depthUpdate", "E": 1700000000123, "s": sym, "U": u0, "u": u0 + n, "b": bids, "a": asks}
    if use_t:
        m["T"] = 1700000000120
    if pu is not None:
        m["pu"] = pu
    return json.dumps(m).encode()


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([SpotDecoder, PerpDecoder]), st.integers(0, 2**64), st.integers(-3, 50),
       st.lists(level, max_size=12), st.lists(level, max_size=12), st.one_of(st.none(), st.integers(-3, 10**12)),
       st.sampled_from(["BTCUSDT", "ETHUSDT", "NEWCOIN"]), st.booleans())
def test_fast_path_equals_general_path(cls, u0, n, bids, asks, pu, sym, use_t):
    raw = message(u0, n, bids, asks, pu, sym, use_t)
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
