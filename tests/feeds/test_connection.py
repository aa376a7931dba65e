"""Feed connections against a real WebSocket server on 127.0.0.1."""
import asyncio
import random

from nexus.feeds.backoff import Backoff
from nexus.feeds.connection import FeedConnection
from nexus.venues.registry import Heartbeat

from .wsserver import ScriptServer


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 30))


def test_subscribes_receives_and_reassembles_fragments():
    async def main():
        srv = await ScriptServer(lambda n: [b'{"i":%d}' % i for i in range(50)], fragment=True).start()
        got = []
        c = FeedConnection("binance-spot", srv.url, [b'{"sub":1}'], Heartbeat(0, None, None), lambda p, ts: got.append((p, ts)))
        c.start()
        for _ in range(200):
            if len(got) == 50:
                break
            await asyncio.sleep(0.01)
        await c.stop()
        await srv.stop()
        return srv, got, c

    srv, got, c = run(main())
    assert srv.received[0] == b'{"sub":1}'
    assert [p for p, _ in got] == [b'{"i":%d}' % i for i in range(50)]
    ts = [t for _, t in got]
    assert ts == sorted(ts) and ts[0] > 0
    assert c.stats.msgs == 50 and c.stats.reconnects == 0


def test_reconnects_with_backoff_after_drops():
    async def main():
        srv = await ScriptServer(lambda n: [b'{"conn":%d}' % n], drop_after=2).start()
        got, ups, downs = [], [], []
        backoff = Backoff(base_s=0.05, max_s=0.2, rng=random.Random(1))
        c = FeedConnection("okx-swap", srv.url, [b"sub"], Heartbeat(0, None, None),
                           lambda p, ts: got.append(p), lambda: ups.append(1), lambda: downs.append(1), backoff)
        c.start()
        for _ in range(300):
            if len(got) == 3:
                break
            await asyncio.sleep(0.01)
        await c.stop()
        await srv.stop()
        return got, ups, downs, c, backoff

    got, ups, downs, c, backoff = run(main())
    assert got == [b'{"conn":1}', b'{"conn":2}', b'{"conn":3}']  # resubscribed every time
    assert len(ups) == 3 and len(downs) >= 2
    assert c.stats.reconnects == 2
    assert backoff.attempt >= 2


def test_application_heartbeat_is_sent_and_pong_swallowed():
    async def main():
        srv = await ScriptServer(lambda n: [b"hello"]).start()
        got = []
        c = FeedConnection("okx-swap", srv.url, [b"sub"], Heartbeat(0.2, b"ping", b"pong"), lambda p, ts: got.append(p))
        c.start()
        await asyncio.sleep(1.0)
        await c.stop()
        await srv.stop()
        return srv, got, c

    srv, got, c = run(main())
    assert srv.received.count(b"ping") >= 2
    assert got == [b"hello"]  # pongs are liveness only
    assert c.stats.reconnects == 0  # pongs arrived, so no auto-ping timeout


def test_backoff_is_bounded_jittered_and_resets():
    b = Backoff(base_s=0.5, max_s=4, rng=random.Random(7))
    delays = [b.next_delay() for _ in range(10)]
    caps = [min(4, 0.5 * 2**i) for i in range(10)]
    assert all(c / 2 <= d <= c for d, c in zip(delays, caps))
    assert len(set(delays)) == 10  # jittered
    b.connected_for(1)
    assert b.attempt == 10
    b.connected_for(60)
    assert b.attempt == 0
