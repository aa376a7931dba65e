"""FXCM (forex and CFDs): the Socket REST API's price updates as a one-level book
(data.py), the token and socket.io flow (feed.py), the simulator's socket.io server and REST
(sim.py), order entry over the REST API and the socket's trading tables (orders.py) and
the simulator's side of it (sim_trade.py)."""

from nexus.venues.registry import Venue

VENUES = (Venue("fxcm", __name__, orders="orders:fxcm", sim_default=False),)
