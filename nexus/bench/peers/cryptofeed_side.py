"""`nexus bench peers`, decoding by cryptofeed's own feed handlers: each frame through the feed's
`message_handler` with no-op callbacks (its JSON parsing, book, sequence and snapshot handling),
the instruments parsed by its own symbol parser from the simulator's listing."""

from __future__ import annotations


from nexus.bench.peers.common import Prepared, check_decode, clock_ns, missing, same, version_of
from nexus.bench.peers.frames import CRYPTOFEED_CASES, SimFrames


class _FakeHTTP:
    """Stands in for a cryptofeed feed's `http_conn` (its REST snapshot client): answers the
    feed's own snapshot request from the simulator's REST route of the same moment."""

    def __init__(self, sim: SimFrames) -> None:
        self.sim = sim

    async def read(self, address: str, **kw):
        from urllib.parse import parse_qsl, urlsplit

        u = urlsplit(address)
        return self.sim.rest("GET", u.path, dict(parse_qsl(u.query))).decode()

    async def close(self) -> None:
        pass


CRYPTOFEED_NOT_COVERED = {
    "kraken": "cryptofeed 2.4.1 speaks Kraken's WebSocket v1 and Nexus decodes v2: the two never read the same frames",
    "hyperliquid": "cryptofeed 2.4.1 has no Hyperliquid feed",
}


def _cryptofeed_load_symbols(cls, sim: SimFrames) -> None:
    """cryptofeed's own symbol parser over the simulator's instrument listing (what its
    symbol_mapping() would fetch over HTTP)."""
    from urllib.parse import parse_qsl, urlsplit

    from cryptofeed.symbols import Symbols

    if Symbols.populated(cls.id):
        return
    data = []
    for ep in cls.rest_endpoints:
        addrs = cls._symbol_endpoint_prepare(ep)
        for a in addrs if isinstance(addrs, list) else [addrs]:
            u = urlsplit(a)
            import json
            data.append(json.loads(sim.rest("GET", u.path, dict(parse_qsl(u.query)))))
    syms, info = cls._parse_symbol_data(data if len(data) > 1 else data[0])
    Symbols.set(cls.id, syms, info)


def decode(venue: str, sim: SimFrames, nexus: dict):
    import asyncio

    from cryptofeed.defines import L2_BOOK, TRADES

    case = CRYPTOFEED_CASES[venue]
    cls, symbol, kw = case.cls, case.symbol, case.kw
    _cryptofeed_load_symbols(cls, sim)
    frames = [f.decode() for f in sim.frames]
    seen = {"trades": []}

    async def noop(*a):
        pass

    async def count_trade(t, ts):
        seen["trades"].append((t.price, t.amount))

    def make(check: bool):
        f = cls(symbols=[symbol], channels=[L2_BOOK, TRADES],
                callbacks={L2_BOOK: noop, TRADES: count_trade if check else noop}, **kw)
        f.http_conn = _FakeHTTP(sim)
        # the per-connection state cryptofeed resets when it connects
        for name in ("_reset", f"_{cls.__name__}__reset"):
            fn = getattr(f, name, None)
            if fn is not None:
                try:
                    fn()
                except TypeError:
                    fn(Conn())
                break
        return f

    class Conn:
        uuid = f"bench-{venue}"
        address = case.address
        subscription: dict = {}

    loop = asyncio.new_event_loop()

    async def run(f):
        mh, conn = f.message_handler, Conn()
        t0 = clock_ns()
        for m in frames:
            await mh(m, conn, 0.0)
        return clock_ns() - t0

    try:
        # the check pass first: cryptofeed's final book and trades against Nexus's
        f = make(True)
        loop.run_until_complete(run(f))
        book = getattr(f, "_l2_book", {}).get(symbol)
        if book is None:
            loop.close()
            return missing("cryptofeed", f"cryptofeed kept no book for {symbol} from the frames")
        got = (book.book.bids.to_list(), book.book.asks.to_list())
        bad, nexus_only = check_decode("cryptofeed", got, seen["trades"], nexus)
    except BaseException:
        loop.close()
        raise
    if bad:
        loop.close()
        # the known cause is said only when the difference is the one it explains
        if case.known and bad["trades_agree"] and same(got[0], nexus["_book"][0]):
            bad["known_cause"] = case.known
        return bad
    api = (f"cryptofeed.exchanges.{cls.__name__}.message_handler(frame) with no-op callbacks "
           "(its own parsing, book and sequence/snapshot handling)")
    return Prepared("cryptofeed", version_of("cryptofeed"), api,
                    lambda: loop.run_until_complete(run(make(False))), len(frames), len(seen["trades"]),
                    nexus_only, close=loop.close)
