"""`nexus signals replay` (detector signals per input line) and `nexus signals eval` (the
detectors scored against the simulator's labelled patterns). Definitions: engine/det_*.pxd;
parameters: nexus/flow/params.py."""

from __future__ import annotations

import json
import sys

import click

from nexus.commands.metrics import finish, open_source, source_options, tag_symbol


@click.group()
def signals() -> None:
    """Order-flow signals: absorption, iceberg, exhaustion, delta spike, spoof, smart money, oracle."""


def param_options(f):
    f = click.option("--param", "params", multiple=True, metavar="NAME=VALUE",
                     help="Override a detector parameter (nexus/flow/params.py; integers: ns, integer "
                          "price/quantity units, percent). Repeatable.")(f)
    f = click.option("--no-oracle", is_flag=True, help="Do not emit oracle signals.")(f)
    return oracle_option(f)


ORACLE_HELP = ("Which oracle speaks: the rule-based consensus (engine/det_oracle.pxd), the learned "
               "model shipped in the package (nexus/flow/oracle_model.json), or a model file written "
               "by `signals oracle-train`.")
ORACLE_FIX = ("fix: write a model with `nexus signals oracle-train --seeds ... | --recordings FILE... --out FILE`, "
              "or use --oracle learned (the shipped model) or --oracle rule")


def oracle_option(f):
    """`--oracle rule|learned|FILE`, one meaning in `signals replay`, `nexus run` and `nexus trade`."""
    return click.option("--oracle", "oracle_choice", default="rule", show_default=True, metavar="rule|learned|FILE",
                        help=ORACLE_HELP)(f)


def oracle_model_or_fail(choice: str):
    """The `--oracle` value -> the model dict (None: the rule oracle); a missing or malformed
    file is a usage error (exit 2) naming the file, what is wrong, and the fix."""
    from nexus.flow.oracle_model import OracleModelError, resolve

    try:
        return resolve(choice)
    except OracleModelError as e:
        raise click.UsageError(f"--oracle: {e}; {ORACLE_FIX}") from None


def oracle_label(choice: str, model: dict | None) -> dict:
    """Which oracle is active, as the run's and the trader's output show it:
    {"kind": "rule"} or {"kind": "learned", "model": <the file's path>}."""
    if model is None:
        return {"kind": "rule"}
    from pathlib import Path

    from nexus.flow.oracle_model import MODEL_PATH

    return {"kind": "learned", "model": str(MODEL_PATH if choice == "learned" else Path(choice).resolve())}


def build_params(overrides: dict, tick: int, oracle: bool):
    from nexus.exceptions import ConfigError
    from nexus.flow.params import FlowParams

    try:
        return FlowParams(tick=tick, oracle=oracle).replace(**overrides)
    except ConfigError as e:
        raise click.UsageError(str(e)) from None


def param_overrides(params, tick: int, oracle: bool) -> dict:
    """`--param NAME=VALUE ...` -> the overrides, checked against the schema at once (a bad name
    or value is a usage error, exit 2), for `signals replay` and `signals eval` alike."""
    from nexus.exceptions import ConfigError
    from nexus.flow.replay import parse_param_overrides

    try:
        overrides = parse_param_overrides(params)
    except ConfigError as e:
        raise click.UsageError(str(e)) from None
    build_params(overrides, tick, oracle)
    return overrides


@signals.command("replay")
@source_options
@param_options
@click.option("--json", "as_json", is_flag=True, help="JSON Lines (the contract); otherwise a readable line each.")
def replay(venue, symbol, instruments, records, price_exponent, qty_exponent, tick, params, no_oracle, oracle_choice,
           as_json) -> None:
    """Raw messages on stdin (as for `book replay`) through the venue's sync rules and the
    signal detectors; one line per signal:

    \b
    {"i": <0-based input line>, "signal": "absorption"|"iceberg"|"exhaustion"|"delta_spike"|
     "spoof"|"smart_money"|"oracle", "side": "buy"|"sell", "price": "…",
     "confidence": 0-100, "facts": {…}}

    `side` is the direction the signal points to (a pulled bid wall or an exhausted buying
    burst point down: "sell"). The oracle combines the others and is off by default for
    trading. Facts per signal: nexus/flow/signals.py.
    """
    from nexus.flow.replay import Replay
    from nexus.flow.runner import signal_json

    overrides = param_overrides(params, tick, not no_oracle)  # refused before reading anything
    model = oracle_model_or_fail(oracle_choice)
    source = open_source(venue, symbol, instruments, records, price_exponent, qty_exponent, tick)
    rp = Replay(lambda unit: build_params(overrides, unit.tick, not no_oracle), oracle_model=model)
    dumps = json.JSONEncoder(separators=(",", ":")).encode
    write = sys.stdout.write
    for unit in source:
        for out in rp.feed(unit):
            for sig, facts in zip(out.signals, out.facts):
                line = tag_symbol(signal_json(sig, facts, unit.i, unit.price_exponent, unit.qty_exponent), unit, source, symbol)
                if as_json:
                    write(dumps(line) + "\n")
                else:
                    write(f"{line['i']:>8}  {line['signal']:<12} {line['side']:<4} {line['price']:>14}  "
                          f"conf {line['confidence']:>3}  {json.dumps(line['facts'])}\n")
    sys.stdout.flush()
    finish(source)


@signals.command("eval")
@click.option("--seed", type=int, default=1, show_default=True, help="The simulator's seed (the scenario; 1 is `nexus sim`'s default).")
@click.option("--seeds", default=None, metavar="N,N-M,...",
              help="Several scenarios, scored each and pooled (counts added), with Wilson 95 % intervals, "
                   "per venue, and the reliability table and Brier score per kind; seeds used for tuning "
                   "(nexus.flow.evaluate.TUNING_SEEDS) are left out of the figures and listed.")
@click.option("--duration", "duration_s", type=click.FloatRange(30, 3600), default=300.0, show_default=True,
              help="Simulated seconds (patterns start every 5-8 s after the first 3 s).")
@click.option("--venues", default=None,
              help="Comma-separated venues, or `all`: every venue the simulator serves (default: the seven "
                   "default ones). A venue whose session cannot be set up is listed in `not_evaluated` "
                   "with the reason.")
@click.option("--details", is_flag=True,
              help="Also report, per detector, its false positives and how many fell while a pattern of "
                   "another kind was running on that venue.")
@click.option("--raw", is_flag=True, help="Score the detectors' raw confidence instead of the calibrated one.")
@click.option("--include-tuning", is_flag=True, help="Do not leave the tuning seeds out (for fitting).")
@click.option("--fit-calibration", "fit_path", default=None, metavar="FILE",
              help="Fit the confidence calibration on these seeds' RAW confidences and write it to FILE "
                   "(nexus/flow/calibration_table.json is the one the engine uses).")
@click.option("--cache", "cache_dir", default=None, metavar="DIR",
              help="Keep the simulator's frames per seed in DIR and reuse them (the detectors still run).")
@click.option("--jobs", type=click.IntRange(min=0), default=1, show_default=True, metavar="N",
              help="With --seeds: score N seeds at a time in worker processes (0: one per CPU). The output "
                   "is the same as with --jobs 1: the results are combined in seed order.")
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE",
              help="Score with a detector parameter overridden (nexus/flow/params.py, as `signals replay "
                   "--param`), e.g. to measure a change against its old value on the same frames. Repeatable.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object: per detector precision, recall, labelled, detected.")
def eval_(seed, seeds, duration_s, venues, details, raw, include_tuning, fit_path, cache_dir, jobs, params,
          as_json) -> None:
    """Run the simulator's labelled scenario in process (no network), replay every venue's
    wire messages through its decoder, sync rules and the detectors (default parameters),
    and score each detector against the labels:

    \b
    {"absorption": {"precision", "recall", "labelled", "detected"}, "iceberg": {...},
     "exhaustion": ..., "delta_spike": ..., "spoof": ..., "smart_money": ..., "oracle": ...}

    With --seeds, --json prints {"seeds", "excluded_tuning_seeds", "pooled": {detector:
    {precision, precision_ci, recall, recall_ci, labelled, detected, ...}}, "per_venue":
    {venue: {detector: {...}}}, "per_seed": {...}, "calibration": {detector: {"n", "brier",
    "table": [{"confidence": [lo, hi], "n", "mean_confidence", "observed", "observed_ci"}]}},
    "venues": [...], "not_evaluated": {venue: why}}.

    Matching rules (time window, expected side, level price): nexus/flow/evaluate.py.
    precision / recall are null when nothing was detected / labelled. delay_s_median /
    delay_s_p90 (pooled and per venue; single seed with --details): how long after a found
    label's start its first matching signal came (a signal may come up to 1 s early).
    """
    from nexus.flow import evaluate

    overrides = param_overrides(params, 1, True)  # refused before simulating anything
    vs = (evaluate.all_venues() if venues.strip() == "all" else tuple(v.strip() for v in venues.split(","))) \
        if venues else evaluate.DEFAULT_VENUES
    progress = (lambda m: click.echo(f"… {m}", err=True)) if not as_json else None
    keys = ("precision", "recall", "labelled", "detected")
    if seeds is not None or fit_path:
        try:
            seed_list = evaluate.parse_seeds(seeds or str(seed))
        except ValueError:
            raise click.UsageError(f"--seeds takes integers and ranges (101-120) separated by commas, got {seeds!r}") from None
        if not seed_list:
            raise click.UsageError("--seeds needs at least one seed")
        excluded = [sd for sd in seed_list if sd in evaluate.TUNING_SEEDS] if not (include_tuning or fit_path) else []
        seed_list = [sd for sd in seed_list if sd not in excluded]
        if not seed_list:
            raise click.UsageError(f"every seed given is a tuning seed ({', '.join(map(str, excluded))}); "
                                   "use --include-tuning to score them anyway")
        from nexus.flow.eval_pool import run_seeds, workers_for

        n_workers = workers_for(jobs, len(seed_list))
        click.echo(f"… {len(seed_list)} seeds, {n_workers} at a time", err=True)
        runs = run_seeds(seed_list, jobs, lambda sd, k: click.echo(f"… seed {sd} done ({k} of {len(seed_list)})", err=True),
                         duration_s=duration_s, venues=vs, cache_dir=cache_dir, calibrate=not (raw or fit_path),
                         overrides=overrides)
        per_seed, per_venue_runs, outs, not_evaluated = {}, [], [], {}
        for sd, r in zip(seed_list, runs):
            per_seed[sd] = r["detectors"]
            per_venue_runs.append(r["per_venue"])
            for v, why in r["not_evaluated"].items():
                not_evaluated.setdefault(v, why)
            outs.extend(r["outcomes"])
        if fit_path:
            from pathlib import Path
            from nexus.flow.calibration import fit
            Path(fit_path).write_text(json.dumps(fit(outs, seed_list), indent=1) + "\n")
            click.echo(f"calibration fitted on seeds {', '.join(map(str, seed_list))} -> {fit_path}", err=True)
        pooled = evaluate.with_intervals(evaluate.pool(list(per_seed.values())))
        per_venue = {v: evaluate.with_intervals(evaluate.pool([pv[v] for pv in per_venue_runs if v in pv]))
                     for v in vs if v not in not_evaluated}
        calib = evaluate.reliability(outs)
        ck = keys + ("precision_ci", "recall_ci", "delay_s_median", "delay_s_p90")
        if as_json:
            click.echo(json.dumps({"seeds": seed_list, "excluded_tuning_seeds": excluded,
                                   "confidence": "raw" if (raw or fit_path) else "calibrated",
                                   "pooled": {n: {k: d.get(k) for k in ck} for n, d in pooled.items()},
                                   "per_venue": {v: {n: {k: d.get(k) for k in ck} for n, d in pv.items() if n != "oracle"}
                                                 for v, pv in per_venue.items()},
                                   "per_seed": {str(sd): {n: {k: d[k] for k in keys} for n, d in r.items()}
                                                for sd, r in per_seed.items()},
                                   "calibration": calib, "venues": list(vs), "not_evaluated": not_evaluated}))
            return
        click.echo(f"seeds {', '.join(map(str, seed_list))} pooled, {duration_s:g} simulated s each, venues: {', '.join(vs)}")
        if excluded:
            click.echo(f"tuning seeds left out: {', '.join(map(str, excluded))}")
        for v, why in not_evaluated.items():
            click.echo(f"not evaluated: {v}: {why}")
        for name, d in pooled.items():
            ci = (f"  P95 {_ci(d.get('precision_ci'))} R95 {_ci(d.get('recall_ci'))}"
                  + (f"  delay {d['delay_s_median']} s (p90 {d['delay_s_p90']})" if d.get("delay_s_median") is not None else "")
                  ) if name != "oracle" else ""
            click.echo(_row(name, d, ci))
        click.echo("per venue (precision/recall):")
        for v, pv in per_venue.items():
            click.echo(f"  {v:<14} " + "  ".join(f"{n}:{_ratio(d['precision'])}/{_ratio(d['recall'])}"
                                                  for n, d in pv.items() if n != "oracle"))
        click.echo("calibration (confidence bin: n, mean confidence, observed share true):")
        for n, c in calib.items():
            click.echo(f"  {n:<12} Brier {c['brier']}  " + "  ".join(
                f"[{r['confidence'][0]},{r['confidence'][1]}): {r['n']} {r['mean_confidence']} {r['observed']:.2f}" for r in c["table"]))
        return
    res = evaluate.run(seed=seed, duration_s=duration_s, venues=vs, progress=progress, cache_dir=cache_dir,
                       calibrate=not raw, overrides=overrides)
    out = {name: ({**{k: x for k, x in d.items() if k != "delays_ns"}, **evaluate.delay_figures(d.get("delays_ns", []))}
                  if details else {k: d[k] for k in keys}) for name, d in res["detectors"].items()}
    if as_json:
        click.echo(json.dumps(out))
        return
    click.echo(f"seed {seed}, {duration_s:g} simulated s, venues: {', '.join(vs)}")
    for name, d in res["detectors"].items():
        extra = (f"  (false positives {d['false_positives']}, {d['false_positives_during_other_patterns']} "
                 f"during other patterns)") if "false_positives" in d else ""
        click.echo(_row(name, d, extra))


def _ci(ci) -> str:
    return "-" if ci is None else f"[{ci[0]:.2f},{ci[1]:.2f}]"


def _ratio(x) -> str:
    return "-" if x is None else f"{x:.2f}"


def _row(name: str, d: dict, tail: str = "") -> str:
    """One detector's line of the readable `signals eval` output."""
    return (f"{name:<12} precision {_ratio(d['precision']):>5}  recall {_ratio(d['recall']):>5}  "
            f"labelled {d['labelled']:>3}  detected {d['detected']:>4}{tail}")


@signals.command("oracle-train")
@click.option("--recordings", "recordings", multiple=True, type=click.Path(dir_okay=False), metavar="FILE",
              help="`nexus record` files, in time order (repeatable). Each venue in a file is one session.")
@click.option("--seeds", default=None, metavar="N,N,...",
              help="Or/and the simulator's deterministic sessions (in process, as `signals eval`), in this order.")
@click.option("--duration", "duration_s", type=click.FloatRange(30, 3600), default=300.0, show_default=True,
              help="Simulated seconds per seed.")
@click.option("--venues", default=None, help="With --seeds: comma-separated venues (default: all seven).")
@click.option("--horizon", "horizon_s", type=click.FloatRange(0.25, 600), default=5.0, show_default=True,
              help="H: the label is the direction of the mid's move over the next H seconds.")
@click.option("--folds", type=click.IntRange(1, 20), default=4, show_default=True,
              help="Walk-forward folds (the samples in time order cut into folds + 1 blocks).")
@click.option("--min-conf", type=click.IntRange(50, 100), default=55, show_default=True,
              help="The oracle emits when the model's raw confidence is at least this.")
@click.option("--symmetric", is_flag=True,
              help="Fit on the samples and their mirror images (bids<->asks, buys<->sells, label flipped): "
                   "a model with no drift of its own.")
@click.option("--cache", "cache_dir", default=None, metavar="DIR", help="With --seeds: keep the simulator's frames here.")
@click.option("--out", "out_path", default=None, metavar="FILE",
              help="Write the model (coefficients, calibration, walk-forward report) here; "
                   "nexus/flow/oracle_model.json is the one `--oracle learned` uses. Without --out: report only.")
@click.option("--json", "as_json", is_flag=True, help="The walk-forward report as one JSON object.")
def oracle_train(recordings, seeds, duration_s, venues, horizon_s, folds, min_conf, symmetric, cache_dir, out_path,
                 as_json) -> None:
    """Train the learned oracle (logistic regression over the engine's own features) on
    recordings and evaluate it walk-forward against naive baselines (always the majority
    direction; the sign of the last move). Label, features and method:
    nexus/flow/oracle_model.py. Needs scikit-learn (the dev extra).

    \b
    --json: {"label", "horizon_ns", "folds", "samples", "unlabelled", "up_share",
     "pooled": {"model"|"majority"|"last_move": {"n", "hit_rate", "hit_rate_ci", "log_loss", "brier"}},
     "beats_majority": {...}, "beats_last_move": {...}, "confident": {...},
     "per_fold": [...], "calibration_raw": {...}, "calibration_calibrated": {...}, "model": {...}}
    """
    from nexus.exceptions import ConfigError
    from nexus.feeds.recording import RecordingError
    from nexus.flow import evaluate, oracle_model as om

    if not recordings and not seeds:
        raise click.UsageError("give --recordings FILE ... and/or --seeds N,N,...")
    say = (lambda m: click.echo(f"… {m}", err=True))
    sessions, sources = [], []
    try:
        for i, path in enumerate(recordings):
            sessions += om.sessions_from_recording(path, progress=say, group=-1 - i)
            sources.append(path)
        if seeds:
            try:
                seed_list = [int(x) for x in seeds.split(",") if x.strip()]
            except ValueError:
                raise click.UsageError(f"--seeds takes integers separated by commas, got {seeds!r}") from None
            tuning = [sd for sd in seed_list if sd in evaluate.TUNING_SEEDS]
            if tuning:
                say(f"note: seeds {', '.join(map(str, tuning))} were used to tune the detectors")
            vs = tuple(v.strip() for v in venues.split(",")) if venues else evaluate.DEFAULT_VENUES
            sessions += om.sessions_from_seeds(seed_list, duration_s, vs, cache_dir, progress=say)
            sources.append(f"simulator seeds {','.join(map(str, seed_list))} x {duration_s:g} s, venues {','.join(vs)}")
        model = om.train(sessions, horizon_ns=int(round(horizon_s * 1e9)), folds=folds, min_conf=min_conf, sources=sources,
                         symmetric=symmetric)
    except RecordingError as e:
        raise click.UsageError(str(e)) from None
    except ConfigError as e:
        raise click.UsageError(str(e)) from None
    if out_path:
        from pathlib import Path
        Path(out_path).write_text(json.dumps(model, indent=1) + "\n")
        say(f"model written to {out_path}")
    rep = model["walk_forward"]
    if as_json:
        click.echo(json.dumps({**rep, "model": {k: model[k] for k in ("features", "bias", "weights", "mean", "scale",
                                                                          "horizon_ns", "min_conf", "calibration")}}))
        return
    click.echo(f"label: {rep['label']}; {rep['samples']} labelled samples ({rep['unlabelled']} unlabelled), "
               f"up share {rep['up_share']:.3f}, {rep['folds']} walk-forward folds")
    for name, d in rep["pooled"].items():
        click.echo(f"  {name:<10} hit rate {d['hit_rate']:.4f} {_ci(d['hit_rate_ci'])}  log loss {d['log_loss']:.4f}  "
                   f"Brier {d['brier']:.4f}  (n {d['n']})")
    g = (rep.get("comparison") or {}).get("gbt")
    if g:
        click.echo(f"  (trees)    hit rate {g['hit_rate']:.4f} {_ci(g['hit_rate_ci'])}  log loss {g['log_loss']:.4f}  "
                   f"Brier {g['brier']:.4f}  (gradient-boosted trees on the same folds, for comparison; not shipped)")
    c = rep["confident"]
    click.echo(f"  model at confidence >= {c['min_conf']}: n {c['n']}, hit rate "
               f"{_ratio(c['hit_rate'])} {_ci(c['hit_rate_ci'])}")
    for key in ("calibration_raw", "calibration_calibrated"):
        cal = rep.get(key)
        if cal:
            click.echo(f"  {key}: Brier {cal['brier']}  " + "  ".join(
                f"[{r['confidence'][0]},{r['confidence'][1]}): {r['n']} {r['mean_confidence']} {r['observed']:.2f}"
                for r in cal["table"]))
