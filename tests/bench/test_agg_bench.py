"""`nexus bench agg`: the pure-Python baseline does the native consensus book's job, and the
benchmark checks both agree before it reports figures."""
import random

from nexus._native import Consensus
from nexus.bench import agg
from nexus.bench.agg import ASK, BID, VENUES, PySortedConsensus


def test_sorted_baseline_matches_native_with_exclusions():
    rng = random.Random(5)
    c, pc = Consensus(), PySortedConsensus()
    for step in range(20_000):
        v = rng.randrange(VENUES)
        side = rng.choice((BID, ASK))
        price = 1000 + rng.randrange(-30, 30)
        qty = 0 if rng.random() < 0.25 else rng.randrange(1, 100)
        c.set(v, side, price, qty)
        if step % 2:
            pc.set(v, side, price, qty)
        else:
            pc.apply(v, [(side, price, qty)])
        if step % 1500 == 0:
            inc = rng.random() < 0.5
            c.set_included(v, inc)
            pc.set_included(v, inc)
        b, a = c.best_bid(), c.best_ask()
        assert (pc.best(BID), pc.best(ASK)) == ((b[0], b[1]) if b else None, (a[0], a[1]) if a else None)
        assert pc.touch() == c.touch()
    for side in (BID, ASK):
        assert pc.top(side, 50) == [(p, t, q[:VENUES]) for p, t, q in c.top(side, 50)]


def test_bench_agg_reports_both_baselines_and_says_which_the_target_uses():
    res = agg.run(messages=500, rounds=1, replay=False)
    for k in ("native_ns_per_venue_level_update", "native_apply_only_ns_per_venue_level_update",
              "native_ns_per_venue_level_update_bulk", "python_ns_per_venue_level_update",
              "python_unsorted_dict_ns_per_venue_level_update", "ratio_native_vs_python",
              "ratio_native_apply_only_vs_python_unsorted_dict"):
        assert res[k] > 0
    assert res["targets"]["ratio_native_vs_python"]["baseline"] == "python"
    assert set(res["baselines"]) >= {"python", "python_unsorted_dict"}
