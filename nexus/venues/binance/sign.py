"""Binance spot and USD-M futures request signing (HMAC-SHA256 keys).

REST (Binance Spot API docs, "SIGNED Endpoint Examples for POST /api/v3/order" / "HMAC Keys";
USD-M Futures "SIGNED (TRADE and USER_DATA) Endpoint Security", same rule): the signature
payload is the query string concatenated *without separator* to the HTTP body, both exactly
as sent (non-ASCII already percent-encoded); HMAC-SHA256 with the secret key, hex; sent as the
`signature` parameter, the API key in the `X-MBX-APIKEY` header.

WebSocket API (Binance Spot WebSocket API docs, "SIGNED request example (HMAC)"): take every
request param except `signature` (with `apiKey`), sort by name, join `name=value` with `&`,
values as UTF-8 without percent-encoding; HMAC-SHA256 hex. Booleans are sent as JSON
`true`/`false` and signed as those words; numbers as their JSON text.
"""

from __future__ import annotations

from decimal import Decimal

from nexus.exec.signing.base import SigningError, TotalParamsSigner

API_KEY_HEADER = "X-MBX-APIKEY"


class BinanceSigner(TotalParamsSigner):
    venue = "binance-spot"
    api_key_header = API_KEY_HEADER
    __slots__ = ()

    def sign_ws(self, params: dict) -> str:
        """The WebSocket API signature of `params` (which hold `apiKey`, not `signature`)."""
        if "signature" in params:
            raise SigningError("`params` must not hold `signature` (it is what is being computed)")
        if params.get("apiKey") != self.api_key:
            raise SigningError("`params.apiKey` must be present and equal to `api_key`")
        payload = "&".join(f"{k}={ws_value(params[k], k)}" for k in sorted(params))
        return self._hex(payload.encode())


class BinancePerpSigner(BinanceSigner):
    venue = "binance-perp"
    __slots__ = ()


def ws_value(value, name: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, Decimal)):
        return str(value)
    raise SigningError(f"`params.{name}` must be a string, a number or a boolean")
