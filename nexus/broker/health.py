"""`GET /health` (the process answers) and `GET /ready` (it can do its work: the database
answers a query, the chain answers for its head block, the background workers run) for load
balancers and orchestrators. No key needed; nothing in the answers names a host, a URL or a
key: a failed check says which check and the error's class."""

from __future__ import annotations

from typing import Literal

import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from nexus.broker.context import Broker

CHECK_OK = "ok"


class HealthOut(BaseModel):
    status: Literal["ok"]


class ReadyOut(BaseModel):
    ready: bool
    checks: dict[str, str] = Field(description="database, chain, workers: 'ok' or why not")


def _check(fn) -> str:
    try:
        fn()
    except Exception as e:  # any failure is the answer, not an error of this endpoint
        return f"failed ({type(e).__name__})"
    return CHECK_OK


def readiness(b: Broker) -> dict[str, str]:
    def database():
        with b.db.read() as conn:
            conn.execute(sa.text("SELECT 1"))

    def workers():
        if b.workers_alive is None or not b.workers_alive():
            raise RuntimeError("not running")

    return {"database": _check(database), "chain": _check(b.chain.head), "workers": _check(workers)}


def add_routes(app: FastAPI, b: Broker, dependencies: list) -> None:
    @app.get("/health", response_model=HealthOut, tags=["operations"], dependencies=dependencies,
             summary="liveness: the process answers")
    def health():
        return {"status": "ok"}

    @app.get("/ready", response_model=ReadyOut, tags=["operations"], dependencies=dependencies,
             responses={503: {"model": ReadyOut, "description": "a check failed"}},
             summary="readiness: database and chain reachable, workers running")
    def ready():
        checks = readiness(b)
        ok = all(v == CHECK_OK for v in checks.values())
        return JSONResponse({"ready": ok, "checks": checks}, status_code=200 if ok else 503)
