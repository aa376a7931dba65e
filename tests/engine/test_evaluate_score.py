"""`signals eval` scoring (nexus/flow/evaluate.py score) on hand-built labels and signals."""

from nexus.flow.evaluate import Detected, score

S = 1_000_000_000


def label(i, kind="accumulation", side="buy", t0=10 * S, t1=35 * S, active=False, price=None):
    return {"id": f"L{i:04d}", "kind": kind, "venue": "kraken", "side": side, "price": price,
            "t_start_ns": t0, "t_end_ns": None if active else t1, "active": active}


def sig(ts, side="buy", signal="smart_money"):
    return Detected("kraken", signal, side, ts, "0", 60, "0.1")


def test_unfinished_label_is_left_out_of_recall_but_its_signal_is_true():
    labels = [label(1), label(2, t0=100 * S), label(3, t0=295 * S, active=True)]
    end = 300 * S
    # the first accumulation found, the second missed, the one cut short by the run's end
    # found: recall 1/2 over the finished labels, both signals true
    r = score([sig(20 * S), sig(299 * S)], labels, end)["smart_money"]
    assert (r["labelled"], r["unfinished"], r["detected"]) == (2, 1, 2)
    assert r["recall"] == 0.5 and r["precision"] == 1.0
    # not finding the unfinished one costs nothing; a signal outside every label is false
    r = score([sig(20 * S), sig(200 * S)], labels, end)["smart_money"]
    assert r["recall"] == 0.5 and r["precision"] == 0.5


def test_wrong_side_or_kind_does_not_match():
    labels = [label(1, kind="exhaustion", side="buy", t0=10 * S, t1=14 * S)]
    res = score([sig(12 * S, side="buy", signal="exhaustion"), sig(12 * S, side="sell", signal="exhaustion"),
                 sig(12 * S, side="buy", signal="delta_spike")], labels, 300 * S)
    # exhaustion: the label names the exhausted buyers, a true signal points down (sell)
    assert res["exhaustion"]["precision"] == 0.5 and res["exhaustion"]["recall"] == 1.0
    assert res["delta_spike"]["precision"] == 0.0 and res["delta_spike"]["recall"] is None


def test_pool_adds_counts_and_recomputes_the_ratios():
    from nexus.flow.evaluate import pool

    end = 300 * S
    a = score([sig(20 * S), sig(200 * S)], [label(1), label(2, t0=100 * S)], end)   # 1 of 2 true, 1 of 2 found
    b = score([sig(20 * S)] * 3, [label(1)], end)                                     # 3 of 3 true, 1 of 1 found
    p = pool([a, b])["smart_money"]
    assert (p["detected"], p["true_positives"], p["labelled"], p["found"]) == (5, 4, 3, 2)
    assert p["precision"] == 0.8 and p["recall"] == round(2 / 3, 4)     # not the mean of 0.5 and 1.0
    assert pool([a])["oracle"]["precision"] is None
