"""Binance RWA as the simulator serves it: Binance spot's formats and paths (nexus.venues.
binance.sim). It trades PAXGUSDT (PAX Gold, the default whitelist) and, so that it can run
alongside the other venues on one simulated market, BTCUSDT and ETHUSDT too: a client reads
those only when they are whitelisted (NEXUS_BINANCE_RWA_ASSETS, e.g. "PAXG,BTC")."""

from __future__ import annotations

from nexus.sim.specs import Flow, SimInstrument, SimVenue
from nexus.venues.binance.sim import BinanceSpotFeed


class BinanceRwaFeed(BinanceSpotFeed):
    venue = "binance-rwa"


SIM = SimVenue(BinanceRwaFeed, Flow(8.0, 0.08, 10, 0.25, 0.15), {
    "BTC": SimInstrument("binance-rwa", "BTCUSDT", "BTC", "USDT", 2, 1, 5, 1, "1", 8, 8),
    "ETH": SimInstrument("binance-rwa", "ETHUSDT", "ETH", "USDT", 2, 1, 4, 1, "1", 8, 8),
    "PAXG": SimInstrument("binance-rwa", "PAXGUSDT", "PAXG", "USDT", 2, 1, 4, 1, "1", 8, 8),
})
