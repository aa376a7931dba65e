"""OKX's fused steady state (`Sync.fuse()`: the decoder offers each books push to
`Sync.feed_frame`; decode + prevSeqId check + book apply + checksum of an ordinary update in
one native call, and `decode` returns APPLIED) must leave exactly what the general path leaves
(`decode` then `Sync.feed` without `fuse`): the same records on the ring (the feed handler's
PublishingBook, including the clear a checksum mismatch publishes), the same book, sync state
and notes after every frame of random streams with gaps, duplicates, out-of-order updates,
snapshots anywhere, updates without seqId, right, wrong and absent checksums, trades and books
that cross.

Message shapes: OKX API v5 docs, WebSocket Public Channel "Order book channel" (arg.channel
books, action snapshot/update, data[0] asks/bids [price, size, "0", orders], ts, checksum,
prevSeqId, seqId) and "Trades channel"."""
import json
from decimal import Decimal

from hypothesis import given, settings, strategies as st

from nexus._native import Book
from nexus.venues.okx import data as okx
from tests.venues.fused import FusedPipeline

SYM = "BTC-USDT-SWAP"
LISTING = (b'{"code":"0","msg":"","data":[{"instType":"SWAP","instId":"BTC-USDT-SWAP","settleCcy":"USDT",'
           b'"ctVal":"0.01","ctValCcy":"BTC","ctType":"linear","tickSz":"0.1","lotSz":"0.01"}]}')
MARK = b'"checksum":777777'


class Pipeline(FusedPipeline):
    def __init__(self, fused: bool) -> None:
        dec = okx.Decoder()
        dec.load_metadata(LISTING)
        super().__init__(dec, okx.Sync(dec), fused, 3)

    def fields(self, s) -> tuple:
        return (s.synced, s.gaps, s.resyncs, s.crossed, s.dropped, s.checksum_failures, s.checksum_bad,
                s.checksum_venue, s.last_seq, s.last_prev, s.is_crossed, s.book.top(1, 1000),
                s.book.top(2, 1000))


def with_right_checksum(pipe: Pipeline, raw: bytes) -> bytes:
    """The frame with the checksum its update gives the book `pipe` holds (a copy is updated)."""
    st_ = pipe.sync.books.get(SYM)
    inst = pipe.dec.instrument(SYM)
    b = Book(inst.price_exponent, inst.qty_exponent)
    if st_ is not None:
        for side in (1, 2):
            for p, q in st_.book.top(side, 1000):
                b.set(side, p, q)
    d = json.loads(raw)["data"][0]
    for side, key in ((1, "bids"), (2, "asks")):
        for p, q, *_ in d[key]:
            b.set(side, int(Decimal(p).scaleb(inst.price_exponent)), int(Decimal(q).scaleb(inst.qty_exponent)))
    return raw.replace(MARK, b'"checksum":%d' % b.checksum_okx(25))


prices = st.integers(649990, 650010).map(lambda c: f"{c / 10:.1f}")
sizes = st.sampled_from(["0", "0.01", "1.5", "2.25"])
levels = st.lists(st.tuples(prices, sizes), max_size=4)
OPS = ["next"] * 8 + ["gap", "dup", "back", "snap", "noseq", "trade", "keepalive"]
ops = st.lists(st.tuples(st.sampled_from(OPS), levels, levels, st.integers(0, 3), st.sampled_from(["none", "ok", "ok", "bad"])),
               min_size=3, max_size=40)


def frames(plan):
    """(raw, checksum mode) pairs; a raw with MARK gets its checksum at run time."""
    seq, last, out = 100, None, []

    def books(action, b, a, s, prev, mode):
        d = {"asks": [[p, q, "0", "1"] for p, q in a], "bids": [[p, q, "0", "1"] for p, q in b],
             "ts": "1700000000000", "checksum": {"none": 0, "ok": 777777, "bad": 123456}[mode], "seqId": s}
        if prev is not None:
            d["prevSeqId"] = prev
        return json.dumps({"arg": {"channel": "books", "instId": SYM}, "action": action, "data": [d]},
                          separators=(",", ":")).encode()

    for op, b, a, k, mode in plan:
        if op == "next":  # a run of 1 + k chained updates
            for j in range(k + 1):
                out.append((last := books("update", b[j % 2:], a[:j + 1], seq + 1 + j % 3, seq, mode), mode))
                seq += 1 + j % 3
            continue
        if op == "gap":
            raw = books("update", b, a, seq + 5, seq + 2, mode)
            seq += 5
        elif op == "dup":
            raw = last or books("update", b, a, seq, seq, mode)
        elif op == "back":
            raw = books("update", b, a, seq - 1, seq - 2 - k, mode)
        elif op == "snap":
            seq += k
            raw = books("snapshot", b, a, seq, -1, mode)
        elif op == "noseq":
            raw = books("update", b, a, seq + 1, None, mode)
        elif op == "keepalive":  # empty sides, prevSeqId = seqId = the last seqId
            raw = books("update", [], [], seq, seq, mode)
        else:
            raw = json.dumps({"arg": {"channel": "trades", "instId": SYM}, "data": [
                {"instId": SYM, "tradeId": str(100 + k), "px": "65000.1", "sz": "0.01", "side": "buy",
                 "ts": "1700000000000"}]}, separators=(",", ":")).encode()
            mode = "none"
        out.append((raw, mode))
    return out


def run_both(pairs):
    ref, fus = Pipeline(False), Pipeline(True)
    for i, (raw, mode) in enumerate(pairs):
        if MARK in raw:
            raw = with_right_checksum(ref, raw)
        ref.frame(raw, 1000 + i)
        fus.frame(raw, 1000 + i)
        assert fus.ring == ref.ring, f"frame {i}: ring records differ"
        assert fus.state_of() == ref.state_of(), f"frame {i}: book or sync state differs"
    return ref, fus


@settings(max_examples=400, deadline=None)
@given(ops, st.sampled_from([True, True, True, False]))
def test_fused_path_equals_general_path(plan, snapshot_first):
    if snapshot_first:
        plan = [("snap", [("64999.9", "1")], [("65000.1", "1")], 0, "ok")] + plan
    run_both(frames(plan))


def test_fused_path_is_taken_and_a_checksum_mismatch_discards_the_book():
    plan = [("snap", [("64999.9", "1")], [("65000.1", "1")], 0, "ok"), ("next", [("64999.8", "2")], [], 5, "ok"),
            ("next", [], [("65000.2", "1")], 0, "none"), ("next", [("65000.5", "1")], [], 0, "ok"),
            ("next", [], [], 0, "bad")]
    ref, fus = run_both(frames(plan))
    assert fus.taken == 6 + 1 + 1 + 1, fus.taken
    s = fus.sync.books[SYM]
    assert not s.synced and s.checksum_failures == 1 and s.crossed == 1
    assert any("checksum mismatch" in n for n in fus.sync.notes)


def test_a_book_that_crosses_uncrosses_and_crosses_again_is_noted_twice():
    plan = [("snap", [("64999.9", "1")], [("65000.1", "1")], 0, "ok"), ("next", [("65000.5", "1")], [], 0, "ok"),
            ("next", [("65000.5", "0")], [], 0, "ok"), ("next", [("65000.6", "1")], [], 0, "ok"),
            ("next", [("64999.8", "1")], [], 0, "none")]
    ref, fus = run_both(frames(plan))
    assert fus.taken == 4, fus.taken
    for pipe in (ref, fus):
        s = pipe.sync.books[SYM]
        assert s.synced and s.checksum_failures == 0 and s.crossed == 2 and s.is_crossed is True
        assert sum("crossed book" in n for n in pipe.sync.notes) == 2  # once per crossing, not per frame
