"""Kraken WebSocket v1 as the simulator serves it (at the venue's root path), read by a plain
WebSocket client: systemStatus, subscriptionStatus per pair, the book snapshot and updates whose
"c" (in the last object) equals a CRC32 computed here from the strings received, by the rule
of Kraken's v1 book-checksum guide (top 10 asks then top 10 bids, '.' removed, leading zeros
stripped); trades; ping/pong; an unknown pair refused. Source:
https://docs.kraken.com/api/docs/websocket-v1/book (and /trade, /ping, /systemstatus)."""

import asyncio
import json
import time
import zlib
from decimal import Decimal

import websockets

from nexus.sim import Simulator

DEPTH = 10


def v1_checksum(asks: dict, bids: dict) -> int:
    top_a = sorted(asks.items(), key=lambda kv: Decimal(kv[0]))[:10]
    top_b = sorted(bids.items(), key=lambda kv: -Decimal(kv[0]))[:10]
    f = lambda s: s.replace(".", "").lstrip("0")  # noqa: E731
    return zlib.crc32("".join(f(p) + f(q) for p, q in top_a + top_b).encode())


def truncate(side: dict, descending: bool) -> dict:
    keep = sorted(side, key=Decimal, reverse=descending)[:DEPTH]
    return {p: side[p] for p in keep}


async def _session() -> dict:
    got = {"checked": 0, "two_sided": 0, "trades": 0}
    async with Simulator(seed=4, venues=["kraken"]) as sim:
        await asyncio.sleep(0.5)
        url = "ws" + sim.rest_url("kraken")[len("http"):]
        async with websockets.connect(url) as ws:
            status = json.loads(await ws.recv())
            assert status["event"] == "systemStatus" and status["status"] == "online", status
            await ws.send(json.dumps({"event": "subscribe", "pair": ["XBT/USD", "DOGE/EUR"], "reqid": 7,
                                      "subscription": {"name": "book", "depth": DEPTH}}))
            await ws.send(json.dumps({"event": "subscribe", "pair": ["XBT/USD"], "subscription": {"name": "trade"}}))
            await ws.send(json.dumps({"event": "ping", "reqid": 9}))
            acks, errors, pong = {}, [], None
            bids: dict = {}
            asks: dict = {}
            end = time.monotonic() + 3.0
            while time.monotonic() < end:
                msg = json.loads(await asyncio.wait_for(ws.recv(), 5))
                if isinstance(msg, dict):
                    if msg.get("event") == "subscriptionStatus":
                        if msg["status"] == "subscribed":
                            acks[msg["channelName"]] = msg
                        else:
                            errors.append(msg)
                    elif msg.get("event") == "pong":
                        pong = msg
                    continue
                chan_id, *objs, name, pair = msg
                assert pair == "XBT/USD"
                if name == "trade":
                    assert chan_id == acks["trade"]["channelID"]
                    for price, vol, ts, side, kind, misc in objs[0]:
                        assert Decimal(price) > 0 and Decimal(vol) > 0 and side in "bs" and kind in "ml"
                        got["trades"] += 1
                    continue
                assert name == f"book-{DEPTH}" and chan_id == acks[name]["channelID"]
                if "as" in objs[0]:
                    asks = {p: q for p, q, _ in objs[0]["as"]}
                    bids = {p: q for p, q, _ in objs[0]["bs"]}
                    continue
                assert all("c" not in o for o in objs[:-1]) and "c" in objs[-1], objs
                got["two_sided"] += len(objs) == 2
                for o in objs:
                    for key, side in (("a", asks), ("b", bids)):
                        for p, q, _ in o.get(key, ()):
                            if Decimal(q) == 0:
                                side.pop(p, None)
                            else:
                                side[p] = q
                asks, bids = truncate(asks, False), truncate(bids, True)
                assert max(map(Decimal, bids)) < min(map(Decimal, asks)), "crossed"
                assert int(objs[-1]["c"]) == v1_checksum(asks, bids)
                got["checked"] += 1
            assert pong == {"event": "pong", "reqid": 9}, pong
            assert acks[f"book-{DEPTH}"]["reqid"] == 7 and acks[f"book-{DEPTH}"]["subscription"] == \
                {"depth": DEPTH, "name": "book"}
            assert [e["pair"] for e in errors] == ["DOGE/EUR"] and "not supported" in errors[0]["errorMessage"]
    return got


def test_kraken_v1_book_checksums_and_trades():
    got = asyncio.run(asyncio.wait_for(_session(), 30))
    assert got["checked"] >= 10 and got["two_sided"] >= 1 and got["trades"] > 0, got
