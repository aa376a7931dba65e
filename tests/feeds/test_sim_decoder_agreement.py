"""The simulator's wire encoders and the venue decoders were written independently from the
venues' documentation; here they must agree on every trade: each decoded trade (price and
TAKER side) is one the simulated market actually executed on that venue. This pins each
venue's side convention (Binance `m`, Coinbase's maker-side `side`, Kraken, OKX, Bybit,
Hyperliquid `B`/`A`) on both sides at once."""
from collections import Counter
from decimal import Decimal

import pytest

from nexus import record
from nexus.exceptions import DecodeError
from nexus.sim.core import SimCore
from nexus.sim.market import BUY
from nexus.venues.base import SegKind
from nexus.venues.registry import load

VENUES = ["binance-spot", "binance-perp", "bybit-perp", "okx-swap", "coinbase", "kraken", "hyperliquid"]
# One trade stream per venue (Binance spot also publishes `@trade`: same fills, counted once).
TRADE_CHANNEL_HINT = {"binance-spot": "@aggTrade", "binance-perp": "@aggTrade"}


class Capture:
    def __init__(self):
        self.events: dict[str, list] = {}

    def deliver(self, venue, events):
        self.events.setdefault(venue, []).extend(events)

    def disconnect(self, venue, until):
        pass

    def second(self, t):
        pass


@pytest.mark.parametrize("venue", VENUES)
def test_decoded_trades_are_the_simulated_fills(venue):
    eng = SimCore(seed=21, venues=[venue], record_fills=True, patterns=False)
    cap = Capture()
    eng.sink = cap
    for _ in range(3000):  # 30 simulated seconds
        eng.step()
    spec = eng.feeds[venue].spec
    fills = Counter((Decimal(spec.px(f.price)), "buy" if f.side == BUY else "sell") for v, f in eng.fill_log)
    assert sum(fills.values()) > 50
    dec = load(venue).Decoder()
    batch = record.empty(1 << 14)
    decoded = Counter()
    hint = TRADE_CHANNEL_HINT.get(venue)
    feed = eng.feeds[venue]

    class Conn:  # what the server passes to a feed's render(): per-connection state
        state: dict = {}

    for channel, payload in cap.events.get(venue, []):
        if isinstance(payload, tuple):  # a template the server renders per connection (Coinbase)
            payload = feed.render(Conn, channel, payload)
        if not isinstance(payload, str) or (hint and isinstance(channel, str) and hint not in channel):
            continue
        if '"depthUpdate"' in payload or "lastUpdateId" in payload:
            continue
        try:
            segs = dec.decode(payload.encode(), batch)
        except DecodeError:
            continue
        for seg in segs:
            if seg.kind is SegKind.TRADES:
                pe = seg.inst.price_exponent
                for side, p in zip(batch["side"][seg.start:seg.stop].tolist(), batch["price"][seg.start:seg.stop].tolist()):
                    decoded[(Decimal(p).scaleb(-pe), "buy" if side == record.Side.BID else "sell")] += 1
    assert sum(decoded.values()) > 20
    missing = decoded - fills  # decoded trades (price, side) the market never executed
    assert not missing, (venue, list(missing.items())[:5])
