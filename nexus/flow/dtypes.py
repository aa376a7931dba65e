"""NumPy mirrors of the engine's output rows (engine/flow.pxd MetricRow, engine/vpin.pxd
VpinRow, engine/signal.pxd SignalFacts), checked field by field against the compiled
structs at import, like the record itself: a drift raises RecordLayoutError."""

from __future__ import annotations

import numpy as np

from engine import flow as _flow
from nexus.exceptions import RecordLayoutError

LEVELS_MAX: int = _flow.LEVELS_MAX
FACTS: int = _flow.FACTS

METRIC_DTYPE = np.dtype([
    ("msg", "<i8"), ("rec", "<i8"), ("ts_exchange_ns", "<i8"),
    ("bid_px", "<i8"), ("bid_qty", "<i8"), ("ask_px", "<i8"), ("ask_qty", "<i8"),
    ("ofi", "<i8", (LEVELS_MAX,)), ("obi_num", "<i8"), ("obi_den", "<i8"), ("cvd", "<i8"),
    ("buy_qty", "<i8"), ("sell_qty", "<i8"), ("flags", "<u4"), ("levels", "<u4"),
])
VPIN_DTYPE = np.dtype([
    ("msg", "<i8"), ("rec", "<i8"), ("ts_exchange_ns", "<i8"), ("bucket", "<i8"),
    ("num", "<i8"), ("den", "<i8"),
])
FACTS_DTYPE = np.dtype([("f", "<i8", (FACTS,))])

# MetricRow.flags
ROW_BOOK_CHANGED, ROW_TRADES, ROW_RESET, ROW_HAVE_BID, ROW_HAVE_ASK = 1, 2, 4, 8, 16


def check_layouts() -> None:
    compiled = _flow.row_layouts()
    for name, dtype in (("MetricRow", METRIC_DTYPE), ("VpinRow", VPIN_DTYPE), ("SignalFacts", FACTS_DTYPE)):
        size, offsets = compiled[name]
        if size != dtype.itemsize:
            raise RecordLayoutError(f"{name}: compiled size {size} != NumPy itemsize {dtype.itemsize}")
        for field, off in offsets.items():
            if dtype.fields[field][1] != off:
                raise RecordLayoutError(f"{name}.{field}: compiled offset {off} != NumPy {dtype.fields[field][1]}")
        if set(offsets) != set(dtype.names):
            raise RecordLayoutError(f"{name}: fields differ: {sorted(offsets)} vs {sorted(dtype.names)}")


check_layouts()
