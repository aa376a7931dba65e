"""One simulated market seen through several venues.

A common latent price (a geometric random walk with slowly varying volatility) drives every
venue; each venue sees it late by its own latency, adds its own noise, and keeps its own
order book of integer price levels (at the venue's tick) and integer quantities (at the
venue's lot, in the venue's units). Order flow per venue arrives in clusters (a Hawkes
process: each event raises the intensity, which decays back), is mostly limit orders placed
a few ticks behind the touch and cancels concentrated near the touch, and partly market
orders with heavy-tailed sizes that walk the book and print trades. Makers follow the
venue's fair price: quotes left on the wrong side of it are taken (small moves) or pulled
(jumps), and the touch is refilled around it.

The venues are one market, not independent ones: makers on each venue quote off the
cross-venue reference price (the latent price as the fastest venue sees it), keeping only a
small share (ALIGN_KEEP) of their own latency and noise, and do not lock or cross the other
pattern-free venues' touch (`VenueSim.others`); a perpetual adds the market's slowly moving
spot-perp basis (`Basis`); an arbitrageur (`Arbitrageur`) trades away any cross between two
venues wider than its costs on the two legs (ARB_LEG_BPS each): a taker sell on the rich
venue and a taker buy on the cheap one in the same step; and an order router (`Router`) now
and then splits one parent order into identical child orders on two venues quoting the same
price, so the same print (side, price, size, time) really appears on two feeds. Scripted
patterns keep their venue's price: a defended level (iceberg, absorption) is a floor (a bid)
or a ceiling (an ask) for the whole market, which keeps moving away from it
(`MarketSim._held`); an exhaustion's push moves the other venues' quotes without prints of
theirs (`VenueSim.follow_only`) while their ordinary flow goes on; the arbitrageur and the
router never trade on a venue running a pattern or a `diverge` fault.

Everything random comes from `random.Random` instances seeded from the simulator seed, and
the market advances in fixed simulated steps, so a seed fixes the whole history.
"""

from __future__ import annotations

import heapq
import math
import random
from dataclasses import dataclass
from decimal import Decimal
from typing import Callable, Iterable, Protocol

from nexus.sim.specs import Market, SimInstrument

STEP_NS = 10_000_000            # one simulated step: 10 ms
STEPS_PER_S = 1_000_000_000 // STEP_NS
assert STEP_NS * STEPS_PER_S == 1_000_000_000

BID, ASK = 1, -1                # book sides; for fills, the taker side: BUY = 1, SELL = -1
BUY, SELL = 1, -1

LEVELS_MIN = 80                 # levels kept per side (far levels are topped up / trimmed)
LEVELS_MAX = 220
SPAN_BPS_MAX = 60.0             # levels farther than this from the fair price are cancelled
LADDER_TICKS = 10               # coarse-tick venues: makers keep size at (nearly) every tick this close behind the touch
LADDER_REFILL = 0.5             # chance a hole there is requoted at each depth check (every 100 ms)
COARSE_PLACE_TICKS = 2.0        # a venue is coarse-ticked where its mean placement distance is under this
ARB_TICKS = 12                  # stale quotes within this many ticks of fair are traded through
HAWKES_BETA_PER_S = 4.0         # decay of the excitation
HAWKES_BRANCHING = 0.6          # mean number of follow-on events each event triggers
LATENT_VOL_PER_SQRT_S = 9e-5    # ~50 % annualised
LATENT_HISTORY_STEPS = 1024     # how far back a venue can lag (10 s)
# Cross-venue coupling (Arbitrageur, Basis, Router)
ALIGN_KEEP = 0.01               # share of a venue's own lag and noise its makers keep
ARB_LEG_BPS = 0.01              # the arbitrageur's cost per leg: a top-tier taker fee net of rebates
ARB_LOTS_MAX = 1.0              # largest arbitrage per leg, in typical orders
BASIS_MEAN_BPS = 0.0            # perpetual over spot, long-run mean
BASIS_SD_BPS = 0.3              # stationary spread of the basis
BASIS_TAU_S = 600.0             # its mean-reversion time: it moves over minutes
ROUTER_GAP_S = (3.0, 8.0)       # between two split parent orders (market-wide)
assert HAWKES_BRANCHING < 1
assert LATENT_HISTORY_STEPS & (LATENT_HISTORY_STEPS - 1) == 0


def seeded(seed: int, *salt: int) -> random.Random:
    """An independent, reproducible stream for (seed, salt...). Integer mixing only: str
    hashing is randomised per process and would break determinism."""
    x = seed & 0xFFFFFFFFFFFF
    for s in salt:
        x = (x * 1_000_003 + s + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
    return random.Random(x)


def poisson(rng: random.Random, mean: float) -> int:
    if mean <= 0:
        return 0
    if mean > 30:
        return max(0, int(round(rng.gauss(mean, math.sqrt(mean)))))
    limit, k, p = math.exp(-mean), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


@dataclass(slots=True)
class Fill:
    """One execution against one price level (possibly several maker orders)."""

    ts_ns: int
    price: int
    qty: int
    side: int            # taker side: BUY (1) or SELL (-1)
    order: int           # taker order id: fills of one market order share it
    makers: int          # maker orders filled at this level (>= 1)
    tag: str | None = None  # label id when a scripted pattern sent the order


class Hook(Protocol):
    """What a scripted pattern may do to a venue book (see nexus.sim.patterns)."""

    done: bool

    def before_flow(self, vs: "VenueSim", t_ns: int) -> None: ...
    def protects(self, side: int, price: int) -> bool: ...
    def before_consume(self, vs: "VenueSim", side: int, price: int) -> None: ...
    def after_fill(self, vs: "VenueSim", side: int, price: int, fill_qty: int, left: int) -> int: ...


class Latent:
    """The common latent price: log random walk, volatility following a slow OU in log."""

    def __init__(self, rng: random.Random, start: float) -> None:
        self.rng = rng
        self.log_p = math.log(start)
        self.log_vol = 0.0
        self.hist = [self.log_p] * LATENT_HISTORY_STEPS
        self.i = 0

    def step(self) -> None:
        dt = 1.0 / STEPS_PER_S
        self.log_vol += -self.log_vol * dt / 60.0 + 0.35 * math.sqrt(dt / 60.0) * self.rng.gauss(0, 1)
        sigma = LATENT_VOL_PER_SQRT_S * math.exp(self.log_vol) * math.sqrt(dt)
        self.log_p += sigma * self.rng.gauss(0, 1)
        self.i = (self.i + 1) & (LATENT_HISTORY_STEPS - 1)
        self.hist[self.i] = self.log_p

    def hold(self, price: float, side: int) -> None:
        """A pattern defends a level: the market does not trade through it. A defended bid
        (side BID) is a floor, a defended ask a ceiling: the latent price is kept on the
        defended side of `price` and walks freely away from it (other participants keep
        trading; only the level holds, not the whole market)."""
        log_p = math.log(price)
        if (self.log_p < log_p) if side == BID else (self.log_p > log_p):
            self.log_p = log_p
            self.hist[self.i] = self.log_p

    def at(self, lag_steps: int) -> float:
        lag = min(lag_steps, LATENT_HISTORY_STEPS - 1)
        return math.exp(self.hist[(self.i - lag) & (LATENT_HISTORY_STEPS - 1)])


class VenueSim:
    """One venue's order book and order flow. Prices/quantities are integers in the units of
    `spec` (price * 10**price_dec, quantity * 10**qty_dec)."""

    def __init__(self, spec: SimInstrument, market: Market, rng: random.Random, start_price: float) -> None:
        self.spec = spec
        self.flow = spec.flow
        self.rng = rng
        self.tick = spec.tick
        self.scale = spec.price_scale()
        self.order_lots = max(1.0, market.order_size * self.flow.size_scale / spec.lot_base())
        self.bids: dict[int, int] = {}
        self.asks: dict[int, int] = {}
        self._bb: int | None = None
        self._ba: int | None = None
        self._bb_ok = self._ba_ok = False
        self.fills: list[Fill] = []
        self.n_changes = 0          # individual level mutations since the start (update ids)
        self.n_orders = 0
        self.excite = 0.0
        self.noise_bps = 0.0
        self.fair = start_price * self.scale
        self.fair_mult = 1.0        # faults (diverge) and patterns scale the fair price
        self.fair_add = 0.0         # patterns push it (price units)
        self.buy_bias = 0.0         # patterns skew the direction of random market orders
        self.perpetual = False      # MarketSim sets it: perpetuals carry the spot-perp basis
        self.basis_bps = 0.0        # the market's basis (perpetuals), set by MarketSim each step
        self.ref: float | None = None   # the cross-venue reference price (quote currency), MarketSim sets it
        self.arb_free = False       # MarketSim sets it: the arbitrageur and the router may trade here
        self.follow_only = False    # MarketSim sets it: another venue's pattern pushes this venue's quotes
        self.push_ref = 0.0         # MarketSim sets it: that push (quote currency, spot terms), in self.ref
        self._push_px = 0.0         # the push's part of self.fair at the last step (price units)
        self._d_push = 0.0          # its change over this step: quotes it leaves stale are pulled, not taken
        self._fair_prev: float | None = None
        # (best bid, best ask) of the OTHER venues in this venue's price units (basis included),
        # as the last step left them: makers quoting here do not lock or cross them (None: alone)
        self.others: tuple[float | None, float | None] | None = None
        self.hooks: list[Hook] = []
        self.t_ns = 0
        # levels per side the venue's main book channel shows (None: all); the simulator core sets it
        # from the venue's feed. Patterns that must be SEEN (a spoof wall) stay within it.
        self.published_depth: int | None = None
        # (side, price) -> the size at that price on the main book channel as last published
        # (None: no feed, e.g. a bare market in tests); the simulator core sets it
        self.published_qty: Callable[[int, int], int] | None = None
        # side -> the prices on that side of the main book channel as last published (set with it)
        self.published_prices: Callable[[int], Iterable[int]] | None = None
        # () -> the exchange time of the main book channel's last publication (None: none yet)
        self.published_ts: Callable[[], int | None] | None = None
        # see _fill_ladder: only where the venue's tick is coarse against its placement distance
        place_ticks = self.flow.place_bps * 1e-4 * self.fair / self.tick
        self.ladder_ticks = LADDER_TICKS if place_ticks < COARSE_PLACE_TICKS else 0
        self._seed_book()

    # -- the book -----------------------------------------------------------------------
    def best_bid(self) -> int | None:
        if not self._bb_ok:
            self._bb = max(self.bids) if self.bids else None
            self._bb_ok = True
        return self._bb

    def best_ask(self) -> int | None:
        if not self._ba_ok:
            self._ba = min(self.asks) if self.asks else None
            self._ba_ok = True
        return self._ba

    def mid(self) -> float:
        bb, ba = self.best_bid(), self.best_ask()
        if bb is None or ba is None:
            return self.fair
        return (bb + ba) / 2.0

    def book_side(self, side: int) -> dict[int, int]:
        return self.bids if side == BID else self.asks

    def set_level(self, side: int, price: int, qty: int) -> None:
        book = self.book_side(side)
        if qty <= 0:
            if book.pop(price, None) is None:
                return
        else:
            if book.get(price) == qty:
                return
            book[price] = qty
        self.n_changes += 1
        if side == BID:
            if self._bb_ok and (self._bb is None or price >= self._bb):
                self._bb_ok = False
        elif self._ba_ok and (self._ba is None or price <= self._ba):
            self._ba_ok = False

    def add(self, side: int, price: int, lots: int) -> None:
        """Rest a limit order, clamped so the book never crosses. Where makers watch the other
        venues (`others`), an order that would lock or cross their touch is not posted (a bid
        at or above another venue's ask would buy there instead)."""
        if self.others is not None:     # a maker who would lock another venue trades there instead
            if side == BID and self.others[1] is not None and price >= self.others[1]:
                return
            if side == ASK and self.others[0] is not None and price <= self.others[0]:
                return
        if side == BID:
            ba = self.best_ask()
            if ba is not None and price >= ba:
                price = ba - self.tick
        else:
            bb = self.best_bid()
            if bb is not None and price <= bb:
                price = bb + self.tick
        if price <= 0:
            return
        book = self.book_side(side)
        self.set_level(side, price, book.get(price, 0) + lots * self.spec.lot)

    def top(self, side: int, n: int) -> list[int]:
        """The n best prices of a side, best first."""
        book = self.book_side(side)
        return heapq.nlargest(n, book) if side == BID else heapq.nsmallest(n, book)

    def protected(self, side: int, price: int) -> bool:
        return any(h.protects(side, price) for h in self.hooks)

    # -- market orders ------------------------------------------------------------------
    def market(self, taker: int, lots: int, limit: int | None = None, tag: str | None = None) -> int:
        """A taker order of `lots` walking the opposite side (not beyond `limit`). Returns
        the quantity (venue units) executed."""
        self.n_orders += 1
        order = self.n_orders
        remaining = lots * self.spec.lot
        side = ASK if taker == BUY else BID
        done = 0
        while remaining > 0:
            price = self.best_ask() if taker == BUY else self.best_bid()
            if price is None or (limit is not None and (price > limit if taker == BUY else price < limit)):
                break
            for h in self.hooks:
                h.before_consume(self, side, price)
            price2 = self.best_ask() if taker == BUY else self.best_bid()
            if price2 != price:  # a pattern pulled the level (spoof): look again
                continue
            book = self.book_side(side)
            avail = book[price]
            q = min(avail, remaining)
            remaining -= q
            done += q
            left = avail - q
            for h in self.hooks:
                left = max(left, h.after_fill(self, side, price, q, left))  # icebergs, absorbers refill
            self.set_level(side, price, left)
            self.fills.append(Fill(self.t_ns, price, q, taker, order, self._makers(q), tag))
        return done

    def scripted(self) -> bool:
        """A scripted pattern (or a diverge fault) owns this venue's price just now: the
        arbitrageur and the router leave it alone, no other venue quotes off it."""
        return self.fair_mult != 1.0 or any(getattr(h, "kind", None) and not h.done for h in self.hooks)

    def defends(self) -> bool:
        """A scripted pattern here defends a level (`holds_market`: an iceberg, an absorber)."""
        return any(getattr(h, "holds_market", False) and not h.done for h in self.hooks)

    def _makers(self, q: int) -> int:
        per_order = max(1.0, self.order_lots * self.spec.lot)
        return max(1, min(8, int(q / per_order) + (1 if self.rng.random() < 0.4 else 0)))

    # -- one step -----------------------------------------------------------------------
    def step(self, t_ns: int, latent: Latent) -> list[Fill]:
        self.t_ns = t_ns
        self.fills = []
        dt = 1.0 / STEPS_PER_S
        f = self.flow
        theta = 0.5  # noise mean reversion per second
        self.noise_bps += -self.noise_bps * theta * dt + f.noise_bps * math.sqrt(2 * theta * dt) * self.rng.gauss(0, 1)
        base = latent.at(f.lag_ms * STEPS_PER_S // 1000)
        self.fair_add *= 0.995
        own = base * (1.0 + (self.noise_bps + self.basis_bps) * 1e-4)
        if self.ref is not None:    # makers quote off the other venues too (see Arbitrageur)
            ref = self.ref * (1.0 + self.basis_bps * 1e-4)
            own = ref + (own - ref) * ALIGN_KEEP
        self.fair = own * self.scale * self.fair_mult + self.fair_add
        push_px = self.push_ref * (1.0 + self.basis_bps * 1e-4) * (1.0 - ALIGN_KEEP) * self.scale * self.fair_mult
        self._d_push, self._push_px = push_px - self._push_px, push_px
        for h in self.hooks:
            h.before_flow(self, t_ns)
        self._anchor()
        self._random_flow(dt)
        if (t_ns // STEP_NS) % 10 == 0:
            self._maintain_depth()
        self.hooks = [h for h in self.hooks if not h.done]
        return self.fills

    def _anchor(self) -> None:
        """Makers follow the fair price: stale quotes are taken or pulled, the touch refilled.
        Where another venue's pattern pushed this venue's quotes this step (`_d_push`, see
        MarketSim.step), the quotes the push alone left stale are pulled first (requoted, no
        prints: the burst is the pattern venue's); what the market's ordinary move left stale
        beyond that is taken as on any step, so the venue's ordinary flow goes on."""
        tick, fair = self.tick, self.fair
        half = self.flow.spread_ticks * tick / 2.0
        if self._d_push and self._fair_prev is not None:
            pushed = self._fair_prev + self._d_push      # where the push alone moved the fair price
            lo, hi = min(fair, pushed) - half, max(fair, pushed) + half
            for p in [p for p in self.asks if p < lo and not self.protected(ASK, p)]:
                self.set_level(ASK, p, 0)
            for p in [p for p in self.bids if p > hi and not self.protected(BID, p)]:
                self.set_level(BID, p, 0)
        self._fair_prev = fair
        if self.others is not None and self.defends():
            # a venue whose pattern defends a level (the arbitrageur does not come here): as
            # the market moves away from that level, a maker's quote left at or through
            # another venue's touch would be picked off there, so it is pulled (the defended
            # level itself stays)
            ob, oa = self.others
            if oa is not None:
                for p in [p for p in self.bids if p >= oa and not self.protected(BID, p)]:
                    self.set_level(BID, p, 0)
            if ob is not None:
                for p in [p for p in self.asks if p <= ob and not self.protected(ASK, p)]:
                    self.set_level(ASK, p, 0)
        p_take = min(1.0, self.flow.rate_per_s / 50.0)  # busy venues get arbitraged, quiet ones requote
        ba = self.best_ask()
        if ba is not None and ba < fair - half:
            limit = int(math.floor((fair - half) / tick)) * tick
            if (fair - ba) / tick <= ARB_TICKS and self.rng.random() < p_take:
                self.market(BUY, self.asks[ba] // self.spec.lot, limit=limit)
            for p in [p for p in self.asks if p <= limit and not self.protected(ASK, p)]:
                self.set_level(ASK, p, 0)
        bb = self.best_bid()
        if bb is not None and bb > fair + half:
            limit = int(math.ceil((fair + half) / tick)) * tick
            if (bb - fair) / tick <= ARB_TICKS and self.rng.random() < p_take:
                self.market(SELL, self.bids[bb] // self.spec.lot, limit=limit)
            for p in [p for p in self.bids if p >= limit and not self.protected(BID, p)]:
                self.set_level(BID, p, 0)
        gap = max(2, self.flow.spread_ticks * 2) * tick
        target_bid = int(math.floor((fair - half) / tick)) * tick
        target_ask = int(math.ceil((fair + half) / tick)) * tick
        if target_ask <= target_bid:
            target_ask = target_bid + tick
        bb, ba = self.best_bid(), self.best_ask()
        if bb is None or bb < target_bid - gap:
            self.add(BID, target_bid, self._limit_lots())
        if ba is None or ba > target_ask + gap:
            self.add(ASK, target_ask, self._limit_lots())

    def _limit_lots(self) -> int:
        return max(1, int(self.order_lots * 0.6 * math.exp(self.rng.gauss(0, 1.0))))

    def _market_lots(self) -> int:
        u = 1.0 - self.rng.random()
        x = self.order_lots * 0.4 * u ** (-1 / 1.5)      # Pareto, alpha 1.5
        return max(1, int(min(x, self.order_lots * 40)))

    def _place_ticks(self) -> int:
        mean = max(1.0, self.flow.place_bps * 1e-4 * self.fair / self.tick)
        p = 1.0 / mean
        return int(math.log(1.0 - self.rng.random()) / math.log(1.0 - p)) if p < 1 else 0

    def _random_flow(self, dt: float) -> None:
        f = self.flow
        beta, n = HAWKES_BETA_PER_S, HAWKES_BRANCHING
        self.excite *= math.exp(-beta * dt)
        lam = f.rate_per_s * (1 - n) + self.excite
        k = poisson(self.rng, lam * dt)
        self.excite += k * n * beta
        for _ in range(k):
            u = self.rng.random()
            if u < 0.48:
                self._random_add()
            elif u < 0.88:
                self._random_cancel()
            else:
                mid = self.mid()
                # while another venue's push moves this venue's quotes fast (>= half a tick a
                # step) the makers' requote lag is the push's, not a price takers lean on
                moving = abs(self._d_push) >= self.tick / 2
                skew = 0.0 if moving else max(-0.35, min(0.35, (self.fair - mid) / self.tick * 0.15))
                p_buy = min(0.95, max(0.05, 0.5 + skew + self.buy_bias))
                self.market(BUY if self.rng.random() < p_buy else SELL, self._market_lots())

    def _random_add(self) -> None:
        side = BID if self.rng.random() < 0.5 else ASK
        bb, ba = self.best_bid(), self.best_ask()
        touch = bb if side == BID else ba
        if touch is None:
            return
        if bb is not None and ba is not None and ba - bb > self.tick and self.rng.random() < 0.1:
            price = touch + self.tick if side == BID else touch - self.tick  # improve the spread
        else:
            d = self._place_ticks() * self.tick
            price = touch - d if side == BID else touch + d
        self.add(side, price, self._limit_lots())

    def _random_cancel(self) -> None:
        side = BID if self.rng.random() < 0.5 else ASK
        book = self.book_side(side)
        if len(book) < 2:
            return
        rank = min(int(-math.log(1.0 - self.rng.random()) * 2.5), len(book) - 1)
        price = self.top(side, rank + 1)[-1]
        if self.protected(side, price):
            return
        qty = book[price]
        if self.rng.random() < 0.5 or qty <= self.spec.lot:
            self.set_level(side, price, 0)
        else:
            cut = int(qty * (0.3 + 0.5 * self.rng.random())) // self.spec.lot * self.spec.lot
            self.set_level(side, price, qty - max(self.spec.lot, cut))

    def _maintain_depth(self) -> None:
        self._fill_ladder()
        span = SPAN_BPS_MAX * 1e-4 * self.fair
        for side in (BID, ASK):
            book = self.book_side(side)
            far = [p for p in book if abs(p - self.fair) > span and not self.protected(side, p)]
            for p in far:
                self.set_level(side, p, 0)
            if len(book) > LEVELS_MAX:
                worst = heapq.nsmallest(len(book) - LEVELS_MAX, book) if side == BID else \
                    heapq.nlargest(len(book) - LEVELS_MAX, book)
                for p in worst:
                    if not self.protected(side, p):
                        self.set_level(side, p, 0)
            while len(book) < LEVELS_MIN:
                last = (min(book) if side == BID else max(book)) if book else int(self.fair)
                d = (1 + self._place_ticks()) * self.tick
                price = last - d if side == BID else last + d
                if price <= 0 or abs(price - self.fair) > span:
                    break
                self.add(side, price, self._limit_lots())

    def _fill_ladder(self) -> None:
        """On a coarse-tick venue makers quote a ladder behind the touch: a tick within
        `ladder_ticks` of it that the flow emptied is requoted (chance LADDER_REFILL per
        check), so the book near the touch has size at nearly every tick, as a CME book does
        at its $5 tick. Random placement alone left it hollow there: the placement distance
        (place_bps) is under a tick, rounds to 0, every add joins the touch, and the cancels,
        concentrated on the first few levels, empty the ticks behind it (Tradovate: 2-13 %
        of ticks 1-10 held size; Bitfinex, Deribit, dYdX, Hyperliquid alike). Fine-tick
        venues keep random placement: a ladder of 10 ticks there squeezed a depth-limited
        channel (Kraken's 10 levels) into ~1 bp, which its price crosses within a step."""
        if not self.ladder_ticks:
            return
        tick = self.tick
        for side in (BID, ASK):
            book = self.book_side(side)
            touch = self.best_bid() if side == BID else self.best_ask()
            if touch is None:
                continue
            for k in range(1, self.ladder_ticks + 1):
                price = touch - k * tick if side == BID else touch + k * tick
                if price > 0 and price not in book and self.rng.random() < LADDER_REFILL:
                    self.add(side, price, self._limit_lots())

    def _seed_book(self) -> None:
        tick = self.tick
        mid = int(round(self.fair / tick)) * tick
        for side in (BID, ASK):
            price = mid - tick if side == BID else mid + tick
            for _ in range((LEVELS_MIN + LEVELS_MAX) // 2):
                self.add(side, price, self._limit_lots() * 2)
                d = (1 + self._place_ticks()) * tick
                price = price - d if side == BID else price + d
                if price <= 0:
                    break
        self.n_changes = 0

    def levels(self, side: int, depth: int | None = None) -> list[tuple[int, int]]:
        """(price, qty) best first, all levels or the top `depth`."""
        book = self.book_side(side)
        if depth is None or depth >= len(book):
            prices = sorted(book, reverse=(side == BID))
        else:
            prices = self.top(side, depth)
        return [(p, book[p]) for p in prices]


class MarketSim:
    """The latent price and every venue's book, stepped together."""

    def __init__(self, market: Market, venues: Iterable[str], seed: int) -> None:
        from nexus.sim.specs import VENUES

        self.market = market
        self.seed = seed
        self.latent = Latent(seeded(seed, 1), float(market.start_price))
        self.venues: dict[str, VenueSim] = {}
        for name in venues:
            salt = 100 + VENUES.index(name)
            self.venues[name] = VenueSim(market.specs[name], market, seeded(seed, salt), float(market.start_price))
            self.venues[name].perpetual = registry_perpetual(name)
        self.basis = Basis(seeded(seed, 11))
        self.arb = Arbitrageur(self.venues, market)
        self.router = Router(seeded(seed, 12), self.venues, market)
        self.hold: tuple[float, int] | None = None
        self.step_no = 0

    def step(self, t_ns: int) -> dict[str, list[Fill]]:
        self.step_no += 1
        self.latent.step()
        self.basis.step()
        coupled = len(self.venues) > 1
        if self.hold is not None:
            self.latent.hold(*self.hold)    # a defended level: the market does not trade through it
        ref = self.latent.at(0)
        # a pattern pushing its venue's price (an exhaustion burst, vs.fair_add) moves the
        # market's quotes too; the other venues' makers requote to it without taking anything
        # (no prints of theirs follow the push: the burst is the pattern venue's alone)
        pushes = [(vs, vs.fair_add / vs.scale / (1.0 + vs.basis_bps * 1e-4)) for vs in self.venues.values()
                  if coupled and abs(vs.fair_add) >= vs.tick / 2]
        for vs in self.venues.values():
            vs.basis_bps = self.basis.bps if vs.perpetual else 0.0
            push = [p for u, p in pushes if u is not vs]
            vs.push_ref = sum(push) if coupled else 0.0
            vs.ref = ref + vs.push_ref if coupled else None
            vs.follow_only = bool(push)
            vs.arb_free = coupled and not vs.scripted() and not push
        if coupled:
            self._touches()
        out = {name: vs.step(t_ns, self.latent) for name, vs in self.venues.items()}
        self.hold = self._held() if coupled else None
        self.arb.step()
        self.router.step(t_ns)
        return out

    def _touches(self) -> None:
        """Tell each venue the touch of the other venues free of patterns (spot terms converted
        to its own price units): its makers will not lock or cross it. A venue running a
        pattern is not quoted off (its price is the pattern's, not the market's), but its own
        background makers keep to the others' touch like any maker (the pattern's orders are
        placed by the pattern, not through `VenueSim.add`, so they are not held back); a venue
        whose makers only follow another venue's push (`follow_only`: nobody takes there, so
        the arbitrageur leaves it alone) quotes as a maker does, and is quoted off. A diverging
        venue (fault) is neither: its quotes are the fault's."""
        tops = []
        for vs in self.venues.values():
            if vs.scripted():       # a pattern's price is not the market's: nobody quotes off it
                continue
            k = 1.0 + vs.basis_bps * 1e-4
            bb, ba = vs.best_bid(), vs.best_ask()
            tops.append((vs, None if bb is None else bb / vs.scale / k, None if ba is None else ba / vs.scale / k))
        for vs in self.venues.values():
            vs.others = None
            if vs.fair_mult != 1.0:
                continue
            bids = [b for o, b, _ in tops if o is not vs and b is not None]
            asks = [a for o, _, a in tops if o is not vs and a is not None]
            k = vs.scale * (1.0 + vs.basis_bps * 1e-4)
            vs.others = (max(bids) * k if bids else None, min(asks) * k if asks else None)

    def _held(self) -> tuple[float, int] | None:
        """The price a scripted pattern defends just now (an iceberg or an absorber holding a
        level: `holds_market` on the hook), in spot terms, and the defended side: the market
        does not trade through it (a defended bid is a floor for every venue, as a large
        passive order is for the whole market) but moves freely away from it -- the other
        participants keep trading, the reference is not frozen. The first such venue in venue
        order wins."""
        for vs in self.venues.values():
            if vs.fair_mult != 1.0:     # a diverging venue's price is its fault's, never the market's
                continue
            for h in vs.hooks:
                if getattr(h, "holds_market", False) and not h.done:
                    return vs.fair / vs.scale / (1.0 + vs.basis_bps * 1e-4), h.side
        return None

    def latent_price(self) -> Decimal:
        return Decimal(repr(self.latent.at(0)))


def registry_perpetual(venue: str) -> bool:
    from nexus.venues import registry

    return registry.venue(venue).sim_venue().leverage_max > 0


class Basis:
    """The spot-perp basis (bp, perpetual over spot): an Ornstein-Uhlenbeck process around
    BASIS_MEAN_BPS with stationary sd BASIS_SD_BPS and mean-reversion time BASIS_TAU_S, so it
    drifts over minutes (funding keeps it near its mean), never jumps."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.bps = BASIS_MEAN_BPS + BASIS_SD_BPS * rng.gauss(0, 1)

    def step(self) -> None:
        dt = 1.0 / STEPS_PER_S
        k = dt / BASIS_TAU_S
        self.bps += (BASIS_MEAN_BPS - self.bps) * k + BASIS_SD_BPS * math.sqrt(2 * k) * self.rng.gauss(0, 1)


class Arbitrageur:
    """Trades away any cross between two venues wider than its costs. After every venue has
    stepped, for each pair where one venue's best bid exceeds another's best ask -- basis
    removed: a perpetual is compared with a spot book at its price less the basis -- by more
    than ARB_LEG_BPS on each leg, it sells at the rich bid and buys at the cheap ask in the
    same step (two taker orders, limited to the two touch prices, of the smaller touch size
    up to ARB_LOTS_MAX typical orders): visible as a trade on each venue. Venues running a
    scripted pattern are left alone. Deterministic: no randomness of its own, venues visited
    in the simulator's venue order."""

    def __init__(self, venues: dict[str, VenueSim], market) -> None:
        self.venues = venues
        self.order_size = market.order_size
        self.trades = 0

    @staticmethod
    def _px(vs: VenueSim, p: int) -> float:
        """A price of `vs` in spot terms (quote currency, basis removed)."""
        return p / vs.scale / (1.0 + vs.basis_bps * 1e-4)

    def step(self) -> None:
        live = [vs for vs in self.venues.values() if vs.arb_free]
        for a in live:               # a: the rich venue (sell there)
            for b in live:           # b: the cheap venue (buy there)
                if a is b:
                    continue
                bid, ask = a.best_bid(), b.best_ask()
                if bid is None or ask is None:
                    continue
                pa, pb = self._px(a, bid), self._px(b, ask)
                if pa - pb <= 2 * ARB_LEG_BPS * 1e-4 * pb:
                    continue
                base = min(a.bids[bid] * a.spec.lot_base() / a.spec.lot,
                           b.asks[ask] * b.spec.lot_base() / b.spec.lot,
                           self.order_size * ARB_LOTS_MAX)
                la = max(1, int(base / a.spec.lot_base() + 1e-9))
                lb = max(1, int(base / b.spec.lot_base() + 1e-9))
                a.market(SELL, la, limit=bid)
                b.market(BUY, lb, limit=ask)
                self.trades += 1


class Router:
    """An order router that splits one parent order into identical children on two venues
    whose touch on the taker's side is at the same price: each child takes exactly one price
    level from one maker order, in the same step, so the two venues print the same trade
    (taker side, price, base size, exchange time) -- what the Aggregator's cross-venue dedup
    folds into one (nexus/agg, native TradeDedup: same side, price and size on the consensus
    grid, timestamps within the dedup window, 0 ms by default). One parent every
    ROUTER_GAP_S (seeded); pairs of venues not running a pattern, sizes a multiple of the
    coarser lot and at most what both touches show."""

    def __init__(self, rng: random.Random, venues: dict[str, VenueSim], market) -> None:
        self.rng = rng
        self.venues = venues
        self.order_size = market.order_size
        self.next_s = self.rng.uniform(*ROUTER_GAP_S)
        self.t_s = 0.0
        self.splits = 0

    def step(self, t_ns: int) -> None:
        self.t_s += 1.0 / STEPS_PER_S
        if self.t_s < self.next_s:
            return
        self.next_s = self.t_s + self.rng.uniform(*ROUTER_GAP_S)
        side = BUY if self.rng.random() < 0.5 else SELL
        live = [vs for vs in self.venues.values() if vs.arb_free]
        touch: dict[float, list[VenueSim]] = {}
        for vs in live:
            p = vs.best_ask() if side == BUY else vs.best_bid()
            if p is not None:
                touch.setdefault(round(p / vs.scale, 8), []).append(vs)
        pairs = [vl for _, vl in sorted(touch.items()) if len(vl) >= 2]
        if not pairs:
            return
        vl = pairs[self.rng.randrange(len(pairs))]
        a, b = self.rng.sample(vl, 2)
        step = max(a.spec.lot_base(), b.spec.lot_base())
        avail = min((vs.asks if side == BUY else vs.bids)[vs.best_ask() if side == BUY else vs.best_bid()]
                    * vs.spec.lot_base() / vs.spec.lot for vs in (a, b))
        want = self.order_size * (0.3 + 0.7 * self.rng.random())
        n = int(min(avail / 2, want) / step + 1e-9)     # half the touch at most: the level stays
        if n < 1:
            return
        base = n * step
        for vs in (a, b):
            price = vs.best_ask() if side == BUY else vs.best_bid()
            start = len(vs.fills)
            vs.market(side, int(round(base / vs.spec.lot_base())), limit=price)
            for f in vs.fills[start:]:
                f.makers = 1     # one maker order on each side: one trade on every venue's feed
        self.splits += 1
