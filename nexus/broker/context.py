"""The broker's runtime context: settings, storage, clock, prices, chain, deposit-address
deriver and the secrets (API key, operator keys, callback secret), which live in memory only."""

from __future__ import annotations

import hmac
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from nexus.broker.chain import Chain
from nexus.broker.clock import Clock
from nexus.broker.db import Database
from nexus.broker.hdwallet import DepositAddressDeriver
from nexus.broker.pricing import PriceSource
from nexus.broker.units import FIAT_CENTS_MAX, SEND_UNITS_MIN


@dataclass
class Settings:
    confirmations: int = 3  # a deposit is confirmed at this many blocks (its own block counts)
    buy_timeout_s: int = 30 * 60  # BuyInitiated without a payment signal -> BuyCancelled
    sell_timeout_s: int = 30 * 60  # SellInitiated without crypto -> SellCancelled
    confirm_block_after_s: int = 2 * 60 * 60  # Confirming this long -> Blocked
    four_eyes_threshold: int = 1_000_00  # payouts at or above (fiat units) need two operators
    payout_hold_above: int | None = None  # payouts above this (fiat units) go on hold
    max_fiat: int = FIAT_CENTS_MAX  # one transaction's limit (fiat units)
    callback_backoff_base_s: float = 1.0
    callback_backoff_cap_s: float = 300.0
    callback_timeout_s: float = 5.0
    callback_workers: int = 8
    poll_interval_s: float = 0.05  # scheduler and delivery loops, in real seconds
    scan_batch_blocks: int = 200
    allow_private_callbacks: bool = False  # callback URLs on loopback/private networks (tests, one host)
    send_min: dict[str, int] = field(default_factory=lambda: dict(SEND_UNITS_MIN))  # smallest Buy/Gift per crypto (units)
    send_lost_after_s: float = 30.0  # real seconds a signed send may stay unknown to the chain

    def __post_init__(self) -> None:
        assert self.confirmations >= 1
        assert self.callback_backoff_cap_s >= self.callback_backoff_base_s > 0
        assert self.buy_timeout_s > 0 and self.sell_timeout_s > 0 and self.confirm_block_after_s > 0
        assert all(v >= 1 for v in self.send_min.values()) and self.send_lost_after_s > 0


class Secrets:
    """Keys the broker checks against; never printed (repr is redacted), never stored."""

    def __init__(self, api_key: str, operators: dict[str, str], callback_secret: str) -> None:
        if not api_key:
            raise ValueError("an API key is required")
        if not callback_secret:
            raise ValueError("a callback secret is required")
        keys = list(operators.values())
        if len(set(keys)) != len(keys) or api_key in keys:
            raise ValueError("operator keys must be distinct from each other and from the API key")
        self._api_key = api_key.encode()
        self._operators = {name: k.encode() for name, k in operators.items()}
        self.callback_secret = callback_secret.encode()

    def __repr__(self) -> str:
        return f"Secrets(operators={sorted(self._operators)}, keys=<redacted>)"

    def check_api_key(self, presented: str | None) -> bool:
        return presented is not None and hmac.compare_digest(presented.encode(), self._api_key)

    def operator_for(self, presented: str | None) -> str | None:
        if presented is None:
            return None
        found = None
        for name, key in self._operators.items():  # constant work whichever key matches
            if hmac.compare_digest(presented.encode(), key):
                found = name
        return found


@dataclass
class Broker:
    db: Database
    clock: Clock
    prices: PriceSource
    chain: Chain
    deriver: DepositAddressDeriver
    secrets: Secrets
    settings: Settings = field(default_factory=Settings)
    wakeups: list[threading.Event] = field(default_factory=list)  # one per worker loop
    workers_alive: Callable[[], bool] | None = None  # set by the running Workers (GET /ready)

    def now_us(self) -> int:
        return self.clock.now_us()

    def wake(self) -> None:
        for e in self.wakeups:
            e.set()
