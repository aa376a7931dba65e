"""Deribit: instruments from public/get_instruments, and `nexus run` against the simulator over
real WebSockets / HTTP on 127.0.0.1 (the book.*.100ms stream with a gap, a disconnect and
malformed frames; the REST poll with its rate limit)."""
import asyncio
from decimal import Decimal

import pytest

from nexus.feeds.runtime import RunConfig, Runtime
from nexus.venues.deribit.data import DeribitDecoder

# public/get_instruments response entries in the documented shape (https://docs.deribit.com/,
# public/get_instruments example: BTC-PERPETUAL tick_size 0.5, contract_size 10,
# min_trade_amount 10, instrument_type reversed; an option with tick_size_steps).
INSTRUMENTS = (b'{"jsonrpc":"2.0","result":[{"tick_size":0.5,"tick_size_steps":[],"taker_commission":0.0005,'
               b'"settlement_period":"perpetual","settlement_currency":"BTC","quote_currency":"USD",'
               b'"min_trade_amount":10,"kind":"future","is_active":true,"instrument_name":"BTC-PERPETUAL",'
               b'"expiration_timestamp":32503708800000,"counter_currency":"USD","contract_size":10,'
               b'"base_currency":"BTC","instrument_type":"reversed","future_type":"reversed"},'
               b'{"tick_size":0.0001,"tick_size_steps":[{"above_price":0.005,"tick_size":0.0005}],'
               b'"strike":100000.0,"settlement_period":"month","settlement_currency":"BTC","quote_currency":"BTC",'
               b'"option_type":"call","min_trade_amount":0.1,"kind":"option","is_active":true,'
               b'"instrument_name":"BTC-27DEC26-100000-C","contract_size":1.0,"counter_currency":"USD",'
               b'"base_currency":"BTC","instrument_type":"reversed"}]}')


def test_instruments_come_from_the_listing_options_included():
    d = DeribitDecoder()
    assert d.load_metadata(INSTRUMENTS) == 2
    perp = d.instrument("BTC-PERPETUAL")
    assert (perp.tick_size, perp.lot_size, perp.contract_kind, perp.contract_value) == ("0.5", "10", "inverse", "1")
    assert perp.base_qty(perp.qty_to_int("50000"), perp.price_to_int("50000")) == Decimal(1)  # USD / price
    opt = d.instrument("BTC-27DEC26-100000-C")
    assert (opt.tick_size, opt.lot_size, opt.contract_kind) == ("0.0001", "0.1", "linear")
    assert not d.generic


def _run(faults=(), poll_s=None, duration_s=14):
    async def main():
        rt = Runtime(RunConfig(venues=["deribit"], sim=True, seed=5, faults=list(faults), signals=False,
                               duration_s=duration_s, poll_s={"deribit": poll_s} if poll_s else {}))
        await rt.start()
        loop = asyncio.get_running_loop()
        t_end = loop.time() + duration_s
        while loop.time() < t_end:
            rt.poll()
            await asyncio.sleep(0.001)
        rt.poll()
        f = rt.feeds["deribit"]
        st = f.sync.books[f.symbol]
        inst = st.inst
        mine = [[inst.price_str(p), inst.qty_str(q)] for p, q in st.book.top(1, 10)] + \
               [[inst.price_str(p), inst.qty_str(q)] for p, q in st.book.top(2, 10)]
        sim = rt.sim.book("deribit", seq=f.last_book_seq)
        want = sim["bids"][:10] + sim["asks"][:10]
        ring = rt.readers["deribit"].book
        ring_levels = [[inst.price_str(p), inst.qty_str(q)] for p, q in ring.top(1, 10)] + \
                      [[inst.price_str(p), inst.qty_str(q)] for p, q in ring.top(2, 10)]
        stats = rt.venue_stats()["deribit"]
        await rt.stop()
        return st.synced, mine, want, ring_levels, stats, f

    return asyncio.run(main())


def _same(a, b):
    return [(Decimal(p), Decimal(q)) for p, q in a] == [(Decimal(p), Decimal(q)) for p, q in b]


def test_stream_with_gap_disconnect_and_malformed_frames_matches_the_simulator():
    synced, mine, want, ring, s, feed = _run(["gap:deribit:3", "malformed:deribit:6", "disconnect:deribit:8"])
    assert synced and len(mine) == 20 and _same(mine, want) and ring == mine
    assert s["state"] == "LIVE" and s["gaps"] >= 1 and s["resyncs"] >= 1 and s["reconnects"] >= 1, s
    assert s["malformed"] >= 1
    assert feed.instruments_loaded and not feed.decoder.generic  # tick/lot from get_instruments


@pytest.mark.parametrize("interval_s,limited", [(0.25, False), (0.01, True)])
def test_poll_mode_and_its_rate_limit(interval_s, limited):
    synced, mine, want, ring, s, _ = _run(poll_s=interval_s, duration_s=6)
    assert synced and _same(mine, want) and ring == mine and s["state"] == "LIVE"
    assert (s["rate_limited"] > 0) is limited, s
