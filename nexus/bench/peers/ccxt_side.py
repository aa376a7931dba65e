"""`nexus bench peers`, decoding by ccxt pro: its Client fed each frame as received text
(handle_text_or_binary_message -> its JSON parser -> the exchange's handle_message), its
markets loaded and Binance's REST snapshot fetched by its own code, the HTTP answered by the
simulator's routes."""

from __future__ import annotations

from decimal import Decimal

from nexus.bench.peers.common import Prepared, check_decode, clock_ns, missing
from nexus.bench.peers.frames import SimFrames


class _CcxtCase:
    """How ccxt pro reads one venue: its exchange class and unified symbol, the WebSocket URL
    its client would open (ccxt picks the market type from it), the subscriptions its watch_*
    calls would have registered on that client (message hashes), and for Binance the order
    book watch_order_book creates before its REST snapshot task runs."""

    def __init__(self, cls: str, symbol: str, url, hashes: tuple[str, ...], options: dict | None = None,
                 binance_snapshot: str = "") -> None:
        self.cls_name, self.symbol, self.url, self.hashes = cls, symbol, url, hashes
        self.options, self.binance_snapshot = options or {}, binance_snapshot


CCXT_CASES = {
    "binance-spot": _CcxtCase("binance", "BTC/USDT", lambda ex: ex.urls["api"]["ws"]["spot"],
                              ("orderbook::BTC/USDT", "trade::BTC/USDT"), binance_snapshot="spot",
                              options={"fetchMarkets": {"types": ["spot"]}}),
    "binance-perp": _CcxtCase("binanceusdm", "BTC/USDT:USDT", lambda ex: ex.urls["api"]["ws"]["linear"],
                              ("orderbook::BTC/USDT:USDT", "trade::BTC/USDT:USDT"), binance_snapshot="linear",
                              options={"fetchMarkets": {"types": ["linear"]}}),
    "bybit-perp": _CcxtCase("bybit", "BTC/USDT:USDT", lambda ex: ex.urls["api"]["ws"]["public"]["contract"]
                            if isinstance(ex.urls["api"]["ws"]["public"].get("contract"), str)
                            else "wss://stream.bybit.com/v5/public/linear",
                            ("orderbook:BTC/USDT:USDT", "trades:BTC/USDT:USDT")),
    "okx-swap": _CcxtCase("okx", "BTC/USDT:USDT", lambda ex: ex.urls["api"]["ws"]["public"]
                          if isinstance(ex.urls["api"]["ws"], dict) else ex.urls["api"]["ws"],
                          ("books:BTC/USDT:USDT", "trades:BTC/USDT:USDT")),
    "coinbase": _CcxtCase("coinbase", "BTC/USD", lambda ex: ex.urls["api"]["ws"],
                          ("level2::BTC/USD", "market_trades::BTC/USD")),
    "kraken": _CcxtCase("kraken", "BTC/USD", lambda ex: ex.urls["api"]["ws"]["publicV2"],
                        ("orderbook::BTC/USD", "trade::BTC/USD")),
    "hyperliquid": _CcxtCase("hyperliquid", "BTC/USDC:USDC", lambda ex: ex.urls["api"]["ws"]["public"],
                             ("orderbook:BTC/USDC:USDC", "trade:BTC/USDC:USDC")),
}

CCXT_NOT_COVERED: dict = {}


def decode(venue: str, sim: SimFrames, nexus: dict):
    import asyncio
    import json
    from urllib.parse import parse_qsl, urlsplit

    import ccxt
    import ccxt.pro as cp

    case = CCXT_CASES[venue]
    frames = [f.decode() for f in sim.frames]
    snap_at = None
    if case.binance_snapshot:
        # where the client's snapshot request returns: after the frames received before it
        snap_at = sim.snapshot_at

    async def fetch(url, method="GET", headers=None, body=None):
        # ccxt's HTTP transport, answered by the simulator's REST routes (markets, snapshot)
        u = urlsplit(url)
        if isinstance(body, (str, bytes)) and body:
            body = json.loads(body)     # a POST body (Hyperliquid's /info), as the server parses it
        return json.loads(sim.rest(method, u.path, dict(parse_qsl(u.query)), body))

    async def make():
        # no rate limiter: its sleeps before the REST snapshot would be timed as ccxt's cost
        ex = getattr(cp, case.cls_name)({"enableRateLimit": False, "options": {"tradesLimit": 10**7, **case.options}})
        ex.fetch = fetch
        await ex.load_markets()
        client = ex.client(case.url(ex))
        for h in case.hashes:
            client.subscriptions[h] = True
        if case.binance_snapshot:
            ex.orderbooks[case.symbol] = ex.order_book({}, 1000)   # as watch_order_book does
        return ex, client

    async def run(ex, client):
        handle = client.handle_text_or_binary_message
        sub = {"symbol": case.symbol, "type": case.binance_snapshot, "limit": 1000, "params": {}}
        t0 = clock_ns()
        if snap_at is None:
            for m in frames:
                handle(m)
        else:
            for m in frames[:snap_at]:
                handle(m)
            await ex.fetch_order_book_snapshot(client, None, sub)
            for m in frames[snap_at:]:
                handle(m)
        return clock_ns() - t0

    async def check():
        ex, client = await make()
        try:
            await run(ex, client)
            ob = ex.orderbooks.get(case.symbol)
            if ob is None:
                return missing("ccxt", f"ccxt kept no order book for {case.symbol}"), 0, 0
            f = lambda v: Decimal(repr(v))  # noqa: E731  ccxt's floats, parsed from the venue's text
            got = ([(f(p), f(q)) for p, q, *_ in ob["bids"]], [(f(p), f(q)) for p, q, *_ in ob["asks"]])
            trades = [(f(t["price"]), f(t["amount"])) for t in ex.trades.get(case.symbol, [])]
        finally:
            await ex.close()
        bad, nexus_only = check_decode("ccxt", got, trades, nexus)
        return bad, len(trades), nexus_only

    async def one_round():
        ex, client = await make()       # a fresh exchange and client each pass (not timed)
        try:
            return await run(ex, client)
        finally:
            await ex.close()

    loop = asyncio.new_event_loop()
    try:
        bad, ntrades, nexus_only = loop.run_until_complete(check())
    except BaseException:
        loop.close()
        raise
    if bad is not None:
        loop.close()
        return bad
    api = (f"ccxt.pro.{case.cls_name}: its Client.handle_text_or_binary_message(frame) -> handle_message "
           "(its JSON parser, order book and trade handlers; subscriptions registered as watch_* would"
           + (", REST snapshot through its own fetch_order_book_snapshot" if case.binance_snapshot else "") + ")")
    return Prepared("ccxt", ccxt.__version__, api, lambda: loop.run_until_complete(one_round()), len(frames),
                    ntrades, nexus_only, close=loop.close)
