"""`nexus broker serve` as users run it: the in-process chain, keys from the environment,
`--time-scale` driving the 30-minute Buy timer in about a second, a clean SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx

from nexus.broker.clock import ScaledClock

from broker_helpers import free_port


def test_scaled_clock_runs_faster_and_never_backwards():
    past_future = int(time.time() * 1e6) + 3_600_000_000
    c = ScaledClock(1000.0, not_before_us=past_future)
    a = c.now_us()
    assert a >= past_future
    time.sleep(0.01)
    assert c.now_us() - a >= 5_000_000  # >= 5 s of broker time in 10 ms


def test_serve_sim_with_time_scale(tmp_path, db_url):
    port = free_port()
    env = {**os.environ, "NEXUS_BROKER_API_KEY": "serve-key", "NEXUS_BROKER_CALLBACK_SECRET": "serve-secret",
           "NEXUS_BROKER_OPERATORS": "ann=ann-key bob=bob-key"}
    log = open(tmp_path / "serve.log", "w")
    p = subprocess.Popen([sys.executable, "-m", "nexus.cli", "broker", "serve", "--db", db_url, "--port", str(port),
                          "--chain", "sim", "--time-scale", "3600", "--price", "ETH=2500"], env=env, stdout=log, stderr=log)
    try:
        c = httpx.Client(base_url=f"http://127.0.0.1:{port}/api/v1", headers={"X-API-Key": "serve-key"}, timeout=10)
        deadline = time.time() + 60
        while True:
            try:
                if c.get("/prices/ETH").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.time() < deadline and p.poll() is None, (tmp_path / "serve.log").read_text()
            time.sleep(0.1)
        assert c.get("/prices/ETH").json()["buy_price"] == "2512.500000"
        c.post("/customers", json={"code": "s1", "name": "S", "email": "s@example.org"})
        acc = c.post("/customers/s1/accounts", json={"crypto": "ETH", "withdraw_address": "0x" + "cd" * 20}).json()
        code = c.post("/buy", json={"account_code": acc["account_code"], "payment_method": "sepa", "fiat_amount": "10.00"}).json()["transaction_code"]
        deadline = time.time() + 20  # 30 broker minutes are 0.5 s at 3600x
        while c.get(f"/transactions/{code}").json()["status"] != "BuyCancelled":
            assert time.time() < deadline
            time.sleep(0.1)
        assert c.get(f"/transactions/{code}").json()["history"][-1]["by"] == "system:timer"
        op = httpx.Client(base_url=f"http://127.0.0.1:{port}/api/v1", headers={"X-Operator-Key": "bob-key"}, timeout=10)
        assert op.get("/operator/balances/ETH").status_code == 200
        p.send_signal(signal.SIGTERM)
        assert p.wait(timeout=30) == 0
        out = (tmp_path / "serve.log").read_text()
        for secret in ("serve-key", "serve-secret", "ann-key", "bob-key"):
            assert secret not in out
    finally:
        if p.poll() is None:
            p.kill()


SERVE_ENV = {**os.environ, "NEXUS_BROKER_API_KEY": "serve-key", "NEXUS_BROKER_CALLBACK_SECRET": "serve-secret"}


def _serve_cmd(tmp_path, *args: str) -> list[str]:
    return [sys.executable, "-m", "nexus.cli", "broker", "serve", "--db", str(tmp_path / "b.db"), *args]


def test_serve_port_in_use_exits_4_without_claiming_to_listen(tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        r = subprocess.run(_serve_cmd(tmp_path, "--port", str(port)), env=SERVE_ENV, capture_output=True, text=True, timeout=120)
    assert r.returncode == 4, r.stderr
    assert "listening" not in r.stderr and f"cannot listen on 127.0.0.1:{port}: Address already in use" in r.stderr


def test_serve_bad_host_exits_4(tmp_path):
    r = subprocess.run(_serve_cmd(tmp_path, "--host", "999.1.1.1"), env=SERVE_ENV, capture_output=True, text=True, timeout=120)
    assert r.returncode == 4 and "listening" not in r.stderr and "cannot listen on 999.1.1.1:8080" in r.stderr, r.stderr


def test_serve_port_0_prints_the_port_it_bound(tmp_path):
    import json

    p = subprocess.Popen(_serve_cmd(tmp_path, "--port", "0"), env=SERVE_ENV, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True)
    try:
        lines = []
        for line in p.stderr:
            lines.append(line)
            if line.startswith('{"listening"'):
                break
        else:
            raise AssertionError("".join(lines))
        url = json.loads(line)["listening"]
        port = int(url.rsplit(":", 1)[1])
        assert url.startswith("http://127.0.0.1:") and port != 0
        r = httpx.get(f"{url}/api/v1/prices/ETH", headers={"X-API-Key": "serve-key"}, timeout=10)
        assert r.status_code == 200 and r.json()["crypto"] == "ETH"
        p.send_signal(signal.SIGTERM)
        assert p.wait(timeout=30) == 0
    finally:
        if p.poll() is None:
            p.kill()


def test_serve_database_error_says_what_failed(tmp_path):
    cmd = [sys.executable, "-m", "nexus.cli", "broker", "serve", "--db", "postgresql://u:pw-not-shown@127.0.0.1:1/b", "--port", "0"]
    r = subprocess.run(cmd, env=SERVE_ENV, capture_output=True, text=True, timeout=120)
    assert r.returncode == 4 and "Connection refused" in r.stderr and "pw-not-shown" not in r.stderr, r.stderr


def test_a_new_sqlite_database_is_owner_only(tmp_path):
    """Issue 16, item 14: the broker's SQLite file (and its -wal/-shm) 0600 under a 022 umask,
    whether the broker or `tradebot settings set` creates it."""
    import stat

    from nexus.tradebot.store import open_db

    from broker_helpers import make_broker

    old = os.umask(0o022)
    try:
        b, rt = make_broker(str(tmp_path / "broker.db"))
        rt.deliverer.close()
        open_db(str(tmp_path / "tradebot.db")).dispose()
        with b.db.read() as conn:  # the -wal and -shm files exist while a connection is open
            conn.exec_driver_sql("SELECT 1")
            files = sorted(p.name for p in tmp_path.iterdir())
            modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in tmp_path.iterdir()}
        b.db.dispose()
    finally:
        os.umask(old)
    assert {"broker.db", "broker.db-wal", "broker.db-shm", "tradebot.db"} <= set(files), files
    assert all(m == 0o600 for m in modes.values()), {k: oct(v) for k, v in modes.items()}


def test_docs_page_is_served(api):
    """Issue 16, item 15: FastAPI's /docs page (Swagger UI over /openapi.json), as the README says."""
    r = httpx.get(f"{api.base}/docs", timeout=10)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "swagger-ui" in r.text and "/openapi.json" in r.text
