"""`nexus trade --oracle rule|learned|FILE` against the simulator (real process, real sockets
on 127.0.0.1, real SQLite risk state): the learned oracle's signals reach the auto-trader, and
its threshold applies to them as to any signal. Which oracle spoke is the engine's own fact
(facts["model"]), counted per kind in every status line (nexus/trade/oracle.py)."""

import json

from tests.flow.test_oracle_select import speaking_model  # noqa: F401  (fixture)
from tests.trade.test_trade_cli import AUTO, db, lines, nexus  # noqa: F401  (db: fixture)

SESSION_S = "15"


def _entries(out: list[dict]) -> list[dict]:
    return [e for ln in out for e in ln.get("events", []) if e["event"] == "entry"]


def test_learned_oracle_trades_at_the_threshold(db, speaking_model):  # noqa: F811
    r = nexus("trade", *AUTO, "--daily-loss", "1000", "--daily-profit", "1000", "--signals", "oracle",
              "--threshold", "50", "--cooldown-ms", "0", "--oracle", str(speaking_model), "--duration", SESSION_S,
              "--json", db=db)
    assert r.returncode == 0, r.stderr
    out = lines(r.stdout)
    s = out[-1]["summary"]
    assert s["oracle"]["kind"] == "learned" and s["oracle"]["model"] == str(speaking_model.resolve())
    assert s["oracle"]["signals"]["learned"] >= 3 and s["oracle"]["signals"]["rule"] == 0, s["oracle"]
    entries = _entries(out)
    assert entries and all(e["signal"] == "oracle" and e["confidence"] >= 50 for e in entries), entries
    assert s["sim_orders"].get("market:filled", 0) >= 1, s


def test_threshold_holds_the_learned_oracle_back(db, speaking_model):  # noqa: F811
    # the model's raw confidence on simulated flow stays far below 95 %: seen, never traded
    r = nexus("trade", *AUTO, "--daily-loss", "1000", "--daily-profit", "1000", "--signals", "oracle",
              "--threshold", "95", "--oracle", str(speaking_model), "--duration", SESSION_S, "--json", db=db)
    assert r.returncode == 0, r.stderr
    out = lines(r.stdout)
    s = out[-1]["summary"]
    assert s["oracle"]["signals"]["learned"] >= 3, s["oracle"]
    assert s["signals"]["skipped"].get("below_threshold", 0) >= s["oracle"]["signals"]["learned"], s["signals"]
    assert not _entries(out) and s["orders"]["sent"] == 0


def test_rule_oracle_is_the_default(db):  # noqa: F811
    r = nexus("trade", "--venue", "binance-perp", "--sim", "--duration", "3", "--json", db=db)
    assert r.returncode == 0, r.stderr
    out = lines(r.stdout)
    assert out[-1]["summary"]["oracle"]["kind"] == "rule" and "model" not in out[-1]["summary"]["oracle"]
    assert out[-1]["summary"]["oracle"]["signals"]["learned"] == 0
    assert all(ln["oracle"]["kind"] == "rule" for ln in out[:-1])
