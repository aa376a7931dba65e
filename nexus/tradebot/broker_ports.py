"""The Tradebot's ports over the broker: `BrokerHotWallet` (ledger + chain wallet) and
`BrokerInternalPrice` (broker pricing), reading the broker's own database and chain.

What is read where (every number is read live, nothing is copied):

- confirmed balance, total balance, delayed send, confirmed reserve: `treasury.balances` (the
  ledger's `hot_wallet` and `outgoing` accounts, Sells in Confirming/Blocked, and the chain
  balances of the hot wallet and the deposit addresses), adjusted for incoming transfers to the
  hot wallet that are mined but not yet booked (below);
- open withdraws: hot-wallet sends broadcast but not mined (the broker's `chain_sends` in state
  `signed`, and the Tradebot's own sends in `tradebot_chain_sends` not yet mined);
- missing deposits: transfers to the hot wallet address seen on chain (e.g. an exchange
  withdrawal) with fewer than the broker's `confirmations`, or that could not be booked.

Tradebot sends (hot wallet -> exchange) are signed with the broker's hot-wallet key (held by
its `Chain`), stored (`tradebot_chain_sends`, with the raw transaction) and booked in the ledger
(`hot_wallet` -> `exchange`) in one database transaction *before* the broadcast, as the broker's
own sender does; the gas is booked (`hot_wallet` -> `network_fees`) when mined. Incoming
transfers to the hot wallet address (customers pay their deposit addresses, never this one)
are found by scanning the chain from a cursor and booked `exchange` -> `hot_wallet` once they
have the broker's number of confirmations.

Not modelled: the fiat side of exchange trades in the ledger (the ledger has no exchange fiat
account); trades are booked on the crypto side only (`exchange` <-> `trade`, `book_trade`).
"""

from __future__ import annotations

import logging
import threading
import time
from decimal import Decimal

import sqlalchemy as sa

from nexus.broker import ledger, treasury
from nexus.broker import schema as S
from nexus.broker.errors import BrokerError
from nexus.broker.ledger import Posting
from nexus.broker.pricing import PriceUnavailable
from nexus.broker.units import CRYPTOS, EUR
from nexus.tradebot.errors import UpstreamError
from nexus.tradebot.ports import HotWalletView

log = logging.getLogger("nexus.tradebot.broker")

ZERO = Decimal(0)
SCAN_BATCH_BLOCKS = 200
CURSOR = "tradebot_hot_wallet_in"

metadata = sa.MetaData()

# The Tradebot's own sends from the hot wallet (the broker's chain_sends belong to transactions).
tradebot_chain_sends = sa.Table(
    "tradebot_chain_sends",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("crypto", sa.String(10), nullable=False),
    sa.Column("to_address", sa.String(42), nullable=False),
    sa.Column("amount", sa.String(80), nullable=False),  # integer smallest units, as text
    sa.Column("nonce", sa.BigInteger, nullable=False),
    sa.Column("tx_hash", sa.String(66), nullable=False, unique=True),
    sa.Column("raw_tx", sa.Text, nullable=False),  # public once broadcast; no secret
    sa.Column("state", sa.String(12), nullable=False),  # signed | mined | failed
    sa.Column("block_number", sa.BigInteger),
    sa.Column("created_at_us", sa.BigInteger, nullable=False),
)

# Transfers seen arriving at the hot wallet address, booked once confirmed.
tradebot_incoming = sa.Table(
    "tradebot_incoming",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("tx_hash", sa.String(66), nullable=False),
    sa.Column("log_index", sa.Integer, nullable=False),
    sa.Column("crypto", sa.String(10), nullable=False),
    sa.Column("amount", sa.String(80), nullable=False),
    sa.Column("block_number", sa.BigInteger, nullable=False),
    sa.Column("state", sa.String(12), nullable=False),  # seen | booked | refused
    sa.Column("note", sa.String(200)),
    sa.UniqueConstraint("tx_hash", "log_index", name="uq_tradebot_incoming"),
)

tradebot_cursor = sa.Table(
    "tradebot_cursor",
    metadata,
    sa.Column("name", sa.String(40), primary_key=True),
    sa.Column("block", sa.BigInteger, nullable=False),
)


def units_to_dec(units: int, crypto: str) -> Decimal:
    return Decimal(int(units)).scaleb(-CRYPTOS[crypto].decimals)


def dec_to_units(amount: Decimal, crypto: str) -> int:
    """Exact: an amount with more decimals than the crypto has is refused, never rounded."""
    scaled = amount.scaleb(CRYPTOS[crypto].decimals)
    if scaled != scaled.to_integral_value():
        raise UpstreamError(f"{amount} has more than {CRYPTOS[crypto].decimals} decimals for {crypto}")
    return int(scaled)


def book_trade(broker, crypto: str, side: str, amount: Decimal, ref: str) -> None:
    """Book an exchange fill on the crypto side: a buy adds to the `exchange` reserve, a sell
    takes from it (`trade` is the other side)."""
    units = dec_to_units(amount, crypto)
    sign = 1 if side == "buy" else -1
    broker.db.run(lambda conn: ledger.post(
        conn, [Posting("exchange", crypto, sign * units), Posting("trade", crypto, -sign * units)],
        memo=f"tradebot {side} {amount} {crypto} on the exchange ({ref})", at_us=broker.now_us(),
        for_update=broker.db.is_postgres))


def book_exchange_opening(broker, crypto: str, amount: Decimal) -> None:
    """Book a reserve the broker already holds on the exchange (opening balance, `equity`)."""
    units = dec_to_units(amount, crypto)
    broker.db.run(lambda conn: ledger.post(
        conn, [Posting("exchange", crypto, units), Posting("equity", crypto, -units)],
        memo=f"opening exchange reserve {crypto}", at_us=broker.now_us(), for_update=broker.db.is_postgres))


class BrokerHotWallet:
    """`ports.HotWallet` over the broker's ledger and chain wallet."""

    def __init__(self, broker) -> None:
        self.b = broker
        metadata.create_all(broker.db.pool)
        self._lock = threading.Lock()
        self._init_cursor()

    # -- cursor / scanning ---------------------------------------------------------------

    def _init_cursor(self) -> None:
        head = self.b.chain.head()

        def init(conn):
            if conn.execute(sa.select(tradebot_cursor.c.block).where(tradebot_cursor.c.name == CURSOR)).first() is None:
                conn.execute(tradebot_cursor.insert().values(name=CURSOR, block=head))

        self.b.db.run(init, retry_integrity=True)

    def _scan(self) -> None:
        c = tradebot_cursor.c
        with self.b.db.read() as conn:
            cursor = conn.execute(sa.select(c.block).where(c.name == CURSOR)).scalar()
        head = self.b.chain.head()
        while cursor < head:
            to = min(head, cursor + SCAN_BATCH_BLOCKS)
            found = self.b.chain.transfers_to({self.b.chain.hot_address}, cursor + 1, to)

            def record(conn, found=found, to=to):
                i = tradebot_incoming.c
                for t in found:
                    if conn.execute(sa.select(i.id).where(i.tx_hash == t.tx_hash, i.log_index == t.log_index)).first():
                        continue
                    conn.execute(tradebot_incoming.insert().values(
                        tx_hash=t.tx_hash, log_index=t.log_index, crypto=t.crypto, amount=str(t.amount),
                        block_number=t.block, state="seen"))
                conn.execute(tradebot_cursor.update().where(c.name == CURSOR).values(block=to))

            self.b.db.run(record)
            cursor = to

    def _book_confirmed(self, head: int) -> None:
        i = tradebot_incoming.c
        need = self.b.settings.confirmations
        with self.b.db.read() as conn:
            rows = conn.execute(sa.select(tradebot_incoming).where(i.state == "seen")).mappings().all()
        for r in rows:
            if head - r["block_number"] + 1 < need:
                continue

            def book(conn, r=r):
                ledger.post(conn, [Posting("exchange", r["crypto"], -int(r["amount"])),
                                   Posting("hot_wallet", r["crypto"], int(r["amount"]))],
                            memo=f"tradebot: exchange withdrawal {r['tx_hash']} arrived in the hot wallet",
                            at_us=self.b.now_us(), for_update=self.b.db.is_postgres)
                conn.execute(tradebot_incoming.update().where(i.id == r["id"]).values(state="booked"))

            try:
                self.b.db.run(book)
            except BrokerError as e:  # e.g. the ledger's exchange reserve would go negative
                log.error("incoming transfer %s to the hot wallet cannot be booked: %s", r["tx_hash"], e)
                self.b.db.run(lambda conn, r=r, e=e: conn.execute(
                    tradebot_incoming.update().where(i.id == r["id"]).values(state="refused", note=str(e)[:200])))

    def _settle_sends(self) -> None:
        s = tradebot_chain_sends.c
        with self.b.db.read() as conn:
            rows = conn.execute(sa.select(tradebot_chain_sends).where(s.state == "signed")).mappings().all()
        for r in rows:
            rcpt = self.b.chain.receipt(r["tx_hash"])
            if rcpt is None:
                self.b.chain.broadcast(r["raw_tx"])  # again: a node treats a duplicate as known
                continue

            def mined(conn, r=r, rcpt=rcpt):
                cur = conn.execute(sa.select(s.state).where(s.id == r["id"])).scalar()
                if cur != "signed":
                    return
                lines = [Posting("hot_wallet", "ETH", -rcpt.gas_cost_wei), Posting("network_fees", "ETH", rcpt.gas_cost_wei)]
                if not rcpt.ok:  # reverted: the crypto never left; undo the booking
                    amount = int(r["amount"])
                    lines += [Posting("exchange", r["crypto"], -amount), Posting("hot_wallet", r["crypto"], amount)]
                ledger.post(conn, lines, memo=f"tradebot send {r['tx_hash']} {'mined' if rcpt.ok else 'failed'}",
                            at_us=self.b.now_us(), for_update=self.b.db.is_postgres)
                conn.execute(tradebot_chain_sends.update().where(s.id == r["id"]).values(
                    state="mined" if rcpt.ok else "failed", block_number=rcpt.block))

            self.b.db.run(mined)

    def settle(self) -> None:
        """Bring the Tradebot's chain book-keeping up to date (called by `view` and `send`)."""
        with self._lock:
            self._settle_sends()
            self._scan()
            self._book_confirmed(self.b.chain.head())

    # -- ports.HotWallet -----------------------------------------------------------------

    def view(self, crypto: str) -> HotWalletView:
        if crypto not in CRYPTOS or not self.b.chain.supports(crypto):
            raise UpstreamError(f"the broker has no {crypto} hot wallet")
        self.settle()
        bal = treasury.balances(self.b, crypto)
        i, s, cs = tradebot_incoming.c, tradebot_chain_sends.c, S.chain_sends.c
        with self.b.db.read() as conn:
            unbooked = [int(r.amount) for r in conn.execute(
                sa.select(i.amount).where(i.crypto == crypto, i.state.in_(("seen", "refused"))))]
            open_ours = conn.execute(sa.select(sa.func.count()).select_from(tradebot_chain_sends)
                                     .where(s.crypto == crypto, s.state == "signed")).scalar()
            open_broker = conn.execute(sa.select(sa.func.count()).select_from(S.chain_sends)
                                       .where(cs.crypto == crypto, cs.state == "signed")).scalar()
        incoming = units_to_dec(sum(unbooked), crypto)
        return HotWalletView(
            decimals=CRYPTOS[crypto].decimals,
            confirmed_balance=Decimal(bal["hotwallet_confirmed_balance"]),
            total_balance=Decimal(bal["hotwallet_total_balance"]) + incoming,
            # the chain already holds the mined, not yet confirmed incoming transfers
            confirmed_reserve=Decimal(bal["hotwallet_confirmed_reserve"]) - incoming,
            delayed_send=Decimal(bal["delayed_send"]),
            open_withdraws=bool(open_ours or open_broker),
            missing_deposits=bool(unbooked),
        )

    def deposit_address(self, crypto: str) -> str:
        return self.b.chain.hot_address

    def send(self, crypto: str, address: str, amount: Decimal) -> str:
        units = dec_to_units(amount, crypto)
        if units <= 0:
            raise UpstreamError(f"cannot send {amount} {crypto}")
        chain = self.b.chain
        # The nonce is taken inside the database write transaction, as the broker's sender does
        # (database first, then chain: the same lock order), so on SQLite the two never race.
        with self._lock:
            def sign_and_book(conn):
                max_nonce = conn.execute(sa.select(sa.func.max(S.chain_sends.c.nonce))).scalar()
                ours = conn.execute(sa.select(sa.func.max(tradebot_chain_sends.c.nonce))).scalar()
                nonce = max([chain.pending_nonce()] + [n + 1 for n in (max_nonce, ours) if n is not None])
                raw, tx_hash = chain.sign_send(crypto, address, units, nonce)
                ledger.post(conn, [Posting("hot_wallet", crypto, -units), Posting("exchange", crypto, units)],
                            memo=f"tradebot: transfer {amount} {crypto} hot wallet -> exchange {address} ({tx_hash})",
                            at_us=self.b.now_us(), for_update=self.b.db.is_postgres)
                conn.execute(tradebot_chain_sends.insert().values(
                    crypto=crypto, to_address=address, amount=str(units), nonce=nonce, tx_hash=tx_hash, raw_tx=raw,
                    state="signed", created_at_us=self.b.now_us()))
                return raw, tx_hash

            try:
                raw, tx_hash = self.b.db.run(sign_and_book)
            except BrokerError as e:
                raise UpstreamError(f"the hot wallet cannot send {amount} {crypto}: {e}") from None
            chain.broadcast(raw)
        self.settle()
        return tx_hash


class BrokerInternalPrice:
    """`ports.InternalPrice` over the broker's price source (the mid, in the broker's fiat)."""

    def __init__(self, broker) -> None:
        self.b = broker

    def internal_price(self, crypto: str, currency: str) -> Decimal | None:
        if currency != EUR.code:  # the broker prices in EUR only
            return None
        try:
            mid, _at = self.b.prices.mid(crypto)
        except PriceUnavailable:
            return None
        return mid


def wait_mined(chain, tx_hash: str, timeout_s: float = 30.0):
    """The receipt of `tx_hash` (the in-process chain mines at once; a node may take a while)."""
    deadline = time.monotonic() + timeout_s
    while True:
        r = chain.receipt(tx_hash)
        if r is not None or time.monotonic() > deadline:
            return r
        time.sleep(0.2)
