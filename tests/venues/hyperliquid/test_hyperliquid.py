"""Hyperliquid: meta (szDecimals) gives tick and lot sizes."""

import pytest

from nexus import record
from nexus.exceptions import DecodeError
from nexus.venues.hyperliquid import data as hyperliquid


def test_meta_sets_size_and_price_decimals():
    dec = hyperliquid.Decoder()
    # The documented meta response (Info endpoint > Perpetuals > Retrieve perpetuals metadata)
    n = dec.load_metadata(b'{"universe":[{"name":"BTC","szDecimals":5,"maxLeverage":50},{"name":"ETH","szDecimals":4,'
                          b'"maxLeverage":50},{"name":"HPOS","szDecimals":0,"maxLeverage":3,"onlyIsolated":true}]}')
    assert n == 3
    hpos = dec.instrument("HPOS")
    assert (hpos.tick_size, hpos.lot_size, hpos.price_exponent, hpos.qty_exponent) == ("0.000001", "1", 6, 0)
    assert dec.instrument("BTC").tick_size == "0.1"


def test_bad_sz_decimals_are_rejected():
    with pytest.raises(DecodeError):
        hyperliquid.Decoder().load_metadata(b'{"universe":[{"name":"X","szDecimals":9}]}')


def test_levels_must_be_two_sides():
    with pytest.raises(DecodeError, match="bids, asks"):
        hyperliquid.Decoder().decode(b'{"channel":"l2Book","data":{"coin":"BTC","time":1,"levels":[[]]}}',
                                     record.empty(4))


# The native fast path for l2Book and trades pushes (native/src/core/hyperliquid.rs) only
# declines, never decides: on any push, well-formed or damaged, it gives the general path's
# records and segments, or the general path's error. Compact, as Hyperliquid sends them.
from pathlib import Path  # noqa: E402

from hypothesis import given, settings, strategies as st  # noqa: E402

from tests.venues.fastpath import assert_fast_path_decides_as_the_general_path, maybe_damaged  # noqa: E402

_LISTING = Path(__file__).resolve().parents[2] / "fixtures" / "venues" / "hyperliquid" / "instruments.json"
_ANY = {"px": st.one_of(st.sampled_from(['"64998"', '"0"', '"-1"', '"1e-5"', '"0.001"', "5", "null", '""']),
                        st.decimals(min_value=0, max_value=10**5, places=2).map(lambda d: f'"{d}"')),
        "coin": st.sampled_from(['"BTC"', '"ETH"', '""', "null", '"B\\u0054C"']),
        "time": st.sampled_from(["1767225601500", '"1767225601500"', "-1", "null", "99999999999999999"]),
        "tid": st.sampled_from(["500000000000006", '"7"', "-1", "9223372036854775808", "1.0"]),
        "side": st.sampled_from(['"B"', '"A"', '"b"']), "sides": st.sampled_from([2, 1, 3])}
# the values Hyperliquid sends for BTC (szDecimals 5: prices with 1 decimal): the fast path's own work
_GOOD = {**_ANY, "px": st.decimals(min_value="0.1", max_value=10**5, places=1).map(lambda d: f'"{d}"'),
         "sz": st.decimals(min_value=0, max_value=10**3, places=5).map(lambda d: f'"{d}"'),
         "coin": st.just('"BTC"'), "time": st.just("1767225601500"), "tid": st.just("500000000000006"),
         "side": st.sampled_from(['"B"', '"A"']), "sides": st.just(2)}


@st.composite
def _pushes(draw):
    v = _GOOD if draw(st.integers(0, 2)) else _ANY
    sz = v.get("sz", v["px"])
    coin = draw(v["coin"])
    if draw(st.booleans()):
        side = lambda: "[" + ",".join(f'{{"px":{draw(v["px"])},"sz":{draw(sz)},"n":1}}'  # noqa: E731
                                      for _ in range(draw(st.integers(0, 3)))) + "]"
        levels = ",".join(side() for _ in range(draw(v["sides"])))
        msg = f'{{"channel":"l2Book","data":{{"coin":{coin},"time":{draw(v["time"])},"levels":[{levels}]}}}}'
    else:
        trades = [f'{{"coin":{draw(v["coin"]) if draw(st.booleans()) else coin},"side":{draw(v["side"])},'
                  f'"px":{draw(v["px"])},"sz":{draw(sz)},"time":{draw(v["time"])},"hash":"0xb6",'
                  f'"tid":{draw(v["tid"])},"users":["0xda","0x93"]}}' for _ in range(draw(st.integers(0, 3)))]
        msg = f'{{"channel":"trades","data":[{",".join(trades)}]}}'
    return maybe_damaged(draw, msg.encode())


def _listed():
    dec = hyperliquid.Decoder()
    dec.load_metadata(_LISTING.read_bytes())
    return dec


@pytest.mark.skipif(hyperliquid.hyperliquid_message is None, reason="nexus._native built without hyperliquid_message")
@given(st.lists(_pushes(), min_size=1, max_size=4), st.sampled_from([2, 64]))
@settings(max_examples=400, deadline=None)
def test_the_native_path_gives_the_general_paths_records(msgs, size):
    assert_fast_path_decides_as_the_general_path(_listed, msgs, size)


@pytest.mark.skipif(hyperliquid.hyperliquid_message is None, reason="nexus._native built without hyperliquid_message")
def test_the_native_path_takes_hyperliquid_pushes():
    raw = (b'{"channel":"trades","data":[{"coin":"BTC","side":"A","px":"64994","sz":"0.01601","time":1767225601880,'
           b'"hash":"0xb6","tid":500000000000006,"users":["0xda","0x93"]}]}')
    assert hyperliquid.hyperliquid_message(raw, record.empty(2), _listed()._ent("BTC").native, 0)[0] == "trades"
    segs = _listed().decode(raw, out := record.empty(2))
    assert [(s.stop, s.trade_ids) for s in segs] == [(1, ["500000000000006"])]
    assert out[0]["trade_id"] == 500000000000006 and out[0]["price"] == 649940 and out[0]["flags"] & record.Flag.LAST
