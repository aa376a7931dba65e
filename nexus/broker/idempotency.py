"""Idempotency keys for creating POSTs: the first request with a key stores its response in
the same database transaction that creates the resource; the same key with the same body
returns that response again; the same key with another body is refused (422)."""

from __future__ import annotations

import hashlib
import json
from typing import Callable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from nexus.broker import schema as S
from nexus.broker.errors import Invalid

KEY_LENGTH_MAX = 200


def request_hash(method: str, path: str, body: dict) -> str:
    canonical = json.dumps({"m": method, "p": path, "b": body}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def run(broker, key: str | None, req_hash: str, fn: Callable[[Connection], tuple[int, dict]]) -> tuple[int, dict, bool]:
    """(status code, response body, replayed?)"""
    if key is None:
        status, body = broker.db.run(fn)
        return status, body, False
    if not key or len(key) > KEY_LENGTH_MAX:
        raise Invalid(f"Idempotency-Key must be 1 to {KEY_LENGTH_MAX} characters", code="invalid_idempotency_key")

    def work(conn: Connection) -> tuple[int, dict, bool]:
        k = S.idempotency_keys.c
        row = conn.execute(sa.select(S.idempotency_keys).where(k.key == key)).mappings().first()
        if row is not None:
            if row["request_hash"] != req_hash:
                raise Invalid("this Idempotency-Key was used with a different request body", code="idempotency_key_reused")
            return row["status_code"], json.loads(row["response"]), True
        status, body = fn(conn)
        conn.execute(
            S.idempotency_keys.insert().values(key=key, request_hash=req_hash, status_code=status, response=json.dumps(body), created_at_us=broker.now_us())
        )
        return status, body, False

    # a concurrent first use of the same key loses on the primary key and retries: it then replays
    return broker.db.run(work, retry_integrity=True)
