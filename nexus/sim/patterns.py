"""Scripted order-flow patterns injected into a venue's book, each with a ground-truth label.

Kinds (the signal families of the product description) and what `side` means in the label:

- `iceberg`: a resting order shows a small visible size and refills it at the same price
  each time it is taken, so far more trades there than was ever displayed; takers lean on
  it at the venue's ordinary taker pace, and its slice keeps its place in the level's queue
  (Iceberg); one refilled fewer than 3 times as the wire shows it (a refill counts where the
  venue's main book channel published the level since the previous one: clips eaten by one
  order in one step are never shown) gets no label, nor does one whose level was taken at
  absorption's flood turnover (ABSORPTION_TURNOVER_PCT of its size a second), nor one whose
  level traded no more than it ever displayed (a small clip inside a thick level: no hidden
  size shows on the wire). side = the
  side of the hidden order ("buy" = a hidden bid).
- `spoof`: a wall 25-40 typical orders large (a typical order as for `accumulation` below:
  the venue's realised one where that is larger than the nominal one) appears 1.5-3 bp behind the touch -- but never
  beyond the middle of the depth the venue's main book channel publishes (Kraken's book
  shows 10 levels, Hyperliquid's 20, Bybit's 50: a spoof is DISPLAYED size, so the wall sits
  at most at rank depth // 2; not injected where that is under 4 ticks), with at least the
  touch and one more level in front of it (Spoof.FRONT_MIN: a spoof is size AWAY from the best
  quote; where the drawn distance has fewer, the wall goes out to one tick behind the second
  level if that stays within 3 bp and the shown depth; a wall the venue first shows with fewer
  than two levels in front gets no label) -- and is
  cancelled entirely before the touch reaches it (within a fifth of that distance, at least
  2 ticks) or after 2-5 s (on a depth-limited channel, once the wall is back at rank <= depth
  // 2 if the price had moved away and pushed it out of view; at the latest twice that
  hold); it never trades. A wall pulled before the venue's main book channel ever published
  it (e.g. within one 0.5 s Hyperliquid l2Book interval) was never displayed: it gets no
  label (Scheduler.unobservable lists it); nor does one the channel showed standing in fewer
  than two of its publications (Spoof.MIN_SHOWN: a wall seen in one 0.5 s snapshot and gone
  in the next is, on that wire, an order that came and went, as the background's do all the
  time: "placed, stood, pulled" needs it seen standing after it was placed, as the iceberg's
  label needs its refills published); nor does one pulled while it is not on display
  (levels in front pushed it beyond a depth-limited channel's last shown level: the cancel
  never reaches the wire, and to a client the wall left as a level does when the price
  moves away); nor does one whose cancel the venue first publishes together with its touch
  at or beyond the wall's price (Scheduler settles each pulled wall at that publication:
  e.g. Kraken's book moves tens of ticks per 50 ms message, and a wall pulled 2-8 ticks before
  the touch reached it is then seen leaving in the message where the touch runs over its
  price -- on the wire exactly what a maker's quote does when the price jumps through it,
  which the background does all the time; the definition asks for a wall pulled BEFORE the
  touch reached it, which that wire does not show). side = the side of the wall.
- `absorption`: a burst of aggressive orders hits one level whose passive owner keeps
  replenishing it; the price does not give way. side = the absorbing (passive) side.
- `exhaustion`: an aggressive burst with growing size pushes the price for ~1.5 s, then the
  aggression stops and the price drifts back. side = the side that is exhausted; `t_ns` is
  the end of the burst and `price` the extreme touch reached.
- `delta_spike`: ~0.6 s of one-sided market orders, several times the venue's own normal
  rate and size (DeltaSpike), planted only once the venue's flow has a baseline (the
  definition's SPIKE_BUCKETS_MIN buckets). side = the aggressor side.
- `accumulation`: for ~25 s, market orders of one identical large size every 1-2 s,
  whatever the price does (the "smart money" pattern). The size is 10-16 typical orders,
  a typical order being the venue's as its market shows it: the larger of the flow's
  nominal order size (`VenueSim.order_lots`) and what the venue's realised median taker
  order (OrderSizes: its last ORDER_WINDOW orders, every source) implies, the median over
  PARETO_MEDIAN (the background's market orders are Pareto with median 0.635 nominal
  orders). On a quiet venue the other patterns' bursts are a large share of its orders
  (Hyperliquid, seed 201: 40 %, median order 1.33 nominal orders where the busy venues show
  0.62-0.69), and lots of 10-16 nominal orders were only 9-10x its median order: not large
  lots for that market. side = the accumulating side; `price` is the VWAP of its fills
  (rounded down to the tick).

Derived labels. Where one pattern's injected flow also realises ANOTHER kind's definition, as
measured on what the venue PUBLISHES -- its trades (every fill is one, with its price, size
and timestamp) and its main book channel as last published (the feed's view: Binance
depth@100ms, Bybit orderbook.50, OKX books, Coinbase level2, Kraken book 10, Hyperliquid
l2Book every 0.5 s), never the venue's internal book, which its makers refill within a step
and which a client may never see -- the scheduler adds a label of that other kind (id
`<pattern id>.ds` / `.ex`, `detail.derived_from` = the pattern's id, plus the measurement);
it is ground truth like any other (a detector that misses it misses a real pattern):

- an exhaustion's burst phase is a `delta_spike` (side = the burst's aggressor side) when the
  burst's sliding taker delta over SPIKE_BUCKET_NS reached |z| >= SPIKE_Z against the last
  SPIKE_WINDOW fixed buckets, winsorised as the detector's robust baseline does, without its
  largest order (the prints of one step, one timestamp on the wire: a spike does not rest on
  one block) (the delta-spike definition, engine/det_delta_spike.pxd, at its default
  parameters); `detail.z` is the peak z, `price` the published touch at the peak;
- a delta spike whose own prints moved >= FADE_MOVE_BPS its way (its first print to its
  extreme print) and whose published mid then gave back >= FADE_RETRACE of that move within
  FADE_WATCH_S of the extreme print is an `exhaustion` (side = the spike's side, the
  exhausted one; price = the extreme print; t_ns = its time; t_end_ns = when the published
  mid completed the retrace) -- a directional burst that failed to continue, as
  engine/det_exhaustion.pxd defines it at its defaults (move from the prints, retrace of the
  mid; 3 bp, 40 %, 10 s).

Every label has: id, kind, venue, symbol (the venue's), side, price (venue-formatted
string), t_ns (the characteristic time), t_start_ns, t_end_ns (simulated exchange clock,
the same clock as the messages' timestamps), and a `detail` object. Fills produced by a
pattern's own orders carry the label id in `Fill.tag` (never on the wire).
"""

from __future__ import annotations

import math
import random
from collections import deque
from typing import Callable

from nexus.sim.market import BID, BUY, SELL, STEP_NS, STEPS_PER_S, VenueSim, seeded

KINDS: tuple[str, ...] = ("iceberg", "spoof", "absorption", "exhaustion", "delta_spike", "accumulation")
# The run's first pattern starts after the detectors' warm-up (nexus/flow/params.py
# warmup_s = 10 s of one-second buckets, engine/detctx.pxd): relative thresholds are unknown
# before it, and every iceberg label that started at 3.1-3.35 s was missed (seeds 201-215).
FIRST_PATTERN_S = 12.0
GAP_S = (5.0, 8.0)          # between pattern starts (market-wide)
NS = 1_000_000_000
# The absorption detector's flood by turnover (nexus/flow/params.py absorption_turnover_pct,
# which tests/sim/test_sim_labels.py holds this to): a level taken this % of its largest size
# per second is absorbing a flood, so a clip refilled that fast is not an iceberg label.
ABSORPTION_TURNOVER_PCT = 1000


def _side_name(side: int) -> str:
    return "buy" if side in (BUY, BID) else "sell"


class Pattern:
    kind = ""
    # True: the pattern defends a level that holds its venue's price; the whole market does not
    # trade through it (a floor for a bid, a ceiling for an ask) but moves away from it freely
    # (nexus.sim.market.MarketSim._held), as a large passive order bounds the whole market. An exhaustion's push stays on its venue:
    # carried, it would be an unlabelled directional burst on every other venue.
    holds_market = False

    def __init__(self, label_id: str, vs: VenueSim, t_ns: int, rng: random.Random, side: int) -> None:
        self.id = label_id
        self.vs = vs
        self.rng = rng
        self.side = side                     # BUY / SELL (== BID / ASK for passive sides)
        self.t_start = t_ns
        self.t_end: int | None = None
        self.t_mark = t_ns
        self.price: int | None = None
        self.detail: dict = {}
        self.done = False
        self.lots = max(1, int(vs.order_lots))

    # hook interface (see nexus.sim.market.Hook)
    def before_flow(self, vs: VenueSim, t_ns: int) -> None: ...

    def protects(self, side: int, price: int) -> bool:
        return False

    def before_consume(self, vs: VenueSim, side: int, price: int) -> None: ...

    def after_fill(self, vs: VenueSim, side: int, price: int, fill_qty: int, left: int) -> int:
        """The level's quantity after a fill, as this pattern leaves it (at least `left`)."""
        return left

    def observable(self) -> bool:
        """Whether the finished pattern is labelled (see Spoof: a wall the venue never
        published is not displayed size, so not a spoof)."""
        return True

    def finish(self, t_ns: int) -> None:
        if not self.done:
            self.done = True
            self.t_end = t_ns

    def elapsed_s(self, t_ns: int) -> float:
        return (t_ns - self.t_start) / NS

    def label(self) -> dict:
        spec = self.vs.spec
        return {
            "id": self.id, "kind": self.kind, "venue": spec.venue, "symbol": spec.symbol,
            "side": _side_name(self.side),
            "price": spec.px(self.price) if self.price is not None else None,
            "t_ns": self.t_mark, "t_start_ns": self.t_start, "t_end_ns": self.t_end,
            "active": not self.done, "detail": dict(self.detail),
        }

    def _pin_fair(self, vs: VenueSim, price: int) -> None:
        """Hold the venue's fair price half a spread off a level the pattern defends, so the
        makers keep that level as the touch (the price does not give way)."""
        half = vs.flow.spread_ticks * vs.tick / 2.0
        vs.fair = price + half if self.side == BID else price - half
        while True:     # orders that undercut the defended level are withdrawn: it stays the touch
            touch = vs.best_bid() if self.side == BID else vs.best_ask()
            if touch is None or touch == price or (touch < price if self.side == BID else touch > price):
                break
            vs.set_level(self.side, touch, 0)

    def _at_touch(self, vs: VenueSim) -> bool:
        return (vs.best_bid() if self.side == BID else vs.best_ask()) == self.price


class Iceberg(Pattern):
    """A hidden order showing a clip of half a typical order at the touch, refilled each time
    the clip is taken. Takers lean on it at the ordinary pace of the venue's takers: the
    venue's ordinary taker-order rate (the Scheduler sets it from the venue's recent flow
    without the patterns' own orders, DeltaMeter.ordinary_orders_per_step, and at least its
    background's market-order rate)
    and at most LEAN_PER_STEP orders a step. A fixed 5 orders a second was 6x Tradovate's
    ordinary taker flow (~0.8 orders a second): a flood into a level that holds, which is
    absorption by definition (engine/det_absorption.pxd), not a clip refilled at the pace
    of the takers who happen to hit it."""

    kind = "iceberg"
    holds_market = True
    TIMEOUT_S = 8.0
    LEAN_PER_STEP = 0.05        # at most 5 leaning taker orders a second (busy venues: as before)

    def __init__(self, *a) -> None:
        super().__init__(*a)
        vs = self.vs
        self.price = vs.best_bid() if self.side == BID else vs.best_ask()
        self.visible = max(1, self.lots // 2) * vs.spec.lot
        self.hidden = self.visible * self.rng.randint(8, 14)
        self.shown = self.visible       # the displayed slice, queued behind the level's other orders
        self.refills = 0                # every refill, published or not
        self.refills_seen = 0           # refills with a publication of the book before them
        self.refill_ns = self.t_start   # the last refill (or the start): the slice's latest showing
        self.executed = 0
        book = vs.book_side(self.side)
        self.ahead = book.get(self.price, 0)    # queued before the slice (time priority)
        vs.set_level(self.side, self.price, book.get(self.price, 0) + self.visible)
        self.level_max = book[self.price]       # the level's largest size (the slice and the rest)
        self.level_traded = 0                   # traded at the level, by every taker
        self.first_fill_ns: int | None = None
        self.last_fill_ns = 0
        self.lean = self.LEAN_PER_STEP
        self.detail = {"visible": vs.spec.qty(self.visible), "refills": 0, "executed": "0"}

    def set_normal_rate(self, orders_per_step: float) -> None:
        """The venue's normal taker orders per step (its recent flow; 0: not known yet): the
        leaning takers' pace, at most LEAN_PER_STEP."""
        if orders_per_step > 0:
            self.lean = min(self.LEAN_PER_STEP, orders_per_step)

    def before_flow(self, vs, t_ns):
        if self.elapsed_s(t_ns) > self.TIMEOUT_S or (self.hidden == 0 and self.shown == 0):
            self.finish(t_ns)
            return
        self._pin_fair(vs, self.price)
        if self._at_touch(vs) and self.rng.random() < self.lean:  # takers lean on the level
            taker = SELL if self.side == BID else BUY
            lots = max(1, int(self.visible // vs.spec.lot * (0.5 + self.rng.random())))
            self.executed += vs.market(taker, lots, limit=self.price, tag=self.id)

    def protects(self, side, price):
        return not self.done and side == self.side and price == self.price

    def after_fill(self, vs, side, price, fill_qty, left):
        if self.done or side != self.side or price != self.price:
            return left
        self.level_max = max(self.level_max, left + fill_qty)
        self.level_traded += fill_qty
        if self.first_fill_ns is None:
            self.first_fill_ns = vs.t_ns
        self.last_fill_ns = vs.t_ns
        # Time priority: the orders queued at the level BEFORE the slice fill first, then the
        # slice; orders that joined the level after it wait behind it. (Counting every other
        # order as ahead let makers joining a defended touch shield the slice: on a quiet
        # venue it was never taken, so never refilled.) A cancel among the others leaves
        # fewer ahead.
        self.ahead = min(self.ahead, max(0, left + fill_qty - self.shown))
        first = min(self.ahead, fill_qty)
        self.ahead -= first
        self.shown -= min(self.shown, fill_qty - first)
        if self.shown > 0 or self.hidden <= 0:
            return left
        self.shown = min(self.visible, self.hidden)     # the next slice appears at the same price
        self.hidden -= self.shown
        self.ahead = left                               # ... behind the orders resting there now
        self.refills += 1
        if self._published_since(vs, self.refill_ns):
            self.refills_seen += 1
        self.refill_ns = vs.t_ns
        self.level_max = max(self.level_max, left + self.shown)
        self._update_detail()
        return left + self.shown

    @staticmethod
    def _published_since(vs: VenueSim, t_ns: int) -> bool:
        """Whether the venue's main book channel published at or after step t_ns (a step's
        publication follows its fills), so the slice shown since then was on the wire before
        this refill. Without a feed (a bare market) every refill is seen."""
        if vs.published_ts is None:
            return True
        ts = vs.published_ts()
        return ts is not None and ts >= t_ns

    MIN_REFILLS = 3             # a label's ground truth: traded far more than it showed

    def turnover_pct(self) -> float:
        """Volume traded at the level per second, in % of the level's largest size: from its
        first fill to its last (at least one millisecond)."""
        if self.first_fill_ns is None or self.level_max <= 0:
            return 0.0
        span_s = max(1_000_000, self.last_fill_ns - self.first_fill_ns) / NS
        return 100.0 * self.level_traded / self.level_max / span_s

    def observable(self) -> bool:
        """Labelled only where the feed shows an iceberg (engine/det_iceberg.pxd's header):
        - its hidden size showed again and again: MIN_REFILLS refills SEEN on the wire, i.e.
          each with a publication of the venue's book between it and the one before (or the
          start). One taker order that eats the shown slice and clip after clip in one
          instant refills the level N times inside one step, but no message ever shows those
          clips: the prints come at one timestamp and the level is gone (11 of 33 misses,
          seeds 201-215). A slice never reached, or refilled once or twice before the
          timeout (Tradovate's deep touch: 0-2 in 8 s), is an ordinary resting order;
        - the level was not flooded: taken less than ABSORPTION_TURNOVER_PCT % of its
          largest size per second. A clip taken 14-21x its display each second by the
          venue's background flow is, by the header's own words, absorption, not a clip
          refilled at the takers' ordinary pace (6 of the 33 misses);
        - more traded at the level than it ever displayed (level_traded > level_max): the
          wire shows hidden size only as volume beyond what was on display. A one-lot clip
          refilled three times inside a Tradovate level of 7-14 lots, or a 730 USD clip in a
          25-32 k Deribit level, traded less than the level showed: ordinary depth being
          taken, to any client (tuning seeds 401-410 and 201-215: all 5 such labels missed).
        Scheduler.unobservable lists the rest."""
        return (self.refills_seen >= self.MIN_REFILLS and self.turnover_pct() < ABSORPTION_TURNOVER_PCT
                and self.level_traded > self.level_max)

    def _update_detail(self) -> None:
        self.detail.update(refills=self.refills_seen, refills_unpublished=self.refills - self.refills_seen,
                           executed=self.vs.spec.qty(self.executed), level_max=self.vs.spec.qty(self.level_max),
                           level_traded=self.vs.spec.qty(self.level_traded),
                           turnover_pct=round(self.turnover_pct(), 1))

    def finish(self, t_ns):
        self._update_detail()
        super().finish(t_ns)


class Spoof(Pattern):
    kind = "spoof"
    DISTANCE_BPS = (1.5, 3.0)
    TICKS_MIN = 4
    # Levels that must stand in front of the wall (the touch and at least one more) when it is
    # placed and when the venue first shows it: a spoof is large size AWAY from the best quote
    # (Lee, Eom & Park 2013); a wall just behind the touch is ordinary depth. The definition's
    # figure, not the detector's tunable one (nexus/flow/params.py spoof_min_front), on purpose.
    FRONT_MIN = 2
    # Publications of the venue's main book channel that must show the wall standing (the one
    # that first shows it counts): a wall seen in one publication and gone in the next cannot
    # be told on the wire from any order that came and went (see the module docstring).
    MIN_SHOWN = 2

    @staticmethod
    def max_shown_ticks(vs: VenueSim, side: int) -> int | None:
        """How far (ticks) behind the touch a wall stays displayed on a depth-limited main book
        channel (vs.published_depth levels, e.g. Kraken's 10): no farther than the level at
        rank depth // 2, so levels added in front do not push it out of view and the levels
        behind it are shown too. None: the channel shows every level."""
        depth = vs.published_depth
        if depth is None:
            return None
        shown = vs.top(side, depth // 2 + 1)
        return abs(shown[-1] - shown[0]) // vs.tick if shown else 0

    @classmethod
    def feasible(cls, vs: VenueSim, side: int) -> bool:
        """A spoof is displayed size away from the touch: not injected where the published
        depth does not reach TICKS_MIN behind the touch."""
        cap = cls.max_shown_ticks(vs, side)
        return cap is None or cap >= cls.TICKS_MIN

    def __init__(self, *a, typical_lots: float = 0.0) -> None:
        super().__init__(*a)
        vs = self.vs
        touch = vs.best_bid() if self.side == BID else vs.best_ask()
        self.distance = max(self.TICKS_MIN, int(self.rng.uniform(*self.DISTANCE_BPS) * 1e-4 * touch / vs.tick))
        cap = self.max_shown_ticks(vs, self.side)
        if cap is not None:
            self.distance = min(self.distance, cap)
        self.distance = self._away(vs, touch, cap)
        self.pull_ticks = max(2, self.distance // 5)
        d = self.distance * vs.tick
        self.price = touch - d if self.side == BID else touch + d
        self.size = max(self.lots, int(typical_lots)) * self.rng.randint(25, 40) * vs.spec.lot
        self.hold_s = self.rng.uniform(2.0, 5.0)
        book = vs.book_side(self.side)
        vs.set_level(self.side, self.price, book.get(self.price, 0) + self.size)
        self.front = self._front(vs.book_side(self.side))
        self.detail = {"size": vs.spec.qty(self.size), "distance_ticks": self.distance, "pulled": None,
                       "front_levels": self.front}
        self.shown = vs.published_qty is None     # no feed: the internal book is the display
        # the wall as first displayed had the touch and one more level in front (no feed: as placed)
        self.front_ok = self.shown and self.front >= self.FRONT_MIN
        self.pull_seen = True
        self.run_over = False
        self.pubs_shown = 0                       # publications that showed it standing (MIN_SHOWN)
        self._pub_ts: int | None = None           # the last of them (its exchange time)

    def _front(self, levels) -> int:
        """Levels of `levels` (a side's prices) better than the wall's price."""
        return sum(1 for p in levels if (p > self.price if self.side == BID else p < self.price))

    def _away(self, vs: VenueSim, touch: int, cap: int | None) -> int:
        """The drawn distance (ticks), moved out to one tick behind the FRONT_MIN-th level
        where fewer levels stand in front of it (a sparse book near the touch), unless that
        is beyond what the channel shows (`cap`) or beyond DISTANCE_BPS: then the wall stays
        where drawn and, too close to the touch to be a spoof, gets no label (front_ok)."""
        near = vs.top(self.side, self.FRONT_MIN)
        if len(near) < self.FRONT_MIN:
            return self.distance
        need = abs(touch - near[-1]) // vs.tick + 1
        far = max(self.distance, int(self.DISTANCE_BPS[1] * 1e-4 * touch / vs.tick))
        if cap is not None:
            far = min(far, cap)
        return need if self.distance < need <= far else self.distance

    def observable(self) -> bool:
        return (self.shown and self.front_ok and self.pull_seen and not self.run_over
                and (self.vs.published_qty is None or self.pubs_shown >= self.MIN_SHOWN))

    def settled(self, touch: tuple[int | None, int | None]) -> bool:
        """Called by the scheduler each step after the pull with the venue's published (best
        bid, best ask): True once the main book channel has published the cancel (the size at
        the wall's price fell below the wall), and then whether the touch was at or beyond
        the wall's price in that publication (`run_over`: not observable as a pull before the
        price reached it)."""
        vs = self.vs
        if vs.published_qty is None:             # no feed: the internal book is the display
            return True
        if vs.published_qty(self.side, self.price) >= self.size:
            return False
        t = touch[0] if self.side == BID else touch[1]
        self.run_over = t is None or (t <= self.price if self.side == BID else t >= self.price)
        if self.run_over:
            self.detail["published_touch"] = vs.spec.px(t) if t is not None else None
        return True

    def _pull(self, why: str) -> None:
        vs = self.vs
        # The cancel is seen only where the wall is on display when it goes: on a depth-limited
        # channel a wall the touch has left behind (pushed beyond the last shown level) leaves
        # the view as the price moves away, and its cancel out there never reaches the wire.
        self.pull_seen = vs.published_qty is None or vs.published_qty(self.side, self.price) >= self.size
        book = vs.book_side(self.side)
        vs.set_level(self.side, self.price, max(0, book.get(self.price, 0) - self.size))
        self.detail["pulled"] = why
        if vs.published_qty is not None:
            self.detail["shown_in"] = self.pubs_shown
        self.finish(vs.t_ns)

    def before_flow(self, vs, t_ns):
        if vs.published_qty is not None and vs.published_qty(self.side, self.price) >= self.size:
            ts = vs.published_ts()
            if ts is not None and ts != self._pub_ts:   # a publication since the last step showed it
                self._pub_ts = ts
                self.pubs_shown += 1
        if not self.shown and vs.published_qty(self.side, self.price) >= self.size:
            self.shown = True                  # the venue has published the wall
            front = self.published_front(vs)
            self.front_ok = front >= self.FRONT_MIN
            self.detail["front_shown"] = front
        touch = vs.best_bid() if self.side == BID else vs.best_ask()
        near = touch is not None and abs(touch - self.price) <= self.pull_ticks * vs.tick
        if near:
            self._pull("approach")
        elif self.elapsed_s(t_ns) > self.hold_s and (self._shown(vs) or self.elapsed_s(t_ns) > 2 * self.hold_s):
            self._pull("timeout")

    def published_front(self, vs: VenueSim) -> int:
        """Levels in front of the wall on the venue's main book channel as last published."""
        return self._front(vs.published_prices(self.side))

    def _shown(self, vs: VenueSim) -> bool:
        """On a depth-limited channel the wall is pulled on timeout only where it is shown
        with levels behind it (rank <= depth // 2): a cancel at or beyond the last shown
        level looks exactly like the price moving away and pushing it out of view."""
        if vs.published_depth is None:
            return True
        return self.price in vs.top(self.side, vs.published_depth // 2 + 1)

    def protects(self, side, price):
        return not self.done and side == self.side and price == self.price

    def before_consume(self, vs, side, price):
        if not self.done and side == self.side and price == self.price:
            self._pull("approach")


class Absorption(Pattern):
    kind = "absorption"
    holds_market = True
    DURATION_S = 4.0

    def __init__(self, *a) -> None:
        super().__init__(*a)
        vs = self.vs
        self.price = vs.best_bid() if self.side == BID else vs.best_ask()
        self.display = self.lots * 3 * vs.spec.lot
        book = vs.book_side(self.side)
        vs.set_level(self.side, self.price, max(book.get(self.price, 0), self.display))
        self.aggressed = 0
        self.detail = {"display": vs.spec.qty(self.display), "aggressor_volume": "0"}

    def before_flow(self, vs, t_ns):
        if self.elapsed_s(t_ns) > self.DURATION_S:
            self.finish(t_ns)
            return
        self._pin_fair(vs, self.price)
        if self._at_touch(vs) and self.rng.random() < 0.3:
            taker = SELL if self.side == BID else BUY
            lots = max(1, int(self.lots * (1 + 2 * self.rng.random())))
            self.aggressed += vs.market(taker, lots, limit=self.price, tag=self.id)
            self.detail["aggressor_volume"] = vs.spec.qty(self.aggressed)

    def protects(self, side, price):
        return not self.done and side == self.side and price == self.price

    def after_fill(self, vs, side, price, fill_qty, left):
        if self.done or side != self.side or price != self.price:
            return left
        return max(left, self.display)      # the absorber replenishes what was taken


class Exhaustion(Pattern):
    kind = "exhaustion"
    BURST_S = 1.5
    FADE_S = 3.0
    PUSH_BPS = 4.0

    def __init__(self, *a) -> None:
        super().__init__(*a)
        self.volume = 0
        self.extreme: int | None = None
        self.detail = {"burst_ms": int(self.BURST_S * 1000), "push_bps": self.PUSH_BPS, "burst_volume": "0"}

    def before_flow(self, vs, t_ns):
        e = self.elapsed_s(t_ns)
        sign = 1 if self.side == BUY else -1
        if e <= self.BURST_S:
            progress = e / self.BURST_S
            vs.fair_add = sign * self.PUSH_BPS * 1e-4 * vs.fair * progress
            if self.rng.random() < 0.35:
                lots = max(1, int(self.lots * (1 + 3 * progress) * (0.5 + self.rng.random())))
                self.volume += vs.market(self.side, lots, tag=self.id)
            touch = vs.best_ask() if self.side == BUY else vs.best_bid()
            if touch is not None and (self.extreme is None or sign * (touch - self.extreme) > 0):
                self.extreme = touch
            self.t_mark = t_ns
            self.price = self.extreme
            self.detail["burst_volume"] = vs.spec.qty(self.volume)
        elif e <= self.BURST_S + self.FADE_S:
            vs.buy_bias = -0.25 * sign
        else:
            vs.buy_bias = 0.0
            self.finish(t_ns)


class DeltaSpike(Pattern):
    """0.6 s of one-sided market orders at several times the venue's normal rate and size.
    The rate is RATE_MULT times the venue's OWN normal taker-order rate (the Scheduler sets
    `per_step` from the venue's recent flow, DeltaMeter.orders_per_step) and at least
    MIN_PER_STEP orders a step; each order is 1-3 typical orders (the venue's normal taker
    order is ~1.1 typical). "Several times" is the definition's, not a detector threshold:
    on a busy venue a fixed rate was no burst (60 orders/s against Binance perp's ~36 a
    second of ordinary taker orders)."""

    kind = "delta_spike"
    DURATION_S = 0.6
    RATE_MULT = 3.0             # several times the venue's normal taker-order rate
    MIN_PER_STEP = 0.6          # and at least 60 orders a second (quiet venues)

    def __init__(self, *a) -> None:
        super().__init__(*a)
        vs = self.vs
        self.price = vs.best_ask() if self.side == BUY else vs.best_bid()
        self.delta = 0
        self.orders = 0
        self.per_step = self.MIN_PER_STEP
        self.detail = {"delta": "0", "orders": 0, "duration_ms": int(self.DURATION_S * 1000)}

    def set_normal_rate(self, orders_per_step: float) -> None:
        """The venue's normal taker orders per step (its recent flow): the burst's pace."""
        self.per_step = max(self.MIN_PER_STEP, self.RATE_MULT * orders_per_step)

    def before_flow(self, vs, t_ns):
        if self.elapsed_s(t_ns) > self.DURATION_S:
            self.finish(t_ns)
            return
        whole = int(self.per_step)
        n = whole + (1 if self.rng.random() < self.per_step - whole else 0)
        for _ in range(n):
            lots = max(1, int(self.lots * (1 + 2 * self.rng.random())))
            self.delta += vs.market(self.side, lots, tag=self.id)
            self.orders += 1
        if n:
            self.detail.update(delta=vs.spec.qty(self.delta), orders=self.orders)


class Accumulation(Pattern):
    kind = "accumulation"
    DURATION_S = 25.0

    def __init__(self, *a, typical_lots: float = 0.0) -> None:
        super().__init__(*a)
        self.k = self.rng.randint(10, 16)
        self.lot = max(self.lots, int(typical_lots)) * self.k
        self.next_s = 0.0
        self.count = 0
        self.notional = 0   # sum(price * qty) over its fills
        self.filled = 0
        self.detail = {"lot": self.vs.spec.qty(self.lot * self.vs.spec.lot), "orders": 0, "filled": "0"}

    def before_flow(self, vs, t_ns):
        e = self.elapsed_s(t_ns)
        if e > self.DURATION_S:
            self.finish(t_ns)
            return
        if e >= self.next_s:
            start = len(vs.fills)
            vs.market(self.side, self.lot, tag=self.id)
            for f in vs.fills[start:]:
                self.notional += f.price * f.qty
                self.filled += f.qty
            self.count += 1
            self.next_s = e + self.rng.uniform(1.0, 2.0)
            if self.filled:
                vwap = self.notional // self.filled
                self.price = vwap // vs.tick * vs.tick
            self.detail.update(orders=self.count, filled=vs.spec.qty(self.filled))


CLASSES: dict[str, type[Pattern]] = {c.kind: c for c in (Iceberg, Spoof, Absorption, Exhaustion, DeltaSpike, Accumulation)}
assert tuple(CLASSES) == KINDS

TYPICAL_SIZED = ("spoof", "accumulation")   # sized in the venue's realised typical orders
ORDER_WINDOW = 2000                 # nexus.flow.params: order_median_window
PARETO_MEDIAN = 0.4 * 2 ** (2 / 3)  # median background market order / nominal order (market.py)
MARKET_ORDER_SHARE = 0.12           # the background's events that are market orders (market.py _random_flow)


class OrderSizes:
    """A venue's realised taker orders (its fills grouped by taker order: every source --
    background, arbitrage, router, patterns), the last ORDER_WINDOW: their median in lots is
    the venue's typical order as its trades show it. Read-only with respect to the market."""

    def __init__(self, lot: int) -> None:
        self.lot = max(1, lot)
        self.sizes: deque[int] = deque(maxlen=ORDER_WINDOW)

    def feed(self, fills) -> None:
        by: dict[int, int] = {}
        for f in fills:
            by[f.order] = by.get(f.order, 0) + f.qty
        self.sizes.extend(by.values())

    def typical_lots(self) -> float:
        """The nominal order size the realised median implies (0 before any order)."""
        if not self.sizes:
            return 0.0
        xs = sorted(self.sizes)
        return xs[len(xs) // 2] / self.lot / PARETO_MEDIAN


SPIKE_BUCKET_NS = 500_000_000   # nexus.flow.params: delta_spike_bucket_ns
SPIKE_WINDOW = 240              # delta_spike_window (the detector's default: the derived label follows its definition)
SPIKE_BUCKETS_MIN = 20          # delta_spike_min_buckets
SPIKE_Z = 6.0                   # delta_spike_z_x100 / 100
SPIKE_CLIP_Z = 0.0              # delta_spike_clip_z_x100 / 100 (the winsorised baseline; 0: off)
SPIKE_MEDIAN_MAX = 256          # DS_MEDIAN_MAX
FADE_MOVE_BPS = 3.0             # exhaustion_min_move_bps
FADE_RETRACE = 0.4              # exhaustion_retrace_pct / 100
FADE_WATCH_S = 10.0             # exhaustion_watch_ns


def _no_book() -> tuple[int | None, int | None]:
    return None, None


class DeltaMeter:
    """What a venue sends, as the derived labels measure it: its taker delta from its fills
    (each fill is a trade on the wire, with the fill's price, size and timestamp): the sliding
    delta of the last SPIKE_BUCKET_NS scored against the last SPIKE_WINDOW fixed buckets
    (population sd), as engine/det_delta_spike.pxd scores it; the last step's fills; and
    `book()`, the best bid and ask of the venue's main book channel AS LAST PUBLISHED (the
    feed's view, nexus.sim.feed.DepthView: what a client has, at the channel's cadence),
    not the venue's internal book. Read-only with respect to the market."""

    def __init__(self, book: Callable[[], tuple[int | None, int | None]] = _no_book) -> None:
        self.book = book
        self.fills: list = []
        self.buckets: deque[int] = deque(maxlen=SPIKE_WINDOW)
        self.counts: deque[int] = deque(maxlen=SPIKE_WINDOW)   # taker orders per bucket, same buckets
        self.count = 0
        self.plains: deque[int] = deque(maxlen=SPIKE_WINDOW)   # ... of them, no pattern's own (untagged)
        self.plain = 0
        self.bucket: int | None = None
        self.delta = 0
        # (t_ns, signed qty, bought, sold) of steps with fills: a step's prints share one
        # timestamp on the wire, so to the detector a step's buys (sells) are one order
        self.recent: deque[tuple[int, int, int, int]] = deque()
        self.sliding = 0
        self.t_ns = 0

    def feed(self, t_ns: int, fills) -> None:
        self.t_ns = t_ns
        self.fills = fills
        q = sum(f.qty if f.side == BUY else -f.qty for f in fills)
        b = t_ns // SPIKE_BUCKET_NS
        if self.bucket is None:
            self.bucket = b
        elif b > self.bucket:
            self.buckets.append(self._winsorised(self.delta))
            self.counts.append(self.count)
            self.plains.append(self.plain)
            for _ in range(min(b - self.bucket - 1, SPIKE_WINDOW)):
                self.buckets.append(0)
                self.counts.append(0)
                self.plains.append(0)
            self.bucket, self.delta, self.count, self.plain = b, 0, 0, 0
        self.delta += q
        self.count += len({f.order for f in fills})
        self.plain += len({f.order for f in fills if f.tag is None})
        if q:
            self.recent.append((t_ns, q, sum(f.qty for f in fills if f.side == BUY),
                                sum(f.qty for f in fills if f.side != BUY)))
            self.sliding += q
        while self.recent and self.recent[0][0] <= t_ns - SPIKE_BUCKET_NS:
            self.sliding -= self.recent.popleft()[1]

    def _winsorised(self, v: int) -> int:
        """v clipped to median +- SPIKE_CLIP_Z x 1.4826 MAD of the buckets so far (the last
        SPIKE_MEDIAN_MAX), as engine/det_delta_spike.pxd's robust baseline does."""
        if len(self.buckets) < SPIKE_BUCKETS_MIN or SPIKE_CLIP_Z <= 0:
            return v
        xs = sorted(list(self.buckets)[-SPIKE_MEDIAN_MAX:])
        med = xs[len(xs) // 2]
        mad = max(1, sorted(abs(x - med) for x in xs)[len(xs) // 2])
        half = int(SPIKE_CLIP_Z * 1.4826 * mad)
        return max(med - half, min(med + half, v))

    def baseline(self) -> bool:
        """Whether the venue's flow has a baseline a spike can stand out from (the
        definition's: SPIKE_BUCKETS_MIN completed buckets)."""
        return len(self.buckets) >= SPIKE_BUCKETS_MIN

    def orders_per_step(self) -> float:
        """The venue's normal taker orders per simulated step over the baseline's buckets."""
        if not self.counts:
            return 0.0
        steps = SPIKE_BUCKET_NS / STEP_NS
        return sum(self.counts) / len(self.counts) / steps

    def ordinary_orders_per_step(self) -> float:
        """The venue's ordinary taker orders per step over the same buckets: every source but
        the scripted patterns' own orders (background, arbitrage, router)."""
        if not self.plains:
            return 0.0
        return sum(self.plains) / len(self.plains) / (SPIKE_BUCKET_NS / STEP_NS)

    def z(self, d: int | None = None) -> float:
        """z of the sliding delta (or of `d`) against the baseline buckets."""
        n = len(self.buckets)
        if n < SPIKE_BUCKETS_MIN:
            return 0.0
        s1 = sum(self.buckets)
        var = n * sum(v * v for v in self.buckets) - s1 * s1
        num = n * (self.sliding if d is None else d) - s1
        return num / math.sqrt(var) if var > 0 else num / n

    def z_rest(self, sign: int) -> float:
        """z of the sliding delta without its largest order in direction `sign` (+1 buys, -1
        sells): the detector's one-block test (a spike does not rest on one order)."""
        big = max((b if sign > 0 else s for _, _, b, s in self.recent), default=0)
        return self.z(self.sliding - sign * big)


class _Derived:
    """A label of another kind that a running pattern's flow may realise (see the module doc)."""

    def __init__(self, p: Pattern, kind: str, suffix: str) -> None:
        self.p = p
        self.vs = p.vs
        self.kind = kind
        self.id = f"{p.id}.{suffix}"
        self.side = p.side
        self.done = False
        self.hit = False
        self.t_start = p.t_start
        self.t_mark = p.t_start
        self.t_end: int | None = None
        self.price: int | None = None
        self.detail: dict = {"derived_from": p.id}

    label = Pattern.label


class BurstSpike(_Derived):
    """An exhaustion's burst phase, labelled a delta spike if its delta z reaches SPIKE_Z."""

    def __init__(self, p: "Exhaustion") -> None:
        super().__init__(p, "delta_spike", "ds")
        self.peak = 0.0

    def observe(self, m: DeltaMeter) -> None:
        p, t = self.p, m.t_ns
        if self.price is None:
            self.price = p.price
        if t <= p.t_start + int(p.BURST_S * NS) and t >= p.t_start:
            sign = 1 if self.side == BUY else -1
            z = m.z_rest(sign) * sign      # the detector's z, its largest order left out
            if z > self.peak:
                self.peak = z
                self.t_mark = t
                bb, ba = m.book()    # the published touch it had pushed to
                self.price = (ba if self.side == BUY else bb) or self.price
            return
        if t > p.t_start + int(p.BURST_S * NS):
            self.done = True
            self.t_end = max(self.t_mark, p.t_start + int(p.BURST_S * NS))
            self.hit = self.peak >= SPIKE_Z
            self.detail["z"] = round(self.peak, 2)


class SpikeFade(_Derived):
    """A delta spike, labelled an exhaustion if its own prints moved >= FADE_MOVE_BPS its way
    (first print to extreme print) and the venue's published mid then gave back >=
    FADE_RETRACE of that move before FADE_WATCH_S pass without a new extreme. Both come from
    what the venue sends: the prints are the spike's trades (Fill.tag only says which ones
    are its own; their prices are on the wire), the mid is the venue's main book channel as
    last published -- never the venue's internal book, which the makers refill within the
    10 ms step and which a 100-500 ms book channel may never show."""

    def __init__(self, p: "DeltaSpike") -> None:
        super().__init__(p, "exhaustion", "ex")
        self.start: int | None = None
        self.extreme: int | None = None
        self.t_mark = p.t_start

    def observe(self, m: DeltaMeter) -> None:
        t, sign = m.t_ns, (1 if self.side == BUY else -1)
        if t < self.t_start:
            return
        for f in m.fills:
            if f.tag != self.p.id:
                continue
            if self.start is None:
                self.start = self.extreme = f.price
                self.t_mark = f.ts_ns
            elif sign * (f.price - self.extreme) > 0:   # a new extreme print
                self.extreme, self.t_mark = f.price, f.ts_ns
        if self.start is None:
            self.done = self.p.done             # a spike that never traded
            return
        bb, ba = m.book()
        move = sign * (self.extreme - self.start)
        if self.p.done and bb is not None and ba is not None and move > 0 \
                and move * 1e4 >= FADE_MOVE_BPS * self.start:
            retrace = sign * (self.extreme - (bb + ba) / 2.0)
            if retrace >= FADE_RETRACE * move:
                self.done = self.hit = True
                self.t_end = max(t, self.t_mark)
                self.price = self.extreme
                self.detail.update(move_bps=round(move * 1e4 / self.start, 2),
                                   retrace_pct=round(100.0 * retrace / move, 1))
                return
        if self.p.done and t - self.t_mark > FADE_WATCH_S * NS:
            self.done = True


class Scheduler:
    """Starts patterns at seeded times on seeded venues and collects their labels. The first
    six patterns are one of each kind (in seeded order), so every kind appears in the first
    minute of simulated time."""

    def __init__(self, seed: int, venues: dict[str, VenueSim], epoch_ns: int, enabled: bool = True,
                 published: dict[str, Callable[[], tuple[int | None, int | None]]] | None = None) -> None:
        self.rng = seeded(seed, 7)
        self.venues = venues
        self.epoch_ns = epoch_ns
        self.enabled = enabled and bool(venues)
        self.queue: list[str] = []
        self.next_ns = epoch_ns + int((FIRST_PATTERN_S + self.rng.uniform(0, 1.0)) * NS)
        self.active: list[Pattern] = []
        self.finished: list[dict] = []
        self.unobservable: list[str] = []    # patterns that ran but never showed on the wire: no label
        self.published = published or {}
        self.settling: list[Spoof] = []      # pulled walls whose cancel the venue has not published yet
        self.n = 0
        # published[v]() -> the venue's published (best bid, best ask); the core passes its
        # feeds' main book views. Without it (a bare scheduler) no exhaustion is derived.
        self.meters = {v: DeltaMeter((published or {}).get(v, _no_book)) for v in venues}
        self.orders = {v: OrderSizes(vs.spec.lot) for v, vs in venues.items()}
        self.derived: list[_Derived] = []

    def _next_kind(self) -> str:
        if not self.queue:
            self.queue = list(KINDS)
            self.rng.shuffle(self.queue)
        return self.queue.pop(0)

    def step(self, t_ns: int) -> list[dict]:
        """Start due patterns (before the venues step); returns labels finished since last call."""
        out = self._observe(t_ns)
        done = [p for p in self.active if p.done]
        settled = [p for p in self.settling if p.settled(self.published.get(p.vs.spec.venue, _no_book)())]
        if settled:
            self.settling = [p for p in self.settling if p not in settled]
        if done:
            self.active = [p for p in self.active if not p.done]
            self.settling += [p for p in done if isinstance(p, Spoof) and p.observable()]
        done = [p for p in done if not (isinstance(p, Spoof) and p.observable())] + settled
        if done:
            for p in done:
                if p.observable():
                    self.finished.append(p.label())
                else:
                    self.unobservable.append(p.id)
            done = [p for p in done if p.observable()]
        if self.enabled and t_ns >= self.next_ns:
            busy = {p.vs.spec.venue for p in self.active}
            free = [v for v in self.venues if v not in busy]
            if free:
                kind = self._next_kind()
                if kind == "delta_spike" and self.queue and not all(self.meters[v].baseline() for v in free):
                    # a spike is an outlier against the venue's normal flow: not planted before
                    # there is one (the next kind goes first; the spike waits for its turn)
                    kind = self.queue.pop(0)
                    self.queue.insert(0, "delta_spike")
                venue = free[self.rng.randrange(len(free))]
                side = BUY if self.rng.random() < 0.5 else SELL
                self.n += 1
                vs = self.venues[venue]
                if vs.best_bid() is not None and vs.best_ask() is not None and \
                        (kind != "spoof" or Spoof.feasible(vs, side)):
                    extra = {"typical_lots": self.orders[venue].typical_lots()} if kind in TYPICAL_SIZED else {}
                    p = CLASSES[kind](f"L{self.n:04d}", vs, t_ns, seeded(self.rng.getrandbits(48), self.n), side, **extra)
                    vs.hooks.append(p)
                    self.active.append(p)
                    if kind == "exhaustion":
                        self.derived.append(BurstSpike(p))
                    elif kind == "iceberg":
                        # the venue's ordinary taker pace: measured (noisy over the first
                        # seconds on a quiet venue), at least its background's market orders
                        p.set_normal_rate(max(self.meters[venue].ordinary_orders_per_step(),
                                              vs.flow.rate_per_s * MARKET_ORDER_SHARE / STEPS_PER_S))
                    elif kind == "delta_spike":
                        p.set_normal_rate(self.meters[venue].orders_per_step())
                        self.derived.append(SpikeFade(p))
            self.next_ns = t_ns + int(self.rng.uniform(*GAP_S) * NS)
        return out + [p.label() for p in done]

    def _observe(self, t_ns: int) -> list[dict]:
        """Feed the last step's fills to the meters (read-only: nothing random, nothing the
        market sees) and finish the derived labels they settle."""
        if not self.enabled:
            return []
        for v, vs in self.venues.items():
            m = self.meters[v]
            if vs.t_ns > m.t_ns:
                m.feed(vs.t_ns, vs.fills)
                self.orders[v].feed(vs.fills)
        out = []
        for d in self.derived:
            d.observe(self.meters[d.vs.spec.venue])
            if d.done and d.hit:
                lb = d.label()
                self.finished.append(lb)
                out.append(lb)
        self.derived = [d for d in self.derived if not d.done]
        return out

    def labels(self, include_active: bool = True) -> list[dict]:
        out = list(self.finished) + [p.label() for p in self.settling]   # pulled, cancel not yet published
        if include_active:
            out += [p.label() for p in self.active]
        return out

