"""Shared-memory rings of 64-byte records (native; see native/src/core/ring.rs).

    with RingWriter("feed.binance-perp", slots=1 << 16) as w:
        w.publish(batch)                  # a nexus.record array
    r = RingReader("feed.binance-perp")   # from any process on the host
    n = r.poll(out)                       # caller-owned array; returns the count
    r.lost, r.restarts                    # exact loss accounting, writer restarts seen

Segments live in /dev/shm as nexus-ring-NAME; `nexus ring ls` / `nexus ring rm NAME`
manage stale ones.
"""

from nexus import record as _record  # noqa: F401  (checks the record layout first)
from nexus._native import (  # noqa: F401
    SLOTS_MAX,
    SLOTS_MIN,
    RingReader,
    RingWriter,
    monotonic_ns,
    ring_list,
    ring_remove,
)

DEFAULT_SLOTS = 1 << 16
