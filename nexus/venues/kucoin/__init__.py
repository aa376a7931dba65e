"""KuCoin spot: decoder and sync rules (data.py), live-feed spec with the bullet token flow
(feed.py), request signing (sign.py), the simulator's wire format (sim.py)."""

from nexus.venues.registry import Venue

VENUES = (Venue("kucoin", __name__),)
