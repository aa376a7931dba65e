"""Bitfinex v2: market data (decoder and sync rules in data.py, live-feed spec in feed.py,
the simulator's wire format in sim.py), request signing (sign.py), order entry on the exchange
wallet (orders.py) and the simulator's authenticated REST and account channel (sim_trade.py)."""

from nexus.venues.registry import Venue

# Symbols are Bitfinex's own, case included ("tBTCUSD"): the leading "t" is lower case.
VENUES = (Venue("bitfinex", __name__, symbols_case_sensitive=True, orders="orders:spot"),)
