"""`--oracle rule|learned|FILE` in `nexus run` and `nexus trade` (issue 18 point 5): the
learned oracle selected from the command line, as `signals replay --oracle` selects it.
Real processes against the in-process simulator over real sockets on 127.0.0.1.

Which oracle spoke is the engine's own fact on each signal (facts["model"]: 0 the rule-based
consensus, 1 the learned model), so these tests check what the engine emitted, not only the
label the command prints. The shipped model rarely reaches its emission floor (raw
confidence 55 %) in a short run on simulated flow (README: its calibrated confidence is
48-52 %), so the runs that must see learned signals use a model FILE with the shipped
coefficients and an emission floor of 50 % (every sample speaks), as `signals oracle-train
--min-conf 50` would write it.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from nexus.flow import oracle_model as om

RUN_VENUES = "binance-perp,okx-swap"
RUN_S = "12"


def nexus(*args, env=None, timeout=180):
    return subprocess.run([sys.executable, "-m", "nexus.cli", *args], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})


def lines(out: str) -> list[dict]:
    return [json.loads(x) for x in out.splitlines() if x.strip()]


@pytest.fixture(scope="module")
def speaking_model(tmp_path_factory) -> Path:
    """The shipped model's coefficients, emitting at every sample (floor 50 %, no cooldown) and
    reporting its raw confidence (no calibration table)."""
    m = om.load()
    m = {**m, "min_conf": 50, "cooldown_ns": 0}
    m.pop("calibration", None)
    p = tmp_path_factory.mktemp("oracle") / "speaking.json"
    p.write_text(json.dumps(om.check(m)))
    return p


def _oracle_signals(out: list[dict]) -> list[dict]:
    return [s for ln in out for s in ln.get("signals", []) if isinstance(ln.get("signals"), list)
            and s["signal"] == "oracle"]


def test_run_sim_with_a_learned_model_file(speaking_model):
    r = nexus("run", "--sim", "--venues", RUN_VENUES, "--agg", "--duration", RUN_S, "--json",
              "--oracle", str(speaking_model))
    assert r.returncode == 0, r.stderr
    out = lines(r.stdout)
    summary = out[-1]
    want = {"kind": "learned", "model": str(speaking_model.resolve())}
    assert summary["oracle"] == want
    assert all(ln["oracle"] == want for ln in out[:-1])          # every second's line names it too
    sigs = _oracle_signals(out)
    # the learned model spoke on the venues and on the consensus, and the rule oracle did not
    assert {s["venue"] for s in sigs} >= {"binance-perp", "okx-swap", "agg"}, sigs
    assert all(s["facts"]["model"] == 1 for s in sigs), [s for s in sigs if s["facts"]["model"] != 1]
    assert all(50 <= s["confidence"] <= 100 for s in sigs)
    counted = sum(per.get("oracle", 0) for per in summary["signals"].values())
    assert counted == len(sigs)


def test_run_sim_rule_and_shipped_learned_labels():
    """Default: the rule oracle; `--oracle learned`: the shipped file, and any oracle signal
    raised is the model's (the rule oracle is replaced, not run beside it)."""
    rule = nexus("run", "--sim", "--venues", RUN_VENUES, "--duration", "3", "--json")
    assert rule.returncode == 0, rule.stderr
    out = lines(rule.stdout)
    assert out[-1]["oracle"] == {"kind": "rule"}
    assert all(s["facts"]["model"] == 0 for s in _oracle_signals(out))
    learned = nexus("run", "--sim", "--venues", RUN_VENUES, "--duration", RUN_S, "--json", "--oracle", "learned")
    assert learned.returncode == 0, learned.stderr
    out = lines(learned.stdout)
    assert out[-1]["oracle"] == {"kind": "learned", "model": str(om.MODEL_PATH)}
    assert all(s["facts"]["model"] == 1 for s in _oracle_signals(out))


@pytest.mark.parametrize("cmd", [
    ["run", "--sim", "--venues", RUN_VENUES, "--duration", "2", "--json"],
    ["trade", "--venue", "binance-perp", "--sim", "--duration", "2", "--json"],
])
def test_missing_or_malformed_model_is_exit_2_with_the_fix(cmd, tmp_path):
    env = {"NEXUS_RISK_DB": str(tmp_path / "risk.sqlite3")}
    absent = tmp_path / "absent.json"
    r = nexus(*cmd, "--oracle", str(absent), env=env)
    assert r.returncode == 2, r.stderr
    assert f"no oracle model file {absent}" in r.stderr and "nexus signals oracle-train" in r.stderr, r.stderr
    bad = tmp_path / "short.json"
    m = om.load()
    bad.write_text(json.dumps({**m, "weights": m["weights"][:-1]}))
    r = nexus(*cmd, "--oracle", str(bad), env=env)
    assert r.returncode == 2, r.stderr
    assert "short.json" in r.stderr and "weights must be" in r.stderr and "--oracle rule" in r.stderr, r.stderr
    # the same words as `signals replay --oracle`
    sr = nexus("signals", "replay", "--venue", "binance-perp", "--oracle", str(bad))
    assert sr.returncode == 2 and "weights must be" in sr.stderr and "--oracle rule" in sr.stderr, sr.stderr


def test_oracle_needs_the_detectors():
    r = nexus("run", "--sim", "--venues", RUN_VENUES, "--duration", "2", "--no-signals", "--oracle", "learned")
    assert r.returncode == 2 and "--oracle needs the detectors on" in r.stderr, r.stderr
