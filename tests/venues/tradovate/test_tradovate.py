"""Tradovate: frames, the access-token flow and the contract/product listings against the
simulator, and a live `nexus run --sim` (books equal to the simulator's, faults recovered).
The documented DOM and quote messages are in tests/fixtures/venues/tradovate/docs.jsonl."""

import asyncio
import json
from datetime import date
from decimal import Decimal

import pytest

from nexus import record
from nexus.exceptions import ConfigError, DecodeError
from nexus.feeds.runtime import RunConfig, Runtime
from nexus.sim.simulator import Simulator
from nexus.venues.base import SegKind
from nexus.venues.tradovate import data as tradovate
from nexus.venues.tradovate.feed import FEED, HEARTBEAT, prepare, request, subscriptions
from nexus.venues.tradovate.sim import SIM_ENV

# contract/find and product/find answers in the documented shapes (REST reference: Contract,
# Product entities; CME Micro Bitcoin: tick 5, valuePerPoint 0.1).
CONTRACT = {"id": 3572610, "name": "MBTZ6", "contractMaturityId": 52610, "status": "DefinitionChecked",
            "providerTickSize": 5, "productId": 2560}
PRODUCT = {"id": 2560, "name": "MBT", "currencyId": 1, "productType": "Futures", "description": "Micro Bitcoin",
           "exchangeId": 1, "contractGroupId": 11, "status": "Verified", "months": "FGHJKMNQUVXZ",
           "valuePerPoint": 0.1, "priceFormatType": "Decimal", "priceFormat": 0, "tickSize": 5}


def test_front_month_rolls_after_the_last_friday():
    assert tradovate.front_month("MBT", date(2026, 12, 6)) == "MBTZ6"
    assert tradovate.front_month("MBT", date(2026, 12, 25)) == "MBTZ6"   # expiry day: still Z6
    assert tradovate.front_month("MBT", date(2026, 12, 26)) == "MBTF7"
    assert tradovate.front_month("MET", date(2027, 3, 1)) == "METH7"
    assert FEED.symbol_of("MBTZ6") == "MBTZ6"
    assert tradovate.product_of("MBTZ6") == "MBT" and tradovate.product_of("ESM7") == "ES"


def test_request_frames_as_documented():
    # WebSockets: "authorize\n0\n\n<token>"; md requests carry {"symbol": name} as the body
    assert request("authorize", 0, "TOKEN") == b"authorize\n0\n\nTOKEN"
    assert subscriptions("T", "ESM7") == [b"authorize\n0\n\nT", b'md/subscribeDOM\n1\n\n{"symbol":"ESM7"}',
                                          b'md/subscribeQuote\n2\n\n{"symbol":"ESM7"}']
    assert (HEARTBEAT.ping, HEARTBEAT.every_s) == (b"[]", 2.5)


def test_listing_names_the_contract_and_gives_tick_and_contract_value():
    dec = tradovate.Decoder()
    assert dec.load_metadata(json.dumps(CONTRACT)) == 0      # its product is not known yet
    assert dec.load_metadata(json.dumps(PRODUCT)) == 1
    inst = dec.instrument("MBTZ6")
    assert (inst.tick_size, inst.lot_size, inst.contract_value) == ("5", "1", "0.1")
    out = record.empty(16)
    segs = dec.decode(b'a[{"e":"md","d":{"doms":[{"contractId":3572610,"timestamp":"2026-12-01T10:00:00.000Z",'
                      b'"bids":[{"price":65000,"size":3}],"offers":[{"price":65005,"size":1}]}]}}]', out)
    assert segs[0].kind is SegKind.BOOK and segs[0].symbol == "MBTZ6"
    with pytest.raises(DecodeError):   # off the 5-dollar grid is refused, never rounded
        dec.decode(b'a[{"e":"md","d":{"doms":[{"contractId":3572610,"timestamp":"2026-12-01T10:00:00.000Z",'
                   b'"bids":[{"price":65001.5,"size":3}],"offers":[]}]}}]', out)


def test_frames_other_than_o_h_a_c_are_refused():
    dec = tradovate.Decoder()
    for bad in (b"x", b"a{", b'a["not an object"]', b"\x00\x01 not json }{"):
        with pytest.raises(DecodeError):
            dec.decode(bad, record.empty(4))
    assert dec.decode(b"h", record.empty(4))[0].kind is SegKind.CONTROL


def test_token_flow_against_the_simulator(monkeypatch):
    async def main():
        sim = await Simulator(seed=1, venues=["tradovate"], symbol="BTCUSDT").start()
        try:
            rest, ws = sim.rest_url("tradovate"), sim.url("tradovate")
            sym = sim.core.feeds["tradovate"].symbol
            for k, v in SIM_ENV.items():
                monkeypatch.setenv(k, v)
            session = await prepare(ws, rest, sym)
            monkeypatch.setenv("NEXUS_TRADOVATE_PASSWORD", "wrong-password-123")
            with pytest.raises(ConnectionError) as refused:
                await prepare(ws, rest, sym)
            monkeypatch.delenv("NEXUS_TRADOVATE_SEC")
            with pytest.raises(ConfigError, match="NEXUS_TRADOVATE_SEC"):
                await prepare(ws, rest, sym)
            return session, str(refused.value), sym
        finally:
            await sim.stop()

    session, refused, sym = asyncio.run(main())
    assert session.open_frame == b"o" and session.subscribe[0].startswith(b"authorize\n0\n\n")
    assert json.loads(session.metadata[0])["name"] == sym and json.loads(session.metadata[1])["tickSize"] == 5
    assert "Incorrect username or password" in refused and "wrong-password-123" not in refused


DURATION_S = 17


def test_run_sim_books_match_and_faults_recover(monkeypatch):
    for k, v in SIM_ENV.items():
        monkeypatch.setenv(k, v)
    faults = ["disconnect:tradovate:2", "malformed:tradovate:5", "silence:tradovate:6"]

    async def main():
        rt = Runtime(RunConfig(venues=["tradovate"], sim=True, seed=7, faults=faults, duration_s=DURATION_S))
        await rt.start()
        loop = asyncio.get_running_loop()
        t_end = loop.time() + DURATION_S
        next_s = loop.time() + 1
        while loop.time() < t_end:
            rt.poll()
            if loop.time() >= next_s:
                next_s += 1
                states.append(rt.venue_stats()["tradovate"]["state"])
            await asyncio.sleep(0.005)
        rt.poll()
        f = rt.feeds["tradovate"]
        st = f.sync.books[f.symbol]
        inst = st.inst
        mine = [[(Decimal(inst.price_str(p)), Decimal(inst.qty_str(q))) for p, q in st.book.top(s, 10)] for s in (1, 2)]
        sim = rt.sim.book("tradovate", at_ns=f.last_book_ts_ns)
        rs = rt.readers["tradovate"]
        ring = [[(Decimal(inst.price_str(p)), Decimal(inst.qty_str(q))) for p, q in rs.book.top(s, 10)] for s in (1, 2)]
        stats = rt.venue_stats()["tradovate"]
        trades = [t for t in rt.tape if t["venue"] == "tradovate"]
        await rt.stop()
        return inst, st.synced, mine, sim, ring, stats, trades

    states = []
    inst, synced, mine, sim, ring, stats, trades = asyncio.run(main())
    assert "STALE" in states and states[-1] == "LIVE", states     # silent 8 s, then live again
    assert (inst.tick_size, inst.contract_value) == ("5", "0.1")
    assert synced and len(mine[0]) == 10 and len(mine[1]) == 10
    assert mine == [[(Decimal(p), Decimal(q)) for p, q in sim[s][:10]] for s in ("bids", "asks")]
    assert ring == mine
    assert stats["malformed"] >= 1 and stats["reconnects"] >= 1 and stats["state"] == "LIVE", stats
    assert trades and all(Decimal(t["price"]) % 5 == 0 for t in trades)  # trades on the 5-dollar grid


def test_record_and_replay_keep_the_listing(tmp_path):
    """`nexus record --sim` then `nexus replay`: Tradovate's books carry the contract name and
    its 5-dollar tick (the listing the token flow fetched is in the recording); FXCM's too."""
    import os
    import subprocess
    import sys

    from nexus.venues.fxcm.sim import SIM_ENV as FXCM_ENV

    env = dict(os.environ, **SIM_ENV, **FXCM_ENV)
    out = tmp_path / "r.nxr"
    r = subprocess.run([sys.executable, "-m", "nexus.cli", "record", "--sim", "--venues", "tradovate,fxcm",
                        "--duration", "3", "-o", str(out)], capture_output=True, text=True, timeout=120, env=env)
    assert r.returncode == 0, r.stderr[-2000:]
    r = subprocess.run([sys.executable, "-m", "nexus.cli", "replay", str(out)], capture_output=True, text=True,
                       timeout=120, env=env)
    assert r.returncode == 0, r.stderr[-2000:]
    books = [json.loads(x) for x in r.stdout.splitlines() if '"book"' in x]
    tv = [b for b in books if b["venue"] == "tradovate"]
    fx = [b for b in books if b["venue"] == "fxcm"]
    from datetime import datetime, timezone
    assert tv and all(b["symbol"] == tradovate.front_month("MBT", datetime.now(timezone.utc).date()) for b in tv)
    assert all(Decimal(p) % 5 == 0 for b in tv for p, _ in b["bids"] + b["asks"])
    assert fx and all(b["symbol"] == "BTC/USD" and len(b["bids"]) == 1 for b in fx)
