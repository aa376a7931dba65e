"""What every venue's wire adapter shares: published depth views, the connection interface
the server gives adapters, fault state, and the Feed base class.

A *view* is the book as a venue publishes it on one channel (all levels, or the top N),
kept as last sent: diffs are computed against it, snapshots for new subscribers come from
it, and `Simulator.book()` reads it — so the simulator's own book is always exactly what a
correct client can have rebuilt from the messages sent so far.
"""

from __future__ import annotations

import collections
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Protocol

from nexus.sim.market import ASK, BID, Fill, VenueSim
from nexus.sim.specs import SimInstrument

HISTORY = 64            # published views remembered per channel, for book(venue, seq=...)
HISTORY_DEPTH = 50      # levels per side kept in that history
MALFORMED_FRAMES = 3    # broken frames injected by the `malformed` fault

Level = tuple[int, int]          # (price, qty) integers
Event = tuple[str, Any]          # (channel key, payload) — payload rendered per connection


class Conn(Protocol):
    """The server side of one WebSocket connection, as adapters see it."""

    venue: str
    subs: set[str]
    state: dict
    opened_ns: int
    last_sent_ns: int
    path: str
    query: dict

    def send(self, text: str | bytes) -> None: ...  # bytes: a binary frame
    def ping(self, payload: bytes) -> None: ...
    def close(self, code: int = 1000, reason: str = "") -> None: ...
    def subscribe(self, channel: str) -> None: ...
    def unsubscribe(self, channel: str) -> None: ...


@dataclass
class Published:
    seq: int | None
    ts_ns: int
    bids: tuple[Level, ...]
    asks: tuple[Level, ...]


class DepthView:
    """The top `depth` levels (None: all) of a venue book as last published on a channel.

    `scope_deletes`: when a level leaves the view without being deleted from the book
    (pushed out by better levels), send it with quantity 0 (True), or send nothing and let
    the client truncate to its depth (False, Kraken's documented behaviour)."""

    def __init__(self, vs: VenueSim, depth: int | None, scope_deletes: bool = True) -> None:
        self.vs = vs
        self.depth = depth
        self.scope_deletes = scope_deletes
        self.bids: dict[int, int] = dict(vs.levels(BID, depth))
        self.asks: dict[int, int] = dict(vs.levels(ASK, depth))
        self._seen_changes = vs.n_changes
        self.history: collections.deque[Published] = collections.deque(maxlen=HISTORY)

    def changed(self) -> bool:
        return self.vs.n_changes != self._seen_changes

    def diff(self) -> tuple[list[Level], list[Level]]:
        """Changes since the last publication (best first per side); the view becomes current."""
        if not self.changed():
            return [], []
        self._seen_changes = self.vs.n_changes
        out = []
        for side, old in ((BID, self.bids), (ASK, self.asks)):
            new = dict(self.vs.levels(side, self.depth))
            book = self.vs.book_side(side)
            ch = [(p, q) for p, q in new.items() if old.get(p) != q]
            for p in old:
                if p not in new and (self.scope_deletes or p not in book):
                    ch.append((p, 0))
            ch.sort(reverse=(side == BID))
            out.append(ch)
            if side == BID:
                self.bids = new
            else:
                self.asks = new
        return out[0], out[1]

    def refresh(self) -> None:
        """Make the view current without publishing a diff (full-snapshot channels)."""
        self._seen_changes = self.vs.n_changes
        self.bids = dict(self.vs.levels(BID, self.depth))
        self.asks = dict(self.vs.levels(ASK, self.depth))

    def top(self) -> tuple[list[Level], list[Level]]:
        """The view, best first."""
        b = sorted(self.bids.items(), reverse=True)
        a = sorted(self.asks.items())
        return b, a

    def record(self, seq: int | None, ts_ns: int) -> None:
        b, a = self.top()
        self.history.append(Published(seq, ts_ns, tuple(b[:HISTORY_DEPTH]), tuple(a[:HISTORY_DEPTH])))


@dataclass
class FaultState:
    silent_until_ns: int = 0
    gap: dict = field(default_factory=dict)       # channel -> book messages still to drop
    corrupt: dict = field(default_factory=dict)   # channel -> messages still to send with a bad checksum

    def silent(self, t_ns: int) -> bool:
        return t_ns < self.silent_until_ns


RestHandler = Callable[[dict, Any], tuple[int, Any]]


@dataclass(frozen=True)
class SimRequest:
    """An HTTP request exactly as received, for endpoints that verify signatures (which are
    computed over the raw query string and body, and headers)."""

    method: str
    path: str                   # as requested, below the venue prefix, e.g. /api/v3/order
    query_string: str           # raw, as sent (percent-encoding untouched)
    query: dict[str, str]       # decoded, last value wins
    headers: dict[str, str]     # names in lower case
    body: str                   # raw, as sent ("" when none)


PrivateHandler = Callable[[SimRequest], tuple[int, Any]]


class Feed:
    """One venue's wire format. Subclasses implement the protocol; the simulator core calls
    `on_step` every simulated step, the server calls the connection callbacks."""

    venue = ""
    ws_path = "/ws"                 # the path (under /<venue>) clients should connect to
    rest_prefix = ""                # documented for clients: REST paths are the venue's own
    primary = ""                    # channel whose view is the venue's "book" for tests

    def __init__(self, vs: VenueSim, clock: Callable[[], int], seed: int = 0) -> None:
        self.vs = vs
        self.seed = seed
        self.spec: SimInstrument = vs.spec
        self.symbol = self.spec.symbol   # the venue's own name for the instrument
        self.conns = 0                   # connections opened so far (venues number them)
        self.clock = clock           # simulated now (ns)
        self.faults = FaultState()
        self.views: dict[str, DepthView] = {}
        self.pending_fills: list[Fill] = []
        self.step_no = 0
        # a typical order in quantity units (venues that publish order counts per level)
        self.order_qty = max(self.spec.lot, int(vs.order_lots) * self.spec.lot)

    def add_view(self, channel: str, depth: int | None, *, primary: bool = False,
                  scope_deletes: bool = True) -> DepthView:
        """Publish the book on `channel` at `depth` levels (None: all); `primary` makes it the
        venue's main book channel (what tests and the simulator's own book read)."""
        view = self.views[channel] = DepthView(self.vs, depth, scope_deletes)
        if primary:
            self.primary = channel
        return view

    # -- core side ------------------------------------------------------------------------
    def on_step(self, t_ns: int, fills: list[Fill]) -> list[Event]:
        """Publish what is due at this step (nothing while silenced: changes and trades
        accumulate and go out, complete and in sequence, when the silence ends)."""
        self.step_no += 1
        self.pending_fills.extend(fills)
        if self.faults.silent(t_ns):
            return []
        return self.publish(t_ns)

    def publish(self, t_ns: int) -> list[Event]:
        raise NotImplementedError

    def take_fills(self) -> list[Fill]:
        f, self.pending_fills = self.pending_fills, []
        return f

    def arm_gap(self, n: int = 1) -> None:
        """Fault `gap`: the next `n` book messages of every book channel are not sent (their
        sequence numbers are skipped; the views advance as if they had been)."""
        for ch in self.book_channels():
            self.faults.gap[ch] = n

    def arm_bad_checksum(self, n: int = 1) -> None:
        """Fault `bad-checksum`: the next `n` book messages of every checksummed channel carry
        a wrong checksum (the data itself is right)."""
        for ch in self.book_channels():
            self.faults.corrupt[ch] = n

    def book_channels(self) -> list[str]:
        return list(self.views)

    def drop_book_message(self, channel: str) -> bool:
        """True if this book message must be dropped (gap fault); its view still advances."""
        n = self.faults.gap.get(channel, 0)
        if n > 0:
            self.faults.gap[channel] = n - 1
            return True
        return False

    def corrupt(self, channel: str, checksum: int, signed: bool) -> int:
        """The checksum to send: a wrong one while a bad-checksum fault is pending."""
        n = self.faults.corrupt.get(channel, 0)
        if n <= 0:
            return checksum
        self.faults.corrupt[channel] = n - 1
        bad = (checksum ^ 0x5A5A5A5A) & 0xFFFFFFFF
        return bad - (1 << 32) if signed and bad >= 1 << 31 else bad

    # -- server side ----------------------------------------------------------------------
    def ws_routes(self) -> Iterable[str]:
        return (self.ws_path,)

    def on_open(self, conn: Conn) -> None: ...

    def on_text(self, conn: Conn, text: str) -> None: ...

    def request(self, conn: Conn, text: str, refusal: str) -> dict | None:
        """A client's request as a JSON object, or None: nothing is answered while the venue
        is silenced (the `silence` fault), and anything but a JSON object gets `refusal`,
        the venue's own reply to a malformed request."""
        if self.faults.silent(self.clock()):
            return None
        try:
            req = json.loads(text)
        except ValueError:
            req = None
        if not isinstance(req, dict):
            conn.send(refusal)
            return None
        return req

    def render(self, conn: Conn, channel: str, payload: Any) -> str:
        return payload

    def on_second(self, conn: Conn, t_ns: int) -> None:
        """Called once per simulated second per connection (heartbeats, pings, timeouts)."""

    def rest_routes(self) -> dict[tuple[str, str], RestHandler]:
        return {}

    def private_routes(self) -> dict[tuple[str, str], PrivateHandler]:
        """Authenticated endpoints (orders, account, user-data stream keys): given the raw
        request, since signatures cover the exact bytes sent. The payload is JSON-encoded
        unless it is already a str."""
        return {}

    def exchange(self):
        """The venue's order entry (nexus.sim.exchange.SimExchange), opened on first use; the
        simulator core binds it (a feed alone has no exchange)."""
        raise RuntimeError(f"{self.venue}: no exchange is bound to this feed")

    # -- introspection ----------------------------------------------------------------------
    def channels(self) -> list[str]:
        return list(self.views)

    def view(self, channel: str | None = None) -> DepthView:
        return self.views[channel or self.primary]

    def view_seq(self, channel: str) -> int | None:
        return None

    def token(self, kind: str, n: int, length: int = 32) -> str:
        """A deterministic hex token (ids, hashes) for the n-th `kind` of this feed."""
        h = hashlib.sha256(f"{self.seed}:{self.venue}:{kind}:{n}".encode()).hexdigest()
        while len(h) < length:
            h += hashlib.sha256(h.encode()).hexdigest()
        return h[:length]

    def uuid(self, kind: str, n: int) -> str:
        h = self.token(kind, n)
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"
