"""Native book micro-benchmarks (pytest-benchmark). The side-by-side comparison with a
pure-Python book and NautilusTrader is `nexus bench book --json`."""
import pytest

from nexus import record
from nexus._native import Book
from nexus.bench.book import PyBook, make_stream

BID, ASK = int(record.Side.BID), int(record.Side.ASK)


@pytest.fixture(scope="module")
def stream():
    return make_stream(2000)


@pytest.mark.benchmark(group="book")
def test_native_apply_10_level_deltas(benchmark, stream):
    snap, upd, py_msgs = stream
    ref = PyBook()
    for m in [[(int(s), int(p), int(q)) for s, p, q in zip(snap["side"][1:], snap["price"][1:], snap["qty"][1:])]] + py_msgs:
        for s, p, q in m:
            ref.set(s, p, q)

    def run():
        b = Book(2, 0)
        b.apply(snap)
        b.apply(upd)
        return b

    b = benchmark(run)
    assert b.top(BID, 50) == ref.top(BID, 50) and b.top(ASK, 50) == ref.top(ASK, 50)
    benchmark.extra_info["level_updates"] = len(upd) + len(snap)


@pytest.mark.benchmark(group="book")
def test_native_snapshot_rebuild(benchmark, stream):
    snap, _, _ = stream
    b = Book(2, 0)

    def run():
        b.clear()
        return b.apply(snap)

    assert benchmark(run) == len(snap)
    assert b.depth(BID) == b.depth(ASK) == (len(snap) - 1) // 2
