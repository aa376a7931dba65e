"""What `nexus run` is asked to do (`RunConfig`), and the names and sizes its parts share."""

from __future__ import annotations

from dataclasses import dataclass, field

from nexus.feeds.handler import STALE_AFTER_S

RING_SLOTS = 1 << 16
CONSENSUS_VENUE = "agg"  # instrument ids of consensus records: instrument_id_of("agg", symbol)


@dataclass
class RunConfig:
    venues: list[str]
    symbol: str = "BTCUSDT"
    sim: bool = False
    seed: int = 1
    faults: list[str] = field(default_factory=list)
    ws_urls: dict[str, str] = field(default_factory=dict)
    rest_urls: dict[str, str] = field(default_factory=dict)
    duration_s: float | None = None
    stale_after_s: float = STALE_AFTER_S
    procs: bool = False
    agg: bool = False
    agg_options: dict = field(default_factory=dict)
    sim_speed: float = 1.0
    consensus_ring: str | None = None  # AGG: publish the consensus best bid/ask here (BBO records)
    signals: bool = True               # flow engine + detectors per venue (and on the consensus in AGG)
    signals_ring: str | None = None    # publish the SIGNAL records on this ring
    metrics: object | None = None      # nexus.ops.metrics.RunMetrics: updated from each second's line
