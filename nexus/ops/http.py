"""An ASGI middleware for HTTP servers (the broker): counts and times every request into
`HttpMetrics` and writes the access log, one line per request on the `nexus.access` logger.

The access log carries method, path, route template, status, duration, client address and
user agent, never a header value that authenticates: the names of the key headers present
are logged with their values masked, and the query string is left out (it is not where keys
go, but nothing guarantees a client knows that)."""

from __future__ import annotations

import logging
import time

from nexus.ops.logs import ACCESS_LOGGER

MASK = "***"
SECRET_HEADERS = frozenset({b"x-api-key", b"x-operator-key", b"authorization", b"cookie"})
UNMATCHED_ROUTE = "<unmatched>"  # a path no route took: one label, not one per path tried

access_log = logging.getLogger(ACCESS_LOGGER)


class OpsMiddleware:
    def __init__(self, app, metrics=None) -> None:
        self.app = app
        self.metrics = metrics  # nexus.ops.metrics.HttpMetrics or None

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        t0 = time.perf_counter()
        status = 500

        async def send_status(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            duration_s = time.perf_counter() - t0
            route = getattr(scope.get("route"), "path", None) or UNMATCHED_ROUTE
            if self.metrics is not None:
                self.metrics.observe(scope["method"], route, status, duration_s)
            if access_log.isEnabledFor(logging.INFO):
                _log(scope, route, status, duration_s)


def _log(scope, route: str, status: int, duration_s: float) -> None:
    headers = dict(scope.get("headers") or [])
    client = scope.get("client")
    request = {
        "method": scope["method"],
        "path": scope["path"],
        "route": route,
        "status": status,
        "duration_ms": round(duration_s * 1e3, 3),
        "client": f"{client[0]}:{client[1]}" if client else None,
        "user_agent": headers.get(b"user-agent", b"").decode("latin-1")[:200] or None,
        "auth": {k.decode(): MASK for k in sorted(SECRET_HEADERS & headers.keys())},
    }
    access_log.info('%s %s %s %.1fms', request["method"], request["path"], status, request["duration_ms"],
                    extra={"request": request})
