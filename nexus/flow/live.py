"""The flow engine inside `nexus run`: metrics and signal detectors on the live records.

    flow = LiveFlow(ring="my-signals")          # ring optional
    flow.on_batch(venue, inst, batch)          # each batch a venue ring gave the reader
    flow.on_consensus_book(agg, ts_ns)         # AGG mode, after agg.on_book(...)
    flow.on_consensus_trade(agg, trade)        # AGG mode, a trade agg.on_trade() accepted as new
    flow.take()                                # signals raised since the last call (JSON dicts)

Per venue, one FlowRunner (engine/flow.pyx) is fed exactly the records the reader took off
that venue's ring: the synced book changes (a resync arrives as BOOK_CLEAR + snapshot, which
the engine handles) and the trades, in ring order. Its parameters are FlowParams' defaults
with the instrument's tick. In AGG mode one more engine runs on the consensus book
(nexus.flow.consensus.ConsensusFlow): the consensus image after each burst of venue book
updates, and each trade the Aggregator's dedup accepted, so a print seen on two feeds counts
once. Consensus signals are reported with venue "agg" and consensus-grid prices.

Signal records (kind SIGNAL, see nexus/flow/signals.py) go onto the signals ring when one is
named (their venue_id / instrument_id are those of the triggering record; consensus signals
carry instrument_id_of("agg", symbol)), so the auto-trader or any reader attaches to them
like any other record; the view and the `--json` lines get them as dicts.
"""

from __future__ import annotations

from collections import Counter, deque

from nexus.flow.consensus import ConsensusFlow
from nexus.flow.params import FlowParams
from nexus.flow.runner import FlowRunner, signal_json

CONSENSUS = "agg"
SIGNAL_RING_SLOTS = 1 << 12


def _tick_units(inst) -> int:
    return max(1, int(inst.price_to_int(inst.tick_size)))


class LiveFlow:
    def __init__(self, ring: str | None = None, consensus_instrument_id: int = 0, keep: int = 64,
                 params: FlowParams | None = None, oracle_model: dict | None = None):
        self.base = params or FlowParams()
        self.oracle_model = oracle_model   # the learned oracle (nexus/flow/oracle_model.py); None: the rule one
        self.runners: dict[str, tuple[FlowRunner, object]] = {}
        self.consensus: ConsensusFlow | None = None
        self.consensus_iid = consensus_instrument_id
        self.recent: deque[dict] = deque(maxlen=keep)
        self.pending: list[dict] = []
        self.counts: Counter = Counter()
        self._ts = 0               # consensus engine clock: never goes back across venues
        self._dirty = False
        self.writer = None
        self.on_signal = None      # callback(signal dict), e.g. the auto-trader's, called as each is raised
        if ring:
            from nexus.ring import RingWriter

            self.writer = RingWriter(ring, slots=SIGNAL_RING_SLOTS)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None

    # -- per venue ------------------------------------------------------------------------------
    def on_batch(self, venue: str, inst, batch) -> None:
        entry = self.runners.get(venue)
        if entry is None or entry[1] is not inst:
            # first sight, or the instrument was re-learnt (exponents may differ): a fresh engine
            entry = self.runners[venue] = (FlowRunner(self.base.replace(tick=_tick_units(inst)), capacity=1024,
                                                            oracle_model=self.oracle_model), inst)
        runner = entry[0]
        for out in runner.feed(batch):
            if len(out.signals):
                self._emit(venue, out, inst.price_exponent, inst.qty_exponent)

    # -- consensus (AGG) ------------------------------------------------------------------------
    def _consensus(self, agg) -> ConsensusFlow:
        if self.consensus is None:
            tick = min(_tick_units(v.inst) * v.scale.price_mul for v in agg.venues.values())
            self.consensus = ConsensusFlow(agg, self.base.replace(tick=max(1, tick)), oracle_model=self.oracle_model)
        return self.consensus

    def book_changed(self) -> None:
        self._dirty = True

    def on_consensus_book(self, agg, ts_ns: int) -> None:
        """Feed the consensus image if any venue book changed since the last image."""
        if not self._dirty:
            return
        self._dirty = False
        cf = self._consensus(agg)
        self._ts = max(self._ts, int(ts_ns))
        for out in cf.after_book(self._ts):
            self._emit_consensus(cf, out)

    def on_consensus_trade(self, agg, trade) -> None:
        """A trade (nexus.agg.aggregator.TapeTrade, consensus units) the dedup accepted."""
        self.on_consensus_book(agg, trade.ts_exchange_ns)   # the book as it was before the print
        cf = self._consensus(agg)
        self._ts = max(self._ts, int(trade.ts_exchange_ns))
        for out in cf.trade(self._ts, trade.price, trade.qty, trade.side):
            self._emit_consensus(cf, out)

    def _emit_consensus(self, cf: ConsensusFlow, out) -> None:
        if len(out.signals):
            out.signals["instrument_id"] = self.consensus_iid
            self._emit(CONSENSUS, out, cf.price_exponent, cf.qty_exponent)

    # -- output ---------------------------------------------------------------------------------
    def _emit(self, venue: str, out, price_exp: int, qty_exp: int) -> None:
        if self.writer is not None:
            self.writer.publish(out.signals)
        for sig, facts in zip(out.signals, out.facts):
            d = signal_json(sig, facts, 0, price_exp, qty_exp)
            del d["i"]
            d = {"venue": venue, **d, "ts_exchange_ns": int(sig["ts_exchange_ns"])}
            self.pending.append(d)
            self.recent.append(d)
            self.counts[(venue, d["signal"])] += 1
            if self.on_signal is not None:
                self.on_signal(d)

    def take(self) -> list[dict]:
        out, self.pending = self.pending, []
        return out

    def summary(self) -> dict:
        """Signals so far, per venue and type."""
        out: dict[str, dict[str, int]] = {}
        for (venue, name), n in sorted(self.counts.items()):
            out.setdefault(venue, {})[name] = n
        return out
