"""Wiring the Tradebot to a broker (its database, ledger, chain and pricing) and to simulated
exchanges over the venue simulator's books: the pieces (used by the tests) and the whole world
that `nexus tradebot run --chain sim` runs in (`BrokerWorld.build`).
"""

from __future__ import annotations

import secrets
from decimal import Decimal

from nexus.tradebot.broker_ports import BrokerHotWallet, BrokerInternalPrice, book_exchange_opening, book_trade
from nexus.tradebot.errors import WorldError
from nexus.tradebot.ports import Clock
from nexus.tradebot.sim_exchange import SimExchange
from nexus.tradebot.store import AuditLog, SettingsStore, metadata

SIM_SYMBOL = {"ETH": "ETHUSDT"}  # the simulator's symbol whose books stand in for the crypto's pair


def make_exchange(broker, name: str, book_source, venue: str, clock: Clock, *, fx: Decimal = Decimal(1),
                  fee_rate: Decimal | None = None, confirmations: int = 2) -> SimExchange:
    """A SimExchange whose fills are booked in the broker's ledger (crypto side)."""
    kw = {} if fee_rate is None else {"fee_rate": fee_rate}
    return SimExchange(name, broker.chain, book_source, venue, clock, fx=fx, confirmations=confirmations,
                       on_fill=lambda crypto, side, amount, ref: book_trade(broker, crypto, side, amount, ref), **kw)


def fund_exchange(broker, ex: SimExchange, asset: str, amount: Decimal) -> None:
    """Give the broker's exchange account an opening balance; a crypto one is also booked in the
    ledger as the exchange reserve, so later withdrawals balance."""
    ex.fund(asset, amount)
    if asset in ("ETH", "USDT") and amount > 0:
        book_exchange_opening(broker, asset, amount)


def broker_ports(broker) -> tuple[BrokerHotWallet, BrokerInternalPrice]:
    return BrokerHotWallet(broker), BrokerInternalPrice(broker)


SIM_WARMUP_STEPS = 50      # simulator steps before the first round: the books have levels
ROUND_STEPS_PER_S = 100    # simulator steps per second of --interval between rounds
ROUND_STEPS_MAX = 200      # at most 2 simulated seconds between two rounds


class BrokerWorld:
    """A broker in this process (its database, the in-process chain, its background workers
    run one tick per round), the Tradebot's settings and audit log on the broker's database,
    and one SimExchange per exchange named by an active crypto, over the venue simulator's
    ETH book of the venue of the same name."""

    def __init__(self, broker, workers, store: SettingsStore, market, exchanges: dict[str, SimExchange]) -> None:
        self.broker = broker
        self.workers = workers
        self.store = store
        self.audit = AuditLog(broker.db.pool)
        self.market = market
        self.exchanges = exchanges
        self.wallet, self.prices = broker_ports(broker)

    @classmethod
    def build(cls, db_url: str, sim_seed: int, funds: list[tuple[str, Decimal]], clock: Clock) -> "BrokerWorld":
        """Raises WorldError when no crypto is active or an exchange is not a simulator venue."""
        from nexus.broker import assemble
        from nexus.broker.workers import Workers
        from nexus.sim.core import SimCore
        from nexus.sim.specs import VENUES

        # Its keys are random, in memory only (no API is served from this world).
        b = assemble.build(db_url=db_url, chain="sim", api_key=secrets.token_hex(16),
                           operators={"tradebot": secrets.token_hex(16)}, callback_secret=secrets.token_hex(16))
        try:
            workers = Workers(b)
            workers.prepare()
            metadata.create_all(b.db.pool)
            store = SettingsStore(b.db.pool)
            active = store.active()
            if not active:
                raise WorldError("no active crypto (nexus tradebot settings set CRYPTO --active ...)")
            unsimulated = [s.crypto for s in active if s.crypto not in SIM_SYMBOL]
            if unsimulated:
                raise WorldError(f"crypto {unsimulated[0]} has no simulated exchange market here ({', '.join(SIM_SYMBOL)} only)")
            names = sorted({s.exchange for s in active})
            unknown = [n for n in names if n not in VENUES]
            if unknown:
                raise WorldError(f"exchange {unknown[0]!r} is not a simulator venue ({', '.join(VENUES)})")
            market = SimCore(seed=sim_seed, venues=names, symbol="ETHUSDT")
            for _ in range(SIM_WARMUP_STEPS):
                market.step()
            exchanges = {}
            for n in names:
                ex = exchanges[n] = make_exchange(b, n, market, n, clock)
                for asset, amount in funds:
                    fund_exchange(b, ex, asset, amount)
            mid = exchanges[names[0]].price()
            if mid is not None:  # the broker's fixed price source follows the simulated market
                b.prices.set("ETH", mid.quantize(Decimal("0.01")))
            return cls(b, workers, store, market, exchanges)
        except BaseException:
            b.db.dispose()
            raise

    def advance(self, interval_s: float) -> None:
        """Between two rounds: the books move on, a block is mined (deposits confirm), the
        broker's workers run once."""
        for _ in range(min(int(interval_s * ROUND_STEPS_PER_S), ROUND_STEPS_MAX)):
            self.market.step()
        self.broker.chain.sim.mine(1)
        self.workers.tick()

    def close(self) -> None:
        self.broker.db.dispose()
