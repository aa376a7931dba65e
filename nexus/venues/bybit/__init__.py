"""Bybit v5 linear perpetuals: decoder and sync rules (data.py), live-feed spec (feed.py), request
signing (sign.py), order entry (orders.py), the simulator's wire format (sim.py) and its
authenticated REST and private stream (sim_trade.py)."""

from nexus.venues.registry import Venue

VENUES = (Venue("bybit-perp", __name__, orders="orders:perp", sim_default=True),)
