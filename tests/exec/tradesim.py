"""A simulator with trading accounts and Executors on it, over real HTTP/WebSocket on 127.0.0.1,
for any venue whose package declares an order adapter."""
import asyncio
import time
from contextlib import asynccontextmanager

from nexus.exec.client import Executor
from nexus.exec.keys import PASSPHRASE_VENUES, Credentials
from nexus.sim.simulator import Simulator
from nexus.venues import registry

VENUES = ("binance-spot", "binance-perp")
PASSPHRASE = "pass-A"


@asynccontextmanager
async def simulator(venues=VENUES, **kw):
    sim = await Simulator(seed=5, venues=list(venues), epoch_ns=time.time_ns() // 1_000_000 * 1_000_000, wall_clock=True,
                          **kw).start()
    try:
        await asyncio.sleep(0.3)        # the book fills up
        yield sim
    finally:
        await sim.stop()


def adapter(sim, venue, key="key-A", secret="secret-A", passphrase=PASSPHRASE, **kw):
    factory = registry.venue(venue).order_adapter_factory()
    creds = Credentials(venue, key, secret, passphrase if venue in PASSPHRASE_VENUES else None)
    return factory(creds, rest_url=sim.rest_url(venue), ws_url=sim.url(venue), **kw)


@asynccontextmanager
async def executor(sim, venue, key="key-A", secret="secret-A", *, open_account=True, stream=True,
                   passphrase=PASSPHRASE, **kw):
    if open_account:
        sim.open_account(venue, key, secret, passphrase=passphrase if venue in PASSPHRASE_VENUES else None)
    ex = Executor(adapter(sim, venue, key, secret, passphrase, **kw))
    await ex.start(stream=stream)
    try:
        yield ex
    finally:
        await ex.stop()


def run(coro):
    return asyncio.run(coro)


async def assert_key_refused(sim, venue, key, secret):
    """`keys check` with this key is refused with the seed's advice."""
    import pytest

    from nexus.exec.client import KeyRefused

    ex = Executor(adapter(sim, venue, key, secret))
    await ex.start(stream=False)
    try:
        with pytest.raises(KeyRefused, match="Never enable Withdrawals"):
            await ex.adapter.key_info()
    finally:
        await ex.stop()


async def send_raw(sim, venue, raw: bytes) -> dict:
    """Raw request bytes written to the simulator's socket; the JSON answer."""
    import json

    import httpx

    url = httpx.URL(sim.rest_url(venue))
    reader, writer = await asyncio.open_connection(url.host, url.port)
    writer.write(raw)
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    length = int(next(x for x in head.split(b"\r\n") if x.lower().startswith(b"content-length")).split(b":")[1])
    doc = json.loads(await reader.readexactly(length))
    writer.close()
    return doc


async def sell_down_to(sim, venue, other, symbol, price, ex, client_id, tries=5):
    """`other` sells at `price` all that is bid at or above it, again while the resting bid
    `client_id` of `ex` at `price` is not filled: the simulated market adds bids above it
    between reading the book and the sell (more so on a loaded machine), which take it first."""
    from decimal import Decimal

    from nexus.exec.orders import State

    for _ in range(tries):
        big = sum(Decimal(q) for p, q in sim.book(venue)["bids"] if Decimal(p) >= Decimal(price))
        await other.place(await other.request(symbol, "sell", "limit", str(big), price=price))
        try:
            await ex.wait_for(client_id, lambda x: x.state is State.FILLED, 1)
            return
        except (asyncio.TimeoutError, TimeoutError):
            continue


async def assert_clock_drift_refused(sim, venue, symbol, side, qty, off_ms, says=(), within_ms=150, *,
                                     open_executor=None, then_fills=False):
    """The local clock moves `off_ms` away after the executor's time sync: a market order is
    refused as ClockDrift, whose message asks to sync the computer clock, says each of `says`
    (the venue's code, its window) and names the drift (within `within_ms` of `off_ms`); no
    order reaches the venue and the order is REJECTED. With `then_fills`, the refusal has
    re-synced the offset: the same order placed again fills. `open_executor(**kw)` opens the
    executor (default: `executor(sim, venue, **kw)`)."""
    import re

    import pytest

    from nexus.exec.client import ClockDrift
    from nexus.exec.orders import State

    skew = {"ms": 0}
    clock = lambda: time.time_ns() // 1_000_000 + skew["ms"]   # noqa: E731
    opened = (open_executor or (lambda **kw: executor(sim, venue, **kw)))(clock_ms=clock, stream=False)
    async with opened as ex:
        skew["ms"] = off_ms
        req = await ex.request(symbol, side, "market", qty)
        with pytest.raises(ClockDrift) as e:
            await ex.place(req)
        m = str(e.value)
        assert "sync your computer clock" in m and all(x in m for x in says), m
        drift = int(re.search(r"timestamp was ([+-]\d+) ms off", m).group(1))
        assert off_ms - within_ms <= drift <= off_ms + within_ms, m
        assert len(sim.exchange(venue).orders) == 0 and ex.tracker.get(req.client_id).state is State.REJECTED
        if then_fills:
            o = await ex.place(await ex.request(symbol, side, "market", qty))
            assert o.state is State.FILLED


async def place_through_a_timeout(ex, exchange, symbol, side, qty, *, venue_keeps_client_id=True):
    """A market order whose answer the simulated venue (`exchange`, sim.exchange(venue)) holds
    back 2 s, past the executor's timeout (0.5 s in these tests): the executor queries it by
    client id, finds it filled and never sends it twice; the venue holds that one order, under
    the request's client id where `venue_keeps_client_id` (not Bitfinex: its cid is a number
    the adapter derives). Returns the request (for the venue's own checks of a resend)."""
    from nexus.exec.orders import State

    exchange.delay_next_response(2.0)
    req = await ex.request(symbol, side, "market", qty)
    o = await ex.place(req)
    assert o.state is State.FILLED and ex.sends == 1
    assert len(exchange.orders) == 1
    if venue_keeps_client_id:
        assert [x.client_id for x in exchange.orders.values()] == [req.client_id]
    return req
