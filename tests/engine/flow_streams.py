"""Random record streams for the engine tests: book messages near a wandering mid (inserts,
updates, deletes, deep levels), full snapshots (clear + reload, sometimes identical to the
book), resyncs, one-sided books, trades of every taker side including unknown, several
records per message, and messages that change nothing."""

from __future__ import annotations

import numpy as np

from nexus import record

BOOK_LEVEL, BOOK_CLEAR, TRADE = 1, 2, 3
F_LAST, F_SNAPSHOT, F_RESYNC = 1, 2, 4


def random_stream(seed: int, messages: int = 400, spread_levels: int = 12, ts_step_ns: int = 50_000_000):
    """A list of records as dicts -> NumPy batch. Deterministic per seed."""
    rng = np.random.default_rng(seed)
    recs = []
    mid = 100_000
    book = {1: {}, 2: {}}
    ts = 1_700_000_000_000_000_000
    for m in range(messages):
        ts += int(rng.integers(0, ts_step_ns))
        msg = []
        roll = rng.random()
        if roll < 0.06:  # full snapshot (sometimes exactly the current book)
            same = rng.random() < 0.3 and (book[1] or book[2])
            msg.append(dict(kind=BOOK_CLEAR, side=0, flags=F_SNAPSHOT))
            if same:
                levels = [(s, p, q) for s in (1, 2) for p, q in book[s].items()]
            else:
                levels = []
                for s in (1, 2):
                    for k in range(int(rng.integers(0, spread_levels))):
                        p = mid - 1 - k if s == 1 else mid + 1 + k
                        levels.append((s, p, int(rng.integers(1, 50))))
                book = {1: {}, 2: {}}
            for s, p, q in levels:
                book[s][p] = q
                msg.append(dict(kind=BOOK_LEVEL, side=s, price=p, qty=q, flags=F_SNAPSHOT))
            if rng.random() < 0.3:
                msg[0]["flags"] |= F_RESYNC
        elif roll < 0.09:  # one side cleared
            s = int(rng.integers(1, 3))
            msg.append(dict(kind=BOOK_CLEAR, side=s, flags=0))
            book[s] = {}
        elif roll < 0.45:  # trades
            for _ in range(int(rng.integers(1, 4))):
                side = int(rng.choice([1, 2, 0], p=[0.45, 0.45, 0.1]))
                msg.append(dict(kind=TRADE, side=side, price=mid + int(rng.integers(-3, 4)),
                                qty=int(rng.integers(0, 40)) if rng.random() > 0.02 else 0))
        else:  # incremental book update
            mid += int(rng.integers(-2, 3))
            for _ in range(int(rng.integers(1, 6))):
                s = int(rng.integers(1, 3))
                off = int(rng.integers(0, spread_levels))
                p = mid - 1 - off if s == 1 else mid + 1 + off
                if rng.random() < 0.05:  # far away
                    p += -1000 if s == 1 else 1000
                q = 0 if rng.random() < 0.3 else int(rng.integers(1, 60))
                if rng.random() < 0.1 and book[s]:  # same size again: no change
                    p = list(book[s])[int(rng.integers(0, len(book[s])))]
                    q = book[s][p]
                if q:
                    book[s][p] = q
                else:
                    book[s].pop(p, None)
                msg.append(dict(kind=BOOK_LEVEL, side=s, price=p, qty=q, flags=0))
            if rng.random() < 0.05:
                msg.append(dict(kind=3, side=1, price=mid, qty=int(rng.integers(1, 10))))
        if rng.random() < 0.03:  # a heartbeat-like record with no content
            msg.append(dict(kind=6, side=0))
        for k, r in enumerate(msg):
            r.setdefault("flags", 0)
            r["ts"] = ts
            if k == len(msg) - 1:
                r["flags"] |= F_LAST
        recs.extend(msg)
    return to_batch(recs)


def to_batch(recs, instrument_id: int = 7, venue_id: int = 2):
    b = record.empty(len(recs))
    for i, r in enumerate(recs):
        b[i]["kind"] = r["kind"]
        b[i]["side"] = r.get("side", 0)
        b[i]["price"] = r.get("price", 0)
        b[i]["qty"] = r.get("qty", 0)
        b[i]["flags"] = r.get("flags", 0)
        b[i]["ts_exchange_ns"] = r.get("ts", 0)
        b[i]["ts_local_ns"] = r.get("ts", 0)
        b[i]["instrument_id"] = instrument_id
        b[i]["venue_id"] = venue_id
    return b


def msg(*recs, ts=0):
    """One message: records given as (kind, side, price, qty[, flags]); F_LAST on the last."""
    out = []
    for k, r in enumerate(recs):
        kind, side, price, qty = r[:4]
        flags = r[4] if len(r) > 4 else 0
        if k == len(recs) - 1:
            flags |= F_LAST
        out.append(dict(kind=kind, side=side, price=price, qty=qty, flags=flags, ts=ts))
    return out


class Market:
    """A small synthetic market for the detector tests: a book of `depth` levels a side
    around a wandering mid, background trades (mostly 1-5 lots, either side) that consume
    the touch, cancels and adds near the touch, and patterns injected by the test through
    the helper methods below. Trades are one message, their book consequences the next
    message (as venues send them on separate channels). Times are exchange ns."""

    def __init__(self, seed: int, depth: int = 20, step_ns: int = 20_000_000, t0: int = 10**18):
        self.rng = np.random.default_rng(seed)
        self.depth, self.step_ns, self.t = depth, step_ns, t0
        self.mid = 100_000
        self.book = {1: {}, 2: {}}
        self.recs = []
        lv = []
        for k in range(depth):
            for s in (1, 2):
                p = self.mid - 1 - k if s == 1 else self.mid + 1 + k
                q = int(self.rng.integers(5, 20))
                self.book[s][p] = q
                lv.append((BOOK_LEVEL, s, p, q))
        self.emit([(BOOK_CLEAR, 0, 0, 0)] + lv)

    # -- plumbing -------------------------------------------------------------------------
    def emit(self, recs):
        if recs:
            self.recs += msg(*recs, ts=self.t)

    def setq(self, s, p, q):
        if q > 0:
            self.book[s][p] = q
        else:
            self.book[s].pop(p, None)
        return (BOOK_LEVEL, s, p, max(q, 0))

    def best(self, s):
        b = self.book[s]
        return (max(b) if s == 1 else min(b)) if b else None

    def trade(self, taker, qty, consume=True):
        """A market order of `qty` against the touch of the other side; the book message
        follows in a separate message."""
        ps = 3 - taker
        trades, upd = [], []
        left = qty
        while left > 0 and self.book[ps]:
            p = self.best(ps)
            take = min(left, self.book[ps][p])
            trades.append((TRADE, taker, p, take))
            left -= take
            upd.append(self.setq(ps, p, self.book[ps][p] - take) if consume else None)
        self.emit(trades)
        self.emit([u for u in upd if u])
        return trades

    def refill_side(self, s):
        """Keep `depth` levels on a side by adding behind the last one."""
        b = self.book[s]
        out = []
        while len(b) < self.depth:
            worst = (min(b) - 1 if s == 1 else max(b) + 1) if b else (self.mid - 1 if s == 1 else self.mid + 1)
            out.append(self.setq(s, worst, int(self.rng.integers(5, 20))))
        return out

    # -- background ----------------------------------------------------------------------
    def step(self, trade_prob=0.25, protect=()):
        self.t += self.step_ns
        rng = self.rng
        if rng.random() < trade_prob:
            self.trade(int(rng.integers(1, 3)), int(rng.integers(1, 6)))
        upd = []
        for _ in range(int(rng.integers(0, 3))):
            s = int(rng.integers(1, 3))
            b = self.book[s]
            if not b:
                continue
            best = self.best(s)
            k = int(rng.integers(0, 6))
            p = best - k if s == 1 else best + k
            if (s, p) in protect:
                continue
            q = b.get(p, 0)
            r = rng.random()
            nq = 0 if r < 0.2 and k > 0 else max(1, q + int(rng.integers(-4, 6)))
            upd.append(self.setq(s, p, nq))
        # the touch moves back when a side thins out
        for s in (1, 2):
            upd += self.refill_side(s)
        if self.book[1] and self.book[2] and self.best(2) - self.best(1) > 2:
            s = int(rng.integers(1, 3))
            p = self.best(1) + 1 if s == 1 else self.best(2) - 1
            upd.append(self.setq(s, p, int(rng.integers(3, 12))))
        self.emit(upd)

    def run(self, seconds, **kw):
        for _ in range(int(seconds * 1e9 / self.step_ns)):
            self.step(**kw)

    def batch(self):
        return to_batch(self.recs)


def market_with_patterns(seed):
    m = Market(seed)
    m.run(30)
    rng = np.random.default_rng(seed)
    for n in range(12):
        kind = (n + seed) % 5 if n < 10 else int(rng.integers(0, 5))
        if kind == 0:  # a burst of buying or selling
            side = int(rng.integers(1, 3))
            for _ in range(25):
                m.trade(side, int(rng.integers(3, 9)))
                m.step(trade_prob=0)
        elif kind == 1:  # a wall behind the touch, pulled later
            s = int(rng.integers(1, 3))
            p = m.best(s) - 6 if s == 1 else m.best(s) + 6
            m.emit([m.setq(s, p, 200)])
            m.run(2, protect={(s, p)})
            m.emit([m.setq(s, p, 0)])
        elif kind == 2:  # large lots (each sweeps several levels: several prints, one order)
            for _ in range(8):
                m.trade(int(rng.integers(1, 3)) if rng.random() < 0.2 else 1, 40)
                m.run(1)
        elif kind == 3:  # an iceberg: the touch shows 3 and refills after each print
            s = int(rng.integers(1, 3))
            p = m.best(s)
            m.emit([m.setq(s, p, 3)])
            for _ in range(6):
                m.step(trade_prob=0, protect={(s, p)})
                m.emit([(3, 3 - s, p, 4)])          # 4 print at p although 3 show
                m.step(trade_prob=0, protect={(s, p)})
                m.emit([m.setq(s, p, 3)])           # and 3 show again
        elif kind == 4:  # absorption: a flood of prints into a level that keeps showing 10
            s = int(rng.integers(1, 3))
            p = m.best(s)
            for _ in range(25):
                m.emit([(3, 3 - s, p, 8)])
                m.t += 10_000_000
                m.emit([m.setq(s, p, 10)])
        m.run(5)
    return m.batch()


def batched_trades(recs, book_ns: int = 50_000_000, trades_ns: int = 250_000_000):
    """The messages of `recs` (a Market's) delivered as Coinbase Advanced Trade sends them
    (nexus/venues/coinbase/sim.py): book changes merged into one level2 message per book_ns,
    stamped with its end; trades held back and sent together once per trades_ns, after the
    level2 message that closes the interval, each keeping its own exchange time -- so a trade
    arrives after the book update it caused."""
    msgs, cur = [], []
    for r in recs:
        cur.append(dict(r))
        if r["flags"] & F_LAST:
            msgs.append(cur)
            cur = []
    out, book, trades = [], [], []
    window = sent_trades = None

    def flush_book():
        nonlocal sent_trades
        if not book:
            return
        ts = (window + 1) * book_ns
        for r in book:
            r["flags"] &= ~F_LAST
            r["ts"] = ts
        book[-1]["flags"] |= F_LAST
        out.extend(book)
        book.clear()
        if trades and (sent_trades is None or ts // trades_ns > sent_trades):
            for r in trades:
                r["flags"] &= ~F_LAST
            trades[-1]["flags"] |= F_LAST
            out.extend(trades)
            trades.clear()
            sent_trades = ts // trades_ns

    for m in msgs:
        if all(r["kind"] == TRADE for r in m):
            trades.extend(m)
            continue
        w = m[0]["ts"] // book_ns
        if window is not None and w != window:
            flush_book()
        window = w
        book.extend(m)
    flush_book()
    return out


def block_sweep(seed: int = 1, split: bool = False, block: int = 500):
    """A warm 60-level market, then a dozen 2-lot buys in 0.36 s and one market buy of `block`
    lots sweeping ~40 ask levels (~4 bp), whose levels the makers restore in the next message
    (the touch never stays up there), then 3 s of background. `split`: the same prints at
    distinct timestamps, i.e. one order per level instead of one order. Returns (batch, the
    time the small buys start)."""
    m = Market(seed, depth=60)
    m.run(40)
    t0 = m.t
    for _ in range(12):
        m.trade(1, 2)
        m.t += 30_000_000
        m.emit(m.refill_side(1) + m.refill_side(2))
    before = dict(m.book[2])
    prints, left = [], block
    for p in sorted(before):
        if left <= 0:
            break
        take = min(left, before[p])
        prints.append((TRADE, 1, p, take))
        left -= take
    if split:
        for k, pr in enumerate(prints):
            m.t += k and 1
            m.emit([pr])
    else:
        m.emit(prints)
    m.t += m.step_ns
    m.emit([m.setq(2, p, q) for p, q in before.items()])   # the makers refill what it took
    m.run(3)
    return m.batch(), t0
