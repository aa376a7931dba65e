"""Each venue's instrument as the simulator serves it: the venue's own symbol, tick and lot
size, contract value, how prices and sizes are written on the wire, and the order-flow
parameters of the simulated market on that venue.

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

# The seven venues the simulator serves, in the order they are stepped (deterministic).
VENUES: tuple[str, ...] = (
    "binance-spot", "binance-perp", "bybit-perp", "okx-swap", "coinbase", "kraken", "hyperliquid",
)

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


FLOWS: dict[str, Flow] = {
    "binance-spot": Flow(30.0, 0.06, 5, 0.20, 0.6),
    "binance-perp": Flow(50.0, 0.05, 0, 0.15, 1.0),
    "bybit-perp": Flow(30.0, 0.06, 10, 0.25, 0.7),
    "okx-swap": Flow(25.0, 0.06, 15, 0.25, 0.7),
    "coinbase": Flow(15.0, 0.08, 40, 0.35, 0.4),
    "kraken": Flow(8.0, 0.10, 60, 0.40, 0.25),
    "hyperliquid": Flow(12.0, 0.25, 150, 0.40, 0.35),
}


@dataclass(frozen=True)
class VenueSpec:
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
        return FLOWS[self.venue]

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


def _table(base: str) -> dict[str, VenueSpec]:
    if base == "BTC":
        return {
            "binance-spot": VenueSpec("binance-spot", "BTCUSDT", "BTC", "USDT", 2, 1, 5, 1, "1", 8, 8),
            "binance-perp": VenueSpec("binance-perp", "BTCUSDT", "BTC", "USDT", 1, 1, 3, 1, "1", 2, 3),
            "bybit-perp": VenueSpec("bybit-perp", "BTCUSDT", "BTC", "USDT", 1, 1, 3, 1, "1", 2, 3),
            "okx-swap": VenueSpec("okx-swap", "BTC-USDT-SWAP", "BTC", "USDT", 1, 1, 2, 1, "0.01"),
            "coinbase": VenueSpec("coinbase", "BTC-USD", "BTC", "USD", 2, 1, 8, 1, "1", 2, TRIM),
            "kraken": VenueSpec("kraken", "BTC/USD", "BTC", "USD", 1, 1, 8, 1, "1", 1, 8),
            "hyperliquid": VenueSpec("hyperliquid", "BTC", "BTC", "USD", 0, 1, 5, 1, "1",
                                     extra={"szDecimals": 5, "maxLeverage": 40}),
        }
    if base == "ETH":
        return {
            "binance-spot": VenueSpec("binance-spot", "ETHUSDT", "ETH", "USDT", 2, 1, 4, 1, "1", 8, 8),
            "binance-perp": VenueSpec("binance-perp", "ETHUSDT", "ETH", "USDT", 2, 1, 3, 1, "1", 2, 3),
            "bybit-perp": VenueSpec("bybit-perp", "ETHUSDT", "ETH", "USDT", 2, 1, 2, 1, "1", 2, 2),
            "okx-swap": VenueSpec("okx-swap", "ETH-USDT-SWAP", "ETH", "USDT", 2, 1, 2, 1, "0.1"),
            "coinbase": VenueSpec("coinbase", "ETH-USD", "ETH", "USD", 2, 1, 8, 1, "1", 2, TRIM),
            "kraken": VenueSpec("kraken", "ETH/USD", "ETH", "USD", 2, 1, 8, 1, "1", 2, 8),
            "hyperliquid": VenueSpec("hyperliquid", "ETH", "ETH", "USD", 1, 1, 4, 1, "1",
                                     extra={"szDecimals": 4, "maxLeverage": 25}),
        }
    raise KeyError(base)


# Simulated starting price (quote currency) and typical order size (base coin) per symbol.
SYMBOLS: dict[str, tuple[str, str, str]] = {
    # --symbol: (base, start price, typical order size in base coin)
    "BTCUSDT": ("BTC", "65000", "0.05"),
    "ETHUSDT": ("ETH", "3200", "1.0"),
}


@dataclass(frozen=True)
class Market:
    symbol: str
    start_price: Decimal
    order_size: float
    specs: dict[str, VenueSpec]


def market_for(symbol: str) -> Market:
    key = symbol.upper().replace("-", "").replace("/", "")
    if key not in SYMBOLS:
        raise ConfigError(f"the simulator has no market {symbol!r}; choose one of: {', '.join(SYMBOLS)}")
    base, price, size = SYMBOLS[key]
    return Market(key, Decimal(price), float(size), _table(base))


def check_venues(names) -> tuple[str, ...]:
    """Validate and order a venue selection (None or empty means all seven)."""
    if not names:
        return VENUES
    out = []
    for n in names:
        if n not in VENUES:
            raise ConfigError(f"the simulator does not serve {n!r}; venues: {', '.join(VENUES)}")
        if n not in out:
            out.append(n)
    return tuple(v for v in VENUES if v in out)
