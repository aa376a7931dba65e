"""Kraken spot (WebSocket v2): decoder and sync rules (data.py), live-feed spec (feed.py), request
signing (sign.py), the simulator's wire format (sim.py)."""

from nexus.venues.registry import Venue

VENUES = (Venue("kraken", __name__, sim_default=True),)
