"""`nexus metrics replay` and `nexus signals replay` over binary records (--records): the
JSON contract, exact decimal strings checked against the plain reference and an independent
Decimal formatter, usage errors (exit 2) and rejected input (exit 3)."""

import json
import subprocess
import sys
from decimal import Decimal
from fractions import Fraction

import flow_reference as ref
from flow_streams import market_with_patterns, random_stream

from nexus.flow.params import FlowParams
from nexus.flow.runner import FlowRunner


def nexus(*args, stdin=b""):
    return subprocess.run([sys.executable, "-m", "nexus.cli", *args], input=stdin, capture_output=True, timeout=120)


def dec(v: int, exp: int) -> str:
    """Independent formatting: the exact decimal of v * 10^-exp, no exponent, no trailing zeros."""
    s = format(Decimal(v).scaleb(-exp), "f")
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def ratio6(f: Fraction) -> str:
    q = round(f * 10**6)  # Python rounds Fractions half-to-even
    return format(Decimal(q).scaleb(-6), "f")


def test_metrics_replay_records_json_contract():
    batch = random_stream(3, messages=400)
    p = nexus("metrics", "replay", "--records", "--price-exponent", "2", "--qty-exponent", "3", "--levels", "3",
              "--json", stdin=batch.tobytes())
    assert p.returncode == 0, p.stderr
    lines = [json.loads(x) for x in p.stdout.splitlines()]
    want = ref.metrics(ref.as_tuples(batch), 3, 3)
    assert len(lines) == len(want)
    for line, w in zip(lines, want):
        assert set(line) == {"i", "best_bid", "best_ask", "ofi", "ofi_levels", "obi", "cvd"}
        assert line["i"] == w["msg"]  # --records: i is the message ordinal
        assert line["best_bid"] == (dec(w["best_bid"], 2) if w["best_bid"] is not None else None)
        assert line["best_ask"] == (dec(w["best_ask"], 2) if w["best_ask"] is not None else None)
        assert line["ofi_levels"] == [dec(v, 3) for v in w["ofi"]] and line["ofi"] == dec(w["ofi"][0], 3)
        assert line["obi"] == (ratio6(w["obi"]) if w["obi"] is not None else None)
        assert line["cvd"] == dec(w["cvd"], 3)


def test_metrics_replay_vpin_lines():
    batch = random_stream(4, messages=1500)
    p = nexus("metrics", "replay", "--records", "--qty-exponent", "1", "--vpin-bucket-volume", "3.5",
              "--vpin-window", "4", "--json", stdin=batch.tobytes())
    assert p.returncode == 0, p.stderr
    vp = [json.loads(x) for x in p.stdout.splitlines() if b'"vpin"' in x]
    want = ref.vpin(ref.as_tuples(batch), 35, 4)  # 3.5 at exponent 1 = 35 units
    msg_of_rec = {}
    for n, m in enumerate(ref.messages(ref.as_tuples(batch))):
        for i, _ in m:
            msg_of_rec[i] = n
    assert [(v["i"], v["vpin"]) for v in vp] == [(msg_of_rec[r], ratio6(f)) for r, f in want]
    assert len(vp) > 10


def test_signals_replay_records_json_contract():
    batch = market_with_patterns(8)
    over = dict(spoof_mult_pct=200, spoof_order_mult_pct=0, spoof_approach_pct=100, exhaustion_min_orders=5,
                smart_money_z_x100=0, spoof_min_behind=0)
    args = [a for k, v in over.items() for a in ("--param", f"{k}={v}")]
    p = nexus("signals", "replay", "--records", "--json", *args, stdin=batch.tobytes())
    assert p.returncode == 0, p.stderr
    lines = [json.loads(x) for x in p.stdout.splitlines()]
    out = FlowRunner(FlowParams(**over)).run(batch)
    assert len(lines) == len(out.signals) > 0
    names = {1: "absorption", 2: "iceberg", 3: "exhaustion", 4: "delta_spike", 5: "spoof", 6: "smart_money", 7: "oracle"}
    for line, sig in zip(lines, out.signals):
        assert set(line) == {"i", "signal", "side", "price", "confidence", "facts"}
        assert line["signal"] == names[int(sig["aux"])]
        assert line["side"] == ("buy" if sig["side"] == 1 else "sell")
        assert line["price"] == dec(int(sig["price"]), 0) and 0 <= line["confidence"] <= 100
        assert isinstance(line["facts"], dict) and line["facts"]


def test_usage_errors_exit_2():
    assert nexus("metrics", "replay", "--json").returncode == 2                     # no source
    assert nexus("metrics", "replay", "--records", "--levels", "99").returncode == 2
    assert nexus("signals", "replay", "--records", "--param", "nonsense").returncode == 2
    assert nexus("signals", "replay", "--records", "--param", "spoof_pull_pct=500").returncode == 2
    r = nexus("metrics", "replay", "--records", "--qty-exponent", "1", "--vpin-bucket-volume", "0.05")
    assert r.returncode == 2 and b"vpin-bucket-volume" in r.stderr


def test_trailing_partial_record_exits_3_after_processing_the_rest():
    batch = random_stream(5, messages=50)
    p = nexus("metrics", "replay", "--records", "--json", stdin=batch.tobytes() + b"\x01\x02\x03")
    assert p.returncode == 3
    assert len(p.stdout.splitlines()) == len(ref.metrics(ref.as_tuples(batch)))
    assert b"not a whole record" in p.stderr
