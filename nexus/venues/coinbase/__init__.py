"""Coinbase Advanced Trade: decoder and sync rules (data.py), live-feed spec (feed.py), request
signing (sign.py), the simulator's wire format (sim.py)."""

from nexus.venues.registry import Venue

VENUES = (Venue("coinbase", __name__),)
