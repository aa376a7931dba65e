"""Small helpers shared by the benchmarks: percentiles and medians over repeated runs."""

from __future__ import annotations

import numpy as np


def percentiles_ns(samples, prefix: str) -> dict[str, int]:
    a = np.asarray(samples, dtype=np.int64)
    if a.size == 0:
        return {f"{prefix}_p50": -1, f"{prefix}_p99": -1, f"{prefix}_p999": -1, f"{prefix}_max": -1}
    p50, p99, p999 = np.percentile(a, [50, 99, 99.9])
    return {f"{prefix}_p50": int(p50), f"{prefix}_p99": int(p99), f"{prefix}_p999": int(p999), f"{prefix}_max": int(a.max())}


def median(values) -> float:
    return float(np.median(np.asarray(values, dtype=np.float64)))
