"""Deribit (futures, perpetuals, options; JSON-RPC 2.0 over WebSocket and HTTP): decoder and
sync rules (data.py), live-feed spec (feed.py, incl. the REST poll of `public/get_order_book`),
the simulator's wire format (sim.py)."""

from nexus.venues.registry import Venue

VENUES = (Venue("deribit", __name__, sim_default=False),)
