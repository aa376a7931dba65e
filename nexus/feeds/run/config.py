"""What `nexus run` is asked to do (`RunConfig`), and the names and sizes its parts share."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from nexus.feeds.handler import STALE_AFTER_S

RING_SLOTS = 1 << 16
CONSENSUS_VENUE = "agg"  # instrument ids of consensus records: instrument_id_of("agg", symbol)
_VENUE_RING = re.compile(r"nx-(\d+)-[a-z0-9-]+")


def venue_ring(venue: str, pid: int | None = None) -> str:
    """The ring a `nexus run` (process `pid`, default this one) publishes `venue` into."""
    return f"nx-{os.getpid() if pid is None else pid}-{venue}"


def orphaned_venue_ring(name: str) -> bool:
    """Whether `name` is a venue ring of a `nexus run` that is no longer running (killed
    before it could close its rings): safe to reclaim, nobody will write or read it again."""
    m = _VENUE_RING.fullmatch(name)
    if m is None:
        return False
    try:
        os.kill(int(m.group(1)), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError):
        return False  # alive under another user / not a pid: not ours to judge
    return False


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
    agg_scope: str = "auto"            # AGG: "all" venues' books in the consensus, "perps" only, or "auto" (perps if mixed)
    sim_speed: float = 1.0
    consensus_ring: str | None = None  # AGG: publish the consensus best bid/ask here (BBO records)
    signals: bool = True               # flow engine + detectors per venue (and on the consensus in AGG)
    signals_ring: str | None = None    # publish the SIGNAL records on this ring
    # the learned oracle's model (nexus/flow/oracle_model.py; None: the rule oracle) and how the
    # output names the active oracle ({"kind": "rule"} or {"kind": "learned", "model": path})
    oracle_model: dict | None = None
    oracle: dict = field(default_factory=lambda: {"kind": "rule"})
    metrics: object | None = None      # nexus.ops.metrics.RunMetrics: updated from each second's line
    poll_s: dict = field(default_factory=dict)  # venue -> seconds: poll its REST book (nexus.feeds.poll)
    ring_meta: bool = False            # write the venue rings' side files (nexus run --aeron)
    from_aeron: str | None = None      # CHANNEL[,STREAM]: venue rings from an Aeron subscription, no feeds here
    # co-located servers (nexus.feeds.run.cpu): the CPUs to pin to (the first: this process, the
    # readers and in-process feeds; with procs, the next ones to the feed processes in venue order)
    pin_cpu: tuple[int, ...] = ()
    busy_poll: bool = False            # spin instead of sleeping between polls: one core at 100 % per loop
    busy_poll_socket_us: int = 0       # SO_BUSY_POLL on each venue socket (refused without CAP_NET_ADMIN: logged)
    keep_warm: bool = False            # re-decode each feed's last trade frame every KEEP_WARM_INTERVAL_NS of idle (runtime)
    stages: bool = False               # per-stage wire-to-book stamps (nexus.feeds.stages; in-process feeds)
