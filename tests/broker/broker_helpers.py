"""Helpers shared by the broker tests (real servers on 127.0.0.1, no mocks)."""

from __future__ import annotations

import json
import secrets
import socket
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import uvicorn

from nexus.broker import assemble, callbacks
from nexus.backoffice import create_app
from nexus.broker.clock import ManualClock
from nexus.broker.context import Settings
from nexus.broker.workers import Workers

API_KEY = "test-api-key"
OPERATORS = {"alice": "alice-key", "bob": "bob-key"}
CALLBACK_SECRET = "test-callback-secret"
WITHDRAW = "0x" + "ab" * 20


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def local_settings(**kw) -> Settings:
    """The tests' settings. Their callback receivers listen on 127.0.0.1, which a broker
    refuses by default (SSRF): they run as `broker serve --allow-private-callbacks` does."""
    return Settings(**{"poll_interval_s": 0.02, "callback_backoff_base_s": 1.0, "callback_backoff_cap_s": 60.0,
                       "allow_private_callbacks": True, **kw})


_CHAIN_DIRS: dict[str, str] = {}  # PostgreSQL database -> where its embedded chain is kept


def make_broker(db_url: str, *, settings: Settings | None = None, clock=None):
    """A broker on the embedded chain, persisted like `serve` does it (beside a SQLite file; for
    PostgreSQL in a directory per database), so a test may start it again on the same ledger."""
    clock = clock or ManualClock()
    s = settings or local_settings()
    chain_dir = _CHAIN_DIRS.setdefault(db_url, tempfile.mkdtemp(prefix="nexus-chain-")) if db_url.startswith("postgresql") else None
    b = assemble.build(db_url=db_url, api_key=API_KEY, operators=OPERATORS, callback_secret=CALLBACK_SECRET, settings=s, clock=clock,
                       chain_dir=chain_dir)
    rt = Workers(b)
    rt.prepare()
    return b, rt


class ApiServer:
    def __init__(self, broker, runtime, *, background: bool = True) -> None:
        self.b, self.rt = broker, runtime
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.background = background
        self._server = uvicorn.Server(uvicorn.Config(create_app(broker), host="127.0.0.1", port=self.port, log_level="error"))
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    @property
    def clock(self) -> ManualClock:
        return self.b.clock

    def start(self) -> "ApiServer":
        self._thread.start()
        deadline = time.time() + 20
        while not self._server.started:
            if time.time() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        if self.background:
            self.rt.start()
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        if self.background:
            self.rt.stop()
        else:
            self.rt.deliverer.close()
        self.b.db.dispose()

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base + "/api/v1", headers={"X-API-Key": API_KEY}, timeout=30)

    def operator(self, name: str = "alice") -> httpx.Client:
        return httpx.Client(base_url=self.base + "/api/v1", headers={"X-Operator-Key": OPERATORS[name]}, timeout=30)

    def wait_status(self, code: str, status: str, timeout: float = 15.0) -> dict:
        c = self.client()
        deadline = time.time() + timeout
        tx = None
        while time.time() < deadline:
            tx = c.get(f"/transactions/{code}").json()
            if tx.get("status") == status:
                return tx
            time.sleep(0.02)
        raise AssertionError(f"{code} did not reach {status}: {tx}")

    def settle(self, timeout: float = 15.0) -> None:
        """Wait until the scheduler and the deliverer have nothing left to do now."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.rt.tick() == 0 and not self.rt.deliverer.due():
                return
            time.sleep(0.02)
        raise AssertionError("the broker did not settle")


def customer_and_account(c: httpx.Client, crypto: str = "ETH", merchant: bool = False, callback_url: str | None = None) -> dict:
    code = "c" + secrets.token_hex(4)
    r = c.post("/customers", json={"code": code, "name": "Test Customer", "email": f"{code}@example.org", "merchant": merchant})
    assert r.status_code == 201, r.text
    body = {"crypto": crypto, "withdraw_address": WITHDRAW}
    if callback_url:
        body["callback_url"] = callback_url
    r = c.post(f"/customers/{code}/accounts", json=body)
    assert r.status_code == 201, r.text
    return r.json()


class Receiver:
    """A callback endpoint on 127.0.0.1 that verifies X-Nexus-Signature. It can answer 503
    (down) or be stopped entirely (connection refused) and started again on the same port."""

    def __init__(self, secret: bytes, port: int | None = None) -> None:
        self.secret = secret
        self.port = port or free_port()
        self.events: list[dict] = []
        self.bad_signatures = 0
        self.down = False
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> "Receiver":
        rec = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if rec.down:
                    self.send_response(503)
                    self.end_headers()
                    return
                if not callbacks.verify(rec.secret, self.headers.get(callbacks.SIGNATURE_HEADER), body):
                    with rec._lock:
                        rec.bad_signatures += 1
                    self.send_response(401)
                    self.end_headers()
                    return
                with rec._lock:
                    rec.events.append(json.loads(body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *a):
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def statuses(self, code: str) -> list[str]:
        with self._lock:
            seen = {}
            for e in self.events:
                if e["transaction_code"] == code:
                    seen[e["event_id"]] = e
        return [seen[k]["status"] for k in sorted(seen, key=lambda k: int(k.rsplit(":", 1)[1]))]

    def wait_for(self, code: str, n: int, timeout: float = 15.0) -> list[str]:
        deadline = time.time() + timeout
        while time.time() < deadline:
            s = self.statuses(code)
            if len(s) >= n:
                return s
            time.sleep(0.02)
        raise AssertionError(f"receiver got {self.statuses(code)} for {code}, wanted {n} events")
