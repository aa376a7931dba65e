"""`signals eval` over the venues with session flows (nexus/flow/evaluate.py capture_full):
the in-process client sets each venue up as the feed runtime does -- instrument listing,
token flow over real HTTP to the simulator on 127.0.0.1 (KuCoin's bullet, Tradovate's access
token, FXCM's socket.io session and REST subscribe), binary frames (MEXC), heartbeats and
the server's heartbeat requests (Crypto.com, Deribit) -- and every venue's frames then go
through its decoder and sync rules without a rejected line."""

import io

import pytest

from nexus import record
from nexus.flow import evaluate
from nexus.flow.replay import VenueSource
from nexus.venues.binance_rwa import whitelist

VENUES = ("kucoin", "mexc", "cryptocom", "deribit", "tradovate", "fxcm", "binance-rwa", "gate")
SECONDS = 20


@pytest.fixture(scope="module")
def captured():
    return evaluate.capture_full(7, SECONDS, VENUES)


def test_every_session_venue_is_set_up_and_decodes_cleanly(captured, monkeypatch):
    lines, labels, eng, metadata, skipped = captured
    # a client of the simulator's Binance RWA whitelists the simulated symbol, as the evaluation does
    monkeypatch.setenv(whitelist.ENV, "PAXG,BTC")
    assert skipped == {}
    assert set(lines) == set(VENUES)
    trade, level = int(record.Kind.TRADE), int(record.Kind.BOOK_LEVEL)
    for v in VENUES:
        src = VenueSource(v, eng.feeds[v].spec.symbol, stream=io.BytesIO(b"\n".join(lines[v]) + b"\n"),
                          metadata=tuple(metadata[v]))
        kinds = {int(k) for unit in src for k in unit.records["kind"]}
        assert src.rejected == 0, v
        assert level in kinds, (v, kinds)
        # FXCM publishes quotes only (its price updates carry no trades); every other one trades
        assert (trade in kinds) == (v != "fxcm"), (v, kinds)


def test_a_quotes_only_venue_is_listed_as_not_evaluated_with_the_reason(tmp_path):
    res = evaluate.run(seed=7, duration_s=30, venues=("kucoin", "fxcm"), cache_dir=str(tmp_path))
    assert set(res["not_evaluated"]) == {"fxcm"} and "quotes only" in res["not_evaluated"]["fxcm"]
    assert res["venues"] == ["kucoin"] and set(res["per_venue"]) == {"kucoin"}


def test_heartbeat_requests_are_answered_not_passed_on(captured):
    lines = captured[0]
    # Crypto.com asks public/heartbeat every 30 s of its own idle time and Deribit sends
    # test_request after set_heartbeat: whatever came, none is left among the market lines
    assert not any(b'"public/heartbeat"' in x for x in lines["cryptocom"])
    assert not any(b'"test_request"' in x for x in lines["deribit"])
    # MEXC's protocol-buffer frames are carried as `b64:` lines, as `normalize` reads them
    assert any(x.startswith(b"b64:") for x in lines["mexc"])


def test_seed_ranges_and_all_venues():
    assert evaluate.parse_seeds("101-103,7") == [101, 102, 103, 7]
    with pytest.raises(ValueError):
        evaluate.parse_seeds("5-3")
    every = evaluate.all_venues()
    assert set(evaluate.DEFAULT_VENUES) < set(every) and set(VENUES) < set(every)


def test_the_evaluation_leaves_the_callers_environment_as_it_found_it(captured, tmp_path):
    """The simulator's client credentials and Binance RWA's widened whitelist are set only while
    the evaluation runs (it runs in the caller's process): afterwards a BTCUSDT frame is again
    refused by Binance RWA's default whitelist."""
    import os

    assert whitelist.ENV not in os.environ and not whitelist.allowed("BTCUSDT")
    evaluate.run(seed=7, duration_s=5, venues=("binance-rwa",), cache_dir=str(tmp_path))
    assert whitelist.ENV not in os.environ and not whitelist.allowed("BTCUSDT")
