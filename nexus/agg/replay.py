"""The Aggregator over a recording: frames through each venue's decoder and sync rules
(books kept exactly as live), book changes and trades into the consensus, ticked once per
recorded second (recorded receive times, so staleness and alerts happen where they did).
With `signals`, the flow engine runs as in `nexus run --agg` (nexus.flow.live.LiveFlow): per
venue on the records the sync publishes and the frame's trades, and on the consensus; each
line then carries the signals raised in that recorded second and the summary counts them.
`agg_scope` is `nexus run --agg-scope` (nexus.feeds.run.aggregation): venues outside it are
decoded, synced and run through the per-venue detectors, but stay out of the consensus; the
consensus is sampled once per recorded second as the run samples it (CrossedSeconds), and the
summary carries the same `seconds`, `seconds_uncrossed`, `uncrossed_share` and `crossed_by`."""

from __future__ import annotations

from nexus import record
from nexus.agg.aggregator import AggConfig, Aggregator
from nexus.feeds.handler import PublishingBook
from nexus.feeds.run.aggregation import CrossedSeconds, resolve_scope, scope_members
from nexus.feeds.replay import Replayer, ReplayStats
from nexus.feeds.specs import spec
from nexus.venues.base import APPLIED, SegKind
from nexus.venues.registry import canonical_symbol, load

_TRADE = int(record.Kind.TRADE)


def replay_agg(path: str, emit, signals: bool = False, consensus=None, agg_scope: str = "auto", **cfg) -> ReplayStats:
    """Emit the lines; returns the replay's counts (malformed frames, damage)."""
    rp = Replayer(path)
    venues = rp.header.get("venues") or []
    symbol = rp.header.get("symbol", "BTCUSDT")
    insts = {}
    for v in venues:  # from the venue's listing saved in the recording
        insts[v] = rp.instrument(v)
    members = scope_members(insts, agg_scope)
    agg = Aggregator(members, AggConfig(**cfg), consensus=consensus)
    sampled = CrossedSeconds(resolve_scope(insts, agg_scope), sorted(set(insts) - set(members)), agg_scope == "auto")
    flow = None
    if signals:
        from nexus.flow.live import LiveFlow

        flow = LiveFlow()

    def on_book(venue, recs):
        member = venue in members
        if member:
            agg.on_book(venue, recs, now)
            sampled.note_book(venue, recs, agg)
        if flow is not None:
            flow.on_batch(venue, insts[venue], recs)
            if member:
                flow.book_changed()
    syncs: dict[str, object] = {}
    t0 = next_tick = None
    now = 0

    def sync_for(venue: str):
        s = syncs.get(venue)
        decoder = rp.decoders[venue]
        if s is None or s.decoder is not decoder:  # a new connection: a fresh sync, as live
            s = load(venue).Sync(decoder)
            s.fuse()  # an ordinary diff on a synced book: decoded, applied and published in one call
            orig = s.state

            def state(inst, orig=orig, venue=venue):
                st = orig(inst)
                if not isinstance(st.book, PublishingBook):
                    st.book = PublishingBook(st.book, lambda recs, v=venue: on_book(v, recs), 0,
                                             inst.instrument_id)
                return st

            s.state = state
            if venue in syncs and venue in members:
                agg.on_venue_reset(venue)
            syncs[venue] = s
        return s

    for fr, venue, segs in rp:
        now = fr.ts_local_ns
        if t0 is None:
            t0, next_tick = now, now + 1_000_000_000
        while now >= next_tick:
            emit(_line(agg, (next_tick - t0) / 1e9, next_tick, flow, sampled))
            next_tick += 1_000_000_000
        if venue not in insts:
            continue
        if segs is None:
            continue
        member = venue in members
        if member:
            agg.on_message(venue, now)
        sync_for(venue).feed(segs, rp.batch)
        for seg in segs:
            if seg.kind is SegKind.TRADES:
                recs = rp.batch[seg.start:seg.stop]
                if flow is not None:
                    flow.on_batch(venue, insts[venue], recs)
                if not member:
                    continue
                for r in recs:
                    new = agg.on_trade(venue, int(r["ts_exchange_ns"]), int(r["price"]), int(r["qty"]),
                                       int(r["side"]), int(r["trade_id"]), now)
                    if new and flow is not None:
                        flow.on_consensus_trade(agg, agg.tape[-1])
        if flow is not None and member:  # (a venue outside the scope leaves the consensus as it was)
            if segs is APPLIED:  # the fused path wrote its records from index 0, as decode does
                n = syncs[venue].last_fused[0]
                ts = int(rp.batch["ts_exchange_ns"][n - 1]) if n else 0
            else:
                ts = int(rp.batch["ts_exchange_ns"][segs[-1].stop - 1]) if segs and segs[-1].stop else 0
            flow.on_consensus_book(agg, ts)
    if t0 is not None:
        emit(_line(agg, (next_tick - t0) / 1e9, next_tick, flow, sampled))
    summary = {"summary": {**agg.summary(), **sampled.summary()}}
    if flow is not None:
        summary["signals"] = flow.summary()
    emit(summary)
    rp.close()
    return rp.stats


def _line(agg: Aggregator, t_s: float, now_ns: int, flow=None, sampled: CrossedSeconds | None = None) -> dict:
    alerts = agg.tick(now_ns)
    line = {"t_s": round(t_s, 3), "agg": agg.summary(), "alerts": alerts}
    if sampled is not None:  # as `nexus run --agg` samples each second (Aggregation.second)
        sampled.sample(agg)
        line["agg"].update(sampled.scope_fields)
    if flow is not None:
        line["signals"] = flow.take()
    return line
