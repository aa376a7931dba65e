"""The simulator without a network: market, venue wire adapters, patterns and faults, stepped
in simulated time. `Simulator` (nexus.sim.simulator) paces it in real time and serves it;
tests can also drive it directly (`advance`) and read what it would have sent.
"""

from __future__ import annotations

import functools
import json
from typing import Callable, Iterable, Protocol

from nexus.exceptions import ConfigError
from nexus.sim import faults as faults_mod
from nexus.sim.exchange import SimExchange
from nexus.sim.faults import Fault
from nexus.sim.market import BID, STEP_NS, STEPS_PER_S, MarketSim
from nexus.sim.patterns import Scheduler
from nexus.sim.specs import check_venues, market_for
from nexus.sim.feed import MALFORMED_FRAMES, Event, Feed
from nexus.venues import registry

# 2026-01-01T00:00:00Z: simulated exchange timestamps start here unless told otherwise, so a
# seed fixes every byte of every message.
SIM_EPOCH_NS = 1_767_225_600_000_000_000

ALL_CONNECTIONS = "*"   # event channel meaning: every connection of the venue, sent verbatim


class Sink(Protocol):
    """Where the simulator core's output goes (the server, or a recorder in tests)."""

    def deliver(self, venue: str, events: list[Event]) -> None: ...
    def disconnect(self, venue: str, refuse_until_ns: int) -> None: ...
    def second(self, t_ns: int) -> None: ...


# Faults that act on the next book message, or on the connections open at the time: fired only
# once the venue has a subscribed connection (a client still connecting, e.g. reconnecting after
# a `disconnect`, would otherwise never see the fault it was promised; under load a connection
# can take seconds to come up).
HELD_FAULTS = frozenset({"gap", "bad-checksum", "malformed"})


class NullSink:
    def deliver(self, venue, events):
        pass

    def disconnect(self, venue, refuse_until_ns):
        pass

    def second(self, t_ns):
        pass


class SimCore:
    def __init__(self, seed: int = 0, venues: Iterable[str] | None = None, symbol: str = "BTCUSDT",
                 faults: Iterable[str | Fault] = (), epoch_ns: int = SIM_EPOCH_NS, patterns: bool = True,
                 on_label: Callable[[dict], None] | None = None, record_fills: bool = False) -> None:
        self.seed = int(seed)
        self.venue_names = check_venues(list(venues) if venues else None)
        self.market = market_for(symbol)
        missing = [v for v in self.venue_names if v not in self.market.specs]
        if missing:
            raise ConfigError(f"the simulator has no {self.market.symbol} market on {', '.join(missing)}")
        self.epoch_ns = int(epoch_ns)
        self.t_ns = self.epoch_ns
        self.step_no = 0
        self.sim = MarketSim(self.market, self.venue_names, self.seed)
        self.feeds: dict[str, Feed] = {
            v: registry.venue(v).sim_venue().feed(self.sim.venues[v], self.clock, self.seed)
            for v in self.venue_names
        }
        for v, f in self.feeds.items():
            f.exchange = functools.partial(self.exchange, v)
            self.sim.venues[v].published_depth = f.view(f.primary).depth
            self.sim.venues[v].published_qty = self._published_qty(f)
            self.sim.venues[v].published_prices = self._published_prices(f)
            self.sim.venues[v].published_ts = self._published_ts(f)
        self.scheduler = Scheduler(self.seed, self.sim.venues, self.epoch_ns, enabled=patterns,
                                   published={v: self._published_touch(f) for v, f in self.feeds.items()})
        self.exchanges: dict[str, SimExchange] = {}    # order entry, opened on first use
        self.faults = faults_mod.parse_all(faults, self.venue_names)
        self._pending_faults = list(self.faults)
        self._held_faults: list[Fault] = []   # due, waiting for a subscriber (HELD_FAULTS)
        self.fired: list[dict] = []
        self._diverge_until: dict[str, int] = {}
        self.sink: Sink = NullSink()
        self.on_label = on_label
        self._last_payload: dict[str, str] = {}
        self.fill_log: list | None = [] if record_fills else None   # (venue, Fill), tests only

    @staticmethod
    def _published_touch(feed: Feed) -> Callable[[], tuple[int | None, int | None]]:
        """The best bid and ask of `feed`'s main book channel as last published (what a
        client subscribed to it has), for the scheduler's derived labels."""
        def touch() -> tuple[int | None, int | None]:
            view = feed.view(feed.primary)
            return (max(view.bids) if view.bids else None), (min(view.asks) if view.asks else None)
        return touch

    @staticmethod
    def _published_qty(feed: Feed) -> Callable[[int, int], int]:
        """The size at (side, price) on `feed`'s main book channel as last published."""
        def qty(side: int, price: int) -> int:
            view = feed.view(feed.primary)
            return (view.bids if side == BID else view.asks).get(price, 0)
        return qty

    @staticmethod
    def _published_prices(feed: Feed) -> Callable[[int], Iterable[int]]:
        """The prices on one side of `feed`'s main book channel as last published."""
        def prices(side: int) -> Iterable[int]:
            view = feed.view(feed.primary)
            return view.bids if side == BID else view.asks
        return prices

    @staticmethod
    def _published_ts(feed: Feed) -> Callable[[], int | None]:
        """The exchange time of `feed`'s last publication on its main book channel."""
        def ts() -> int | None:
            view = feed.view(feed.primary)
            return view.history[-1].ts_ns if view.history else None
        return ts

    def clock(self) -> int:
        return self.t_ns

    @property
    def t_s(self) -> float:
        return (self.t_ns - self.epoch_ns) / 1e9

    # -- stepping ---------------------------------------------------------------------------
    def step(self) -> None:
        self.step_no += 1
        self.t_ns = self.epoch_ns + self.step_no * STEP_NS
        t = self.t_ns
        while self._pending_faults and self.epoch_ns + self._pending_faults[0].at_ns <= t:
            f = self._pending_faults.pop(0)
            if f.kind in HELD_FAULTS and not self._subscribed(f.venue):
                self._held_faults.append(f)
            else:
                self._fire(f, t)
        if self._held_faults:
            for f in [f for f in self._held_faults if self._subscribed(f.venue)]:
                self._held_faults.remove(f)
                self._fire(f, t)
        for venue, until in list(self._diverge_until.items()):
            if t >= until:
                self.sim.venues[venue].fair_mult = 1.0
                del self._diverge_until[venue]
        for label in self.scheduler.step(t):
            if self.on_label:
                self.on_label(label)
        fills = self.sim.step(t)
        if self.fill_log is not None:
            for venue, fs in fills.items():
                self.fill_log.extend((venue, f) for f in fs)
        for venue, feed in self.feeds.items():
            events = feed.on_step(t, fills[venue])
            if events:
                self._last_payload[venue] = next((p for _, p in reversed(events) if isinstance(p, str)),
                                                 self._last_payload.get(venue, ""))
                self.sink.deliver(venue, events)
        if self.step_no % STEPS_PER_S == 0:
            self.sink.second(t)

    def exchange(self, venue: str) -> SimExchange:
        """The venue's order entry (accounts, orders, fills on its simulated book), opened on
        first use: a run nobody trades in is byte-for-byte what it was before."""
        ex = self.exchanges.get(venue)
        if ex is None:
            sv = registry.venue(venue).sim_venue()
            feed = self.feeds[venue]
            ex = self.exchanges[venue] = SimExchange(
                self.sim.venues[venue], feed.spec, perpetual=sv.leverage_max > 0, clock=self.clock,
                publish_fills=lambda fs: feed.pending_fills.extend(fs), leverage_max=max(1, sv.leverage_max))
        return ex

    def advance(self, seconds: float) -> None:
        """Run `seconds` of simulated time at once (no pacing)."""
        for _ in range(int(round(seconds * STEPS_PER_S))):
            self.step()

    # -- faults -----------------------------------------------------------------------------
    def _subscribed(self, venue: str) -> bool:
        """Whether any connection of the venue is subscribed to anything (sinks without
        connections, e.g. recorders, count as subscribed)."""
        check = getattr(self.sink, "subscribed", None)
        return True if check is None else bool(check(venue))

    def _fire(self, f: Fault, t: int) -> None:
        feed = self.feeds[f.venue]
        rec = {"kind": f.kind, "venue": f.venue, "at_s": str(f.at_s), "t_ns": t,
               "until_ns": t + f.duration_s() * 1_000_000_000 if f.duration_s() else None}
        self.fired.append(rec)
        if f.kind == "disconnect":
            self.sink.disconnect(f.venue, t + faults_mod.DISCONNECT_REFUSE_S * 1_000_000_000)
        elif f.kind == "gap":
            feed.arm_gap(1)
        elif f.kind == "bad-checksum":
            feed.arm_bad_checksum(1)
        elif f.kind == "silence":
            feed.faults.silent_until_ns = t + faults_mod.SILENCE_S * 1_000_000_000
        elif f.kind == "malformed":
            self.sink.deliver(f.venue, [(ALL_CONNECTIONS, p) for p in self._malformed(f.venue)])
        elif f.kind == "diverge":
            self.sim.venues[f.venue].fair_mult = float(faults_mod.DIVERGE_FACTOR)
            self._diverge_until[f.venue] = t + faults_mod.DIVERGE_S * 1_000_000_000

    def _malformed(self, venue: str) -> list[str]:
        real = self._last_payload.get(venue) or '{"truncated":'
        frames = [real[: max(1, len(real) // 2)], "\x00\x01 not json }{", "{"]
        assert len(frames) == MALFORMED_FRAMES
        for fr in frames:
            try:
                json.loads(fr)
            except ValueError:
                continue
            raise AssertionError("a malformed frame parsed as JSON")
        return frames

    # -- introspection ------------------------------------------------------------------------
    def labels(self, include_active: bool = True) -> list[dict]:
        return self.scheduler.labels(include_active)

    def fault_log(self) -> list[dict]:
        """Every scheduled fault: kind, venue, at_s, t_ns (simulated clock), duration_s, fired."""
        pending = set(map(id, self._pending_faults + self._held_faults))
        return [{"kind": f.kind, "venue": f.venue, "at_s": str(f.at_s), "t_ns": self.epoch_ns + f.at_ns,
                 "duration_s": f.duration_s(), "fired": id(f) not in pending} for f in self.faults]

    def book(self, venue: str, channel: str | None = None, seq: int | None = None,
             at_ns: int | None = None) -> dict:
        """The book as published on `channel` (default: the venue's main book channel), in the
        venue's own representation: {"venue","symbol","channel","seq","ts_ns","bids":[[px,sz]..]
        best first,"asks":[..]}. With `seq` (the venue's sequence field: Binance u, Bybit u,
        OKX seqId; a publication counter elsewhere) or `at_ns` (the publication's exchange
        timestamp), the view right after that publication (last 64 kept, top 50 levels)."""
        feed = self.feeds[venue]
        ch = channel or feed.primary
        view = feed.view(ch)
        if seq is None and at_ns is None:
            b, a = view.top()
            cur = feed.view_seq(ch)
            ts = view.history[-1].ts_ns if view.history else self.epoch_ns
        else:
            match = [h for h in view.history if (seq is None or h.seq == seq) and (at_ns is None or h.ts_ns == at_ns)]
            if not match:
                raise KeyError(f"{venue} {ch}: publication seq={seq} at_ns={at_ns} is not in the recent history")
            h = match[-1]
            b, a, cur, ts = list(h.bids), list(h.asks), h.seq, h.ts_ns
        s = feed.spec
        return {"venue": venue, "symbol": s.symbol, "channel": ch, "seq": cur, "ts_ns": ts,
                "bids": [[s.px(p), s.qty(q)] for p, q in b], "asks": [[s.px(p), s.qty(q)] for p, q in a]}
