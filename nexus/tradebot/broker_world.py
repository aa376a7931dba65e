"""Wiring the Tradebot to a broker (its database, ledger, chain and pricing) and to simulated
exchanges over the venue simulator's books: used by `nexus tradebot run --broker` and the tests.
"""

from __future__ import annotations

from decimal import Decimal

from nexus.tradebot.broker_ports import BrokerHotWallet, BrokerInternalPrice, book_exchange_opening, book_trade
from nexus.tradebot.ports import Clock
from nexus.tradebot.sim_exchange import SimExchange

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
