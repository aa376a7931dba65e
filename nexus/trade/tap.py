"""What the live runtime and the replay both do with each batch of the traded venue's
records, so the two paths are one: the paper router matches its resting orders against the
book and the batch's trades, then the gate gets the touch (positions valued, caps checked)."""

from __future__ import annotations

from decimal import Decimal

import numpy as np

from nexus.trade.paper import PaperRouter
from nexus.trade.trader import AutoTrader


class MarketTap:
    def __init__(self, trader: AutoTrader, venue_inst, paper: PaperRouter | None) -> None:
        self.trader = trader
        self.pe = venue_inst.price_exponent
        self.paper = paper

    def on_batch(self, book, batch: np.ndarray) -> None:
        if self.paper is not None:
            self.paper.book = book
            self.paper.on_market(batch)
        b, a = book.best_bid(), book.best_ask()
        if b and a:
            self.trader.on_touch(Decimal(b[0]).scaleb(-self.pe), Decimal(a[0]).scaleb(-self.pe))
