"""The shared decoder machinery: record layout of decoded messages, exact conversions,
the generic fallback for unknown symbols, batch capacity, metadata replacement."""

import logging

import numpy as np
import pytest

from nexus import record
from nexus.exceptions import BatchFull, DecodeError, NexusError
from nexus.instruments import instrument_id_of
from nexus.venues import VENUE_IDS
from nexus.venues.base import GENERIC_EXPONENT, SegKind, iso_to_ns, ms_to_ns, trade_id_int
from nexus.venues.registry import canonical_symbol, feed_spec, load
from nexus.venues.registry import names as venue_names
from nexus.venues.binance.spot import BinanceSpotDecoder, BinanceSpotSync

DEPTH = (b'{"e":"depthUpdate","E":1700000000123,"s":"BTCUSDT","U":5,"u":7,'
         b'"b":[["100.01000000","1.50000000"],["100.00000000","0.00000000"]],"a":[["100.02000000","2.00000000"]]}')


def test_every_venue_module_exports_a_decoder_and_a_sync():
    first_seven = {"binance-spot", "binance-perp", "bybit-perp", "okx-swap", "coinbase", "kraken", "hyperliquid"}
    assert first_seven | {"kucoin", "gate"} <= set(venue_names())
    for venue in venue_names():
        m = load(venue)
        dec = m.Decoder()
        assert dec.venue == venue and dec.venue_id == VENUE_IDS[venue]
        assert m.Sync(dec).venue == venue
        # no built-in instrument table: instruments come from the venue's own listing,
        # which every venue's live feed fetches before it connects
        assert list(dec.registry) == []
        spec = feed_spec(venue)
        assert spec.instruments_path is not None or spec.prepare is not None, venue  # token flows load theirs


def test_unknown_venue_is_a_config_error():
    with pytest.raises(NexusError, match="no decoder for venue"):
        load("mtgox")


def test_depth_update_becomes_records_in_the_batch():
    dec = BinanceSpotDecoder()
    out = record.empty(8)
    segs = dec.decode(DEPTH, out, ts_local_ns=42)
    assert len(segs) == 1 and segs[0].kind is SegKind.BOOK and (segs[0].start, segs[0].stop) == (0, 3)
    r = out[:3]
    assert r["price"].tolist() == [10001000000, 10000000000, 10002000000]  # exponent 8
    assert r["qty"].tolist() == [150000000, 0, 200000000]
    assert r["side"].tolist() == [record.Side.BID, record.Side.BID, record.Side.ASK]
    assert (r["kind"] == record.Kind.BOOK_LEVEL).all()
    assert r["flags"].tolist() == [0, 0, record.Flag.LAST]
    assert (r["seq"] == 7).all() and (r["ts_exchange_ns"] == 1700000000123000000).all()
    assert (r["ts_local_ns"] == 42).all() and (r["trade_id"] == 0).all() and (r["aux"] == 0).all()
    assert (r["venue_id"] == VENUE_IDS["binance-spot"]).all()
    assert (r["instrument_id"] == instrument_id_of("binance-spot", "BTCUSDT")).all()
    assert out[3]["kind"] == 0  # nothing beyond the message


def test_snapshot_starts_with_a_clear_and_is_flagged():
    dec = BinanceSpotDecoder()
    dec.rest_symbol = "BTCUSDT"
    out = record.empty(8)
    segs = dec.decode(b'{"lastUpdateId":9,"bids":[["1.00","2"]],"asks":[]}', out)
    assert segs[0].snapshot and segs[0].rest and segs[0].stop == 2
    assert out[0]["kind"] == record.Kind.BOOK_CLEAR and out[0]["side"] == record.Side.NONE
    assert out[0]["flags"] == record.Flag.SNAPSHOT
    assert out[1]["flags"] == record.Flag.SNAPSHOT | record.Flag.LAST


def test_batch_too_small_is_reported_and_nothing_is_lost():
    dec = BinanceSpotDecoder()
    with pytest.raises(BatchFull) as e:
        dec.decode(DEPTH, record.empty(2))
    assert e.value.needed == 3
    assert dec.decode(DEPTH, record.empty(3))[0].stop == 3


def test_a_batch_of_another_dtype_is_refused():
    with pytest.raises(NexusError, match="batch"):
        BinanceSpotDecoder().decode(DEPTH, np.zeros(8, np.int64))


def test_unknown_symbol_uses_the_generic_exponent_with_a_warning(caplog):
    dec = BinanceSpotDecoder()
    out = record.empty(8)
    with caplog.at_level(logging.WARNING, logger="nexus.venues"):
        segs = dec.decode(DEPTH.replace(b"BTCUSDT", b"NEWCOINUSDT"), out)
    assert "NEWCOINUSDT" in caplog.text and "generic" in caplog.text
    inst = segs[0].inst
    assert (inst.price_exponent, inst.qty_exponent) == (GENERIC_EXPONENT, GENERIC_EXPONENT)
    assert "NEWCOINUSDT" in dec.generic
    # finer than the generic exponent: refused, never rounded
    with pytest.raises(DecodeError):
        dec.decode(DEPTH.replace(b"BTCUSDT", b"NEWCOINUSDT").replace(b"100.01000000", b"100.010000001"), out)


def test_new_metadata_with_other_exponents_resets_the_book():
    dec = BinanceSpotDecoder()
    sync = BinanceSpotSync(dec)
    dec.rest_symbol = "BTCUSDT"
    out = record.empty(8)
    sync.feed(dec.decode(b'{"lastUpdateId":9,"bids":[["1.00","2"]],"asks":[]}', out), out)
    assert sync.books["BTCUSDT"].synced
    dec.load_metadata(b'{"timezone":"UTC","serverTime":1,"symbols":[{"symbol":"BTCUSDT","baseAsset":"BTC",'
                      b'"quoteAsset":"USDT","filters":[{"filterType":"PRICE_FILTER","tickSize":"0.00100000"},'
                      b'{"filterType":"LOT_SIZE","stepSize":"0.00000001"}],"pricePrecision":10}]}')
    sync.feed(dec.decode(DEPTH.replace(b'"U":5', b'"U":10').replace(b'"u":7', b'"u":10'), out), out)
    st = sync.books["BTCUSDT"]
    assert st.inst.price_exponent == 10 and not st.synced and st.book.depth(0) == 0


def test_timestamps_are_exact_integers():
    assert iso_to_ns("2023-02-09T20:32:50.714964855Z") == 1675974770714964855
    assert iso_to_ns("2023-02-09T20:32:50Z") == 1675974770000000000
    assert iso_to_ns("2023-10-06T17:35:55.440295Z") == 1696613755440295000
    assert ms_to_ns(1700000000123) == 1700000000123000000 and ms_to_ns("1597026383085") == 1597026383085000000
    for bad in ("2023-02-09 20:32:50Z", "2023-02-09T20:32:50.1234567891Z", "2023-13-09T20:32:50Z", 5, None):
        with pytest.raises(DecodeError):
            iso_to_ns(bad)
    for bad in (-1, 1.5, "12a", True, None):
        with pytest.raises(DecodeError):
            ms_to_ns(bad)


def test_trade_ids_numeric_or_hashed():
    assert trade_id_int(12345) == 12345 and trade_id_int("000000000") == 0 and trade_id_int("130639474") == 130639474
    h = trade_id_int("20f43950-d8dd-5b31-9112-a178eb6023af")
    assert 0 <= h < 2**63 and h == trade_id_int("20f43950-d8dd-5b31-9112-a178eb6023af")
    assert h != trade_id_int("20f43950-d8dd-5b31-9112-a178eb6023ae")
    assert trade_id_int(2**64) < 2**63  # out of range: hashed, not truncated
    with pytest.raises(DecodeError):
        trade_id_int(1.5)


def test_canonical_symbols():
    assert canonical_symbol("binance-spot", "btcusdt") == "BTCUSDT"
    assert canonical_symbol("kraken", "btc/usd") == "BTC/USD"
    assert canonical_symbol("hyperliquid", "kPEPE") == "kPEPE"


def test_decoder_state_is_untouched_by_a_rejected_message():
    dec = BinanceSpotDecoder()
    sync = BinanceSpotSync(dec)
    dec.rest_symbol = "BTCUSDT"
    out = record.empty(8)
    sync.feed(dec.decode(b'{"lastUpdateId":6,"bids":[["1.00","2"]],"asks":[]}', out), out)
    before = sync.books["BTCUSDT"].book.top(1, 10)
    with pytest.raises(DecodeError):  # valid first level, broken second: nothing may apply
        dec.decode(DEPTH.replace(b'["100.00000000","0.00000000"]', b'["100.00000000","x"]'), out)
    assert sync.books["BTCUSDT"].book.top(1, 10) == before


def test_a_parser_that_refuses_a_valid_message_is_replaced_and_the_message_kept():
    """`Decoder._parse` asks a fresh parser when the reused one refuses a document (for the
    error's reason). A real state in which the reused parser refuses a VALID document: a lazy
    (non-recursive) parse's proxies still alive (pysimdjson raises RuntimeError "Tried to re-use
    a parser ..."). The message must still be parsed, and the decoder keep the fresh parser
    (`_parse` directly: Binance's depth message takes the native fast path in `decode`)."""
    import simdjson

    dec = BinanceSpotDecoder()
    stuck = simdjson.Parser()
    held = stuck.parse(b'{"a":[1]}')        # a live lazy Object keeps `stuck` in use
    with pytest.raises(RuntimeError):
        stuck.parse(DEPTH, True)
    dec._parser = stuck
    assert dec._parse(DEPTH) == simdjson.Parser().parse(DEPTH, True)   # the message is kept
    assert dec._parser is not stuck
    with pytest.raises(DecodeError, match="not valid JSON"):
        dec._parse(DEPTH[:40])          # broken bytes are still refused, with a reason
    assert held["a"][0] == 1
