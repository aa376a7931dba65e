"""Shared-memory rings of 64-byte records (native; see native/src/core/ring.rs).

    with RingWriter("feed.binance-perp", slots=1 << 16) as w:
        w.publish(batch)                  # a nexus.record array
    r = RingReader("feed.binance-perp")   # from any process on the host
    n = r.poll(out)                       # caller-owned array; returns the count
    r.lost, r.restarts                    # exact loss accounting, writer restarts seen

Segments live in /dev/shm as nexus-ring-NAME; `nexus ring ls` / `nexus ring rm NAME` /
`nexus ring rm --stale` manage stale ones (a writer killed before it closed its ring leaves
its segment behind); `remove_stale` is what the last one and `nexus run`'s start call.
"""

from typing import Callable

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
from nexus.exceptions import RingBusy, RingNotFound

DEFAULT_SLOTS = 1 << 16


def remove_stale(which: Callable[[str], bool] | None = None) -> list[str]:
    """Remove every ring whose writer is gone (or whose segment is unreadable); with `which`,
    only those whose name it accepts. Returns the names removed. A ring whose writer is alive
    by the time it is removed is refused by `ring_remove` and kept."""
    removed = []
    for r in ring_list():
        name = str(r["name"])
        if r["writer_alive"] or (which is not None and not which(name)):
            continue
        try:
            ring_remove(name, False)
        except (RingBusy, RingNotFound):
            continue  # a writer came back, or another process removed it first
        removed.append(name)
    return removed
