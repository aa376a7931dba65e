"""The flow engine on the Aggregator's consensus book (nexus.agg): OFI, OBI, CVD, VPIN and the
detectors over the merged book of up to five venues and the deduplicated trade tape.

    agg = Aggregator(instruments)
    flow = ConsensusFlow(agg)                  # prices/sizes on the consensus grid
    agg.on_book(venue, batch, now); out = flow.after_book(ts_ns)
    if agg.on_trade(venue, ts, px, q, side, tid, now): out = flow.trade(ts, px_c, q_c, side)

After each venue book update the consensus top IMAGE_LEVELS levels per side are handed to
the engine as a book image (a clear + levels, diffed by the engine against its own copy, as
for one venue in nexus.flow.replay); a trade the Aggregator's dedup accepted as new goes in
as one TRADE record on the consensus grid (price x price_mul, size in common units), so a
print seen on two feeds counts once in CVD, VPIN and the detectors. Each call returns the
engine's outputs for that event (views into reused buffers, as FlowRunner.feed).
"""

from __future__ import annotations

import numpy as np

from nexus import record
from nexus.flow.params import FlowParams
from nexus.flow.replay import IMAGE_LEVELS
from nexus.flow.runner import FlowRunner

BID, ASK = int(record.Side.BID), int(record.Side.ASK)
_K_LEVEL, _K_CLEAR, _K_TRADE = int(record.Kind.BOOK_LEVEL), int(record.Kind.BOOK_CLEAR), int(record.Kind.TRADE)
_F_LAST, _F_SNAP = int(record.Flag.LAST), int(record.Flag.SNAPSHOT)


class ConsensusFlow:
    def __init__(self, agg, params: FlowParams | None = None, levels: int = IMAGE_LEVELS, oracle_model: dict | None = None):
        self.agg = agg
        self.price_exponent = agg.grid.price_exponent
        self.qty_exponent = agg.grid.qty_exponent
        self.levels = levels
        self.runner = FlowRunner(params or FlowParams(), oracle_model=oracle_model)
        self._bids = np.zeros((levels, 2), dtype=np.int64)
        self._asks = np.zeros((levels, 2), dtype=np.int64)
        self._image = record.empty(1 + 2 * levels)   # reused: the engine copies what it keeps
        self._trade = record.empty(1)
        self._trade["kind"] = _K_TRADE
        self._trade["flags"] = _F_LAST

    def image(self, ts_ns: int) -> np.ndarray:
        """The consensus book now, as the records the engine takes: the levels come straight
        from the native book into reused arrays (Consensus.top_into), no Python objects per
        level."""
        nb, na = self.agg.consensus.top_into(self._bids, self._asks)
        out = self._image[:1 + nb + na]
        out["kind"] = _K_LEVEL
        out["flags"] = _F_SNAP
        out["ts_exchange_ns"] = ts_ns
        out[0]["kind"] = _K_CLEAR
        out["side"][1:1 + nb] = BID
        out["price"][1:1 + nb] = self._bids[:nb, 0]
        out["qty"][1:1 + nb] = self._bids[:nb, 1]
        out["side"][1 + nb:] = ASK
        out["price"][1 + nb:] = self._asks[:na, 0]
        out["qty"][1 + nb:] = self._asks[:na, 1]
        out["flags"][-1] |= _F_LAST
        return out

    def after_book(self, ts_ns: int):
        """After agg.on_book(...): the engine sees the consensus book."""
        return list(self.runner.feed(self.image(ts_ns)))

    def trade(self, ts_ns: int, price_c: int, qty_c: int, side: int):
        """A trade agg.on_trade(...) accepted as new, on the consensus grid."""
        t = self._trade
        t["ts_exchange_ns"] = ts_ns
        t["price"] = price_c
        t["qty"] = qty_c
        t["side"] = side
        return list(self.runner.feed(t))
