"""Binance RWA: Binance spot market data restricted to the tokenized real-world-asset symbols
(the seed's "whitelist filter"). Everything on the wire is Binance spot's (decoder, sync rules,
simulator formats reused from nexus.venues.binance); this package adds the whitelist.
Order entry (orders.py) is Binance spot's adapter with Binance's keys, refusing any symbol
outside the whitelist before sending; the simulator's binance-rwa venue serves Binance spot's
authenticated REST and user-data stream (nexus.venues.binance.sim_trade, via sim.py)."""

from nexus.venues.registry import Venue

VENUES = (Venue("binance-rwa", __name__, data="data", feed="feed:FEED", sim="sim:SIM", orders="orders:rwa",
                sim_default=False),)
