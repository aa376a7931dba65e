"""The calibration fit (nexus/flow/calibration.py) and the compiled engine applying it."""

import pytest

from nexus.flow.calibration import fit, isotonic, isotonic_pooled, table_from_blocks
from nexus.flow.evaluate import reliability, wilson


def test_isotonic_pools_violators_and_smooths():
    pts = [(50, True)] * 8 + [(50, False)] * 2 + [(60, False)] * 3 + [(60, True)] * 1 + [(90, True)] * 10
    blocks = isotonic(pts)
    shares = [b[1] for b in blocks]
    assert shares == sorted(shares)
    assert len(blocks) == 2 and blocks[0][2] == 14        # 50 and 60 pooled: 9 of 14
    assert blocks[0][1] == pytest.approx(10 / 16)         # Laplace: (9 + 1) / (14 + 2)
    t = table_from_blocks(blocks)
    assert len(t) == 101 and t[0] == t[50] == 62 and t[100] == round(11 / 12 * 100)
    assert all(a <= b for a, b in zip(t, t[1:]))


def test_blocks_of_few_signals_are_pooled_with_a_neighbour():
    # one low-scored false signal, then 40 right at 60 and 40 (36 right) at 90
    pts = [(40, False)] + [(60, True)] * 40 + [(90, True)] * 36 + [(90, False)] * 4
    assert [b[2] for b in isotonic(pts)] == [1, 80]                       # PAV alone keeps the block of one ...
    assert table_from_blocks(isotonic(pts))[40] == 33                     # ... and it sets raw 40 at 33 %
    blocks = isotonic_pooled(pts, min_block=30)
    assert [b[2] for b in blocks] == [81]                                 # pooled: 76 of 81
    assert blocks[0][1] == pytest.approx(77 / 83)
    big = [(40, False)] * 20 + [(40, True)] * 10 + pts[1:]                 # a block of 30: kept apart
    assert [b[2] for b in isotonic_pooled(big, min_block=30)] == [30, 80]
    assert fit([("spoof", "v", c, t) for c, t in pts], [201])["tables"]["spoof"][40] == round(77 / 83 * 100)


def test_fit_skips_kinds_with_few_signals():
    outs = [("iceberg", "x", 60, True)] * 30 + [("spoof", "x", 60, True)] * 3
    f = fit(outs, [201])
    assert set(f["tables"]) == {"iceberg"} and f["fitted_on"]["seeds"] == [201]


def test_wilson_and_reliability():
    assert wilson(0, 0) is None
    lo, hi = wilson(17, 20)
    assert lo < 0.85 < hi and lo == pytest.approx(0.6396, abs=1e-3) and hi == pytest.approx(0.9476, abs=1e-3)
    r = reliability([("spoof", "v", 72, True), ("spoof", "v", 75, False), ("spoof", "v", 95, True)])
    assert r["spoof"]["n"] == 3
    assert [row["n"] for row in r["spoof"]["table"]] == [2, 1]
    assert r["spoof"]["brier"] == pytest.approx(((0.72 - 1) ** 2 + 0.75 ** 2 + 0.05 ** 2) / 3, abs=1e-4)


def test_engine_refuses_bad_tables():
    from engine.flow import FlowEngine
    from nexus.flow.params import FlowParams

    e = FlowEngine(FlowParams().engine_dict())
    with pytest.raises(ValueError):
        e.set_calibration(2, [0] * 100)
    with pytest.raises(ValueError):
        e.set_calibration(2, list(range(100, -1, -1)))      # must not decrease
    with pytest.raises(ValueError):
        e.set_calibration(9, list(range(101)))              # no such signal type
    e.set_calibration(2, [min(100, c + 1) for c in range(101)])   # a valid one is taken
