"""The seed's "Execution support matrix": which venue trades how, and why the others do not.

An order for a venue that is not `native` here is refused before anything is built or sent,
with the matrix's own reason. `ADAPTERS` names the venue adapter (module:factory) of each
venue whose native order entry is built; a native venue of the matrix without one is
refused as not built yet.
"""

from __future__ import annotations

import importlib

from nexus.exec.orders import OrderError

NATIVE, BRIDGE, DATA_ONLY = "native", "bridge", "data-only"

# venue -> (how it executes, the matrix's note)
MATRIX: dict[str, tuple[str, str]] = {
    "binance-spot": (NATIVE, "API key + secret; Testnet supported"),
    "binance-perp": (NATIVE, "API key + secret; Testnet supported"),
    "bybit-perp": (NATIVE, "API key + secret"),
    "okx-swap": (NATIVE, "key + secret + passphrase"),
    "coinbase": (NATIVE, "JWT-signed key"),
    "kucoin": (NATIVE, "API key + secret (+ passphrase)"),
    "bitfinex": (NATIVE, "API key + secret"),
    "mexc": (NATIVE, "API key + secret"),
    "gate": (NATIVE, "API key + secret"),
    "bitget": (NATIVE, "key + secret + passphrase"),
    "hyperliquid": (BRIDGE, "execution via the Hyperliquid bridge on :5557 (private-key signing "
                            "happens in the bridge, never here)"),
    "kraken": (DATA_ONLY, "Kraken Spot: data only in this build"),
    "dydx": (DATA_ONLY, "dYdX V4: Cosmos signing N/A"),
    "aster": (DATA_ONLY, "Aster DEX / TradFi: execution disabled"),
    "cryptocom": (DATA_ONLY, "Crypto.com: execution disabled"),
    "deribit": (DATA_ONLY, "Deribit: execution disabled (options chain visible)"),
    "tradovate": (DATA_ONLY, "Tradovate: execution disabled; use Rithmic for execution"),
}

# venue -> "module:factory" of its adapter (nexus.exec.client.VenueAdapter)
ADAPTERS: dict[str, str] = {
    "binance-spot": "nexus.venues.binance.orders:spot",
    "binance-perp": "nexus.venues.binance.orders:perp",
}


def check_tradable(venue: str) -> None:
    """Raise OrderError naming the seed's reason unless `venue` has native order entry here."""
    how, note = MATRIX.get(venue, (None, ""))
    if how is None:
        raise OrderError(f"{venue!r} is not in the execution matrix; venues: {', '.join(MATRIX)}")
    if how == DATA_ONLY:
        raise OrderError(f"{venue} is data-only in the execution matrix ({note}): orders are refused")
    if how == BRIDGE:
        raise OrderError(f"{venue}: {note}; start the bridge to trade")
    if venue not in ADAPTERS:
        raise OrderError(f"{venue}: native order entry is not built yet in Nexus (built: {', '.join(ADAPTERS)})")


def adapter_factory(venue: str):
    check_tradable(venue)
    module, attr = ADAPTERS[venue].split(":")
    return getattr(importlib.import_module(module), attr)
