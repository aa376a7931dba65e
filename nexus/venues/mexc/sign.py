"""MEXC spot v3 request signing.

MEXC Spot v3 API docs, "Signature" and "SIGNED Endpoint Examples for POST /api/v3/order":
the payload is totalParams, the query string concatenated without separator to the request
body, both as sent; HMAC-SHA256 with the secret key, lowercase hex; sent as the `signature`
parameter, the access key in the `X-MEXC-APIKEY` header.
"""

from __future__ import annotations

from nexus.exec.signing.base import HmacSigner, Signed

API_KEY_HEADER = "X-MEXC-APIKEY"


class MexcSigner(HmacSigner):
    venue = "mexc"
    __slots__ = ()

    def sign(self, method, path, query, body, timestamp, nonce=None) -> Signed:
        return Signed(self._hex((query + body).encode()), {API_KEY_HEADER: self.api_key})
