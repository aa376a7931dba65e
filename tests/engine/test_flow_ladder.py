"""The engine's own ladder (engine/ladder.pxd) against the native book (nexus._native.Book):
the same records give the same levels, level for level, on both sides, at every batch cut."""

import pytest

from flow_streams import random_stream
from nexus._native import Book
from nexus.flow.params import FlowParams
from nexus.flow.runner import FlowRunner


@pytest.mark.parametrize("seed", range(8))
def test_ladder_matches_native_book(seed):
    batch = random_stream(seed, messages=800, spread_levels=40)
    runner = FlowRunner(FlowParams(signals=False))
    book = Book(0, 0)
    step = 37 + seed
    for a in range(0, len(batch), step):
        part = batch[a:a + step]
        runner.run(part)
        book.apply(part)
        for side in (1, 2):
            assert runner.engine.depth(side) == book.depth(side)
            assert runner.engine.top(side, 10_000) == book.top(side, 10_000)


def test_deep_book_grows_past_the_initial_allocation():
    from flow_streams import to_batch
    recs = [dict(kind=1, side=1, price=1_000_000 - k, qty=1 + k % 7, flags=0) for k in range(5000)]
    recs += [dict(kind=1, side=2, price=1_000_001 + k, qty=2, flags=0) for k in range(3000)]
    recs += [dict(kind=1, side=1, price=1_000_000 - 2 * k, qty=0, flags=0) for k in range(1000)]
    recs[-1]["flags"] = 1
    batch = to_batch(recs)
    runner = FlowRunner(FlowParams(signals=False))
    runner.run(batch)
    book = Book(0, 0)
    book.apply(batch)
    assert runner.engine.depth(1) == 4000 and runner.engine.depth(2) == 3000
    assert runner.engine.top(1, 5000) == book.top(1, 5000)
