"""`nexus bench agg`: the pure-Python baseline does the native consensus book's job, and the
benchmark checks both agree before it reports figures."""
import random

from bench.baselines.consensus import PyRecordConsensus, PySortedConsensus
from nexus._native import Consensus
from nexus.bench import agg
from nexus.bench.agg import ASK, BID, VENUES


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
              "ratio_native_apply_only_vs_python_unsorted_dict", "ratio_native_vs_python_cpu",
              "native_warm_inputs_ns_per_venue_level_update", "python_warm_inputs_ns_per_venue_level_update",
              "ratio_native_vs_python_warm_inputs", "ratio_native_vs_python_warm_inputs_cpu",
              "native_read_floor_ns_per_venue_level_update", "native_read_floor_bulk_ns_per_venue_level_update",
              "native_read_floor_bulk_gb_per_s", "native_read_floor_bulk_gb_per_s_cpu",
              "native_merge_over_read_floor", "native_merge_over_read_floor_cpu", "native_bulk_over_read_floor_bulk"):
        assert res[k] > 0
    assert len(res["per_round_native_merge_over_read_floor_cpu"]) == 1
    # GB/s is the 64-byte records read per nanosecond of the bulk floor
    assert abs(res["native_read_floor_bulk_gb_per_s"] * res["native_read_floor_bulk_ns_per_venue_level_update"] - 64) < 1e-6
    assert len(res["per_round_ratio_native_vs_python_cpu"]) == len(res["per_round_ratio_native_vs_python"]) == 1
    assert len(res["per_round_ratio_native_vs_python_warm_inputs"]) == len(res["per_round_ratio_native_vs_python_warm_inputs_cpu"]) == 1
    assert res["targets"]["ratio_native_vs_python"]["baseline"] == "python"
    assert set(res["baselines"]) >= {"python", "python_unsorted_dict"}


def test_record_adapter_matches_native_through_the_aggregator_api():
    """PyRecordConsensus (the pure-Python merge in the replay benchmark) answers every call
    the Aggregator makes exactly as the native Consensus: scaled records incl. inverse
    contracts, snapshots (BOOK_CLEAR), touch changes, depth windows, exclusions, hidden
    levels (`set_hide`, the uncrossing by freshness)."""
    from nexus import record

    rng = random.Random(9)
    c, pc = Consensus(), PyRecordConsensus()
    scales = [(1, 1, 1, False), (10, 3, 1, False), (1, 7, 2, False), (1, 10**9, 1, True), (100, 1, 1, False)]
    for v, sc in enumerate(scales):
        c.set_scale(v, *sc)
        pc.set_scale(v, *sc)
    for step in range(3000):
        v = rng.randrange(VENUES)
        pm = scales[v][0]
        n = rng.randrange(1, 6)
        batch = record.empty(n)
        batch["kind"] = int(record.Kind.BOOK_LEVEL)
        for i in range(n):
            side = rng.choice((BID, ASK))
            batch[i]["side"] = side
            batch[i]["price"] = (100_000 + rng.randrange(1, 40) * (-1 if side == BID else 1)) // pm
            batch[i]["qty"] = 0 if rng.random() < 0.25 else rng.randrange(1, 10_000)
        if rng.random() < 0.01:
            batch[0]["kind"] = int(record.Kind.BOOK_CLEAR)
            batch[0]["side"] = rng.choice((0, BID, ASK))
        assert c.apply_touch(v, batch) == pc.apply_touch(v, batch), step
        assert c.touch() == pc.touch()
        if step % 400 == 0:
            inc = rng.random() < 0.6
            c.set_included(v, inc)
            pc.set_included(v, inc)
        if step % 7 == 0:   # the Aggregator's uncrossing: hide a venue's side from a price, or lift it
            side = rng.choice((BID, ASK))
            price = None if rng.random() < 0.3 else 100_000 + rng.randrange(-30, 31)
            c.set_hide(v, side, price)
            pc.set_hide(v, side, price)
            assert c.hidden_from(v, side) == pc.hidden_from(v, side) == price
            assert c.touch() == pc.touch(), step
        if step % 50 == 0:
            for side in (BID, ASK):
                assert pc.top(side, 30) == [(p, t, q[:VENUES]) for p, t, q in c.top(side, 30)]
                per, tot = c.depth_between(side, 99_980, 100_020)
                assert pc.depth_between(side, 99_980, 100_020) == (list(per[:VENUES]), tot)
            b = c.best_bid()
            assert pc.best_bid() == ((b[0], b[1], b[2][:VENUES]) if b else None)
