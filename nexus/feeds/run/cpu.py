"""CPU pinning and busy polling for co-located servers (`--pin-cpu`, `--busy-poll`).

Pinning (os.sched_setaffinity) keeps the feed handler and the reader on one core: its caches
stay warm and the scheduler does not migrate it. Busy polling makes the loop that reads the
rings (and, in-process, the venue sockets) spin instead of sleeping between polls: no wake-up
latency, at the price of one core at 100 % per spinning process, all the time, traffic or not.

Keeping warm (`--keep-warm`, RunConfig.keep_warm, nexus.feeds.handler.VenueFeed.warm): at a
venue's usual rate (tens of messages a second) every message finds the caches cold — whatever
ran between two messages has evicted the handler's code and data — and costs ~10x its warm
time (a Binance trade decode: ~20 µs cold, ~2 µs warm). With it the loop, between messages,
re-decodes each feed's last trade frame and last fused book diff into the scratch batch
(nothing published, no book or sync state touched), at most every 100 µs of loop time. Cost:
~4 µs of CPU per venue per interval: ~4 % of the spinning core with --busy-poll, ~0.4 %
with the default 1 ms poll; a message that arrives during a warm pass waits for it (a few µs).
"""

from __future__ import annotations

import asyncio
import logging
import os

log = logging.getLogger("nexus.feeds")


def parse_cpus(text: str) -> tuple[int, ...]:
    """'3' or '2,3' -> (3,) / (2, 3); each CPU must be one this process may run on."""
    try:
        cpus = tuple(int(c) for c in text.split(",") if c.strip() != "")
    except ValueError:
        raise ValueError(f"expected CPU numbers such as 1 or 1,2, got {text!r}") from None
    if not cpus:
        raise ValueError("name at least one CPU")
    allowed = os.sched_getaffinity(0)
    bad = [c for c in cpus if c not in allowed]
    if bad:
        raise ValueError(f"CPU {bad[0]} is not available here (allowed: {','.join(map(str, sorted(allowed)))})")
    return cpus


def pin(cpu: int) -> None:
    """Pin the calling process's thread (and the threads it starts from now on) to `cpu`."""
    os.sched_setaffinity(0, {cpu})
    log.info("pinned to CPU %d", cpu)


def feed_process_cpu(cpus: tuple[int, ...], index: int) -> int | None:
    """The CPU of the `index`-th feed process (venue order) with --procs: the CPUs after the
    first, in turn; with one CPU given, the same one as the readers."""
    if not cpus:
        return None
    rest = cpus[1:] or cpus
    return rest[index % len(rest)]


async def spin() -> None:
    """Keep the event loop busy: it then polls its sockets without sleeping (epoll timeout 0).
    Runs until cancelled."""
    while True:
        await asyncio.sleep(0)
