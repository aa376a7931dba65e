"""The simulator's background flow goes on around the scripted patterns, as on a real market,
and a planted delta spike is a burst against its own venue's ordinary flow:

- a venue whose quotes follow another venue's push (an exhaustion) keeps its ordinary flow:
  only the quotes the push alone left stale are pulled, the rest of the market's moves are
  traded as on any step (before: no stale-quote taking at all for the 10-14 s the push took
  to decay, a lull after which ordinary flow read as a spike);
- a defended level (iceberg, absorption) is a floor (bid) or a ceiling (ask) for the whole
  market, not a frozen reference: the market keeps moving away from it;
- a delta spike is planted only once its venue's flow has a baseline, at several times that
  venue's own taker-order rate.
"""
import math
import random

import pytest

from nexus.sim import SimCore
from nexus.sim import market as M
from nexus.sim import patterns as P
from nexus.sim.market import BID, ASK


def _volume(core, venue, seconds):
    vs = core.sim.venues[venue]
    total = 0
    for _ in range(int(seconds * M.STEPS_PER_S)):
        core.step()
        total += sum(f.qty for f in vs.fills)
    return total


def test_followers_of_a_push_keep_their_ordinary_flow():
    """Two runs of one seed; in the second, okx-swap's price is pushed ~4 bp (an exhaustion's
    size) once and left to decay. Binance perp follows the push (follow_only) and its traded
    volume over the next 12 s stays of the order of the unpushed run's (a fraction of it
    when a follower took no stale quote: 0.07 before, 0.95 now)."""
    venues = ["okx-swap", "binance-perp"]
    a = SimCore(seed=6, venues=venues, patterns=False)
    b = SimCore(seed=6, venues=venues, patterns=False)
    a.advance(2)
    b.advance(2)
    pusher = b.sim.venues["okx-swap"]
    pusher.fair_add = 4e-4 * pusher.fair
    b.step()
    a.step()
    assert b.sim.venues["binance-perp"].follow_only
    base = _volume(a, "binance-perp", 12)
    pushed = _volume(b, "binance-perp", 12)
    assert base > 0 and pushed / base >= 0.6, pushed / base


def test_a_defended_level_is_a_floor_not_a_freeze():
    """Held at a defended bid, the latent price never goes below it but keeps moving above
    it (a defended ask: the mirror image)."""
    for side in (BID, ASK):
        lat = M.Latent(random.Random(3), 65000.0)
        level = 65000.0
        seen = set()
        for _ in range(500):
            lat.step()
            lat.hold(level, side)
            p = lat.at(0)
            assert (p >= level - 1e-9) if side == BID else (p <= level + 1e-9)
            seen.add(round(p, 6))
        away = [p for p in seen if abs(p - level) > 1e-6]
        assert len(away) > 100     # not frozen: the market walked away from the level
    lat = M.Latent(random.Random(3), 65000.0)
    lat.hold(64000.0, BID)         # a floor below the market leaves it where it is
    assert lat.at(0) == pytest.approx(65000.0)


@pytest.fixture(scope="module")
def run():
    core = SimCore(seed=31, venues=["binance-perp", "okx-swap", "kraken"], record_fills=True)
    core.advance(150)
    return core


def test_delta_spikes_wait_for_a_baseline_and_outpace_their_venue(run):
    """Every planted spike starts after its venue has SPIKE_BUCKETS_MIN baseline buckets, and
    its aggressive orders come at >= 2x its venue's own taker-order rate over the baseline
    window before it (counted here from the fills, independently of the scheduler's meter)."""
    spikes = [lb for lb in run.labels(False) if lb["kind"] == "delta_spike" and "derived_from" not in lb["detail"]]
    assert spikes
    window_ns = P.SPIKE_WINDOW * P.SPIKE_BUCKET_NS
    for lb in spikes:
        t0 = lb["t_start_ns"]
        assert t0 - run.epoch_ns >= (P.SPIKE_BUCKETS_MIN + 1) * P.SPIKE_BUCKET_NS
        start = max(run.epoch_ns, t0 - window_ns)
        normal = {f.order for v, f in run.fill_log if v == lb["venue"] and start <= f.ts_ns < t0}
        normal_rate = len(normal) / ((t0 - start) / 1e9)
        spike_rate = lb["detail"]["orders"] / P.DeltaSpike.DURATION_S
        assert spike_rate >= 2 * normal_rate, (lb["venue"], spike_rate, normal_rate)


def _near_touch_share(core, venue, seconds, ticks=8):
    """Share of the ticks 1..`ticks` behind the published touch (both sides, sampled every
    0.5 s) that hold size on the venue's main book channel."""
    feed, tick = core.feeds[venue], core.sim.venues[venue].tick
    held = seen = 0
    for i in range(int(seconds * M.STEPS_PER_S)):
        core.step()
        if i % 50:
            continue
        view = feed.view(feed.primary)
        for side, book in ((BID, view.bids), (ASK, view.asks)):
            if not book:
                continue
            touch = max(book) if side == BID else min(book)
            held += sum((touch - k * tick if side == BID else touch + k * tick) in book for k in range(1, ticks + 1))
            seen += ticks
    return held / seen


@pytest.mark.parametrize("venue", ["tradovate", "bitfinex"])
def test_coarse_tick_book_is_dense_near_the_touch(venue):
    """A CME micro bitcoin book (Tradovate, $5 tick ~0.8 bp) has resting size at nearly every
    tick near the touch, as has Bitfinex's at $1: the DOM as published shows it. Before the
    makers' ladder (VenueSim._fill_ladder) every random add joined the touch on these venues
    (placement under a tick) and 2-13 % of the ticks behind it held size."""
    core = SimCore(seed=3, venues=[venue, "binance-perp"], patterns=False)
    core.advance(5)
    assert core.sim.venues[venue].ladder_ticks > 0 and core.sim.venues["binance-perp"].ladder_ticks == 0
    assert _near_touch_share(core, venue, 40) >= 0.85
