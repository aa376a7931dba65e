"""Type stubs for engine/flow.pyx (the compiled flow engine)."""
import numpy as np

MAX_LEVELS: int
MAX_SIGNALS_PER_RECORD_: int
FACTS: int
PHI_BITS: int
MAX_VPIN_WINDOW: int
MAX_VPIN_SIGMA_BARS: int
MAX_DELTA_SPIKE_WINDOW: int
LIMITS: dict[str, int]
PARAM_LAYOUT: tuple[int, tuple[tuple[str, int, int], ...]]

def row_layouts() -> dict[str, tuple[int, dict[str, int]]]: ...

class FlowEngine:
    ofi_levels: int
    obi_levels: int
    vpin_enabled: bool
    signals_enabled: bool
    instrument_id: int
    messages: int
    records: int
    cvd: int
    trades_unknown_side: int
    def __init__(self, params: dict) -> None: ...
    def reset_counters(self) -> None: ...
    def update(
        self,
        batch: np.ndarray,
        signals_out: np.ndarray,
        facts_out: np.ndarray,
        metrics_out: np.ndarray,
        vpin_out: np.ndarray,
    ) -> tuple[int, int, int, int]: ...
    def top(self, side: int, n: int) -> list[tuple[int, int]]: ...
    def depth(self, side: int) -> int: ...
    @property
    def baselines(self) -> dict[str, int]: ...
    @property
    def vpin_buckets(self) -> int: ...
