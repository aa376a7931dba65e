"""`nexus run --sim --venues bitfinex,bitget` end to end over real WebSockets on 127.0.0.1:
both venues stream, their books match the simulator's, and each fault is handled by the
venue's own rules (Bitfinex: SEQ_ALL sequence numbers and `cs` checksums; Bitget: the books
checksum over the original strings).

Two runs, one per fault set, so that each fault is seen on its own."""
import subprocess
import sys
from decimal import Decimal

import pytest

from tests.feeds.simrun import feed_and_ring, norm, run_sim

VENUES = ["bitfinex", "bitget"]
DURATION_S = 16


def _compare(rt, venue, depth=10):
    """The handler's book against the simulator's publications on the main book channel:
    Bitfinex messages carry no publication number the client could quote (its SEQ_ALL
    numbers are per connection), so the book must equal one of the recent publications
    (Bitget: the one its `seq` names)."""
    st, mine, ring = feed_and_ring(rt, venue, depth)
    f = rt.feeds[venue]
    feed = rt.sim.core.feeds[venue]
    if venue == "bitget":
        books = [rt.sim.book(venue, seq=f.last_book_seq)]
    else:
        seqs = [h.seq for h in feed.view(feed.primary).history]
        books = [rt.sim.book(venue, seq=s) for s in seqs]
    matches = any(mine == (norm(b["bids"][:depth]), norm(b["asks"][:depth])) for b in books)
    return {"synced": st.synced, "matches_sim": matches, "ring_matches_feed": ring == mine,
            "levels": len(mine[0]) + len(mine[1])}


def _run(faults):
    return run_sim(VENUES, 5, faults, DURATION_S, _compare)


@pytest.fixture(scope="module")
def run_a():
    return _run(["gap:bitfinex:4", "bad-checksum:bitget:12", "malformed:bitfinex:9", "silence:bitget:2"])


@pytest.fixture(scope="module")
def run_b():
    return _run(["bad-checksum:bitfinex:4", "gap:bitget:4", "disconnect:bitfinex:9", "malformed:bitget:9"])


def states(run, venue):
    return [line["venues"][venue]["state"] for line in run["lines"]]


def test_both_stream_and_books_match_the_simulator(run_a, run_b):
    for run in (run_a, run_b):
        for v in VENUES:
            f = run["final"][v]
            assert f["synced"] and f["levels"] >= 10, (v, f)
            assert f["matches_sim"], v
            assert f["ring_matches_feed"], v
            assert run["summary"][v]["msgs"] > 20, v
            assert run["summary"][v]["state"] == "LIVE", v


def test_bitfinex_sequence_gap_is_detected_and_resubscribed(run_a):
    s = run_a["summary"]["bitfinex"]
    assert s["gaps"] >= 1 and s["resyncs"] >= 1 and s["reconnects"] >= 1, s


def test_bad_checksums_are_counted_and_resynced(run_a, run_b):
    for run, v in ((run_a, "bitget"), (run_b, "bitfinex")):
        s = run["summary"][v]
        assert s["checksum_failures"] >= 1 and s["resyncs"] >= 1, (v, s)


def test_bitget_lost_update_is_caught_by_the_checksum(run_b):
    s = run_b["summary"]["bitget"]
    assert s["checksum_failures"] >= 1 and s["resyncs"] >= 1, s


def test_malformed_frames_are_counted_and_nothing_else_is_lost(run_a, run_b):
    for run, v in ((run_a, "bitfinex"), (run_b, "bitget")):
        s = run["summary"][v]
        assert s["malformed"] >= 1, (v, s)
        assert run["final"][v]["matches_sim"], v
    assert run_b["summary"]["bitget"]["gaps"] == 0


def test_silence_goes_stale_and_recovers(run_a):
    seen = states(run_a, "bitget")
    assert "STALE" in seen, seen
    assert "LIVE" in seen[seen.index("STALE"):]


def test_disconnect_reconnects(run_b):
    s = run_b["summary"]["bitfinex"]
    assert s["reconnects"] >= 1 and s["state"] == "LIVE", s


def test_run_cli_separate_processes():
    p = subprocess.run([sys.executable, "-m", "nexus.cli", "run", "--sim", "--venues", "bitfinex,bitget",
                        "--duration", "4", "--json", "--procs"], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr[-2000:]
    import json
    last = json.loads(p.stdout.splitlines()[-1])["summary"]
    for v in VENUES:
        assert last[v]["state"] == "LIVE"
        assert Decimal(last[v]["best_bid"]) < Decimal(last[v]["best_ask"])
        assert Decimal(last[v]["best_bid"]) > 1000   # the venue's exponents, not a generic guess
