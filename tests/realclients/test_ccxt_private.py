"""ccxt's private side against `nexus sim`: ccxt signs, the simulator verifies (issue 21).

ccxt (a signer Nexus did not write) places a resting limit order, reads it back
(`fetch_order`, `fetch_open_orders`), cancels it, reads the balance, and on perpetuals buys
at market and reads the position (`fetch_positions`). Then the same client with its `sign`
wrapped to flip one character of the signature it made: the simulator must refuse it with
the venue's own error code. Only the URLs are changed (and documented ccxt options that stop
it from calling endpoints of products the simulator does not trade, such as margin pairs).
"""

from __future__ import annotations

import asyncio
import time
from contextlib import AsyncExitStack
from urllib.parse import urlsplit

import pytest

ccxtpro = pytest.importorskip("ccxt.pro", reason="ccxt is not installed (in the dev extra)")
import ccxt  # noqa: E402

from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402

from nexus.sim.simulator import Simulator  # noqa: E402
from tests.realclients.tls import tls_front  # noqa: E402

from tests.realclients.test_ccxt_public import CASES, _rewrite  # noqa: E402

KEY, SECRET, PASSPHRASE = "key-A", "secret-A", "pass-A"
TIMEOUT_S = 60

# OKX: single orders (/trade/order; ccxt defaults to /trade/batch-orders).
OKX = {"createOrder": "privatePostTradeOrder"}
# Coinbase: balances from Advanced Trade's accounts (ccxt's default is the Coinbase App's v2 API)
COINBASE = {"fetchBalance": "v3PrivateGetBrokerageAccounts"}
# KuCoin: a classic (not unified) account, ccxt's `uta` option (else it asks /api/ua/v1/account/mode);
# ccxt finds the HF account itself (GET /api/v1/hf/accounts/opened) and trades through /api/v1/hf/orders.
KUCOIN = {"uta": False}

# venue -> (extra ccxt options, amount, perpetual, the venue's code for a bad signature)
PRIVATE = {
    "binance-spot": ({}, 0.01, False, "-1022"),        # Signature for this request is not valid.
    "binance-perp": ({}, 0.01, True, "-1022"),
    "bybit-perp": ({}, 0.01, True, "10004"),         # error sign!
    "okx-swap": (OKX, 0.01, True, "50113"),             # Invalid Sign
    "coinbase": (COINBASE, 0.01, False, "401 Unauthorized"),  # Coinbase says no more for a bad JWT
    "bitfinex": ({}, 0.01, False, "apikey: digest invalid"),   # 10100 (ccxt shows the text)
    "bitget": ({}, 0.01, False, "40009"),            # sign signature error
    "kucoin": (KUCOIN, 0.01, False, "400005"),          # Invalid KC-API-SIGN
    "mexc": ({}, 0.001, False, "700002"),             # Signature for this request is not valid.
    "gate": ({}, 0.01, False, "INVALID_SIGNATURE"),     # Signature mismatch
    "gate-futures": ({}, 1, True, "INVALID_SIGNATURE"),  # the USDT contract (amount: contracts)
    "binance-rwa": ({}, 0.01, False, "-1022"),         # Binance spot's API (ccxt binance), on PAX Gold
}
# The simulated market a venue's round trip runs on (default BTCUSDT)
SIM_SYMBOL = {"binance-rwa": "PAXGUSDT"}
# Venues whose public ccxt case is not (yet) in test_ccxt_public.CASES: ccxt class, symbol, URL
# prefixes, options (Bitfinex: the P0 book, ccxt's documented `fetchOrderBook.precision`;
# Gate: one market type each (ccxt's default also loads futures, delivery and options
# listings), a classic (non-unified) account).
PRIVATE_CASES = {
    "bitfinex": ("bitfinex", "BTC/USD", {"https://api-pub.bitfinex.com": "", "https://api.bitfinex.com": "",
                                         "wss://api-pub.bitfinex.com": "", "wss://api.bitfinex.com": ""},
                 {"fetchOrderBook": {"precision": "P0"}}, None),
    "gate": ("gate", "BTC/USDT", {"https://api.gateio.ws": "", "wss://api.gateio.ws": ""},
             {"fetchMarkets": {"types": ["spot"]}, "unifiedAccount": False}, None),
    "gate-futures": ("gate", "BTC/USDT:USDT", {"https://api.gateio.ws": "", "wss://fx-ws.gateio.ws": ""},
                     {"fetchMarkets": {"types": ["swap"]}, "swap": {"fetchMarkets": {"settlementCurrencies": ["usdt"]}},
                      "unifiedAccount": False, "defaultType": "swap"}, None),
    "binance-rwa": ("binance", "PAXG/USDT", {"https://api.binance.com": "", "wss://stream.binance.com:9443": ""},
                    {"fetchMarkets": {"types": ["spot"]}, "fetchCurrencies": False, "fetchMargins": False}, None),
}
# a row that is another market of a served venue: (the simulator's venue, its exchange there)
MARKETS = {"gate-futures": ("gate", lambda sim: sim.core.feeds["gate"].futures_trade.ex)}
# ccxt's bitfinex fetch_order reads the active orders only (/auth/r/orders/{symbol} by id); a
# cancelled order is read with ccxt's fetch_closed_order (/auth/r/orders/{symbol}/hist by id).
FETCH_DONE = {"bitfinex": "fetch_closed_order"}


def _venue(row: str) -> str:
    return MARKETS[row][0] if row in MARKETS else row


def _exchange(sim, row: str):
    return MARKETS[row][1](sim) if row in MARKETS else sim.exchange(row)


# Coinbase: an EC P-256 key made in memory; the simulator is given only its public half.
COINBASE_KEY_NAME = "organizations/sim-org/apiKeys/sim-key"
# ccxt signs the https URL it calls (Coinbase's JWT uri): served through a local TLS front
TLS = {"coinbase"}
# ccxt's documented per-call parameters
FETCH_ORDER_PARAMS = {"bybit-perp": {"acknowledged": True}}   # Bybit serves the last 500 orders
SIGNATURE_HEADERS = ("X-BAPI-SIGN", "OK-ACCESS-SIGN", "bfx-signature", "ACCESS-SIGN", "KC-API-SIGN", "SIGN")
PASSPHRASE_VENUES = ("okx-swap", "bitget", "kucoin")


def _coinbase_key() -> tuple[str, str]:
    """(private PEM for ccxt, public PEM for the simulator)."""
    k = ec.generate_private_key(ec.SECP256R1())
    private = k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                              serialization.NoEncryption()).decode()
    public = k.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


def _flip(s: str) -> str:
    """One character of a signature changed (hex or base64 alphabet kept)."""
    i = len(s) // 2
    assert s, "empty signature"
    c = s[i]
    return s[:i] + ("b" if c != "b" else "c") + s[i + 1:]


def _break_signature(ex) -> None:
    """Wrap ccxt's own `sign`: it signs as usual, then one character of its signature flips."""
    real_sign = ex.sign

    def sign(*args, **kwargs):
        req = real_sign(*args, **kwargs)
        url, body_, hdrs = req["url"], req.get("body"), dict(req.get("headers") or {})
        sig_header = next((h for h in SIGNATURE_HEADERS if h in hdrs), None)
        if "Authorization" in hdrs:     # Coinbase: "Bearer <JWT>", the JWT's signature part
            head, jwt_sig = hdrs["Authorization"].rsplit(".", 1)
            hdrs["Authorization"] = head + "." + _flip(jwt_sig)
        elif sig_header:
            hdrs[sig_header] = _flip(hdrs[sig_header])
        elif "signature=" in url:
            head, sig = url.split("signature=", 1)
            req["url"] = head + "signature=" + _flip(sig)
        elif body_ and "signature=" in body_:
            head, sig = body_.split("signature=", 1)
            req["body"] = head + "signature=" + _flip(sig)
        else:
            raise AssertionError(f"no signature found to break in {req}")
        req["headers"] = hdrs
        return req

    ex.sign = sign


async def _client(sim: Simulator, venue: str, key: str, secret: str, http_base: str, cafile: str | None):
    cls, symbol, prefixes, options, _ = CASES[venue] if venue in CASES else PRIVATE_CASES[venue]
    extra = PRIVATE[venue][0]
    config = {"enableRateLimit": False, "options": {**options, **extra}, "apiKey": key, "secret": secret,
              "password": PASSPHRASE}
    if cafile:
        config["cafile"] = cafile
    ex = getattr(ccxtpro, cls)(config)
    ex.urls["api"] = _rewrite(dict(ex.urls["api"]), prefixes, http_base, "ws" + http_base[len("http"):])
    return ex, symbol


async def _round_trip(venue: str) -> dict:
    _, amount, perpetual, _ = PRIVATE[venue]
    # ccxt's Coinbase JWT has nbf = the current second; a simulator clock started at the test's
    # wall time trails it by milliseconds and, at a second boundary, would find the JWT not yet
    # valid (as Coinbase refuses one): its clock starts 2 s ahead (building the simulator takes
    # ~0.45 s of that lead, more on a loaded machine; the JWT lives 120 s).
    epoch_ns = (time.time_ns() + (2_000_000_000 if venue == "coinbase" else 0)) // 1_000_000 * 1_000_000
    async with Simulator(seed=5, venues=[_venue(venue)], symbol=SIM_SYMBOL.get(venue, "BTCUSDT"),
                         epoch_ns=epoch_ns, wall_clock=True) as sim:
        key, secret, sim_secret = KEY, SECRET, SECRET
        if venue == "coinbase":
            key, (secret, sim_secret) = COINBASE_KEY_NAME, _coinbase_key()
        sim.open_account(_venue(venue), key, sim_secret, passphrase=PASSPHRASE if venue in PASSPHRASE_VENUES else None)
        await asyncio.sleep(0.5)
        async with AsyncExitStack() as stack:
            http_base, cafile = sim.rest_url(_venue(venue)), None
            if venue in TLS:
                url = urlsplit(http_base)
                base, cafile = await stack.enter_async_context(tls_front(url.port))
                http_base = base + url.path
            return await _trade(sim, venue, key, secret, http_base, cafile)


async def _trade(sim: Simulator, venue: str, key: str, secret: str, http_base: str, cafile: str | None) -> dict:
    _, amount, perpetual, _ = PRIVATE[venue]
    if True:
        ex, symbol = await _client(sim, venue, key, secret, http_base, cafile)
        try:
            await ex.load_markets()
            bid = (await ex.fetch_order_book(symbol))["bids"][0][0]
            price = float(ex.price_to_precision(symbol, bid * 0.95))
            bal = await ex.fetch_balance()
            quote = ex.market(symbol)["settle" if perpetual else "quote"]
            assert bal["total"][quote] > 0, bal["total"]
            o = await ex.create_order(symbol, "limit", "buy", amount, price)
            assert o["id"]
            fo = FETCH_ORDER_PARAMS.get(venue, {})
            got = await ex.fetch_order(o["id"], symbol, fo)
            assert got["status"] == "open" and got["price"] == price and got["amount"] == amount, got
            opened = await ex.fetch_open_orders(symbol)
            assert [x["id"] for x in opened] == [o["id"]]
            # the simulator holds that one order, at ccxt's price
            acct = _exchange(sim, venue).accounts[key]
            held = _exchange(sim, venue).open_orders(acct)
            assert len(held) == 1 and float(sim.core.feeds[_venue(venue)].spec.px(held[0].price)) == price, held
            await ex.cancel_order(o["id"], symbol)
            fetch_done = getattr(ex, FETCH_DONE.get(venue, "fetch_order"))
            assert (await fetch_done(o["id"], symbol, fo))["status"] == "canceled"
            assert await ex.fetch_open_orders(symbol) == []
            positions = None
            if perpetual:
                await ex.create_order(symbol, "market", "buy", amount)
                positions = await ex.fetch_positions([symbol])
                pos = [p for p in positions if p["contracts"]]
                assert len(pos) == 1 and pos[0]["side"] == "long" and pos[0]["symbol"] == symbol, positions
            # the same client, its signature broken: refused with the venue's own code
            _break_signature(ex)
            with pytest.raises(ccxt.AuthenticationError) as err:
                await ex.create_order(symbol, "limit", "buy", amount, price)
            assert PRIVATE[venue][3] in str(err.value), str(err.value)
            assert _exchange(sim, venue).open_orders(acct) == []
            return {"order": o["id"], "positions": positions}
        finally:
            await ex.close()


@pytest.mark.parametrize("venue", sorted(PRIVATE))
def test_ccxt_private_round_trip(venue: str) -> None:
    if venue not in CASES and venue not in PRIVATE_CASES:   # no ccxt public start-up case yet
        pytest.skip(f"{venue}: no ccxt public start-up case in test_ccxt_public.CASES (or PRIVATE_CASES) yet")
    got = asyncio.run(asyncio.wait_for(_round_trip(venue), TIMEOUT_S))
    assert got["order"]
