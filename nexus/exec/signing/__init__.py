"""Request signing for every venue Nexus trades on, one module per venue family.

The registry below maps a venue id to its signer. HMAC venues share one interface
(`HmacSigner.sign(method, path, query, body, timestamp, nonce) -> Signed`); Hyperliquid,
Polymarket's EIP-712 signatures and Coinbase's JWTs have their own functions in their
modules. `nexus sign --venue V` (nexus/commands/sign.py) exposes all of it line by line.
"""

from __future__ import annotations

import importlib

from nexus.exec.signing.base import HmacSigner, Signed, SigningError

# venue id -> "module:class" of its HMAC signer
HMAC_SIGNERS: dict[str, str] = {
    "binance-spot": "binance:BinanceSigner",
    "binance-perp": "binance:BinancePerpSigner",
    "bybit-perp": "bybit:BybitSigner",
    "okx-swap": "okx:OkxSigner",
    "kucoin": "kucoin:KucoinSigner",
    "bitget": "bitget:BitgetSigner",
    "gate": "gate:GateSigner",
    "kraken": "kraken:KrakenSigner",
    "bitfinex": "bitfinex:BitfinexSigner",
    "mexc": "mexc:MexcSigner",
    "polymarket": "polymarket:PolymarketSigner",
}
# venues signed another way (module holding the functions)
OTHER_SIGNERS: dict[str, str] = {
    "hyperliquid": "hyperliquid",
    "polymarket": "polymarket",
    "coinbase": "coinbase",
}
VENUES: tuple[str, ...] = tuple(sorted(set(HMAC_SIGNERS) | set(OTHER_SIGNERS)))


def module(venue: str):
    """The signing module of a venue."""
    target = HMAC_SIGNERS.get(venue) or OTHER_SIGNERS.get(venue)
    if target is None:
        raise SigningError(f"no signer for venue {venue!r}; venues: {', '.join(VENUES)}")
    return importlib.import_module(f"nexus.exec.signing.{target.split(':')[0]}")


def hmac_signer_class(venue: str) -> type[HmacSigner]:
    target = HMAC_SIGNERS.get(venue)
    if target is None:
        raise SigningError(f"{venue!r} is not an HMAC venue; HMAC venues: {', '.join(sorted(HMAC_SIGNERS))}")
    return getattr(module(venue), target.split(":")[1])


def hmac_signer(venue: str, api_key: str, secret: str, passphrase: str | None = None, **extra) -> HmacSigner:
    """A key-primed signer for an HMAC venue (`extra`: KuCoin's `key_version`, Polymarket's
    `address`)."""
    return hmac_signer_class(venue)(api_key, secret, passphrase, **extra)


__all__ = ["HMAC_SIGNERS", "OTHER_SIGNERS", "VENUES", "HmacSigner", "Signed", "SigningError",
           "hmac_signer", "hmac_signer_class", "module"]
