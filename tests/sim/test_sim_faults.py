"""Each fault kind is observable on the wire, exactly where and as documented (nexus/sim/faults.py),
and nothing else is disturbed."""

import asyncio
import json
import zlib
from decimal import Decimal

import pytest
from click.testing import CliRunner
from picows import WSError
from simclient import Book, Client, http_get, run

from nexus.cli import cli
from nexus.sim import Simulator
from nexus.sim.core import SIM_EPOCH_NS

FAULT_AT_S = 1
SPEED = 2.0
FAULT_NS = SIM_EPOCH_NS + FAULT_AT_S * 1_000_000_000

SUBSCRIBE = {
    "binance-spot": ("/btcusdt@depth@100ms", None),
    "binance-perp": ("/btcusdt@depth@100ms", None),
    "bybit-perp": ("", {"op": "subscribe", "args": ["orderbook.50.BTCUSDT"]}),
    "okx-swap": ("", {"op": "subscribe", "args": [{"channel": "books", "instId": "BTC-USDT-SWAP"}]}),
    "coinbase": ("", {"type": "subscribe", "product_ids": ["BTC-USD"], "channel": "level2"}),
    "kraken": ("", {"method": "subscribe", "params": {"channel": "book", "symbol": ["BTC/USD"]}}),
}


def _seq_break(venue: str, prev, m) -> tuple[bool, object, int | None]:
    """(broken?, new state, exchange time ns) for one message of `venue`'s book stream."""
    if venue == "binance-spot":
        return prev is not None and m["U"] != prev + 1, m["u"], m["E"] * 1_000_000
    if venue == "binance-perp":
        return prev is not None and m["pu"] != prev, m["u"], m["E"] * 1_000_000
    if venue == "bybit-perp":
        if "data" not in m:
            return False, prev, None
        return prev is not None and m["type"] == "delta" and m["data"]["u"] != prev + 1, m["data"]["u"], m["ts"] * 1_000_000
    if venue == "okx-swap":
        if "data" not in m:
            return False, prev, None
        d = m["data"][0]
        return m["action"] == "update" and d["prevSeqId"] != prev, d["seqId"], int(d["ts"]) * 1_000_000
    if venue == "coinbase":
        return prev is not None and m["sequence_num"] != prev + 1, m["sequence_num"], None
    raise AssertionError(venue)


async def _open(sim, venue):
    path, sub = SUBSCRIBE[venue]
    c = await Client.connect(sim.url(venue) + path)
    if sub:
        c.send(sub)
    return c


@pytest.mark.parametrize("venue", ["binance-spot", "binance-perp", "bybit-perp", "okx-swap", "coinbase"])
def test_gap_skips_sequence_numbers_once(venue):
    async def main():
        async with Simulator(seed=21, venues=[venue], faults=[f"gap:{venue}:{FAULT_AT_S}"], speed=SPEED) as sim:
            c = await _open(sim, venue)
            prev, breaks, n = None, [], 0
            while sim.t_s < FAULT_AT_S + 1.5:
                m = await c.json()
                broken, prev, t = _seq_break(venue, prev, m)
                n += 1
                if broken:
                    breaks.append((sim.t_s, t))
            c.close()
            assert len(breaks) == 1, f"expected exactly one gap, got {breaks} in {n} messages"
            t_wall_s, t_ns = breaks[0]
            assert t_wall_s >= FAULT_AT_S and (t_ns is None or t_ns >= FAULT_NS)
    run(main())


def test_a_gap_due_before_anyone_subscribed_waits_for_the_first_subscriber():
    """A client that connects after the fault's time still sees exactly one gap: book faults
    are held until the venue has a subscribed connection (under load a client can take
    seconds to come up, and a fault sent to nobody would be silently lost)."""
    venue = "okx-swap"

    async def main():
        async with Simulator(seed=21, venues=[venue], faults=[f"gap:{venue}:{FAULT_AT_S}"], speed=SPEED) as sim:
            while sim.t_s < FAULT_AT_S + 0.5:        # the fault is due; nobody is connected
                await asyncio.sleep(0.05)
            assert not sim.core.fault_log()[0]["fired"]
            c = await _open(sim, venue)
            connected_at = sim.t_s
            prev, breaks = None, []
            while sim.t_s < connected_at + 1.5:
                m = await c.json()
                broken, prev, t = _seq_break(venue, prev, m)
                if broken:
                    breaks.append(sim.t_s)
            c.close()
            assert len(breaks) == 1 and breaks[0] >= connected_at, breaks
            assert sim.core.fault_log()[0]["fired"]
    run(main())


def _kraken_cs(book: Book) -> int:
    def digits(v):
        return v.replace(".", "").lstrip("0")
    return zlib.crc32("".join(digits(p) + digits(q) for p, q in book.top("ask", 10) + book.top("bid", 10)).encode())


def _okx_cs(book: Book) -> int:
    b, a = book.top("bid", 25), book.top("ask", 25)
    parts = [x for i in range(25) for lv in ((b[i] if i < len(b) else None), (a[i] if i < len(a) else None)) if lv
             for x in lv]
    crc = zlib.crc32(":".join(parts).encode())
    return crc - (1 << 32) if crc >= 1 << 31 else crc


@pytest.mark.parametrize("venue", ["okx-swap", "kraken"])
def test_bad_checksum_once_data_intact(venue):
    async def main():
        async with Simulator(seed=22, venues=[venue], faults=[f"bad-checksum:{venue}:{FAULT_AT_S}"], speed=SPEED) as sim:
            c = await _open(sim, venue)
            book, bad, good_after = Book(), [], 0
            while sim.t_s < FAULT_AT_S + 1.5:
                m = json.loads(await c.recv(), parse_float=Decimal)
                if venue == "okx-swap":
                    if "data" not in m:
                        continue
                    d = m["data"][0]
                    for side, key in (("bid", "bids"), ("ask", "asks")):
                        for p, q, _, _ in d[key]:
                            book.apply(side, p, q)
                    ok = _okx_cs(book) == d["checksum"]
                    t = int(d["ts"]) * 1_000_000
                else:
                    if m.get("channel") != "book":
                        continue
                    d = m["data"][0]
                    for side, key in (("bid", "bids"), ("ask", "asks")):
                        for lv in d[key]:
                            book.apply(side, f"{lv['price']:.1f}", f"{Decimal(lv['qty']):.8f}")
                    book.truncate(10)
                    ok = _kraken_cs(book) == d["checksum"]
                    t = None
                if not ok:
                    bad.append(t)
                elif bad:
                    good_after += 1
            c.close()
            assert len(bad) == 1 and good_after >= 5, (bad, good_after)
            assert bad[0] is None or bad[0] >= FAULT_NS
    run(main())


def test_disconnect_drops_then_refuses_then_accepts():
    async def main():
        async with Simulator(seed=23, venues=["okx-swap"], faults=[f"disconnect:okx-swap:{FAULT_AT_S}"],
                             speed=SPEED) as sim:
            c = await _open(sim, "okx-swap")
            await c.json()
            await asyncio.wait_for(c.listener.disconnected.wait(), 5)
            assert not c.listener.close_frame, "a dropped connection sends no close frame"
            dropped_at = sim.t_s
            assert FAULT_AT_S <= dropped_at < FAULT_AT_S + 0.2
            refused = 0
            while True:
                try:
                    c2 = await _open(sim, "okx-swap")
                    break
                except WSError:
                    refused += 1
                    await asyncio.sleep(0.1)
            assert refused >= 3 and sim.t_s >= FAULT_AT_S + 2 - 0.05
            ack = await c2.json()
            snap = await c2.json()
            assert ack["event"] == "subscribe" and snap["action"] == "snapshot"
            c2.close()
    run(main())


def test_silence_keeps_connection_and_loses_nothing():
    speed = 4.0

    async def main():
        async with Simulator(seed=24, venues=["okx-swap"], faults=[f"silence:okx-swap:{FAULT_AT_S}"], speed=speed) as sim:
            c = await _open(sim, "okx-swap")
            await c.json()
            book, seq, longest, last_t = Book(), None, 0.0, None
            pinged = False
            while sim.t_s < FAULT_AT_S + 8 + 1.5:
                t_recv, text = await c.recv_timed(5)
                assert text is not None, "the connection must stay open"
                if last_t is not None:
                    longest = max(longest, t_recv - last_t)
                last_t = t_recv
                if text == "pong":
                    continue
                if not pinged and sim.t_s > FAULT_AT_S + 1:
                    c.send("ping")          # not answered while silent
                    pinged = True
                d = json.loads(text)["data"][0]
                if seq is not None:
                    assert d["prevSeqId"] == seq, "the sequence continues after the silence"
                for side, key in (("bid", "bids"), ("ask", "asks")):
                    for p, q, _, _ in d[key]:
                        book.apply(side, p, q)
                assert _okx_cs(book) == d["checksum"]
                seq = d["seqId"]
            c.close()
            assert 7.5 / speed <= longest <= 8.5 / speed, longest
    run(main())


def test_malformed_frames_are_extra_and_nothing_is_lost():
    async def main():
        async with Simulator(seed=25, venues=["bybit-perp"], faults=[f"malformed:bybit-perp:{FAULT_AT_S}"],
                             speed=SPEED) as sim:
            c = await _open(sim, "bybit-perp")
            broken, prev, n = [], None, 0
            while sim.t_s < FAULT_AT_S + 1.0:
                text = await c.recv()
                try:
                    m = json.loads(text)
                except ValueError:
                    broken.append((sim.t_s, text))
                    continue
                gap, prev, _ = _seq_break("bybit-perp", prev, m)
                assert not gap
                n += 1
            c.close()
            assert len(broken) == 3 and all(t >= FAULT_AT_S for t, _ in broken)
    run(main())


def test_malformed_due_while_reconnecting_waits_for_the_new_connection():
    """A `malformed` fault that falls due while the venue refuses connections (just after a
    `disconnect`) reaches the client once it is back and subscribed: sent to no connection it
    would be lost, and a client's malformed counter would never move (seen in CI, Tradovate)."""
    async def main():
        async with Simulator(seed=25, venues=["bybit-perp"], speed=SPEED,
                             faults=["disconnect:bybit-perp:1", "malformed:bybit-perp:2"]) as sim:
            c = await _open(sim, "bybit-perp")
            await asyncio.wait_for(c.listener.disconnected.wait(), 5)     # dropped at 1 s
            while sim.t_s < 3.5:                       # refused until 3 s; the fault fell due at 2 s
                await asyncio.sleep(0.05)
            malformed = [f for f in sim.core.fault_log() if f["kind"] == "malformed"]
            assert not malformed[0]["fired"], malformed
            c = await _open(sim, "bybit-perp")
            opened_at, broken = sim.t_s, []
            while sim.t_s < opened_at + 1.0:
                text = await c.recv()
                try:
                    json.loads(text)
                except ValueError:
                    broken.append(text)
            c.close()
            assert len(broken) == 3, broken
            assert [f["fired"] for f in sim.core.fault_log()] == [True, True]
    run(main())


def test_diverge_moves_one_venue_by_one_percent_for_15_s():
    speed = 8.0

    async def mid(sim, venue):
        path = "/api/v3/depth" if venue == "binance-spot" else "/fapi/v1/depth"
        _, b = await http_get(sim.rest_url(venue) + f"{path}?symbol=BTCUSDT&limit=5")
        return (Decimal(b["bids"][0][0]) + Decimal(b["asks"][0][0])) / 2

    async def ratio(sim):
        return await mid(sim, "binance-spot") / await mid(sim, "binance-perp") - 1

    async def main():
        async with Simulator(seed=26, venues=["binance-spot", "binance-perp"],
                             faults=["diverge:binance-spot:2"], speed=speed) as sim:
            before = await ratio(sim)
            while sim.t_s < 6:
                await asyncio.sleep(0.05)
            during = await ratio(sim)
            while sim.t_s < 2 + 15 + 3:
                await asyncio.sleep(0.05)
            after = await ratio(sim)
            assert abs(before) < Decimal("0.0015")
            assert Decimal("0.0085") < during < Decimal("0.0115"), during
            assert abs(after) < Decimal("0.0015"), after
    run(main())


def test_fault_option_validation_is_a_usage_error():
    r = CliRunner()
    for bad in ("gap:binance-spot", "explode:okx-swap:3", "gap:nowhere:3", "gap:okx-swap:-1", "gap:okx-swap:soon",
                "gap:hyperliquid:3", "bad-checksum:binance-spot:3"):
        res = r.invoke(cli, ["sim", "--port", "0", "--duration", "0.1", "--fault", bad])
        assert res.exit_code == 2, (bad, res.output)
        assert "--fault" in res.output
    res = r.invoke(cli, ["sim", "--port", "0", "--venues", "okx-swap", "--fault", "gap:bybit-perp:1"])
    assert res.exit_code == 2 and "not among the served venues" in res.output
