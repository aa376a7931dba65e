import numpy as np
import pytest

import engine
from engine import _layout
from nexus import _native, record
from nexus.exceptions import RecordLayoutError


def test_dtype_matches_native_field_by_field():
    native = _native.record_layout()
    assert record.RECORD_DTYPE.itemsize == _native.RECORD_SIZE == 64
    assert [n for n, _, _ in native] == list(record.RECORD_DTYPE.names)
    for name, offset, _ in native:
        assert record.RECORD_DTYPE.fields[name][1] == offset


def test_drifted_dtype_is_refused_loudly():
    names = list(record.RECORD_DTYPE.names)
    formats = [record.RECORD_DTYPE.fields[n][0] for n in names]
    offsets = [record.RECORD_DTYPE.fields[n][1] for n in names]
    swapped = offsets.copy()
    swapped[2], swapped[3] = swapped[3], swapped[2]  # price <-> qty
    bad = np.dtype({"names": names, "formats": formats, "offsets": swapped, "itemsize": 64})
    with pytest.raises(RecordLayoutError, match="price"):
        record.check_layout(bad)
    wider = np.dtype({"names": names, "formats": formats, "offsets": offsets, "itemsize": 128})
    with pytest.raises(RecordLayoutError, match="itemsize"):
        record.check_layout(wider)


def test_cython_struct_matches_native():
    size, offsets = _layout.struct_layout()
    assert size == 64
    assert offsets == {n: o for n, o, _ in _native.record_layout()}
    engine.check_layout()  # raises on drift


def test_enums_mirror_native_constants():
    assert record.Kind.TRADE == _native.KIND_TRADE
    assert record.Flag.LAST == _native.F_LAST
    assert record.Side.ASK == _native.SIDE_ASK
    assert _layout.constants()["KIND_TRADE"] == _native.KIND_TRADE


def test_bytes_are_little_endian_at_the_documented_offsets():
    b = record.empty(1)
    b["price"] = 0x0102030405060708
    b["venue_id"] = 0x0A0B
    raw = b.tobytes()
    assert raw[16:24] == bytes([8, 7, 6, 5, 4, 3, 2, 1])
    assert raw[56:58] == bytes([0x0B, 0x0A])


def test_engine_kernel_reads_record_batches():
    from engine.batch_stats import BatchStats

    b = record.empty(5)
    b["kind"] = [record.Kind.TRADE, record.Kind.TRADE, record.Kind.BOOK_LEVEL, record.Kind.TRADE, record.Kind.BBO]
    b["side"] = [record.Side.BID, record.Side.ASK, record.Side.BID, record.Side.BID, 0]
    b["qty"] = [10, 3, 999, 7, 1]
    b["price"] = [100, 101, 5, 102, 0]
    s = BatchStats()
    assert s.update(b) == 5
    assert (s.count(record.Kind.TRADE), s.buy_qty, s.sell_qty, s.last_trade_price) == (3, 17, 3, 102)
    assert s.update(b, 2) == 2
    assert s.records == 7 and s.buy_qty == 27
