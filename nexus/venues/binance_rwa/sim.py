"""Binance RWA as the simulator serves it: Binance spot's formats and paths (nexus.venues.
binance.sim). The simulated market has the simulator's symbols (BTCUSDT, ETHUSDT): a client
run against it whitelists them with NEXUS_BINANCE_RWA_ASSETS (e.g. "PAXG,BTC")."""

from __future__ import annotations

from nexus.sim.specs import Flow, SimInstrument, SimVenue
from nexus.venues.binance.sim import BinanceSpotFeed


class BinanceRwaFeed(BinanceSpotFeed):
    venue = "binance-rwa"


SIM = SimVenue(BinanceRwaFeed, Flow(8.0, 0.08, 10, 0.25, 0.15), {
    "BTC": SimInstrument("binance-rwa", "BTCUSDT", "BTC", "USDT", 2, 1, 5, 1, "1", 8, 8),
    "ETH": SimInstrument("binance-rwa", "ETHUSDT", "ETH", "USDT", 2, 1, 4, 1, "1", 8, 8),
})
