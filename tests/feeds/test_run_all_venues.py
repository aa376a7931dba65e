"""`nexus run --sim --venues all`: every venue Nexus reads streams live at once from the one
simulated market (real WebSockets and REST on 127.0.0.1): each goes LIVE, its book matches
the simulator's own book of that venue, the ring's book matches the handler's, and nothing
is malformed. The list comes from the venue registry, so a venue added later is in it.
"""
import asyncio
import importlib
import json
import os
import subprocess
import sys
from decimal import Decimal

import pytest

from nexus.exceptions import ConfigError
from nexus.feeds.runtime import RunConfig, Runtime
from nexus.venues import registry

SYMBOL = "BTCUSDT"
DURATION_S = 12


def _groups() -> dict[str, list[str]]:
    """symbol -> the venues run on it: BTCUSDT where the venue lists it, else the first symbol
    its simulator trades (Binance RWA: only tokenized real-world assets)."""
    out: dict[str, list[str]] = {}
    for name in registry.names():
        try:
            registry.feed_spec(name).symbol_of(SYMBOL)
            sym = SYMBOL
        except ConfigError:
            from nexus.sim.specs import SYMBOLS

            bases = registry.venue(name).sim_venue().instruments
            sym = next(s for s, (base, _, _) in SYMBOLS.items() if base in bases and _accepts(name, s))
        out.setdefault(sym, []).append(name)
    return out


def _accepts(name: str, symbol: str) -> bool:
    try:
        registry.feed_spec(name).symbol_of(symbol)
        return True
    except ConfigError:
        return False


def _levels(inst, book, side, depth):
    return [(Decimal(inst.price_str(p)), Decimal(inst.qty_str(q))) for p, q in book.top(side, depth)]


def _matches_sim(rt, venue, f, depth):
    st = f.sync.books[f.symbol]
    mine = (_levels(st.inst, st.book, 1, depth), _levels(st.inst, st.book, 2, depth))
    tries = []
    if f.last_book_seq is not None:
        tries.append({"seq": f.last_book_seq})
    if f.last_book_ts_ns is not None:
        tries.append({"at_ns": f.last_book_ts_ns})
    # venues whose messages name no publication (Bitfinex: per-connection numbers; dYdX:
    # per-connection message ids): the book must equal one of the recent publications
    feed = rt.sim.core.feeds[venue]
    tries += [{"seq": h.seq} for h in feed.view(feed.primary).history if h.seq is not None]
    for kw in tries:       # the book as the simulator published it at that message
        try:
            sim = rt.sim.book(venue, **kw)
        except Exception:
            continue
        theirs = ([(Decimal(p), Decimal(q)) for p, q in sim["bids"][:depth]],
                  [(Decimal(p), Decimal(q)) for p, q in sim["asks"][:depth]])
        if theirs == mine:
            return True
    return False


def _run(venues, symbol):
    async def main():
        rt = Runtime(RunConfig(venues=list(venues), symbol=symbol, sim=True, seed=3, duration_s=DURATION_S,
                               signals=False))
        await rt.start()
        loop = asyncio.get_running_loop()
        t_end = loop.time() + DURATION_S
        live_seen: set[str] = set()
        while loop.time() < t_end:
            rt.poll()
            live_seen.update(v for v, s in rt.venue_stats().items() if s["state"] == "LIVE")
            await asyncio.sleep(0.005)
        rt.poll()
        result = {}
        for v in venues:
            f = rt.feeds[v]
            st = f.sync.books.get(f.symbol)
            rs = rt.readers[v]
            ring_same = st is not None and st.synced and \
                (_levels(st.inst, rs.book, 1, 10), _levels(st.inst, rs.book, 2, 10)) == \
                (_levels(st.inst, st.book, 1, 10), _levels(st.inst, st.book, 2, 10))
            result[v] = {"live_seen": v in live_seen, "synced": bool(st and st.synced),
                         "matches_sim": bool(st and st.synced and _matches_sim(rt, v, f, 10)),
                         "ring_matches_feed": ring_same, "stats": rt.venue_stats()[v]}
        await rt.stop()
        return result

    return asyncio.run(main())


def _sim_env() -> dict[str, str]:
    """The simulator-only credentials of the venues with a token flow (their sim module's
    SIM_ENV: Tradovate, FXCM), for the client's environment."""
    env: dict[str, str] = {}
    for v in registry.all_venues().values():
        env.update(getattr(importlib.import_module(f"{v.package}.sim"), "SIM_ENV", {}))
    return env


@pytest.fixture(scope="module")
def all_run():
    saved = dict(os.environ)
    os.environ.update(_sim_env())
    try:
        out = {}
        for symbol, venues in _groups().items():
            out.update(_run(venues, symbol))
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return out


def test_the_run_covers_every_registered_venue(all_run):
    assert set(all_run) == set(registry.names())
    assert len(all_run) >= 7


@pytest.mark.parametrize("venue", registry.names())
def test_each_venue_goes_live_and_matches_the_simulator(all_run, venue):
    r = all_run[venue]
    assert r["live_seen"] and r["synced"], r["stats"]
    assert r["stats"]["malformed"] == 0, r["stats"]
    assert r["matches_sim"], r["stats"]
    assert r["ring_matches_feed"], r["stats"]


def test_cli_accepts_all():
    r = subprocess.run([sys.executable, "-m", "nexus.cli", "run", "--sim", "--venues", "all", "--duration", "3",
                        "--json", "--no-signals"], capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, **_sim_env()))
    summary = json.loads(r.stdout.strip().splitlines()[-1])["summary"]
    # BTCUSDT everywhere: a venue that does not list it says so and the rest run
    assert {"binance-spot", "okx-swap", "hyperliquid"} <= set(summary)
    assert r.returncode == 0, r.stderr[-2000:]
