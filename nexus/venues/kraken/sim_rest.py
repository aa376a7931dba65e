"""Kraken Spot REST market data for the simulator, as documented
(https://docs.kraken.com/api/docs/rest-api/get-server-time, .../get-asset-info,
.../get-tradable-asset-pairs, .../get-order-book):

- every answer is {"error":[..],"result":{..}}; an error is {"error":["EQuery:Unknown asset
  pair"]} (HTTP 200, as on the venue).
- GET /0/public/Time → {"unixtime":int,"rfc1123":"Thu, 01 Jan 26 00:00:00 +0000"}.
- GET /0/public/Assets → {"XXBT":{"aclass":"currency","altname":"XBT","decimals":10,
  "display_decimals":5,"collateral_value":1,"status":"enabled"},"ZUSD":{..}}.
- GET /0/public/AssetPairs → {"XXBTZUSD":{"altname":"XBTUSD","wsname":"XBT/USD","base":
  "XXBT","quote":"ZUSD","pair_decimals","lot_decimals","tick_size","ordermin",..}}; `pair`
  selects by key or altname (comma-separated).
- GET /0/public/Depth?pair=XBTUSD&count=N → {"XXBTZUSD":{"asks":[[price,volume,timestamp]],
  "bids":..}}: prices at pair_decimals, volumes at lot_decimals, timestamps integer seconds.

REST names carry Kraken's legacy asset codes (XBT for BTC, X/Z prefixes); the WebSocket v2
feed (sim.py) uses BTC/USD. The simulator trades one pair; the assets are its two.
"""

from __future__ import annotations

import time
from typing import Any

from nexus.sim.market import ASK, BID

DEPTH_COUNT_MAX = 500
DEPTH_COUNT_DEFAULT = 100
# Kraken's REST asset codes and altnames for the simulator's coins (Get Asset Info examples).
ASSET_CODES = {"BTC": ("XXBT", "XBT"), "ETH": ("XETH", "ETH"), "USD": ("ZUSD", "USD")}
ASSET_DISPLAY = {"BTC": (10, 5), "ETH": (10, 5), "USD": (4, 2)}     # decimals, display_decimals
ORDER_MIN = {"BTC": "0.00005", "ETH": "0.002"}
RFC1123 = "%a, %d %b %y %H:%M:%S +0000"     # as Kraken writes it: two-digit year
UNKNOWN_PAIR = ["EQuery:Unknown asset pair"]
UNKNOWN_ASSET = ["EQuery:Unknown asset"]


class KrakenRest:
    def __init__(self, feed) -> None:
        self.feed = feed
        s = feed.spec
        self.base_code, self.base_alt = ASSET_CODES[s.base]
        self.quote_code, self.quote_alt = ASSET_CODES[s.quote]
        self.key = self.base_code + self.quote_code            # XXBTZUSD
        self.altname = self.base_alt + self.quote_alt          # XBTUSD
        self.wsname = f"{self.base_alt}/{self.quote_alt}"      # XBT/USD

    @staticmethod
    def _ok(result: Any) -> tuple[int, Any]:
        return 200, {"error": [], "result": result}

    def time(self, query: dict, _body) -> tuple[int, Any]:
        t_s = self.feed.clock() // 1_000_000_000
        return self._ok({"unixtime": t_s, "rfc1123": time.strftime(RFC1123, time.gmtime(t_s))})

    def assets(self, query: dict, _body) -> tuple[int, Any]:
        s = self.feed.spec
        out = {}
        for coin in (s.base, s.quote):
            code, alt = ASSET_CODES[coin]
            dec, disp = ASSET_DISPLAY[coin]
            out[code] = {"aclass": "currency", "altname": alt, "decimals": dec, "display_decimals": disp,
                         "collateral_value": 1, "status": "enabled"}
        wanted = query.get("asset")
        if wanted:
            names = set(wanted.split(","))
            by_name = {k: k for k in out} | {v["altname"]: k for k, v in out.items()}
            if not names <= set(by_name):
                return 200, {"error": UNKNOWN_ASSET}
            out = {by_name[n]: out[by_name[n]] for n in names}
        return self._ok(out)

    def pair(self) -> dict:
        s = self.feed.spec
        return {
            "altname": self.altname, "wsname": self.wsname, "aclass_base": "currency", "base": self.base_code,
            "aclass_quote": "currency", "quote": self.quote_code, "lot": "unit", "cost_decimals": 5,
            "pair_decimals": s.price_wire_dec, "lot_decimals": s.qty_wire_dec, "lot_multiplier": 1,
            "leverage_buy": [2, 3, 4, 5], "leverage_sell": [2, 3, 4, 5],
            "fees": [[0, 0.4], [10000, 0.35], [50000, 0.24], [100000, 0.22], [250000, 0.2]],
            "fees_maker": [[0, 0.25], [10000, 0.2], [50000, 0.14], [100000, 0.12], [250000, 0.1]],
            "fee_volume_currency": "ZUSD", "margin_call": 80, "margin_stop": 40,
            "ordermin": ORDER_MIN[s.base], "costmin": "0.5", "tick_size": s.tick_str(), "status": "online",
            "long_position_limit": 250, "short_position_limit": 200,
        }

    def asset_pairs(self, query: dict, _body) -> tuple[int, Any]:
        wanted = query.get("pair")
        if wanted and not set(wanted.split(",")) <= {self.key, self.altname, self.wsname}:
            return 200, {"error": UNKNOWN_PAIR}
        return self._ok({self.key: self.pair()})

    def depth(self, query: dict, _body) -> tuple[int, Any]:
        if query.get("pair") not in (self.key, self.altname, self.wsname):
            return 200, {"error": UNKNOWN_PAIR}
        try:
            count = int(query.get("count", DEPTH_COUNT_DEFAULT))
        except ValueError:
            return 200, {"error": ["EGeneral:Invalid arguments:count"]}
        count = max(1, min(count, DEPTH_COUNT_MAX))
        s, vs = self.feed.spec, self.feed.vs
        t_s = self.feed.clock() // 1_000_000_000
        side = lambda levels: [[s.px(p), s.qty(q), t_s] for p, q in levels]  # noqa: E731
        return self._ok({self.key: {"asks": side(vs.levels(ASK, count)), "bids": side(vs.levels(BID, count))}})

    def routes(self) -> dict:
        return {
            ("GET", "/0/public/Time"): self.time,
            ("GET", "/0/public/Assets"): self.assets,
            ("GET", "/0/public/AssetPairs"): self.asset_pairs,
            ("GET", "/0/public/Depth"): self.depth,
        }
