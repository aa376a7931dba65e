"""What the `nexus run --sim` end-to-end tests share (tests/feeds/test_run_sim*.py): a Runtime
over the in-process simulator for a fixed time with a line per second, and each venue's book
(the feed handler's and the ring reader's) as decimals to compare with the simulator's."""
import asyncio
from decimal import Decimal

from nexus.feeds.runtime import RunConfig, Runtime


def norm(levels):
    """The simulator's [price, qty] strings as decimals."""
    return [(Decimal(p), Decimal(q)) for p, q in levels]


def top_levels(book, inst, depth):
    """(bids, asks) of a native book, `depth` levels each, as decimals."""
    return tuple([(Decimal(inst.price_str(p)), Decimal(inst.qty_str(q))) for p, q in book.top(side, depth)]
                 for side in (1, 2))


def feed_and_ring(rt, venue, depth):
    """The venue's sync state, its instrument, and (bids, asks) of the feed handler's book and
    of the ring reader's."""
    f = rt.feeds[venue]
    st = f.sync.books[f.symbol]
    return st, top_levels(st.book, st.inst, depth), top_levels(rt.readers[venue].book, st.inst, depth)


def run_sim(venues, seed, faults, duration_s, compare) -> dict:
    """`nexus run --sim` for `duration_s`: "lines", the run's line each second; "final",
    `compare(rt, venue)` for each venue at the end; "summary", the venues' counters."""
    lines = []

    async def main():
        rt = Runtime(RunConfig(venues=list(venues), sim=True, seed=seed, faults=list(faults), duration_s=duration_s))
        await rt.start()
        loop = asyncio.get_running_loop()
        t_end = loop.time() + duration_s
        next_s = loop.time() + 1
        while loop.time() < t_end:
            rt.poll()
            if loop.time() >= next_s:
                next_s += 1
                lines.append(rt.second_line())
            await asyncio.sleep(0.001)
        rt.poll()
        final = {v: compare(rt, v) for v in venues}
        summary = rt.venue_stats()
        await rt.stop()
        return final, summary

    final, summary = asyncio.run(main())
    return {"lines": lines, "final": final, "summary": summary}
