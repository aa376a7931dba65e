"""Bybit's fused steady state (`Sync.fuse()`: the decoder offers each orderbook push to
`Sync.feed_frame`, decode + u check + book apply of an ordinary delta in one native call, and
returns APPLIED) must leave exactly what the general path leaves (`decode` then `Sync.feed`
without `fuse`): the same records on the ring (the feed handler's PublishingBook), the same
book, sync state and notes after every frame of random streams with gaps, duplicates, stale
and out-of-order deltas, snapshots anywhere, another symbol, trades, refused frames, empty
deltas and books that cross.

Message shapes: Bybit V5 docs, WebSocket Stream, Public, "Orderbook" (topic orderbook.{depth}.
{symbol}, type snapshot/delta, data s/b/a/u/seq, cts) and "Trade" (publicTrade.{symbol})."""
import json
from pathlib import Path

from hypothesis import given, settings, strategies as st

from nexus.venues.bybit import data as bybit
from tests.venues.fused import FusedPipeline

LISTING = Path(__file__).resolve().parents[2] / "fixtures" / "venues" / "bybit-perp" / "instruments.json"
SYM = "BTCUSDT"


class Pipeline(FusedPipeline):
    def __init__(self, fused: bool) -> None:
        dec = bybit.Decoder()
        dec.load_metadata(LISTING.read_bytes())
        super().__init__(dec, bybit.Sync(dec), fused, 2)

    def fields(self, s) -> tuple:
        return (s.synced, s.gaps, s.resyncs, s.crossed, s.dropped, s.last_seq, s.is_crossed,
                s.book.top(1, 1000), s.book.top(2, 1000))


prices = st.integers(649990, 650010).map(lambda c: f"{c / 10:.2f}")
qtys = st.sampled_from(["0", "0.001", "1.500", "2.250"])
levels = st.lists(st.tuples(prices, qtys).map(list), max_size=4)
OPS = ["next"] * 8 + ["gap", "dup", "back", "snap", "other", "trade", "bad"]
ops = st.lists(st.tuples(st.sampled_from(OPS), levels, levels, st.integers(0, 4)), min_size=3, max_size=50)


def frames(plan):
    u, out = 100, []

    def book(kind, u, b, a, sym=SYM):
        return json.dumps({"topic": f"orderbook.50.{sym}", "type": kind, "ts": 1767225601100 + u,
                           "data": {"s": sym, "b": b, "a": a, "u": u, "seq": 6000000 + u},
                           "cts": 1767225601000 + u}, separators=(",", ":")).encode()

    last = None
    for op, b, a, k in plan:
        if op == "next":  # a run of 1 + k consecutive deltas
            for j in range(k + 1):
                u += 1
                out.append(last := book("delta", u, b[j % 2:], a[:j + 1]))
            continue
        if op == "gap":
            u += 2 + k
            raw = book("delta", u, b, a)
        elif op == "dup":
            raw = last or book("delta", u, b, a)
        elif op == "back":
            raw = book("delta", max(2, u - 1 - k), b, a)
        elif op == "snap":
            u += k
            raw = book("snapshot", u, b, a)
        elif op == "other":
            raw = book("delta", u + 1, b, a, sym="ETHUSDT")
        elif op == "trade":
            raw = json.dumps({"topic": f"publicTrade.{SYM}", "type": "snapshot", "ts": 1767225601120,
                              "data": [{"T": 1767225601120, "s": SYM, "S": "Buy", "v": "0.010", "p": "65000.10",
                                        "L": "PlusTick", "i": f"t{k}", "BT": False}]}, separators=(",", ":")).encode()
        else:
            u += 1
            raw = book("delta", u, [["bad", "1"]], a)
        out.append(raw)
    return out


def run_both(raws):
    ref, fus = Pipeline(False), Pipeline(True)
    for i, raw in enumerate(raws):
        ref.frame(raw, 1000 + i)
        fus.frame(raw, 1000 + i)
        assert fus.ring == ref.ring, f"frame {i}: ring records differ"
        assert fus.state_of() == ref.state_of(), f"frame {i}: book or sync state differs"
    return ref, fus


@settings(max_examples=400, deadline=None)
@given(ops, st.sampled_from([True, True, True, False]))
def test_fused_path_equals_general_path(plan, snapshot_first):
    if snapshot_first:
        plan = [("snap", [["64999.90", "1.000"]], [["65000.10", "1.000"]], 0)] + plan
    run_both(frames(plan))


def test_fused_path_is_taken_in_the_steady_state():
    plan = [("snap", [["64999.90", "1.000"]], [["65000.10", "1.000"]], 0), ("next", [], [], 9),
            ("gap", [], [], 0), ("next", [], [], 0), ("snap", [], [["65000.50", "1.000"]], 0),
            ("next", [["65000.60", "1.000"]], [], 2)]
    ref, fus = run_both(frames(plan))
    assert fus.taken == 10 + 3, fus.taken  # every delta that follows the book's u; not the gap nor after it
    s = fus.sync.books[SYM]
    assert s.synced and s.gaps == 1 and s.crossed == 1 and s.is_crossed


def test_a_book_that_crosses_uncrosses_and_crosses_again_is_noted_twice():
    plan = [("snap", [["64999.90", "1.000"]], [["65000.10", "1.000"]], 0), ("next", [["65000.50", "1.000"]], [], 0),
            ("next", [["65000.50", "0"]], [], 0), ("next", [["65000.60", "1.000"]], [], 0),
            ("next", [["64999.80", "1.000"]], [], 0)]
    ref, fus = run_both(frames(plan))
    assert fus.taken == 4, fus.taken
    for pipe in (ref, fus):
        s = pipe.sync.books[SYM]
        assert s.synced and s.crossed == 2 and s.is_crossed is True
        assert sum("crossed book" in n for n in pipe.sync.notes) == 2  # once per crossing, not per frame
