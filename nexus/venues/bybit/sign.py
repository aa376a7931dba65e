"""Bybit v5 request signing (HMAC keys).

Bybit V5 API docs, "Integration Guidance" -> "Authentication": the string to sign is
`timestamp + api_key + recv_window + queryString` for GET and `... + jsonBodyString` for
POST, exactly as sent; HMAC-SHA256, lowercase hex. Headers `X-BAPI-API-KEY`,
`X-BAPI-TIMESTAMP` (ms), `X-BAPI-SIGN`, `X-BAPI-RECV-WINDOW`. The request carries either a
query (GET) or a body (POST), so `query + body` is what is signed.
"""

from __future__ import annotations

from nexus.exec.signing.base import HmacSigner, Signed

RECV_WINDOW_DEFAULT_MS = "5000"  # Bybit's documented default


class BybitSigner(HmacSigner):
    venue = "bybit-perp"
    __slots__ = ()

    def sign(self, method, path, query, body, timestamp, nonce=None,
             recv_window: str = RECV_WINDOW_DEFAULT_MS) -> Signed:
        sig = self._hex((timestamp + self.api_key + recv_window + query + body).encode())
        return Signed(sig, {"X-BAPI-API-KEY": self.api_key, "X-BAPI-TIMESTAMP": timestamp,
                            "X-BAPI-SIGN": sig, "X-BAPI-RECV-WINDOW": recv_window})
