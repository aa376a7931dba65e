"""Aggregation for `nexus run --agg`: the Aggregator (consensus book, trade dedup, staleness,
divergence) fed with each venue's batches as the readers take them, and the flow engine's
consensus hooks (the consensus image after each burst of book updates, each trade the dedup
accepted as new).

Scope (`--agg-scope`): "all" merges every venue run; "perps" merges the perpetuals only
(instruments whose contract kind is linear or inverse): spot venues are still read, kept and
shown per venue, but their books and trades stay out of the consensus. "auto" (the default)
is "perps" when the venues run mix spot and perpetual instruments, "all" otherwise; the agg
line and the summary then name the scope, the venues left outside and `scope_auto`.

Why "auto" is the default. A spot book and a perpetual book are two instruments whose prices
differ by the spot-perp basis (a real, slowly moving price difference, not a cross anyone can
trade away: closing it takes funding and carry, not one arbitrage), so a consensus of both is
crossed whenever the basis exceeds their half-spreads -- cents on Binance spot, i.e. nearly
always (measured: 0-3 % of seconds uncrossed on the default five, seeds 1-5). Keeping "all" as
the default would make the default consensus touch a number nobody quotes. A basis-adjusted
consensus (each book shifted by its tracked basis to a reference venue) was weighed and not
chosen: its touch would show prices no venue quotes (not executable), its tracked basis lags
and carries the venues' lead-lag noise, and the fused book is the native merge's to change,
not this scope's. So by default the perpetuals are merged and spot is shown per venue, named
as outside; nothing is adjusted or dropped silently, and `--agg-scope all` still merges every
book (crossed by the basis, and the summary says so in `crossed_by` / `crossed_pairs`).

Once a second the consensus is sampled: two-sided? crossed (bid >= ask, locked included)?
And the raw merge (the venues' own touches, before the Aggregator's uncrossing by freshness,
nexus.agg.aggregator): crossed? whose touch crosses it (`crossed_by`), and which pair of
venues holds the crossed touch, by how many basis points, and how far apart in exchange time
their last book updates were (`crossed_pairs`): venues publishing at different cadences
(Bybit every 20 ms, most books every 100 ms, Hyperliquid snapshots every 0.5 s) show the
market at different instants, and a touch published tens of milliseconds later has moved by
more than a 0.1 USD spread. The consensus shown hides the older quote of such a cross
(`--agg-uncross fresh`, the default), so `seconds_uncrossed` counts the consensus as shown and
`raw` the raw merge; with `--agg-uncross off` the two are the same.

So the summary also samples the consensus at coherent instants (`coherent`): each time every
merged venue's last book update carries the same exchange time (within COHERENT_NS), i.e. the
books show the market at one instant, is the consensus crossed? That separates the market's
own crosses (venues apart by more than their spreads at one instant: what an arbitrageur would
trade away) from the publication cadence's (a fresh touch against one published up to 100 ms
earlier); with the uncrossing by freshness no hidden range is in force at such an instant, so
it measures the market's own crosses either way. The once-a-second figure stays the headline:
it is what a reader of the consensus sees. Venues that never publish at a common instant (real venues' clocks and cadences rarely
line up to the millisecond) give no coherent sample, and the count says so."""

from __future__ import annotations

import statistics

import numpy as np

from nexus import record
from nexus.agg.aggregator import AggConfig, Aggregator
from nexus.exceptions import ConfigError

_TRADE = int(record.Kind.TRADE)
COHERENT_NS = 1_000_000     # books whose last updates are this close in exchange time show one instant


AGG_SCOPES = ("auto", "all", "perps")


def resolve_scope(instruments: dict, scope: str) -> str:
    """`scope` with "auto" made concrete: "perps" when the instruments mix spot and
    perpetuals (see the module docstring), "all" otherwise."""
    if scope not in AGG_SCOPES:
        raise ConfigError(f"aggregation scope must be one of {', '.join(AGG_SCOPES)}, got {scope!r}")
    if scope != "auto":
        return scope
    kinds = {i.contract_kind == "spot" for i in instruments.values()}
    return "perps" if kinds == {True, False} else "all"


def scope_members(instruments: dict, scope: str) -> dict:
    """The venues (-> instrument) the consensus merges under `scope` ("auto" resolved)."""
    scope = resolve_scope(instruments, scope)
    members = {v: i for v, i in instruments.items() if scope == "all" or i.contract_kind != "spot"}
    if not members:
        raise ConfigError(f"--agg-scope {scope}: none of {', '.join(instruments)} is a perpetual")
    return members


class Aggregation:
    def __init__(self, instruments: dict, stale_after_s: float, options: dict, flow=None, scope: str = "auto") -> None:
        members = scope_members(instruments, scope)
        self.scope = resolve_scope(instruments, scope)
        self.scope_auto = scope == "auto"
        self.outside = sorted(set(instruments) - set(members))   # read and shown per venue, not merged
        self.agg = Aggregator(members, AggConfig(stale_after_s=stale_after_s, **options))
        self.flow = flow  # nexus.flow.live.LiveFlow or None
        self.touch_changed = False
        self._last_ts = 0
        # sampled once a second (`second`)
        self.sampled = CrossedSeconds(self.scope, self.outside, self.scope_auto)

    def on_book(self, venue: str, batch: np.ndarray, now_ns: int) -> None:
        if venue not in self.agg.venues:
            return
        self.touch_changed |= self.agg.on_book(venue, batch, now_ns)
        self.sampled.note_book(venue, batch, self.agg)
        if self.flow is not None:
            self.flow.book_changed()
            self._last_ts = max(self._last_ts, int(batch["ts_exchange_ns"][-1]))

    def on_trades(self, venue: str, trades: np.ndarray, now_ns: int) -> None:
        agg, flow = self.agg, self.flow
        if venue not in agg.venues:
            return
        for ts, price, qty, side, trade_id in zip(trades["ts_exchange_ns"].tolist(), trades["price"].tolist(),
                                                  trades["qty"].tolist(), trades["side"].tolist(),
                                                  trades["trade_id"].tolist()):
            if agg.on_trade(venue, ts, price, qty, side, trade_id, now_ns) and flow is not None:
                flow.on_consensus_trade(agg, agg.tape[-1])

    def end_of_poll(self, records: int) -> bool:
        """After a poll that read `records`: the flow engine sees the consensus image; returns
        whether the consensus touch changed since the last poll."""
        if records and self.flow is not None:
            self.flow.on_consensus_book(self.agg, self._last_ts)
        changed, self.touch_changed = self.touch_changed, False
        return changed

    def second(self, now_ns: int, latency_us_p50) -> tuple[dict, list[dict]]:
        """Once a second: the alerts fired, and the `agg` part of the line (each venue's
        metrics with its `latency_us_p50(venue)`)."""
        alerts = self.agg.tick(now_ns)
        line = self.agg.summary()
        self.sampled.sample(self.agg)
        metrics = self.agg.venue_metrics(now_ns)
        for v, m in metrics.items():
            m["latency_us_p50"] = latency_us_p50(v)
        line["venue_metrics"] = metrics
        line.update(self.sampled.scope_fields)
        return line, alerts

    def seconds_summary(self) -> dict:
        """For the run's summary: `CrossedSeconds.summary` of the once-a-second samples."""
        return self.sampled.summary()


class CrossedSeconds:
    """Once-a-second samples of a consensus (`sample` after the second's tick): the seconds
    with a two-sided consensus, those crossed (bid >= ask, locked included), per venue how
    often its own touch was on the crossing side, and which pair of venues held the crossed
    touch (by how many bp, how far apart their last book updates were). Shared by `nexus run
    --agg` (Aggregation) and `nexus agg replay` (nexus.agg.replay), so both report the same
    fields the same way."""

    def __init__(self, scope: str = "all", outside: list[str] | None = None, scope_auto: bool = False) -> None:
        self.scope_fields = ({"scope": scope, "outside": outside or [], **({"scope_auto": True} if scope_auto else {})}
                             if scope != "all" else {})
        self.seconds = 0
        self.seconds_crossed = 0
        self.seconds_raw_crossed = 0    # the venues' own touches crossed (before uncrossing)
        self.uncross: str | None = None
        self.crossed_by: dict[str, dict[str, int]] = {}
        # (venue holding the crossed bid, venue holding the crossed ask) -> per crossed sample
        # (cross in bp, |exchange time gap| of their last book updates in ms)
        self.crossed_pairs: dict[tuple[str, str], list[tuple[float, float]]] = {}
        self.book_ts: dict[str, int] = {}    # venue -> exchange time of its last book record
        # coherent instants (see the module docstring): how many, how many crossed; the
        # instant being observed (its exchange time, crossed?) is counted once the next one
        # begins, so it is judged after the last of its venues' updates
        self.coherent = 0
        self.coherent_crossed = 0
        self._instant: tuple[int, bool] | None = None

    def note_book(self, venue: str, batch: np.ndarray, agg: Aggregator | None = None) -> None:
        """The exchange time of the venue's last book record in `batch` (which may carry the
        venue's trades too), for `crossed_pairs`' time gap; with `agg` (the consensus after
        `batch`), a coherent-instant sample when every merged venue's last book update is
        within COHERENT_NS of the others'."""
        if not len(batch):
            return
        if batch["kind"][-1] != _TRADE:     # the usual batch: it ends with a book record
            self.book_ts[venue] = int(batch["ts_exchange_ns"][-1])
        else:
            book = np.flatnonzero(batch["kind"] != _TRADE)
            if not len(book):
                return
            self.book_ts[venue] = int(batch["ts_exchange_ns"][book[-1]])
        if agg is None:
            return
        ts = [self.book_ts.get(v) for v, s in agg.venues.items() if not (s.stale and agg.cfg.stale_mode == "exclude")]
        if len(ts) < 2 or None in ts or max(ts) - min(ts) > COHERENT_NS:
            return
        b, a = agg.consensus.best_bid(), agg.consensus.best_ask()
        if not (b and a):
            return
        if self._instant is not None and self._instant[0] != max(ts):
            self.coherent += 1
            self.coherent_crossed += self._instant[1]
        self._instant = (max(ts), b[0] >= a[0])

    def sample(self, agg: Aggregator) -> None:
        """This second's sample of the consensus: two-sided? crossed (as shown, after the
        Aggregator's uncrossing by freshness)? were the venues' own touches crossed (the raw
        merge)? and for a raw cross, whose touch crosses (a venue whose best bid is at or
        above another's best ask, or whose best ask is at or below another's best bid, on
        the consensus grid; stale venues excluded as the consensus excludes them)."""
        self.uncross = agg.cfg.uncross
        b, a = agg.consensus.best_bid(), agg.consensus.best_ask()
        if not (b and a):
            return
        self.seconds += 1
        self.seconds_crossed += b[0] >= a[0]
        top_bid: tuple[int, str] | None = None     # (price on the grid, venue): who holds the touch
        top_ask: tuple[int, str] | None = None
        touches = []
        for v in agg.venues.values():
            if v.stale and agg.cfg.stale_mode == "exclude":
                continue
            vb, va = v.book.best_bid(), v.book.best_ask()
            pb = vb[0] * v.scale.price_mul if vb else None
            pa = va[0] * v.scale.price_mul if va else None
            touches.append((v.name, pb, pa))
            if pb is not None and (top_bid is None or pb > top_bid[0]):
                top_bid = (pb, v.name)
            if pa is not None and (top_ask is None or pa < top_ask[0]):
                top_ask = (pa, v.name)
        if not (top_bid and top_ask and top_bid[0] >= top_ask[0]):
            return
        self.seconds_raw_crossed += 1
        for name, pb, pa in touches:
            by = self.crossed_by.setdefault(name, {"bid": 0, "ask": 0})
            by["bid"] += pb is not None and pb >= top_ask[0]
            by["ask"] += pa is not None and pa <= top_bid[0]
        if top_bid[1] != top_ask[1] and top_ask[0] > 0:
            tb, ta = self.book_ts.get(top_bid[1]), self.book_ts.get(top_ask[1])
            gap_ms = abs(tb - ta) / 1e6 if tb is not None and ta is not None else float("nan")
            self.crossed_pairs.setdefault((top_bid[1], top_ask[1]), []).append(
                ((top_bid[0] - top_ask[0]) / top_ask[0] * 1e4, gap_ms))

    def summary(self) -> dict:
        """How many of the samples found the consensus two-sided and uncrossed (and its
        share), which venues' touches crossed it and which pairs held the crossed touch; the
        scope and the venues outside it when the scope is not "all"."""
        n = self.seconds
        return {**self.scope_fields, "seconds": n, "seconds_uncrossed": n - self.seconds_crossed,
                "uncrossed_share": round((n - self.seconds_crossed) / n, 3) if n else None,
                "uncross": self.uncross,
                "raw": {"seconds_uncrossed": n - self.seconds_raw_crossed,
                        "uncrossed_share": round((n - self.seconds_raw_crossed) / n, 3) if n else None},
                "crossed_by": {v: c for v, c in sorted(self.crossed_by.items()) if c["bid"] or c["ask"]},
                "crossed_pairs": self._pairs(), "coherent": self._coherent()}

    def _coherent(self) -> dict:
        """The coherent-instant samples (module docstring): how many instants, how many of
        them uncrossed and the share (null when there was none)."""
        n = self.coherent + (self._instant is not None)
        crossed = self.coherent_crossed + (self._instant is not None and self._instant[1])
        return {"instants": n, "uncrossed": n - crossed, "uncrossed_share": round((n - crossed) / n, 3) if n else None}

    def _pairs(self) -> dict:
        """Per pair "BIDVENUE>ASKVENUE" (the first's best bid at or over the second's best ask
        at the crossed samples), most frequent first: the samples, the median cross in bp and
        the median gap between the two venues' last book updates in exchange time (ms; null
        when a venue's updates carry no time)."""
        out = {}
        for (vb, va), xs in sorted(self.crossed_pairs.items(), key=lambda kv: (-len(kv[1]), kv[0])):
            gaps = [g for _, g in xs if g == g]
            out[f"{vb}>{va}"] = {"seconds": len(xs), "bps_median": round(statistics.median(x for x, _ in xs), 3),
                                 "book_gap_ms_median": round(statistics.median(gaps), 1) if gaps else None}
        return out
