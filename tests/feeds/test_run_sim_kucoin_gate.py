"""`nexus run --sim --venues kucoin,gate` end to end over real WebSockets on 127.0.0.1: KuCoin
through its bullet token flow and pings, Gate spot and Gate futures (`BTCUSDT:USDT`, sizes
in contracts); books match the simulator's own after gaps, malformed frames, a disconnect and
an expired KuCoin token."""
import asyncio
from decimal import Decimal

import pytest

from nexus.feeds.handler import VenueFeed
from nexus.feeds.runtime import RunConfig, Runtime
from nexus.feeds.specs import spec
from nexus.sim.simulator import Simulator

DURATION_S = 16


def _book(rt, venue, depth=10, contract_value=Decimal(1)):
    f = rt.feeds[venue]
    st = f.sync.books[f.symbol]
    inst = st.inst
    side = lambda s: [(Decimal(inst.price_str(p)), Decimal(inst.qty_str(q)) * contract_value)
                      for p, q in st.book.top(s, depth)]
    return st, side(1), side(2)


def _sim(levels, depth=10):
    return [(Decimal(p), Decimal(q)) for p, q in levels[:depth]]


async def _run(venues, symbol, faults, channel=None, contract_value=Decimal(1)):
    rt = Runtime(RunConfig(venues=venues, symbol=symbol, sim=True, seed=5, faults=faults, duration_s=DURATION_S))
    await rt.start()
    loop = asyncio.get_running_loop()
    t_end = loop.time() + DURATION_S
    seen = {v: set() for v in venues}
    while loop.time() < t_end:
        rt.poll()
        for v, s in rt.venue_stats().items():
            seen[v].add(s["state"])
        await asyncio.sleep(0.002)
    rt.poll()
    out = {}
    for v in venues:
        st, bids, asks = _book(rt, v, contract_value=contract_value)
        f = rt.feeds[v]
        sim = rt.sim.book(v, channel=channel, seq=f.last_book_seq)
        out[v] = {"synced": st.synced, "levels": len(bids) + len(asks),
                  "matches": bids == _sim(sim["bids"]) and asks == _sim(sim["asks"]),
                  "stats": rt.venue_stats()[v], "seen": seen[v], "inst": st.inst}
    await rt.stop()
    return out


@pytest.fixture(scope="module")
def spot_run():
    return asyncio.run(_run(["kucoin", "gate"], "BTCUSDT",
                            ["gap:kucoin:4", "malformed:kucoin:6", "gap:gate:4", "disconnect:gate:8"]))


def test_kucoin_and_gate_spot_books_match_the_simulator(spot_run):
    for v in ("kucoin", "gate"):
        r = spot_run[v]
        assert r["synced"] and r["levels"] >= 10 and r["matches"], (v, r)
        assert r["stats"]["state"] == "LIVE" and r["stats"]["msgs"] > 20


def test_instruments_come_from_the_venue_listing(spot_run):
    assert (spot_run["kucoin"]["inst"].tick_size, spot_run["kucoin"]["inst"].lot_size) == ("0.1", "0.00000001")
    assert (spot_run["gate"]["inst"].tick_size, spot_run["gate"]["inst"].lot_size) == ("0.1", "0.0001")
    assert spot_run["kucoin"]["stats"]["best_bid"].count(".") <= 1  # the venue's tick, not 8 decimals


def test_gaps_resync_and_malformed_frames_are_counted(spot_run):
    k, g = spot_run["kucoin"]["stats"], spot_run["gate"]["stats"]
    assert k["gaps"] >= 1 and k["resyncs"] >= 1 and k["malformed"] >= 1, k
    assert g["gaps"] >= 1 and g["resyncs"] >= 1, g


def test_gate_reconnects_after_a_disconnect(spot_run):
    g = spot_run["gate"]
    assert g["stats"]["reconnects"] >= 1 and g["stats"]["state"] == "LIVE"
    assert g["seen"] & {"DOWN", "SYNCING"}


def test_gate_futures_books_in_contracts_match_the_simulator():
    r = asyncio.run(_run(["gate"], "BTCUSDT:USDT", ["gap:gate:5"], channel="futures",
                         contract_value=Decimal("0.0001")))["gate"]
    assert r["inst"].symbol == "BTC_USDT:USDT" and r["inst"].contract_value == "0.0001"
    assert r["synced"] and r["levels"] >= 10 and r["matches"], r
    assert r["stats"]["gaps"] >= 1 and r["stats"]["state"] == "LIVE"


def test_kucoin_expired_token_reconnects_with_a_new_one():
    async def main():
        async with Simulator(seed=2, venues=["kucoin"]) as sim:
            feed_sim = sim.core.feeds["kucoin"]
            feed_sim.token_ttl_ns = 3_000_000_000       # tokens expire after 3 simulated seconds
            f = VenueFeed("kucoin", spec("kucoin"), "BTCUSDT", sim.url("kucoin"), sim.rest_url("kucoin"), lambda r: None)
            f.conn.start()
            await asyncio.sleep(7)
            feed_sim.token_ttl_ns = 24 * 3600 * 10**9   # the next token lasts: the feed settles
            reconnects, tokens = f.conn.stats.reconnects, feed_sim.tokens_issued
            for _ in range(100):
                if f.synced() and feed_sim.tokens_issued > tokens:
                    break
                await asyncio.sleep(0.1)
            out = (reconnects, tokens, f.synced(), f.conn.heartbeat.every_s)
            await f.conn.stop()
            return out

    reconnects, tokens, synced, ping_every_s = asyncio.run(main())
    assert reconnects >= 1 and tokens >= 2 and synced
    assert ping_every_s == 18.0  # the bullet answer's pingInterval


def test_a_recording_carries_the_instrument_listing(tmp_path):
    from click.testing import CliRunner

    from nexus.cli import cli

    rec = tmp_path / "kg.nxr"
    r = CliRunner().invoke(cli, ["record", "--sim", "--venues", "kucoin,gate", "--duration", "3", "-o", str(rec),
                                 "--json"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(cli, ["replay", str(rec)], catch_exceptions=False)
    assert r.exit_code == 0 and "no instrument metadata" not in r.stderr
    books = [line for line in r.stdout.splitlines() if '"type":"book"' in line]
    assert any('"venue":"kucoin"' in b for b in books) and any('"venue":"gate"' in b for b in books)
