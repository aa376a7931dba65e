"""`nexus broker serve` as an orchestrator sees it: /health and /ready (503 while the database
refuses connections, 200 again after), Prometheus metrics on --metrics-port (requests, flows,
callback backlog, database up), and the JSON access log with the keys masked."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import httpx
import psycopg
from prometheus_client.parser import text_string_to_metric_families

from broker_helpers import free_port

API_KEY = "ops-api-key-0123456789"
CALLBACK_SECRET = "ops-callback-secret-42"
OPERATOR_KEY = "ops-operator-key-77"


def _samples(url: str) -> list:
    return [s for f in text_string_to_metric_families(httpx.get(url, timeout=10).text) for s in f.samples]


def _pg_admin(pg, sql: str) -> None:
    with psycopg.connect(f"host=127.0.0.1 port={pg.port} user=nexus dbname=postgres", autocommit=True) as c:
        c.execute(sql)


def _wait(fn, timeout_s: float = 30.0):
    deadline = time.time() + timeout_s
    while True:
        try:
            out = fn()
            if out:
                return out
        except httpx.HTTPError:
            pass
        assert time.time() < deadline, "timed out"
        time.sleep(0.1)


def test_serve_health_ready_metrics_and_access_log(pg, tmp_path):
    dbname = f"ops{os.getpid()}"
    db_url = pg.create_database(dbname)
    key_file = tmp_path / "api.key"
    key_file.write_text(API_KEY + "\n")
    key_file.chmod(0o600)
    port = free_port()
    env = {**os.environ, "NEXUS_BROKER_CALLBACK_SECRET": CALLBACK_SECRET, "NEXUS_BROKER_OPERATORS": f"ann={OPERATOR_KEY}"}
    env.pop("NEXUS_BROKER_API_KEY", None)
    p = subprocess.Popen([sys.executable, "-m", "nexus.cli", "broker", "serve", "--db", db_url, "--port", str(port),
                          "--api-key-file", str(key_file), "--price", "ETH=2500", "--metrics-port", "0",
                          "--log-format", "json", "--log-level", "info"],
                         env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    err_lines: list[str] = []
    reader = threading.Thread(target=lambda: err_lines.extend(iter(p.stderr.readline, "")), daemon=True)
    reader.start()
    base = f"http://127.0.0.1:{port}"
    try:
        metrics_url = _wait(lambda: next((json.loads(l)["metrics"] for l in err_lines if '"metrics"' in l), None))
        assert _wait(lambda: httpx.get(base + "/health").status_code == 200)
        ready = httpx.get(base + "/ready")
        assert ready.status_code == 200
        assert ready.json() == {"ready": True, "checks": {"database": "ok", "chain": "ok", "workers": "ok"}}

        c = httpx.Client(base_url=base + "/api/v1", headers={"X-API-Key": API_KEY}, timeout=10)
        assert c.post("/customers", json={"code": "o1", "name": "O", "email": "o@example.org"}).status_code == 201
        acc = c.post("/customers/o1/accounts", json={"crypto": "ETH", "withdraw_address": "0x" + "cd" * 20}).json()
        assert c.post("/buy", json={"account_code": acc["account_code"], "payment_method": "sepa", "fiat_amount": "10.00"}).status_code == 201
        assert c.get("/transactions/nosuch").status_code == 404

        samples = _samples(metrics_url)
        by = {(s.name, tuple(sorted(s.labels.items()))): s.value for s in samples}
        assert by[("nexus_broker_database_up", ())] == 1
        assert by[("nexus_http_requests_total", (("method", "POST"), ("route", "/api/v1/customers"), ("status", "201")))] == 1
        assert by[("nexus_http_requests_total", (("method", "GET"), ("route", "/api/v1/transactions/{code}"), ("status", "404")))] == 1
        assert by[("nexus_http_request_duration_seconds_count", (("method", "POST"), ("route", "/api/v1/buy")))] == 1
        flows = {(s.labels["kind"], s.labels["status"]): s.value for s in samples if s.name == "nexus_broker_flows"}
        assert sum(v for (kind, status), v in flows.items() if status == "BuyInitiated") == 1
        assert by[("nexus_broker_callback_backlog", ())] == 0  # no callback_url given: nothing to deliver

        # the database refuses connections: not ready (the process is still healthy), then ready again
        _pg_admin(pg, f'ALTER DATABASE "{dbname}" ALLOW_CONNECTIONS false')
        _pg_admin(pg, f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{dbname}'")
        down = _wait(lambda: (r := httpx.get(base + "/ready")).status_code == 503 and r)
        assert down.json()["ready"] is False and down.json()["checks"]["database"].startswith("failed")
        assert httpx.get(base + "/health").status_code == 200
        assert [s.value for s in _samples(metrics_url) if s.name == "nexus_broker_database_up"] == [0]
        _pg_admin(pg, f'ALTER DATABASE "{dbname}" ALLOW_CONNECTIONS true')
        assert _wait(lambda: httpx.get(base + "/ready").status_code == 200)

        p.send_signal(signal.SIGTERM)
        assert p.wait(timeout=30) == 0
        reader.join(timeout=10)
        access = [json.loads(l) for l in err_lines if l.startswith("{") and '"nexus.access"' in l]
        posts = [a["request"] for a in access if a["request"]["route"] == "/api/v1/customers"]
        assert posts and posts[0]["method"] == "POST" and posts[0]["status"] == 201
        assert posts[0]["auth"] == {"x-api-key": "***"} and posts[0]["duration_ms"] >= 0
        assert {a["level"] for a in access} == {"info"} and all(a["ts"] and a["msg"] for a in access)
        assert any(a["request"]["route"] == "/ready" and a["request"]["status"] == 503 for a in access)
        everything = "".join(err_lines) + p.stdout.read()
        for secret in (API_KEY, CALLBACK_SECRET, OPERATOR_KEY):
            assert secret not in everything
    finally:
        if p.poll() is None:
            p.kill()
        _pg_admin(pg, f'ALTER DATABASE "{dbname}" ALLOW_CONNECTIONS true')
