"""The replay commands over real venue wire formats (from the simulator, in process): the
book the metrics see is the book `nexus book replay` keeps by the venue's sync rules, line
indices are the input lines, and `signals eval` prints its contract."""

import json
import subprocess
import sys

import pytest

from nexus.flow import evaluate

SEED, SECONDS = 3, 30
VENUES = ("okx-swap", "binance-spot", "hyperliquid")


@pytest.fixture(scope="module")
def capture():
    lines, labels, eng = evaluate.capture(SEED, SECONDS, VENUES)
    return {v: b"\n".join(x) + b"\n" for v, x in lines.items()}, {v: eng.feeds[v].spec.symbol for v in lines}


def nexus(*args, stdin=b""):
    return subprocess.run([sys.executable, "-m", "nexus.cli", *args], input=stdin, capture_output=True, timeout=300)


@pytest.mark.parametrize("venue", VENUES)
def test_metrics_replay_sees_the_synced_book(capture, venue):
    data, symbols = capture
    sym = ["--symbol", symbols[venue]] if venue.startswith("binance") else []
    p = nexus("metrics", "replay", "--venue", venue, *sym, "--levels", "3", "--vpin-bucket-volume", "1",
              "--vpin-window", "3", "--json", stdin=data[venue])
    assert p.returncode == 0, p.stderr[-2000:]
    rows = [json.loads(x) for x in p.stdout.splitlines()]
    metrics = [r for r in rows if "ofi" in r]
    n_lines = data[venue].count(b"\n")
    assert len(metrics) > 50
    assert all(set(r) == {"i", "best_bid", "best_ask", "ofi", "ofi_levels", "obi", "cvd"} for r in metrics)
    assert all(0 <= r["i"] < n_lines for r in rows)
    assert [r["i"] for r in metrics] == sorted(r["i"] for r in metrics)
    assert all(len(r["ofi_levels"]) == 3 and r["ofi_levels"][0] == r["ofi"] for r in metrics)
    assert any(r["cvd"] != "0" for r in metrics)
    book = nexus("book", "replay", "--venue", venue, *sym, "--depth", "1", stdin=data[venue])
    final = json.loads(book.stdout.splitlines()[0])
    assert (metrics[-1]["best_bid"], metrics[-1]["best_ask"]) == (final["bids"][0][0], final["asks"][0][0])


def test_signals_replay_over_venue_messages(capture):
    data, symbols = capture
    p = nexus("signals", "replay", "--venue", "okx-swap", "--json",
              "--param", "spoof_order_mult_pct=0", "--param", "spoof_mult_pct=300", stdin=data["okx-swap"])
    assert p.returncode == 0, p.stderr[-2000:]
    lines = [json.loads(x) for x in p.stdout.splitlines()]
    assert lines, "expected some signals with lowered spoof thresholds"
    for s in lines:
        assert set(s) == {"i", "signal", "side", "price", "confidence", "facts"}
        assert s["signal"] in evaluate.KIND_TO_SIGNAL.values() or s["signal"] == "oracle"
        assert s["side"] in ("buy", "sell") and 0 <= s["confidence"] <= 100


def test_signals_eval_contract():
    p = nexus("signals", "eval", "--seed", "2", "--duration", "40", "--venues", "okx-swap,kraken", "--json")
    assert p.returncode == 0, p.stderr[-2000:]
    res = json.loads(p.stdout)
    assert set(res) == {"absorption", "iceberg", "exhaustion", "delta_spike", "spoof", "smart_money", "oracle"}
    for name, d in res.items():
        assert set(d) == {"precision", "recall", "labelled", "detected"}
        assert d["precision"] is None or 0 <= d["precision"] <= 1
        assert d["recall"] is None or 0 <= d["recall"] <= 1
    assert sum(d["labelled"] for d in res.values()) >= 3  # the first patterns start within ~30 s


def test_signals_eval_seeds_pooled_is_the_sum_of_the_single_runs():
    args = ("--duration", "40", "--venues", "okx-swap,kraken", "--json")
    p = nexus("signals", "eval", "--seeds", "2,3", "--include-tuning", *args)
    assert p.returncode == 0, p.stderr[-2000:]
    res = json.loads(p.stdout)
    assert res["seeds"] == [2, 3] and set(res["per_seed"]) == {"2", "3"} and res["excluded_tuning_seeds"] == []
    single = {s: json.loads(nexus("signals", "eval", "--seed", s, *args).stdout) for s in ("2", "3")}
    assert res["per_seed"] == single                                   # the same scenario, the same result
    for name, d in res["pooled"].items():
        assert d["labelled"] == sum(single[s][name]["labelled"] for s in single)
        assert d["detected"] == sum(single[s][name]["detected"] for s in single)
        if name != "oracle" and d["detected"]:
            lo, hi = d["precision_ci"]
            assert lo <= d["precision"] <= hi                          # Wilson 95 % interval around it
    assert set(res["per_venue"]) == {"okx-swap", "kraken"}
    for name, c in res["calibration"].items():                          # reliability table and Brier per kind
        assert sum(r["n"] for r in c["table"]) == c["n"] and 0 <= c["brier"] <= 1
    # tuning seeds are left out of the figures, and said so
    only = nexus("signals", "eval", "--seeds", "2,3", *args)
    assert only.returncode == 2 and b"tuning seed" in only.stderr
    bad = nexus("signals", "eval", "--seeds", "2,x", *args)
    assert bad.returncode == 2 and b"--seeds" in bad.stderr


def test_signals_eval_param_overrides(tmp_path):
    # The same frames (cached) scored with other detector parameters: lowered spoof thresholds
    # find walls the defaults leave, the spoof detector off finds none; the labels do not move.
    args = ("--seed", "2", "--duration", "40", "--venues", "okx-swap,kraken", "--json", "--cache", str(tmp_path))
    low = nexus("signals", "eval", *args, "--param", "spoof_order_mult_pct=0", "--param", "spoof_mult_pct=300")
    assert low.returncode == 0, low.stderr[-2000:]
    off = nexus("signals", "eval", *args, "--param", "spoof=off")
    assert off.returncode == 0, off.stderr[-2000:]
    low, off = json.loads(low.stdout), json.loads(off.stdout)
    assert low["spoof"]["detected"] > 0 and off["spoof"]["detected"] == 0
    assert {n: d["labelled"] for n, d in low.items()} == {n: d["labelled"] for n, d in off.items()}
    bad = nexus("signals", "eval", *args, "--param", "no_such_param=1")
    assert bad.returncode == 2 and b"no_such_param" in bad.stderr
