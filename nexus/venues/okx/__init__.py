"""OKX v5 perpetual swaps: decoder and sync rules (data.py), live-feed spec (feed.py), request
signing (sign.py), order entry (orders.py), the simulator's wire format (sim.py) and its
authenticated REST and private stream (sim_trade.py)."""

from nexus.venues.registry import Venue

VENUES = (Venue("okx-swap", __name__, orders="orders:swap", sim_default=True),)
