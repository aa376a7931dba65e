"""Bitget v2: spot and USDT futures market data (decoder and sync rules in data.py, live-feed
spec in feed.py, the simulator's wire format in sim.py) under one venue id, the symbol
telling the market apart (`BTCUSDT` spot, `BTCUSDT:USDT-FUTURES` futures); request signing
(sign.py)."""

from nexus.venues.registry import Venue

VENUES = (Venue("bitget", __name__),)
