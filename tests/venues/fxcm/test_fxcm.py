"""FXCM: packets, the Offer model, the token and socket.io flow against the simulator, and a
live `nexus run --sim` whose one-level book equals the simulator's. The documented price
update is in tests/fixtures/venues/fxcm/docs.jsonl."""

import asyncio
import json
from decimal import Decimal

import pytest

from nexus import record
from nexus.exceptions import ConfigError, DecodeError
from nexus.feeds.runtime import RunConfig, Runtime
from nexus.venues.base import SegKind
from nexus.venues.fxcm import data as fxcm
from nexus.venues.fxcm.feed import FEED, HEARTBEAT, prepare
from nexus.venues.fxcm.sim import SIM_TOKEN

# GET /trading/get_model?models=Offer in the documented shape (guide 5.4.1 Offers table).
OFFERS = {"response": {"executed": True, "error": ""}, "offers": [
    {"t": 0, "ratePrecision": 5, "offerId": 1, "rollB": -0.591, "rollS": 0.088, "fractionalPip": True,
     "pip": 0.0001, "currency": "EUR/USD", "sell": 1.18744, "buy": 1.18757, "high": 1.18901, "low": 1.18551,
     "volume": 1, "pipCost": 1, "ticker": "EUR/USD", "time": 1504167080000}]}


def test_symbols_and_heartbeat():
    assert FEED.symbol_of("EURUSD") == "EUR/USD" and FEED.symbol_of("BTCUSDT") == "BTC/USD"
    assert (HEARTBEAT.ping, HEARTBEAT.every_s) == (b"2", 25.0)   # engine.io ping; pingInterval 25000 ms


def test_offer_model_gives_the_precision_and_finer_prices_are_refused():
    dec = fxcm.Decoder()
    assert dec.load_metadata(json.dumps(OFFERS)) == 1
    assert dec.instrument("EUR/USD").tick_size == "0.00001"
    out = record.empty(8)
    segs = dec.decode(b'42["EUR/USD","{\\"Updated\\":1504167080000,\\"Rates\\":[1.18744,1.18757,1.18901,1.18551],'
                      b'\\"Symbol\\":\\"EUR/USD\\"}"]', out)
    assert segs[0].kind is SegKind.BOOK and segs[0].snapshot and segs[0].stop == 3
    with pytest.raises(DecodeError):
        dec.decode(b'42["EUR/USD","{\\"Updated\\":1504167080000,\\"Rates\\":[1.187441,1.18757],'
                   b'\\"Symbol\\":\\"EUR/USD\\"}"]', out)


def test_missing_token_is_a_config_error(monkeypatch):
    monkeypatch.delenv("NEXUS_FXCM_TOKEN", raising=False)
    with pytest.raises(ConfigError, match="NEXUS_FXCM_TOKEN"):
        asyncio.run(prepare("ws://127.0.0.1:1/fxcm/socket.io/", "http://127.0.0.1:1/fxcm", "EUR/USD"))


def _run(monkeypatch, token, faults=(), seconds=8.0):
    monkeypatch.setenv("NEXUS_FXCM_TOKEN", token)
    states = []

    async def main():
        rt = Runtime(RunConfig(venues=["fxcm"], sim=True, seed=4, faults=list(faults), duration_s=seconds))
        await rt.start()
        loop = asyncio.get_running_loop()
        t_end, next_s = loop.time() + seconds, loop.time() + 1
        while loop.time() < t_end:
            rt.poll()
            if loop.time() >= next_s:
                next_s += 1
                states.append(rt.venue_stats()["fxcm"]["state"])
            await asyncio.sleep(0.005)
        rt.poll()
        f = rt.feeds["fxcm"]
        st = f.sync.books.get(f.symbol)
        res = {"stats": rt.venue_stats()["fxcm"], "states": states}
        if st is not None and st.synced:
            inst = st.inst
            res["inst"] = inst
            res["mine"] = [[(Decimal(inst.price_str(p)), Decimal(inst.qty_str(q))) for p, q in st.book.top(s, 5)]
                           for s in (1, 2)]
            sim = rt.sim.book("fxcm", at_ns=f.last_book_ts_ns)
            res["sim"] = [[(Decimal(p), Decimal(q)) for p, q in sim[s]] for s in ("bids", "asks")]
            rs = rt.readers["fxcm"]
            res["ring"] = [[(Decimal(inst.price_str(p)), Decimal(inst.qty_str(q))) for p, q in rs.book.top(s, 5)]
                           for s in (1, 2)]
        await rt.stop()
        return res

    return asyncio.run(main())


def test_run_sim_streams_the_touch_and_recovers(monkeypatch):
    r = _run(monkeypatch, SIM_TOKEN, ["malformed:fxcm:2", "disconnect:fxcm:3"], 9.0)
    assert r["inst"].tick_size == "0.01"          # from the Offer model (ratePrecision 2)
    assert len(r["mine"][0]) == 1 and len(r["mine"][1]) == 1 and r["mine"][0][0][0] < r["mine"][1][0][0]
    assert r["mine"] == r["sim"] and r["ring"] == r["mine"]
    s = r["stats"]
    assert s["malformed"] >= 1 and s["reconnects"] >= 1 and s["state"] == "LIVE", s


def test_a_wrong_token_is_refused_and_nothing_streams(monkeypatch):
    r = _run(monkeypatch, "not-the-simulator-token", seconds=3.0)
    assert "mine" not in r and r["stats"]["state"] != "LIVE"
