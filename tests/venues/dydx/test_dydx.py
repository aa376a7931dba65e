"""dYdX: instruments from /v4/perpetualMarkets, and `nexus run` against the simulator over real
WebSockets on 127.0.0.1 (a lost message seen as a message_id jump, malformed frames, a
disconnect): the book matches one of the simulator's publications and the ring's."""
import asyncio
from decimal import Decimal

from nexus.feeds.runtime import RunConfig, Runtime
from nexus.venues.dydx.data import DydxDecoder

# GET /v4/perpetualMarkets in the documented shape (dYdX Indexer REST, Get Perpetual Markets).
MARKETS = (b'{"markets":{"BTC-USD":{"clobPairId":"0","ticker":"BTC-USD","status":"ACTIVE","oraclePrice":"26000",'
           b'"atomicResolution":-10,"quantumConversionExponent":-9,"tickSize":"1","stepSize":"0.0001",'
           b'"stepBaseQuantums":1000000,"subticksPerTick":100000,"marketType":"CROSS"}}}')


def test_instruments_from_perpetual_markets():
    d = DydxDecoder()
    assert d.load_metadata(MARKETS) == 1
    i = d.instrument("BTC-USD")
    assert (i.tick_size, i.lot_size, i.base, i.quote) == ("1", "0.0001", "BTC", "USD") and not d.generic


def test_stream_matches_the_simulator_through_faults():
    async def main():
        rt = Runtime(RunConfig(venues=["dydx"], sim=True, seed=9, signals=False, duration_s=14,
                               faults=["gap:dydx:3", "malformed:dydx:6", "disconnect:dydx:8"]))
        await rt.start()
        loop = asyncio.get_running_loop()
        t_end = loop.time() + 14
        while loop.time() < t_end:
            rt.poll()
            await asyncio.sleep(0.001)
        rt.poll()
        f = rt.feeds["dydx"]
        st = f.sync.books[f.symbol]
        inst = st.inst
        mine = [(Decimal(inst.price_str(p)), Decimal(inst.qty_str(q))) for s in (1, 2) for p, q in st.book.top(s, 10)]
        n = rt.sim.book("dydx")["seq"]
        pubs = []
        for k in range(max(1, n - 60), n + 1):
            try:
                b = rt.sim.book("dydx", seq=k)
            except KeyError:
                continue
            pubs.append([(Decimal(p), Decimal(q)) for p, q in b["bids"][:10] + b["asks"][:10]])
        ring = [(Decimal(inst.price_str(p)), Decimal(inst.qty_str(q)))
                for s in (1, 2) for p, q in rt.readers["dydx"].book.top(s, 10)]
        stats = rt.venue_stats()["dydx"]
        await rt.stop()
        return st.synced, mine, pubs, ring, stats

    synced, mine, pubs, ring, s = asyncio.run(main())
    assert synced and len(mine) == 20, (synced, mine, s)
    assert ring == mine
    assert mine in pubs  # the book right after one of the simulator's recent publications
    assert s["state"] == "LIVE" and s["gaps"] >= 1 and s["reconnects"] >= 1 and s["malformed"] >= 1, s
