"""Bybit v5 linear perpetuals: decoder and sync rules (data.py), live-feed spec (feed.py), request
signing (sign.py), the simulator's wire format (sim.py)."""

from nexus.venues.registry import Venue

VENUES = (Venue("bybit-perp", __name__),)
