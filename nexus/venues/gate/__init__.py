"""Gate v4 spot and USDT-settled futures: decoder and sync rules (data.py), live-feed spec
(feed.py), request signing (sign.py), spot order entry (orders.py), the simulator's wire format
(sim.py) and its authenticated spot REST and private channels (sim_trade.py). One venue id
serves both markets: `--symbol BTCUSDT` is the spot pair BTC_USDT, `--symbol BTCUSDT:USDT`
the USDT-settled futures contract BTC_USDT (see data.py)."""

from nexus.venues.registry import Venue

VENUES = (Venue("gate", __name__, orders="orders:spot"),)
