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
