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
ARB_TICKS = 12                  # stale quotes within this many ticks of fair are traded through
HAWKES_BETA_PER_S = 4.0         # decay of the excitation
HAWKES_BRANCHING = 0.6          # mean number of follow-on events each event triggers
LATENT_VOL_PER_SQRT_S = 9e-5    # ~50 % annualised
LATENT_HISTORY_STEPS = 1024     # how far back a venue can lag (10 s)
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
        self.hooks: list[Hook] = []
        self.t_ns = 0
        # levels per side the venue's main book channel shows (None: all); the simulator core sets it
        # from the venue's feed. Patterns that must be SEEN (a spoof wall) stay within it.
        self.published_depth: int | None = None
        # (side, price) -> the size at that price on the main book channel as last published
        # (None: no feed, e.g. a bare market in tests); the simulator core sets it
        self.published_qty: Callable[[int, int], int] | None = None
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
        """Rest a limit order, clamped so the book never crosses."""
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
        self.fair = base * self.scale * (1.0 + self.noise_bps * 1e-4) * self.fair_mult + self.fair_add
        for h in self.hooks:
            h.before_flow(self, t_ns)
        self._anchor()
        self._random_flow(dt)
        if (t_ns // STEP_NS) % 10 == 0:
            self._maintain_depth()
        self.hooks = [h for h in self.hooks if not h.done]
        return self.fills

    def _anchor(self) -> None:
        """Makers follow the fair price: stale quotes are taken or pulled, the touch refilled."""
        tick, fair = self.tick, self.fair
        half = self.flow.spread_ticks * tick / 2.0
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
                skew = max(-0.35, min(0.35, (self.fair - mid) / self.tick * 0.15))
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
        self.step_no = 0

    def step(self, t_ns: int) -> dict[str, list[Fill]]:
        self.step_no += 1
        self.latent.step()
        return {name: vs.step(t_ns, self.latent) for name, vs in self.venues.items()}

    def latent_price(self) -> Decimal:
        return Decimal(repr(self.latent.at(0)))
