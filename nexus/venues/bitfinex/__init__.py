"""Bitfinex v2: market data (decoder and sync rules in data.py, live-feed spec in feed.py,
the simulator's wire format in sim.py) and request signing (sign.py)."""

from nexus.venues.registry import Venue

# Symbols are Bitfinex's own, case included ("tBTCUSD"): the leading "t" is lower case.
VENUES = (Venue("bitfinex", __name__, symbols_case_sensitive=True),)
