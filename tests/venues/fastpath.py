"""The check the native fast-path property tests share (tests/venues/*/test_*.py): a venue's
fast path only declines, never decides. A decoder's `decode` (its native fast path first) and
the general path (`nexus.venues.base.Decoder.decode` on a twin decoder) are given the same
messages, well-formed or damaged, and must give the same segments and records, or the same
error."""
from nexus import record
from nexus.exceptions import BatchFull, DecodeError
from nexus.venues.base import Decoder

SEGMENT_FIELDS = ("kind", "symbol", "start", "stop", "snapshot", "seq", "first_seq", "prev_seq", "checksum",
                  "ts_exchange_ns", "trade_ids", "rest", "depth")


def outcome(decode, raw: bytes, size: int):
    """What decoding `raw` into a batch of `size` records gives: every segment's fields and the
    batch's bytes, or the error's type and text."""
    out = record.empty(size)
    try:
        segs = decode(raw, out)
    except (DecodeError, BatchFull) as e:
        return type(e).__name__, str(e)
    return [tuple(getattr(s, f) for f in SEGMENT_FIELDS) for s in segs], out.tobytes()


def assert_fast_path_decides_as_the_general_path(make_decoder, msgs, size: int) -> None:
    """`msgs` in turn through two decoders from `make_decoder()`: one by its `decode`, the other
    by the general path only; the outcomes must be equal message by message."""
    fast, slow = make_decoder(), make_decoder()
    for raw in msgs:
        assert outcome(fast.decode, raw, size) == outcome(lambda r, o: Decoder.decode(slow, r, o), raw, size), raw


def maybe_damaged(draw, raw: bytes, invalid_utf8: bool = True) -> bytes:
    """One message in four damaged, for a strategy (`draw` of hypothesis's st.composite): cut
    short, or one byte changed (to invalid UTF-8 too, unless `invalid_utf8` is False)."""
    from hypothesis import strategies as st

    if draw(st.integers(0, 3)):
        return raw
    i = draw(st.integers(0, len(raw) - 1))
    if draw(st.booleans()):
        return raw[:i]
    return raw[:i] + draw(st.sampled_from([b" ", b"}", b",", b"0", b'"'] + ([b"\xff"] if invalid_utf8 else []))) + raw[i + 1:]
