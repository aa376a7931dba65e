"""Aster futures as the simulator serves it: Binance USD-M futures' formats (the Aster docs
specify the same messages and REST bodies, see data.py) on Aster's paths: /ws, /stream,
GET /fapi/v1/depth, GET /fapi/v1/exchangeInfo; a ping frame every 5 minutes.

Aster's v3 futures API (https://asterdex.github.io/aster-api-website/futures-v3/market-data/)
serves the same public market bodies under /fapi/v3/ (exchangeInfo, depth, ping, time); and its
spot API's GET /api/v3/exchangeInfo (spot-v3, "Trading specification information") is answered
with no symbols and no assets: the simulator trades no Aster spot. ccxt loads both at start."""

from __future__ import annotations

from nexus.sim import fmt
from nexus.sim.specs import Flow, SimInstrument, SimVenue
from nexus.venues.binance.sim import BinancePerpFeed


class AsterFeed(BinancePerpFeed):
    venue = "aster"
    ping_every_s = 300
    ws_prefixes = ("",)

    def rest_routes(self):
        routes = super().rest_routes()
        routes.update({("GET", "/fapi/v3/" + path[len("/fapi/v1/"):]): h for (m, path), h in list(routes.items())
                       if m == "GET" and path.startswith("/fapi/v1/")})
        routes[("GET", "/api/v3/exchangeInfo")] = lambda q, b: (200, {
            "timezone": "UTC", "serverTime": fmt.ms(self.clock()), "rateLimits": [], "exchangeFilters": [],
            "assets": [], "symbols": []})
        return routes


SIM = SimVenue(AsterFeed, Flow(20.0, 0.07, 15, 0.25, 0.3), leverage_max=100, instruments={
    "BTC": SimInstrument("aster", "BTCUSDT", "BTC", "USDT", 1, 1, 3, 1, "1", 1, 3),
    "ETH": SimInstrument("aster", "ETHUSDT", "ETH", "USDT", 2, 1, 3, 1, "1", 2, 3),
})
