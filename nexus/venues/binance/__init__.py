"""Binance spot and USD-M perpetual futures: decoders and sync rules (data.py shared, spot.py and
perp.py for each venue's own sync rules), live-feed specs (feed.py), request signing (sign.py),
the simulator's wire formats (sim.py)."""

from nexus.venues.registry import Venue

VENUES = (
    Venue("binance-spot", __name__, data="spot", feed="feed:SPOT", sim="sim:SPOT", orders="orders:spot", sim_default=True),
    Venue("binance-perp", __name__, data="perp", feed="feed:PERP", sim="sim:PERP", orders="orders:perp", sim_default=True),
)
