"""Gate API v4 request signing.

Gate API v4 docs, "Authentication" -> "API Signature string generation": the string to
sign is `METHOD + "\n" + URL + "\n" + query + "\n" + HexEncode(SHA512(body)) + "\n" +
timestamp`, where URL is the path with the `/api/v4` prefix, query the query string as sent
(not URL-decoded, empty when none), body the request body as sent (SHA-512 of the empty
string when none), timestamp in seconds; HMAC-SHA512 with the secret, hex. Headers `KEY`,
`SIGN`, `Timestamp`.
"""

from __future__ import annotations

import hashlib

from nexus.exec.signing.base import HmacSigner, Signed

EMPTY_BODY_SHA512_HEX = hashlib.sha512(b"").hexdigest()


class GateSigner(HmacSigner):
    venue = "gate"
    digest = "sha512"
    __slots__ = ()

    def sign(self, method, path, query, body, timestamp, nonce=None) -> Signed:
        body_hash = hashlib.sha512(body.encode()).hexdigest() if body else EMPTY_BODY_SHA512_HEX
        sig = self._hex(f"{method}\n{path}\n{query}\n{body_hash}\n{timestamp}".encode())
        return Signed(sig, {"KEY": self.api_key, "SIGN": sig, "Timestamp": timestamp})
