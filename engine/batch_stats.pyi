"""Type stubs for engine/batch_stats.pyx, checked by `make test-stubs`."""
import numpy as np
from typing_extensions import disjoint_base

@disjoint_base
class BatchStats:
    records: int
    buy_qty: int
    sell_qty: int
    last_trade_price: int
    ts_local_min_ns: int
    ts_local_max_ns: int
    seq_max: int
    def __init__(self) -> None: ...
    def reset(self) -> None: ...
    def update(self, batch: np.ndarray, n: int = -1) -> int: ...
    def count(self, kind: int) -> int: ...
