"""Native Consensus batch entry points (apply / apply_touch): record arrays are read in
place, views and copies alike, and arrays that are not 1-D C-contiguous 64-byte records
are refused every time, also after a good batch of the record dtype was seen."""
import numpy as np
import pytest

from nexus import record
from nexus._native import Consensus

BID, ASK = int(record.Side.BID), int(record.Side.ASK)


def stream(n, seed):
    rng = np.random.default_rng(seed)
    b = record.empty(n)
    b["kind"] = record.Kind.BOOK_LEVEL
    b["side"] = rng.choice([BID, ASK], n)
    off = rng.integers(1, 60, n)
    b["price"] = np.where(b["side"] == BID, 10_000 - off, 10_000 + off)
    qty = rng.integers(1, 1_000, n)
    qty[rng.random(n) < 0.25] = 0
    b["qty"] = qty
    b["kind"][rng.random(n) < 0.01] = record.Kind.BOOK_CLEAR
    return b


def test_views_and_copies_give_the_same_book_and_touch_changes():
    s = stream(6_000, 3)
    by_view, by_copy = Consensus(), Consensus()
    for c in (by_view, by_copy):
        c.set_tick(1)
    i = 0
    rng = np.random.default_rng(4)
    while i < len(s):
        n = int(rng.integers(0, 40))
        v = int(rng.integers(0, 5))
        view = s[i : i + n]
        assert by_view.apply_touch(v, view) == by_copy.apply_touch(v, view.copy())
        assert by_view.touch() == by_copy.touch()
        i += n
    for side in (BID, ASK):
        assert by_view.top(side, 100) == by_copy.top(side, 100)
    assert by_view.levels(BID) > 10 and by_view.levels(ASK) > 10


def test_bad_arrays_are_refused_after_good_ones():
    c = Consensus()
    good = stream(40, 5)
    assert c.apply(0, good) == 40
    for _ in range(2):  # before and after the record dtype was checked once
        with pytest.raises(ValueError, match="C-contiguous"):
            c.apply_touch(0, good[::2])
        with pytest.raises(ValueError, match="1-D"):
            c.apply(0, good.reshape(4, 10))
        with pytest.raises(TypeError, match="64-byte"):
            c.apply_touch(0, np.zeros(8, dtype=np.int64))
        with pytest.raises(TypeError, match="64-byte"):
            c.apply(0, np.zeros(4, dtype=[("a", "i8")]))
        assert c.apply_touch(0, good[:0]) is False
        assert c.apply(1, good[5:9]) == 4
        for not_an_array in ([1, 2], good.tobytes(), None):
            with pytest.raises(TypeError):
                c.apply_touch(0, not_an_array)
            with pytest.raises(TypeError):
                c.apply(0, not_an_array)


def test_ndarray_subclasses_are_read_like_plain_arrays():
    """A plain ndarray takes the short path once its type and dtype were seen; a subclass
    (a recarray view of the same records) is checked in full and gives the same book."""
    s = stream(3_000, 6)
    plain, sub = Consensus(), Consensus()
    for i in range(0, len(s), 30):
        part = s[i : i + 30]
        assert plain.apply_touch(i % 3, part) == sub.apply_touch(i % 3, part.view(np.recarray))
        assert plain.touch() == sub.touch()
    for side in (BID, ASK):
        assert plain.top(side, 80) == sub.top(side, 80)
    with pytest.raises(ValueError, match="C-contiguous"):
        sub.apply(0, s[::2].view(np.recarray))


def test_read_records_reads_the_batch_and_leaves_the_book_alone():
    """read_records (the bench's floor under apply_touch) sums the batch's prices and
    quantities, views and copies alike, refuses what apply refuses, and merges nothing."""
    s = stream(500, 8)
    c = Consensus()
    c.apply(0, s[:100])
    before = (c.touch(), c.top(BID, 50), c.top(ASK, 50))
    for lo, hi in ((0, 0), (0, 1), (3, 40), (100, 500)):
        part = s[lo:hi]
        odd = (int(part["price"].sum()) + int(part["qty"].sum())) % 2 == 1
        assert c.read_records(2, part) is odd
        assert c.read_records(2, part.copy()) is odd
    assert (c.touch(), c.top(BID, 50), c.top(ASK, 50)) == before
    with pytest.raises(ValueError, match="contiguous"):
        c.read_records(0, s[::2])
    with pytest.raises(ValueError):
        c.read_records(8, s[:3])
