"""KuCoin spot: decoder and sync rules (data.py), live-feed spec with the bullet token flow
(feed.py), request signing (sign.py), order entry (orders.py), the simulator's wire format
(sim.py) and its authenticated REST and private topics (sim_trade.py)."""

from nexus.venues.registry import Venue

VENUES = (Venue("kucoin", __name__, orders="orders:spot"),)
