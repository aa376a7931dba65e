"""The feed handler's per-message cost on its plain path (no stage probe), for A/B of handler
changes: binance-perp's simulated trade frames through VenueFeed.on_message into a real ring
(published records read back and counted before the figure is trusted), warm (back to back) and
"spaced" (a 256 KiB scratch buffer walked between messages, so each message finds its caches
partly cold, as at a venue's usual rate).

    PYTHONPATH=. python bench/handler_path.py [--rounds 5]

Prints one JSON line: median ns per message, warm and spaced.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np

from nexus import record
from nexus.bench.feeds import bench_symbol, simulated_stream
from nexus.feeds.handler import VenueFeed
from nexus.feeds.specs import spec
from nexus.ring import RingReader, RingWriter

VENUE = "binance-perp"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=30.0, help="simulated seconds of the stream")
    a = ap.parse_args()
    frames = [m for m in simulated_stream(VENUE, a.seconds) if b'"e":"trade"' in m]
    scratch = np.zeros(1 << 15, dtype=np.int64)  # 256 KiB
    name = f"bench-handler-{os.getpid()}"
    warm, spaced = [], []
    with RingWriter(name, slots=1 << 16) as w, RingReader(name) as rd:
        out = record.empty(4096)
        feed = VenueFeed(VENUE, spec(VENUE), bench_symbol(VENUE), "ws://127.0.0.1:1/", None, w.publish)
        n_pub = 0
        for _ in range(a.rounds):
            for mode, acc in (("warm", warm), ("spaced", spaced)):
                total = 0
                for raw in frames:
                    if mode == "spaced":
                        scratch += 1
                    t = time.perf_counter_ns()
                    feed.on_message(raw, t)
                    total += time.perf_counter_ns() - t
                    while n := rd.poll(out):
                        n_pub += n
                acc.append(total / len(frames))
        if n_pub != feed.counters.records_published or n_pub == 0:
            raise SystemExit(f"published {feed.counters.records_published}, read {n_pub}")
    print(json.dumps({"frames": len(frames), "records": n_pub, "warm_ns_per_msg": round(float(np.median(warm))),
                      "spaced_ns_per_msg": round(float(np.median(spaced))),
                      "load": open("/proc/loadavg").read().split()[:3]}))


if __name__ == "__main__":
    main()
