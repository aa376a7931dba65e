"""Coinbase Advanced Trade: decoder and sync rules (data.py), live-feed spec (feed.py), request
signing (sign.py), order entry (orders.py), the simulator's wire format (sim.py) and its
authenticated REST and `user` channel (sim_trade.py)."""

from nexus.venues.registry import Venue

VENUES = (Venue("coinbase", __name__, orders="orders:spot", sim_default=True),)
