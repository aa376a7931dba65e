"""dYdX v4 (the indexer's public WebSocket and REST): decoder and sync rules (data.py), live-feed
spec (feed.py), the simulator's wire format (sim.py)."""

from nexus.venues.registry import Venue

VENUES = (Venue("dydx", __name__, sim_default=False),)
