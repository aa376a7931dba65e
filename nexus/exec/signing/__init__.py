"""Request signing for every venue Nexus trades on: each venue's signer is the `sign.py` of
its package (nexus/venues/<venue>/sign.py); Polymarket's (a bridge's upstream, not a
venue package) and the shared HMAC base and EIP-712 hashing live here.

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
    "binance-spot": "nexus.venues.binance.sign:BinanceSigner",
    "binance-perp": "nexus.venues.binance.sign:BinancePerpSigner",
    "bybit-perp": "nexus.venues.bybit.sign:BybitSigner",
    "okx-swap": "nexus.venues.okx.sign:OkxSigner",
    "kucoin": "nexus.venues.kucoin.sign:KucoinSigner",
    "bitget": "nexus.venues.bitget.sign:BitgetSigner",
    "gate": "nexus.venues.gate.sign:GateSigner",
    "kraken": "nexus.venues.kraken.sign:KrakenSigner",
    "bitfinex": "nexus.venues.bitfinex.sign:BitfinexSigner",
    "mexc": "nexus.venues.mexc.sign:MexcSigner",
    "polymarket": "nexus.exec.signing.polymarket:PolymarketSigner",
}
# venues signed another way (module holding the functions)
OTHER_SIGNERS: dict[str, str] = {
    "hyperliquid": "nexus.venues.hyperliquid.sign",
    "polymarket": "nexus.exec.signing.polymarket",
    "coinbase": "nexus.venues.coinbase.sign",
}
VENUES: tuple[str, ...] = tuple(sorted(set(HMAC_SIGNERS) | set(OTHER_SIGNERS)))


def module(venue: str):
    """The signing module of a venue."""
    target = HMAC_SIGNERS.get(venue) or OTHER_SIGNERS.get(venue)
    if target is None:
        raise SigningError(f"no signer for venue {venue!r}; venues: {', '.join(VENUES)}")
    return importlib.import_module(target.split(":")[0])


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
