"""Signed callbacks from a durable outbox.

The outbox row is written in the same database transaction as the status change, so a
committed change always has its callback. The delivery worker POSTs due rows (oldest first,
one transaction's callbacks in order), records every attempt in the delivery log, and on
failure retries with exponential backoff (base * 2**(attempt-1), capped). Delivery is
at-least-once: a crash between the POST and the bookkeeping re-sends; receivers dedupe on
`event_id`. Each POST goes to the address its URL resolves to at that moment, checked against
the SSRF rules of `nexus.broker.callback_urls`; a refused address is a failed attempt.

Signature header: `X-Nexus-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import sqlalchemy as sa

from nexus.broker import callback_urls
from nexus.broker import schema as S

log = logging.getLogger("nexus.broker.callbacks")
SIGNATURE_HEADER = "X-Nexus-Signature"
DEFAULT_TOLERANCE_S = 300
BATCH = 64

_CB, _AT = S.callbacks.c, S.callback_attempts.c


def sign(secret: bytes, body: bytes, t: int) -> str:
    mac = hmac.new(secret, f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def verify(secret: bytes, header: str | None, body: bytes, *, now_s: int | None = None, tolerance_s: int = DEFAULT_TOLERANCE_S) -> bool:
    """For receivers: the header is well formed, fresh, and one v1 signature matches."""
    if not header:
        return False
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        k, _, v = item.strip().partition("=")
        parts.setdefault(k, []).append(v)
    try:
        t = int(parts["t"][0])
    except (KeyError, ValueError):
        return False
    now_s = int(time.time()) if now_s is None else now_s
    if abs(now_s - t) > tolerance_s:
        return False
    expected = hmac.new(secret, f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, v) for v in parts.get("v1", []))


def backoff_us(attempts: int, base_s: float, cap_s: float) -> int:
    return int(min(cap_s, base_s * (2 ** max(0, attempts - 1))) * 1_000_000)


class Deliverer:
    def __init__(self, broker) -> None:
        self.b = broker
        s = broker.settings
        self._client = httpx.Client(timeout=s.callback_timeout_s, follow_redirects=False)
        self._pool = ThreadPoolExecutor(max_workers=s.callback_workers, thread_name_prefix="callback")
        self._inflight: set[int] = set()
        self._lock = threading.Lock()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._client.close()

    def due(self, limit: int = BATCH) -> list[dict]:
        now = self.b.now_us()
        older = S.callbacks.alias("older")
        q = (
            sa.select(S.callbacks)
            .where(_CB.state == "pending", _CB.next_attempt_us <= now)
            .where(~sa.exists().where(older.c.transaction_id == _CB.transaction_id, older.c.state == "pending", older.c.id < _CB.id))
            .order_by(_CB.id)
            .limit(limit)
        )
        with self.b.db.read() as conn:
            return [dict(r) for r in conn.execute(q).mappings()]

    def tick(self) -> int:
        """Deliver what is due now; returns the number delivered."""
        rows = [r for r in self.due() if r["id"] not in self._inflight]
        if not rows:
            return 0
        with self._lock:
            self._inflight.update(r["id"] for r in rows)
        try:
            results = list(self._pool.map(self._post, rows))
            # one database transaction books the whole batch (attempt log + state)
            self.b.db.run(lambda conn: [self._book(conn, *res) for res in results])
            return sum(1 for res in results if res[1])
        finally:
            with self._lock:
                self._inflight.difference_update(r["id"] for r in rows)

    def _post(self, row: dict) -> tuple:
        body = row["body"].encode()
        t = int(time.time())
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(self.b.secrets.callback_secret, body, t), "User-Agent": "nexus-broker"}
        start = time.monotonic()
        status, error = None, None
        try:
            # resolved and checked again now (DNS rebinding), and the POST pinned to that address
            to = callback_urls.target(row["url"], self.b.settings.allow_private_callbacks)
            headers["Host"] = to.host_header
            extensions = {"sni_hostname": to.server_name} if to.server_name else None
            resp = self._client.post(to.url, content=body, headers=headers, extensions=extensions)
            status = resp.status_code
            if not 200 <= status < 300:
                error = f"HTTP {status}"
        except callback_urls.Refused as e:
            error = e.message[:300]
        except httpx.HTTPError as e:
            error = f"{type(e).__name__}: {e}"[:300]
        except Exception as e:  # a malformed URL and the like: logged, retried later
            error = f"{type(e).__name__}: {e}"[:300]
        ms = int((time.monotonic() - start) * 1000)
        return row, error is None, status, error, ms

    def _book(self, conn, row: dict, ok: bool, status: int | None, error: str | None, ms: int) -> None:
        now = self.b.now_us()
        attempts = row["attempts"] + 1
        conn.execute(
            S.callback_attempts.insert().values(
                callback_id=row["id"], transaction_id=row["transaction_id"], attempt=attempts, http_status=status, error=error, duration_ms=ms, at_us=now
            )
        )
        s = self.b.settings
        values = {"attempts": attempts, "last_error": error}
        if ok:
            values.update(state="delivered", delivered_at_us=now)
        else:
            values["next_attempt_us"] = now + backoff_us(attempts, s.callback_backoff_base_s, s.callback_backoff_cap_s)
        conn.execute(S.callbacks.update().where(_CB.id == row["id"], _CB.state == "pending").values(**values))
