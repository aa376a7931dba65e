"""Deposits and confirmations: scan new blocks for transfers to watched addresses, attach each
to the Sell or Merchant transaction waiting for it (or open a Sell in Confirming for a
spontaneous deposit), count confirmations, and move Confirming/Blocked to ToPayout, or
Confirming to Blocked when confirmations are overdue.

Pricing on reception: inside the quote window the quoted price holds; after it, and when a
Blocked transaction finally confirms, the price is updated only if the market moved against
the broker (the lower of quoted and current sell price)."""

from __future__ import annotations

import logging
import threading
from decimal import Decimal

import sqlalchemy as sa

from nexus.broker import pricing, states, transitions
from nexus.broker import schema as S
from nexus.broker.chain import Transfer
from nexus.broker.errors import BrokerError, Conflict
from nexus.broker.orders import payment_method
from nexus.broker.units import CURRENCIES

log = logging.getLogger("nexus.broker.deposits")
CURSOR = "deposits"
DEFAULT_SPONTANEOUS_METHOD = "sepa"

_D, _T = S.deposit_addresses.c, S.transactions.c


class DepositWatcher:
    def __init__(self, broker) -> None:
        self.b = broker
        self._addresses: set[str] = set()
        self._address_count = -1
        self._lock = threading.Lock()

    def _watch_set(self) -> set[str]:
        with self.b.db.read() as conn:
            n = conn.execute(sa.select(sa.func.count()).select_from(S.deposit_addresses)).scalar()
            if n != self._address_count:
                self._addresses = {r.address for r in conn.execute(sa.select(_D.address))}
                self._address_count = n
        return self._addresses

    def _cursor(self) -> int:
        with self.b.db.read() as conn:
            v = conn.execute(sa.select(S.chain_cursor.c.block).where(S.chain_cursor.c.name == CURSOR)).scalar()
        if v is not None:
            return v
        return self.init_cursor()

    def init_cursor(self) -> int:
        start = self.b.chain.head()  # first start: watch from here on

        def init(conn):
            if conn.execute(sa.select(S.chain_cursor.c.block).where(S.chain_cursor.c.name == CURSOR)).first() is None:
                conn.execute(S.chain_cursor.insert().values(name=CURSOR, block=start))

        self.b.db.run(init, retry_integrity=True)
        with self.b.db.read() as conn:
            return conn.execute(sa.select(S.chain_cursor.c.block).where(S.chain_cursor.c.name == CURSOR)).scalar()

    def tick(self) -> int:
        with self._lock:
            return self.scan() + self.confirm()

    # -- new deposits ---------------------------------------------------------------------

    def scan(self) -> int:
        cursor = self._cursor()
        head = self.b.chain.head()
        if head <= cursor:
            return 0
        to = min(head, cursor + self.b.settings.scan_batch_blocks)
        transfers = self.b.chain.transfers_to(self._watch_set(), cursor + 1, to)
        for t in transfers:
            self.b.db.run(lambda conn, t=t: self._record(conn, t), retry_integrity=True)

        def advance(conn):
            conn.execute(S.chain_cursor.update().where(S.chain_cursor.c.name == CURSOR, S.chain_cursor.c.block < to).values(block=to))

        self.b.db.run(advance)
        return len(transfers)

    def _record(self, conn, t: Transfer) -> None:
        dc = S.deposits.c
        if conn.execute(sa.select(dc.id).where(dc.tx_hash == t.tx_hash, dc.log_index == t.log_index)).first():
            return  # seen before (a rescan after a restart)
        now = self.b.now_us()
        dep_id = conn.execute(
            S.deposits.insert().values(
                tx_hash=t.tx_hash, log_index=t.log_index, crypto=t.crypto, address=t.to, amount=t.amount,
                block_number=t.block, state="unassigned", detected_at_us=now,
            )
        ).inserted_primary_key[0]
        try:
            with conn.begin_nested():
                tx_id, note = self._assign(conn, t, dep_id)
        except BrokerError as e:
            tx_id, note = None, f"refused: {e}"[:200]
        conn.execute(
            S.deposits.update().where(dc.id == dep_id).values(
                transaction_id=tx_id, state="assigned" if tx_id else "unassigned", note=note
            )
        )
        if tx_id is None:
            log.warning("deposit %s:%s of %s %s to %s left for an operator: %s", t.tx_hash, t.log_index, t.amount, t.crypto, t.to, note)

    def _assign(self, conn, t: Transfer, dep_id: int) -> tuple[int | None, str | None]:
        da = conn.execute(sa.select(S.deposit_addresses).where(_D.address == t.to)).mappings().first()
        if da is None:
            return None, "address not watched"
        acc = conn.execute(
            sa.select(S.accounts, S.customers.c.merchant).select_from(S.accounts.join(S.customers, S.customers.c.id == S.accounts.c.customer_id))
            .where(S.accounts.c.id == da["account_id"])
        ).mappings().first()
        if t.crypto != acc["crypto"]:
            return None, f"{t.crypto} sent to a {acc['crypto']} account"
        if not acc["active"]:
            return None, "account inactive"
        if da["transaction_id"] is not None:  # a Merchant transaction's own address
            tx = transitions.load(conn, self.b, tx_id=da["transaction_id"])
            if tx["status"] != states.SELL_INITIATED:
                return None, f"merchant transaction {tx['code']} is {tx['status']}, not waiting for crypto"
            self._fire_deposit(conn, tx, t, dep_id)
            return tx["id"], None
        waiting = conn.execute(
            sa.select(_T.id).where(_T.account_id == acc["id"], _T.kind == states.SELL, _T.status == states.SELL_INITIATED, _T.crypto == t.crypto)
            .order_by(_T.id).limit(1)
        ).scalar()
        if waiting is not None:
            tx = transitions.load(conn, self.b, tx_id=waiting)
            self._fire_deposit(conn, tx, t, dep_id)
            return tx["id"], None
        if acc["merchant"]:
            return None, "merchants accept crypto only for a Merchant transaction"
        # spontaneous: a Sell in Confirming, priced at reception
        pm = payment_method(conn, DEFAULT_SPONTANEOUS_METHOD)
        crypto, fiat = CURRENCIES[t.crypto], CURRENCIES[pm.fiat]
        mid, _ = self.b.prices.mid(t.crypto)
        q = pricing.quote_sell(pricing.sell_price(mid), pm, crypto, fiat, t.amount)
        tx = transitions.create(
            conn, self.b, states.SELL, "deposit", states.SYSTEM, "system:chain",
            {
                "account_id": acc["id"], "customer_id": acc["customer_id"], "crypto": crypto.code, "fiat": fiat.code,
                "payment_method": pm.code, "price": str(q.price), "fee": q.fee, "fiat_amount": q.fiat_amount,
                "crypto_amount": q.crypto_amount, "quote_expires_at_us": None, "deposit_address": t.to,
                "callback_url": pm.callback_url or acc["callback_url"], "deposit_id": dep_id,
            },
        )
        return tx["id"], "spontaneous deposit: new Sell"

    def _fire_deposit(self, conn, tx: dict, t: Transfer, dep_id: int) -> None:
        pm = payment_method(conn, tx["payment_method"])
        price = Decimal(tx["price"])
        if tx["quote_expires_at_us"] is not None and self.b.now_us() > tx["quote_expires_at_us"]:
            price = self._against_broker(tx, price)
        q = pricing.quote_sell(price, pm, CURRENCIES[tx["crypto"]], CURRENCIES[tx["fiat"]], t.amount)
        transitions.fire(
            conn, self.b, tx, "deposit", states.SYSTEM, "system:chain",
            {"deposit_id": dep_id, "crypto_amount": t.amount, "price": str(q.price), "fee": q.fee, "fiat_amount": q.fiat_amount},
        )

    def _against_broker(self, tx: dict, quoted: Decimal) -> Decimal:
        mid, _ = self.b.prices.mid(tx["crypto"])
        return min(quoted, pricing.sell_price(mid))

    # -- confirmations --------------------------------------------------------------------

    def confirm(self) -> int:
        head = self.b.chain.head()
        dc = S.deposits.c
        with self.b.db.read() as conn:
            rows = conn.execute(
                sa.select(_T.id, _T.status, _T.status_since_us, dc.block_number)
                .select_from(S.transactions.join(S.deposits, dc.id == _T.deposit_id))
                .where(_T.status.in_((states.CONFIRMING, states.BLOCKED)), _T.kind.in_((states.SELL, states.MERCHANT)))
            ).all()
        n = 0
        overdue_us = self.b.settings.confirm_block_after_s * 1_000_000
        for r in rows:
            conf = head - r.block_number + 1
            if conf >= self.b.settings.confirmations:
                n += self._try(r.id, lambda conn, tx, c=conf: self._confirmed(conn, tx, c))
            elif r.status == states.CONFIRMING and self.b.now_us() >= r.status_since_us + overdue_us:
                n += self._try(r.id, lambda conn, tx: transitions.fire(conn, self.b, tx, "stalled", states.SYSTEM, "system:timer"))
        return n

    def _confirmed(self, conn, tx: dict, conf: int) -> None:
        data = {"confirmations": conf}
        if tx["status"] == states.BLOCKED:  # re-priced if the market moved against the broker
            pm = payment_method(conn, tx["payment_method"])
            price = self._against_broker(tx, Decimal(tx["price"]))
            q = pricing.quote_sell(price, pm, CURRENCIES[tx["crypto"]], CURRENCIES[tx["fiat"]], tx["crypto_amount"])
            data.update(price=str(q.price), fee=q.fee, fiat_amount=q.fiat_amount)
        tx = transitions.fire(conn, self.b, tx, "confirmed", states.SYSTEM, "system:chain", data)
        limit = self.b.settings.payout_hold_above
        if limit is not None and tx["fiat_amount"] > limit:
            transitions.fire(conn, self.b, tx, "hold", states.SYSTEM, "system:limits")

    def _try(self, tx_id: int, fn) -> int:
        def work(conn):
            tx = transitions.load(conn, self.b, tx_id=tx_id)
            fn(conn, tx)

        try:
            self.b.db.run(work)
            return 1
        except Conflict:
            return 0  # raced with an operator or the API; the next tick sees the new state
