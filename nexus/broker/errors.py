"""Broker errors: one family under NexusError, each with the HTTP status and the stable error
code the API reports as `{"error": {"code", "message"}}`."""

from __future__ import annotations

from nexus.exceptions import NexusError


class BrokerError(NexusError):
    http_status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else self.code


class BadRequest(BrokerError):
    http_status, code = 400, "bad_request"


class Unauthorized(BrokerError):
    http_status, code = 401, "unauthorized"


class Forbidden(BrokerError):
    http_status, code = 403, "forbidden"


class NotFound(BrokerError):
    http_status, code = 404, "not_found"


class Conflict(BrokerError):
    """The request is well formed but the current state refuses it (409)."""

    http_status, code = 409, "conflict"


class IllegalTransition(Conflict):
    code = "illegal_transition"


class Invalid(BrokerError):
    """Semantically invalid input: amounts, currencies, replayed idempotency keys (422)."""

    http_status, code = 422, "invalid"


class ChainError(BrokerError):
    """The chain node refused or failed a request (upstream)."""

    http_status, code = 502, "chain_error"
