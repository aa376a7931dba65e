"""Binance RWA order entry: Binance spot's adapter (nexus.venues.binance.orders: the same
hosts, paths, HMAC-SHA256 signing, listen-key user-data stream, server-time sync, key check)
restricted to the whitelisted real-world-asset symbols (whitelist.py; the seed's matrix:
"Binance spot keys; tokenized real-world-asset symbols only").

An order, cancel or query for a symbol outside the whitelist is refused before anything is
built or sent (OrderError naming the whitelist and NEXUS_BINANCE_RWA_ASSETS); the account's
open orders and its user-data events are those of whitelisted symbols only (the same Binance
key may trade other symbols through `binance-spot`). Keys: Binance's
(NEXUS_BINANCE_API_KEY / NEXUS_BINANCE_API_SECRET).
"""

from __future__ import annotations

from nexus.exec.client import OrderUpdate
from nexus.exec.keys import Credentials
from nexus.exec.orders import OrderError, OrderRequest
from nexus.instruments import Instrument
from nexus.venues.binance.orders import BinanceAdapter
from nexus.venues.binance_rwa import whitelist

VENUE = "binance-rwa"


def _check(symbol: str) -> None:
    if not whitelist.allowed(symbol):
        raise OrderError(whitelist.refusal(symbol) + ": not sent")


class BinanceRwaAdapter(BinanceAdapter):
    def __init__(self, creds: Credentials, **kw) -> None:
        super().__init__(VENUE, creds, **kw)

    def __repr__(self) -> str:
        return f"<BinanceRwaAdapter {self.rest_url} {self.signer!r}>"

    def order_bytes(self, req: OrderRequest) -> bytes:
        _check(req.symbol)
        return super().order_bytes(req)

    async def instrument(self, symbol: str) -> Instrument:
        _check(symbol)
        return await super().instrument(symbol)

    async def place(self, req: OrderRequest) -> OrderUpdate:
        _check(req.symbol)
        return await super().place(req)

    async def query(self, symbol: str, client_id: str) -> OrderUpdate | None:
        _check(symbol)
        return await super().query(symbol, client_id)

    async def cancel(self, symbol: str, client_id: str) -> OrderUpdate:
        _check(symbol)
        return await super().cancel(symbol, client_id)

    async def open_orders(self, symbol: str | None = None) -> list[OrderUpdate]:
        if symbol is not None:
            _check(symbol)
        return [u for u in await super().open_orders(symbol) if whitelist.allowed(u.symbol)]

    def stream_update(self, msg: dict) -> OrderUpdate | None:
        upd = super().stream_update(msg)
        return upd if upd is not None and whitelist.allowed(upd.symbol) else None


def rwa(creds: Credentials, **kw) -> BinanceRwaAdapter:
    return BinanceRwaAdapter(creds, **kw)
