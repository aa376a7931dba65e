"""`nexus bench peers`: Nexus side by side with its peers, in one process run, on the same input.

Two jobs (issue 19, point 1):

* **L2 book maintenance.** One deterministic update stream that never crosses (as a venue's
  book never does: when the mid moves, the levels on the wrong side are deleted in the same
  message, so books that uncross on their own, as hftbacktest's does, end equal to books that
  do not). Nexus's native `Book` and each peer apply it through the peer's public API; every
  final book is compared with the stream's reference book (top `TOP_N` levels of each side)
  BEFORE any figure is reported. Objects a peer needs (NautilusTrader's `BookOrder`,
  cryptofeed's `Decimal` prices, hftbacktest's event array) are built outside the timed loop.
* **Venue message decoding.** The raw frames the simulator sends for a venue
  (nexus.bench.feeds.simulated_stream), fed to Nexus's decoder and to the peers' own
  handlers (cryptofeed's feed classes through `message_handler` with no-op callbacks, ccxt
  pro's `handle_message`); each peer's final book and trades are compared with Nexus's
  before the timed passes.

Every figure is the median of several rounds; each peer row carries the ratio
(peer's time / Nexus's time for the same job) and its target. A peer that cannot be
imported or run is reported with the reason, never dropped.
"""

from __future__ import annotations

import random
import time
from decimal import Decimal

import numpy as np

from nexus import record
from nexus.bench.stats import median

BID, ASK = int(record.Side.BID), int(record.Side.ASK)
TOP_N = 20
BOOK_TARGET = 5.0
DECODE_TARGET = 3.0
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


def _median_ns(fn, rounds: int) -> tuple[float, object]:
    """fn() -> (elapsed ns, state); the median elapsed time and the last state."""
    times, state = [], None
    for _ in range(rounds):
        dt, state = fn()
        times.append(dt)
    return median(times), state


def _row(name: str, api: str, ns_per_update: float, updates: int, messages: int, agrees: bool,
         nexus_ns: float, nexus_mode: str, target: float, **extra) -> dict:
    ratio = ns_per_update / nexus_ns if nexus_ns > 0 else None
    return {"peer": name, "available": True, "api": api, "agrees_with_nexus": agrees,
            "ns_per_update": round(ns_per_update, 1),
            "msgs_per_s": round(messages / (ns_per_update * updates / 1e9), 1),
            "compared_with": nexus_mode, "nexus_ns_per_update": round(nexus_ns, 1),
            "ratio": round(ratio, 2) if ratio else None,
            "target": target, "met": bool(ratio is not None and ratio >= target), **extra}


def _missing(name: str, why: str) -> dict:
    return {"peer": name, "available": False, "error": why}


# -- Nexus's book ----------------------------------------------------------------------------------
def _nexus_book(st: BookStream, rounds: int) -> dict:
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
        t0 = time.perf_counter_ns()
        for v in views:
            b.apply(v)
        return time.perf_counter_ns() - t0, b

    def bulk():
        b = fresh()
        t0 = time.perf_counter_ns()
        b.apply(upd)
        return time.perf_counter_ns() - t0, b

    def per_level():
        b = fresh()
        s = b.set
        t0 = time.perf_counter_ns()
        for side, p, q in flat:
            s(side, p, q)
        return time.perf_counter_ns() - t0, b

    out = {}
    for mode, fn, api in (("apply_per_message", per_msg, "Book.apply(records of one message), per message"),
                          ("apply_bulk", bulk, "Book.apply(all update records) once"),
                          ("set_per_level", per_level, "Book.set(side, price, qty), per level from Python")):
        ns, b = _median_ns(fn, rounds)
        got = (b.top(BID, TOP_N), b.top(ASK, TOP_N))
        if got != want:
            raise AssertionError(f"Nexus's book ({mode}) disagrees with the stream's reference book")
        out[mode] = {"api": api, "ns_per_update": round(ns / st.updates, 1),
                     "msgs_per_s": round(len(st.messages) / (ns / 1e9), 1), "agrees_with_reference": True}
    return out


# -- the peers' books ----------------------------------------------------------------------------
def _nautilus_cython(st: BookStream, rounds: int):
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
        t0 = time.perf_counter_ns()
        for m in per_level:
            for o, d in m:
                if d:
                    dele(o, 0)
                else:
                    upd(o, 0)
        return time.perf_counter_ns() - t0, b

    def per_msg():
        b = fresh()
        ap = b.apply_deltas
        t0 = time.perf_counter_ns()
        for d in deltas:
            ap(d)
        return time.perf_counter_ns() - t0, b

    def top(b):
        return ([(round(float(lv.price) * 100), int(lv.size())) for lv in b.bids()[:TOP_N]],
                [(round(float(lv.price) * 100), int(lv.size())) for lv in b.asks()[:TOP_N]])

    return [("OrderBook.apply_deltas(OrderBookDeltas of one message), objects prebuilt", per_msg, top, "apply_per_message"),
            ("OrderBook.update/delete(BookOrder) per level, objects prebuilt", levels, top, "set_per_level")]


def _nautilus_pyo3(st: BookStream, rounds: int):
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
        t0 = time.perf_counter_ns()
        for m in per_level:
            for o, d in m:
                if d:
                    dele(o, 0, 0, 0)
                else:
                    upd(o, 0, 0, 0)
        return time.perf_counter_ns() - t0, b

    def top(b):
        return ([(round(float(str(lv.price)) * 100), int(float(str(lv.size())))) for lv in b.bids()[:TOP_N]],
                [(round(float(str(lv.price)) * 100), int(float(str(lv.size())))) for lv in b.asks()[:TOP_N]])

    return [("nautilus_pyo3.OrderBook.update/delete(BookOrder) per level, objects prebuilt", levels, top, "set_per_level")]


def _cryptofeed(st: BookStream, rounds: int):
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
            t0 = time.perf_counter_ns()
            # as cryptofeed's feed handlers apply a delta: delete a zero size if present, else set
            for m in msgs:
                for s, p, q, d in m:
                    side = bids if s == BID else asks
                    if d:
                        if p in side:
                            del side[p]
                    else:
                        side[p] = q
            return time.perf_counter_ns() - t0, b
        return run

    def top(b):
        return ([(round(p * 100), int(q)) for p, q in b.bids.to_list()[:TOP_N]],
                [(round(p * 100), int(q)) for p, q in b.asks.to_list()[:TOP_N]])

    # cryptofeed's handlers key its book by Decimal price and size (Decimal of the venue's text)
    dec = make(lambda p: Decimal(p).scaleb(-2), Decimal)
    flt = make(lambda p: p / 100, float)
    return [("order_book.OrderBook (C), Decimal prices as cryptofeed's handlers use, per level", dec, top, "set_per_level"),
            ("order_book.OrderBook (C), float prices, per level", flt, top, "set_per_level")]


def _hftbacktest(st: BookStream, rounds: int):
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
        t0 = time.perf_counter_ns()
        bt._goto_end()
        return time.perf_counter_ns() - t0, bt

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


def _version(dist: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return None


def book_peers(messages: int = 20_000, rounds: int = 5, progress=None) -> dict:
    say = progress or (lambda m: None)
    st = BookStream(messages)
    say(f"book stream: {len(st.snapshot)} snapshot levels, {messages} messages, {st.updates} level updates")
    nexus = _nexus_book(st, rounds)
    want = st.expected_top()
    rows = []
    for name, setup, dist in BOOK_PEERS:
        say(f"book: {name}")
        ver = _version(dist)
        try:
            cases = setup(st, rounds)
        except ImportError as e:
            rows.append(_missing(name, f"{dist} is not installed ({e}); `pip install -e .[bench]` installs it"))
            continue
        except Exception as e:  # reported, never silently dropped
            rows.append(_missing(name, f"{type(e).__name__}: {e}"))
            continue
        for api, fn, top, mode in cases:
            try:
                ns, state = _median_ns(fn, rounds)
                agrees = top(state) == want
            except Exception as e:
                rows.append({**_missing(name, f"{type(e).__name__}: {e}"), "api": api})
                continue
            if not agrees:
                rows.append({**_missing(name, "its final book disagrees with the reference book: not timed"),
                             "api": api, "agrees_with_nexus": False})
                continue
            # The headline compares the same job done each library's own way: a venue message's
            # changes applied to the book (Nexus: one apply of the message's records, as its feed
            # runtime does). Rows driven per level from Python also carry the ratio to Nexus's
            # per-level Book.set, where the Python call itself is most of the cost on both sides.
            headline = "apply_bulk" if mode == "apply_bulk" else "apply_per_message"
            extra = {"version": ver}
            if mode == "set_per_level":
                extra["ratio_vs_nexus_set_per_level"] = round(ns / st.updates / nexus[mode]["ns_per_update"], 2)
            rows.append(_row(name, api, ns / st.updates, st.updates, messages, True,
                             nexus[headline]["ns_per_update"], headline, BOOK_TARGET, **extra))
    return {"messages": messages, "level_updates": st.updates, "snapshot_levels": len(st.snapshot),
            "top_n_compared": TOP_N, "rounds": rounds, "nexus": nexus, "peers": rows}


# -- venue message decoding ----------------------------------------------------------------------
DECODE_SECONDS = 30.0     # simulated seconds of traffic per venue (--quick: 5)
SUBSCRIBE_STEP = 100      # a subscribing client connects 1 s into the simulated market


class _Sim:
    """One venue's simulated market, rendered for one connection: (channel, frame) pairs in
    send order, and the REST routes of the same moment (a depth snapshot for the peers that
    fetch one, the instrument listing)."""

    def __init__(self, venue: str, seconds: float, keep, conn_state: dict | None = None,
                 snapshot_query: tuple[str, dict] | None = None, subscribe: tuple[str, ...] = (),
                 seed: int = 1) -> None:
        from nexus.bench.feeds import _BenchConn, _Capture, bench_symbol
        from nexus.sim.core import SimCore

        self.venue, self.symbol = venue, bench_symbol(venue)
        self.eng = SimCore(seed=seed, venues=[venue], patterns=False, symbol=self.symbol)
        self.feed = self.eng.feeds[venue]
        cap = _Capture()
        self.eng.sink = cap
        conn = _BenchConn(venue)
        conn.state.update(conn_state or {})
        self.frames: list[bytes] = []     # the venue's WebSocket frames, in order
        self.nexus_lines: list[bytes] = []  # the same, with the REST snapshot where it was fetched
        self.snapshot: bytes | None = None
        for step in range(int(seconds * 100)):     # SimCore steps are 10 ms of simulated time
            self.eng.step()
            if subscribe and step < SUBSCRIBE_STEP:   # not connected yet: nothing received
                cap.events.pop(venue, None)
                continue
            if subscribe and step == SUBSCRIBE_STEP:  # the client's subscriptions: acks and snapshots
                self.feed.on_open(conn)
                for text in subscribe:
                    self.feed.on_text(conn, text)
                for p in conn.sent:
                    self.frames.append(p)
                    self.nexus_lines.append(p)
                conn.sent.clear()
            for channel, payload in cap.events.pop(venue, []):
                if not keep(channel):
                    continue
                if isinstance(payload, tuple):
                    try:
                        payload = self.feed.render(conn, channel, payload)
                    except Exception:  # a template this connection would not be sent
                        continue
                else:
                    payload = self.feed.render(conn, channel, payload)
                for p in [*conn.sent, payload]:
                    if p is None:
                        continue
                    b = p.encode() if isinstance(p, str) else bytes(p)
                    self.frames.append(b)
                    self.nexus_lines.append(b)
                conn.sent.clear()
            if step == 20 and snapshot_query is not None:   # fetched 200 ms in, as a client does
                self.snapshot = self.rest("GET", *snapshot_query)
                self.nexus_lines.append(self.snapshot)

    def rest(self, method: str, path: str, query: dict | None = None, body=None) -> bytes:
        import json

        routes = self.feed.rest_routes()
        status, payload = routes[(method, path)](query or {}, body)
        if status != 200:
            raise RuntimeError(f"{self.venue} sim {path}: HTTP {status}: {payload}")
        if isinstance(payload, (bytes, bytearray)):
            return bytes(payload)
        return (payload if isinstance(payload, str) else json.dumps(payload)).encode()


def _nexus_decode(venue: str, sim: _Sim, rounds: int) -> dict:
    """Nexus on the frames: decode only (records into a reused batch), and decode + the
    venue's sync rules + the native book (the job a peer's feed handler does). Returns the
    timings and the final book/trades for the check."""
    from nexus.exceptions import BatchFull, DecodeError
    from nexus.feeds.lines import infer_instruments
    from nexus.venues.base import DEFAULT_BATCH_RECORDS
    from nexus.venues.registry import canonical_symbol, load

    from nexus.bench.feeds import spec

    mod = load(venue)
    rest_symbol = canonical_symbol(venue, spec(venue).symbol_of(sim.symbol))
    lines = sim.nexus_lines

    def fresh():
        dec = mod.Decoder()
        dec.rest_symbol = rest_symbol
        infer_instruments(mod, dec, rest_symbol, lines)
        return dec

    def one_pass(with_book: bool):
        dec = fresh()
        sync = mod.Sync(dec) if with_book else None
        feed = sync.feed if with_book else None
        batch = record.empty(DEFAULT_BATCH_RECORDS)
        decode = dec.decode
        trades, rejected = [], 0
        t0 = time.perf_counter_ns()
        for raw in lines:
            while True:
                try:
                    segs = decode(raw, batch)
                except BatchFull as e:
                    batch = record.empty(max(e.needed, 2 * len(batch)))
                    continue
                except DecodeError:
                    rejected += 1
                    segs = ()
                break
            if feed is not None and segs:
                feed(segs, batch)
        dt = time.perf_counter_ns() - t0
        return dt, (dec, sync, rejected)

    dec_ns, (_, _, rejected) = _median_ns(lambda: one_pass(False), rounds)
    book_ns, (dec, sync, _) = _median_ns(lambda: one_pass(True), rounds)
    # the check pass (not timed): final book and every trade, as decimals
    trades = []
    batch = record.empty(DEFAULT_BATCH_RECORDS)
    d2 = fresh()
    for raw in lines:
        try:
            segs = d2.decode(raw, batch)
        except (BatchFull, DecodeError):
            continue
        for seg in segs or ():
            if seg.inst is None:
                continue
            recs = batch[seg.start:seg.stop]
            for r in recs[recs["kind"] == record.Kind.TRADE]:
                trades.append((Decimal(int(r["price"])).scaleb(-seg.inst.price_exponent),
                               Decimal(int(r["qty"])).scaleb(-seg.inst.qty_exponent)))
    res = sync.result(rest_symbol, 0) if rest_symbol in sync.books else {"bids": [], "asks": []}
    book = ([(Decimal(p), Decimal(q)) for p, q in res["bids"]], [(Decimal(p), Decimal(q)) for p, q in res["asks"]])
    n = len(lines)
    return {"frames": n, "rejected": rejected,
            "decode_ns_per_msg": round(dec_ns / n, 1), "decode_msgs_per_s": round(n / (dec_ns / 1e9), 1),
            "decode_book_ns_per_msg": round(book_ns / n, 1), "decode_book_msgs_per_s": round(n / (book_ns / 1e9), 1),
            "_book": book, "_trades": trades}


def _norm(levels: list, n: int = TOP_N) -> list:
    return [(str(Decimal(p).normalize()), str(Decimal(q).normalize())) for p, q in levels[:n]]


def _same(a: list, b: list, n: int = 10**9) -> bool:
    """Decode check: every level of the final book (the book job: top TOP_N)."""
    return _norm(a, n) == _norm(b, n)


def _trades_match(peer: list, nexus: list) -> tuple[bool, int]:
    """The peer's trades (price, size) against Nexus's, as sets of distinct trades: a peer may
    order a message's trades its own way, and may skip the recent trades a venue replays in
    its subscription snapshot (Coinbase market_trades), which Nexus reads as trades. Match: every
    peer trade is one Nexus read. Returns (match, distinct trades only Nexus read)."""
    p, n = set(_norm(peer, 10**9)), set(_norm(nexus, 10**9))
    return p <= n, len(n - p)


def _first_difference(got: tuple, want: tuple) -> str:
    for side, a, b in (("bids", got[0], want[0]), ("asks", got[1], want[1])):
        na, nb = _norm(a, 10**9), _norm(b, 10**9)
        for i in range(max(len(na), len(nb))):
            x = na[i] if i < len(na) else None
            y = nb[i] if i < len(nb) else None
            if x != y:
                return f"{side}[{i}]: peer {x}, nexus {y}"
    return ""


# -- cryptofeed's feed handlers ------------------------------------------------------------------
class _FakeHTTP:
    """Stands in for a cryptofeed feed's `http_conn` (its REST snapshot client): answers the
    feed's own snapshot request from the simulator's REST route of the same moment."""

    def __init__(self, sim: _Sim) -> None:
        self.sim = sim

    async def read(self, address: str, **kw):
        from urllib.parse import parse_qsl, urlsplit

        u = urlsplit(address)
        return self.sim.rest("GET", u.path, dict(parse_qsl(u.query))).decode()

    async def close(self) -> None:
        pass


class _CfCase:
    """How cryptofeed reads one venue: its feed class and symbol, the channels it subscribes
    to (the simulator's channel names kept in the frames), the connection it opens (Binance:
    the combined-stream endpoint; Bybit: the linear endpoint) and the subscriptions it sends
    (written here in the venue's documented form, the same requests cryptofeed's subscribe() sends)."""

    def __init__(self, cls: str, symbol: str, channels: tuple[str, ...], kw: dict | None = None,
                 conn_state: dict | None = None, snapshot: tuple[str, dict] | None = None,
                 subscribe: tuple[str, ...] = (), address: str = "", known: str = "") -> None:
        self.known = known    # a known reason the peer's output differs, said when it does
        self.cls_name, self.symbol, self.channels = cls, symbol, channels
        self.kw, self.conn_state, self.snapshot = kw or {}, conn_state or {}, snapshot
        self.subscribe, self.address = subscribe, address

    @property
    def cls(self):
        import cryptofeed.exchanges as x

        return getattr(x, self.cls_name)

    def keep(self, channel: str) -> bool:
        return channel in self.channels


CRYPTOFEED_CASES = {
    "binance-spot": _CfCase("Binance", "BTC-USDT", ("btcusdt@depth@100ms", "btcusdt@aggTrade"),
                            conn_state={"combined": True},
                            snapshot=("/api/v3/depth", {"symbol": "BTCUSDT", "limit": "1000"})),
    "binance-perp": _CfCase("BinanceFutures", "BTC-USDT-PERP", ("btcusdt@depth@100ms", "btcusdt@aggTrade"),
                            conn_state={"combined": True},
                            snapshot=("/fapi/v1/depth", {"symbol": "BTCUSDT", "limit": "1000"})),
    "bybit-perp": _CfCase("Bybit", "BTC-USDT-PERP", ("orderbook.200.BTCUSDT", "publicTrade.BTCUSDT"),
                          subscribe=('{"op":"subscribe","args":["orderbook.200.BTCUSDT","publicTrade.BTCUSDT"]}',),
                          address="wss://stream.bybit.com/v5/public/linear"),
    "okx-swap": _CfCase("OKX", "BTC-USDT-PERP", ("books:BTC-USDT-SWAP", "trades:BTC-USDT-SWAP"),
                        subscribe=('{"op":"subscribe","args":[{"channel":"books","instId":"BTC-USDT-SWAP"},'
                                   '{"channel":"trades","instId":"BTC-USDT-SWAP"}]}',)),
    "coinbase": _CfCase("Coinbase", "BTC-USD", ("level2:BTC-USD", "market_trades:BTC-USD"),
                        # cryptofeed 2.4.1 signs Coinbase subscriptions with a legacy key from its
                        # config (public channels ignore it): a made-up one is given
                        kw={"config": {"coinbase": {"key_id": "public", "key_secret": "public"}}},
                        subscribe=('{"type":"subscribe","product_ids":["BTC-USD"],"channel":"level2"}',
                                   '{"type":"subscribe","product_ids":["BTC-USD"],"channel":"market_trades"}'),
                        known="cryptofeed 2.4.1's level2 snapshot parser keeps the levels whose side is 'ask', "
                              "but Coinbase Advanced Trade sends 'bid' and 'offer' (https://docs.cdp.coinbase.com/"
                              "api-reference/advanced-trade-api/websocket/level2): the snapshot's asks are dropped and "
                              "its ask side holds only the levels updated since"),
}


# The frames every library reads, per venue: cryptofeed's subscription where it has a feed for
# the venue, else the subscription the venue documents for its book and trades.
FRAME_CASES = {
    **CRYPTOFEED_CASES,
    "hyperliquid": _CfCase("", "", ("l2Book:BTC", "trades:BTC"),
                           subscribe=('{"method":"subscribe","subscription":{"type":"l2Book","coin":"BTC"}}',
                                      '{"method":"subscribe","subscription":{"type":"trades","coin":"BTC"}}')),
}

CRYPTOFEED_NOT_COVERED = {
    "kraken": "cryptofeed 2.4.1 speaks Kraken's WebSocket v1 and Nexus decodes v2: the two never read the same frames",
    "hyperliquid": "cryptofeed 2.4.1 has no Hyperliquid feed",
}


def _cryptofeed_load_symbols(cls, sim: _Sim) -> None:
    """cryptofeed's own symbol parser over the simulator's instrument listing (what its
    symbol_mapping() would fetch over HTTP)."""
    from urllib.parse import parse_qsl, urlsplit

    from cryptofeed.symbols import Symbols

    if Symbols.populated(cls.id):
        return
    data = []
    for ep in cls.rest_endpoints:
        addrs = cls._symbol_endpoint_prepare(ep)
        for a in addrs if isinstance(addrs, list) else [addrs]:
            u = urlsplit(a)
            import json
            data.append(json.loads(sim.rest("GET", u.path, dict(parse_qsl(u.query)))))
    syms, info = cls._parse_symbol_data(data if len(data) > 1 else data[0])
    Symbols.set(cls.id, syms, info)


def _cryptofeed_decode(venue: str, sim: _Sim, nexus: dict, rounds: int) -> dict:
    import asyncio

    from cryptofeed.defines import L2_BOOK, TRADES

    case = CRYPTOFEED_CASES[venue]
    cls, symbol, kw = case.cls, case.symbol, case.kw
    _cryptofeed_load_symbols(cls, sim)
    frames = [f.decode() for f in sim.frames]
    seen = {"trades": []}

    async def noop(*a):
        pass

    async def count_trade(t, ts):
        seen["trades"].append((t.price, t.amount))

    def make(check: bool):
        f = cls(symbols=[symbol], channels=[L2_BOOK, TRADES],
                callbacks={L2_BOOK: noop, TRADES: count_trade if check else noop}, **kw)
        f.http_conn = _FakeHTTP(sim)
        # the per-connection state cryptofeed resets when it connects
        for name in ("_reset", f"_{cls.__name__}__reset"):
            fn = getattr(f, name, None)
            if fn is not None:
                try:
                    fn()
                except TypeError:
                    fn(Conn())
                break
        return f

    class Conn:
        uuid = f"bench-{venue}"
        address = case.address
        subscription: dict = {}

    loop = asyncio.new_event_loop()
    try:
        async def run(f):
            mh, conn = f.message_handler, Conn()
            t0 = time.perf_counter_ns()
            for m in frames:
                await mh(m, conn, 0.0)
            return time.perf_counter_ns() - t0

        # the check pass first: cryptofeed's final book and trades against Nexus's
        f = make(True)
        loop.run_until_complete(run(f))
        books = getattr(f, "_l2_book", {})
        book = books.get(symbol)
        if book is None:
            return _missing("cryptofeed", f"cryptofeed kept no book for {symbol} from the frames")
        got = (book.book.bids.to_list(), book.book.asks.to_list())
        want_b, want_a = nexus["_book"]
        agrees = _same(got[0], want_b) and _same(got[1], want_a)
        trades_agree, nexus_only = _trades_match(seen["trades"], nexus["_trades"])
        if not (agrees and trades_agree):
            return {**_missing("cryptofeed", "its book or trades disagree with Nexus's: not timed"),
                    "book_agrees": agrees, "trades_agree": trades_agree,
                    "first_difference": _first_difference(got, nexus["_book"]),
                    # the known cause is said only when the difference is the one it explains
                    **({"known_cause": case.known} if case.known and trades_agree and
                       _same(got[0], want_b) and not _same(got[1], want_a) else {}),
                    "trades": len(seen["trades"]), "nexus_trades": len(nexus["_trades"])}
        times = []
        for _ in range(rounds):
            times.append(loop.run_until_complete(run(make(False))))
    finally:
        loop.close()
    ns = median(times) / len(frames)
    base = nexus["decode_book_ns_per_msg"]
    ratio = ns / base
    return {"peer": "cryptofeed", "available": True, "version": _version("cryptofeed"),
            "api": f"cryptofeed.exchanges.{cls.__name__}.message_handler(frame) with no-op callbacks "
                   "(its own parsing, book and sequence/snapshot handling)",
            "agrees_with_nexus": True, "trades_checked": len(seen["trades"]), "nexus_only_trades": nexus_only,
            "frames": len(frames),
            "ns_per_msg": round(ns, 1), "msgs_per_s": round(1e9 / ns, 1),
            "compared_with": "nexus decode + sync + book", "nexus_ns_per_msg": base,
            "ratio": round(ratio, 2), "ratio_vs_nexus_decode_only": round(ns / nexus["decode_ns_per_msg"], 2),
            "target": DECODE_TARGET, "met": ratio >= DECODE_TARGET}


# -- ccxt pro's WebSocket handlers -----------------------------------------------------------------
class _CcxtCase:
    """How ccxt pro reads one venue: its exchange class and unified symbol, the WebSocket URL
    its client would open (ccxt picks the market type from it), the subscriptions its watch_*
    calls would have registered on that client (message hashes), and for Binance the order
    book watch_order_book creates before its REST snapshot task runs."""

    def __init__(self, cls: str, symbol: str, url, hashes: tuple[str, ...], options: dict | None = None,
                 binance_snapshot: str = "") -> None:
        self.cls_name, self.symbol, self.url, self.hashes = cls, symbol, url, hashes
        self.options, self.binance_snapshot = options or {}, binance_snapshot


CCXT_CASES = {
    "binance-spot": _CcxtCase("binance", "BTC/USDT", lambda ex: ex.urls["api"]["ws"]["spot"],
                              ("orderbook::BTC/USDT", "trade::BTC/USDT"), binance_snapshot="spot",
                              options={"fetchMarkets": {"types": ["spot"]}}),
    "binance-perp": _CcxtCase("binanceusdm", "BTC/USDT:USDT", lambda ex: ex.urls["api"]["ws"]["linear"],
                              ("orderbook::BTC/USDT:USDT", "trade::BTC/USDT:USDT"), binance_snapshot="linear",
                              options={"fetchMarkets": {"types": ["linear"]}}),
    "bybit-perp": _CcxtCase("bybit", "BTC/USDT:USDT", lambda ex: ex.urls["api"]["ws"]["public"]["contract"]
                            if isinstance(ex.urls["api"]["ws"]["public"].get("contract"), str)
                            else "wss://stream.bybit.com/v5/public/linear",
                            ("orderbook:BTC/USDT:USDT", "trades:BTC/USDT:USDT")),
    "okx-swap": _CcxtCase("okx", "BTC/USDT:USDT", lambda ex: ex.urls["api"]["ws"]["public"]
                          if isinstance(ex.urls["api"]["ws"], dict) else ex.urls["api"]["ws"],
                          ("books:BTC/USDT:USDT", "trades:BTC/USDT:USDT")),
    "coinbase": _CcxtCase("coinbase", "BTC/USD", lambda ex: ex.urls["api"]["ws"],
                          ("level2::BTC/USD", "market_trades::BTC/USD")),
    "hyperliquid": _CcxtCase("hyperliquid", "BTC/USDC:USDC", lambda ex: ex.urls["api"]["ws"]["public"],
                             ("orderbook:BTC/USDC:USDC", "trade:BTC/USDC:USDC")),
}

CCXT_NOT_COVERED = {
    "kraken": "ccxt pro speaks Kraken's WebSocket v1 (wss://ws.kraken.com) and Nexus decodes v2: "
              "the two never read the same frames",
}


def _ccxt_decode(venue: str, sim: _Sim, nexus: dict, rounds: int) -> dict:
    import asyncio
    import json
    from urllib.parse import parse_qsl, urlsplit

    import ccxt
    import ccxt.pro as cp

    case = CCXT_CASES[venue]
    frames = [f.decode() for f in sim.frames]
    snap_at = None
    if case.binance_snapshot:
        # where the client's snapshot request returns: after the frames received before it
        snap_at = sim.nexus_lines.index(sim.snapshot)

    async def fetch(url, method="GET", headers=None, body=None):
        # ccxt's HTTP transport, answered by the simulator's REST routes (markets, snapshot)
        u = urlsplit(url)
        if isinstance(body, (str, bytes)) and body:
            body = json.loads(body)     # a POST body (Hyperliquid's /info), as the server parses it
        return json.loads(sim.rest(method, u.path, dict(parse_qsl(u.query)), body))

    async def make():
        # no rate limiter: its sleeps before the REST snapshot would be timed as ccxt's cost
        ex = getattr(cp, case.cls_name)({"enableRateLimit": False, "options": {"tradesLimit": 10**7, **case.options}})
        ex.fetch = fetch
        await ex.load_markets()
        client = ex.client(case.url(ex))
        for h in case.hashes:
            client.subscriptions[h] = True
        if case.binance_snapshot:
            ex.orderbooks[case.symbol] = ex.order_book({}, 1000)   # as watch_order_book does
        return ex, client

    async def run(ex, client):
        handle = client.handle_text_or_binary_message
        sub = {"symbol": case.symbol, "type": case.binance_snapshot, "limit": 1000, "params": {}}
        t0 = time.perf_counter_ns()
        if snap_at is None:
            for m in frames:
                handle(m)
        else:
            for m in frames[:snap_at]:
                handle(m)
            await ex.fetch_order_book_snapshot(client, None, sub)
            for m in frames[snap_at:]:
                handle(m)
        return time.perf_counter_ns() - t0

    async def main():
        ex, client = await make()
        try:
            await run(ex, client)
            ob = ex.orderbooks.get(case.symbol)
            if ob is None:
                return _missing("ccxt", f"ccxt kept no order book for {case.symbol}"), None
            f = lambda v: Decimal(repr(v))  # noqa: E731  ccxt's floats, parsed from the venue's text
            got = ([(f(p), f(q)) for p, q, *_ in ob["bids"]], [(f(p), f(q)) for p, q, *_ in ob["asks"]])
            trades = [(f(t["price"]), f(t["amount"])) for t in ex.trades.get(case.symbol, [])]
        finally:
            await ex.close()
        agrees = _same(got[0], nexus["_book"][0]) and _same(got[1], nexus["_book"][1])
        trades_agree, nexus_only = _trades_match(trades, nexus["_trades"])
        if not (agrees and trades_agree):
            return {**_missing("ccxt", "its book or trades disagree with Nexus's: not timed"),
                    "book_agrees": agrees, "trades_agree": trades_agree,
                    "first_difference": _first_difference(got, nexus["_book"]),
                    "trades": len(trades), "nexus_trades": len(nexus["_trades"])}, None
        times = []
        for _ in range(rounds):
            ex, client = await make()
            try:
                times.append(await run(ex, client))
            finally:
                await ex.close()
        return None, (times, len(trades), nexus_only)

    loop = asyncio.new_event_loop()
    try:
        bad, ok = loop.run_until_complete(main())
    finally:
        loop.close()
    if bad is not None:
        return bad
    times, ntrades, nexus_only = ok
    ns = median(times) / len(frames)
    base = nexus["decode_book_ns_per_msg"]
    ratio = ns / base
    return {"peer": "ccxt", "available": True, "version": ccxt.__version__,
            "api": f"ccxt.pro.{case.cls_name}: its Client.handle_text_or_binary_message(frame) -> handle_message "
                   "(its JSON parser, order book and trade handlers; subscriptions registered as watch_* would"
                   + (", REST snapshot through its own fetch_order_book_snapshot" if case.binance_snapshot else "") + ")",
            "agrees_with_nexus": True, "trades_checked": ntrades, "nexus_only_trades": nexus_only,
            "frames": len(frames),
            "ns_per_msg": round(ns, 1), "msgs_per_s": round(1e9 / ns, 1),
            "compared_with": "nexus decode + sync + book", "nexus_ns_per_msg": base,
            "ratio": round(ratio, 2), "ratio_vs_nexus_decode_only": round(ns / nexus["decode_ns_per_msg"], 2),
            "target": DECODE_TARGET, "met": ratio >= DECODE_TARGET}


# -- one run ---------------------------------------------------------------------------------------
DECODE_VENUES = ("binance-spot", "binance-perp", "bybit-perp", "okx-swap", "coinbase", "kraken", "hyperliquid")


def _decode_venue(venue: str, seconds: float, rounds: int, say) -> dict:
    """Nexus and every peer on one venue's frames (the frames cryptofeed's subscription
    receives; ccxt reads the same ones)."""
    out: dict = {"peers": []}
    case = FRAME_CASES.get(venue)
    if case is None:
        for peer, why in (("cryptofeed", CRYPTOFEED_NOT_COVERED.get(venue)), ("ccxt", CCXT_NOT_COVERED.get(venue))):
            out["peers"].append(_missing(peer, why or "no case written for this venue"))
        out["peers"].append(_missing("nautilus_trader", NAUTILUS_NOTES.get(venue, NAUTILUS_DECODE_NOTE)))
        return out
    sim = _Sim(venue, seconds, case.keep, case.conn_state, case.snapshot, case.subscribe)
    say(f"decode {venue}: {len(sim.frames)} frames; Nexus")
    nx = _nexus_decode(venue, sim, rounds)
    out["nexus"] = {k: v for k, v in nx.items() if not k.startswith("_")}
    out["nexus"]["trades"] = len(nx["_trades"])
    out["nexus"]["book_levels"] = [len(nx["_book"][0]), len(nx["_book"][1])]
    out["channels"] = list(case.channels)
    for peer, fn, dist in (("cryptofeed", _cryptofeed_decode, "cryptofeed"), ("ccxt", _ccxt_decode, "ccxt"),
                           ("nautilus_trader", _nautilus_decode, "nautilus_trader")):
        say(f"decode {venue}: {peer}")
        if _version(dist) is None:
            out["peers"].append(_missing(peer, f"{dist} is not installed; `pip install -e .[bench]` installs it"))
            continue
        if peer == "ccxt" and venue not in CCXT_CASES:
            out["peers"].append(_missing(peer, CCXT_NOT_COVERED.get(venue, "no case written for this venue")))
            continue
        if peer == "cryptofeed" and venue not in CRYPTOFEED_CASES:
            out["peers"].append(_missing(peer, CRYPTOFEED_NOT_COVERED.get(venue, "no case written for this venue")))
            continue
        try:
            out["peers"].append(fn(venue, sim, nx, rounds))
        except Exception as e:  # reported, never silently dropped
            out["peers"].append(_missing(peer, f"{type(e).__name__}: {e}"))
    return out


NAUTILUS_DECODE_NOTE = (
    "not measured: NautilusTrader 1.221's adapter for this venue parses in Rust inside its pyo3 WebSocket "
    "client (nautilus_pyo3.OKXWebSocketClient / HyperliquidWebSocketClient hand Python parsed objects); "
    "nautilus_pyo3 exposes no parser that takes a raw frame offline")
NAUTILUS_VENUES = ("binance-spot", "binance-perp", "bybit-perp")   # its Python schemas parse these offline
NAUTILUS_NOTES = {
    "coinbase": "not measured: NautilusTrader 1.221 has no Coinbase (Advanced Trade) adapter, only Coinbase INTX",
    "kraken": "not measured: NautilusTrader 1.221 has no Kraken adapter",
}


def _decimals(step: str) -> int:
    return len(step.split(".", 1)[1].rstrip("0")) if "." in step and step.split(".", 1)[1].rstrip("0") else 0


def _nautilus_decode(venue: str, sim: _Sim, nexus: dict, rounds: int) -> dict:
    """NautilusTrader's own venue schemas and parsers (msgspec decoders and parse_to_* of
    nautilus_trader.adapters.<venue>.schemas), dispatched as its data client's WebSocket
    handler does, the deltas applied to its OrderBook(L2_MBP) as its data engine does.
    The data client itself needs a live message bus, cache, clock and HTTP client: its
    handler's few lines of dispatch are repeated here, nothing else."""
    import msgspec
    from nautilus_trader.model.book import OrderBook
    from nautilus_trader.model.enums import BookType
    from nautilus_trader.model.identifiers import InstrumentId

    frames = sim.frames
    now = time.time_ns    # the client stamps ts_init from its clock per message
    if venue.startswith("binance"):
        from nautilus_trader.adapters.binance.common.schemas.market import (
            BinanceAggregatedTradeMsg,
            BinanceDataMsgWrapper,
            BinanceDepth,
            BinanceOrderBookMsg,
        )

        iid = InstrumentId.from_str("BTCUSDT.BINANCE" if venue == "binance-spot" else "BTCUSDT-PERP.BINANCE")
        wrap, dbook = msgspec.json.Decoder(BinanceDataMsgWrapper), msgspec.json.Decoder(BinanceOrderBookMsg)
        dtrade, ddepth = msgspec.json.Decoder(BinanceAggregatedTradeMsg), msgspec.json.Decoder(BinanceDepth)
        snap_at = sim.nexus_lines.index(sim.snapshot)
        api = ("nautilus_trader.adapters.binance schemas: BinanceDataMsgWrapper -> BinanceOrderBookMsg."
               "data.parse_to_order_book_deltas / BinanceAggregatedTradeMsg.data.parse_to_trade_tick; REST "
               "BinanceDepth.parse_to_order_book_snapshot, buffered deltas replayed after it as its data client "
               "does; OrderBook.apply_deltas")

        def one(book, trades):
            buffer: list | None = []
            for i, raw in enumerate(frames):
                if i == snap_at:
                    snap = ddepth.decode(sim.snapshot).parse_to_order_book_snapshot(iid, now())
                    book.apply_deltas(snap)
                    for d in buffer:
                        if d.sequence > snap.sequence:
                            book.apply_deltas(d)
                    buffer = None
                stream = wrap.decode(raw).stream
                if not stream:
                    continue
                if "@depth" in stream:
                    d = dbook.decode(raw).data.parse_to_order_book_deltas(iid, now())
                    if buffer is not None:
                        buffer.append(d)
                    else:
                        book.apply_deltas(d)
                elif "@aggTrade" in stream:
                    trades.append(dtrade.decode(raw).data.parse_to_trade_tick(iid, now()))
    elif venue == "bybit-perp":
        from nautilus_trader.adapters.bybit.schemas.ws import (
            BybitWsMessageGeneral,
            decoder_ws_orderbook,
            decoder_ws_trade,
        )
        from nautilus_trader.core.datetime import millis_to_nanos

        import json as _json

        info = _json.loads(sim.rest("GET", "/v5/market/instruments-info", {"category": "linear", "symbol": "BTCUSDT"}))
        item = info["result"]["list"][0]
        pp, sp = _decimals(item["priceFilter"]["tickSize"]), _decimals(item["lotSizeFilter"]["qtyStep"])
        iid = InstrumentId.from_str("BTCUSDT-LINEAR.BYBIT")
        gen, dbook, dtrade = msgspec.json.Decoder(BybitWsMessageGeneral), decoder_ws_orderbook(), decoder_ws_trade()
        api = ("nautilus_trader.adapters.bybit.schemas.ws: BybitWsMessageGeneral -> BybitWsOrderbookDepthMsg."
               "data.parse_to_deltas / BybitWsTradeMsg data.parse_to_trade_tick (the instrument's precisions), "
               "dispatched as BybitDataClient._handle_ws_message does; OrderBook.apply_deltas")

        def one(book, trades):
            for raw in frames:
                m = gen.decode(raw)
                if m.success is False or not m.topic:
                    continue
                if "orderbook" in m.topic:
                    msg = dbook.decode(raw)
                    book.apply_deltas(msg.data.parse_to_deltas(iid, pp, sp, millis_to_nanos(msg.ts), now(),
                                                               snapshot=msg.type == "snapshot"))
                elif "publicTrade" in m.topic:
                    for t in dtrade.decode(raw).data:
                        trades.append(t.parse_to_trade_tick(iid, pp, sp, now()))
    else:
        return _missing("nautilus_trader", NAUTILUS_NOTES.get(venue, NAUTILUS_DECODE_NOTE))

    def run():
        book, trades = OrderBook(iid, BookType.L2_MBP), []
        t0 = time.perf_counter_ns()
        one(book, trades)
        return time.perf_counter_ns() - t0, (book, trades)

    _, (book, trades) = run()
    got = ([(Decimal(str(lv.price)), Decimal(str(lv.size()))) for lv in book.bids()],
           [(Decimal(str(lv.price)), Decimal(str(lv.size()))) for lv in book.asks()])
    tr = [(Decimal(str(t.price)), Decimal(str(t.size))) for t in trades]
    agrees = _same(got[0], nexus["_book"][0]) and _same(got[1], nexus["_book"][1])
    trades_agree, nexus_only = _trades_match(tr, nexus["_trades"])
    if not (agrees and trades_agree):
        return {**_missing("nautilus_trader", "its book or trades disagree with Nexus's: not timed"),
                "book_agrees": agrees, "trades_agree": trades_agree,
                "first_difference": _first_difference(got, nexus["_book"]),
                "trades": len(tr), "nexus_trades": len(nexus["_trades"])}
    ns = _median_ns(run, rounds)[0] / len(frames)
    base = nexus["decode_book_ns_per_msg"]
    ratio = ns / base
    return {"peer": "nautilus_trader", "available": True, "version": _version("nautilus_trader"), "api": api,
            "agrees_with_nexus": True, "trades_checked": len(tr), "nexus_only_trades": nexus_only,
            "frames": len(frames), "ns_per_msg": round(ns, 1), "msgs_per_s": round(1e9 / ns, 1),
            "compared_with": "nexus decode + sync + book", "nexus_ns_per_msg": base,
            "ratio": round(ratio, 2), "ratio_vs_nexus_decode_only": round(ns / nexus["decode_ns_per_msg"], 2),
            "target": DECODE_TARGET, "met": ratio >= DECODE_TARGET}


def run(quick: bool = False, messages: int | None = None, seconds: float | None = None, rounds: int | None = None,
        venues=None, book: bool = True, decode: bool = True, progress=None) -> dict:
    say = progress or (lambda m: None)
    rounds = rounds if rounds is not None else (2 if quick else 5)
    res: dict = {"benchmark": "peers", "quick": quick, "rounds": rounds,
                 "targets": {"book": f"Nexus >= {BOOK_TARGET:g}x every peer (peer ns/update / Nexus ns/update)",
                             "decode": f"Nexus >= {DECODE_TARGET:g}x every peer per venue (peer ns/msg / Nexus ns/msg)"},
                 "note": ("Medians of the rounds, one process, the same input for every library. Each peer's "
                          "output is compared with Nexus's (book: top levels of the final book; decode: final "
                          "book and trades) before it is timed; a peer that disagrees, cannot be imported or "
                          "fails is listed with the reason and not timed. The machine's load is not "
                          "controlled: compare ratios, which share it, more than absolute figures.")}
    if book:
        res["book"] = book_peers(messages or (2_000 if quick else 20_000), rounds, say)
    if decode:
        secs = seconds if seconds is not None else (5.0 if quick else DECODE_SECONDS)
        res["decode"] = {"simulated_seconds": secs, "venues": {}}
        for v in venues or DECODE_VENUES:
            try:
                res["decode"]["venues"][v] = _decode_venue(v, secs, rounds, say)
            except Exception as e:  # one venue's failure is reported, the others still measured
                res["decode"]["venues"][v] = {"error": f"{type(e).__name__}: {e}", "peers": []}
    rows = list(res.get("book", {}).get("peers", []))
    for d in res.get("decode", {}).get("venues", {}).values():
        rows += d.get("peers", [])
    timed = [r for r in rows if r.get("available")]
    res["summary"] = {
        "peers_timed": len(timed),
        "peers_not_timed": len(rows) - len(timed),
        "all_timed_agree": all(r.get("agrees_with_nexus") for r in timed),
        "targets_met": sum(1 for r in timed if r.get("met")),
        "targets_missed": sum(1 for r in timed if not r.get("met")),
    }
    return res
