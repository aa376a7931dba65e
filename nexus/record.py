"""The 64-byte record as a NumPy structured dtype, checked against the native definition.

The record is defined once, in Rust (native/src/core/record.rs). This module declares the
same layout for NumPy and, at import, compares it field by field with
`nexus._native.record_layout()`; any drift raises `RecordLayoutError` naming the field.
The Cython struct (engine/record.pxd) is checked the same way by `engine.check_layout()`.
"""

from __future__ import annotations

from enum import IntEnum, IntFlag

import numpy as np

from nexus import _native
from nexus.exceptions import RecordLayoutError

RECORD_SIZE = 64

RECORD_DTYPE = np.dtype(
    {
        "names": [
            "ts_exchange_ns", "ts_local_ns", "price", "qty", "seq", "trade_id",
            "instrument_id", "aux", "venue_id", "kind", "flags", "side", "_pad",
        ],
        "formats": ["<i8", "<i8", "<i8", "<i8", "<u8", "<u8", "<u4", "<u4", "<u2", "u1", "u1", "u1", "3u1"],
        "offsets": [0, 8, 16, 24, 32, 40, 48, 52, 56, 58, 59, 60, 61],
        "itemsize": RECORD_SIZE,
    }
)


class Kind(IntEnum):
    BOOK_LEVEL = _native.KIND_BOOK_LEVEL
    BOOK_CLEAR = _native.KIND_BOOK_CLEAR
    TRADE = _native.KIND_TRADE
    BBO = _native.KIND_BBO
    SIGNAL = _native.KIND_SIGNAL
    HEARTBEAT = _native.KIND_HEARTBEAT


class Flag(IntFlag):
    LAST = _native.F_LAST
    SNAPSHOT = _native.F_SNAPSHOT
    RESYNC = _native.F_RESYNC


class Side(IntEnum):
    NONE = _native.SIDE_NONE
    BID = _native.SIDE_BID
    ASK = _native.SIDE_ASK


def layout_of(dtype: np.dtype) -> list[tuple[str, int, str]]:
    """(name, offset, type string) per field, in the form `_native.record_layout()` uses."""
    out = []
    for name in dtype.names:
        ftype, offset = dtype.fields[name][:2]
        out.append((name, offset, np.dtype(ftype).str if ftype.subdtype is None else _subarray_str(ftype)))
    return out


def _subarray_str(ftype: np.dtype) -> str:
    base, shape = ftype.subdtype
    return f"{int(np.prod(shape))}{base.str.lstrip('|')}"


def check_layout(dtype: np.dtype = RECORD_DTYPE) -> None:
    """Raise RecordLayoutError unless `dtype` matches the native record exactly."""
    native = [(n, o, np.dtype(t).str if not t[0].isdigit() else t) for n, o, t in _native.record_layout()]
    mine = layout_of(dtype)
    if dtype.itemsize != _native.RECORD_SIZE:
        raise RecordLayoutError(f"record itemsize {dtype.itemsize} != native {_native.RECORD_SIZE}")
    if len(mine) != len(native):
        raise RecordLayoutError(f"record has {len(mine)} fields, native has {len(native)}")
    for m, n in zip(mine, native):
        if m != n:
            raise RecordLayoutError(f"record field drifted from native: python {m} != native {n}")


check_layout()


def empty(n: int) -> np.ndarray:
    """A zeroed batch of `n` records (zeroed so padding never carries stale bytes)."""
    return np.zeros(n, dtype=RECORD_DTYPE)
