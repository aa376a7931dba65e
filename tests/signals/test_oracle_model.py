"""The learned oracle (issue 18 point 5): the compiled inference against the Python one, the
engine's emissions against the model applied in Python to the features it collected,
deterministic training, the walk-forward command on a small recording, bad model files."""

import json
import math
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.flow import ORACLE_FEATURES, FlowEngine
from nexus.flow import oracle_model as om
from nexus.flow.params import FlowParams

F = ORACLE_FEATURES
VENUES = ("binance-perp", "bybit-perp")
SEED = 311           # not one of oracle_model.ORACLE_SEEDS (the shipped model's)
DURATION_S = 45.0


def _cli(*args, stdin: bytes = b""):
    return subprocess.run([sys.executable, "-m", "nexus.cli", *args], input=stdin, capture_output=True, timeout=600)


def _model(rng: np.random.Generator, min_conf: int = 51) -> dict:
    return om.check({"format": om.FORMAT, "features": list(om.FEATURE_NAMES),
                     "bias": float(rng.normal(0, 0.3)), "weights": rng.normal(0, 0.8, F).tolist(),
                     "mean": rng.normal(0, 0.1, F).tolist(), "scale": rng.uniform(0.05, 3, F).tolist(),
                     "horizon_ns": 5_000_000_000, "sample_ns": 1_000_000_000, "min_conf": min_conf,
                     "cooldown_ns": 3_000_000_000, "calibration": None})


finite = st.floats(min_value=-60, max_value=60, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), x=st.lists(finite, min_size=F, max_size=F))
def test_compiled_inference_equals_python(seed, x):
    m = _model(np.random.default_rng(seed))
    e = FlowEngine(FlowParams().engine_dict())
    om.install(e, m)
    z_c = e.oracle_logit(x)
    z_py = float(om.logit(m, np.array([x]))[0])
    assert z_c == pytest.approx(z_py, rel=1e-12, abs=1e-12)
    p_c, conf_c = e.oracle_confidence(z_c)
    p_py = float(om.prob(np.array([z_py]))[0])
    assert p_c == pytest.approx(p_py, rel=1e-12, abs=1e-15)
    assert conf_c == int(om.confidence(np.array([p_c]))[0])
    assert 50 <= conf_c <= 100 and (p_c >= 0.5) == (z_c >= 0)


@pytest.fixture(scope="module")
def captured(tmp_path_factory):
    """A short simulator session on two venues, as raw lines, and the same as a recording."""
    from nexus.feeds.recording import FRAME, RecordingWriter
    from nexus.flow import evaluate
    from nexus.venues import VENUE_IDS

    lines, _, _, symbols = evaluate.capture_cached(SEED, DURATION_S, VENUES, None)
    path = tmp_path_factory.mktemp("rec") / "sim.nxrec"
    with RecordingWriter(path, {"venues": list(VENUES), "symbol": "BTCUSDT", "sim": True, "seed": SEED}) as w:
        n = max(len(v) for v in lines.values())
        for i in range(n):   # interleaved, as a recorder would see them
            for v in VENUES:
                if i < len(lines[v]):
                    w.write(i, VENUE_IDS[v], FRAME, lines[v][i])
    return lines, symbols, path


def test_engine_emits_what_the_model_says_on_its_own_features(captured):
    """Replay with collection on and a model installed: every oracle signal the compiled
    engine emitted is the Python inference on the features the engine collected."""
    import io

    from nexus.flow.replay import Replay, VenueSource

    lines, symbols, _ = captured
    m = _model(np.random.default_rng(5), min_conf=52)
    total = 0
    for v in VENUES:
        src = VenueSource(v, symbols[v], stream=io.BytesIO(b"\n".join(lines[v]) + b"\n"))
        rp = Replay(lambda unit: FlowParams(tick=unit.tick, calibrated=False), oracle_model=m)
        metas, xs, got = [], [], []
        for unit in src:
            new = unit.key not in rp.runners
            outs = rp.feed(unit)
            if new:
                rp.runners[unit.key].engine.collect_oracle_features(True)
            for o in outs:
                for s, f in zip(o.signals, o.facts):
                    if int(s["aux"]) == 7:
                        assert int(f["f"][4]) == 1                     # the learned model spoke
                        got.append((int(s["ts_exchange_ns"]), int(s["side"]), int(s["qty"])))
            for r in rp.runners.values():
                meta, x = r.engine.oracle_features()
                metas.append(meta)
                xs.append(x)
        meta, X = np.concatenate(metas), np.concatenate(xs)
        assert len(meta) > 20 and np.isfinite(X).all()
        want = om.emissions(m, meta, X)
        # the signal's timestamp is the triggering record's; the sample's is the engine clock
        assert [(s, c) for _, s, c in got] == [(s, c) for _, s, c in want]
        assert all(abs(a[0] - b[0]) < 1_000_000_000 for a, b in zip(got, want))
        total += len(got)
    assert total > 0


def test_rule_oracle_stays_the_default(captured):
    import io

    from nexus.flow.replay import Replay, VenueSource

    lines, symbols, _ = captured
    v = VENUES[0]
    src = VenueSource(v, symbols[v], stream=io.BytesIO(b"\n".join(lines[v]) + b"\n"))
    rp = Replay(lambda unit: FlowParams(tick=unit.tick))
    facts = [int(f["f"][4]) for unit in src for o in rp.feed(unit) for s, f in zip(o.signals, o.facts) if int(s["aux"]) == 7]
    assert all(x == 0 for x in facts)            # model id 0: the rule-based consensus
    assert not any(r.engine.oracle_model_loaded for r in rp.runners.values())
    from nexus.flow.signals import TRADE_DEFAULT
    assert "oracle" not in TRADE_DEFAULT         # off by default for the auto-trader (issue 15)


def test_training_is_deterministic(captured):
    pytest.importorskip("sklearn")
    lines, symbols, _ = captured
    sessions = [om.replay_samples(v, v, symbols[v], lines[v]) for v in VENUES]
    a = om.train(sessions, horizon_ns=3_000_000_000, folds=2)
    sessions2 = [om.replay_samples(v, v, symbols[v], lines[v]) for v in VENUES]
    b = om.train(sessions2, horizon_ns=3_000_000_000, folds=2)
    for k in ("bias", "weights", "mean", "scale", "calibration"):
        assert a[k] == b[k]
    assert a["walk_forward"]["pooled"] == b["walk_forward"]["pooled"]
    assert any(w != 0 for w in a["weights"])


def test_oracle_train_command_on_a_recording(captured, tmp_path):
    pytest.importorskip("sklearn")
    _, _, rec = captured
    out = tmp_path / "m.json"
    r = _cli("signals", "oracle-train", "--recordings", str(rec), "--horizon", "3", "--folds", "2",
             "--out", str(out), "--json")
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout.decode().strip().splitlines()[-1])
    assert set(rep["pooled"]) == {"model", "majority", "last_move"}
    for name in ("model", "majority", "last_move"):
        d = rep["pooled"][name]
        assert d["n"] == sum(f["test"] for f in rep["per_fold"]) > 0 and 0 <= d["hit_rate"] <= 1 and d["log_loss"] > 0 and 0 <= d["brier"] <= 1
        assert d["hit_rate_ci"][0] <= d["hit_rate"] <= d["hit_rate_ci"][1]
    assert len(rep["per_fold"]) == 2 and rep["per_fold"][0]["train"] < rep["per_fold"][1]["train"]
    assert set(rep["beats_majority"]) == {"hit_rate", "log_loss", "brier"}
    assert rep["calibration_raw"]["n"] == rep["pooled"]["model"]["n"] < rep["samples"]
    m = om.load(out)                                   # the written model is a valid model file
    assert m["walk_forward"]["samples"] == rep["samples"]
    # ... and `signals replay --oracle FILE` runs it
    lines, symbols, _ = captured
    r = _cli("signals", "replay", "--venue", VENUES[0], "--symbol", symbols[VENUES[0]], "--oracle", str(out), "--json",
             stdin=b"\n".join(lines[VENUES[0]]) + b"\n")
    assert r.returncode == 0, r.stderr
    assert all(json.loads(x)["signal"] for x in r.stdout.decode().splitlines())


def test_bad_model_files_are_refused(tmp_path, captured):
    good = _model(np.random.default_rng(1))
    cases = {
        "notjson.json": "{not json",
        "format.json": json.dumps({**good, "format": "something-else"}),
        "short.json": json.dumps({**good, "weights": good["weights"][:-1]}),
        "nan.json": json.dumps({**good, "bias": math.nan}),
        "scale.json": json.dumps({**good, "scale": [0.0] * F}),
        "features.json": json.dumps({**good, "features": list(reversed(om.FEATURE_NAMES))}),
        "calib.json": json.dumps({**good, "calibration": list(range(100, -1, -1))}),
    }
    lines, _, _ = captured
    for name, text in cases.items():
        p = tmp_path / name
        p.write_text(text)
        with pytest.raises(om.OracleModelError) as ei:
            om.load(p)
        assert name in str(ei.value)
    for name in ("short.json", "nan.json"):      # the CLI says which file and what is wrong
        r = _cli("signals", "replay", "--venue", VENUES[0], "--oracle", str(tmp_path / name))
        assert r.returncode == 2 and name in r.stderr.decode(), r.stderr
    with pytest.raises(om.OracleModelError, match="no oracle model file"):
        om.load(tmp_path / "absent.json")
    e = FlowEngine(FlowParams().engine_dict())
    with pytest.raises(ValueError, match="weights"):
        e.set_oracle_model(0.0, [1.0] * (F - 1), [0.0] * F, [1.0] * F)
    with pytest.raises(ValueError, match="finite"):
        e.set_oracle_model(0.0, [math.inf] + [1.0] * (F - 1), [0.0] * F, [1.0] * F)
    with pytest.raises(ValueError, match="scales"):
        e.set_oracle_model(0.0, [1.0] * F, [0.0] * F, [1.0] * (F - 1) + [-1.0])
    assert not e.oracle_model_loaded


def test_shipped_model_is_valid_and_loads():
    m = om.load()
    e = FlowEngine(FlowParams().engine_dict())
    om.install(e, m)
    assert e.oracle_model_loaded
    wf = m["walk_forward"]
    assert set(wf["pooled"]) == {"model", "majority", "last_move"} and wf["folds"] >= 3
