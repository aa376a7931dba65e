"""The fused steady state (`Sync.fuse()`: the decoder offers each depthUpdate to
`Sync.feed_frame`, decode + sequence check + book apply of an ordinary diff in one native
call, and returns APPLIED) must leave exactly what the general path leaves (`decoder.decode`
then `Sync.feed` without `fuse`): the same records published on the ring (through the feed
handler's PublishingBook), the same book, the same sync state and notes, after every frame
of random streams with gaps, duplicates, out-of-order and stale frames, snapshots at any
point (older, equal, newer), another symbol, trades, frames the decoder refuses, and books
that cross and uncross.

Message shapes: Binance Spot / USD-M Futures docs, "Diff. Depth Stream" / "Diff. Book Depth
Streams" (depthUpdate with E, T (futures), s, U, u, pu (futures), b, a) and "Order book" REST
(lastUpdateId, bids, asks)."""
import json

from hypothesis import given, settings, strategies as st

from nexus.venues.binance import perp, spot
from nexus.venues.binance.data import instrument
from tests.venues.fused import FusedPipeline

SYM = "BTCUSDT"


class Pipeline(FusedPipeline):
    """One decoder + sync whose books publish every change, as the feed handler wires them."""

    def __init__(self, mod, fused: bool) -> None:
        dec = mod.Decoder()
        dec.rest_symbol = SYM
        for s in (SYM, "ETHUSDT"):
            dec.set_instrument(instrument(mod.VENUE, s, "0.01", "0.001"))
        super().__init__(dec, mod.Sync(dec), fused, 1)

    def on_applied(self) -> None:
        assert self.sync.last_fused[2] == self.sync.books[SYM].last_seq

    def fields(self, s) -> tuple:
        b = s.book
        return (s.synced, s.gaps, s.resyncs, s.crossed, s.dropped, s.last_seq, s.last_prev,
                s.is_crossed, b.top(1, 1000), b.top(2, 1000),
                [(x[0], x[1], x[2], x[3].tobytes()) for x in s.buffer], s.buffered_records)


prices = st.integers(9990, 10010).map(lambda c: f"{c / 100:.2f}")  # bids and asks overlap: books cross
qtys = st.sampled_from(["0", "0.001", "1.5", "2.250"])
levels = st.lists(st.tuples(prices, qtys).map(list), max_size=5)
OPS = ["next"] * 8 + ["gap", "dup", "back", "stale", "snap", "snap_old", "other", "trade", "bad", "nopu", "pu_spot"]
ops = st.lists(st.tuples(st.sampled_from(OPS), levels, levels, st.integers(0, 3), st.integers(-3, 3)),
               min_size=3, max_size=60)


def frames(mod, plan):
    """Raw frames of one stream from the plan; the first is a snapshot half the time."""
    cur, prev_frame, out = 1000, None, []
    perp_ = mod is perp

    def depth(U, u, pu, b, a, sym=SYM, with_pu=perp_):
        m = {"e": "depthUpdate", "E": 1700000000000 + u, "s": sym, "U": U, "u": u, "b": b, "a": a}
        if perp_:
            m["T"] = 1700000000000 + u
        if with_pu:
            m["pu"] = pu
        return json.dumps(m, separators=(",", ":")).encode()

    for op, b, a, k, d in plan:
        if op == "next":  # a run of 1 + k + |d| contiguous diffs (the steady state)
            for j in range(k + abs(d)):
                out.append(depth(cur + 1, cur + 1 + j % 2, cur, b[j % 2:], a[:j + 1]))
                cur += 1 + j % 2
            raw = depth(cur + 1, cur + 1 + k, cur, b, a)
            cur += 1 + k
        elif op == "gap":
            raw = depth(cur + 2, cur + 2 + k, cur + 1, b, a)
            cur += 2 + k
        elif op == "dup":
            raw = prev_frame or depth(cur, cur, cur - 1, b, a)
        elif op == "back":
            raw = depth(cur - 4, cur - 1 - (k % 2), cur - 5, b, a)
        elif op == "stale":
            raw = depth(cur - 2 - k, cur + d, cur - 3 - k, b, a)
            cur = max(cur, cur + d)
        elif op in ("snap", "snap_old"):
            last = cur + d if op == "snap" else cur - 5 - k
            raw = json.dumps({"lastUpdateId": last, "bids": b, "asks": a}, separators=(",", ":")).encode()
        elif op == "other":
            raw = depth(cur + 1, cur + 1 + k, cur, b, a, sym="ETHUSDT")
        elif op == "trade":
            raw = json.dumps({"e": "aggTrade", "E": 1700000000000, "s": SYM, "a": cur, "p": "100.00",
                              "q": "1.000", "f": 1, "l": 2, "T": 1700000000000, "m": bool(k % 2)}).encode()
        elif op == "bad":
            raw = depth(cur + 1, cur + 1 + k, cur, [["abc", "1"]], a)
        elif op == "nopu":  # futures without pu: refused there; spot: the normal shape
            raw = depth(cur + 1, cur + 1 + k, cur, b, a, with_pu=False)
            cur += 1 + k
        else:  # "pu_spot": a pu on spot (the general path keeps it as last_prev)
            raw = depth(cur + 1, cur + 1 + k, cur, b, a, with_pu=True)
            cur += 1 + k
        if raw.startswith(b'{"e":"depthUpdate"'):
            prev_frame = raw
        out.append(raw)
    return out


def run_both(mod, raws):
    ref, fus = Pipeline(mod, False), Pipeline(mod, True)
    for i, raw in enumerate(raws):
        ref.frame(raw, 1000 + i)
        fus.frame(raw, 1000 + i)
        assert fus.ring == ref.ring, f"frame {i}: ring records differ"
        assert fus.state_of() == ref.state_of(), f"frame {i}: book or sync state differs"
    return ref, fus


@settings(max_examples=500, deadline=None)
@given(st.sampled_from([spot, perp]), ops, st.sampled_from([True, True, True, False]))
def test_fused_path_equals_general_path(mod, plan, snapshot_first):
    if snapshot_first:
        plan = [("snap", [["99.90", "1.0"]], [["100.10", "1.0"]], 0, 0)] + plan
    run_both(mod, frames(mod, plan))


def test_fused_path_is_taken_in_the_steady_state_and_declines_the_exceptions():
    for mod in (spot, perp):
        plan = [("snap", [["99.90", "1.0"]], [["100.10", "1.0"]], 0, 0)]
        plan += [("next", [["99.95", "2.0"]], [["100.05", "0"]], 0, 0)] * 20  # k=0, d=0: one frame each
        plan += [("gap", [], [], 0, 0), ("next", [], [], 0, 0), ("snap", [], [["100.20", "3"]], 0, 0)]
        plan += [("next", [["100.30", "1.0"]], [], 0, 0)] * 3  # crosses the ask at 100.20: noted once
        ref, fus = run_both(mod, frames(mod, plan))
        # the general path takes the snapshots, the first diff after the first one, the gap and the
        # diff buffered after it; after the second snapshot, spot drops that buffered diff (u <=
        # lastUpdateId) so its next diff is the first after a snapshot, while futures keeps and
        # applies it (u >= lastUpdateId) and goes on fused
        assert fus.taken == (19 + 2 if mod is spot else 19 + 3), (mod.VENUE, fus.taken)
        st = fus.sync.books[SYM]
        assert st.synced and st.gaps == 1 and st.crossed == 1 and st.is_crossed
        assert sum(len(r) for r in fus.ring) // 64 > 40
        assert any("crossed book" in n for n in fus.sync.notes)


def test_fused_path_after_a_relisted_instrument():
    """New metadata for the book's symbol in the steady state (the same exponents: the book is
    kept with the new instrument; more decimals: the book waits for a snapshot): the fused path
    finds the book again (BinanceSync keeps the last one found per decoder entry) and both
    paths leave the same book, ring and sync state after every frame."""
    for mod in (spot, perp):
        for tick in ("0.01", "0.000000001"):  # WIRE_EXPONENT is 8: the second widens the exponent
            steady = [("snap", [["99.90", "1.0"]], [["100.10", "1.0"]], 0, 0)]
            steady += [("next", [["99.95", "2.0"]], [["100.05", "0"]], 0, 0)] * 5
            after = [("next", [["99.96", "1.0"]], [["100.06", "1"]], 0, 0)] * 5
            after += [("snap", [["99.80", "1.0"]], [["100.20", "1.0"]], 0, 0)]
            after += [("next", [["99.97", "1.0"]], [["100.07", "1"]], 0, 0)] * 5
            raws = frames(mod, steady + after)
            ref, fus = Pipeline(mod, False), Pipeline(mod, True)
            cut = len(frames(mod, steady))
            for i, raw in enumerate(raws):
                if i == cut:
                    for p in (ref, fus):
                        p.dec.set_instrument(instrument(mod.VENUE, SYM, tick, "0.001"))
                ref.frame(raw, 1000 + i)
                fus.frame(raw, 1000 + i)
                assert fus.ring == ref.ring, (mod.VENUE, tick, i)
                assert fus.state_of() == ref.state_of(), (mod.VENUE, tick, i)
            st = fus.sync.books[SYM]
            assert st.synced and st.inst is fus.dec.instrument(SYM)
            assert fus.taken >= 8, (mod.VENUE, tick, fus.taken)  # fused before and after the change
