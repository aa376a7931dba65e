"""Crypto.com: instruments from public/get-instruments, the heartbeat answer, and `nexus run`
against the simulator over real WebSockets on 127.0.0.1 (gap, malformed frames, disconnect)."""
import asyncio
from decimal import Decimal

from nexus.feeds.runtime import RunConfig, Runtime
from nexus.venues.cryptocom.data import CryptocomDecoder
from nexus.venues.cryptocom.feed import respond_heartbeat

# public/get-instruments in the documented shape (https://exchange-docs.crypto.com/exchange/v1/
# rest-ws/index.html#public-get-instruments).
INSTRUMENTS = (b'{"id":1,"method":"public/get-instruments","code":0,"result":{"data":[{"symbol":"BTCUSD-PERP",'
               b'"inst_type":"PERPETUAL_SWAP","display_name":"BTCUSD Perpetual","base_ccy":"BTC","quote_ccy":"USD",'
               b'"quote_decimals":1,"quantity_decimals":4,"price_tick_size":"0.1","qty_tick_size":"0.0001",'
               b'"max_leverage":"100","tradable":true,"expiry_timestamp_ms":0,"underlying_symbol":"BTCUSD-INDEX"}]}}')


def test_instruments_and_heartbeat_answer():
    d = CryptocomDecoder()
    assert d.load_metadata(INSTRUMENTS) == 1
    i = d.instrument("BTCUSD-PERP")
    assert (i.tick_size, i.lot_size, i.contract_kind) == ("0.1", "0.0001", "linear") and not d.generic
    # the documented heartbeat request and its answer (same id)
    assert respond_heartbeat(b'{"id":1587523073344,"method":"public/heartbeat","code":0}') == \
        b'{"id":1587523073344,"method":"public/respond-heartbeat"}'


def test_stream_matches_the_simulator_through_faults():
    async def main():
        rt = Runtime(RunConfig(venues=["cryptocom"], sim=True, seed=3, signals=False, duration_s=14,
                               faults=["gap:cryptocom:3", "malformed:cryptocom:6", "disconnect:cryptocom:8"]))
        await rt.start()
        loop = asyncio.get_running_loop()
        t_end = loop.time() + 14
        while loop.time() < t_end:
            rt.poll()
            await asyncio.sleep(0.001)
        rt.poll()
        f = rt.feeds["cryptocom"]
        st = f.sync.books[f.symbol]
        inst = st.inst
        mine = [[inst.price_str(p), inst.qty_str(q)] for s in (1, 2) for p, q in st.book.top(s, 10)]
        sim = rt.sim.book("cryptocom", channel="book.BTCUSD-PERP.50", seq=f.last_book_seq)
        want = sim["bids"][:10] + sim["asks"][:10]
        ring = [[inst.price_str(p), inst.qty_str(q)] for s in (1, 2) for p, q in rt.readers["cryptocom"].book.top(s, 10)]
        stats = rt.venue_stats()["cryptocom"]
        await rt.stop()
        return st.synced, mine, want, ring, stats

    synced, mine, want, ring, s = asyncio.run(main())
    assert synced and len(mine) == 20 and ring == mine
    assert [(Decimal(p), Decimal(q)) for p, q in mine] == [(Decimal(p), Decimal(q)) for p, q in want]
    assert s["state"] == "LIVE" and s["gaps"] >= 1 and s["reconnects"] >= 1 and s["malformed"] >= 1, s
