"""Hyperliquid perpetuals: decoder and sync rules (data.py), live-feed spec (feed.py), request
signing (sign.py), the simulator's wire format (sim.py)."""

from nexus.venues.registry import Venue

VENUES = (Venue("hyperliquid", __name__, symbols_case_sensitive=True, sim_default=True),)
