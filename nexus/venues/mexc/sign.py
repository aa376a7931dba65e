"""MEXC spot v3 request signing.

MEXC Spot v3 API docs, "Signature" and "SIGNED Endpoint Examples for POST /api/v3/order":
the payload is totalParams, the query string concatenated without separator to the request
body, both as sent; HMAC-SHA256 with the secret key, lowercase hex; sent as the `signature`
parameter, the access key in the `X-MEXC-APIKEY` header.
"""

from __future__ import annotations

from nexus.exec.signing.base import TotalParamsSigner


class MexcSigner(TotalParamsSigner):
    venue = "mexc"
    api_key_header = "X-MEXC-APIKEY"
    __slots__ = ()
