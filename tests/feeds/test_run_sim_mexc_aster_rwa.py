"""`nexus run --sim` for mexc (binary protobuf frames), aster and binance-rwa over real
WebSockets on 127.0.0.1: books match the simulator's, and the injected faults (a version
gap and malformed frames on MEXC, a gap on Aster, a disconnect on Binance RWA) are counted
and recovered. The simulated market's symbol is BTCUSDT, so the run whitelists BTC for
binance-rwa (NEXUS_BINANCE_RWA_ASSETS)."""
import pytest

from tests.feeds.simrun import run_sim
from tests.feeds.test_run_sim import _compare

VENUES = ["mexc", "aster", "binance-rwa"]
FAULTS = ["gap:mexc:3", "malformed:mexc:5", "gap:aster:4", "disconnect:binance-rwa:3"]
DURATION_S = 12


@pytest.fixture(scope="module")
def run():
    mp = pytest.MonkeyPatch()
    mp.setenv("NEXUS_BINANCE_RWA_ASSETS", "PAXG,BTC")
    try:
        return run_sim(VENUES, 7, FAULTS, DURATION_S, _compare)
    finally:
        mp.undo()


@pytest.mark.parametrize("venue", VENUES)
def test_books_match_the_simulator(run, venue):
    f = run["final"][venue]
    assert f["synced"] and f["matches_sim"] and f["ring_matches_feed"] and f["levels"] > 0, f


def test_mexc_gap_and_malformed_frames_are_counted_and_recovered(run):
    s = run["summary"]["mexc"]
    assert s["malformed"] == 3 and s["gaps"] >= 1 and s["state"] == "LIVE", s


def test_aster_gap_resyncs(run):
    s = run["summary"]["aster"]
    assert s["gaps"] >= 1 and s["state"] == "LIVE", s


def test_binance_rwa_reconnects(run):
    s = run["summary"]["binance-rwa"]
    assert s["reconnects"] >= 1 and s["state"] == "LIVE", s
