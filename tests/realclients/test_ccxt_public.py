"""ccxt.pro (a client Nexus did not write) against `nexus sim`, with only its URLs changed.

For each venue ccxt supports: its `urls["api"]` entries (REST and WebSocket) are rewritten
from the real hosts to the simulator's per-venue prefixes, then `load_markets()`,
`watch_order_book()` for ~6 s and `watch_trades()`. The book ccxt rebuilds must be sane
(best bid < best ask, levels sorted) and equal, over its top levels, to one of the
simulator's own recent publications of that channel (its published-book history), and trades
must arrive. Issue 21; ccxt is pinned in the dev extra (`ccxt>=4.4,<5`).
"""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal

import pytest

ccxtpro = pytest.importorskip("ccxt.pro", reason="ccxt is not installed (pip install 'ccxt>=4.4,<5', in the dev extra)")

from nexus.sim import Simulator  # noqa: E402

STREAM_S = 6.0
WARMUP_S = 2.0      # let the simulated market trade first: a real venue always has recent trades
TOP_LEVELS = 10
TIMEOUT_S = 60


GATE_URLS = {"https://api.gateio.ws": "", "wss://api.gateio.ws": "", "wss://fx-ws.gateio.ws": ""}
GATE_OPTIONS = {"fetchMarkets": {"types": ["spot", "swap"]}, "swap": {"fetchMarkets": {"settlementCurrencies": ["usdt"]}}}

# case -> (ccxt class, symbol, {real URL prefix: simulator path after ws/http base}, options, sim channel);
# a case is the simulator's venue name, optionally followed by a space and a word naming one of its
# markets ("gate swap")
# sim channel: None for the venue's primary book, else the simulator's book channel the client reads,
# or (that channel, its size as the client reports it from the simulator's integer quantity)
CASES = {
    "binance-spot": ("binance", "BTC/USDT", {"https://api.binance.com": "", "wss://stream.binance.com:9443": ""},
                     {"fetchMarkets": {"types": ["spot"]}, "fetchCurrencies": False, "fetchMargins": False}, None),
    "binance-perp": ("binanceusdm", "BTC/USDT:USDT", {"https://fapi.binance.com": "", "wss://fstream.binance.com": ""},
                     {"fetchCurrencies": False}, None),
    "bybit-perp": ("bybit", "BTC/USDT:USDT", {"https://api.{hostname}": "", "wss://stream.{hostname}": ""}, {}, None),
    "okx-swap": ("okx", "BTC/USDT:USDT", {"https://{hostname}": "", "wss://ws.okx.com:443": ""}, {}, None),
    "coinbase": ("coinbase", "BTC/USD", {"https://api.coinbase.com": "", "wss://advanced-trade-ws.coinbase.com": ""},
                 {}, None),
    "kraken": ("kraken", "BTC/USD", {"https://api.kraken.com": "", "wss://ws.kraken.com": ""}, {}, None),
    "hyperliquid": ("hyperliquid", "BTC/USDC:USDC", {"https://api.{hostname}": "", "wss://api.hyperliquid.xyz": ""},
                    {}, None),
    # KuCoin's WebSocket address comes from POST /api/v1/bullet-public (the simulator names itself);
    # documented options: spot markets only (the simulator lists no futures), and no fee tiers
    # from /api/v1/market/allTickers.
    "kucoin": ("kucoin", "BTC/USDT", {"https://api.kucoin.com": "", "wss://x-push-spot.kucoin.com": ""},
               {"fetchMarkets": {"types": ["spot"], "fetchTickersFees": False}}, None),
    # Gate spot: ccxt watches the Order Book V2 channel spot.obu (ob.BTC_USDT.50); documented
    # options: spot and swap markets, USDT-settled only (the simulator lists no others)
    "gate": ("gate", "BTC/USDT", GATE_URLS, GATE_OPTIONS, "obu50"),
    # Gate USDT perpetual (futures.order_book_update, sizes in contracts as ccxt reports them)
    "gate swap": ("gate", "BTC/USDT:USDT", GATE_URLS, GATE_OPTIONS, ("futures", lambda spec, q: Decimal(q))),
    # ccxt validates Bitget's `books` CRC32 checksum (its watchOrderBook checksum option, on by default)
    "bitget": ("bitget", "BTC/USDT", {"https://api.{hostname}": "", "wss://ws.bitget.com": ""}, {}, None),
    # ccxt turns on Bitfinex's OB_CHECKSUM flag and validates every `cs` message; its REST book
    # (fetch_order_book, used by the private round trip) asks for the P0 book, a documented option
    "bitfinex": ("bitfinex", "BTC/USD", {"https://api-pub.bitfinex.com": "", "https://api.bitfinex.com": "",
                                         "wss://api-pub.bitfinex.com": "", "wss://api.bitfinex.com": ""},
                 {"fetchOrderBook": {"precision": "P0"}}, None),
    # MEXC spot's protobuf streams; ccxt also loads the futures contract list (empty here)
    "mexc": ("mexc", "BTC/USDT", {"https://api.mexc.com": "", "wss://wbs-api.mexc.com": ""}, {}, None),
    # Deribit's inverse perpetual over JSON-RPC WebSocket (amounts in USD, as ccxt reports them)
    "deribit": ("deribit", "BTC/USD:BTC", {"https://www.deribit.com": "", "wss://www.deribit.com": ""}, {}, None),
    # ccxt asks for the delta subscription as `bookSubscriptionType` in camelCase; the venue reads
    # `book_subscription_type`, so ccxt gets the default SNAPSHOT (a whole book every 500 ms), as here
    "cryptocom": ("cryptocom", "BTC/USD:USD", {"https://api.crypto.com": "", "wss://stream.crypto.com": ""}, {}, None),
    # dYdX v4 indexer (REST /v4/perpetualMarkets, WebSocket /v4/ws); ccxt names the market BTC/USDC:USDC
    "dydx": ("dydx", "BTC/USDC:USDC", {"https://indexer.dydx.trade": "", "wss://indexer.dydx.trade": ""}, {}, None),
    # Aster v3: ccxt loads spot (none here) and futures exchangeInfo, and watches the partial
    # depth stream btcusdt@depth20 (whole top 20 every 250 ms)
    "aster": ("aster", "BTC/USDT:USDT", {"https://fapi.asterdex.com": "", "https://sapi.asterdex.com": "",
                                        "wss://fstream.asterdex.com": ""}, {}, None),
    # Binance RWA is Binance spot's wire restricted to tokenized real-world assets: ccxt's binance class
    "binance-rwa": ("binance", "PAXG/USDT", {"https://api.binance.com": "", "wss://stream.binance.com:9443": ""},
                    {"fetchMarkets": {"types": ["spot"]}, "fetchCurrencies": False, "fetchMargins": False}, None),
}
# the simulated market of a case, where not BTCUSDT
SIM_SYMBOL = {"binance-rwa": "PAXGUSDT"}


def _rewrite(urls, prefixes: dict[str, str], http_base: str, ws_base: str):
    """Every URL under urls["api"] that starts with a real host is sent to the simulator."""
    if isinstance(urls, dict):
        return {k: _rewrite(v, prefixes, http_base, ws_base) for k, v in urls.items()}
    if isinstance(urls, str):
        for real, sub in prefixes.items():
            if urls.startswith(real):
                base = ws_base if real.startswith("wss") else http_base
                return base + sub + urls[len(real):]
    return urls


def make_client(sim: Simulator, case: str):
    cls, symbol, prefixes, options, _ = CASES[case]
    venue = case.split(" ")[0]
    ex = getattr(ccxtpro, cls)({"enableRateLimit": False, "options": options})
    http_base = sim.rest_url(venue)
    ws_base = "ws" + http_base[len("http"):]
    api = dict(ex.urls["api"])
    ex.urls["api"] = _rewrite(api, prefixes, http_base, ws_base)
    return ex, symbol


def _sane(side: list, descending: bool) -> None:
    prices = [Decimal(str(p)) for p, *_ in side]
    assert prices == sorted(prices, reverse=descending), "levels not sorted"
    assert all(Decimal(str(lv[1])) > 0 for lv in side), "a level with a non-positive size"


def _matches_published(sim: Simulator, case: str, ob: dict) -> bool:
    """The ccxt book's top levels equal one of the simulator's recent publications."""
    feed = sim.core.feeds[case.split(" ")[0]]
    spec = feed.spec
    chosen = CASES[case][4] or feed.primary
    channel, size = (chosen, lambda spec, q: Decimal(spec.qty(q))) if isinstance(chosen, str) else chosen
    top = lambda side: [(Decimal(str(p)), Decimal(str(q))) for p, q, *_ in side[:TOP_LEVELS]]  # noqa: E731
    mine_b, mine_a = top(ob["bids"]), top(ob["asks"])
    for h in reversed(feed.view(channel).history):
        b = [(Decimal(spec.px(p)), size(spec, q)) for p, q in h.bids[:TOP_LEVELS]]
        a = [(Decimal(spec.px(p)), size(spec, q)) for p, q in h.asks[:TOP_LEVELS]]
        if b == mine_b and a == mine_a:
            return True
    return False


async def _stream(case: str) -> dict:
    async with Simulator(seed=3, venues=[case.split(" ")[0]], symbol=SIM_SYMBOL.get(case, "BTCUSDT")) as sim:
        await asyncio.sleep(WARMUP_S)
        ex, symbol = make_client(sim, case)
        try:
            markets = await ex.load_markets()
            assert symbol in markets, sorted(markets)[:20]
            books = matched = 0
            trades: list = []

            async def watch_trades() -> None:
                while True:
                    trades.extend(await ex.watch_trades(symbol))

            trade_task = asyncio.create_task(watch_trades())
            end = time.monotonic() + STREAM_S
            while time.monotonic() < end:
                ob = await ex.watch_order_book(symbol)
                books += 1
                assert ob["bids"] and ob["asks"]
                _sane(ob["bids"], True)
                _sane(ob["asks"], False)
                assert Decimal(str(ob["bids"][0][0])) < Decimal(str(ob["asks"][0][0])), "crossed book"
                matched += _matches_published(sim, case, ob)
            trade_task.cancel()
            try:
                await trade_task
            except asyncio.CancelledError:
                pass
            return {"books": books, "matched": matched, "trades": len(trades)}
        finally:
            await ex.close()


@pytest.mark.parametrize("case", sorted(CASES))
def test_ccxt_streams_from_the_simulator(case: str) -> None:
    got = asyncio.run(asyncio.wait_for(_stream(case), TIMEOUT_S))
    assert got["books"] >= 3, got
    assert got["matched"] >= 1, f"no ccxt book equalled a simulator publication: {got}"
    assert got["trades"] > 0, got
