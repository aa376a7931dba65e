"""Binance RWA: Binance spot's decoder and sync rules (nexus.venues.binance.spot, whose
docstring gives the rules and sources), limited to the whitelisted RWA symbols
(whitelist.py): a message for another symbol is a DecodeError (counted, never a book), an
exchangeInfo body loads only the whitelisted symbols. Instruments from GET
/api/v3/exchangeInfo (no built-in table)."""

from __future__ import annotations

from typing import Any

from nexus.exceptions import DecodeError
from nexus.venues.binance.spot import BinanceSpotDecoder, BinanceSpotSync
from nexus.venues.binance_rwa import whitelist

VENUE = "binance-rwa"


class BinanceRwaDecoder(BinanceSpotDecoder):
    venue = VENUE
    DEFAULTS = ()

    def _ent(self, symbol: Any):
        e = self._ents.get(symbol)
        if e is not None and whitelist.allowed(symbol):
            return e
        if type(symbol) is str and not whitelist.allowed(symbol):
            raise DecodeError(whitelist.refusal(symbol))
        return super()._ent(symbol)

    def _metadata(self, doc: Any) -> int:
        if type(doc) is not dict or type(doc.get("symbols")) is not list:
            raise DecodeError("not an exchangeInfo body (no 'symbols' array)")
        keep = [s for s in doc["symbols"] if type(s) is dict and type(s.get("symbol")) is str
                and whitelist.allowed(s["symbol"], s.get("baseAsset") or None)]
        return super()._metadata({**doc, "symbols": keep})


class BinanceRwaSync(BinanceSpotSync):
    venue = VENUE


Decoder = BinanceRwaDecoder
Sync = BinanceRwaSync
