"""The per-venue figures of `nexus run`'s lines: the feed handler's counters (from this
process's feeds, or as the feed process last reported them) with the best bid/ask as the
readers' books see them, i.e. what crossed the ring."""

from __future__ import annotations

from nexus._native import monotonic_ns

# What a venue reports before its feed process has said anything.
EMPTY_STATS = {"state": "DOWN", "msgs": 0, "gaps": 0, "resyncs": 0, "reconnects": 0, "attempts": 0, "error": None,
               "checksum_failures": 0, "malformed": 0, "best_bid": None, "best_ask": None}


def venue_stats(venues: list[str], supervisor, sides: dict) -> dict[str, dict]:
    now = monotonic_ns()
    out = {}
    for v in venues:
        if v in supervisor.feeds:
            s = supervisor.feeds[v].stats(now)
        else:
            s = {k: val for k, val in supervisor.proc_stats.get(v, EMPTY_STATS).items() if k != "_inst"}
        rs = sides[v]
        if rs.book is not None and rs.inst is not None:
            b, a = rs.book.best_bid(), rs.book.best_ask()
            s["best_bid"] = rs.inst.price_str(b[0]) if b else None
            s["best_ask"] = rs.inst.price_str(a[0]) if a else None
        s.setdefault("msgs", 0)
        out[v] = s
    return out
