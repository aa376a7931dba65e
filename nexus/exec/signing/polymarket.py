"""Polymarket CLOB signing: the L2 HMAC of API requests and the EIP-712 signatures.

L2 (Polymarket CLOB docs, "Authentication" -> "L2 Methods"; py-clob-client
`signing/hmac.py` behaviour and its published test): the message is
`timestamp + method + requestPath + body` (body omitted when empty; the query string is
not part of requestPath: py-clob-client signs `/data/orders` and appends the query to the
URL afterwards), the secret is
base64url-decoded, HMAC-SHA256, base64url-encoded (with padding). Headers `POLY_ADDRESS`,
`POLY_SIGNATURE`, `POLY_TIMESTAMP`, `POLY_API_KEY`, `POLY_PASSPHRASE` (in clear, marked in
`secret_headers`).

L1 ClobAuth (docs "L1 Methods"): EIP-712 domain {name "ClobAuthDomain", version "1",
chainId}, struct `ClobAuth(address address,string timestamp,uint256 nonce,string message)`
with the fixed message below.

Orders (CTF Exchange contract, Polymarket `python-order-utils` model): domain {name
"Polymarket CTF Exchange", version "1", chainId, verifyingContract = the exchange (or the
neg-risk exchange)}, struct `Order` with the fields in ORDER_FIELDS. Signatures are the
65-byte r||s||v (v 27/28), 0x-hex.
"""

from __future__ import annotations

import base64

from nexus.exec.signing.base import HmacSigner, Signed, decode_b64, require_text
from nexus.exec.signing.eip712 import PrivateKey, typed_digest

PASSPHRASE_HEADER = "POLY_PASSPHRASE"
CLOB_AUTH_MESSAGE = "This message attests that I control the given wallet"
CLOB_AUTH_DOMAIN = {"name": "ClobAuthDomain", "version": "1"}
CLOB_AUTH_FIELDS = (("address", "address"), ("timestamp", "string"), ("nonce", "uint256"),
                    ("message", "string"))
EXCHANGE_DOMAIN = {"name": "Polymarket CTF Exchange", "version": "1"}
ORDER_FIELDS = (("salt", "uint256"), ("maker", "address"), ("signer", "address"), ("taker", "address"),
                ("tokenId", "uint256"), ("makerAmount", "uint256"), ("takerAmount", "uint256"),
                ("expiration", "uint256"), ("nonce", "uint256"), ("feeRateBps", "uint256"),
                ("side", "uint8"), ("signatureType", "uint8"))
SIDE_BUY, SIDE_SELL = 0, 1


class PolymarketSigner(HmacSigner):
    """The L2 HMAC. `address` (the POLY_ADDRESS header) is optional for signing."""

    venue = "polymarket"
    secret_headers = (PASSPHRASE_HEADER,)
    __slots__ = ("address",)

    def __init__(self, api_key: str, secret: str, passphrase: str | None = None, address: str | None = None) -> None:
        super().__init__(api_key, secret, passphrase)
        self.address = address

    def _key_bytes(self, secret: str) -> bytes:
        return decode_b64(secret, "secret", urlsafe=True)

    def sign(self, method, path, query, body, timestamp, nonce=None) -> Signed:
        sig = base64.urlsafe_b64encode(self._mac((timestamp + method + path + body).encode())).decode("ascii")
        headers = {"POLY_SIGNATURE": sig, "POLY_TIMESTAMP": timestamp, "POLY_API_KEY": self.api_key}
        if self.address:
            headers = {"POLY_ADDRESS": self.address, **headers}
        if self._passphrase:
            headers[PASSPHRASE_HEADER] = self._passphrase
        return Signed(sig, headers)


def signature_hex(key: PrivateKey, digest: bytes) -> str:
    r, s, v = key.sign_digest(digest)
    return "0x" + r.to_bytes(32, "big").hex() + s.to_bytes(32, "big").hex() + f"{v:02x}"


def sign_order(key: PrivateKey, chain_id: int, exchange: str, order: dict) -> str:
    """The EIP-712 signature of a CTF Exchange order (fields under their EIP-712 names)."""
    domain = {**EXCHANGE_DOMAIN, "chainId": chain_id, "verifyingContract": require_text(exchange, "exchange")}
    return signature_hex(key, typed_digest(domain, "Order", ORDER_FIELDS, order, "order."))


def sign_clob_auth(key: PrivateKey, chain_id: int, address: str, timestamp: str, nonce: int) -> str:
    """The L1 ClobAuth signature (`timestamp` is the string sent in POLY_TIMESTAMP)."""
    message = {"address": address, "timestamp": timestamp, "nonce": nonce, "message": CLOB_AUTH_MESSAGE}
    return signature_hex(key, typed_digest({**CLOB_AUTH_DOMAIN, "chainId": chain_id}, "ClobAuth",
                                           CLOB_AUTH_FIELDS, message, "clob_auth."))
