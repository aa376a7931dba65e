"""KuCoin request signing, API key versions 2 and 3.

KuCoin API docs, "Authentication" -> "Signing a Message" / "Creating a Request": the
prehash string is `timestamp + method + endpoint + body`, where endpoint is the path with
its query (`/api/v1/deposit-addresses?currency=BTC`) and body the JSON string as sent (empty
for GET/DELETE); HMAC-SHA256 with the secret, Base64. For key versions 2 and 3 the
passphrase header is itself signed: Base64(HMAC-SHA256(secret, passphrase)); it is derived
once here and is sent (and shown by `nexus sign`), the clear passphrase is not. Headers
`KC-API-KEY`, `KC-API-SIGN`, `KC-API-TIMESTAMP` (ms), `KC-API-PASSPHRASE`,
`KC-API-KEY-VERSION`.
"""

from __future__ import annotations

from nexus.exec.signing.base import HmacSigner, Signed, SigningError

KEY_VERSIONS = ("2", "3")  # both sign the passphrase; version 1 (clear passphrase) is retired


class KucoinSigner(HmacSigner):
    venue = "kucoin"
    needs_passphrase = True
    __slots__ = ("_signed_passphrase", "key_version")

    def __init__(self, api_key: str, secret: str, passphrase: str | None = None, key_version: str = "2") -> None:
        super().__init__(api_key, secret, passphrase)
        if key_version not in KEY_VERSIONS:
            raise SigningError(f"`key_version` must be one of {', '.join(KEY_VERSIONS)}")
        self.key_version = key_version
        self._signed_passphrase = self._b64(self._passphrase.encode())
        self._passphrase = None  # only the signed form is needed from here on

    def sign(self, method, path, query, body, timestamp, nonce=None) -> Signed:
        sig = self._b64_prehash(timestamp, method, path, query, body)
        return Signed(sig, {"KC-API-KEY": self.api_key, "KC-API-SIGN": sig, "KC-API-TIMESTAMP": timestamp,
                            "KC-API-PASSPHRASE": self._signed_passphrase,
                            "KC-API-KEY-VERSION": self.key_version})
