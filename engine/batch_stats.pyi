import numpy as np

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
