"""Tradovate (CME futures): market-data WebSocket decoder and sync rules (data.py), live-feed
spec with its access-token flow (feed.py), the simulator's auth endpoint, contract/product
listing and market-data socket (sim.py)."""

from nexus.venues.registry import Venue

VENUES = (Venue("tradovate", __name__, sim_default=False),)
