"""OKX v5 request signing.

OKX API v5 docs, "REST Authentication" -> "Making Requests" / "Signature": the prehash
string is `timestamp + method + requestPath + body`, where requestPath carries the query
(`/api/v5/account/balance?ccy=BTC`) and the timestamp is ISO 8601 with milliseconds
(`2020-12-08T09:08:57.715Z`); HMAC-SHA256 with the secret key, Base64. Headers
`OK-ACCESS-KEY`, `OK-ACCESS-SIGN`, `OK-ACCESS-TIMESTAMP`, `OK-ACCESS-PASSPHRASE` (the
passphrase chosen when creating the key, sent in clear on every request). The passphrase is a
credential: `secret_headers` marks its header, so `nexus sign` leaves it out of its output.
A missing passphrase is refused here: OKX fails silently without it (seed, Troubleshooting).
"""

from __future__ import annotations

from nexus.exec.signing.base import ClearPassphraseSigner

PASSPHRASE_HEADER = "OK-ACCESS-PASSPHRASE"


class OkxSigner(ClearPassphraseSigner):
    venue = "okx-swap"
    header_names = ("OK-ACCESS-KEY", "OK-ACCESS-SIGN", "OK-ACCESS-TIMESTAMP", PASSPHRASE_HEADER)
    __slots__ = ()
