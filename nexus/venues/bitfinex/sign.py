"""Bitfinex v2 authenticated REST request signing.

Bitfinex API v2 docs, "Authenticated Endpoints" -> "Requests": the signature payload is
`"/api/" + apiPath + nonce + JSON body` (apiPath like `v2/auth/r/wallets`); HMAC-SHA384
with the API secret, hex. Headers `bfx-nonce`, `bfx-apikey`, `bfx-signature`. Here `path`
is the URL path as sent (`/v2/auth/w/order/submit`), so the payload is `"/api" + path`.
"""

from __future__ import annotations

from nexus.exec.signing.base import HmacSigner, Signed, require_text


class BitfinexSigner(HmacSigner):
    venue = "bitfinex"
    digest = "sha384"
    __slots__ = ()

    def sign(self, method, path, query, body, timestamp, nonce=None) -> Signed:
        nonce = require_text(nonce, "nonce")
        sig = self._hex(("/api" + path + nonce + body).encode())
        return Signed(sig, {"bfx-nonce": nonce, "bfx-apikey": self.api_key, "bfx-signature": sig})
