"""Aster futures: Binance USD-M futures' wire formats and book sync rules, reused.

Source: Aster Finance Futures API docs (github.com/asterdex/api-docs,
"aster-finance-futures-api.md"): "Diff. Book Depth Streams" `depthUpdate`
{e,E,T,s,U,u,pu,b,a}, "Aggregate Trade Streams" `aggTrade` {e,E,s,a,p,q,f,l,T,m}, REST
GET /fapi/v1/depth {lastUpdateId,E,T,bids,asks}, GET /fapi/v1/exchangeInfo, and "How to
manage a local order book correctly" - the same procedure as Binance USD-M futures:

1. Buffer the events; 2. GET /fapi/v1/depth?symbol=BTCUSDT&limit=1000;
3. drop events with u < lastUpdateId; 4. the first processed event has
U <= lastUpdateId AND u >= lastUpdateId; 5. then each event's pu equals the previous event's
u, else restart at 3; quantities are absolute, 0 removes the level.

Where Aster differs from Binance (checked against the same docs): the hosts
(fstream.asterdex.com, fapi.asterdex.com), the server's ping period (every 5 minutes, a pong
expected within 15 minutes; Binance: 3 minutes / 10), and no /public /market path split.
None of these changes the decoder or the sync rules. Instruments come from
/fapi/v1/exchangeInfo (no built-in table).
"""

from __future__ import annotations

from nexus.venues.binance.perp import BinancePerpDecoder, BinancePerpSync

VENUE = "aster"


class AsterDecoder(BinancePerpDecoder):
    venue = VENUE
    DEFAULTS = ()  # instruments from GET /fapi/v1/exchangeInfo or --instruments


class AsterSync(BinancePerpSync):
    venue = VENUE


Decoder = AsterDecoder
Sync = AsterSync
