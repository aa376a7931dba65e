"""Coinbase App v2 public endpoints that clients load at start-up (ccxt's currencies and
exchange rates), as documented (https://docs.cdp.coinbase.com/coinbase-app/track-apis/
currencies, .../exchange-rates, .../time):

- GET /v2/currencies → {"data":[{"id":"USD","name":"US Dollar","min_size":"0.01"}]} (fiat).
- GET /v2/currencies/crypto → {"data":[{"code":"BTC","name":"Bitcoin","color":"#F7931A",
  "sort_index":100,"exponent":8,"type":"crypto","address_regex":..,"asset_id":..}]}.
- GET /v2/exchange-rates[?currency=USD] → {"data":{"currency":"USD","rates":{"BTC":"..",..}}}:
  units of each currency per one `currency`; here from the simulator's mid.
- GET /v2/time → {"data":{"iso":"2026-01-01T00:00:00Z","epoch":1767225600}}.
The simulator lists its own pair's two currencies only.
"""

from __future__ import annotations

import time
from decimal import Context, Decimal
from typing import Any

FIAT = {"USD": ("US Dollar", "0.01")}
# code -> (name, color, sort_index, exponent, asset_id, address_regex) as Coinbase lists them
CRYPTO = {
    "BTC": ("Bitcoin", "#F7931A", 100, 8, "5b71fc48-3dd3-540c-809b-f8c94d0e68b5",
            "^([13][a-km-zA-HJ-NP-Z1-9]{25,34})|^(bc1[qzry9x8gf2tvdw0s3jn54khce6mua7l]([qpzry9x8gf2tvdw0s3jn54khce6mua7l]"
            "{38}|[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{58}))$"),
    "ETH": ("Ethereum", "#627EEA", 102, 8, "d85dce9b-5b73-5c3c-8978-522ce1d1c1b4", "^(?:0x)?[0-9a-fA-F]{40}$"),
}
RATE_DIGITS = 18
NOT_FOUND = {"errors": [{"id": "not_found", "message": "Invalid currency"}]}


class CoinbaseV2:
    def __init__(self, feed) -> None:
        self.feed = feed

    def currencies(self, query: dict, _body) -> tuple[int, Any]:
        return 200, {"data": [{"id": c, "name": n, "min_size": m} for c, (n, m) in FIAT.items()
                              if c == self.feed.spec.quote]}

    def crypto(self, query: dict, _body) -> tuple[int, Any]:
        base = self.feed.spec.base
        name, color, sort_index, exponent, asset_id, regex = CRYPTO[base]
        return 200, {"data": [{"asset_id": asset_id, "code": base, "name": name, "color": color,
                               "sort_index": sort_index, "exponent": exponent, "type": "crypto",
                               "address_regex": regex}]}

    def exchange_rates(self, query: dict, _body) -> tuple[int, Any]:
        s = self.feed.spec
        vs = self.feed.vs
        mid = Decimal(vs.best_bid() + vs.best_ask()).scaleb(-s.price_dec) / 2   # quote per base
        ctx = Context(prec=RATE_DIGITS)
        per_quote = {s.quote: Decimal(1), s.base: ctx.divide(1, mid)}
        cur = query.get("currency", s.quote).upper()
        if cur not in per_quote:
            return 400, NOT_FOUND
        rates = {c: format(ctx.divide(r, per_quote[cur]).normalize(), "f") for c, r in per_quote.items()}
        return 200, {"data": {"currency": cur, "rates": rates}}

    def time(self, query: dict, _body) -> tuple[int, Any]:
        t_s = self.feed.clock() // 1_000_000_000
        return 200, {"data": {"iso": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t_s)), "epoch": t_s}}

    def routes(self) -> dict:
        return {
            ("GET", "/v2/currencies"): self.currencies,
            ("GET", "/v2/currencies/crypto"): self.crypto,
            ("GET", "/v2/exchange-rates"): self.exchange_rates,
            ("GET", "/v2/time"): self.time,
        }
