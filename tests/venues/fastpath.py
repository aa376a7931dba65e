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
