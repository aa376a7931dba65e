"""Bitget v2 request signing (HMAC keys).

Bitget API docs, "Quick Start" -> "Signature": the prehash string is
`timestamp + method.toUpperCase() + requestPath + "?" + queryString + body` (the `?` and
query only when there is a query), timestamp in milliseconds; HMAC-SHA256 with the secret,
Base64. Headers `ACCESS-KEY`, `ACCESS-SIGN`, `ACCESS-TIMESTAMP`, `ACCESS-PASSPHRASE` (in
clear: marked in `secret_headers`, left out of `nexus sign` output). The method is signed as
given (the caller sends it upper case). A missing passphrase is refused (seed: Bitget fails
silently without it).
"""

from __future__ import annotations

from nexus.exec.signing.base import ClearPassphraseSigner

PASSPHRASE_HEADER = "ACCESS-PASSPHRASE"


class BitgetSigner(ClearPassphraseSigner):
    venue = "bitget"
    header_names = ("ACCESS-KEY", "ACCESS-SIGN", "ACCESS-TIMESTAMP", PASSPHRASE_HEADER)
    __slots__ = ()
