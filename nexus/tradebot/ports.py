"""The interfaces the scheduler reads balances from and executes actions through.

They are small on purpose, so that each has one obvious real implementation:

| port           | here (runnable now)            | with the broker (integration left)              |
|----------------|--------------------------------|-------------------------------------------------|
| `HotWallet`    | `paper.PaperHotWallet`         | broker ledger (administrative balances, delayed |
|                |                                | send) + its chain wallet (reserve, sends)       |
| `Exchange`     | `paper.PaperExchange`          | the simulator's venue (`nexus sim`) / a venue's |
|                |                                | REST client: balances, price, orders, withdraws |
| `InternalPrice`| `paper.PaperHotWallet` (fixed) | broker pricing                                  |
| `Clock`        | `SystemClock`, `ManualClock`   | —                                               |

Every amount is a `Decimal` in crypto units, except the exchange's currency (fiat) balances.
A port raises an exception (any) when it cannot answer; the scheduler records it as an `error`
run and decides nothing for that crypto this time.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol


@dataclass(frozen=True, slots=True)
class HotWalletView:
    decimals: int  # the crypto's smallest unit is 10^-decimals (8: satoshi, 18: wei)
    confirmed_balance: Decimal  # confirmed administrative (calculated) balance
    total_balance: Decimal  # ... including incoming unconfirmed sells and transfers
    confirmed_reserve: Decimal  # measured on chain ("visible in the portal's traderoom")
    delayed_send: Decimal  # subtracted from the balance, not yet sent from the reserve
    open_withdraws: bool  # sends from the hot wallet not yet final
    missing_deposits: bool  # exchange withdrawals without a completed deposit here


@dataclass(frozen=True, slots=True)
class ExchangeView:
    price: Decimal | None  # the pair's last price (fiat per crypto); None if unknown
    crypto_total: Decimal  # available + locked
    crypto_available: Decimal
    currency_total: Decimal  # fiat of the pair, available + locked
    currency_available: Decimal
    open_orders: bool
    open_withdraws: bool
    last_order_finished_s: float | None  # clock time of the last finished order; None: none
    missing_deposits: bool  # hot wallet sends without a corresponding deposit here


class HotWallet(Protocol):
    def view(self, crypto: str) -> HotWalletView: ...

    def deposit_address(self, crypto: str) -> str: ...

    def send(self, crypto: str, address: str, amount: Decimal) -> str:
        """Send `amount` from the hot wallet to `address`; returns the transaction reference."""
        ...


class Exchange(Protocol):
    def view(self, crypto: str, currency: str) -> ExchangeView: ...

    def deposit_address(self, crypto: str) -> str: ...

    def market_order(self, crypto: str, currency: str, side: str, amount: Decimal) -> str:
        """Buy or sell (`side`) `amount` crypto at market; returns the order id."""
        ...

    def withdraw(self, crypto: str, address: str, amount: Decimal) -> str:
        """Withdraw `amount` crypto to `address`; returns the withdrawal id."""
        ...


class InternalPrice(Protocol):
    def internal_price(self, crypto: str, currency: str) -> Decimal | None: ...


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the Unix epoch."""
        ...

    def sleep(self, seconds: float, stop: threading.Event) -> None:
        """Wait `seconds` or until `stop` is set."""
        ...


class SystemClock:
    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float, stop: threading.Event) -> None:
        stop.wait(max(0.0, seconds))


class ManualClock:
    """A clock that moves only when told: `sleep` advances it at once (tests, `run --fast`)."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._t = start
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._t

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._t += seconds

    def sleep(self, seconds: float, stop: threading.Event) -> None:
        if not stop.is_set():
            self.advance(max(0.0, seconds))
