"""`nexus run --sim --metrics-port 0` as a headless server runs it: a real subprocess, its
metrics endpoint scraped twice over HTTP and parsed with the Prometheus text parser."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import httpx
from prometheus_client.parser import text_string_to_metric_families

from nexus.ops.metrics import LATENCY_BUCKETS_S

VENUES = ("binance-perp", "okx-swap")


def _scrape(url: str) -> dict:
    return {f.name: f for f in text_string_to_metric_families(httpx.get(url, timeout=5).text)}


def _value(families: dict, family: str, sample: str, **labels) -> float:
    for s in families[family].samples:
        if s.name == sample and all(s.labels.get(k) == v for k, v in labels.items()):
            return s.value
    raise KeyError((sample, labels))


def _metrics_url(p: subprocess.Popen) -> str:
    line = p.stderr.readline()  # the first stderr line names the bound endpoint
    return json.loads(line)["metrics"]


def test_run_serves_venue_states_counters_and_latency_histogram():
    p = subprocess.Popen([sys.executable, "-m", "nexus.cli", "run", "--sim", "--json", "--duration", "8", "--venues",
                          ",".join(VENUES), "--metrics-port", "0", "--no-signals"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = _metrics_url(p)
        assert not url.endswith(":0/metrics")
        deadline = time.time() + 20
        while True:  # the first refresh comes after a second; venues go LIVE soon after
            first = _scrape(url)
            if "nexus_venue_state" in first and all(
                    _value(first, "nexus_venue_state", "nexus_venue_state", venue=v, nexus_venue_state="LIVE") == 1
                    for v in VENUES if any(s.labels.get("venue") == v for s in first["nexus_venue_state"].samples)) \
                    and len({s.labels["venue"] for s in first["nexus_venue_state"].samples}) == len(VENUES):
                break
            assert time.time() < deadline, first.keys()
            time.sleep(0.3)
        time.sleep(2.5)
        second = _scrape(url)
        for v in VENUES:
            assert _value(second, "nexus_venue_state", "nexus_venue_state", venue=v, nexus_venue_state="LIVE") == 1
            assert _value(second, "nexus_venue_state", "nexus_venue_state", venue=v, nexus_venue_state="DOWN") == 0
            m1 = _value(first, "nexus_venue_messages", "nexus_venue_messages_total", venue=v)
            m2 = _value(second, "nexus_venue_messages", "nexus_venue_messages_total", venue=v)
            assert m2 > m1 > 0
            assert _value(second, "nexus_venue_messages_per_second", "nexus_venue_messages_per_second", venue=v) > 0
            assert _value(second, "nexus_ring_lost_records", "nexus_ring_lost_records_total", venue=v) == 0
            assert _value(second, "nexus_venue_gaps", "nexus_venue_gaps_total", venue=v) == 0
            hist = [s for s in second["nexus_wire_to_book_latency_seconds"].samples
                    if s.labels.get("venue") == v and s.name.endswith("_bucket")]
            bounds = [s.labels["le"] for s in hist]
            assert bounds == [repr(float(b)) for b in LATENCY_BUCKETS_S] + ["+Inf"]
            counts = [s.value for s in hist]
            assert counts == sorted(counts) and counts[-1] > 0  # cumulative, and observed
            count = _value(second, "nexus_wire_to_book_latency_seconds", "nexus_wire_to_book_latency_seconds_count", venue=v)
            total_s = _value(second, "nexus_wire_to_book_latency_seconds", "nexus_wire_to_book_latency_seconds_sum", venue=v)
            assert count == counts[-1] and 0 < total_s < count  # each batch well under a second
            c1 = _value(first, "nexus_wire_to_book_latency_seconds", "nexus_wire_to_book_latency_seconds_count", venue=v)
            assert count > c1
        out, _ = p.communicate(timeout=30)
        assert p.returncode == 0
        assert json.loads(out.strip().splitlines()[-1])["summary"]
    finally:
        if p.poll() is None:
            p.kill()


def test_run_refuses_a_metrics_port_in_use():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        p = subprocess.run([sys.executable, "-m", "nexus.cli", "run", "--sim", "--json", "--duration", "1",
                            "--venues", "okx-swap", "--metrics-port", str(port)], capture_output=True, text=True, timeout=60)
    assert p.returncode == 4
    assert f"--metrics-port {port}" in p.stderr and "Traceback" not in p.stderr
