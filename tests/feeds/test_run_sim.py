"""`nexus run` end to end over real WebSockets on 127.0.0.1 against `nexus sim`: all seven
venues stream, books match the simulator's own books, and each injected fault is handled.

One 20-second run carries every fault (one per venue) and records a line per second; the
tests below each check one behaviour of that run.
"""
import json
import subprocess
import sys
from decimal import Decimal

import pytest

from tests.feeds.simrun import feed_and_ring, norm, run_sim

VENUES = ["binance-spot", "binance-perp", "bybit-perp", "okx-swap", "coinbase", "kraken", "hyperliquid"]
FAULTS = [
    "gap:binance-spot:4",
    "gap:binance-perp:5",
    "disconnect:bybit-perp:4",
    "bad-checksum:okx-swap:5",
    "malformed:coinbase:4",
    "silence:kraken:3",
    "bad-checksum:kraken:15",
]
DURATION_S = 20


def _compare(rt, venue, depth=10):
    st, (mine_b, mine_a), ring = feed_and_ring(rt, venue, depth)
    f = rt.feeds[venue]
    # Binance/Bybit/OKX: the venue's own sequence; elsewhere the publication's timestamp.
    if venue in ("coinbase", "kraken", "hyperliquid"):
        sim_book = rt.sim.book(venue, at_ns=f.last_book_ts_ns)
    else:
        sim_book = rt.sim.book(venue, seq=f.last_book_seq)
    return {
        "synced": st.synced,
        "matches_sim": mine_b == norm(sim_book["bids"][:depth]) and mine_a == norm(sim_book["asks"][:depth]),
        "ring_matches_feed": ring == (mine_b, mine_a),
        "levels": len(mine_b) + len(mine_a),
    }


@pytest.fixture(scope="module")
def faulty_run():
    return run_sim(VENUES, 11, FAULTS, DURATION_S, _compare)


def states(run, venue):
    return [line["venues"][venue]["state"] for line in run["lines"]]


def test_all_seven_venues_stream_and_books_match_the_simulator(faulty_run):
    for v in VENUES:
        f = faulty_run["final"][v]
        assert f["synced"] and f["levels"] >= 10, (v, f)
        assert f["matches_sim"], v
        assert f["ring_matches_feed"], v
        assert faulty_run["summary"][v]["msgs"] > 20, v


def test_gap_is_detected_and_resynced(faulty_run):
    for v in ("binance-spot", "binance-perp"):
        s = faulty_run["summary"][v]
        assert s["gaps"] >= 1 and s["resyncs"] >= 1, (v, s)
        assert s["state"] == "LIVE"


def test_killed_connection_reconnects(faulty_run):
    s = faulty_run["summary"]["bybit-perp"]
    assert s["reconnects"] >= 1 and s["state"] == "LIVE"
    assert "DOWN" in states(faulty_run, "bybit-perp") or "SYNCING" in states(faulty_run, "bybit-perp")


def test_bad_checksum_is_counted_and_resynced(faulty_run):
    for v in ("okx-swap", "kraken"):
        s = faulty_run["summary"][v]
        assert s["checksum_failures"] >= 1 and s["resyncs"] >= 1, (v, s)
        assert s["state"] == "LIVE"


def test_silent_venue_goes_stale_and_recovers(faulty_run):
    seen = states(faulty_run, "kraken")
    assert "STALE" in seen
    first_stale = seen.index("STALE")
    assert "LIVE" in seen[first_stale:]  # LIVE again after STALE


def test_malformed_frames_are_counted_and_nothing_else_is_lost(faulty_run):
    s = faulty_run["summary"]["coinbase"]
    assert s["malformed"] >= 1
    assert s["gaps"] == 0 and s["resyncs"] == 0  # the good frames around them kept the book in sync
    assert faulty_run["final"]["coinbase"]["matches_sim"]


def test_unfaulted_venue_stays_live(faulty_run):
    assert states(faulty_run, "hyperliquid")[-1] == "LIVE"
    assert all(s in ("LIVE", "SYNCING") for s in states(faulty_run, "hyperliquid"))


def test_run_cli_json_contract_in_separate_processes():
    p = subprocess.run([sys.executable, "-m", "nexus.cli", "run", "--sim", "--venues", "okx-swap,binance-perp",
                        "--duration", "4", "--json", "--procs"], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr[-2000:]
    lines = [json.loads(x) for x in p.stdout.splitlines()]
    assert "summary" in lines[-1]
    per_second = lines[:-1]
    assert len(per_second) >= 3
    for line in per_second:
        assert set(line) >= {"t_s", "venues"}
        for v, s in line["venues"].items():
            assert set(s) >= {"state", "msgs", "gaps", "resyncs", "reconnects", "checksum_failures", "malformed",
                              "best_bid", "best_ask"}
    last = lines[-1]["summary"]
    for v in ("okx-swap", "binance-perp"):
        assert last[v]["state"] == "LIVE"
        assert Decimal(last[v]["best_bid"]) < Decimal(last[v]["best_ask"])


def test_run_refuses_bad_options():
    p = subprocess.run([sys.executable, "-m", "nexus.cli", "run", "--venues", "nope", "--duration", "1"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 2 and "no live feed for venue" in p.stderr
    p = subprocess.run([sys.executable, "-m", "nexus.cli", "run", "--sim", "--fault", "explode:okx-swap:1",
                        "--venues", "okx-swap", "--duration", "1"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 2
