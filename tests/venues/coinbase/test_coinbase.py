"""Coinbase Advanced Trade: sequence_num across channels, new connections, metadata."""

import json

from nexus import record
from nexus.venues.coinbase import data as coinbase


def msg(channel, seq, events):
    return json.dumps({"channel": channel, "client_id": "", "timestamp": "2023-02-09T20:32:50.714964855Z",
                       "sequence_num": seq, "events": events}).encode()


SNAP = [{"type": "snapshot", "product_id": "BTC-USD", "updates": [
    {"side": "bid", "event_time": "1970-01-01T00:00:00Z", "price_level": "100.01", "new_quantity": "1"},
    {"side": "offer", "event_time": "1970-01-01T00:00:00Z", "price_level": "100.02", "new_quantity": "2"}]}]
HEARTBEAT = [{"current_time": "2023-06-23 20:31:56.121961769 +0000 UTC m=+91717.525857105", "heartbeat_counter": "3049"}]


def feed(sync, dec, raw, out):
    sync.feed(dec.decode(raw, out), out)


def test_a_lost_heartbeat_also_invalidates_the_book():
    dec = coinbase.Decoder()
    sync = coinbase.Sync(dec)
    out = record.empty(16)
    feed(sync, dec, msg("l2_data", 1, SNAP), out)
    feed(sync, dec, msg("heartbeats", 2, HEARTBEAT), out)
    assert sync.books["BTC-USD"].synced
    feed(sync, dec, msg("heartbeats", 4, HEARTBEAT), out)  # 3 is lost: it may have been a book update
    st = sync.books["BTC-USD"]
    assert not st.synced and st.gaps == 1 and sync.needs_snapshot() == ["BTC-USD"]


def test_a_new_connection_waits_for_its_snapshot():
    dec = coinbase.Decoder()
    sync = coinbase.Sync(dec)
    out = record.empty(16)
    feed(sync, dec, msg("l2_data", 1, SNAP), out)
    feed(sync, dec, msg("subscriptions", 0, [{"subscriptions": {"level2": ["BTC-USD"]}}]), out)
    st = sync.books["BTC-USD"]
    assert not st.synced and st.gaps == 0 and st.resyncs == 1
    feed(sync, dec, msg("l2_data", 1, SNAP), out)
    assert st.synced and sync.result("BTC-USD")["bids"] == [["100.01", "1"]]


def test_two_products_in_one_message():
    dec = coinbase.Decoder()
    out = record.empty(16)
    eth = dict(SNAP[0], product_id="ETH-USD")
    segs = dec.decode(msg("l2_data", 1, SNAP + [eth]), out)
    assert [s.symbol for s in segs] == ["BTC-USD", "ETH-USD"] and [s.stop for s in segs] == [3, 6]
    assert out[3]["kind"] == record.Kind.BOOK_CLEAR and out[5]["flags"] & record.Flag.LAST


def test_products_and_status_carry_increments():
    dec = coinbase.Decoder()
    # Shape of GET /api/v3/brokerage/market/products (Advanced Trade REST, List Public Products)
    assert dec.load_metadata(b'{"products":[{"product_id":"DOGE-USD","price":"0.1","base_increment":"0.1",'
                             b'"quote_increment":"0.00001","price_increment":"0.00001"}],"num_products":1}') == 1
    assert dec.instrument("DOGE-USD").tick_size == "0.00001"
    dec.decode(msg("status", 3, [{"type": "snapshot", "products": [{"product_type": "SPOT", "id": "XRP-USD",
               "base_currency": "XRP", "quote_currency": "USD", "base_increment": "0.000001",
               "quote_increment": "0.0001", "display_name": "XRP/USD", "status": "online"}]}]), record.empty(4))
    assert dec.instrument("XRP-USD").lot_size == "0.000001"


# The native fast path for l2_data messages (native/src/core/coinbase.rs) only declines, never
# decides: on any message, well-formed or damaged, it gives the general path's records and
# segments, or the general path's error. Compact, as Coinbase sends them.
import pytest  # noqa: E402
from hypothesis import given, settings, strategies as st  # noqa: E402

from tests.venues.fastpath import assert_fast_path_decides_as_the_general_path, maybe_damaged  # noqa: E402

_ANY = {"px": st.one_of(st.sampled_from(['"21921.73"', '"0"', '"-1"', '"1e-5"', '"0.001"', "5", "null", '""']),
                        st.decimals(min_value=0, max_value=10**5, places=3).map(lambda d: f'"{d}"')),
        "prod": st.sampled_from(['"BTC-USD"', '"ETH-USD"', '""', "null", '"BTC\\u002dUSD"']),
        "seq": st.sampled_from(["5", "0", "-1", "null", '"5"', "1.0", "9223372036854775808"]),
        "stamp": st.sampled_from(['"2023-02-09T20:32:50.714964855Z"', '"2023-02-09T20:32:50Z"', '"x"', "null",
                                  '"2023-02-30T20:32:50.1Z"']),
        "type": st.sampled_from(['"update"', '"snapshot"', '"x"', "null"]),
        "side": st.sampled_from(['"bid"', '"offer"', '"ask"', "null"]), "events": st.sampled_from([1, 0, 2]),
        "channel": st.sampled_from(["l2_data", "l2_data", "market_trades"])}
# the values Coinbase sends for BTC-USD (tick 0.01, size step 0.00000001): the fast path's own work
_GOOD = {**_ANY, "px": st.decimals(min_value="0.01", max_value=10**5, places=2).map(lambda d: f'"{d}"'),
         "sz": st.decimals(min_value=0, max_value=10**3, places=8).map(lambda d: f'"{d}"'),
         "prod": st.just('"BTC-USD"'), "seq": st.sampled_from(["5", "0"]),
         "stamp": st.just('"2023-02-09T20:32:50.714964855Z"'), "type": st.sampled_from(['"update"', '"snapshot"']),
         "side": st.sampled_from(['"bid"', '"offer"']), "events": st.just(1), "channel": st.just("l2_data")}


@st.composite
def _l2_messages(draw):
    v = _GOOD if draw(st.integers(0, 2)) else _ANY
    sz = v.get("sz", v["px"])
    ev = lambda: (f'{{"type":{draw(v["type"])},"product_id":{draw(v["prod"])},"updates":[' + ",".join(  # noqa: E731
        f'{{"side":{draw(v["side"])},"event_time":"2023-02-09T20:32:50.714964855Z","price_level":{draw(v["px"])},'
        f'"new_quantity":{draw(sz)}}}' for _ in range(draw(st.integers(0, 4)))) + "]}")
    events = ",".join(ev() for _ in range(draw(v["events"])))
    msg = (f'{{"channel":"{draw(v["channel"])}","client_id":"","timestamp":{draw(v["stamp"])},'
           f'"sequence_num":{draw(v["seq"])},"events":[{events}]}}')
    return maybe_damaged(draw, msg.encode())


def _listed():
    dec = coinbase.Decoder()
    dec.load_metadata(b'{"products":[{"product_id":"BTC-USD","price_increment":"0.01","quote_increment":"0.01",'
                      b'"base_increment":"0.00000001"}]}')
    return dec


@pytest.mark.skipif(coinbase.coinbase_l2 is None, reason="nexus._native built without coinbase_l2")
@given(st.lists(_l2_messages(), min_size=1, max_size=4), st.sampled_from([2, 64]))
@settings(max_examples=400, deadline=None)
def test_the_native_l2_path_gives_the_general_paths_records(msgs, size):
    assert_fast_path_decides_as_the_general_path(_listed, msgs, size)
