"""A simulator with trading accounts and Executors on it, over real HTTP/WebSocket on 127.0.0.1."""
import asyncio
import time
from contextlib import asynccontextmanager

from nexus.exec.client import Executor
from nexus.exec.keys import Credentials
from nexus.sim.simulator import Simulator
from nexus.venues.binance.orders import BinanceAdapter

VENUES = ("binance-spot", "binance-perp")


@asynccontextmanager
async def simulator(**kw):
    sim = await Simulator(seed=5, venues=list(VENUES), epoch_ns=time.time_ns() // 1_000_000 * 1_000_000,
                          **kw).start()
    try:
        await asyncio.sleep(0.3)        # the book fills up
        yield sim
    finally:
        await sim.stop()


def adapter(sim, venue, key="key-A", secret="secret-A", **kw) -> BinanceAdapter:
    return BinanceAdapter(venue, Credentials(venue, key, secret), rest_url=sim.rest_url(venue),
                          ws_url=sim.url(venue), **kw)


@asynccontextmanager
async def executor(sim, venue, key="key-A", secret="secret-A", *, open_account=True, stream=True, **kw):
    if open_account:
        sim.open_account(venue, key, secret)
    ex = Executor(adapter(sim, venue, key, secret, **kw))
    await ex.start(stream=stream)
    try:
        yield ex
    finally:
        await ex.stop()


def run(coro):
    return asyncio.run(coro)
