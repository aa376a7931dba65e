"""`SimExchange`: a simulated exchange account for the Tradebot (`ports.Exchange`).

What it models, and nothing more:

- **Balances per asset** (the broker's account on the exchange), `Decimal`, held in memory.
  Nothing is ever locked: a market order fills at once, so there are no open orders.
- **Market orders filled against a real order book**: the venue simulator's current book of the
  configured venue (`book_source.book(venue)`, e.g. `nexus.sim.SimCore` / `Simulator`), walking
  the levels best first (asks for a buy, bids for a sell). The book's prices are in its quote
  currency; `fx` converts them into the pair's currency (fiat per quote unit, default 1). The
  notional is rounded to the currency's cents against the account (a buy's cost up, a sell's
  proceeds down); a fee of `fee_rate` of the notional is charged in the currency, rounded up.
  An order larger than the book's depth, or beyond the available balance, is refused whole.
  The simulator's book is not changed by our fills (the simulator has no order entry).
- **Price**: the book's mid (× `fx`); None when a side of the book is empty.
- **Deposits** detected on the chain: transfers to the account's deposit address (a fresh key,
  in memory), credited once they have `confirmations` blocks; a transfer seen but not yet
  credited is a missing exchange deposit.
- **Withdrawals** as real chain transfers signed by the exchange's own key; open until mined.

The exchange's on-chain wallet is funded with gas (and tokens) by the in-process chain's faucet
(`chain.sim`), so it can only run on `--chain sim`.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from eth_account import Account

from nexus.broker.chain import Chain
from nexus.broker.chainsim import ETHER
from nexus.tradebot.errors import UpstreamError
from nexus.tradebot.ports import Clock, ExchangeView

ZERO = Decimal(0)
CENT = Decimal("0.01")
DEFAULT_FEE_RATE = Decimal("0.001")
DEFAULT_CONFIRMATIONS = 2
DECIMALS = {"ETH": 18, "USDT": 6}
GAS_FUNDING_WEI = 100 * ETHER


class ExchangeRejected(UpstreamError):
    """The simulated exchange refused an order or a withdrawal."""


class SimExchange:
    def __init__(
        self,
        name: str,
        chain: Chain,
        book_source,
        venue: str,
        clock: Clock,
        *,
        fx: Decimal = Decimal(1),
        fee_rate: Decimal = DEFAULT_FEE_RATE,
        confirmations: int = DEFAULT_CONFIRMATIONS,
        on_fill: Callable[[str, str, Decimal, str], None] | None = None,
    ) -> None:
        if chain.sim is None:
            raise ExchangeRejected("SimExchange needs the in-process chain (--chain sim) to fund its wallet")
        self.name, self.venue, self.clock = name, venue, clock
        self.book_source = book_source
        self.fx, self.fee_rate, self.confirmations = Decimal(fx), Decimal(fee_rate), confirmations
        self.on_fill = on_fill  # (crypto, side, amount, order id): e.g. ledger booking
        self.balances: dict[str, Decimal] = {}
        self.orders: list[dict] = []
        self.withdrawals: dict[str, dict] = {}
        self.last_order_finished_s: float | None = None
        self._lock = threading.RLock()
        self._ids = itertools.count(1)
        account = Account.create()  # the exchange's hot wallet key: in memory only
        self.chain = Chain(chain.w3, account, chain.token_address, name=f"{name}-wallet")
        self.chain._lock = chain._lock  # one lock for the one in-process EVM
        self.address = account.address
        self._faucet = chain.sim
        self._faucet.fund(self.address, GAS_FUNDING_WEI, 0)
        self._cursor = chain.head()
        self._seen: dict[tuple[str, int], tuple[str, int, int]] = {}  # (tx, log) -> (crypto, units, block)
        self._credited: set[tuple[str, int]] = set()

    # -- setup ----------------------------------------------------------------------------

    def fund(self, asset: str, amount: Decimal) -> None:
        """Credit the account (and, for a crypto, put the coins in the exchange's wallet)."""
        amount = Decimal(amount)
        with self._lock:
            if asset in DECIMALS and amount > 0:
                units = int(amount.scaleb(DECIMALS[asset]))
                self._faucet.fund(self.address, units if asset == "ETH" else 0, units if asset == "USDT" else 0)
            self.balances[asset] = self.balances.get(asset, ZERO) + amount

    # -- chain ----------------------------------------------------------------------------

    def _scan(self) -> None:
        head = self.chain.head()
        if head > self._cursor:
            for t in self.chain.transfers_to({self.address}, self._cursor + 1, head):
                self._seen.setdefault((t.tx_hash, t.log_index), (t.crypto, t.amount, t.block))
            self._cursor = head
        for key, (crypto, units, block) in self._seen.items():
            if key not in self._credited and head - block + 1 >= self.confirmations:
                self._credited.add(key)
                self.balances[crypto] = self.balances.get(crypto, ZERO) + Decimal(units).scaleb(-DECIMALS[crypto])

    def _pending_deposits(self, crypto: str) -> bool:
        return any(k not in self._credited and v[0] == crypto for k, v in self._seen.items())

    def _open_withdraws(self, crypto: str) -> bool:
        for w in self.withdrawals.values():
            if w["crypto"] == crypto and w["state"] == "sent":
                r = self.chain.receipt(w["tx_hash"])
                if r is None:
                    continue  # still open
                w["state"] = "done" if r.ok else "failed"
                if not r.ok:  # reverted: the crypto stays on the exchange
                    self.balances[crypto] += w["amount"]
        return any(w["crypto"] == crypto and w["state"] == "sent" for w in self.withdrawals.values())

    # -- the book -------------------------------------------------------------------------

    def _book(self) -> tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:
        b = self.book_source.book(self.venue)
        conv = lambda side: [(Decimal(str(p)) * self.fx, Decimal(str(q))) for p, q in b[side] if Decimal(str(q)) > 0]  # noqa: E731
        return conv("bids"), conv("asks")

    def price(self) -> Decimal | None:
        bids, asks = self._book()
        if not bids or not asks:
            return None
        return (bids[0][0] + asks[0][0]) / 2

    @staticmethod
    def walk(levels: list[tuple[Decimal, Decimal]], amount: Decimal) -> tuple[Decimal, list[tuple[Decimal, Decimal]]]:
        """Fill `amount` against `levels` best first: (notional, [(price, qty) filled])."""
        left, notional, fills = amount, ZERO, []
        for price, qty in levels:
            if left <= 0:
                break
            take = min(left, qty)
            fills.append((price, take))
            notional += price * take
            left -= take
        if left > 0:
            raise ExchangeRejected(f"the book is too thin: {amount} wanted, {amount - left} available")
        return notional, fills

    # -- ports.Exchange -------------------------------------------------------------------

    def view(self, crypto: str, currency: str) -> ExchangeView:
        with self._lock:
            self._scan()
            open_withdraws = self._open_withdraws(crypto)
            c, f = self.balances.get(crypto, ZERO), self.balances.get(currency, ZERO)
            return ExchangeView(
                price=self.price(),
                crypto_total=c,
                crypto_available=c,
                currency_total=f,
                currency_available=f,
                open_orders=False,
                open_withdraws=open_withdraws,
                last_order_finished_s=self.last_order_finished_s,
                missing_deposits=self._pending_deposits(crypto),
            )

    def deposit_address(self, crypto: str) -> str:
        return self.address

    def market_order(self, crypto: str, currency: str, side: str, amount: Decimal) -> str:
        if side not in ("buy", "sell") or not amount > 0:
            raise ExchangeRejected(f"bad order: {side} {amount}")
        with self._lock:
            bids, asks = self._book()
            notional, fills = self.walk(asks if side == "buy" else bids, amount)
            fee = (notional * self.fee_rate).quantize(CENT, ROUND_CEILING)
            c, f = self.balances.get(crypto, ZERO), self.balances.get(currency, ZERO)
            if side == "buy":
                cost = notional.quantize(CENT, ROUND_CEILING) + fee
                if cost > f:
                    raise ExchangeRejected(f"buy {amount} {crypto} costs {cost} {currency}; available {f}")
                self.balances[crypto], self.balances[currency] = c + amount, f - cost
                settled = -cost
            else:
                if amount > c:
                    raise ExchangeRejected(f"sell {amount} {crypto}: available {c}")
                proceeds = notional.quantize(CENT, ROUND_FLOOR) - fee
                self.balances[crypto], self.balances[currency] = c - amount, f + proceeds
                settled = proceeds
            oid = f"{self.name}-order-{next(self._ids)}"
            self.last_order_finished_s = self.clock.now()
            self.orders.append({"id": oid, "side": side, "crypto": crypto, "currency": currency, "amount": amount,
                                "notional": notional, "fee": fee, "settled": settled, "fills": fills,
                                "avg_price": notional / amount})
        if self.on_fill is not None:
            self.on_fill(crypto, side, amount, oid)
        return oid

    def withdraw(self, crypto: str, address: str, amount: Decimal) -> str:
        if crypto not in DECIMALS or not amount > 0:
            raise ExchangeRejected(f"bad withdrawal: {amount} {crypto}")
        units = amount.scaleb(DECIMALS[crypto])
        if units != units.to_integral_value():
            raise ExchangeRejected(f"{amount} has more than {DECIMALS[crypto]} decimals")
        with self._lock:
            available = self.balances.get(crypto, ZERO)
            if amount > available:
                raise ExchangeRejected(f"withdraw {amount} {crypto}: available {available}")
            raw, tx_hash = self.chain.sign_send(crypto, address, int(units), self.chain.pending_nonce())
            self.chain.broadcast(raw)
            self.balances[crypto] = available - amount
            wid = f"{self.name}-withdrawal-{next(self._ids)}"
            self.withdrawals[wid] = {"crypto": crypto, "amount": amount, "tx_hash": tx_hash, "state": "sent", "to": address}
        return wid
