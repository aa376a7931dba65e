"""The helper every bridge calls (nexus.ops.metrics.BridgeMetrics), served and scraped over HTTP."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

from nexus.ops.metrics import BridgeMetrics, new_registry, serve


def test_bridge_metrics_served():
    registry = new_registry()
    m = BridgeMetrics(registry, "polymarket")
    m.upstream(True)
    m.relayed("upstream", 3)
    m.relayed("local")
    m.reconnected()
    m.clients(2)
    m.latency(0.0003)
    server, port = serve(registry, 0)
    try:
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    finally:
        server.shutdown()
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for f in text_string_to_metric_families(text) for s in f.samples}
    b = ("bridge", "polymarket")
    assert samples[("nexus_bridge_upstream_up", (b,))] == 1
    assert samples[("nexus_bridge_messages_total", (b, ("direction", "upstream")))] == 3
    assert samples[("nexus_bridge_messages_total", (b, ("direction", "local")))] == 1
    assert samples[("nexus_bridge_reconnects_total", (b,))] == 1
    assert samples[("nexus_bridge_clients", (b,))] == 2
    assert samples[("nexus_bridge_relay_latency_seconds_bucket", (b, ("le", "0.0005")))] == 1
    assert samples[("nexus_bridge_relay_latency_seconds_bucket", (b, ("le", "0.00025")))] == 0
