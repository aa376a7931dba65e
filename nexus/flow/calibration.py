"""Calibrated signal confidence (issue 18 point 4).

A detector's raw confidence is a score (engine/signal.pxd conf_ratio: how far a measure
passed its threshold), not a probability. The calibration maps it, per signal type, to the
share of signals with that raw score that were TRUE in an evaluation (`nexus signals eval`:
a signal is true when it matches a labelled pattern of its kind, nexus/flow/evaluate.py), so
a signal carrying 70 is right about 70 % of the time on flow like the evaluation's.

The map is an isotonic (pool-adjacent-violators) fit of outcome on raw confidence, weighted
by count, blocks of fewer than MIN_BLOCK signals pooled with a neighbour, each block's share
Laplace-smoothed ((k + 1) / (n + 2)), made on TUNING seeds only (calibration_table.json: "fitted_on" names them), turned
into a 101-entry non-decreasing table (raw 0..100 -> calibrated 0..100; between fitted points
the table interpolates, beyond them it is flat). The compiled engine applies it to every signal
it emits (engine/flow.pyx set_calibration), so `signals replay`, the live path and the
auto-trader all read the calibrated value. `FlowParams(calibrated=False)` keeps the raw score.
Signal types without a table (oracle, and any kind with too few tuning signals) pass through
unchanged.

Refit: `nexus signals eval --seeds <tuning seeds> --fit-calibration nexus/flow/calibration_table.json`
(the fit uses the RAW confidences; the evaluation's figures then come from other seeds).
"""

from __future__ import annotations

import json
from pathlib import Path

TABLE_PATH = Path(__file__).with_name("calibration_table.json")
SIG_TYPES = {"absorption": 1, "iceberg": 2, "exhaustion": 3, "delta_spike": 4, "spoof": 5, "smart_money": 6}
MIN_SIGNALS = 20   # fewer tuning signals of a kind: no table (the raw score passes)
MIN_BLOCK = 30     # a fitted block of fewer signals is pooled with its neighbour


def isotonic(points: list[tuple[int, bool]]) -> list[tuple[float, float, int]]:
    """Pool-adjacent-violators over (raw confidence, outcome): blocks (mean raw, share true,
    count), shares non-decreasing in raw."""
    by: dict[int, list[int]] = {}
    for c, t in points:
        b = by.setdefault(int(c), [0, 0])
        b[0] += 1
        b[1] += int(bool(t))
    blocks: list[list[float]] = []   # [sum raw*n, n, k]
    for c in sorted(by):
        n, k = by[c]
        blocks.append([c * n, n, k])
        while len(blocks) > 1 and blocks[-2][2] / blocks[-2][1] > blocks[-1][2] / blocks[-1][1]:
            s, n2, k2 = blocks.pop()
            blocks[-1][0] += s
            blocks[-1][1] += n2
            blocks[-1][2] += k2
    # each block's share with one success and one failure added (Laplace): a block of 35
    # signals all true reads 97 %, not a certainty the evaluation cannot show
    return [(s / n, (k + 1) / (n + 2), int(n)) for s, n, k in blocks]


def isotonic_pooled(points: list[tuple[int, bool]], min_block: int = MIN_BLOCK) -> list[tuple[float, float, int]]:
    """`isotonic`, with blocks of fewer than `min_block` signals pooled into their neighbour
    (the lower one where there is one): a block of one signal reads 33 % or 67 % after
    smoothing, and set the table for every raw score around it (smart money, tuning seeds
    201-210: a small low block made every raw score up to 52 read 33 %, where held-out
    signals so scored were right 95 % of the time). Pooled blocks stay non-decreasing:
    merging adjacent blocks of a non-decreasing sequence keeps it so."""
    blocks = [[m * n, (sh * (n + 2) - 1), n] for m, sh, n in isotonic(points)]   # [sum raw, k, n]
    i = 0
    while len(blocks) > 1 and i < len(blocks):
        if blocks[i][2] >= min_block:
            i += 1
            continue
        j = i - 1 if i > 0 else i + 1
        lo, hi = min(i, j), max(i, j)
        blocks[lo] = [blocks[lo][0] + blocks[hi][0], blocks[lo][1] + blocks[hi][1], blocks[lo][2] + blocks[hi][2]]
        del blocks[hi]
        i = 0
    return [(s / n, (k + 1) / (n + 2), int(n)) for s, k, n in blocks]


def table_from_blocks(blocks: list[tuple[float, float, int]]) -> list[int]:
    """101 integers: the fitted share (in %) at each raw confidence, interpolated linearly
    between block centres, flat beyond the first and last; non-decreasing."""
    xs = [b[0] for b in blocks]
    ys = [b[1] * 100 for b in blocks]
    out = []
    for c in range(101):
        if c <= xs[0]:
            y = ys[0]
        elif c >= xs[-1]:
            y = ys[-1]
        else:
            j = next(i for i in range(1, len(xs)) if xs[i] >= c)
            x0, x1, y0, y1 = xs[j - 1], xs[j], ys[j - 1], ys[j]
            y = y0 + (y1 - y0) * (c - x0) / (x1 - x0) if x1 > x0 else y1
        out.append(int(round(y)))
    for i in range(1, 101):
        out[i] = max(out[i], out[i - 1])
    return out


def fit(outcomes: list[tuple[str, str, int, bool]], seeds: list[int]) -> dict:
    """Tables from `evaluate.outcomes` rows (signal, venue, RAW confidence, true?)."""
    tables = {}
    counts = {}
    for sig in SIG_TYPES:
        pts = [(c, t) for s, _, c, t in outcomes if s == sig]
        counts[sig] = len(pts)
        if len(pts) >= MIN_SIGNALS:
            tables[sig] = table_from_blocks(isotonic_pooled(pts))
    return {"fitted_on": {"seeds": list(seeds), "signals": counts,
                          "method": f"isotonic regression (PAV) of outcome on raw confidence, blocks of fewer "
                                    f"than {MIN_BLOCK} signals pooled with a neighbour"},
            "tables": tables}


def load(path: Path = TABLE_PATH) -> dict[str, list[int]]:
    try:
        return json.loads(path.read_text())["tables"]
    except FileNotFoundError:
        return {}


def apply(engine, tables: dict[str, list[int]] | None = None) -> None:
    """Install the tables into a compiled FlowEngine."""
    for sig, table in (load() if tables is None else tables).items():
        if sig in SIG_TYPES:
            engine.set_calibration(SIG_TYPES[sig], table)
