"""`nexus bench broker`: full Buy flows per second on SQLite and on PostgreSQL, and signed
callback deliveries per second, side by side. Each figure is checked before it is reported:
every flow must reach BuyCompleted with the crypto on chain and a clean audit; every
callback must arrive with a valid signature."""

from __future__ import annotations

import json
import secrets
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

from nexus.broker import callbacks
from nexus.broker import schema as S

API_KEY = "bench-" + secrets.token_hex(8)
CALLBACK_SECRET = secrets.token_hex(16)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Receiver:
    def __init__(self) -> None:
        self.ok = 0
        self.bad = 0
        self.ids: set[str] = set()
        self.completed: dict[str, threading.Event] = {}
        lock = threading.Lock()
        rec = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                good = callbacks.verify(CALLBACK_SECRET.encode(), self.headers.get(callbacks.SIGNATURE_HEADER), body)
                with lock:
                    if good:
                        event = json.loads(body)
                        rec.ok += 1
                        rec.ids.add(event["event_id"])
                        if event["status"] == "BuyCompleted":
                            rec.completed.setdefault(event["transaction_code"], threading.Event()).set()
                    else:
                        rec.bad += 1
                self.send_response(200 if good else 401)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        self._lock = lock
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_completed(self, code: str, timeout: float) -> bool:
        with self._lock:
            ev = self.completed.setdefault(code, threading.Event())
        return ev.wait(timeout)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _broker(db_url: str):
    import uvicorn

    from nexus.broker import assemble
    from nexus.broker.api import create_app
    from nexus.broker.context import Settings
    from nexus.broker.workers import Workers

    b = assemble.build(db_url=db_url, api_key=API_KEY, operators={}, callback_secret=CALLBACK_SECRET,
                       settings=Settings(poll_interval_s=0.005, callback_workers=16, allow_private_callbacks=True))
    rt = Workers(b)
    rt.prepare()
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(b), host="127.0.0.1", port=port, log_level="error", access_log=False))
    th = threading.Thread(target=server.run, daemon=True)
    th.start()
    while not server.started:
        time.sleep(0.01)
    return b, rt, server, th, f"http://127.0.0.1:{port}/api/v1"


def buy_flows(db_url: str, flows: int, concurrency: int) -> dict:
    """Create customer+account once; then `flows` times, from `concurrency` clients: POST /buy
    with a callback URL, POST payment, and wait for the signed BuyCompleted callback (the
    crypto mined on the in-process chain). Wall time over all flows."""
    from nexus.broker.audit import audit

    b, rt, server, th, base = _broker(db_url)
    rt.start()
    rec = _Receiver()
    withdraw = "0x" + secrets.token_hex(20)
    try:
        with httpx.Client(base_url=base, headers={"X-API-Key": API_KEY}, timeout=60) as c:
            c.post("/customers", json={"code": "bench", "name": "Bench", "email": "b@example.org"}).raise_for_status()
            acc = c.post("/customers/bench/accounts", json={"crypto": "ETH", "withdraw_address": withdraw}).json()

        def one(_i: int) -> tuple[str, float]:
            with httpx.Client(base_url=base, headers={"X-API-Key": API_KEY}, timeout=60) as c:
                t0 = time.perf_counter()
                q = c.post("/buy", json={"account_code": acc["account_code"], "payment_method": "sepa", "fiat_amount": "20.00",
                                         "callback_url": rec.url}).json()
                c.post(f"/transactions/{q['transaction_code']}/payment").raise_for_status()
                if not rec.wait_completed(q["transaction_code"], 120):
                    raise RuntimeError(f"{q['transaction_code']} did not complete")
                return q["crypto_amount"], time.perf_counter() - t0

        start = time.perf_counter()
        with ThreadPoolExecutor(concurrency) as pool:
            results = list(pool.map(one, range(flows)))
        elapsed = time.perf_counter() - start
        from nexus.broker.units import ETH, to_units

        expected = sum(to_units(a, ETH) for a, _ in results)
        on_chain = b.chain.balance("ETH", withdraw)
        latencies = sorted(t for _, t in results)
        violations = audit(b.db)
        return {
            "flows": flows,
            "concurrency": concurrency,
            "seconds": round(elapsed, 3),
            "buy_flows_per_s": round(flows / elapsed, 2),
            "flow_latency_ms_p50": round(latencies[len(latencies) // 2] * 1000, 1),
            "flow_latency_ms_p99": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000, 1),
            "correct": on_chain == expected and not violations,
        }
    finally:
        server.should_exit = True
        th.join(timeout=10)
        rt.stop()
        rec.close()
        b.db.dispose()


def callback_deliveries(db_url: str, count: int) -> dict:
    """`count` outbox rows (one per transaction, so none waits for another) delivered to a local
    receiver that verifies every signature."""
    from nexus.broker import assemble
    from nexus.broker.callbacks import Deliverer
    from nexus.broker.context import Settings
    from nexus.broker.workers import Workers

    b = assemble.build(db_url=db_url, api_key=API_KEY, operators={}, callback_secret=CALLBACK_SECRET,
                       settings=Settings(callback_workers=16, allow_private_callbacks=True))
    Workers(b).prepare()
    rec = _Receiver()
    now = b.now_us()
    rows = [
        {"transaction_id": 1_000_000 + i, "history_id": 1_000_000 + i, "url": rec.url, "state": "pending", "attempts": 0,
         "next_attempt_us": now, "created_at_us": now,
         "body": json.dumps({"event_id": f"BENCH-{i}:1", "transaction_code": f"BENCH-{i}", "type": "buy", "status": "BuyCompleted",
                             "previous_status": "Sending", "at": "2025-01-01T00:00:00.000Z"})}
        for i in range(count)
    ]
    with b.db.begin() as conn:
        conn.execute(S.callbacks.insert(), rows)
    d = Deliverer(b)
    try:
        start = time.perf_counter()
        delivered = 0
        while delivered < count and time.perf_counter() - start < 300:
            delivered += d.tick()
        elapsed = time.perf_counter() - start
    finally:
        d.close()
        rec.close()
        b.db.dispose()
    return {
        "callbacks": count,
        "seconds": round(elapsed, 3),
        "deliveries_per_s": round(delivered / elapsed, 1),
        "correct": delivered == count and rec.bad == 0 and len(rec.ids) == count,
    }


def run(*, quick: bool = False, progress=None) -> dict:
    from nexus.broker.pgtemp import PgServer

    flows, concurrency, n_callbacks = (20, 4, 200) if quick else (200, 8, 2000)
    say = progress or (lambda m: None)
    out: dict = {"buy_flows": {}, "callback_deliveries": {}}
    with tempfile.TemporaryDirectory() as d:
        pg = PgServer().start()
        try:
            for name, url_for in (("sqlite", lambda tag: f"{d}/{tag}.db"), ("postgresql", pg.create_database)):
                say(f"{name}: {flows} full Buy flows, {concurrency} concurrent clients")
                out["buy_flows"][name] = buy_flows(url_for("flows"), flows, concurrency)
                say(f"{name}: {n_callbacks} callback deliveries")
                out["callback_deliveries"][name] = callback_deliveries(url_for("callbacks"), n_callbacks)
        finally:
            pg.stop()
    out["note"] = "in-process chain (eth-tester + py-evm): each Buy signs and mines one Ethereum transaction"
    return out
