"""Wire-to-book latency broken down by stage, for in-process feeds (`nexus bench feeds`,
`RunConfig.stages`).

Each venue message that publishes records is stamped (CLOCK_MONOTONIC, `time.monotonic_ns`,
the clock of the records' `ts_local_ns`) at every stage boundary, and the reader closes the
row when it has applied the message's records to its book:

    read      the read that brought the frame in (stamped at its first frame: nexus.feeds.connection)
    handler   the handler starts on the message (after the frames ahead of it in the same read)
    decoded   the decoder has written its records
    done      the sync rules applied the book and every record is on the ring
    polled    the reader's poll returned the records
    applied   the reader's book has them

Stages: receive = handler - read, decode = decoded - handler, sync = done - decoded - ring
publish time, ring_publish = the time inside RingWriter.publish for this message, reader_poll
= polled - done (the wait for the reader, then its poll), book_apply = applied - polled. They
sum exactly to the total, applied - read. Nothing is logged per message: each stamp is one
clock read and one list append; without a probe the handler pays three tests of a local
against None per message (one path: VenueFeed.on_message).
"""

from __future__ import annotations

from collections import deque
from time import monotonic_ns

import numpy as np

STAGES = ("receive", "decode", "sync", "ring_publish", "reader_poll", "book_apply")
SAMPLES_MAX = 1 << 17


class StageProbe:
    """One venue's stamps: the handler opens rows, the reader closes them."""

    __slots__ = ("pending", "rows", "publish_ns", "dropped")

    def __init__(self) -> None:
        # (records published through the end of this message, read, handler, decoded, done, publish ns)
        self.pending: deque[tuple] = deque()
        self.rows: list[tuple] = []      # closed rows: the six stage durations and the total
        self.publish_ns = 0              # ring publish time of the message being handled
        self.dropped = 0                 # rows past SAMPLES_MAX (not kept)

    def opened(self, records_end: int, t_read: int, t_handler: int, t_decoded: int, t_done: int) -> None:
        """A message's row (the feed handler appends the same tuple inline: keep them alike)."""
        self.pending.append((records_end, t_read, t_handler, t_decoded, t_done, self.publish_ns))

    def closed(self, records_read: int, t_polled: int, t_applied: int) -> None:
        """The reader has applied every record up to `records_read` (its running count)."""
        pending, rows = self.pending, self.rows
        while pending and pending[0][0] <= records_read:
            end, t_read, t_handler, t_decoded, t_done, pub = pending.popleft()
            if len(rows) >= SAMPLES_MAX:
                self.dropped += 1
                continue
            rows.append((t_handler - t_read, t_decoded - t_handler, t_done - t_decoded - pub, pub,
                         t_polled - t_done, t_applied - t_polled, t_applied - t_read))

    def reset(self) -> None:
        self.pending.clear()
        self.rows.clear()
        self.dropped = 0

    def array(self) -> np.ndarray:
        """Closed rows as an (n, 7) int64 array: STAGES then the total."""
        return np.asarray(self.rows, dtype=np.int64).reshape(-1, len(STAGES) + 1)


def timed_publish(probe: StageProbe, publish):
    """`publish(records)` adding its time to the probe's current message; `run(batch, n)` when
    `publish` takes a count (nexus.feeds.handler.takes_count), as the ring writer's does."""
    from nexus.feeds.handler import takes_count

    if takes_count(publish):
        def run(recs, n=-1):
            t = monotonic_ns()
            publish(recs, n)
            probe.publish_ns += monotonic_ns() - t

        run.takes_n = True
        return run

    def run1(recs):
        t = monotonic_ns()
        publish(recs)
        probe.publish_ns += monotonic_ns() - t

    return run1


def breakdown(rows: np.ndarray) -> dict:
    """Per-stage p50/p99 (ns), the total's, and the sum of the stage medians (the stage
    percentiles of different messages need not add up; per message, the stages sum exactly
    to the total, which `sum_matches_total` checks)."""
    out: dict = {"samples": int(rows.shape[0])}
    if rows.shape[0] == 0:
        return out
    for i, name in enumerate(STAGES + ("total",)):
        p50, p99 = np.percentile(rows[:, i], [50, 99])
        out[name] = {"p50_ns": int(p50), "p99_ns": int(p99), "mean_ns": int(rows[:, i].mean())}
    out["sum_of_stage_p50_ns"] = int(sum(out[s]["p50_ns"] for s in STAGES))
    out["sum_matches_total"] = bool((rows[:, :len(STAGES)].sum(axis=1) == rows[:, len(STAGES)]).all())
    return out
