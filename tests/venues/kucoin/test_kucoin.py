"""KuCoin: instruments from /api/v2/symbols, the bullet-public answer, bad input refused
without touching the book."""

import pytest

from nexus import record
from nexus.exceptions import DecodeError, NexusError
from nexus.venues.kucoin import data as kucoin
from nexus.venues.kucoin.feed import FEED, session_of

# Shape of GET /api/v2/symbols (KuCoin docs, "Get All Symbols", https://www.kucoin.com/docs-new/)
SYMBOLS = (b'{"code":"200000","data":[{"symbol":"BTC-USDT","name":"BTC-USDT","baseCurrency":"BTC",'
           b'"quoteCurrency":"USDT","feeCurrency":"USDT","market":"USDS","baseMinSize":"0.00001",'
           b'"quoteMinSize":"0.1","baseMaxSize":"10000000000","quoteMaxSize":"99999999",'
           b'"baseIncrement":"0.00000001","quoteIncrement":"0.000001","priceIncrement":"0.1",'
           b'"priceLimitRate":"0.1","minFunds":"0.1","isMarginEnabled":true,"enableTrading":true}]}')
# Shape of POST /api/v1/bullet-public (KuCoin docs, "Apply Connect Token")
BULLET = (b'{"code":"200000","data":{"token":"2neAiuYvAU61ZDXANAGAsiL4-iAExhsBXZxftpOeh_55i3Ysy2q2LEsEWU64mdz'
          b'UOPusi34M_wGoSf7iNyEWJ4aBZXpWhrmY9jKtqkdWoFa75w3istPvPtiYB9J6i9GjsxUuhPw3BlrzazF6ghq4L.IJ",'
          b'"instanceServers":[{"endpoint":"wss://ws-api-spot.kucoin.com/","encrypt":true,'
          b'"protocol":"websocket","pingInterval":18000,"pingTimeout":10000}]}}')


def test_instruments_from_the_symbols_listing():
    dec = kucoin.Decoder()
    assert dec.load_metadata(SYMBOLS) == 1
    inst = dec.instrument("BTC-USDT")
    assert (inst.tick_size, inst.lot_size, inst.price_exponent, inst.qty_exponent) == ("0.1", "0.00000001", 1, 8)
    assert "BTC-USDT" not in dec.generic


def test_a_price_finer_than_the_tick_is_refused_and_the_book_is_untouched():
    dec = kucoin.Decoder()
    dec.load_metadata(SYMBOLS)
    dec.rest_symbol = "BTC-USDT"
    sync = kucoin.Sync(dec)
    out = record.empty(64)
    sync.feed(dec.decode(b'{"code":"200000","data":{"time":1,"sequence":"5","bids":[["100.1","1"]],'
                         b'"asks":[["100.2","1"]]}}', out), out)
    with pytest.raises(DecodeError):
        dec.decode(b'{"type":"message","topic":"/market/level2:BTC-USDT","subject":"trade.l2update","data":'
                   b'{"changes":{"asks":[],"bids":[["100.15","1","6"]]},"sequenceEnd":6,"sequenceStart":6,'
                   b'"symbol":"BTC-USDT","time":2}}', out)
    with pytest.raises(DecodeError):  # a change sequence outside [sequenceStart, sequenceEnd]
        dec.decode(b'{"type":"message","topic":"/market/level2:BTC-USDT","subject":"trade.l2update","data":'
                   b'{"changes":{"asks":[],"bids":[["100.1","1","9"]]},"sequenceEnd":6,"sequenceStart":6,'
                   b'"symbol":"BTC-USDT","time":2}}', out)
    r = sync.result("BTC-USDT")
    assert r["bids"] == [["100.1", "1"]] and r["gaps"] == 0


def test_the_bullet_answer_gives_the_token_url_and_the_ping_period():
    s = session_of(BULLET, None, "BTC-USDT")
    assert s.url.startswith("wss://ws-api-spot.kucoin.com/?token=2neAiuYvAU61") and "connectId=" in s.url
    assert s.heartbeat.every_s == 18.0 and s.heartbeat.ping == b'{"id":"nexus-ping","type":"ping"}'
    assert b"/market/level2:BTC-USDT" in s.subscribe[0] and b"/market/match:BTC-USDT" in s.subscribe[1]
    over = session_of(BULLET, "ws://127.0.0.1:9/kucoin/", "BTC-USDT")
    assert over.url.startswith("ws://127.0.0.1:9/kucoin/?token=")


def test_a_refused_bullet_is_an_error():
    with pytest.raises(NexusError):
        session_of(b'{"code":"429000","msg":"Too Many Requests"}', None, "BTC-USDT")


def test_symbol_spelling():
    assert FEED.symbol_of("btcusdt") == "BTC-USDT"
    assert FEED.snapshot_path("BTC-USDT") == "/api/v1/market/orderbook/level2_100?symbol=BTC-USDT"
