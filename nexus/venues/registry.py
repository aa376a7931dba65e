"""The venue registry: every venue is one package below nexus/venues/, found here.

A venue package's `__init__.py` declares what it holds in `VENUES`, a tuple of `Venue`
(one package may serve several venue ids: `binance` serves binance-spot and binance-perp).
Each `Venue` names, relative to its package, the module with its decoder and sync rules
(`Decoder`, `Sync`), its live-feed spec (`FeedSpec`: URLs, subscriptions, keep-alive, REST
snapshot) and its simulator wire format (`SimVenue`). Those modules are imported only when
used, so asking for a decoder does not load the simulator.

Discovery walks the packages below nexus/venues/ and checks the result against `VENUE_IDS`
(nexus/venues/__init__.py): a venue must have both its folder and its one line there, and
two packages may not claim the same venue.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
from dataclasses import dataclass, field
from functools import cache
from types import ModuleType
from typing import Any, Awaitable, Callable

from nexus.exceptions import ConfigError
from nexus.venues import VENUE_IDS


@dataclass(frozen=True)
class Heartbeat:
    """Application-level ping sent when the connection has been idle `idle_s` seconds.
    `ping` None means the venue uses WebSocket ping frames (answered automatically)."""

    idle_s: float
    ping: bytes | None
    pong_marker: bytes | None  # a substring identifying the venue's pong reply
    # `ping` sent every `every_s` seconds whatever the traffic (KuCoin's pingInterval,
    # Tradovate's "[]" frame); 0: only when idle.
    every_s: float = 0.0
    # A server heartbeat that must be answered (Deribit's test_request): a small message
    # holding `answer_marker` is answered with `answer` and not passed on.
    answer_marker: bytes | None = None
    # The answer: fixed bytes, or a callable given the request and returning the answer
    # (Crypto.com's public/respond-heartbeat echoes the request's id).
    answer: bytes | Callable[[bytes], bytes] | None = None


@dataclass(frozen=True)
class FeedSpec:
    """How to reach a venue's public market data. `--sim` or `--endpoint VENUE=URL` replace
    the URLs; nothing else changes."""

    venue: str
    ws_url: str
    rest_url: str | None
    symbol_of: Callable[[str], str]  # canonical "BTCUSDT" -> the venue's symbol
    subscribe: Callable[[str], list[bytes]]  # venue symbol -> messages to send on open
    heartbeat: Heartbeat
    snapshot_path: Callable[[str], str] | None = None  # REST snapshot path for the venue symbol
    notes: str = field(default="")
    # REST path (for the venue symbol) of the venue's instrument listing, whose body the venue's
    # `Decoder.load_metadata` reads: fetched before the first connection, so tick, lot and
    # contract value come from the venue, not from a built-in guess.
    instruments_path: Callable[[str], str] | None = None
    # The listing's request body where the venue wants a POST (Hyperliquid's /info
    # {"type": "meta"}); None: a GET.
    instruments_body: Callable[[str], bytes] | None = None
    # Token flows (KuCoin bullet, Tradovate, FXCM): an async callable
    # (ws_url, rest_url, venue_symbol) -> nexus.feeds.session.Session, run before every
    # connection attempt.
    prepare: Callable[[str, str | None, str], Awaitable[Any]] | None = None
    # Poll mode (`nexus run --poll VENUE=SECONDS`, nexus.feeds.poll): the REST path (for the
    # venue symbol) of a whole book, fetched every SECONDS instead of the WebSocket (Deribit's
    # public/get_order_book); `poll_throttled(body)` tells the venue's rate-limit answer, which
    # makes the poll back off.
    poll_path: Callable[[str], str] | None = None
    poll_throttled: Callable[[bytes], bool] | None = None


@dataclass(frozen=True)
class Venue:
    """One venue as its package declares it. `data`, `feed` and `sim` are "module" or
    "module:attribute" references relative to `package` (imported on first use)."""

    name: str
    package: str
    data: str = "data"          # exports Decoder and Sync
    feed: str = "feed:FEED"     # a FeedSpec
    sim: str | None = "sim:SIM"  # a nexus.sim.specs.SimVenue (None: not simulated)
    orders: str | None = None   # "module:factory" of its order adapter (nexus.exec.client.VenueAdapter)
    symbols_case_sensitive: bool = False  # Hyperliquid coin names ("kPEPE")
    # Simulated when no venue list is given (`nexus sim`, `Simulator()`): the first seven. A
    # venue added later is served when named (or with `--venues all`), so a seed's default
    # run - its order flow, its pattern labels - stays what it was.
    sim_default: bool = False

    @property
    def id(self) -> int:
        return VENUE_IDS[self.name]

    def data_module(self) -> ModuleType:
        return _resolve(self.package, self.data)

    def feed_spec(self) -> FeedSpec:
        return _resolve(self.package, self.feed)

    def order_adapter_factory(self) -> Any:
        if self.orders is None:
            raise ConfigError(f"{self.name}: native order entry is not built")
        return _resolve(self.package, self.orders)

    def sim_venue(self) -> Any:
        if self.sim is None:
            raise ConfigError(f"the simulator does not serve {self.name!r}")
        return _resolve(self.package, self.sim)


def compact_json(obj: Any) -> bytes:
    """A subscribe message as venues expect it: compact JSON bytes."""
    return json.dumps(obj, separators=(",", ":")).encode()


def split_symbol(canonical: str) -> tuple[str, str]:
    """"BTCUSDT" -> ("BTC", "USDT"): the canonical --symbol into base and quote."""
    for quote in ("USDT", "USDC", "USD", "BTC", "EUR"):
        if canonical.endswith(quote) and len(canonical) > len(quote):
            return canonical[: -len(quote)], quote
    raise ConfigError(f"cannot split {canonical!r} into base and quote; use e.g. BTCUSDT")


def usd_pair(canonical: str, separator: str) -> str:
    """"BTCUSDT" -> "BTC-USD" / "BTC/USD": venues that quote in USD where Nexus says USDT
    (Coinbase products, Kraken pairs)."""
    base, quote = split_symbol(canonical)
    return f"{base}{separator}{'USD' if quote == 'USDT' else quote}"


@cache
def _resolve(package: str, ref: str) -> Any:
    module, _, attr = ref.partition(":")
    mod = importlib.import_module(f"{package}.{module}")
    return getattr(mod, attr) if attr else mod


@cache
def all_venues() -> dict[str, Venue]:
    """Every venue package's declarations, ordered by venue id (the simulator steps venues
    in this order, so it is part of a seed's meaning)."""
    import nexus.venues as root

    found: dict[str, Venue] = {}
    for m in pkgutil.iter_modules(root.__path__):
        if not m.ispkg:
            continue
        pkg = importlib.import_module(f"{root.__name__}.{m.name}")
        for v in getattr(pkg, "VENUES", ()):
            if v.name in found:
                raise RuntimeError(f"venue {v.name!r} is declared by both {found[v.name].package} and {v.package}")
            if v.name not in VENUE_IDS:
                raise RuntimeError(f"{v.package} declares venue {v.name!r}, which has no line in VENUE_IDS "
                                   "(nexus/venues/__init__.py)")
            found[v.name] = v
    missing = set(VENUE_IDS) - set(found)
    if missing:
        raise RuntimeError(f"VENUE_IDS lists {', '.join(sorted(missing))} but no package declares it")
    return dict(sorted(found.items(), key=lambda kv: VENUE_IDS[kv[0]]))


def names() -> tuple[str, ...]:
    return tuple(all_venues())


def venue(name: str) -> Venue:
    try:
        return all_venues()[name]
    except KeyError:
        raise ConfigError(f"unknown venue {name!r}; known venues: {', '.join(all_venues())}") from None


def load(name: str) -> ModuleType:
    """The module with a venue's `Decoder` and `Sync`."""
    v = all_venues().get(name)
    if v is None:
        raise ConfigError(f"no decoder for venue {name!r}; decoders exist for: {', '.join(all_venues())}")
    return v.data_module()


def feed_spec(name: str) -> FeedSpec:
    return venue(name).feed_spec()


def simulated() -> tuple[str, ...]:
    """The venues the simulator serves, in stepping order."""
    return tuple(n for n, v in all_venues().items() if v.sim is not None)


def simulated_by_default() -> tuple[str, ...]:
    """The venues a simulator serves when none are named."""
    return tuple(n for n, v in all_venues().items() if v.sim is not None and v.sim_default)


def canonical_symbol(venue_name: str, symbol: str) -> str:
    """A user's spelling of a symbol -> the venue's ("btcusdt" -> "BTCUSDT" on Binance)."""
    return symbol if venue(venue_name).symbols_case_sensitive else symbol.upper()
