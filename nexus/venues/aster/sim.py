"""Aster futures as the simulator serves it: Binance USD-M futures' formats (the Aster docs
specify the same messages and REST bodies, see data.py) on Aster's paths: /ws, /stream,
GET /fapi/v1/depth, GET /fapi/v1/exchangeInfo; a ping frame every 5 minutes."""

from __future__ import annotations

from nexus.sim.specs import Flow, SimInstrument, SimVenue
from nexus.venues.binance.sim import BinancePerpFeed


class AsterFeed(BinancePerpFeed):
    venue = "aster"
    ping_every_s = 300
    ws_prefixes = ("",)


SIM = SimVenue(AsterFeed, Flow(20.0, 0.07, 15, 0.25, 0.3), leverage_max=100, instruments={
    "BTC": SimInstrument("aster", "BTCUSDT", "BTC", "USDT", 1, 1, 3, 1, "1", 1, 3),
    "ETH": SimInstrument("aster", "ETHUSDT", "ETH", "USDT", 2, 1, 3, 1, "1", 2, 3),
})
