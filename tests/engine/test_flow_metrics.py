"""The flow metrics (OFI per level, OBI, CVD, VPIN) against the plain reference
(tests/engine/reference.py) on random streams, exactly, and against worked examples
computed by hand in the comments."""

from fractions import Fraction

import numpy as np
import pytest

from nexus.flow import dtypes
from nexus.flow.format import ratio_str
from nexus.flow.params import FlowParams
from nexus.flow.runner import FlowRunner
import flow_reference as ref
from flow_streams import msg, random_stream, to_batch

BL, BC, TR = 1, 2, 3


def engine_rows(batch, capacity=4096, **params):
    runner = FlowRunner(FlowParams(signals=False, **params), capacity=capacity)
    return runner.run(batch)


def check_against_reference(batch, ofi_levels, obi_levels, capacity=4096):
    out = engine_rows(batch, capacity, ofi_levels=ofi_levels, obi_levels=obi_levels)
    want = ref.metrics(ref.as_tuples(batch), ofi_levels, obi_levels)
    assert len(out.metrics) == len(want) > 0
    for row, w in zip(out.metrics, want):
        assert int(row["msg"]) == w["msg"] and int(row["rec"]) == w["rec"]
        flags = int(row["flags"])
        assert bool(flags & dtypes.ROW_BOOK_CHANGED) == w["changed"]
        assert bool(flags & dtypes.ROW_RESET) == w["reset"]
        assert (int(row["bid_px"]) if flags & dtypes.ROW_HAVE_BID else None) == w["best_bid"]
        assert (int(row["ask_px"]) if flags & dtypes.ROW_HAVE_ASK else None) == w["best_ask"]
        assert int(row["bid_qty"]) == w["bid_qty"] and int(row["ask_qty"]) == w["ask_qty"]
        assert [int(v) for v in row["ofi"][:ofi_levels]] == w["ofi"], w["msg"]
        assert all(int(v) == 0 for v in row["ofi"][ofi_levels:])
        obi = Fraction(int(row["obi_num"]), int(row["obi_den"])) if row["obi_den"] else None
        assert obi == w["obi"]
        assert int(row["cvd"]) == w["cvd"]
        assert int(row["buy_qty"]) == w["buy"] and int(row["sell_qty"]) == w["sell"]
    return out


@pytest.mark.parametrize("seed", range(12))
def test_metrics_match_reference_on_random_streams(seed):
    batch = random_stream(seed, messages=500)
    levels = [1, 3, 5, 10, 20][seed % 5]
    check_against_reference(batch, ofi_levels=levels, obi_levels=[1, 2, 5, 20][seed % 4])


def test_small_output_buffers_give_the_same_rows():
    batch = random_stream(99, messages=600)
    big = check_against_reference(batch, 5, 5, capacity=4096)
    small = check_against_reference(batch, 5, 5, capacity=64)  # forces many drains
    assert np.array_equal(big.metrics, small.metrics)


def test_batch_boundaries_do_not_matter():
    batch = random_stream(5, messages=300)
    whole = engine_rows(batch).metrics
    runner = FlowRunner(FlowParams(signals=False))
    parts = []
    cuts = [0, 1, 17, 18, 250, 251, 600, len(batch)]
    for a, b in zip(cuts, cuts[1:]):  # cuts inside messages too
        parts.append(runner.run(batch[a:b]).metrics)
    assert np.array_equal(whole, np.concatenate(parts))


def test_worked_example_ofi_obi_cvd():
    # Book (price: size), levels N = 2 for OFI and OBI.
    # m0: snapshot  bids {100: 5, 99: 3}  asks {101: 4, 102: 6}  -> first state: OFI reset to 0.
    #     OBI = (5+3 - 4-6) / (5+3+4+6) = -2/18 = -1/9.
    # m1: bid 100 -> 7. Level 1: Pb = Pb' = 100 so +qb - qb' = 7 - 5 = 2; asks unchanged
    #     (-qa + qa' = -4 + 4 = 0): e1 = 2. Level 2: (99, 3) both times: 0. OBI = (10-10)/20 = 0.
    # m2: ask 101 deleted. Best ask 102 (6) > 101: only 1{Pa >= Pa'} holds -> +qa' = +4: e1 = 4.
    #     Level-2 ask was (102, 6), is now absent (+inf, 0): +inf >= 102 -> +6: e2 = 6.
    #     OBI = (7+3 - 6) / (7+3+6) = 4/16 = 0.25.
    # m3: trades: buy 2, sell 5, buy 1, unknown side 4 -> CVD = 2 - 5 + 1 = -2, book unchanged
    #     so OFI 0 on both levels and OBI still 0.25.
    # m4: bid 100 deleted -> best bid 99 < 100: only 1{Pb <= Pb'} -> -qb' = -7: e1 = -7.
    #     Level-2 bid was (99, 3), now absent (-inf, 0): -3: e2 = -3. Level-2 asks: absent both
    #     times: +inf vs +inf -> -0 + 0 = 0. OBI = (3 - 6) / (3 + 6) = -1/3.
    recs = (msg((BC, 0, 0, 0), (BL, 1, 100, 5), (BL, 1, 99, 3), (BL, 2, 101, 4), (BL, 2, 102, 6), ts=1)
            + msg((BL, 1, 100, 7), ts=2)
            + msg((BL, 2, 101, 0), ts=3)
            + msg((TR, 1, 102, 2), (TR, 2, 99, 5), (TR, 1, 102, 1), (TR, 0, 100, 4), ts=4)
            + msg((BL, 1, 100, 0), ts=5))
    rows = engine_rows(to_batch(recs), ofi_levels=2, obi_levels=2).metrics
    assert [list(map(int, r["ofi"][:2])) for r in rows] == [[0, 0], [2, 0], [4, 6], [0, 0], [-7, -3]]
    assert [ratio_str(r["obi_num"], r["obi_den"]) for r in rows] == ["-0.111111", "0.000000", "0.250000", "0.250000", "-0.333333"]
    assert [int(r["cvd"]) for r in rows] == [0, 0, 0, -2, -2]
    assert [(int(r["bid_px"]), int(r["ask_px"])) for r in rows] == [(100, 101), (100, 101), (100, 102), (100, 102), (99, 102)]
    assert int(rows[0]["flags"]) & dtypes.ROW_RESET


def test_message_that_changes_nothing_emits_no_row():
    # m0 sets a book; m1 sets the same size again; m2 re-sends an identical snapshot (clear +
    # the same levels); m3 deletes a level that does not exist. Only m0 changed the book.
    snap = [(BC, 0, 0, 0), (BL, 1, 100, 5), (BL, 2, 101, 4)]
    recs = msg(*snap, ts=1) + msg((BL, 1, 100, 5), ts=2) + msg(*snap, ts=3) + msg((BL, 2, 105, 0), ts=4)
    rows = engine_rows(to_batch(recs)).metrics
    assert [int(r["msg"]) for r in rows] == [0]


def test_resync_resets_the_ofi_baseline():
    # m1 moves the best bid from 100 (5) to 101 (9): without the resync flag e1 = +9;
    # flagged F_RESYNC, OFI is defined as 0 and the row says so.
    base = msg((BL, 1, 100, 5), (BL, 2, 102, 4), ts=1)
    plain = engine_rows(to_batch(base + msg((BL, 1, 101, 9), ts=2))).metrics
    resync = engine_rows(to_batch(base + msg((BL, 1, 101, 9, ref.F_RESYNC), ts=2))).metrics
    assert int(plain[1]["ofi"][0]) == 9
    assert int(resync[1]["ofi"][0]) == 0 and int(resync[1]["flags"]) & dtypes.ROW_RESET


def test_worked_example_vpin():
    # V = 10, n = 2 buckets, one bar per trade.
    # t0 100 x6: first bar, Phi = 1/2: bucket 1 gets 6 (buy 3).
    # t1 101 x6: dP = +1, window [1]: c*S2 - S1^2 = 1 - 1 = 0 -> step, Phi = 1.
    #    4 fill bucket 1: buy 3 + 4 = 7, sell 3, |S - B| = 4. 2 go to bucket 2 (buy 2).
    #    One bucket only: no VPIN yet.
    # t2 100 x8: dP = -1, window [1, -1]: c = 2, S1 = 0, S2 = 2, c*S2 - S1^2 = 4,
    #    z = (-1 * 2) / sqrt(4) = -1, Phi(-1) = 0.15865525393..., * 2^20 = 166362.09 -> 166362.
    #    Bucket 2: buy = 2 + 8 * 166362 / 2^20 = 2 + 1330896 / 1048576 = 2 + 1 + 282320 / 1048576
    #    = 3 + 17645/65536 = 3.2692413330078125; sell = 10 - buy;
    #    |S - B| = |10 - 2 * 3.2692413330078125| = 3.461517333984375.
    #    VPIN = (4 + 3.461517333984375) / (2 * 10) = 0.37307586669921875 -> "0.373076".
    recs = msg((TR, 1, 100, 6), ts=1) + msg((TR, 2, 101, 6), ts=2) + msg((TR, 1, 100, 8), ts=3)
    out = engine_rows(to_batch(recs), vpin_bucket_volume=10, vpin_window=2)
    assert len(out.vpin) == 1
    v = out.vpin[0]
    assert Fraction(int(v["num"]), int(v["den"])) == Fraction("0.37307586669921875")
    assert ratio_str(v["num"], v["den"]) == "0.373076"
    assert int(v["rec"]) == 2 and int(v["bucket"]) == 1


def test_vpin_one_trade_completing_many_buckets():
    # V = 10, n = 1: a first trade of 35 (Phi 1/2) fills three buckets, each perfectly
    # balanced (|S - B| = 0): three VPIN rows of 0; the remaining 5 wait in bucket 4.
    out = engine_rows(to_batch(msg((TR, 1, 100, 35), ts=1)), vpin_bucket_volume=10, vpin_window=1)
    assert [ratio_str(v["num"], v["den"]) for v in out.vpin] == ["0.000000"] * 3


@pytest.mark.parametrize("seed,bar_ns,window,sigma", [(1, 0, 3, 50), (2, 0, 10, 5), (3, 200_000_000, 4, 20),
                                                     (4, 1_000_000_000, 2, 2), (5, 0, 1, 1)])
def test_vpin_matches_reference(seed, bar_ns, window, sigma):
    batch = random_stream(seed, messages=1500)
    V = 25 + seed * 7
    out = engine_rows(batch, capacity=64, vpin_bucket_volume=V, vpin_window=window,
                      vpin_sigma_bars=sigma, vpin_bar_ns=bar_ns)
    want = ref.vpin(ref.as_tuples(batch), V, window, sigma, bar_ns)
    got = [(int(v["rec"]), Fraction(int(v["num"]), int(v["den"]))) for v in out.vpin]
    assert len(got) > 20
    assert got == want


def test_vpin_large_price_changes_use_exact_wide_sums():
    # dP of +-10^9 price units: dP^2 sums pass 2^63 and need the 128-bit accumulators.
    recs = []
    for k in range(60):
        recs += msg((TR, 1 + k % 2, 10**12 + (10**9 if k % 3 else -(10**9)) * (k % 5), 7), ts=k)
    batch = to_batch(recs)
    out = engine_rows(batch, vpin_bucket_volume=10, vpin_window=3, vpin_sigma_bars=40)
    want = ref.vpin(ref.as_tuples(batch), 10, 3, 40, 0)
    assert [(int(v["rec"]), Fraction(int(v["num"]), int(v["den"]))) for v in out.vpin] == want


def test_instrument_filter_skips_other_instruments_but_counts_their_records():
    a = to_batch(msg((BL, 1, 100, 5), (BL, 2, 101, 5), ts=1), instrument_id=1)
    b = to_batch(msg((BL, 1, 50, 5), ts=1), instrument_id=2)
    c = to_batch(msg((BL, 1, 100, 6), ts=2), instrument_id=1)
    rows = engine_rows(np.concatenate([a, b, c]), instrument_id=1).metrics
    assert [int(r["rec"]) for r in rows] == [1, 3]
    assert [int(r["bid_qty"]) for r in rows] == [5, 6]
