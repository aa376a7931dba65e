"""The Aggregator's consensus best bid/ask on a ring, read by the broker's price source."""
import asyncio
import os
from decimal import Decimal

from nexus.broker.pricing import RingInstrument, RingPriceSource
from nexus.feeds.runtime import CONSENSUS_VENUE, RunConfig, Runtime
from nexus.instruments import instrument_id_of


class Clock:
    def now_us(self):
        import time
        return int(time.time() * 1_000_000)


def test_broker_price_source_reads_the_consensus_mid():
    ring = f"consensus-test-{os.getpid()}"

    async def main():
        rt = Runtime(RunConfig(venues=["binance-perp", "okx-swap", "bybit-perp"], sim=True, agg=True,
                               consensus_ring=ring))
        await rt.start()
        try:
            for _ in range(4000):
                rt.poll()
                await asyncio.sleep(0.001)
            pe = rt.agg.grid.price_exponent
            src = RingPriceSource(ring, {"BTC": RingInstrument(instrument_id_of(CONSENSUS_VENUE, "BTCUSDT"), pe)}, Clock())
            mid, _ = src.mid("BTC")
            b, a = rt.agg.consensus.best_bid(), rt.agg.consensus.best_ask()
            want = (Decimal(b[0]) + Decimal(a[0])) / 2 * Decimal(1).scaleb(-pe)
            return mid, want
        finally:
            await rt.stop()

    mid, want = asyncio.run(main())
    assert mid == want and Decimal(60000) < mid < Decimal(70000)
