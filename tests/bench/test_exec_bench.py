"""`nexus bench exec --json` runs, checks its signatures, and reports every figure (speed
targets are judged by the benchmark's own output, not here)."""
import json
import subprocess
import sys


def test_bench_exec_json():
    r = subprocess.run([sys.executable, "-m", "nexus.cli", "bench", "exec", "--json", "--iterations", "400"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout)
    assert res["ok"] is True
    assert set(res["venues"]) >= {"binance-spot", "binance-perp", "bybit-perp", "okx-swap", "coinbase", "bitget", "mexc",
                                  "kucoin", "gate", "gate-futures", "bitfinex", "binance-rwa", "fxcm"}
    assert res["venues"]["fxcm"]["ccxt"] == "ccxt has no fxcm exchange: nothing to compare"
    for row in res["venues"].values():
        assert row["correct"] and row["nexus_ns_p50"] > 0 and row["nexus_ns_p99"] >= row["nexus_ns_p50"]
        if res["ccxt"]["available"] and "ccxt" not in row:
            assert row["ccxt_correct"] and row["ratio_p50"] > 0
