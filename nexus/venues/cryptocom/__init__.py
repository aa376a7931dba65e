"""Crypto.com Exchange (API v1): decoder and sync rules (data.py), live-feed spec (feed.py),
the simulator's wire format (sim.py)."""

from nexus.venues.registry import Venue

VENUES = (Venue("cryptocom", __name__, sim_default=False),)
