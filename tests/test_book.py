"""The native L2 book through its Python API, against a plain dict model."""
import zlib

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from nexus import record
from nexus._native import Book

BID, ASK = record.Side.BID, record.Side.ASK


def levels_batch(updates):
    b = record.empty(len(updates))
    for i, (side, price, qty) in enumerate(updates):
        b[i]["kind"] = record.Kind.BOOK_LEVEL
        b[i]["side"], b[i]["price"], b[i]["qty"] = side, price, qty
    return b


def test_apply_top_and_clear():
    book = Book(2, 3)
    n = book.apply(levels_batch([(BID, 100, 5), (BID, 101, 6), (ASK, 103, 7), (ASK, 102, 8)]))
    assert n == 4
    assert book.best_bid() == (101, 6) and book.best_ask() == (102, 8)
    assert book.top(BID, 5) == [(101, 6), (100, 5)]
    bids, asks = np.zeros((3, 2), np.int64), np.zeros((3, 2), np.int64)
    assert book.top_into(bids, asks) == (2, 2)
    assert asks[:2].tolist() == [[102, 8], [103, 7]]
    clear = record.empty(1)
    clear["kind"], clear["side"] = record.Kind.BOOK_CLEAR, ASK
    book.apply(clear)
    assert book.best_ask() is None and book.depth(BID) == 2


def test_apply_respects_n_and_ignores_other_kinds():
    book = Book(0, 0)
    b = levels_batch([(BID, 1, 1), (BID, 2, 1), (BID, 3, 1)])
    b[1]["kind"] = record.Kind.TRADE
    assert book.apply(b, 2) == 1
    assert book.top(BID, 10) == [(1, 1)]


def test_crossed_is_detected():
    book = Book(0, 0)
    book.set(BID, 10, 1)
    book.set(ASK, 11, 1)
    assert not book.crossed()
    book.set(BID, 11, 1)
    assert book.crossed()


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError):
        Book(19, 0)
    with pytest.raises(ValueError, match="side"):
        Book(0, 0).set(3, 1, 1)
    with pytest.raises(TypeError):
        Book(0, 0).apply(np.zeros(4, np.int64))


def test_okx_checksum_matches_zlib_over_the_documented_string():
    book = Book(1, 0)
    for side, p, q in [(BID, 33661, 7), (BID, 33660, 6), (ASK, 33668, 9), (ASK, 33680, 8)]:
        book.set(side, p, q)
    s = "3366.1:7:3366.8:9:3366:6:3368:8"
    assert book.checksum_string_okx() == s
    want = zlib.crc32(s.encode())
    assert book.checksum_okx() == (want - 2**32 if want >= 2**31 else want)


def test_kraken_checksum_is_unsigned_crc_of_asks_then_bids():
    book = Book(1, 8)
    book.set(ASK, 452852, 100_000)
    book.set(BID, 452835, 5)
    s = book.checksum_string_kraken(1, 8)
    assert s == "452852100000" + "4528355"
    assert book.checksum_kraken(1, 8) == zlib.crc32(s.encode())


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([BID, ASK]), st.integers(900, 1100), st.integers(0, 20)), max_size=400))
def test_matches_dict_model(updates):
    book = Book(0, 0)
    book.apply(levels_batch(updates))
    model = {BID: {}, ASK: {}}
    for side, p, q in updates:
        if q:
            model[side][p] = q
        else:
            model[side].pop(p, None)
    assert book.top(BID, 10**6) == sorted(model[BID].items(), reverse=True)
    assert book.top(ASK, 10**6) == sorted(model[ASK].items())
