"""`nexus trade` and `nexus stats` as a user runs them (real processes, the in-process
simulator over real sockets on 127.0.0.1, a real SQLite risk state): refusals with the
allowed range, a full auto session turning signals into orders on the simulator's exchange,
the LIMIT HIT latch across a restart, and the deterministic replay of a recording."""

import json
from decimal import Decimal
import os
import subprocess
import sys
from pathlib import Path

import pytest

SESSION_S = "25"     # patterns start at 3 s, then every 5-8 s: several signals in this window
FULL_SESSION_S = "40"    # time for at least one trade to close on a loaded 2-core machine


def nexus(*args, db, timeout=120, stdin=None):
    env = {**os.environ, "NEXUS_RISK_DB": db}
    return subprocess.run([sys.executable, "-m", "nexus.cli", *args], capture_output=True, text=True, env=env,
                          timeout=timeout, input=stdin)


@pytest.fixture
def db(tmp_path):
    url = str(tmp_path / "risk.sqlite3")
    # the venue's own listing (fapi exchangeInfo, as the simulator serves it): the gate's grid
    listing = Path(__file__).resolve().parents[1] / "fixtures" / "venues" / "binance-perp" / "instruments.json"
    r = nexus("risk", "set", "--instrument", "binance-perp:BTCUSDT", "--instruments", str(listing),
              "--max-qty", "0.05", "--max-notional", "10000", db=url)
    assert r.returncode == 0, r.stderr
    return url


AUTO = ["--venue", "binance-perp", "--sim", "--auto", "--confirm-caps"]


@pytest.mark.parametrize("args,allowed", [
    (["--threshold", "49"], "50..95"),
    (["--threshold", "96"], "50..95"),
    (["--tp-ticks", "0"], "1..1000000"),
    (["--signals", "absorption,wyckoff"], "known: absorption, iceberg, exhaustion, delta_spike, spoof, smart_money, oracle"),
    (["--daily-loss", "-5", "--daily-profit", "5"], "more than 0"),
    (["--cooldown-ms", "-1", "--daily-loss", "5", "--daily-profit", "5"], "0..86400000"),
    ([], "--auto needs both caps"),
])
def test_bad_settings_exit_2_with_the_range(db, args, allowed):
    r = nexus("trade", *AUTO, *args, db=db)
    assert r.returncode == 2, r.stderr
    assert allowed in r.stderr


def test_auto_needs_confirmation_headless(db):
    r = nexus("trade", "--venue", "binance-perp", "--sim", "--auto", "--daily-loss", "5", "--daily-profit", "5",
              db=db, stdin="")
    assert r.returncode == 2 and "--confirm-caps" in r.stderr and "daily_loss 5" in r.stderr


def lines(out: str) -> list[dict]:
    return [json.loads(x) for x in out.splitlines() if x.strip()]


def test_full_auto_session_against_the_simulator(db):
    r = nexus("trade", *AUTO, "--daily-loss", "1000", "--daily-profit", "1000", "--threshold", "50",
              "--cooldown-ms", "0", "--tp-ticks", "3", "--sl-ticks", "3", "--duration", FULL_SESSION_S, "--json", db=db)
    assert r.returncode == 0, r.stderr
    out = lines(r.stdout)
    assert out[0]["confirm_caps"]["daily_loss"] == "1000"
    s = out[-1]["summary"]
    # signals became MARKET entries that reached the simulator's exchange and filled there,
    # and the TP (limit) / SL (stop) legs followed: one leg filled, the other cancelled
    sim = s["sim_orders"]
    assert sim.get("market:filled", 0) >= 1, s
    assert sim.get("limit:filled", 0) + sim.get("stop:filled", 0) >= 1, s
    assert sim.get("limit:canceled", 0) + sim.get("stop:canceled", 0) >= 1, s
    assert s["trades_closed"] >= 1 and s["unknown_fills"] == 0
    assert s["orders"]["sent"] == sum(sim.values()) + len(s["venue_errors"]), s
    entries = [e for ln in out[1:] for e in ln.get("events", []) if e["event"] == "entry"]
    assert entries and all(e["confidence"] >= 50 and e["signal"] != "oracle" for e in entries)
    # the persisted fills give the same per-signal statistics
    st = nexus("stats", "--json", db=db)
    assert st.returncode == 0, st.stderr
    stats = json.loads(st.stdout)
    assert stats["total"]["trades"] == s["stats"]["total"]["trades"] >= 1
    assert stats["by_signal"] == s["stats"]["by_signal"]
    assert set(stats["by_venue"]) == {"binance-perp"}
    # fees per fill: the simulator's fill reports carry them; the trader recorded exactly
    # what the exchange charged, and the statistics split gross, fees and net
    assert Decimal(s["fees"]) == Decimal(s["sim_fees"]) > 0
    t = stats["total"]
    assert Decimal(t["fees"]) > 0 and Decimal(t["net_pnl"]) == Decimal(t["gross_pnl"]) - Decimal(t["fees"])
    assert t["pnl"] == t["net_pnl"]
    assert s["last_orders"] and {o["type"] for o in s["last_orders"]} <= {"market", "limit", "stop"}


def test_limit_hit_latches_across_a_restart(db):
    # a 0.0001 USDT loss cap: the first entry (bought at the ask, valued at the bid) crosses it
    r = nexus("trade", *AUTO, "--daily-loss", "0.0001", "--daily-profit", "1000", "--threshold", "50",
              "--cooldown-ms", "0", "--duration", SESSION_S, "--json", db=db)
    assert r.returncode == 0, r.stderr
    s = lines(r.stdout)[-1]["summary"]
    assert s["limit_hit"] and not s["auto"] and s["state"] == "HALTED"
    assert any(e["event"] == "limit_hit" for ln in lines(r.stdout) for e in ln.get("events", []))
    show = json.loads(nexus("risk", "show", "--json", db=db).stdout)
    assert show["limit_hit"] and show["latch"] == "LOSS"              # persisted
    again = nexus("trade", *AUTO, "--duration", "2", "--json", db=db)
    assert again.returncode == 1 and "LIMIT HIT" in again.stderr and "nexus risk reset --confirm" in again.stderr
    # the day's loss is kept: with the same tiny cap a reset latches again at once
    relatch = json.loads(nexus("risk", "reset", "--confirm", "--reason", "test", "--json", db=db).stdout)
    assert relatch["relatched"] is True
    assert nexus("trade", *AUTO, "--duration", "2", db=db).returncode == 1
    # raise the cap, reset (audited): AUTO starts again
    assert nexus("risk", "set", "--daily-loss", "1000", db=db).returncode == 0
    reset = nexus("risk", "reset", "--confirm", "--reason", "cap raised", "--json", db=db)
    assert reset.returncode == 0 and json.loads(reset.stdout)["relatched"] is False, reset.stdout
    ok = nexus("trade", *AUTO, "--duration", "2", "--json", db=db)
    assert ok.returncode == 0, ok.stderr
    assert lines(ok.stdout)[-1]["summary"]["auto"] is True


def test_replay_is_deterministic(db, tmp_path):
    rec = str(tmp_path / "perp.nxrec")
    r = nexus("record", "--sim", "--venues", "binance-perp", "--duration", SESSION_S, "-o", rec, db=db)
    assert r.returncode == 0, r.stderr
    args = ["trade", "--replay", rec, "--paper", "--threshold", "50", "--cooldown-ms", "0", "--tp-ticks", "3",
            "--sl-ticks", "3", "--json"]
    a, b = nexus(*args, db=db), nexus(*args, db=db)
    assert a.returncode == 0, a.stderr
    assert a.stdout == b.stdout                                     # byte for byte
    s = lines(a.stdout)[-1]["summary"]
    assert len(s["journal"]) == s["fills"] >= 2 and s["stats"]["total"]["trades"] >= 1
    assert nexus("trade", "--replay", rec, "--threshold", "50", db=db).returncode == 2   # paper only
