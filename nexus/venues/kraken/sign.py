"""Kraken spot REST request signing.

Kraken API docs, "Spot REST Authentication" -> "Setting the API-Sign Parameter":
`API-Sign` = Base64(HMAC-SHA512(URI path + SHA256(nonce + POST data), Base64-decoded
private key)); the URI path is the part from `/0/private`, the POST data the form-encoded
body as sent (which itself carries `nonce=`). Headers `API-Key`, `API-Sign`. Kraken is
data-only in Nexus's execution matrix; the signer exists for `nexus sign` and conformance.
"""

from __future__ import annotations

import hashlib

from nexus.exec.signing.base import HmacSigner, Signed, decode_b64, require_text


class KrakenSigner(HmacSigner):
    venue = "kraken"
    digest = "sha512"
    __slots__ = ()

    def _key_bytes(self, secret: str) -> bytes:
        return decode_b64(secret, "secret")

    def sign(self, method, path, query, body, timestamp, nonce=None) -> Signed:
        nonce = require_text(nonce, "nonce")
        inner = hashlib.sha256((nonce + body).encode()).digest()
        sig = self._b64(path.encode() + inner)
        return Signed(sig, {"API-Key": self.api_key, "API-Sign": sig})
