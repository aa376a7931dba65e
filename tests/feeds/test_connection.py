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


async def _http_server(reply: bytes):
    """A plain TCP server on 127.0.0.1 that answers anything with `reply` and closes."""
    async def handle(reader, writer):
        await reader.read(4096)
        writer.write(reply)
        await writer.drain()
        writer.close()

    srv = await asyncio.start_server(handle, "127.0.0.1", 0)
    return srv, srv.sockets[0].getsockname()[1]


def _failures(url: str, reply: bytes | None = None, seconds: float = 0.6) -> FeedConnection:
    """Let a connection to `url` fail for `seconds` (fast backoff) and return it. With `reply`,
    `url` is a format for the port of a plain TCP server answering `reply` ("ws://127.0.0.1:{}/")."""
    async def main():
        srv = None
        target = url
        if reply is not None:
            srv, port = await _http_server(reply)
            target = url.format(port)
        c = FeedConnection("okx-swap", target, [b"sub"], Heartbeat(0, None, None), lambda p, ts: None,
                           backoff=Backoff(base_s=0.05, max_s=0.1, rng=random.Random(1)))
        c.start()
        await asyncio.sleep(seconds)
        await c.stop()
        if srv is not None:
            srv.close()
        return c

    return run(main())


def test_a_refused_connection_says_so_and_counts_the_attempts():
    c = _failures("ws://127.0.0.1:1/")
    assert c.stats.last_error == "connection refused by 127.0.0.1:1"
    assert c.stats.attempts >= 3 and c.stats.connects == 0


def test_an_http_status_instead_of_an_upgrade_is_reported_with_its_code():
    c = _failures("ws://127.0.0.1:{}/ws", b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
    assert c.stats.last_error == "HTTP 403 Forbidden: the server refused the WebSocket upgrade"
    assert c.stats.attempts >= 2


def test_a_tls_failure_is_named_tls():
    # wss:// to a server that speaks plain HTTP: the TLS handshake fails
    c = _failures("wss://127.0.0.1:{}/ws", b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
    assert c.stats.last_error.startswith("TLS: handshake with 127.0.0.1:"), c.stats.last_error


def test_a_name_that_does_not_resolve_is_named_dns():
    c = _failures("ws://nosuch.invalid/ws")  # .invalid never resolves (RFC 2606)
    assert c.stats.last_error.startswith("DNS: cannot resolve nosuch.invalid"), c.stats.last_error


def test_run_says_why_no_venue_became_live():
    import json
    import subprocess
    import sys

    p = subprocess.run([sys.executable, "-m", "nexus.cli", "run", "--venues", "okx-swap", "--endpoint",
                        "okx-swap=ws://127.0.0.1:1", "--rest-endpoint", "okx-swap=http://127.0.0.1:1",  # its listing first
                        "--duration", "3", "--json", "--no-signals"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 4
    okx = json.loads(p.stdout.splitlines()[-1])["summary"]["okx-swap"]
    listing = "instrument listing http://127.0.0.1:1/api/v5/public/instruments?instType=SWAP&instId=BTC-USDT-SWAP"
    assert okx["state"] == "DOWN" and okx["error"] == f"{listing}: connection refused by 127.0.0.1:1"
    assert okx["attempts"] >= 2
    assert f"okx-swap: {listing}: connection refused by 127.0.0.1:1 ({okx['attempts']} attempts)" \
        in p.stderr.splitlines()[-1]


def test_periodic_ping_is_sent_whatever_the_traffic():
    """Heartbeat.every_s (KuCoin's pingInterval, Tradovate's "[]"): the ping goes out on its
    period even while messages keep arriving (an idle-only ping would never fire here)."""
    async def main():
        srv = await ScriptServer(lambda n: [b'{"i":%d}' % i for i in range(3)]).start()
        got = []
        c = FeedConnection("kraken", srv.url, [b"sub"], Heartbeat(0, b"ping", b"pong", every_s=0.2),
                           lambda p, ts: got.append(p))
        c.start()
        await asyncio.sleep(0.5)
        pings_mid = srv.received.count(b"ping")
        await asyncio.sleep(0.6)
        await c.stop()
        await srv.stop()
        return srv, got, c, pings_mid

    srv, got, c, pings_mid = run(main())
    assert pings_mid >= 1 and srv.received.count(b"ping") >= pings_mid + 2
    assert got == [b'{"i":0}', b'{"i":1}', b'{"i":2}']      # the pongs are liveness only
    assert c.stats.reconnects == 0


def test_server_heartbeat_request_is_answered_not_passed_on():
    """Heartbeat.answer_marker / answer (Deribit's test_request): answered on the socket; the
    market messages around it still reach the handler."""
    req = b'{"jsonrpc":"2.0","method":"heartbeat","params":{"type":"test_request"}}'
    answer = b'{"jsonrpc":"2.0","id":9,"method":"public/test","params":{}}'

    async def main():
        srv = await ScriptServer(lambda n: [b'{"m":1}', req, b'{"m":2}']).start()
        got = []
        hb = Heartbeat(0, None, None, answer_marker=b'"test_request"', answer=answer)
        c = FeedConnection("okx-swap", srv.url, [b"sub"], hb, lambda p, ts: got.append(p))
        c.start()
        for _ in range(200):
            if answer in srv.received and len(got) == 2:
                break
            await asyncio.sleep(0.01)
        await c.stop()
        await srv.stop()
        return srv, got

    srv, got = run(main())
    assert got == [b'{"m":1}', b'{"m":2}']
    assert srv.received.count(answer) == 1
