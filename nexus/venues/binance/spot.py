"""Binance spot: diff-depth stream + REST snapshot, aggTrade and trade streams.

Sync rules, from Binance Spot API docs, WebSocket Streams, "How to manage a local order book
correctly" (the current text; the earlier one is equivalent for a contiguous stream):

1. Buffer the depthUpdate events; note the U of the first one.
2. Take a REST depth snapshot; if its lastUpdateId is below the first buffered event's U
   (the snapshot is too old to connect), get another one.
3. Discard buffered events with u <= lastUpdateId; the first one left must have
   lastUpdateId within [U; u] (U <= lastUpdateId + 1 <= u).
4. Set the book to the snapshot, its update id is lastUpdateId; apply the buffered events,
   then every later one, with the update procedure:
   - u <= the book's update id: ignore the event (stale or duplicate);
   - U > the book's update id + 1: events were missed: discard the book, restart at 2;
   - else set every level's absolute quantity (0 removes it), update id := u.
   For an unbroken stream this is the earlier wording's "each new event's U is the previous
   event's u + 1".
"""

from __future__ import annotations

import numpy as np

from nexus.venues.binance.data import BinanceDecoder, BinanceSync, instrument
from nexus.venues.booksync import BookState

VENUE = "binance-spot"


class BinanceSpotDecoder(BinanceDecoder):
    venue = VENUE


class BinanceSpotSync(BinanceSync):
    venue = VENUE
    RULE = 0

    def still_needed(self, last_update_id: int, final: int) -> bool:
        return final > last_update_id  # discard u <= lastUpdateId

    def connects(self, last_update_id: int, item: tuple) -> bool:
        return item[0] <= last_update_id + 1  # lastUpdateId within [U; u] of the first kept

    def step(self, st: BookState, first: int, final: int, prev: int | None, recs: np.ndarray, n: int) -> None:
        if final <= st.last_seq:
            st.dropped += 1
        elif first > st.last_seq + 1:
            self.gap(st, f"gap: U={first} after update id {st.last_seq}", (first, final, prev, recs[:n].copy()))
        else:
            self.apply_delta(st, final, prev, recs, n)


Decoder = BinanceSpotDecoder
Sync = BinanceSpotSync
