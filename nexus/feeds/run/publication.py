"""Publication of the consensus for `nexus run --agg --consensus-ring NAME`: its best bid/ask
as two BBO records (consensus grid, total size) each time the touch changes, and the ring's
side file (nexus/ring_meta.py) saying the grid's price and quantity exponents, so a reader
(`nexus broker serve --price-ring NAME --ring-instrument CRYPTO=agg:SYMBOL`) never has to
be told them."""

from __future__ import annotations

from nexus import record
from nexus._native import monotonic_ns
from nexus.agg.scales import Grid
from nexus.feeds.run.config import CONSENSUS_VENUE
from nexus.instruments import instrument_id_of
from nexus.ring import RingWriter
from nexus.ring_meta import MetaInstrument, RingMeta

CONSENSUS_RING_SLOTS = 1 << 12


class ConsensusPublisher:
    def __init__(self, ring: str, symbol: str, grid: Grid) -> None:
        self.writer = RingWriter(ring, slots=CONSENSUS_RING_SLOTS)
        iid = instrument_id_of(CONSENSUS_VENUE, symbol)
        try:
            self.meta = RingMeta(ring, [MetaInstrument(iid, CONSENSUS_VENUE, symbol, grid.price_exponent, grid.qty_exponent)])
        except BaseException:
            self.writer.close()
            raise
        self._last: tuple | None = None
        r = self._bbo = record.empty(2)
        r["kind"] = record.Kind.BBO
        r["side"] = [int(record.Side.BID), int(record.Side.ASK)]
        r["flags"][1] = record.Flag.LAST
        r["instrument_id"] = iid

    def publish(self, consensus) -> None:
        bbo = consensus.touch()
        if bbo is None or bbo == self._last:
            return
        self._last = bbo
        r = self._bbo
        r["price"] = [bbo[0], bbo[2]]
        r["qty"] = [bbo[1], bbo[3]]
        r["ts_local_ns"] = monotonic_ns()
        self.writer.publish(r)

    def close(self) -> None:
        self.meta.close()
        self.writer.close()
