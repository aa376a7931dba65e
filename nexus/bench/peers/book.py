"""`nexus bench peers`, L2 book maintenance: one deterministic update stream that never
crosses (as a venue's book never does: when the mid moves, the levels on the wrong side are
deleted in the same message, so books that uncross on their own, as hftbacktest's does, end
equal to books that do not). Nexus's native `Book` and each peer apply it through the peer's
public API; every final book is compared with the stream's reference book (top `TOP_N` levels
of each side) BEFORE any figure is reported. Objects a peer needs (NautilusTrader's
`BookOrder`, cryptofeed's `Decimal` prices, hftbacktest's event array) are built outside the
timed loop."""

from __future__ import annotations

import random
from decimal import Decimal

import numpy as np

from nexus import record
from nexus.bench.peers.common import ASK, BID, BOOK_TARGET, TOP_N, clock_ns, interleaved, missing, row, version_of

PRICE_EXP = 2    # the stream's prices are integer ticks of 0.01 (decimals)
QTY_EXP = 0


# -- the book stream -----------------------------------------------------------------------------
class BookStream:
    """A snapshot of `depth` levels per side, then `messages` venue messages of about
    `per_side` + `per_side` level changes near the touch (updates, inserts, deletes of
    existing levels; the mid random-walks and a message deletes the levels its new mid
    crosses). `ref` is the book after every message (the expected final book)."""

    def __init__(self, messages: int, depth: int = 1000, per_side: int = 10, seed: int = 1) -> None:
        rnd = random.Random(seed)
        mid = 6_500_000
        book = {BID: {}, ASK: {}}
        self.snapshot: list[tuple[int, int, int]] = []
        for i in range(depth):
            for side, price in ((BID, mid - 1 - i), (ASK, mid + 1 + i)):
                q = rnd.randint(1, 9999)
                book[side][price] = q
                self.snapshot.append((side, price, q))
        self.messages: list[list[tuple[int, int, int]]] = []
        for _ in range(messages):
            mid += rnd.choice((-1, 0, 1))
            msg = []
            # the levels the new mid crosses go first (a venue never sends a crossed book)
            for p in range(mid, mid + 3):
                if p in book[BID]:
                    msg.append((BID, p, 0))
                    del book[BID][p]
            for p in range(mid - 2, mid + 1):
                if p in book[ASK]:
                    msg.append((ASK, p, 0))
                    del book[ASK][p]
            for side, sign in ((BID, -1), (ASK, 1)):
                levels = book[side]
                for _ in range(per_side):
                    price = mid + sign * rnd.randint(1, 40)
                    if rnd.random() < 0.2 and price in levels:
                        msg.append((side, price, 0))
                        del levels[price]
                    else:
                        q = rnd.randint(1, 9999)
                        msg.append((side, price, q))
                        levels[price] = q
            self.messages.append(msg)
        self.ref = book
        self.updates = sum(map(len, self.messages))
        # the same stream as Nexus records: the snapshot as a decoder emits one, then the updates
        snap = record.empty(len(self.snapshot) + 1)
        snap["flags"] = record.Flag.SNAPSHOT
        snap["kind"][0] = record.Kind.BOOK_CLEAR
        snap["kind"][1:] = record.Kind.BOOK_LEVEL
        snap["side"][1:], snap["price"][1:], snap["qty"][1:] = np.array(self.snapshot, dtype=np.int64).T
        upd = record.empty(self.updates)
        upd["kind"] = record.Kind.BOOK_LEVEL
        upd["side"], upd["price"], upd["qty"] = np.array([u for m in self.messages for u in m], dtype=np.int64).T
        self.snap_records, self.update_records = snap, upd
        bounds = np.cumsum([0] + [len(m) for m in self.messages])
        self.bounds = bounds

    def expected_top(self, n: int = TOP_N):
        bids = sorted(self.ref[BID].items(), reverse=True)[:n]
        asks = sorted(self.ref[ASK].items())[:n]
        return bids, asks


# -- Nexus's book ----------------------------------------------------------------------------------
def _nexus_book(st: BookStream) -> dict:
    """Nexus's three ways to apply the stream, each checked against the reference book:
    {mode: (api, pass)}."""
    from nexus._native import Book

    snap, upd = st.snap_records, st.update_records
    views = [upd[a:b] for a, b in zip(st.bounds[:-1], st.bounds[1:])]
    flat = [u for m in st.messages for u in m]
    want = st.expected_top()

    def fresh():
        b = Book(PRICE_EXP, QTY_EXP)
        b.apply(snap)
        return b

    def per_msg():
        b = fresh()
        t0 = clock_ns()
        for v in views:
            b.apply(v)
        return clock_ns() - t0, b

    def bulk():
        b = fresh()
        t0 = clock_ns()
        b.apply(upd)
        return clock_ns() - t0, b

    def per_level():
        b = fresh()
        s = b.set
        t0 = clock_ns()
        for side, p, q in flat:
            s(side, p, q)
        return clock_ns() - t0, b

    modes = {}
    for mode, fn, api in (("apply_per_message", per_msg, "Book.apply(records of one message), per message"),
                          ("apply_bulk", bulk, "Book.apply(all update records) once"),
                          ("set_per_level", per_level, "Book.set(side, price, qty), per level from Python")):
        _, b = fn()
        if (b.top(BID, TOP_N), b.top(ASK, TOP_N)) != want:
            raise AssertionError(f"Nexus's book ({mode}) disagrees with the stream's reference book")
        modes[mode] = (api, fn)
    return modes


# -- the peers' books ----------------------------------------------------------------------------
def _nautilus_cython(st: BookStream):
    from nautilus_trader.model.book import OrderBook
    from nautilus_trader.model.data import BookOrder, OrderBookDelta, OrderBookDeltas
    from nautilus_trader.model.enums import BookAction, BookType, OrderSide
    from nautilus_trader.model.identifiers import InstrumentId
    from nautilus_trader.model.objects import Price, Quantity

    iid = InstrumentId.from_str("BTCUSDT-PERP.BINANCE")
    side_of = {BID: OrderSide.BUY, ASK: OrderSide.SELL}

    def order(s, p, q):
        return BookOrder(side_of[s], Price(p / 100, 2), Quantity(q, 0), 0)

    snap = [order(*u) for u in st.snapshot]
    per_level = [[(order(s, p, q if q else 1), q == 0) for s, p, q in m] for m in st.messages]
    deltas = [OrderBookDeltas(iid, [OrderBookDelta(iid, BookAction.DELETE if q == 0 else BookAction.UPDATE,
                                                   order(s, p, q if q else 1), 0, i, 0, 0)
                                    for s, p, q in m]) for i, m in enumerate(st.messages)]

    def fresh():
        b = OrderBook(iid, BookType.L2_MBP)
        for o in snap:
            b.add(o, 0)
        return b

    def levels():
        b = fresh()
        upd, dele = b.update, b.delete
        t0 = clock_ns()
        for m in per_level:
            for o, d in m:
                if d:
                    dele(o, 0)
                else:
                    upd(o, 0)
        return clock_ns() - t0, b

    def per_msg():
        b = fresh()
        ap = b.apply_deltas
        t0 = clock_ns()
        for d in deltas:
            ap(d)
        return clock_ns() - t0, b

    def top(b):
        return ([(round(float(lv.price) * 100), int(lv.size())) for lv in b.bids()[:TOP_N]],
                [(round(float(lv.price) * 100), int(lv.size())) for lv in b.asks()[:TOP_N]])

    return [("OrderBook.apply_deltas(OrderBookDeltas of one message), objects prebuilt", per_msg, top, "apply_per_message"),
            ("OrderBook.update/delete(BookOrder) per level, objects prebuilt", levels, top, "set_per_level")]


def _nautilus_pyo3(st: BookStream):
    from nautilus_trader.core import nautilus_pyo3 as n

    iid = n.InstrumentId.from_str("BTCUSDT-PERP.BINANCE")
    side_of = {BID: n.OrderSide.BUY, ASK: n.OrderSide.SELL}

    def order(s, p, q):
        return n.BookOrder(side_of[s], n.Price(p / 100, 2), n.Quantity(q, 0), 0)

    snap = [order(*u) for u in st.snapshot]
    per_level = [[(order(s, p, q if q else 1), q == 0) for s, p, q in m] for m in st.messages]

    def fresh():
        b = n.OrderBook(iid, n.BookType.L2_MBP)
        for o in snap:
            b.add(o, 0, 0, 0)
        return b

    def levels():
        b = fresh()
        upd, dele = b.update, b.delete
        t0 = clock_ns()
        for m in per_level:
            for o, d in m:
                if d:
                    dele(o, 0, 0, 0)
                else:
                    upd(o, 0, 0, 0)
        return clock_ns() - t0, b

    def top(b):
        return ([(round(float(str(lv.price)) * 100), int(float(str(lv.size())))) for lv in b.bids()[:TOP_N]],
                [(round(float(str(lv.price)) * 100), int(float(str(lv.size())))) for lv in b.asks()[:TOP_N]])

    return [("nautilus_pyo3.OrderBook.update/delete(BookOrder) per level, objects prebuilt", levels, top, "set_per_level")]


def _cryptofeed(st: BookStream):
    from order_book import OrderBook

    def make(price, size):
        snap = [(s, price(p), size(q)) for s, p, q in st.snapshot]
        msgs = [[(s, price(p), size(q), q == 0) for s, p, q in m] for m in st.messages]

        def fresh():
            b = OrderBook()
            for s, p, q in snap:
                (b.bids if s == BID else b.asks)[p] = q
            return b

        def run():
            b = fresh()
            bids, asks = b.bids, b.asks
            t0 = clock_ns()
            # as cryptofeed's feed handlers apply a delta: delete a zero size if present, else set
            for m in msgs:
                for s, p, q, d in m:
                    side = bids if s == BID else asks
                    if d:
                        if p in side:
                            del side[p]
                    else:
                        side[p] = q
            return clock_ns() - t0, b
        return run

    def top(b):
        return ([(round(p * 100), int(q)) for p, q in b.bids.to_list()[:TOP_N]],
                [(round(p * 100), int(q)) for p, q in b.asks.to_list()[:TOP_N]])

    # cryptofeed's handlers key its book by Decimal price and size (Decimal of the venue's text)
    dec = make(lambda p: Decimal(p).scaleb(-2), Decimal)
    flt = make(lambda p: p / 100, float)
    return [("order_book.OrderBook (C), Decimal prices as cryptofeed's handlers use, per level", dec, top, "set_per_level"),
            ("order_book.OrderBook (C), float prices, per level", flt, top, "set_per_level")]


def _hftbacktest(st: BookStream):
    import hftbacktest as hb
    from hftbacktest.binding import event_dtype

    def events(levels, t0):
        a = np.zeros(len(levels), event_dtype)
        arr = np.array(levels, dtype=np.int64)
        # LOCAL_EVENT only: the local (strategy-side) depth applies them; the exchange model sees none
        a["ev"] = hb.DEPTH_EVENT | hb.LOCAL_EVENT | np.where(arr[:, 0] == BID, hb.BUY_EVENT, hb.SELL_EVENT)
        a["exch_ts"] = a["local_ts"] = t0 + np.arange(len(levels))
        a["px"] = arr[:, 1] / 100
        a["qty"] = arr[:, 2]
        return a

    snap = events(st.snapshot, 1)
    upd = events([u for m in st.messages for u in m], 10 * len(st.snapshot))

    def build(data, initial):
        asset = (hb.BacktestAsset().data([data]).initial_snapshot(initial).linear_asset(1.0)
                 .constant_latency(0, 0).power_prob_queue_model(2.0).no_partial_fill_exchange()
                 .trading_value_fee_model(0.0, 0.0).tick_size(0.01).lot_size(1.0))
        return hb.HashMapMarketDepthBacktest([asset])

    build(upd[:100], snap)._goto_end()   # numba compiles the binding on first use: not timed

    def run():
        bt = build(upd, snap)
        t0 = clock_ns()
        bt._goto_end()
        return clock_ns() - t0, bt

    def top(bt):
        d = bt.depth(0)
        bids, asks = [], []
        t = d.best_bid_tick
        while len(bids) < TOP_N and t > 0:
            q = d.bid_qty_at_tick(t)
            if q > 0:
                bids.append((int(t), int(q)))
            t -= 1
        t = d.best_ask_tick
        while len(asks) < TOP_N and t < 10**9:
            q = d.ask_qty_at_tick(t)
            if q > 0:
                asks.append((int(t), int(q)))
            t += 1
        return bids, asks

    return [("HashMapMarketDepthBacktest over one event array (local depth events), run to the end", run, top, "apply_bulk")]


BOOK_PEERS = (
    ("nautilus_trader (Cython)", _nautilus_cython, "nautilus_trader"),
    ("nautilus_trader (pyo3)", _nautilus_pyo3, "nautilus_trader"),
    ("hftbacktest", _hftbacktest, "hftbacktest"),
    ("cryptofeed", _cryptofeed, "cryptofeed"),
)


def book_peers(messages: int = 20_000, rounds: int = 5, progress=None) -> dict:
    say = progress or (lambda m: None)
    st = BookStream(messages)
    say(f"book stream: {len(st.snapshot)} snapshot levels, {messages} messages, {st.updates} level updates")
    nexus_modes = _nexus_book(st)
    want = st.expected_top()
    slots: list = []     # a row (not timed) or (name, api, mode, version) of a case checked equal
    passes = {f"nexus {m}": (lambda fn=fn: fn()[0]) for m, (_, fn) in nexus_modes.items()}
    for name, setup, dist in BOOK_PEERS:
        say(f"book: {name} (check)")
        try:
            cases = setup(st)
        except ImportError as e:
            slots.append(missing(name, f"{dist} is not installed ({e}); `pip install -e .[bench]` installs it"))
            continue
        except Exception as e:  # reported, never silently dropped
            slots.append(missing(name, f"{type(e).__name__}: {e}"))
            continue
        for api, fn, top, mode in cases:
            try:
                agrees = top(fn()[1]) == want
            except Exception as e:
                slots.append({**missing(name, f"{type(e).__name__}: {e}"), "api": api})
                continue
            if not agrees:
                slots.append({**missing(name, "its final book disagrees with the reference book: not timed"),
                              "api": api, "agrees_with_nexus": False})
                continue
            passes[(name, api)] = lambda fn=fn: fn()[0]
            slots.append((name, api, mode, version_of(dist)))
    say(f"book: timing Nexus and {len(passes) - len(nexus_modes)} peer cases, {rounds} interleaved rounds")
    med = interleaved(passes, rounds)
    nexus = {m: {"api": api, "ns_per_update": round(med[f"nexus {m}"] / st.updates, 1),
                 "msgs_per_s": round(len(st.messages) / (med[f"nexus {m}"] / 1e9), 1), "agrees_with_reference": True}
             for m, (api, _) in nexus_modes.items()}
    rows = []
    for x in slots:
        if isinstance(x, dict):
            rows.append(x)
            continue
        name, api, mode, ver = x
        ns = med[(name, api)] / st.updates
        # The headline compares the same job done each library's own way: a venue message's
        # changes applied to the book (Nexus: one apply of the message's records, as its feed
        # runtime does). Rows driven per level from Python also carry the ratio to Nexus's
        # per-level Book.set, where the Python call itself is most of the cost on both sides.
        headline = "apply_bulk" if mode == "apply_bulk" else "apply_per_message"
        extra = {"version": ver}
        if mode == "set_per_level":
            extra["ratio_vs_nexus_set_per_level"] = round(ns / nexus[mode]["ns_per_update"], 2)
        rows.append(row(name, api, ns, st.updates, messages, True, nexus[headline]["ns_per_update"], headline,
                        BOOK_TARGET, **extra))
    return {"messages": messages, "level_updates": st.updates, "snapshot_levels": len(st.snapshot),
            "top_n_compared": TOP_N, "rounds": rounds, "nexus": nexus, "peers": rows}
