"""What the simulator knows of a venue, as types: `SimInstrument` (the venue's instrument as
the simulator serves it: the venue's own symbol, tick and lot size, contract value, how
prices and sizes are written on the wire), `Flow` (the order-flow parameters of the
simulated market on that venue) and `SimVenue` (the two with the venue's wire adapter).
Each venue package declares its own `SimVenue` in its `sim.py` (nexus/venues/<venue>/);
this module puts them together into one `Market` per symbol.

Tick/lot/contract figures are the ones the venues publish for these instruments in their
instrument endpoints (Binance exchangeInfo, Bybit instruments-info, OKX public/instruments,
Coinbase products, Kraken `instrument` channel, Hyperliquid `meta`). Wire formats follow the
venues' documented examples: Binance spot pads to 8 decimals ("4.00000000"), Binance USD-M
and Bybit write the price scale ("16578.50", qty "0.001"), OKX and Hyperliquid write the
shortest form ("8477", "3366.1"), Coinbase fixes prices to the quote increment and trims
sizes, Kraken writes bare JSON numbers at the pair's precisions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from nexus.exceptions import ConfigError
from nexus.sim import fmt
from nexus.venues import registry

# The venues the simulator serves, in the order they are stepped (deterministic: venue id order).
VENUES: tuple[str, ...] = registry.simulated()
# The venues served when none are named (see registry.Venue.sim_default).
DEFAULT_VENUES: tuple[str, ...] = registry.simulated_by_default()

TRIM = -1  # wire format: shortest exact decimal


@dataclass(frozen=True)
class Flow:
    """Order-flow parameters of one venue (symbol independent; distances in basis points)."""

    rate_per_s: float        # base arrival rate of book events (adds, cancels, market orders)
    place_bps: float         # mean distance of a new limit order behind the touch
    lag_ms: int              # how late this venue sees the common latent price
    noise_bps: float         # stationary std-dev of the venue's own price noise
    size_scale: float        # venue's share of typical order size (1 = the largest venue)
    spread_ticks: int = 1    # quoted spread the makers keep when the market is calm


@dataclass(frozen=True)
class SimInstrument:
    venue: str
    symbol: str                 # the venue's own name for the instrument
    base: str
    quote: str
    price_dec: int              # internal price integers are price * 10**price_dec
    tick: int                   # tick size in those units
    qty_dec: int                # internal quantities (venue units: contracts on OKX) * 10**qty_dec
    lot: int                    # quantity step in those units
    contract_value: str = "1"   # base coin per quantity unit
    price_wire_dec: int = TRIM  # decimals written on the wire (TRIM: shortest form)
    qty_wire_dec: int = TRIM
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def flow(self) -> Flow:
        return registry.venue(self.venue).sim_venue().flow

    # -- decimal strings ------------------------------------------------------------------
    def tick_str(self) -> str:
        return fmt.trim(self.tick, self.price_dec)

    def lot_str(self) -> str:
        return fmt.trim(self.lot, self.qty_dec)

    def px(self, v: int) -> str:
        """A price as this venue writes it."""
        if self.price_wire_dec == TRIM:
            return fmt.trim(v, self.price_dec)
        return fmt.fixed(fmt.rescale(v, self.price_dec, self.price_wire_dec), self.price_wire_dec)

    def qty(self, v: int) -> str:
        """A quantity (venue units) as this venue writes it."""
        if self.qty_wire_dec == TRIM:
            return fmt.trim(v, self.qty_dec)
        return fmt.fixed(fmt.rescale(v, self.qty_dec, self.qty_wire_dec), self.qty_wire_dec)

    def lot_base(self) -> float:
        """Base coin in one quantity step (model arithmetic only, never on the wire)."""
        return float(Decimal(self.lot).scaleb(-self.qty_dec) * Decimal(self.contract_value))

    def price_scale(self) -> float:
        """Price units per 1 quote currency (model arithmetic only)."""
        return float(10 ** self.price_dec)


@dataclass(frozen=True)
class SimVenue:
    """A venue as the simulator serves it (declared in the venue package's sim.py): its wire
    adapter (a nexus.sim.feed.Feed subclass), its order flow, and its instrument for each
    simulated base coin."""

    feed: type
    flow: Flow
    instruments: dict[str, SimInstrument]
    leverage_max: int = 0       # perpetuals: the venue's maximum leverage (0: a spot venue)


# Simulated starting price (quote currency) and typical order size (base coin) per symbol.
SYMBOLS: dict[str, tuple[str, str, str]] = {
    # --symbol: (base, start price, typical order size in base coin)
    "BTCUSDT": ("BTC", "65000", "0.05"),
    "ETHUSDT": ("ETH", "3200", "1.0"),
    # PAX Gold, a tokenized real-world asset: traded by the venues that list it (binance-rwa).
    "PAXGUSDT": ("PAXG", "2650", "0.5"),
}


@dataclass(frozen=True)
class Market:
    symbol: str
    start_price: Decimal
    order_size: float
    specs: dict[str, SimInstrument]


def market_for(symbol: str) -> Market:
    """The simulated market of `symbol`. A lower-case "dex:" prefix (Hyperliquid HIP-3,
    "nxs:BTCUSDT") selects, on the venues that list it, the instrument "dex:BASE" of that builder
    dex; a ":SETTLE" suffix ("BTCUSDT:USDT", a venue's USDT-settled futures, e.g. Gate) trades on
    the BTCUSDT market."""
    head, sep, tail = symbol.partition(":")
    dex, name = (head, tail) if sep and head.islower() else ("", head)
    key = name.upper().replace("-", "").replace("/", "")
    if key not in SYMBOLS:
        raise ConfigError(f"the simulator has no market {symbol!r}; choose one of: {', '.join(SYMBOLS)}")
    base, price, size = SYMBOLS[key]
    specs = {}
    for v in VENUES:  # a venue that does not list the base coin has no market for it
        insts = registry.venue(v).sim_venue().instruments
        inst = insts.get(f"{dex}:{base}", insts.get(base)) if dex else insts.get(base)
        if inst is not None:
            specs[v] = inst
    if dex and not any(s.symbol == f"{dex}:{base}" for s in specs.values()):
        raise ConfigError(f"the simulator has no dex asset {dex}:{base}")
    return Market(key, Decimal(price), float(size), specs)


def check_venues(names) -> tuple[str, ...]:
    """Validate and order a venue selection (None or empty: the default set, DEFAULT_VENUES;
    "all": every venue the simulator serves)."""
    if not names:
        return DEFAULT_VENUES
    if list(names) == ["all"]:
        return VENUES
    out = []
    for n in names:
        if n not in VENUES:
            raise ConfigError(f"the simulator does not serve {n!r}; venues: {', '.join(VENUES)}")
        if n not in out:
            out.append(n)
    return tuple(v for v in VENUES if v in out)
