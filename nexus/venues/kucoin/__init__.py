"""KuCoin: request signing (sign.py). Its market data (decoder, sync rules, feed, simulator
format) comes with the venues issue; until then the package declares no venue (no VENUES)
and its id stays reserved in VENUE_IDS."""
