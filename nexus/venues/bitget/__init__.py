"""Bitget v2: spot and USDT futures market data (decoder and sync rules in data.py, live-feed
spec in feed.py, the simulator's wire format in sim.py) under one venue id, the symbol
telling the market apart (`BTCUSDT` spot, `BTCUSDT:USDT-FUTURES` futures); request signing
(sign.py), spot order entry (orders.py) and the simulator's authenticated REST and private
stream (sim_trade.py)."""

from nexus.venues.registry import Venue

VENUES = (Venue("bitget", __name__, orders="orders:spot"),)
