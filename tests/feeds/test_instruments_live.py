"""Live, every venue's instruments come from its own listing endpoint, served here by the
simulator from its own instruments: the feed fetches it before its first connection
(FeedSpec.instruments_path / instruments_body), the decoder's load_metadata reads it, and
the book runs at the listed tick, lot and contract value (no generic fallback, no table)."""

import asyncio
from decimal import Decimal

import pytest

from nexus.feeds.handler import VenueFeed
from nexus.feeds.specs import spec
from nexus.sim.simulator import Simulator

VENUES = ["binance-spot", "binance-perp", "bybit-perp", "okx-swap", "coinbase", "kraken", "hyperliquid"]


@pytest.mark.parametrize("venue", VENUES)
def test_live_feed_takes_its_instrument_from_the_simulators_listing(venue):
    async def main():
        async with Simulator(seed=3, venues=[venue], speed=4.0) as sim:
            s = spec(venue)
            assert s.instruments_path is not None
            published = []
            feed = VenueFeed(venue, s, "BTCUSDT", sim.url(venue), sim.rest_url(venue), published.append)
            assert not feed.instruments_loaded
            feed.conn.start()
            try:
                for _ in range(200):
                    st = feed.sync.books.get(feed.symbol)
                    if st is not None and st.synced and published:
                        break
                    await asyncio.sleep(0.05)
            finally:
                await feed.conn.stop()
            return feed, sim.core.feeds[venue].spec, feed.sync.books.get(feed.symbol)

    feed, sim_inst, st = asyncio.run(main())
    assert feed.instruments_loaded
    assert feed.symbol not in feed.decoder.generic  # never the generic stand-in
    inst = feed.decoder.instrument(feed.symbol)
    if venue == "hyperliquid":  # meta gives szDecimals; prices have at most 6 - szDecimals decimals
        assert inst.price_exponent == 6 - sim_inst.extra["szDecimals"]
        assert Decimal(sim_inst.tick_str()) % Decimal(inst.tick_size) == 0
    else:
        assert Decimal(inst.tick_size) == Decimal(sim_inst.tick_str())
    assert Decimal(inst.lot_size) == Decimal(sim_inst.lot_str())
    if venue == "okx-swap":  # contracts: the listing's ctVal
        assert Decimal(inst.contract_value) == Decimal(sim_inst.contract_value)
    assert st is not None and st.synced and st.inst == inst  # the book runs on the listed instrument
