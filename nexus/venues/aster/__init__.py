"""Aster (asterdex.com) USD-margined perpetual futures: a Binance-compatible market-data API.
The decoder and sync rules are Binance USD-M futures' (data.py subclasses them), the feed spec
names Aster's hosts (feed.py), the simulator serves Aster's hosts' formats (sim.py)."""

from nexus.venues.registry import Venue

VENUES = (Venue("aster", __name__, data="data", feed="feed:FEED", sim="sim:SIM", sim_default=False),)
