"""`nexus signals eval --jobs N`: the seeds of one evaluation scored in worker processes.

Each seed is independent (its own simulator, its own engines: nexus/flow/evaluate.py `run`),
so the seeds are handed to a pool of worker processes and their results are returned in the
order the seeds were given, whatever order they finish in: everything computed from them
(pooled figures, per-venue cells, reliability, the calibration fit) is then the same as with
one process.

The workers are started with the 'spawn' method, not 'fork': the parent already runs a second
thread once NumPy is imported (OpenBLAS's pool; checked: 2 threads in /proc/self/task after
`import nexus.cli`), and a forked child inherits the locks of the parent's threads in whatever
state they were, so fork is not safe here. A spawned worker imports Nexus afresh, about a second
against the seconds to minutes one seed takes (one seed of `--venues all`, 300 s: minutes).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

START_METHOD = "spawn"


def workers_for(jobs: int, n_seeds: int) -> int:
    """`--jobs` (0: one per CPU) -> the worker processes to start: never more than the seeds."""
    if jobs < 0:
        raise ValueError(f"jobs must be 0 (one per CPU) or more, got {jobs}")
    want = (os.cpu_count() or 1) if jobs == 0 else jobs
    return max(1, min(want, n_seeds))


def _run_one(seed: int, kwargs: dict) -> dict:
    """One seed in a worker (a module-level function, so the spawned worker can import it)."""
    from nexus.flow import evaluate

    return evaluate.run(seed=seed, **kwargs)


def run_seeds(seeds: Sequence[int], jobs: int, on_done: Callable[[int, int], None] | None = None,
              **kwargs) -> list[dict]:
    """evaluate.run(seed=s, **kwargs) for every seed, in `workers_for(jobs, len(seeds))`
    processes; the results in the order of `seeds`. `on_done(seed, finished)` is called in
    this process as each seed finishes (`finished`: how many have, this one included).
    A seed that fails stops the others and its exception is raised here."""
    n = workers_for(jobs, len(seeds))
    done = on_done or (lambda seed, finished: None)
    if n == 1:      # in this process, as before --jobs existed
        out = []
        for i, sd in enumerate(seeds, 1):
            out.append(_run_one(sd, kwargs))
            done(sd, i)
        return out
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    results: list[dict | None] = [None] * len(seeds)
    with ProcessPoolExecutor(max_workers=n, mp_context=multiprocessing.get_context(START_METHOD)) as pool:
        futures = {pool.submit(_run_one, sd, kwargs): i for i, sd in enumerate(seeds)}
        try:
            for k, f in enumerate(as_completed(futures), 1):
                i = futures[f]
                results[i] = f.result()     # re-raises a worker's exception here
                done(seeds[i], k)
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    return results  # type: ignore[return-value]
