"""Aggregator state: the native consensus book, trade dedup, staleness, divergence alerts
and per-venue metrics. Fed with each venue's validated book records and trades (from the
rings), ticked once per second by the runtime. Data-only: it never places orders.

Staleness: a venue with no message for `stale_after_s` is stale; in "exclude" mode its
levels leave the consensus totals until it recovers (kept, so recovery is exact); in
"flag" mode they stay and the venue is only flagged.

Divergence: a venue's mid more than `divergence_pct` % away from the consensus mid of the
OTHER venues fires one alert; it re-arms only after the gap falls below
`divergence_clear_pct` (hysteresis), so one episode gives one alert. "Consensus mid of the
others" is the median of the other live venues' own mids: the mid of their merged book
would be pulled (or crossed) by the very outlier being judged, the median is not, as long
as at least three other venues are live (the default AGG set has four others). With fewer,
an outlier also moves the reference and other venues may be flagged as well.

Uncrossing by freshness (`uncross="fresh"`, the default). Venues publish their books at
different cadences (Bybit every 20 ms, most books every 100 ms, Hyperliquid snapshots every
0.5 s), so at any moment the merged touches show the market at different instants, and a
touch published tens of milliseconds later has often moved by more than a spread: the raw
merge is crossed in about half of the seconds on the simulator's five venues even though
they are held together by arbitrage (at instants where every venue published at once it is
uncrossed 98-100 % of the time; nexus.feeds.run.aggregation). The consensus therefore lets
the newer quote win: when a venue's levels cross the touch of a venue whose last book update
is newer (by more than SAME_INSTANT_NS, exchange time), the older venue's crossing levels
are hidden from the consensus (native `Consensus.set_hide`: out of the totals and reads,
kept, so they come back exactly) until the cross is gone or the older venue publishes again.
The consensus then shows only prices some venue quotes, and its touch is the freshest
estimate of what can be traded. Not hidden: crosses between venues that published at the same
instant (the market's own, which an arbitrageur would trade), and crosses deeper than
`uncross_max_bps` (a dislocation or a bad feed, which the divergence alert and a trader
should see; taker fees on these venues are a few bp a leg, so a cross under 2 bp pays no
round trip). A venue whose book records carry no exchange time (Bitfinex, dYdX) counts as
published at the latest exchange time any merged venue has shown. `uncross="off"` merges the
raw books (the summary counts raw crosses either way).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from nexus import record
from nexus._native import Book, Consensus, TradeDedup
from nexus.agg.scales import Grid, Scale, common_grid, grid_tick, scale_for, to_common_qty
from nexus.exceptions import ConfigError
from nexus.instruments import Instrument

AGG_VENUES_MAX = 5
BID, ASK = int(record.Side.BID), int(record.Side.ASK)
_TRADE = int(record.Kind.TRADE)
UNCROSS_MODES = ("fresh", "off")
# book updates this close in exchange time show the market at one instant (uncrossing)
SAME_INSTANT_NS = 1_000_000


class AggOrderRefused(ConfigError):
    """Orders cannot be placed in AGG mode."""


def refuse_order_in_agg() -> None:
    raise AggOrderRefused(
        "orders are not accepted in AGG mode: the consensus book is data-only; "
        "pick one venue (nexus run --venues VENUE) to trade"
    )


@dataclass
class AggConfig:
    stale_after_s: float = 5.0
    stale_mode: str = "exclude"  # or "flag"
    divergence_pct: Decimal = Decimal("0.3")
    divergence_clear_pct: Decimal | None = None  # default: half of divergence_pct
    dedup_window_ms: float = 0.0
    depth_bps: int = 10
    tape_len: int = 200
    uncross: str = "fresh"  # or "off" (see the module docstring)
    uncross_max_bps: float = 2.0

    def __post_init__(self):
        if self.stale_mode not in ("exclude", "flag"):
            raise ConfigError("stale mode must be 'exclude' or 'flag'")
        if self.uncross not in UNCROSS_MODES:
            raise ConfigError(f"uncross mode must be one of {', '.join(UNCROSS_MODES)}, got {self.uncross!r}")
        if not self.uncross_max_bps >= 0:
            raise ConfigError(f"uncross_max_bps must be >= 0, got {self.uncross_max_bps}")
        if self.divergence_clear_pct is None:
            self.divergence_clear_pct = self.divergence_pct / 2
        if not (0 < self.divergence_clear_pct <= self.divergence_pct):
            raise ConfigError("divergence clear threshold must be in (0, divergence threshold]")


@dataclass
class VenueState:
    name: str
    idx: int
    inst: Instrument
    scale: Scale
    book: Book
    last_msg_ns: int | None = None
    msgs: int = 0
    msgs_at_last_tick: int = 0
    stale: bool = False
    stale_since_ns: int = 0
    stale_total_ns: int = 0
    diverged: bool = False
    trades: int = 0
    book_ts_ns: int = 0     # exchange time of its last book record (uncrossing; see on_book)
    hide_bid: int | None = None   # consensus price from which its bids are hidden (uncrossing)
    hide_ask: int | None = None


@dataclass(frozen=True)
class TapeTrade:
    ts_exchange_ns: int
    venue: str
    price: int  # consensus grid
    qty: int  # consensus qty exponent
    side: int


class Aggregator:
    def __init__(self, instruments: dict[str, Instrument], cfg: AggConfig | None = None, consensus=None):
        """`consensus`: the book to fuse into (default the native Consensus; the benchmark
        passes its pure-Python equivalent to time the same replay side by side)."""
        if not 1 <= len(instruments) <= AGG_VENUES_MAX:
            raise ConfigError(f"the aggregator takes 1 to {AGG_VENUES_MAX} venues, got {len(instruments)}")
        self.cfg = cfg or AggConfig()
        self.grid: Grid = common_grid(list(instruments.values()))
        self.consensus = consensus if consensus is not None else Consensus()
        self.consensus.set_tick(grid_tick(list(instruments.values()), self.grid))
        self.dedup = TradeDedup(int(self.cfg.dedup_window_ms * 1e6), 60_000_000_000)
        self.venues: dict[str, VenueState] = {}
        for i, (name, inst) in enumerate(instruments.items()):
            sc = scale_for(inst, self.grid)
            self.consensus.set_scale(i, sc.price_mul, sc.qty_mul, sc.qty_div, sc.inverse)
            self.venues[name] = VenueState(name, i, inst, sc, Book(inst.price_exponent, inst.qty_exponent))
        self.tape: deque[TapeTrade] = deque(maxlen=self.cfg.tape_len)
        self.trades_in = 0
        self._fresh = self.cfg.uncross == "fresh"
        self._hiding = 0            # venue sides currently hidden in part (uncrossing)
        self._latest_ts = 0         # the latest exchange time of any merged venue's book
        self.uncross_updates = 0    # how many times a venue side's hidden range was set or lifted

    # -- inputs ------------------------------------------------------------------------------
    def on_book(self, venue: str, batch: np.ndarray, now_ns: int) -> bool:
        """Apply a venue's book records; True when the consensus touch changed."""
        v = self.venues[venue]
        v.book.apply(batch)
        changed = self.consensus.apply_touch(v.idx, batch)
        self._seen(v, now_ns)
        if self._fresh and len(batch):
            kinds = batch["kind"]
            if kinds[-1] != _TRADE:
                ts = int(batch["ts_exchange_ns"][-1])
            else:
                book = np.flatnonzero(kinds != _TRADE)
                ts = int(batch["ts_exchange_ns"][book[-1]]) if len(book) else 0
            # a book without exchange times (Bitfinex, dYdX) counts as published at the latest
            # exchange time any merged venue has shown (as the flow engine stamps its signals)
            self._latest_ts = max(self._latest_ts, ts)
            v.book_ts_ns = ts or self._latest_ts
            t = self.consensus.touch()
            if self._hiding or (t is not None and t[0] >= t[2]):
                self._uncross()
                changed |= self.consensus.touch() != t
        return changed

    def _uncross(self) -> None:
        """Hide each venue's levels that cross a newer venue's touch (module docstring):
        its bids at or above the lowest ask of the venues whose last book update is newer,
        its asks at or below their highest bid, unless its own touch crosses them by more
        than `uncross_max_bps`; lift what no longer needs hiding."""
        tops = []   # (venue, best bid, best ask on the consensus grid, exchange time)
        for v in self.venues.values():
            if v.stale and self.cfg.stale_mode == "exclude":
                continue
            b, a = v.book.best_bid(), v.book.best_ask()
            m = v.scale.price_mul
            tops.append((v, b[0] * m if b else None, a[0] * m if a else None, v.book_ts_ns))
        band = self.cfg.uncross_max_bps * 1e-4
        for v, bid, ask, ts in tops:
            newer = [(b, a) for u, b, a, t in tops if u is not v and t > ts + SAME_INSTANT_NS]
            asks = [a for _, a in newer if a is not None]
            bids = [b for b, _ in newer if b is not None]
            lo_ask = min(asks) if asks else None
            hi_bid = max(bids) if bids else None
            hb = lo_ask if bid is not None and lo_ask is not None and lo_ask <= bid <= lo_ask * (1 + band) else None
            ha = hi_bid if ask is not None and hi_bid is not None and hi_bid * (1 - band) <= ask <= hi_bid else None
            if hb != v.hide_bid:
                self._hiding += (hb is not None) - (v.hide_bid is not None)
                v.hide_bid = hb
                self.consensus.set_hide(v.idx, BID, hb)
                self.uncross_updates += 1
            if ha != v.hide_ask:
                self._hiding += (ha is not None) - (v.hide_ask is not None)
                v.hide_ask = ha
                self.consensus.set_hide(v.idx, ASK, ha)
                self.uncross_updates += 1

    def _unhide(self, v: VenueState) -> None:
        for side, h in ((BID, v.hide_bid), (ASK, v.hide_ask)):
            if h is not None:
                self.consensus.set_hide(v.idx, side, None)
                self._hiding -= 1
                self.uncross_updates += 1
        v.hide_bid = v.hide_ask = None

    def raw_crossed(self) -> bool:
        """Whether the merged venues' own touches cross (some venue's best bid at or above
        another's best ask; stale venues left out as the consensus leaves them), hidden
        levels or not: the raw merge's state, which `summary()["crossed"]` shows after
        uncrossing."""
        bids, asks = [], []
        for v in self.venues.values():
            if v.stale and self.cfg.stale_mode == "exclude":
                continue
            b, a = v.book.best_bid(), v.book.best_ask()
            if b:
                bids.append(b[0] * v.scale.price_mul)
            if a:
                asks.append(a[0] * v.scale.price_mul)
        return bool(bids and asks and max(bids) >= min(asks))

    def on_trade(self, venue: str, ts_exchange_ns: int, price: int, qty: int, side: int, trade_id: int, now_ns: int) -> bool:
        v = self.venues[venue]
        self._seen(v, now_ns)
        self.trades_in += 1
        v.trades += 1
        pc = price * v.scale.price_mul
        qc = to_common_qty(qty, v.scale, pc)
        new = self.dedup.check(v.idx, ts_exchange_ns, pc, qc, side, trade_id)
        if new:
            self.tape.append(TapeTrade(ts_exchange_ns, venue, pc, qc, side))
        return new

    def on_message(self, venue: str, now_ns: int) -> None:
        """Any message from the venue (liveness and rate). Wire-to-book latency is measured by
        the ring readers (nexus.feeds.runtime), which add it to `venue_metrics` lines."""
        self._seen(self.venues[venue], now_ns)

    def _seen(self, v: VenueState, now_ns: int) -> None:
        v.last_msg_ns = now_ns
        v.msgs += 1

    def on_venue_reset(self, venue: str) -> None:
        """The venue's book was invalidated (gap, resync, disconnect): drop its levels."""
        v = self.venues[venue]
        v.book.clear()
        self.consensus.clear_venue(v.idx)
        self._unhide(v)
        v.book_ts_ns = 0

    # -- once per second --------------------------------------------------------------------
    def tick(self, now_ns: int) -> list[dict]:
        alerts: list[dict] = []
        limit_ns = int(self.cfg.stale_after_s * 1e9)
        for v in self.venues.values():
            silent = now_ns - v.last_msg_ns if v.last_msg_ns is not None else None
            if silent is not None and silent > limit_ns and not v.stale:
                v.stale, v.stale_since_ns = True, now_ns
                if self.cfg.stale_mode == "exclude":
                    self.consensus.set_included(v.idx, False)
                    self._unhide(v)     # out of the consensus: nothing of it to uncross
                alerts.append({"type": "stale", "venue": v.name, "state": "stale", "silent_s": round(silent / 1e9, 3)})
            elif v.stale and silent is not None and silent <= limit_ns:
                v.stale = False
                v.stale_total_ns += now_ns - v.stale_since_ns
                self.consensus.set_included(v.idx, True)
                alerts.append({"type": "stale", "venue": v.name, "state": "recovered",
                               "stale_s": round((now_ns - v.stale_since_ns) / 1e9, 3)})
        alerts.extend(self._divergence())
        return alerts

    def _mid_c(self) -> Decimal | None:
        b, a = self.consensus.best_bid(), self.consensus.best_ask()
        if not b or not a:
            return None
        return Decimal(b[0] + a[0]) / 2

    def venue_mid_c(self, v: VenueState) -> Decimal | None:
        b, a = v.book.best_bid(), v.book.best_ask()
        if not b or not a:
            return None
        return Decimal((b[0] + a[0]) * v.scale.price_mul) / 2

    def _divergence(self) -> list[dict]:
        alerts = []
        live = [v for v in self.venues.values() if not v.stale]
        if len(live) < 2:
            return alerts
        mids = {v.name: self.venue_mid_c(v) for v in live}
        for v in live:
            rest = sorted(m for n, m in mids.items() if n != v.name and m is not None)
            mine = mids[v.name]
            if not rest:
                continue
            k = len(rest)
            others = rest[k // 2] if k % 2 else (rest[k // 2 - 1] + rest[k // 2]) / 2
            if mine is None or others is None or others == 0:
                continue
            gap_pct = abs(mine / others - 1) * 100
            if not v.diverged and gap_pct > self.cfg.divergence_pct:
                v.diverged = True
                alerts.append({
                    "type": "divergence", "venue": v.name, "state": "diverged",
                    "gap_pct": f"{gap_pct:.4f}", "venue_mid": self.price_str(mine), "others_mid": self.price_str(others),
                })
            elif v.diverged and gap_pct < self.cfg.divergence_clear_pct:
                v.diverged = False
                alerts.append({"type": "divergence", "venue": v.name, "state": "cleared", "gap_pct": f"{gap_pct:.4f}"})
        return alerts

    # -- views -------------------------------------------------------------------------------
    def price_str(self, p) -> str | None:
        """Consensus-grid price (int, or a Decimal mid that may fall between ticks) as a plain decimal."""
        if p is None:
            return None
        return format(Decimal(p).scaleb(-self.grid.price_exponent).normalize(), "f")

    def qty_str(self, q: int) -> str:
        return format(Decimal(q).scaleb(-self.grid.qty_exponent).normalize(), "f")

    def summary(self) -> dict:
        b, a = self.consensus.best_bid(), self.consensus.best_ask()
        return {
            "best_bid": self.price_str(b[0]) if b else None,
            "best_ask": self.price_str(a[0]) if a else None,
            "venues_live": sum(1 for v in self.venues.values() if not v.stale and v.last_msg_ns is not None),
            "trades": self.trades_in,
            "trades_deduped": self.dedup.duplicates_cross_venue + self.dedup.duplicates_same_venue,
            # venues quoting apart (basis, a dislocation, venues at one instant) can leave one's
            # bid above another's ask even after uncrossing by freshness
            "crossed": bool(b and a and b[0] >= a[0]),
            **({"crossed_raw": self.raw_crossed()} if self._fresh else {}),
        }

    def venue_metrics(self, now_ns: int, interval_s: float = 1.0) -> dict:
        out = {}
        mid = self._mid_c()
        for v in self.venues.values():
            rate = (v.msgs - v.msgs_at_last_tick) / interval_s
            v.msgs_at_last_tick = v.msgs
            b, a = v.book.best_bid(), v.book.best_ask()
            spread = self.price_str((a[0] - b[0]) * v.scale.price_mul) if b and a else None
            share = None
            if mid is not None:
                w = mid * self.cfg.depth_bps / 10_000
                lo, hi = int(mid - w), int(mid + w) + 1
                pb, tb = self.consensus.depth_between(BID, lo, hi)
                pa, ta = self.consensus.depth_between(ASK, lo, hi)
                total = tb + ta
                share = f"{(pb[v.idx] + pa[v.idx]) / total:.4f}" if total > 0 else None
            stale_ns = v.stale_total_ns + (now_ns - v.stale_since_ns if v.stale else 0)
            out[v.name] = {
                "msgs_per_s": rate,
                "spread": spread,
                "depth_share": share,
                "stale": v.stale,
                "stale_s": round(stale_ns / 1e9, 3),
                "diverged": v.diverged,
            }
        return out
