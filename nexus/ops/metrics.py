"""Prometheus metrics of every long-running process (the official `prometheus_client`), one
registry per process, served on `--metrics-port` (text exposition at /metrics).

- `RunMetrics`: `nexus run`. A collector over a snapshot the run refreshes once a second from
  the state its Runtime already keeps (the per-venue line, the readers' `lost` counters and
  wire-to-book latencies): nothing is counted per record, a scrape reads the last snapshot.
- `BrokerMetrics`: `nexus broker serve`. Flows by kind and status and the callback backlog,
  read from the database at scrape time; `HttpMetrics` counts and times every request (the
  middleware in nexus/ops/http.py feeds it).
- `BridgeMetrics`: the helper the bridges (bridges/) call: upstream state, relayed messages,
  reconnects, clients, relay latency.

Names follow Prometheus conventions: base units (seconds), `_total` on counters.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import numpy as np
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, StateSetMetricFamily
from prometheus_client.registry import Collector

VENUE_STATES = ("DOWN", "SYNCING", "LIVE", "STALE")
# wire-to-book latency buckets, seconds: 10 us .. 1 s
LATENCY_BUCKETS_S = (1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2, 5e-2, 0.1, 0.25, 1.0)
HTTP_BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
# the per-venue counters of a `nexus run` line exposed as Prometheus counters: line key -> (name, help)
VENUE_COUNTERS = {
    "msgs": ("nexus_venue_messages", "venue messages received"),
    "gaps": ("nexus_venue_gaps", "sequence gaps detected"),
    "resyncs": ("nexus_venue_resyncs", "book resynchronisations"),
    "reconnects": ("nexus_venue_reconnects", "WebSocket reconnects"),
    "attempts": ("nexus_venue_connect_attempts", "WebSocket connection attempts, failed ones included"),
    "checksum_failures": ("nexus_venue_checksum_failures", "book checksum mismatches"),
    "malformed": ("nexus_venue_malformed", "messages that could not be decoded"),
}


def new_registry() -> CollectorRegistry:
    """A registry of this process's own metrics (not the library's global one)."""
    return CollectorRegistry()


def serve(registry: CollectorRegistry, port: int, host: str = "127.0.0.1"):
    """Serve `registry` at http://host:port/metrics in a daemon thread; port 0 picks a free one.
    Returns (server, bound port). Raises OSError when the address cannot be bound."""
    server, _thread = start_http_server(port, addr=host, registry=registry)
    return server, server.server_address[1]


# -- nexus run ------------------------------------------------------------------------------


@dataclass
class _VenueSnap:
    state: str = "DOWN"
    counters: dict = field(default_factory=dict)
    msgs_per_s: float = 0.0
    ring_lost: int = 0
    buckets: np.ndarray = field(default_factory=lambda: np.zeros(len(LATENCY_BUCKETS_S) + 1, dtype=np.int64))
    latency_sum_s: float = 0.0


class RunMetrics(Collector):
    """`nexus run`'s metrics. `update(line, runtime)` once per refresh; `collect()` (the scrape,
    in the server's thread) reads the last snapshot, replaced whole so it is never half-built."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self._snap: dict[str, _VenueSnap] = {}
        self._batches_seen: dict[str, int] = {}
        self._t_last = 0.0
        self._bounds_ns = np.asarray(LATENCY_BUCKETS_S) * 1e9
        if registry is not None:
            registry.register(self)

    def update(self, line: dict, runtime) -> None:
        now = time.monotonic()
        dt = now - self._t_last if self._t_last else 0.0
        self._t_last = now
        snap = {}
        for venue, s in line["venues"].items():
            prev = self._snap.get(venue, _VenueSnap())
            v = _VenueSnap(state=s.get("state", "DOWN"), counters={k: int(s.get(k, 0)) for k in VENUE_COUNTERS})
            v.msgs_per_s = (v.counters["msgs"] - prev.counters.get("msgs", 0)) / dt if dt > 0 else 0.0
            rs = runtime.readers.get(venue)
            v.buckets, v.latency_sum_s = prev.buckets, prev.latency_sum_s
            if rs is not None:
                v.ring_lost = int(rs.reader.lost) if rs.reader is not None else 0
                self._add_latencies(venue, rs, v)
            snap[venue] = v
        self._snap = snap

    def _add_latencies(self, venue: str, rs, v: _VenueSnap) -> None:
        """The latencies noted since the last refresh (the newest of the readers' bounded
        samples: a refresh that falls behind by more than LATENCY_SAMPLES_MAX batches folds in
        the newest ones only), binned with one searchsorted."""
        new = rs.batches - self._batches_seen.get(venue, 0)
        self._batches_seen[venue] = rs.batches
        samples = list(rs.latency_ns)[-new:] if new > 0 else []
        if not samples:
            return
        arr = np.asarray(samples, dtype=np.float64)
        idx = np.searchsorted(self._bounds_ns, arr, side="left")
        v.buckets = v.buckets + np.bincount(idx, minlength=len(self._bounds_ns) + 1)
        v.latency_sum_s = v.latency_sum_s + float(arr.sum()) / 1e9

    def collect(self):
        snap = self._snap
        state = StateSetMetricFamily("nexus_venue_state", "venue feed state", labels=["venue"])
        rate = GaugeMetricFamily("nexus_venue_messages_per_second", "messages per second over the last refresh", labels=["venue"])
        lost = CounterMetricFamily("nexus_ring_lost_records", "records a ring reader lost to an overrun writer", labels=["venue"])
        lat = HistogramMetricFamily("nexus_wire_to_book_latency_seconds", "local receive to book applied, per ring batch",
                                    labels=["venue"])
        counters = {k: CounterMetricFamily(name, doc, labels=["venue"]) for k, (name, doc) in VENUE_COUNTERS.items()}
        for venue, v in snap.items():
            state.add_metric([venue], {s: v.state == s for s in VENUE_STATES})
            rate.add_metric([venue], v.msgs_per_s)
            lost.add_metric([venue], v.ring_lost)
            for k, fam in counters.items():
                fam.add_metric([venue], v.counters.get(k, 0))
            cum = np.cumsum(v.buckets)
            buckets = [(_le(b), int(c)) for b, c in zip(LATENCY_BUCKETS_S, cum[:-1])] + [("+Inf", int(cum[-1]))]
            lat.add_metric([venue], buckets, v.latency_sum_s)
        yield state
        yield rate
        yield lost
        yield lat
        yield from counters.values()


def _le(bound: float) -> str:
    return repr(float(bound))


# -- nexus broker serve ---------------------------------------------------------------------


class HttpMetrics:
    """Requests by method, route template and status, and their durations."""

    def __init__(self, registry: CollectorRegistry, prefix: str = "nexus_http") -> None:
        self.requests = Counter(f"{prefix}_requests", "HTTP requests served", ["method", "route", "status"], registry=registry)
        self.duration = Histogram(f"{prefix}_request_duration_seconds", "HTTP request duration", ["method", "route"],
                                  buckets=HTTP_BUCKETS_S, registry=registry)

    def observe(self, method: str, route: str, status: int, duration_s: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.duration.labels(method, route).observe(duration_s)


class BrokerMetrics(Collector):
    """The broker's flows (transactions by kind and status) and callback backlog (deliveries
    pending, and of those the ones due now), read from the database at scrape time;
    `nexus_broker_database_up` says whether that read worked."""

    def __init__(self, broker, registry: CollectorRegistry | None = None) -> None:
        self.b = broker
        self._lock = threading.Lock()  # one scrape at a time reads the database
        if registry is not None:
            registry.register(self)

    def _read(self):
        import sqlalchemy as sa

        from nexus.broker import schema as S

        t, cb = S.transactions.c, S.callbacks.c
        now = self.b.now_us()
        with self.b.db.read() as conn:
            flows = conn.execute(sa.select(t.kind, t.status, sa.func.count()).group_by(t.kind, t.status)).all()
            pending = conn.execute(sa.select(sa.func.count()).select_from(S.callbacks).where(cb.state == "pending")).scalar()
            due = conn.execute(sa.select(sa.func.count()).select_from(S.callbacks)
                               .where(cb.state == "pending", cb.next_attempt_us <= now)).scalar()
        return flows, int(pending or 0), int(due or 0)

    def collect(self):
        up = GaugeMetricFamily("nexus_broker_database_up", "1 when the last scrape could read the database")
        with self._lock:
            try:
                flows, pending, due = self._read()
            except Exception:  # the database is unreachable: say so, expose nothing stale
                up.add_metric([], 0)
                yield up
                return
        up.add_metric([], 1)
        yield up
        fam = GaugeMetricFamily("nexus_broker_flows", "transactions by kind and status", labels=["kind", "status"])
        for kind, status, n in flows:
            fam.add_metric([kind, status], n)
        yield fam
        yield GaugeMetricFamily("nexus_broker_callback_backlog", "callback deliveries pending", value=pending)
        yield GaugeMetricFamily("nexus_broker_callback_due", "pending callback deliveries due now", value=due)


# -- bridges --------------------------------------------------------------------------------


class BridgeMetrics:
    """What every bridge (bridges/<name>.py) reports, labelled with its name: call
    `BridgeMetrics(registry, "name")`, then `upstream(True|False)`, `relayed(direction)`,
    `reconnected()`, `clients(n)` and `latency(seconds)` as things happen."""

    def __init__(self, registry: CollectorRegistry, bridge: str) -> None:
        labels = ["bridge"]
        self._up = Gauge("nexus_bridge_upstream_up", "1 while the upstream connection is open", labels, registry=registry).labels(bridge)
        self._msgs = Counter("nexus_bridge_messages", "messages relayed", labels + ["direction"], registry=registry)
        self._reconnects = Counter("nexus_bridge_reconnects", "upstream reconnects", labels, registry=registry).labels(bridge)
        self._clients = Gauge("nexus_bridge_clients", "local clients connected", labels, registry=registry).labels(bridge)
        self._latency = Histogram("nexus_bridge_relay_latency_seconds", "upstream receive to local send", labels,
                                  buckets=LATENCY_BUCKETS_S, registry=registry).labels(bridge)
        self.bridge = bridge

    def upstream(self, up: bool) -> None:
        self._up.set(1 if up else 0)

    def relayed(self, direction: str, n: int = 1) -> None:
        self._msgs.labels(self.bridge, direction).inc(n)

    def reconnected(self) -> None:
        self._reconnects.inc()

    def clients(self, n: int) -> None:
        self._clients.set(n)

    def latency(self, seconds: float) -> None:
        self._latency.observe(seconds)
