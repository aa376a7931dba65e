"""FXCM (forex and CFDs): the Socket REST API's price updates as a one-level book
(data.py), the token and socket.io flow (feed.py), the simulator's socket.io server and REST
(sim.py)."""

from nexus.venues.registry import Venue

VENUES = (Venue("fxcm", __name__, sim_default=False),)
