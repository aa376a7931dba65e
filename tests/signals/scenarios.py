"""Shared helper: replay one hand-written scenario (tests/fixtures/signals) through
`nexus signals replay` and judge it against its expect.json."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "signals"
KINDS = ("iceberg", "absorption", "spoof", "delta_spike")


def names() -> list[str]:
    return sorted(p.name[:-len(".expect.json")] for p in FIX.glob("*.expect.json"))


def replay(name: str, *extra: str) -> tuple[dict, list[dict]]:
    ex = json.loads((FIX / f"{name}.expect.json").read_text())
    data = gzip.decompress((FIX / f"{name}.jsonl.gz").read_bytes())
    p = subprocess.run([sys.executable, "-m", "nexus.cli", "signals", "replay", "--venue", ex["venue"],
                        "--symbol", "BTCUSDT", "--json", "--no-oracle", *extra],
                       input=data, capture_output=True, timeout=300)
    assert p.returncode == 0, p.stderr.decode()[-2000:]
    return ex, [json.loads(x) for x in p.stdout.splitlines()]


def near(sig: dict, ex: dict, ticks: int = 1) -> bool:
    return "price" not in ex or abs(Decimal(sig["price"]) - Decimal(ex["price"])) <= Decimal("0.1") * ticks


def judge(ex: dict, sigs: list[dict]) -> list[str]:
    """Problems found (empty: the scenario passes)."""
    bad = []
    lo, hi = ex["pattern_lines"]
    hi_late = hi + 200                    # the book message confirming a pull or a hold may come later
    if "expect" in ex:
        hit = [s for s in sigs if s["signal"] == ex["expect"] and s["side"] == ex["side"]
               and lo - 20 <= s["i"] <= hi_late and (ex["expect"] == "delta_spike" or near(s, ex))]
        if not hit:
            bad.append(f"no {ex['expect']} {ex['side']} at {ex.get('price')} in lines {lo}..{hi}")
        if ex["expect"] in ("iceberg", "absorption"):   # the same level read as the other kind
            other = "absorption" if ex["expect"] == "iceberg" else "iceberg"
            wrong = [s for s in sigs if s["signal"] == other and lo - 20 <= s["i"] <= hi_late and near(s, ex)]
            if wrong:
                bad.append(f"also reported as {other}: {wrong[0]}")
    for k in ex.get("forbid", []):
        if "price" in ex and k != "delta_spike":
            wrong = [s for s in sigs if s["signal"] == k and near(s, ex, 2)]
        elif "price" in ex:
            wrong = [s for s in sigs if s["signal"] == k and lo - 20 <= s["i"] <= hi_late]
        else:
            wrong = [s for s in sigs if s["signal"] == k]
        if wrong:
            bad.append(f"forbidden {k}: {wrong[0]}")
    return bad


if __name__ == "__main__":
    for n in (sys.argv[1:] or names()):
        ex, sigs = replay(n)
        b = judge(ex, sigs)
        print(("OK  " if not b else "FAIL") + f" {n}: " + "; ".join(b))
        if "-v" in sys.argv[0:1] or b:
            lo, hi = ex["pattern_lines"]
            for s in sigs:
                if s["signal"] in KINDS:
                    print(f"      i={s['i']} ({lo}..{hi}) {s['signal']} {s['side']} {s['price']} conf {s['confidence']} {s['facts']}")
