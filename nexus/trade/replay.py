"""`nexus trade --replay FILE --paper`: the auto-trader and the risk gate over a recording, in
recorded time (the gate's clock, cooldowns and hold times are the frames' receive times),
fills simulated against the replayed book by the paper router.

The path per frame is the live one: the venue's decoder and sync rules (a "connected" event
starts a fresh sync, as the live stream did), the synced book records into a book and the
flow engine (nexus.flow.live.LiveFlow), each batch through the same MarketTap, signals into
the same AutoTrader. Deterministic: no wall clock, no randomness; client ids count from 1 and
the gate has no store (a backtest never touches the persisted day), so the same file and
settings give the same lines, byte for byte.
"""

from __future__ import annotations

from typing import Callable

from nexus._native import Book
from nexus.exceptions import ConfigError
from nexus.feeds.handler import PublishingBook
from nexus.feeds.replay import Replayer
from nexus.feeds.specs import spec
from nexus.flow.live import LiveFlow
from nexus.risk.gate import Gate
from nexus.trade.config import AutoSettings
from nexus.trade.oracle import OracleSeen
from nexus.trade.paper import PaperRouter
from nexus.trade.stats import compute
from nexus.trade.tap import MarketTap
from nexus.trade.trader import AutoTrader
from nexus.venues.base import SegKind
from nexus.venues.registry import canonical_symbol, load

NS_PER_S = 1_000_000_000
SESSION = "replay"


def recording_venue(path: str, venue: str | None) -> tuple[str, str, str]:
    """(venue, venue symbol, canonical symbol) of a recording; `venue` picks one of several."""
    rp = Replayer(path)
    venues, symbol = rp.header.get("venues") or [], rp.header.get("symbol", "BTCUSDT")
    rp.close()
    if venue is None:
        if len(venues) != 1:
            raise ConfigError(f"the recording holds {venues}: name the traded one with --venue")
        venue = venues[0]
    elif venue not in venues:
        raise ConfigError(f"--venue {venue}: the recording holds {', '.join(venues)}")
    return venue, canonical_symbol(venue, spec(venue).symbol_of(symbol)), symbol


def replay_trade(path: str, venue: str, symbol: str, risk_settings, instruments, settings: AutoSettings,
                 emit: Callable[[dict], None], oracle_model: dict | None = None, oracle: dict | None = None) -> dict:
    """`oracle_model`: the learned oracle's model (None: the rule oracle); `oracle`: its label
    (nexus.commands.signals.oracle_label), shown with the oracle signals seen per kind."""
    now = [0]
    gate = Gate(risk_settings, instruments, None, clock_ns=lambda: now[0])
    rp = Replayer(path, venues={venue})
    vinst = rp._decoder(venue).instrument(symbol)  # the venue's listing saved in the recording
    paper = PaperRouter(vinst)
    trader = AutoTrader(settings, gate, gate.instrument(venue, symbol), paper, clock_ns=lambda: now[0],
                        session=SESSION)
    paper.sink = trader
    tap = MarketTap(trader, vinst, paper)
    flow = LiveFlow(oracle_model=oracle_model)
    seen = OracleSeen(oracle)
    flow.on_signal = seen.wrap(trader.on_signal)
    book = Book(vinst.price_exponent, vinst.qty_exponent)

    def on_records(recs) -> None:
        book.apply(recs)
        tap.on_batch(book, recs)
        flow.on_batch(venue, vinst, recs)

    sync = decoder = None
    t0 = next_tick = None
    trader.enable()
    for fr, _v, segs in rp:
        now[0] = fr.ts_local_ns
        if t0 is None:
            t0, next_tick = now[0], now[0] + NS_PER_S
        while now[0] >= next_tick:
            emit({"t_s": (next_tick - t0) // NS_PER_S, **trader.status(), "oracle": seen.status(),
                  "events": trader.take_events()})
            next_tick += NS_PER_S
        if segs is None:
            continue
        if sync is None or rp.decoders[venue] is not decoder:   # a new connection: a fresh sync
            decoder = rp.decoders[venue]
            sync = _publishing_sync(venue, decoder, on_records)
        sync.feed(segs, rp.batch)
        for seg in segs:
            if seg.kind is SegKind.TRADES and seg.stop > seg.start:
                recs = rp.batch[seg.start:seg.stop]
                tap.on_batch(book, recs)
                flow.on_batch(venue, vinst, recs)
    rp.close()
    return {"summary": {**trader.status(), "oracle": seen.status(), "events": trader.take_events(),
                        "malformed": rp.stats.malformed,
                        "journal": [_fill_obj(f) for f in trader.journal], "stats": compute(trader.journal)}}


def _publishing_sync(venue: str, decoder, on_records):
    """The venue's Sync whose books publish every change to `on_records`."""
    s = load(venue).Sync(decoder)
    s.fuse()  # an ordinary diff on a synced book: decoded, applied and published in one call
    orig = s.state

    def state(inst):
        st = orig(inst)
        if not isinstance(st.book, PublishingBook):
            st.book = PublishingBook(st.book, on_records, 0, inst.instrument_id)
        return st

    s.state = state
    return s


def _fill_obj(f) -> dict:
    return {"ts_ns": f.ts_ns, "side": f.side, "qty": str(f.qty), "price": str(f.price), "realised": str(f.realised),
            "tag": f.tag}
