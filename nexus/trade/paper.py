"""Paper trading: the auto-trader's orders filled against the venue's live (or replayed) book
without sending anything.

- MARKET walks the book as a taker, level by level (one fill per level); what the book
  cannot fill expires, as on the simulator.
- LIMIT rests and fills, whole, at its price once the book crosses it (a buy when the best
  ask is at or below its price, a sell when the best bid is at or above). No queue position
  is modelled: resting at the touch is optimistic, which the README says.
- STOP triggers when the touch or a trade reaches its price (a sell stop: best bid or a print
  at or below it), then executes as MARKET.

Prices and sizes come from the book in the venue's integer units and reach the trader as
Decimals. Deterministic: fills depend only on the order of book updates and calls.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np

from nexus import record
from nexus.exec.orders import OrderType, Side
from nexus.instruments import Instrument
from nexus.trade.trader import Intent

WALK_LEVELS_MAX = 200
BID, ASK = int(record.Side.BID), int(record.Side.ASK)
_TRADE = int(record.Kind.TRADE)


class PaperRouter:
    perpetual = True                      # reduce-only is honoured (nothing is sent anyway)

    def __init__(self, inst: Instrument) -> None:
        self.inst = inst                  # the venue's instrument: the book's integer units
        self.book = None                  # a nexus._native.Book, set by the driver
        self.sink = None                  # the AutoTrader: on_fill / on_done
        self.resting: dict[str, Intent] = {}
        self.orders = 0

    def _px(self, v: int) -> Decimal:
        return Decimal(v).scaleb(-self.inst.price_exponent)

    def _qty(self, v: int) -> Decimal:
        return Decimal(v).scaleb(-self.inst.qty_exponent)

    def touch(self) -> tuple[Decimal | None, Decimal | None]:
        if self.book is None:
            return None, None
        b, a = self.book.best_bid(), self.book.best_ask()
        return (self._px(b[0]) if b else None), (self._px(a[0]) if a else None)

    # -- Router ----------------------------------------------------------------------------------
    def submit(self, it: Intent) -> None:
        self.orders += 1
        if it.type is OrderType.MARKET:
            self._walk(it)
        else:
            self.resting[it.client_id] = it

    def cancel(self, it: Intent) -> None:
        if self.resting.pop(it.client_id, None) is not None:
            self.sink.on_done(it.client_id, "cancelled")

    # -- matching ---------------------------------------------------------------------------------
    def _walk(self, it: Intent) -> None:
        left = it.qty
        levels = self.book.top(ASK if it.side is Side.BUY else BID, WALK_LEVELS_MAX) if self.book is not None else []
        for price, qty in levels:
            if left <= 0:
                break
            take = min(left, self._qty(qty))
            left -= take
            self.sink.on_fill(it.client_id, take, self._px(price))
        self.sink.on_done(it.client_id, "filled" if left <= 0 else "expired")

    def on_market(self, batch: np.ndarray | None = None) -> None:
        """After each book update / batch of trades: fill what the market reached."""
        if not self.resting:
            return
        bid, ask = self.touch()
        lo = hi = None
        if batch is not None and len(batch):
            trades = batch["price"][batch["kind"] == _TRADE]
            if len(trades):
                lo, hi = self._px(int(trades.min())), self._px(int(trades.max()))
        for cid, it in list(self.resting.items()):
            if cid not in self.resting:
                continue                    # cancelled by an earlier fill in this loop (OCO)
            buy = it.side is Side.BUY
            if it.type is OrderType.LIMIT:
                if (buy and ask is not None and ask <= it.price) or (not buy and bid is not None and bid >= it.price):
                    del self.resting[cid]
                    self.sink.on_fill(cid, it.qty, it.price)
                    self.sink.on_done(cid, "filled")
            else:
                s = it.stop_price
                hit = ((ask is not None and ask >= s) or (hi is not None and hi >= s)) if buy else \
                      ((bid is not None and bid <= s) or (lo is not None and lo <= s))
                if hit:
                    del self.resting[cid]
                    self._walk(it)
