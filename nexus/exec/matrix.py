"""The seed's "Execution support matrix": which venue trades how, and why the others do not.

An order for a venue that is not `native` here is refused before anything is built or sent,
with the matrix's own reason. A venue's adapter is declared by its package
(`Venue(..., orders="module:factory")`, nexus/venues/registry.py); a native venue of the
matrix without one is refused as not built yet.
"""

from __future__ import annotations

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
    "binance-rwa": (NATIVE, "Binance spot keys; tokenized real-world-asset symbols only"),
    "fxcm": (NATIVE, "API token"),
    "hyperliquid": (BRIDGE, "execution via the Hyperliquid bridge on :5557 (private-key signing "
                            "happens in the bridge, never here)"),
    "kraken": (DATA_ONLY, "Kraken Spot: data only in this build"),
    "dydx": (DATA_ONLY, "dYdX V4: Cosmos signing N/A"),
    "aster": (DATA_ONLY, "Aster DEX / TradFi: execution disabled"),
    "cryptocom": (DATA_ONLY, "Crypto.com: execution disabled"),
    "deribit": (DATA_ONLY, "Deribit: execution disabled (options chain visible)"),
    "tradovate": (DATA_ONLY, "Tradovate: execution disabled; use Rithmic for execution"),
}



def built() -> list[str]:
    """Venues whose native order entry is built (their package declares an adapter)."""
    from nexus.venues import registry

    return [n for n, v in registry.all_venues().items() if v.orders is not None]


def check_tradable(venue: str) -> None:
    """Raise OrderError naming the seed's reason unless `venue` has native order entry here."""
    how, note = MATRIX.get(venue, (None, ""))
    if how is None:
        raise OrderError(f"{venue!r} is not in the execution matrix; venues: {', '.join(MATRIX)}")
    if how == DATA_ONLY:
        raise OrderError(f"{venue} is data-only in the execution matrix ({note}): orders are refused")
    if how == BRIDGE:
        raise OrderError(f"{venue}: {note}; start the bridge to trade")
    if venue not in built():
        raise OrderError(f"{venue}: native order entry is not built yet in Nexus (built: {', '.join(built())})")


def adapter_factory(venue: str):
    from nexus.venues import registry

    check_tradable(venue)
    return registry.venue(venue).order_adapter_factory()
