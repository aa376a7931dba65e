"""The learned oracle (issue 18 point 5): a logistic regression over the flow engine's own
features, trained on recordings, evaluated walk-forward against naive baselines, applied by
the compiled engine at run time (engine/oracle_model.pxd).

LABEL (defined before any training, and not changed after looking at results): at a sample
time t (the first message end at or after each whole second of exchange time, once the
engine has 5 s of history), y = 1 when the mid price ((best bid + best ask) / 2 of the book
the engine holds) is HIGHER at t + H than at t, y = 0 when it is LOWER; H = `horizon_ns`
(default 5 s). "The mid at t + H" is the mid after the last message whose exchange time is
<= t + H (the engine's metrics rows). A sample whose mid did not move, or whose t + H lies
beyond the end of its recording, has no label and is left out of training and scoring (the
count is reported as `unlabelled`). So the model's probability p is P(up | the mid moved
within H), and the oracle's confidence round(100 max(p, 1 - p)) is the probability that its
side is the direction of the next move over H.

FEATURES: computed by the engine itself (engine/oracle_model.pxd header: OBI, multi-level
OFI over 1 s and 5 s, CVD change over 1 s and 5 s, a VPIN-style toxicity, mid returns over
1 s and 5 s, spread, and the six detectors' recent signals), collected with
FlowEngine.collect_oracle_features while a recording is replayed through `signals replay`'s
path (venue decoder, sync rules, engine). Training and run time therefore read the same
numbers.

TRAINING: scikit-learn LogisticRegression (lbfgs, L2, C = 1.0) on features standardised by
the training set's mean and standard deviation; deterministic (same data, same
coefficients). scikit-learn is needed for training only (the `dev` extra): the engine reads
the coefficients from the JSON model file.

EVALUATION (walk-forward): the samples in time order (sessions in the order given -- seeds or
recordings --, time within each) are cut into folds + 1 contiguous blocks; fold k trains on
blocks 0..k-1 and tests on block k (an expanding window), with an embargo: training samples
whose label horizon reaches into the test block are dropped. Baselines on the same test
blocks: `majority` (always the training block's more frequent direction, with its share as
the probability) and `last_move` (the sign of the mid's last 1 s move, else 5 s move, else
the majority; its training hit rate as the probability). Figures: hit rate (share of correct
directions) with its Wilson 95 % interval, log loss, Brier score; the reliability table of
the model's confidence (nexus/flow/evaluate.py reliability, Wilson intervals); the same for
the calibrated confidence, where fold k's calibration is fitted on the out-of-fold
predictions of folds before it only.

The shipped file (oracle_model.json) is the model trained on every sample, with the
calibration table fitted (isotonic, nexus/flow/calibration.py) on all out-of-fold
predictions, and the walk-forward report it was chosen with.
"""

from __future__ import annotations

import io
import json
import math
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from nexus.exceptions import ConfigError

MODEL_PATH = Path(__file__).with_name("oracle_model.json")
FORMAT = "nexus-oracle-logistic-v1"
FEATURE_NAMES = ("obi", "ofi_1s", "ofi_5s", "cvd_1s", "cvd_5s", "tox_5s", "ret_1s", "ret_5s", "spread",
                 "sig_absorption", "sig_iceberg", "sig_exhaustion", "sig_delta_spike", "sig_spoof",
                 "sig_smart_money")
DEFAULT_HORIZON_NS = 5_000_000_000
DEFAULT_SAMPLE_NS = 1_000_000_000
DEFAULT_MIN_CONF = 55
DEFAULT_COOLDOWN_NS = 5_000_000_000
DEFAULT_C = 1.0
# features that change sign when the book and the flow are mirrored (bids <-> asks, buys <->
# sells); toxicity and spread do not
SIGNED = tuple(i for i, n in enumerate(FEATURE_NAMES) if n not in ("tox_5s", "spread"))
ORACLE_SEEDS = tuple(range(301, 311))   # simulator seeds used for the shipped model (never used for tuning)


class OracleModelError(ConfigError):
    """An oracle model file that cannot be used (missing, not JSON, wrong format or shape)."""


# -- the model file ------------------------------------------------------------------------

def check(model: dict, where: str = "oracle model") -> dict:
    """Validate a model dict; raise OracleModelError naming what is wrong."""
    from engine.flow import ORACLE_FEATURES

    def bad(msg: str):
        raise OracleModelError(f"{where}: {msg}")

    if not isinstance(model, dict):
        bad("not a JSON object")
    if model.get("format") != FORMAT:
        bad(f"format must be {FORMAT!r}, got {model.get('format')!r}")
    if list(model.get("features", [])) != list(FEATURE_NAMES) or len(FEATURE_NAMES) != ORACLE_FEATURES:
        bad(f"features must be exactly {list(FEATURE_NAMES)} (the engine computes {ORACLE_FEATURES})")
    for k in ("weights", "mean", "scale"):
        v = model.get(k)
        if not isinstance(v, list) or len(v) != len(FEATURE_NAMES) or not all(
                isinstance(w, (int, float)) and not isinstance(w, bool) and math.isfinite(w) for w in v):
            bad(f"{k} must be {len(FEATURE_NAMES)} finite numbers")
    if not all(s > 0 for s in model["scale"]):
        bad("every scale must be > 0")
    b = model.get("bias")
    if not isinstance(b, (int, float)) or isinstance(b, bool) or not math.isfinite(b):
        bad("bias must be a finite number")
    for k, lo, hi in (("horizon_ns", 1, None), ("sample_ns", 1, None), ("min_conf", 50, 100), ("cooldown_ns", 0, None)):
        v = model.get(k)
        if not isinstance(v, int) or isinstance(v, bool) or v < lo or (hi is not None and v > hi):
            bad(f"{k} must be an integer in {lo}..{hi if hi is not None else ''}")
    cal = model.get("calibration")
    if cal is not None:
        if not (isinstance(cal, list) and len(cal) == 101 and all(isinstance(c, int) and 0 <= c <= 100 for c in cal)
                and all(a <= b for a, b in zip(cal, cal[1:]))):
            bad("calibration must be 101 non-decreasing integers in 0..100")
    return model


def load(path: str | Path = MODEL_PATH) -> dict:
    p = Path(path)
    try:
        text = p.read_text()
    except FileNotFoundError:
        raise OracleModelError(f"no oracle model file {p}") from None
    except OSError as e:
        raise OracleModelError(f"cannot read oracle model {p}: {e.strerror or e}") from None
    try:
        model = json.loads(text)
    except ValueError as e:
        raise OracleModelError(f"{p}: not JSON ({e})") from None
    return check(model, str(p))


def resolve(choice: str | None) -> dict | None:
    """`--oracle` value: None / "rule" -> the rule oracle (None); "learned" -> the shipped
    model; anything else: a model file path."""
    if choice in (None, "", "rule"):
        return None
    return load(MODEL_PATH if choice == "learned" else choice)


def install(engine, model: dict) -> None:
    """Put a (checked) model into a compiled FlowEngine, with its calibration table."""
    engine.set_oracle_model(float(model["bias"]), model["weights"], model["mean"], model["scale"],
                            int(model["min_conf"]), int(model["cooldown_ns"]), int(model["sample_ns"]))
    if model.get("calibration") is not None:
        engine.set_calibration(7, model["calibration"])


def logit(model: dict, X: np.ndarray) -> np.ndarray:
    """The Python inference: z = b + sum w (x - mu) / s, in float64 and the engine's order."""
    X = np.asarray(X, np.float64)
    w, mu, sd = (np.asarray(model[k], np.float64) for k in ("weights", "mean", "scale"))
    z = np.full(len(X), float(model["bias"]))
    for i in range(len(w)):            # term by term, as the compiled loop adds them
        z = z + w[i] * ((X[:, i] - mu[i]) / sd[i])
    return z


def prob(z: np.ndarray) -> np.ndarray:
    z = np.asarray(z, np.float64)
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    e = np.exp(z[~pos])
    out[~pos] = e / (1.0 + e)
    return out


def confidence(p: np.ndarray) -> np.ndarray:
    c = np.where(p >= 0.5, p, 1.0 - p)
    return np.floor(100.0 * c + 0.5).astype(np.int64)


def emissions(model: dict, meta: np.ndarray, X: np.ndarray) -> list[tuple[int, int, int]]:
    """The oracle signals the engine emits for these samples, computed in Python:
    [(ts, side 1/2, raw confidence)] (tests hold the compiled engine to it)."""
    z = logit(model, X)
    p = prob(z)
    conf = confidence(p)
    out, last_dir, last_ts = [], 0, None
    for i in range(len(X)):
        if conf[i] < model["min_conf"]:
            continue
        d = 1 if p[i] >= 0.5 else -1
        ts = int(meta[i, 0])
        if last_ts is not None and d == last_dir and ts - last_ts < model["cooldown_ns"]:
            continue
        out.append((ts, 1 if d > 0 else 2, int(conf[i])))
        last_dir, last_ts = d, ts
    return out


# -- samples from recordings -----------------------------------------------------------------

@dataclass
class Session:
    """One venue's replayed stream: the engine's samples and its mid path."""

    name: str
    meta: np.ndarray        # (n, 3) ts, bid, ask
    X: np.ndarray           # (n, F)
    mid_ts: np.ndarray      # metrics rows with both sides: exchange time
    mid2: np.ndarray        # ... bid + ask
    y: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int8))   # 1 up, 0 down, -1 none
    group: int = 0          # sessions of one group (a seed, a recording file) ran at the same time


def replay_samples(name: str, venue: str, symbol: str | None, lines: list[bytes], sample_ns: int = DEFAULT_SAMPLE_NS) -> Session:
    """Replay one venue's raw lines through `signals replay`'s path (decoder, sync rules,
    default parameters with the rule oracle's memory on) and collect the engine's samples."""
    from nexus.flow import dtypes
    from nexus.flow.params import FlowParams
    from nexus.flow.replay import Replay, VenueSource

    src = VenueSource(venue, symbol, stream=io.BytesIO(b"\n".join(lines) + b"\n"))
    rp = Replay(lambda unit: FlowParams(tick=unit.tick, oracle=True))
    metas, xs, mts, mids = [], [], [], []
    both = dtypes.ROW_HAVE_BID | dtypes.ROW_HAVE_ASK
    for unit in src:
        new = unit.key not in rp.runners
        outs = rp.feed(unit)
        if new:
            rp.runners[unit.key].engine.collect_oracle_features(True, sample_ns)
        for o in outs:
            m = o.metrics
            ok = (m["flags"] & both) == both
            if ok.any():
                mts.append(m["ts_exchange_ns"][ok].copy())
                mids.append(m["bid_px"][ok] + m["ask_px"][ok])
        for r in rp.runners.values():
            meta, x = r.engine.oracle_features()
            if len(meta):
                metas.append(meta)
                xs.append(x)
        if len(rp.runners) > 1:
            raise ConfigError(f"{name}: more than one instrument in one venue's stream; record one symbol")
    F = len(FEATURE_NAMES)
    return Session(name, np.concatenate(metas) if metas else np.zeros((0, 3), np.int64),
                   np.concatenate(xs) if xs else np.zeros((0, F)),
                   np.concatenate(mts) if mts else np.zeros(0, np.int64),
                   np.concatenate(mids) if mids else np.zeros(0, np.int64))


def label(s: Session, horizon_ns: int) -> np.ndarray:
    """The label of each sample (module docstring): 1 up, 0 down, -1 none."""
    y = np.full(len(s.meta), -1, np.int8)
    if not len(s.mid_ts) or not len(s.meta):
        return y
    order = np.argsort(s.mid_ts, kind="stable")
    mts, mid2 = s.mid_ts[order], s.mid2[order]
    t = s.meta[:, 0]
    now_mid = s.meta[:, 1] + s.meta[:, 2]
    j = np.searchsorted(mts, t + horizon_ns, side="right") - 1
    inside = (t + horizon_ns <= mts[-1]) & (j >= 0)
    fut = np.where(j >= 0, mid2[np.clip(j, 0, None)], 0)
    y[inside & (fut > now_mid)] = 1
    y[inside & (fut < now_mid)] = 0
    return y


def sessions_from_seeds(seeds, duration_s: float, venues, cache_dir: str | None = None, progress=None,
                        sample_ns: int = DEFAULT_SAMPLE_NS) -> list[Session]:
    """The simulator's deterministic sessions (nexus/flow/evaluate.py capture), one per seed and venue."""
    from nexus.flow import evaluate

    out = []
    for sd in seeds:
        if progress:
            progress(f"seed {sd}: simulating and replaying {len(venues)} venues")
        lines, _, _, symbols = evaluate.capture_cached(sd, duration_s, tuple(venues), cache_dir)
        for v in venues:
            s = replay_samples(f"seed {sd} {v}", v, symbols.get(v), lines[v], sample_ns)
            s.group = int(sd)
            out.append(s)
    return out


def sessions_from_recording(path: str, progress=None, sample_ns: int = DEFAULT_SAMPLE_NS,
                            group: int | None = None) -> list[Session]:
    """A `nexus record` file: one session per venue it holds (its WebSocket frames and REST
    bodies in order, as `replay` feeds them; connection events are not replayed, so a
    recording with reconnects replays each venue as one stream)."""
    from nexus.feeds.recording import EVENT, RecordingReader
    from nexus.feeds.specs import spec
    from nexus.venues import VENUE_NAMES

    by_venue: dict[str, list[bytes]] = {}
    with RecordingReader(path) as rd:
        header = rd.header
        for fr in rd:
            if fr.kind == EVENT:
                continue
            v = VENUE_NAMES.get(fr.venue_id)
            if v is None:
                continue
            by_venue.setdefault(v, []).append(bytes(fr.payload).replace(b"\n", b" "))
    if progress:
        progress(f"{path}: replaying {', '.join(by_venue) or 'no venue'}")
    out = []
    for v, lines in by_venue.items():
        sym = header.get("symbol")
        try:
            vsym = spec(v).symbol_of(sym) if sym else None
        except Exception:
            vsym = None
        s = replay_samples(f"{Path(path).name} {v}", v, vsym, lines, sample_ns)
        s.group = group if group is not None else -1 - (zlib.crc32(str(path).encode()) & 0x3FFFFFFF)
        out.append(s)
    return out


# -- training and walk-forward -------------------------------------------------------------

def _need_sklearn():
    try:
        from sklearn.linear_model import LogisticRegression
    except ImportError:
        raise ConfigError("training the oracle needs scikit-learn (pip install -e '.[dev]'); "
                          "running a trained model does not") from None
    return LogisticRegression


def mirror(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The samples plus their mirror images (signed features negated, label flipped)."""
    Xm = np.array(X, np.float64, copy=True)
    Xm[:, SIGNED] *= -1
    return np.concatenate([X, Xm]), np.concatenate([y, 1 - y])


def fit(X: np.ndarray, y: np.ndarray, C: float = DEFAULT_C, symmetric: bool = False) -> dict:
    """Standardise, fit, and return the coefficients as the engine applies them.
    symmetric: fit on the samples and their mirror images, so the model has no drift of its
    own (up and down are treated alike; the bias comes out 0 and a mirrored market gets the
    mirrored probability)."""
    LogisticRegression = _need_sklearn()
    X = np.asarray(X, np.float64)
    if symmetric:
        X, y = mirror(X, y)
    mu = X.mean(axis=0)
    sd = X.std(axis=0)
    sd = np.where(sd > 1e-12, sd, 1.0)
    Z = (X - mu) / sd
    if len(np.unique(y)) < 2:
        p = float(np.clip(np.mean(y), 1e-6, 1 - 1e-6)) if len(y) else 0.5
        return {"bias": math.log(p / (1 - p)), "weights": [0.0] * X.shape[1], "mean": mu.tolist(), "scale": sd.tolist()}
    clf = LogisticRegression(C=C, solver="lbfgs", max_iter=2000, tol=1e-10)
    clf.fit(Z, y)
    return {"bias": float(clf.intercept_[0]), "weights": [float(w) for w in clf.coef_[0]],
            "mean": [float(v) for v in mu], "scale": [float(v) for v in sd]}


def _gbt(Xtr: np.ndarray, ytr: np.ndarray, Xte: np.ndarray) -> np.ndarray | None:
    """Small gradient-boosted trees (depth 3, 100 rounds, fixed seed) on the same fold."""
    try:
        from sklearn.ensemble import HistGradientBoostingClassifier
    except ImportError:
        return None
    if len(np.unique(ytr)) < 2:
        return None
    clf = HistGradientBoostingClassifier(max_depth=3, max_iter=100, learning_rate=0.05, early_stopping=False,
                                         random_state=0)
    clf.fit(Xtr, ytr)
    return clf.predict_proba(Xte)[:, 1]


def _scores(p: np.ndarray, y: np.ndarray) -> dict:
    from nexus.flow.evaluate import wilson

    n = len(y)
    if n == 0:
        return {"n": 0, "hit_rate": None, "hit_rate_ci": None, "log_loss": None, "brier": None}
    pc = np.clip(p, 1e-12, 1 - 1e-12)
    hits = int(np.sum((p >= 0.5) == (y == 1)))
    return {"n": n, "hit_rate": round(hits / n, 4), "hit_rate_ci": wilson(hits, n),
            "log_loss": round(float(-np.mean(y * np.log(pc) + (1 - y) * np.log(1 - pc))), 4),
            "brier": round(float(np.mean((p - y) ** 2)), 4)}


def _last_move(X: np.ndarray, majority_up: bool) -> np.ndarray:
    r1, r5 = X[:, FEATURE_NAMES.index("ret_1s")], X[:, FEATURE_NAMES.index("ret_5s")]
    d = np.where(r1 != 0, np.sign(r1), np.sign(r5))
    return np.where(d != 0, d > 0, majority_up)


def _calibrated(conf: np.ndarray, table: list[int] | None) -> np.ndarray:
    if table is None:
        return conf
    return np.asarray(table, np.int64)[np.clip(conf, 0, 100)]


def _cal_table(conf: np.ndarray, correct: np.ndarray) -> list[int] | None:
    """The isotonic calibration (nexus/flow/calibration.py), blocks of fewer than MIN_BLOCK
    predictions pooled into their neighbour: the few most confident predictions (2 of 2
    right reads 75 % after smoothing) must not set the top of the table."""
    from nexus.flow.calibration import MIN_SIGNALS, isotonic_pooled, table_from_blocks

    if len(conf) < MIN_SIGNALS:
        return None
    return table_from_blocks(isotonic_pooled(list(zip(conf.tolist(), correct.tolist()))))


def dataset(sessions: list[Session], horizon_ns: int):
    """Labelled samples in time order: groups (seeds, recording files) in the order given,
    and within a group (its venues ran at the same time) by exchange time. Returns (X, y,
    group rank, ts) plus the count left unlabelled."""
    ranks = {g: r for r, g in enumerate(dict.fromkeys(s.group for s in sessions))}
    Xs, ys, ss, ts, vs = [], [], [], [], []
    unlabelled = 0
    for i, s in enumerate(sessions):
        y = label(s, horizon_ns)
        s.y = y
        ok = y >= 0
        unlabelled += int((~ok).sum())
        Xs.append(s.X[ok])
        ys.append(y[ok])
        ss.append(np.full(int(ok.sum()), ranks[s.group]))
        ts.append(s.meta[ok, 0])
        vs.append(np.full(int(ok.sum()), i))
    F = len(FEATURE_NAMES)
    cat = lambda a, shape: np.concatenate(a) if a else np.zeros(shape)  # noqa: E731
    X, y, g, t, v = (cat(Xs, (0, F)), cat(ys, 0).astype(np.int64), cat(ss, 0).astype(np.int64),
                     cat(ts, 0).astype(np.int64), cat(vs, 0).astype(np.int64))
    order = np.lexsort((v, t, g))       # group, then time, then session: stable and deterministic
    return X[order], y[order], g[order], t[order], v[order], unlabelled


def walk_forward(sessions: list[Session], horizon_ns: int = DEFAULT_HORIZON_NS, folds: int = 4,
                 C: float = DEFAULT_C, min_conf: int = DEFAULT_MIN_CONF, symmetric: bool = False) -> dict:
    """The walk-forward report (module docstring) and the out-of-fold predictions."""
    from nexus.flow.evaluate import reliability, wilson

    X, y, sess, ts, who, unlabelled = dataset(sessions, horizon_ns)
    n = len(y)
    if folds < 1 or n < 10 * (folds + 1):
        raise ConfigError(f"walk-forward needs at least {10 * (folds + 1)} labelled samples for {folds} folds; "
                          f"these recordings give {n} (longer or more recordings, or fewer --folds)")
    edges = [round(n * k / (folds + 1)) for k in range(folds + 2)]
    fold_rows, oof = [], []   # oof: (fold, p, y, baseline probabilities...)
    agg = {"model": ([], []), "majority": ([], []), "last_move": ([], [])}
    prior_conf: list[np.ndarray] = []
    prior_ok: list[np.ndarray] = []
    cal_rows: list[tuple[str, str, int, bool]] = []
    raw_rows: list[tuple[str, str, int, bool]] = []
    confident = [0, 0]
    gbt: tuple[list, list] = ([], [])
    by_venue: dict[str, dict[str, tuple[list, list]]] = {}
    for k in range(1, folds + 1):
        a, b = edges[k], edges[k + 1]
        train = np.arange(0, a)
        # embargo: a training label that looks into the test block
        first_s, first_t = sess[a], ts[a]
        keep = ~((sess[train] == first_s) & (ts[train] + horizon_ns > first_t))
        train = train[keep]
        test = np.arange(a, b)
        m = fit(X[train], y[train], C, symmetric)
        p = prob(logit(m, X[test]))
        up_share = float(np.mean(y[train])) if len(train) else 0.5
        maj_up = up_share >= 0.5
        p_maj = np.full(len(test), up_share)
        lm_train = _last_move(X[train], maj_up)
        lm_hit = float(np.mean(lm_train == (y[train] == 1))) if len(train) else 0.5
        lm_test = _last_move(X[test], maj_up)
        p_lm = np.where(lm_test, lm_hit, 1 - lm_hit)
        yt = y[test]
        conf = confidence(p)
        correct = (p >= 0.5) == (yt == 1)
        table = _cal_table(np.concatenate(prior_conf), np.concatenate(prior_ok)) if prior_conf else None
        cconf = _calibrated(conf, table)
        venue = [sessions[i].name.split()[-1] for i in who[test]]
        raw_rows += [("oracle", v, int(c), bool(t)) for v, c, t in zip(venue, conf, correct)]
        if table is not None:
            cal_rows += [("oracle", v, int(c), bool(t)) for v, c, t in zip(venue, cconf, correct)]
        prior_conf.append(conf)
        prior_ok.append(correct)
        sel = conf >= min_conf
        confident[0] += int(correct[sel].sum())
        confident[1] += int(sel.sum())
        venue_arr = np.array(venue)
        p_gbt = _gbt(X[train], y[train], X[test])
        if p_gbt is not None:
            gbt[0].append(p_gbt)
            gbt[1].append(yt)
        for name, pp in (("model", p), ("majority", p_maj), ("last_move", p_lm)):
            agg[name][0].append(pp)
            agg[name][1].append(yt)
            for v in np.unique(venue_arr):
                sel_v = venue_arr == v
                d = by_venue.setdefault(str(v), {}).setdefault(name, ([], []))
                d[0].append(pp[sel_v])
                d[1].append(yt[sel_v])
        fold_rows.append({"fold": k, "train": int(len(train)), "test": int(len(test)),
                          "test_up_share": round(float(np.mean(yt)), 4),
                          "model": _scores(p, yt), "majority": _scores(p_maj, yt), "last_move": _scores(p_lm, yt)})
        oof.append((conf, correct))
    pooled = {name: _scores(np.concatenate(ps), np.concatenate(ys_)) for name, (ps, ys_) in agg.items()}
    return {
        "label": f"mid higher (1) or lower (0) {horizon_ns / 1e9:g} s after the sample; unchanged mid: no label",
        "horizon_ns": horizon_ns, "folds": folds, "samples": n, "unlabelled": unlabelled, "symmetric": symmetric,
        "up_share": round(float(np.mean(y)), 4),
        "sessions": [s.name for s in sessions],
        "pooled": pooled,
        "beats_majority": {k: _better(pooled["model"], pooled["majority"], k) for k in ("hit_rate", "log_loss", "brier")},
        "beats_last_move": {k: _better(pooled["model"], pooled["last_move"], k) for k in ("hit_rate", "log_loss", "brier")},
        "confident": {"min_conf": min_conf, "n": confident[1],
                      "hit_rate": round(confident[0] / confident[1], 4) if confident[1] else None,
                      "hit_rate_ci": wilson(confident[0], confident[1])},
        "per_fold": fold_rows,
        # a second learner on the same folds, to tell "no signal in these features" from "no
        # LINEAR signal": small gradient-boosted trees (not shipped; the engine runs the logistic model)
        "comparison": {"gbt": _scores(np.concatenate(gbt[0]), np.concatenate(gbt[1])) if gbt[0] else None},
        "per_venue": {v: {name: _scores(np.concatenate(ps), np.concatenate(ys_)) for name, (ps, ys_) in d.items()}
                      for v, d in sorted(by_venue.items())},
        "calibration_raw": reliability(raw_rows).get("oracle"),
        "calibration_calibrated": reliability(cal_rows).get("oracle"),
    }, oof


def _better(m: dict, b: dict, key: str) -> bool | None:
    if m[key] is None or b[key] is None:
        return None
    return m[key] > b[key] if key == "hit_rate" else m[key] < b[key]


def train(sessions: list[Session], horizon_ns: int = DEFAULT_HORIZON_NS, folds: int = 4, C: float = DEFAULT_C,
          min_conf: int = DEFAULT_MIN_CONF, cooldown_ns: int = DEFAULT_COOLDOWN_NS,
          sample_ns: int = DEFAULT_SAMPLE_NS, sources: list[str] | None = None, symmetric: bool = False) -> dict:
    """Walk-forward report, then the model on every sample with its calibration: the model file."""
    report, oof = walk_forward(sessions, horizon_ns, folds, C, min_conf, symmetric)
    X, y, _, _, _, _ = dataset(sessions, horizon_ns)
    m = fit(X, y, C, symmetric)
    table = _cal_table(np.concatenate([c for c, _ in oof]), np.concatenate([t for _, t in oof]))
    model = {"format": FORMAT, "features": list(FEATURE_NAMES), **m,
             "horizon_ns": int(horizon_ns), "sample_ns": int(sample_ns), "min_conf": int(min_conf),
             "cooldown_ns": int(cooldown_ns), "calibration": table,
             "trained_on": {"sources": sources or [], "samples": int(len(y)), "C": C, "symmetric": symmetric,
                            "method": "scikit-learn LogisticRegression (lbfgs, L2) on standardised features"},
             "walk_forward": report}
    return check(model)
