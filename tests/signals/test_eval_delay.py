"""`signals eval`'s signal delay (nexus/flow/evaluate.py score / pool / delay_figures): for each
found label, how long after its start the first matching signal came; pooled as a median and
a 90th percentile (nearest rank) over the found labels."""

from nexus.flow import evaluate as ev

S = 1_000_000_000


def label(t_s, side="buy"):
    return {"venue": "okx-swap", "kind": "delta_spike", "side": side, "t_start_ns": int(t_s * S),
            "t_end_ns": int((t_s + 3) * S), "price": None}


def sig(t_s, side="buy"):
    return ev.Detected("okx-swap", "delta_spike", side, int(t_s * S), "65000", 90)


def test_the_delay_is_the_first_matching_signal_after_the_labels_start():
    labels = [label(10), label(20), label(40), label(60, side="sell")]
    signals = [sig(12.5), sig(13), sig(19.5), sig(21), sig(61)]    # 61 s: the wrong side for 60 s
    res = ev.score(signals, labels, 100 * S)["delta_spike"]
    assert res["found"] == 2 and sorted(res["delays_ns"]) == [int(-0.5 * S), int(2.5 * S)]
    pooled = ev.pool([{"delta_spike": res}, {"delta_spike": ev.score([sig(31)], [label(30)], 100 * S)["delta_spike"]}])
    d = pooled["delta_spike"]
    assert (d["found"], d["labelled"]) == (3, 5)
    assert d["delay_s_median"] == 1.0 and d["delay_s_p90"] == 2.5      # delays -0.5, 1.0, 2.5 s


def test_no_found_label_gives_no_delay():
    assert ev.delay_figures([]) == {"delay_s_median": None, "delay_s_p90": None}
    d = ev.pool([{"delta_spike": ev.score([], [label(10)], 100 * S)["delta_spike"]}])["delta_spike"]
    assert d["delay_s_median"] is None and d["recall"] == 0.0


def test_the_90th_percentile_is_a_nearest_rank():
    ten = [k * S for k in range(1, 11)]           # 1..10 s: the 9th of 10
    assert ev.delay_figures(ten) == {"delay_s_median": 5.5, "delay_s_p90": 9.0}
    assert ev.delay_figures([3 * S]) == {"delay_s_median": 3.0, "delay_s_p90": 3.0}
