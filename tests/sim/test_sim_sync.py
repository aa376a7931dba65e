"""A client following each venue's documented sync rules rebuilds exactly the simulator's own
book, sequence numbers are continuous, and the OKX/Kraken checksums on the wire match the
documented algorithm computed here independently (over real WebSockets on 127.0.0.1)."""

import asyncio
import datetime as dt
import json
import time
import zlib
from decimal import Decimal

import pytest
from simclient import Book, Client, http_get, run

from nexus.sim import Simulator

RUN_S = 2.5


def _rfc3339_ns(s: str) -> int:
    base, frac = s.rstrip("Z").split(".")
    secs = int(dt.datetime.strptime(base, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=dt.timezone.utc).timestamp())
    return secs * 1_000_000_000 + int(frac.ljust(9, "0")[:9])


def _same(client: Book, sim_book: dict, depth: int = 50) -> None:
    assert client.top("bid", depth) == sim_book["bids"][:depth]
    assert client.top("ask", depth) == sim_book["asks"][:depth]
    assert not client.crossed()


@pytest.mark.parametrize("venue", ["binance-spot", "binance-perp"])
def test_binance_diff_depth_with_rest_snapshot(venue):
    futures = venue == "binance-perp"
    rest_path = "/fapi/v1/depth" if futures else "/api/v3/depth"

    async def main():
        async with Simulator(seed=11, venues=[venue]) as sim:
            c = await Client.connect(sim.url(venue) + "/btcusdt@depth@100ms")
            first = await c.json()           # the stream is open and buffering before the snapshot
            _, snap = await http_get(sim.rest_url(venue) + f"{rest_path}?symbol=BTCUSDT&limit=1000")
            last = snap["lastUpdateId"]
            book = Book()
            for p, q in snap["bids"]:
                book.apply("bid", p, q)
            for p, q in snap["asks"]:
                book.apply("ask", p, q)
            pending = [first]
            prev_u, applied = None, 0
            deadline = time.monotonic() + RUN_S
            while time.monotonic() < deadline:
                ev = pending.pop(0) if pending else await c.json()
                if prev_u is None:
                    if (ev["u"] < last) if futures else (ev["u"] <= last):
                        continue
                    if futures:
                        assert ev["U"] <= last <= ev["u"], (ev["U"], last, ev["u"])
                    else:
                        assert ev["U"] <= last + 1 <= ev["u"], (ev["U"], last, ev["u"])
                elif futures:
                    assert ev["pu"] == prev_u, "futures: pu must equal the previous u"
                else:
                    assert ev["U"] == prev_u + 1, "spot: U must equal the previous u + 1"
                for p, q in ev["b"]:
                    book.apply("bid", p, q)
                for p, q in ev["a"]:
                    book.apply("ask", p, q)
                prev_u = ev["u"]
                applied += 1
            c.close()
            assert applied >= 10
            _same(book, sim.book(venue, seq=prev_u))
    run(main())


def test_bybit_snapshot_and_deltas():
    async def main():
        async with Simulator(seed=12, venues=["bybit-perp"]) as sim:
            c = await Client.connect(sim.url("bybit-perp"))
            c.send({"op": "subscribe", "args": ["orderbook.50.BTCUSDT"]})
            await c.json()
            book, u, n = Book(), None, 0
            deadline = time.monotonic() + RUN_S
            while time.monotonic() < deadline:
                m = await c.json()
                d = m["data"]
                if m["type"] == "snapshot":
                    book.clear()
                else:
                    assert d["u"] == u + 1, "u must increase by one"
                for p, q in d["b"]:
                    book.apply("bid", p, q)
                for p, q in d["a"]:
                    book.apply("ask", p, q)
                assert len(book.bids) <= 50 and len(book.asks) <= 50
                u, n = d["u"], n + 1
            c.close()
            assert n > 50
            _same(book, sim.book("bybit-perp", seq=u))
    run(main())


def _okx_checksum(book: Book) -> int:
    b, a = book.top("bid", 25), book.top("ask", 25)
    parts = []
    for i in range(25):
        if i < len(b):
            parts += b[i]
        if i < len(a):
            parts += a[i]
    crc = zlib.crc32(":".join(parts).encode())
    return crc - (1 << 32) if crc >= 1 << 31 else crc


def test_okx_books_sequence_and_checksum():
    async def main():
        async with Simulator(seed=13, venues=["okx-swap"]) as sim:
            c = await Client.connect(sim.url("okx-swap"))
            c.send({"op": "subscribe", "args": [{"channel": "books", "instId": "BTC-USDT-SWAP"}]})
            await c.json()
            book, seq, n = Book(), None, 0
            deadline = time.monotonic() + RUN_S
            while time.monotonic() < deadline:
                m = await c.json()
                d = m["data"][0]
                if m["action"] == "snapshot":
                    assert d["prevSeqId"] == -1
                    book.clear()
                else:
                    assert d["prevSeqId"] == seq and d["seqId"] > seq
                for p, q, _, _ in d["bids"]:
                    book.apply("bid", p, q)
                for p, q, _, _ in d["asks"]:
                    book.apply("ask", p, q)
                assert _okx_checksum(book) == d["checksum"]
                seq, n = d["seqId"], n + 1
            c.close()
            assert n >= 15
            _same(book, sim.book("okx-swap", seq=seq))
    run(main())


def test_coinbase_level2_sequence_numbers():
    async def main():
        async with Simulator(seed=14, venues=["coinbase"]) as sim:
            c = await Client.connect(sim.url("coinbase"))
            c.send({"type": "subscribe", "product_ids": ["BTC-USD"], "channel": "level2"})
            c.send({"type": "subscribe", "product_ids": ["BTC-USD"], "channel": "market_trades"})
            book, seq, ts, n = Book(), None, None, 0
            deadline = time.monotonic() + RUN_S
            while time.monotonic() < deadline:
                m = await c.json()
                if seq is not None:
                    assert m["sequence_num"] == seq + 1, "sequence_num counts every message of the connection"
                seq = m["sequence_num"]
                if m["channel"] != "l2_data":
                    continue
                ev = m["events"][0]
                if ev["type"] == "snapshot":
                    book.clear()
                for u in ev["updates"]:
                    book.apply("bid" if u["side"] == "bid" else "ask", u["price_level"], u["new_quantity"])
                ts, n = _rfc3339_ns(m["timestamp"]), n + 1
            c.close()
            assert n > 20
            _same(book, sim.book("coinbase", at_ns=ts))
    run(main())


def _kraken_checksum(book: Book) -> int:
    def digits(v: str) -> str:
        return v.replace(".", "").lstrip("0")
    levels = book.top("ask", 10) + book.top("bid", 10)
    return zlib.crc32("".join(digits(p) + digits(q) for p, q in levels).encode())


@pytest.mark.parametrize("depth", [10, 25])
def test_kraken_book_checksum_and_truncation(depth):
    async def main():
        async with Simulator(seed=15, venues=["kraken"]) as sim:
            c = await Client.connect(sim.url("kraken"))
            await c.json()
            c.send({"method": "subscribe", "params": {"channel": "book", "symbol": ["BTC/USD"], "depth": depth}})
            await c.json()
            # the pair's precisions come from the instrument channel, as a client would get them
            c.send({"method": "subscribe", "params": {"channel": "instrument"}})
            book, ts, n, pp, qp = Book(), None, 0, None, None
            deadline = time.monotonic() + RUN_S
            while time.monotonic() < deadline:
                text = await c.recv()
                m = json.loads(text, parse_float=Decimal, parse_int=Decimal)
                if m.get("channel") == "instrument":
                    pair = m["data"]["pairs"][0]
                    pp, qp = int(pair["price_precision"]), int(pair["qty_precision"])
                    continue
                if m.get("channel") != "book":
                    continue
                d = m["data"][0]
                if m["type"] == "snapshot":
                    book.clear()
                for side, key in (("bid", "bids"), ("ask", "asks")):
                    for lv in d[key]:
                        book.apply(side, f"{lv['price']:.1f}", f"{lv['qty']:.8f}")
                book.truncate(depth)
                assert _kraken_checksum(book) == d["checksum"]
                ts, n = _rfc3339_ns(d["timestamp"]), n + 1
            c.close()
            assert (pp, qp) == (1, 8) and n > 20
            _same(book, sim.book("kraken", channel=f"book:{depth}:BTC/USD", at_ns=ts), depth)
    run(main())


def test_hyperliquid_every_push_is_the_whole_book():
    async def main():
        async with Simulator(seed=16, venues=["hyperliquid"]) as sim:
            c = await Client.connect(sim.url("hyperliquid"))
            c.send({"method": "subscribe", "subscription": {"type": "l2Book", "coin": "BTC"}})
            await c.json()
            await c.json()       # the immediate snapshot on subscribing
            checked = 0
            deadline = time.monotonic() + RUN_S
            while time.monotonic() < deadline:
                m = await c.json()
                book = Book()
                bids, asks = m["data"]["levels"]
                for lv in bids:
                    book.apply("bid", lv["px"], lv["sz"])
                for lv in asks:
                    book.apply("ask", lv["px"], lv["sz"])
                _same(book, sim.book("hyperliquid", at_ns=m["data"]["time"] * 1_000_000), 20)
                checked += 1
            c.close()
            assert checked >= 3
    run(main())


def test_concurrent_venues_one_market():
    """All seven venues at once on one port: each streams, and their mids agree within a few
    basis points (one latent price, per-venue noise)."""
    async def main():
        async with Simulator(seed=17) as sim:
            await asyncio.sleep(1.0)
            mids = {}
            for v in sim.venues:
                b = sim.book(v)
                mids[v] = (Decimal(b["bids"][0][0]) + Decimal(b["asks"][0][0])) / 2
            ref = mids["binance-perp"]
            for v, m in mids.items():
                assert abs(m - ref) / ref < Decimal("0.0015"), (v, m, ref)
    run(main())
