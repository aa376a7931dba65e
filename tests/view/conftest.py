"""Real data for the view's tests: the simulator run in-process (real WebSockets, real rings, at
10x so signals come within seconds), and at its last second each pickable book's ViewModel
next to the levels its real book holds at that moment."""

import asyncio

import pytest

from nexus.feeds.runtime import RunConfig, Runtime
from nexus.view import CONSENSUS, ModelBuilder

SEVEN = ["binance-spot", "binance-perp", "bybit-perp", "okx-swap", "coinbase", "kraken", "hyperliquid"]
FIVE = ["binance-perp", "binance-spot", "bybit-perp", "okx-swap", "hyperliquid"]
LEVELS_ALL = 10_000


def _levels(rt, book: str) -> dict[str, set[str]]:
    """The decimal prices of every level of `book` now, per side ("bid", "ask")."""
    if book == CONSENSUS:
        agg = rt.agg
        return {s: {agg.price_str(p) for p, _, _ in agg.consensus.top(i, LEVELS_ALL)} for s, i in (("bid", 1), ("ask", 2))}
    rs = rt.readers[book]
    return {s: {rs.inst.price_str(p) for p, _ in rs.book.top(i, LEVELS_ALL)} for s, i in (("bid", 1), ("ask", 2))}


def _capture(venues, agg: bool, faults=(), duration_s=6.0) -> dict:
    builder = ModelBuilder(venues, "BTCUSDT", agg, depth=30)
    out = {"builder": builder}

    def on_second(line, rt):
        builder.on_second(line, rt)
        out["views"] = {}
        for book in builder.choices:
            builder.picked = book
            out["views"][book] = (builder.build(rt), _levels(rt, book))
        builder.picked = builder.choices[0]

    cfg = RunConfig(venues=list(venues), sim=True, seed=1, sim_speed=10, duration_s=duration_s, agg=agg,
                    faults=list(faults))
    out["summary"] = asyncio.run(Runtime(cfg, on_second).run())
    return out


@pytest.fixture(scope="package")
def seven():
    """Seven venues, one book each."""
    return _capture(SEVEN, agg=False)


@pytest.fixture(scope="package")
def agg_run():
    """Five venues under the aggregator, okx-swap's mid pushed away at 2 s (a divergence alert)."""
    return _capture(FIVE, agg=True, faults=["diverge:okx-swap:2"])
