"""`nexus risk show|set|reset` as a user runs it (real processes): exit statuses and the
allowed range in every refusal."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from nexus.risk.store import RiskStore

# Bybit's instruments-info body for BTCUSDT (V5 docs): --instrument takes the venue's listing
BYBIT_LISTING = str(Path(__file__).resolve().parents[1] / "fixtures" / "venues" / "bybit-perp" / "instruments.json")


def nexus(*args, db):
    env = {**os.environ, "NEXUS_RISK_DB": db}
    return subprocess.run([sys.executable, "-m", "nexus.cli", "risk", *args], capture_output=True, text=True, env=env)


@pytest.fixture
def db(tmp_path):
    return str(tmp_path / "risk.sqlite3")


@pytest.mark.parametrize("args,allowed", [
    (["--cooldown-ms", "-1"], "0..86400000"),
    (["--max-positions", "0"], "1..512"),
    (["--daily-loss", "-5"], "more than 0"),
    (["--daily-profit", "0"], "more than 0"),
    (["--price-band-pct", "150"], "0.01..100"),
    (["--max-orders", "many"], "1..4096"),
    (["--day-boundary", "25:00"], "00:00..23:59"),
    (["--instrument", "bybit-perp:BTCUSDT", "--instruments", BYBIT_LISTING, "--max-qty", "-1", "--max-notional", "10"], "more than 0"),
])
def test_bad_settings_exit_2_with_the_allowed_range(db, args, allowed):
    r = nexus("set", *args, db=db)
    assert r.returncode == 2, r.stderr
    assert allowed in r.stderr


def test_set_show_roundtrip(db):
    r = nexus("set", "--daily-loss", "250.5", "--daily-profit", "900", "--cooldown-ms", "20000",
              "--instrument", "bybit-perp:BTCUSDT", "--instruments", BYBIT_LISTING, "--max-qty", "0.5",
              "--max-notional", "40000", db=db)
    assert r.returncode == 0, r.stderr
    snap = json.loads(nexus("show", "--json", db=db).stdout)
    assert snap["settings"]["daily_loss"] == "250.5" and snap["settings"]["cooldown_ms"] == 20000
    assert snap["instruments"] == [{"venue": "bybit-perp", "symbol": "BTCUSDT", "max_qty": "0.5", "max_notional": "40000"}]
    assert snap["state"] == "ACTIVE" and snap["limit_hit"] is False


def test_reset_needs_confirm_and_reason_and_is_audited(db):
    assert nexus("show", db=db).returncode == 0
    r = nexus("reset", db=db)
    assert r.returncode == 2 and "--confirm" in r.stderr
    r = nexus("reset", "--confirm", db=db)
    assert r.returncode == 2 and "--reason" in r.stderr
    r = nexus("reset", "--confirm", "--reason", "start of week", "--who", "bob", "--json", db=db)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["who"] == "bob"
    assert [(a["who"], a["reason"]) for a in RiskStore(db).resets()] == [("bob", "start of week")]


def test_active_refused_while_latched(db):
    from risk_helpers import INST, seed_store
    from nexus.risk.codes import Side
    from nexus.risk.gate import Gate

    seed_store(db, daily_loss="1")
    g = Gate.open(db)
    g.touch(INST, 650000, 650001)
    g.on_fill(INST, Side.BUY, 100, 650000)
    g.on_fill(INST, Side.SELL, 100, 640000)
    r = nexus("set", "--state", "active", db=db)
    assert r.returncode == 2 and "latch" in r.stderr
    assert nexus("set", "--state", "reducing", db=db).returncode == 0  # flattening stays possible
    assert json.loads(nexus("show", "--json", db=db).stdout)["limit_hit"] is True


def test_corrupt_state_shown_halted_and_set_refused(db):
    assert nexus("show", db=db).returncode == 0
    with open(db, "wb") as f:
        f.write(b"\0garbage" * 100)
    snap = json.loads(nexus("show", "--json", db=db).stdout)
    assert snap["state"] == "HALTED" and "unreadable" in snap["halt_reason"]
    assert nexus("set", "--cooldown-ms", "1", db=db).returncode == 1
    assert nexus("reset", "--confirm", "--reason", "x", db=db).returncode == 1
    r = nexus("reset", "--confirm", "--reason", "disk replaced", "--recreate", db=db)
    assert r.returncode == 0, r.stderr
    assert any(p.startswith("risk.sqlite3.corrupt-") for p in os.listdir(os.path.dirname(db)))
    assert RiskStore(db).resets()[0]["halt_reason_before"].startswith("recreated after")
