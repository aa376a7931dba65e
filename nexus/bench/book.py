"""`nexus bench book`: the native L2 book against a pure-Python sorted-dict book and
NautilusTrader's pyo3/Cython `OrderBook`, on the same deterministic update stream.

Stream: a 1000-level-per-side snapshot, then messages of 10 bid + 10 ask level updates
near the touch (updates, deletes and inserts; the mid random-walks). Every book's final
state is checked against the others before any figure is reported.
"""

from __future__ import annotations

import bisect
import time

import numpy as np

from nexus import record
from nexus._native import Book
from nexus.bench.stats import median

BID, ASK = int(record.Side.BID), int(record.Side.ASK)


def make_stream(messages: int, depth: int = 1000, seed: int = 1):
    """Returns (snapshot records, update records, list of per-message Python tuples)."""
    rng = np.random.default_rng(seed)
    mid = 6_500_000
    # As decoders emit a snapshot: BOOK_CLEAR, then the levels best first, all F_SNAPSHOT.
    snap = record.empty(2 * depth + 1)
    snap["flags"] = record.Flag.SNAPSHOT
    snap["kind"][0] = record.Kind.BOOK_CLEAR
    lv = snap[1:]
    lv["kind"] = record.Kind.BOOK_LEVEL
    lv["side"][:depth] = BID
    lv["price"][:depth] = mid - 1 - np.arange(depth)
    lv["side"][depth:] = ASK
    lv["price"][depth:] = mid + 1 + np.arange(depth)
    lv["qty"] = rng.integers(1, 10_000, 2 * depth)
    upd = record.empty(messages * 20)
    upd["kind"] = record.Kind.BOOK_LEVEL
    sides = np.tile(np.repeat([BID, ASK], 10), messages)
    upd["side"] = sides
    steps = rng.integers(-1, 2, messages).cumsum()
    offs = rng.integers(1, 40, messages * 20)
    mids = np.repeat(mid + steps, 20)
    upd["price"] = np.where(sides == BID, mids - offs, mids + offs)
    qty = rng.integers(1, 10_000, messages * 20)
    qty[rng.random(messages * 20) < 0.2] = 0
    upd["qty"] = qty
    py_msgs = [
        [(int(s), int(p), int(q)) for s, p, q in zip(upd["side"][i : i + 20], upd["price"][i : i + 20], upd["qty"][i : i + 20])]
        for i in range(0, messages * 20, 20)
    ]
    return snap, upd, py_msgs


class PyBook:
    """Plain Python L2 book: dict of levels + sorted price list per side (bisect)."""

    def __init__(self):
        self.qty = {BID: {}, ASK: {}}
        self.prices = {BID: [], ASK: []}

    def set(self, side, price, qty):
        levels, prices = self.qty[side], self.prices[side]
        if qty == 0:
            if levels.pop(price, None) is not None:
                del prices[bisect.bisect_left(prices, price)]
        else:
            if price not in levels:
                bisect.insort(prices, price)
            levels[price] = qty

    def top(self, side, n):
        prices = self.prices[side]
        sel = prices[::-1][:n] if side == BID else prices[:n]
        return [(p, self.qty[side][p]) for p in sel]


def _nautilus():
    try:
        from nautilus_trader.model.book import OrderBook
        from nautilus_trader.model.data import BookOrder
        from nautilus_trader.model.enums import BookType, OrderSide
        from nautilus_trader.model.identifiers import InstrumentId
        from nautilus_trader.model.objects import Price, Quantity
    except Exception as e:  # reported, never silently skipped
        return None, f"nautilus_trader not importable: {e}"
    return (OrderBook, BookOrder, BookType, OrderSide, InstrumentId, Price, Quantity), None


def run(messages: int = 20_000, rounds: int = 5, progress=None) -> dict:
    say = progress or (lambda m: None)
    snap, upd, py_msgs = make_stream(messages)
    n_levels = len(upd)
    res: dict = {"benchmark": "book", "messages": messages, "level_updates": n_levels, "snapshot_levels": len(snap)}

    say("native book: one apply over all updates")
    t_native, t_native_msg, t_snap = [], [], []
    for _ in range(rounds):
        b = Book(2, 0)
        b.apply(snap)
        t0 = time.perf_counter_ns()
        b.apply(upd)
        t_native.append(time.perf_counter_ns() - t0)
    native_top = (b.top(BID, 20), b.top(ASK, 20))
    say("native book: one apply per message (Python API)")
    for _ in range(rounds):
        b = Book(2, 0)
        b.apply(snap)
        views = [upd[i : i + 20] for i in range(0, n_levels, 20)]
        t0 = time.perf_counter_ns()
        for v in views:
            b.apply(v)
        t_native_msg.append(time.perf_counter_ns() - t0)
    assert (b.top(BID, 20), b.top(ASK, 20)) == native_top
    say("native book: snapshot rebuilds")
    b = Book(2, 0)
    for _ in range(rounds * 20):
        t0 = time.perf_counter_ns()
        b.clear()
        b.apply(snap)
        t_snap.append(time.perf_counter_ns() - t0)
    res["native_ns_per_level_update"] = median(t_native) / n_levels
    res["native_ns_per_level_snapshot"] = median(t_snap) / (len(snap) - 1)
    res["native_msgs_per_s"] = messages / (median(t_native_msg) / 1e9)
    res["native_us_per_msg_python_api"] = median(t_native_msg) / messages / 1e3

    say("pure-Python sorted-dict book")
    t_py = []
    for _ in range(max(1, rounds // 2)):
        pb = PyBook()
        for s, p, q in zip(snap["side"][1:].tolist(), snap["price"][1:].tolist(), snap["qty"][1:].tolist()):
            pb.set(s, p, q)
        t0 = time.perf_counter_ns()
        for msg in py_msgs:
            for s, p, q in msg:
                pb.set(s, p, q)
        t_py.append(time.perf_counter_ns() - t0)
    if (pb.top(BID, 20), pb.top(ASK, 20)) != tuple(map(list, native_top)):
        raise AssertionError("pure-Python book disagrees with the native book")
    res["python_msgs_per_s"] = messages / (median(t_py) / 1e9)
    res["python_ns_per_level_update"] = median(t_py) / n_levels
    res["ratio_native_vs_python"] = res["native_msgs_per_s"] / res["python_msgs_per_s"]

    nt, err = _nautilus()
    if nt is None:
        res["nautilus"] = {"available": False, "error": err}
    else:
        say("NautilusTrader OrderBook (L2_MBP) through its Python API")
        res["nautilus"] = _run_nautilus(nt, snap, py_msgs, native_top, rounds)
        res["ratio_native_vs_nautilus"] = res["native_msgs_per_s"] / res["nautilus"]["msgs_per_s"]
        say("NautilusTrader pyo3 OrderBook (nautilus_pyo3, L2_MBP)")
        try:
            res["nautilus_pyo3"] = _run_nautilus_pyo3(snap, py_msgs, native_top, rounds)
            res["ratio_native_vs_nautilus_pyo3"] = res["native_msgs_per_s"] / res["nautilus_pyo3"]["msgs_per_s"]
        except ImportError as e:
            res["nautilus_pyo3"] = {"available": False, "error": str(e)}
    res["targets"] = {
        "native_ns_per_level_update": {"target": 50, "met": res["native_ns_per_level_update"] <= 50},
        "ratio_native_vs_nautilus": {
            "target": 5,
            "met": bool(res.get("ratio_native_vs_nautilus", 0) >= 5),
        },
        "ratio_native_vs_nautilus_pyo3": {
            "target": 5,
            "met": bool(res.get("ratio_native_vs_nautilus_pyo3", 0) >= 5),
        },
    }
    return res


def _run_nautilus(nt, snap, py_msgs, native_top, rounds) -> dict:
    from decimal import Decimal

    OrderBook, BookOrder, BookType, OrderSide, InstrumentId, Price, Quantity = nt
    iid = InstrumentId.from_str("BTCUSDT-PERP.BINANCE")
    side_of = {BID: OrderSide.BUY, ASK: OrderSide.SELL}

    def order(s, p, q):
        return BookOrder(side_of[s], Price(p / 100, 2), Quantity(q, 0), 0)

    # Orders are built outside the timed loop: only the book's update/delete are timed.
    snap_orders = [order(s, p, q) for s, p, q in zip(snap["side"][1:].tolist(), snap["price"][1:].tolist(), snap["qty"][1:].tolist())]
    msg_orders = [[(order(s, p, q if q else 1), q == 0) for s, p, q in m] for m in py_msgs]
    times = []
    for _ in range(max(1, rounds // 2)):
        book = OrderBook(iid, BookType.L2_MBP)
        for o in snap_orders:
            book.add(o, 0)
        t0 = time.perf_counter_ns()
        for m in msg_orders:
            for o, delete in m:
                if delete:
                    book.delete(o, 0)
                else:
                    book.update(o, 0)
        times.append(time.perf_counter_ns() - t0)
    top_bids = [(int(Decimal(str(l.price)) * 100), int(l.size())) for l in book.bids()[:20]]
    top_asks = [(int(Decimal(str(l.price)) * 100), int(l.size())) for l in book.asks()[:20]]
    agree = (top_bids, top_asks) == tuple(map(list, native_top))
    if not agree:
        raise AssertionError("NautilusTrader book disagrees with the native book")
    import nautilus_trader

    return {
        "available": True,
        "version": nautilus_trader.__version__,
        "msgs_per_s": len(py_msgs) / (median(times) / 1e9),
        "ns_per_level_update": median(times) / (len(py_msgs) * 20),
        "agrees_with_native": agree,
        "api": "OrderBook(L2_MBP).update/delete per level, BookOrder objects prebuilt",
    }


def _run_nautilus_pyo3(snap, py_msgs, native_top, rounds) -> dict:
    """NautilusTrader's pyo3 OrderBook (nautilus_trader.core.nautilus_pyo3), same updates."""
    from decimal import Decimal

    from nautilus_trader.core import nautilus_pyo3 as n

    iid = n.InstrumentId.from_str("BTCUSDT-PERP.BINANCE")
    side_of = {BID: n.OrderSide.BUY, ASK: n.OrderSide.SELL}

    def order(s, p, q):
        return n.BookOrder(side_of[s], n.Price(p / 100, 2), n.Quantity(q, 0), 0)

    snap_orders = [order(s, p, q) for s, p, q in zip(snap["side"][1:].tolist(), snap["price"][1:].tolist(), snap["qty"][1:].tolist())]
    msg_orders = [[(order(s, p, q if q else 1), q == 0) for s, p, q in m] for m in py_msgs]
    times = []
    for _ in range(max(1, rounds // 2)):
        book = n.OrderBook(iid, n.BookType.L2_MBP)
        for o in snap_orders:
            book.add(o, 0, 0, 0)
        t0 = time.perf_counter_ns()
        for m in msg_orders:
            for o, delete in m:
                if delete:
                    book.delete(o, 0, 0, 0)
                else:
                    book.update(o, 0, 0, 0)
        times.append(time.perf_counter_ns() - t0)
    top_bids = [(int(Decimal(str(l.price)) * 100), int(float(str(l.size())))) for l in book.bids()[:20]]
    top_asks = [(int(Decimal(str(l.price)) * 100), int(float(str(l.size())))) for l in book.asks()[:20]]
    if (top_bids, top_asks) != tuple(map(list, native_top)):
        raise AssertionError("NautilusTrader pyo3 book disagrees with the native book")
    return {
        "available": True,
        "msgs_per_s": len(py_msgs) / (median(times) / 1e9),
        "ns_per_level_update": median(times) / (len(py_msgs) * 20),
        "agrees_with_native": True,
        "api": "nautilus_pyo3.OrderBook(L2_MBP).update/delete per level, BookOrder objects prebuilt",
    }
