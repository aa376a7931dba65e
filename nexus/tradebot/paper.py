"""A runnable paper world for the Tradebot: a hot wallet, exchanges and a chain between them.

It implements the ports (`HotWallet`, `Exchange`, `InternalPrice`) with in-memory `Decimal`
balances, so the scheduler can run end to end here (`nexus tradebot run --paper`) and in tests.
It is a simulation, not the broker: the broker ledger, its chain wallet and the venue simulator
replace it once they land (see `ports`).

What it models, after the seed's definitions:
- The hot wallet's administrative balance (confirmed, plus incoming unconfirmed), its measured
  reserve, and the delayed send: a customer buy lowers the balance at once and the reserve only
  when the crypto is actually sent (`send_delay_s` later).
- A chain (`PaperChain`) carrying transfers with a confirmation delay (`confirm_s`): while one is
  in flight to the hot wallet it counts in the total balance and as a missing hot-wallet deposit;
  while one is in flight to an exchange it is a missing exchange deposit.
- Exchanges filling market orders at once at their price, with a fee in the currency, and
  refusing orders and withdrawals beyond the available balance.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_UP, Decimal

from nexus.tradebot.errors import UpstreamError
from nexus.tradebot.ports import Clock, ExchangeView, HotWalletView

ZERO = Decimal(0)
CURRENCY_DECIMALS = 2  # paper fees are rounded up to the cent
DEFAULT_FEE_RATE = Decimal("0.001")


class PaperRejected(UpstreamError):
    """The paper exchange or wallet refused an operation (e.g. insufficient balance)."""


@dataclass
class _Transfer:
    ref: str
    crypto: str
    src: str
    dst: str
    amount: Decimal
    due_s: float


class PaperChain:
    """Transfers between paper addresses, each confirmed `confirm_s` after it is sent."""

    def __init__(self, clock: Clock, confirm_s: float = 0.0) -> None:
        self.clock = clock
        self.confirm_s = confirm_s
        self.lock = threading.RLock()  # one lock for the whole paper world
        self._receivers: dict[str, Callable[[str, Decimal], None]] = {}
        self._pending: list[_Transfer] = []
        self._ids = itertools.count(1)

    def register(self, address: str, receive: Callable[[str, Decimal], None]) -> None:
        self._receivers[address] = receive

    def transfer(self, crypto: str, src: str, dst: str, amount: Decimal) -> str:
        with self.lock:
            if dst not in self._receivers:
                raise PaperRejected(f"unknown address {dst!r}")
            ref = f"paper-tx-{next(self._ids)}"
            self._pending.append(_Transfer(ref, crypto, src, dst, amount, self.clock.now() + self.confirm_s))
            self.settle()
            return ref

    def settle(self) -> None:
        """Deliver every transfer whose confirmation time has come."""
        with self.lock:
            now = self.clock.now()
            due = [t for t in self._pending if t.due_s <= now]
            self._pending = [t for t in self._pending if t.due_s > now]
            for t in due:
                self._receivers[t.dst](t.crypto, t.amount)

    def pending(self, crypto: str, dst: str | None = None, src: str | None = None) -> Decimal:
        with self.lock:
            return sum(
                (t.amount for t in self._pending
                 if t.crypto == crypto and dst in (None, t.dst) and src in (None, t.src)),
                ZERO,
            )

    def has_pending(self, crypto: str, dst: str | None = None, src: str | None = None) -> bool:
        with self.lock:
            return any(t.crypto == crypto and dst in (None, t.dst) and src in (None, t.src) for t in self._pending)


@dataclass
class _Holding:
    decimals: int
    confirmed: Decimal  # administrative, confirmed
    unconfirmed_in: Decimal  # customer sells seen but not yet confirmed
    reserve: Decimal  # "measured" on the chain
    delayed: Decimal  # customer buys finished, crypto not yet sent


class PaperHotWallet:
    """Implements `ports.HotWallet` and `ports.InternalPrice`."""

    def __init__(self, chain: PaperChain, send_delay_s: float = 0.0) -> None:
        self.chain = chain
        self.clock = chain.clock
        self.send_delay_s = send_delay_s
        self._holdings: dict[str, _Holding] = {}
        self._prices: dict[tuple[str, str], Decimal] = {}
        self._sends: list[tuple[float, str, Decimal]] = []  # customer deliveries due
        self._sells_due: list[tuple[float, str, Decimal]] = []  # customer sells to confirm

    def add_crypto(self, crypto: str, decimals: int, balance: Decimal) -> None:
        with self.chain.lock:
            self._holdings[crypto] = _Holding(decimals, balance, ZERO, balance, ZERO)
            self.chain.register(self.deposit_address(crypto), self._receive)

    def set_internal_price(self, crypto: str, currency: str, price: Decimal | None) -> None:
        with self.chain.lock:
            if price is None:
                self._prices.pop((crypto, currency), None)
            else:
                self._prices[(crypto, currency)] = price

    # customer flow (what the broker's buy and sell transactions do to the hot wallet)

    def customer_buy(self, crypto: str, amount: Decimal) -> None:
        """A buy finished: the balance drops now; the reserve when the crypto is sent."""
        with self.chain.lock:
            h = self._holdings[crypto]
            h.confirmed -= amount
            h.delayed += amount
            self._sends.append((self.clock.now() + self.send_delay_s, crypto, amount))
            self._settle()

    def customer_sell(self, crypto: str, amount: Decimal) -> None:
        """A sell's crypto arrived unconfirmed; it is confirmed after the chain's delay."""
        with self.chain.lock:
            self._holdings[crypto].unconfirmed_in += amount
            self._sells_due.append((self.clock.now() + self.chain.confirm_s, crypto, amount))
            self._settle()

    def _settle(self) -> None:
        now = self.clock.now()
        self.chain.settle()
        for queue, apply in ((self._sends, self._delivered), (self._sells_due, self._sell_confirmed)):
            due = [e for e in queue if e[0] <= now]
            queue[:] = [e for e in queue if e[0] > now]
            for _, crypto, amount in due:
                apply(self._holdings[crypto], amount)

    @staticmethod
    def _delivered(h: _Holding, amount: Decimal) -> None:
        h.delayed -= amount
        h.reserve -= amount

    @staticmethod
    def _sell_confirmed(h: _Holding, amount: Decimal) -> None:
        h.unconfirmed_in -= amount
        h.confirmed += amount
        h.reserve += amount

    def _receive(self, crypto: str, amount: Decimal) -> None:
        h = self._holdings[crypto]
        h.confirmed += amount
        h.reserve += amount

    # ports.HotWallet

    def view(self, crypto: str) -> HotWalletView:
        with self.chain.lock:
            self._settle()
            h = self._holdings[crypto]
            incoming = self.chain.pending(crypto, dst=self.deposit_address(crypto))
            return HotWalletView(
                decimals=h.decimals,
                confirmed_balance=h.confirmed,
                total_balance=h.confirmed + h.unconfirmed_in + incoming,
                confirmed_reserve=h.reserve,
                delayed_send=h.delayed,
                open_withdraws=False,  # a paper send is final once broadcast
                missing_deposits=incoming > 0,
            )

    def deposit_address(self, crypto: str) -> str:
        return f"paper:hotwallet:{crypto}"

    def send(self, crypto: str, address: str, amount: Decimal) -> str:
        with self.chain.lock:
            self._settle()
            h = self._holdings[crypto]
            if amount <= 0 or amount > h.reserve or amount > h.confirmed:
                raise PaperRejected(f"hot wallet cannot send {amount} {crypto} (reserve {h.reserve}, balance {h.confirmed})")
            h.confirmed -= amount
            h.reserve -= amount
            return self.chain.transfer(crypto, self.deposit_address(crypto), address, amount)

    # ports.InternalPrice

    def internal_price(self, crypto: str, currency: str) -> Decimal | None:
        with self.chain.lock:
            return self._prices.get((crypto, currency))


class PaperExchange:
    """Implements `ports.Exchange`: immediate market fills at the set price, fee in currency."""

    def __init__(self, name: str, chain: PaperChain, fee_rate: Decimal = DEFAULT_FEE_RATE) -> None:
        self.name = name
        self.chain = chain
        self.clock = chain.clock
        self.fee_rate = fee_rate
        self.crypto: dict[str, Decimal] = {}
        self.currency: dict[str, Decimal] = {}
        self.prices: dict[tuple[str, str], Decimal | None] = {}
        self.last_order_finished_s: float | None = None
        self.orders: list[dict[str, str]] = []
        self._ids = itertools.count(1)

    def add_market(self, crypto: str, currency: str, price: Decimal | None,
                   crypto_balance: Decimal = ZERO, currency_balance: Decimal = ZERO) -> None:
        with self.chain.lock:
            self.prices[(crypto, currency)] = price
            self.crypto[crypto] = self.crypto.get(crypto, ZERO) + crypto_balance
            self.currency[currency] = self.currency.get(currency, ZERO) + currency_balance
            self.chain.register(self.deposit_address(crypto), self._receive)

    def set_price(self, crypto: str, currency: str, price: Decimal | None) -> None:
        with self.chain.lock:
            self.prices[(crypto, currency)] = price

    def _receive(self, crypto: str, amount: Decimal) -> None:
        self.crypto[crypto] = self.crypto.get(crypto, ZERO) + amount

    def view(self, crypto: str, currency: str) -> ExchangeView:
        with self.chain.lock:
            self.chain.settle()
            c, f = self.crypto.get(crypto, ZERO), self.currency.get(currency, ZERO)
            return ExchangeView(
                price=self.prices.get((crypto, currency)),
                crypto_total=c,
                crypto_available=c,  # nothing is locked: paper orders fill at once
                currency_total=f,
                currency_available=f,
                open_orders=False,
                open_withdraws=False,
                last_order_finished_s=self.last_order_finished_s,
                missing_deposits=self.chain.has_pending(crypto, dst=self.deposit_address(crypto)),
            )

    def deposit_address(self, crypto: str) -> str:
        return f"paper:{self.name}:{crypto}"

    def market_order(self, crypto: str, currency: str, side: str, amount: Decimal) -> str:
        with self.chain.lock:
            price = self.prices.get((crypto, currency))
            if price is None or price <= 0:
                raise PaperRejected(f"{self.name}: no price for {crypto}/{currency}")
            if amount <= 0:
                raise PaperRejected(f"{self.name}: order amount must be positive, got {amount}")
            notional = amount * price
            fee = (notional * self.fee_rate).quantize(Decimal(1).scaleb(-CURRENCY_DECIMALS), rounding=ROUND_UP)
            have_c, have_f = self.crypto.get(crypto, ZERO), self.currency.get(currency, ZERO)
            if side == "buy":
                if notional + fee > have_f:
                    raise PaperRejected(f"{self.name}: buying {amount} {crypto} needs {notional + fee} {currency}, has {have_f}")
                self.crypto[crypto] = have_c + amount
                self.currency[currency] = have_f - notional - fee
            elif side == "sell":
                if amount > have_c:
                    raise PaperRejected(f"{self.name}: selling {amount} {crypto}, has {have_c}")
                if notional - fee < 0:
                    raise PaperRejected(f"{self.name}: the fee exceeds the proceeds")
                self.crypto[crypto] = have_c - amount
                self.currency[currency] = have_f + notional - fee
            else:
                raise PaperRejected(f"{self.name}: unknown side {side!r}")
            order_id = f"paper-order-{next(self._ids)}"
            self.orders.append({"id": order_id, "side": side, "crypto": crypto, "amount": str(amount), "price": str(price)})
            self.last_order_finished_s = self.clock.now()
            return order_id

    def withdraw(self, crypto: str, address: str, amount: Decimal) -> str:
        with self.chain.lock:
            have = self.crypto.get(crypto, ZERO)
            if amount <= 0 or amount > have:
                raise PaperRejected(f"{self.name}: cannot withdraw {amount} {crypto}, has {have}")
            self.crypto[crypto] = have - amount
            return self.chain.transfer(crypto, self.deposit_address(crypto), address, amount)


def paper_world(world: dict, settings: list, clock: Clock) -> tuple[PaperHotWallet, dict[str, PaperExchange]]:
    """Build a paper hot wallet and exchanges from a world description and the settings.

        {"confirm_s": 0, "send_delay_s": 0, "fee_rate": "0.001",
         "cryptos": {"BTC": {"decimals": 8, "price": "37123.45", "internal_price": "37100",
                             "hotwallet": "0.5", "exchange_crypto": "0"}},
         "exchanges": {"kraken": {"EUR": "50000"}}}

    Each crypto trades on the exchange and currency of its settings; `internal_price` defaults
    to `price`; `exchanges` gives each exchange's currency balances.
    """
    from nexus.tradebot.snapshot import parse_decimal

    def num(v: object, path: str) -> Decimal:
        return parse_decimal(v, path)

    chain = PaperChain(clock, confirm_s=float(world.get("confirm_s", 0)))
    wallet = PaperHotWallet(chain, send_delay_s=float(world.get("send_delay_s", 0)))
    fee = num(world.get("fee_rate", str(DEFAULT_FEE_RATE)), "fee_rate")
    exchanges: dict[str, PaperExchange] = {}
    for name, balances in world.get("exchanges", {}).items():
        ex = exchanges[name] = PaperExchange(name, chain, fee)
        for currency, amount in balances.items():
            ex.currency[currency] = num(amount, f"exchanges.{name}.{currency}")
    cryptos = world.get("cryptos", {})
    for s in settings:
        c = cryptos.get(s.crypto)
        if c is None:
            raise PaperRejected(f"the paper world has no crypto {s.crypto!r} (it has: {', '.join(sorted(cryptos))})")
        price = None if c.get("price") is None else num(c["price"], f"cryptos.{s.crypto}.price")
        internal = c.get("internal_price", c.get("price"))
        wallet.add_crypto(s.crypto, int(c.get("decimals", 8)), num(c.get("hotwallet", "0"), f"cryptos.{s.crypto}.hotwallet"))
        wallet.set_internal_price(s.crypto, s.currency, None if internal is None else num(internal, f"cryptos.{s.crypto}.internal_price"))
        ex = exchanges.get(s.exchange)
        if ex is None or s.currency not in ex.currency:
            has = ", ".join(sorted(exchanges)) if ex is None else f"{s.exchange} holds {', '.join(sorted(ex.currency))}"
            raise PaperRejected(f"{s.crypto} trades {s.currency} on {s.exchange}, which the paper world does not have "
                                f"({has or 'no exchanges'}); add it to \"exchanges\"")
        ex.add_market(s.crypto, s.currency, price, num(c.get("exchange_crypto", "0"), f"cryptos.{s.crypto}.exchange_crypto"))
    return wallet, exchanges


def customer_flow(wallet: PaperHotWallet, settings: list, rng) -> None:  # rng: random.Random
    """One round of random customer activity per crypto: a buy or a sell of up to 10 % of the
    target (converted at the internal price), in whole smallest units."""
    for s in settings:
        view = wallet.view(s.crypto)
        price = wallet.internal_price(s.crypto, s.currency)
        if price is None or price <= 0:
            continue
        unit = Decimal(1).scaleb(-view.decimals)
        top = int(s.balance_target / price / 10 / unit)
        amount = Decimal(rng.randint(0, max(top, 0))) * unit
        if amount <= 0:
            continue
        if rng.random() < 0.5 and amount <= view.confirmed_balance:
            wallet.customer_buy(s.crypto, amount)
        else:
            wallet.customer_sell(s.crypto, amount)
