"""Binance RWA: Binance spot market data restricted to the tokenized real-world-asset symbols
(the seed's "whitelist filter"). Everything on the wire is Binance spot's (decoder, sync rules,
simulator formats reused from nexus.venues.binance); this package adds the whitelist."""

from nexus.venues.registry import Venue

VENUES = (Venue("binance-rwa", __name__, data="data", feed="feed:FEED", sim="sim:SIM", sim_default=False),)
