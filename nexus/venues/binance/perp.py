"""Binance USD-M futures (perpetuals): diff-depth stream + REST snapshot, aggTrade stream.

Sync rules, from Binance USD-M Futures docs, Websocket Market Streams, "How to manage a
local order book correctly":

1. Buffer the depthUpdate events.
2. Take a REST depth snapshot (fapi/v1/depth).
3. Drop every event with u < lastUpdateId.
4. The first processed event must have U <= lastUpdateId AND u >= lastUpdateId.
5. After it, each new event's pu must equal the previous event's u; otherwise start again
   at 2.
6. Quantities are absolute; 0 removes the level (removing an absent level is normal).

Beyond the text: an event with u <= the last applied u is a duplicate or stale and is
ignored rather than treated as a gap (it carries nothing the book does not have); and a
first event whose pu equals lastUpdateId also connects (the snapshot ends exactly where the
event's predecessor ended, so the event holds every later change).
"""

from __future__ import annotations

import numpy as np

from nexus.venues.binance.data import BinanceDecoder, BinanceSync, instrument
from nexus.venues.booksync import BookState

VENUE = "binance-perp"


class BinancePerpDecoder(BinanceDecoder):
    venue = VENUE
    REQUIRE_PU = True
    CONTRACT_KIND = "linear"


class BinancePerpSync(BinanceSync):
    venue = VENUE
    RULE = 1

    def still_needed(self, last_update_id: int, final: int) -> bool:
        return final >= last_update_id  # drop u < lastUpdateId

    def connects(self, last_update_id: int, item: tuple) -> bool:
        first, _, prev, _ = item  # U <= lastUpdateId <= u for the first kept (u >= it already)
        return first <= last_update_id or prev == last_update_id

    def step(self, st: BookState, first: int, final: int, prev: int | None, recs: np.ndarray, n: int) -> None:
        last = st.last_seq
        if st.last_prev is None:  # the first event after the snapshot must bracket it
            if final < last:
                st.dropped += 1
            elif first > last and prev != last:
                self.gap(st, f"gap: first event U={first} is after lastUpdateId {last}",
                         (first, final, prev, recs[:n].copy()))
            else:
                self.apply_delta(st, final, prev, recs, n)
        elif prev == last:
            self.apply_delta(st, final, prev, recs, n)
        elif final <= last:
            st.dropped += 1
        else:
            self.gap(st, f"gap: pu={prev} but the previous event's u was {last}",
                     (first, final, prev, recs[:n].copy()))


Decoder = BinancePerpDecoder
Sync = BinancePerpSync
