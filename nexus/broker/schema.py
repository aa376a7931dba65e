"""The broker's one schema (SQLAlchemy Core), for SQLite and PostgreSQL alike.

Amounts are integers in smallest units and can exceed 64 bits (10 ETH is 10**19 wei), so
they are NUMERIC(78, 0) on PostgreSQL and decimal text on SQLite (whose INTEGER is 64-bit
and would silently turn larger values into floats). Times are integer microseconds since
the Unix epoch. Prices are decimal strings.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator

metadata = sa.MetaData()


class Amount(TypeDecorator):
    """An arbitrary-size integer, exact on every backend."""

    impl = sa.String(80)
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "postgresql":
            return dialect.type_descriptor(sa.Numeric(78, 0))
        return dialect.type_descriptor(sa.String(80))

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"amounts are ints, got {type(value).__name__}")
        return value if dialect.name == "postgresql" else str(value)

    def process_result_value(self, value, dialect):
        return None if value is None else int(value)


def _ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.BigInteger, nullable=nullable)


schema_migrations = sa.Table(
    "schema_migrations",
    metadata,
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("name", sa.String(100), nullable=False),
    _ts("applied_at_us"),
)

customers = sa.Table(
    "customers",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("code", sa.String(64), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("email", sa.String(200), nullable=False),
    sa.Column("merchant", sa.Boolean, nullable=False, default=False),
    _ts("created_at_us"),
)

# Counters (HD wallet address indexes).
counters = sa.Table(
    "counters",
    metadata,
    sa.Column("name", sa.String(40), primary_key=True),
    sa.Column("value", sa.BigInteger, nullable=False),
)

accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("code", sa.String(64), nullable=False, unique=True),
    sa.Column("customer_id", sa.Integer, sa.ForeignKey("customers.id"), nullable=False, index=True),
    sa.Column("crypto", sa.String(10), nullable=False),
    sa.Column("withdraw_address", sa.String(42), nullable=False),
    sa.Column("deposit_address", sa.String(42), nullable=False, unique=True),
    sa.Column("active", sa.Boolean, nullable=False, default=True),
    sa.Column("callback_url", sa.String(2000)),
    _ts("created_at_us"),
)

# Every address the broker watches: one per account, one per Merchant transaction.
deposit_addresses = sa.Table(
    "deposit_addresses",
    metadata,
    sa.Column("address", sa.String(42), primary_key=True),
    sa.Column("hd_index", sa.BigInteger, nullable=False, unique=True),
    sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("transaction_id", sa.Integer, nullable=True),
    _ts("created_at_us"),
)

payment_methods = sa.Table(
    "payment_methods",
    metadata,
    sa.Column("code", sa.String(40), primary_key=True),
    sa.Column("fiat", sa.String(10), nullable=False),
    sa.Column("quote_window_s", sa.Integer, nullable=False),
    sa.Column("fee_rate", sa.String(20), nullable=False),  # decimal fraction, e.g. "0.01"
    sa.Column("fee_fixed", Amount, nullable=False),  # fiat smallest units
    sa.Column("callback_url", sa.String(2000)),
)

crypto_settings = sa.Table(
    "crypto_settings",
    metadata,
    sa.Column("crypto", sa.String(10), primary_key=True),
    sa.Column("send_delay_s", sa.Integer, nullable=False),
)

transactions = sa.Table(
    "transactions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("code", sa.String(40), nullable=False, unique=True),
    sa.Column("kind", sa.String(10), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False, index=True),
    sa.Column("customer_id", sa.Integer, sa.ForeignKey("customers.id"), nullable=False, index=True),
    sa.Column("crypto", sa.String(10), nullable=False),
    sa.Column("fiat", sa.String(10), nullable=False),
    sa.Column("payment_method", sa.String(40)),
    sa.Column("price", sa.String(40), nullable=False),
    sa.Column("fee", Amount, nullable=False),  # fiat units
    sa.Column("fiat_amount", Amount, nullable=False),  # fiat units (buy: paid; sell: paid out)
    sa.Column("crypto_amount", Amount, nullable=False),  # crypto units
    sa.Column("quote_expires_at_us", sa.BigInteger),
    sa.Column("callback_url", sa.String(2000)),
    sa.Column("deposit_address", sa.String(42)),  # where the crypto is expected (sell/merchant)
    sa.Column("paid", sa.Boolean, nullable=False, default=False),  # buy: payment signal received
    sa.Column("locked", sa.Boolean, nullable=False, default=False),  # buy: crypto reserved
    sa.Column("booked", sa.Boolean, nullable=False, default=False),  # sell: crypto booked in
    sa.Column("deposit_id", sa.Integer),
    sa.Column("first_approver", sa.String(100)),
    sa.Column("seq", sa.Integer, nullable=False),  # number of history rows
    _ts("created_at_us"),
    _ts("status_since_us"),
    sa.Index("ix_transactions_status_since", "status", "status_since_us"),
)

status_history = sa.Table(
    "status_history",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("transaction_id", sa.Integer, sa.ForeignKey("transactions.id"), nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("from_status", sa.String(20)),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("event", sa.String(20), nullable=False),
    sa.Column("actor", sa.String(20), nullable=False),
    sa.Column("by", sa.String(100), nullable=False),
    _ts("at_us"),
    sa.UniqueConstraint("transaction_id", "seq", name="uq_history_seq"),
)

journal = sa.Table(
    "journal",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("transaction_id", sa.Integer, index=True),
    sa.Column("history_id", sa.Integer),
    sa.Column("memo", sa.String(200), nullable=False),
    _ts("at_us"),
)

postings = sa.Table(
    "postings",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("journal_id", sa.Integer, sa.ForeignKey("journal.id"), nullable=False, index=True),
    sa.Column("account", sa.String(120), nullable=False),
    sa.Column("currency", sa.String(10), nullable=False),
    sa.Column("amount", Amount, nullable=False),  # debit positive, credit negative
)

balances = sa.Table(
    "balances",
    metadata,
    sa.Column("account", sa.String(120), primary_key=True),
    sa.Column("currency", sa.String(10), primary_key=True),
    sa.Column("balance", Amount, nullable=False),
)

callbacks = sa.Table(
    "callbacks",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("transaction_id", sa.Integer, nullable=False, index=True),
    sa.Column("history_id", sa.Integer, nullable=False, unique=True),
    sa.Column("url", sa.String(2000), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("state", sa.String(12), nullable=False),  # pending | delivered
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("next_attempt_us", sa.BigInteger, nullable=False),
    sa.Column("last_error", sa.String(300)),
    _ts("created_at_us"),
    _ts("delivered_at_us", nullable=True),
    sa.Index("ix_callbacks_due", "state", "next_attempt_us"),
)

callback_attempts = sa.Table(
    "callback_attempts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("callback_id", sa.Integer, nullable=False, index=True),
    sa.Column("transaction_id", sa.Integer, nullable=False, index=True),
    sa.Column("attempt", sa.Integer, nullable=False),
    sa.Column("http_status", sa.Integer),
    sa.Column("error", sa.String(300)),
    sa.Column("duration_ms", sa.Integer, nullable=False),
    _ts("at_us"),
)

idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("request_hash", sa.String(64), nullable=False),
    sa.Column("status_code", sa.Integer, nullable=False),
    sa.Column("response", sa.Text, nullable=False),
    _ts("created_at_us"),
)

deposits = sa.Table(
    "deposits",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("tx_hash", sa.String(66), nullable=False),
    sa.Column("log_index", sa.Integer, nullable=False),  # -1 for a native transfer
    sa.Column("crypto", sa.String(10), nullable=False),
    sa.Column("address", sa.String(42), nullable=False),
    sa.Column("amount", Amount, nullable=False),
    sa.Column("block_number", sa.BigInteger, nullable=False),
    sa.Column("transaction_id", sa.Integer),
    sa.Column("state", sa.String(12), nullable=False),  # assigned | unassigned
    sa.Column("note", sa.String(200)),
    _ts("detected_at_us"),
    sa.UniqueConstraint("tx_hash", "log_index", name="uq_deposit"),
)

chain_sends = sa.Table(
    "chain_sends",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("transaction_id", sa.Integer, nullable=False, index=True),
    sa.Column("crypto", sa.String(10), nullable=False),
    sa.Column("to_address", sa.String(42), nullable=False),
    sa.Column("amount", Amount, nullable=False),
    sa.Column("state", sa.String(12), nullable=False),  # queued | signed | mined | failed | cancelled | lost
    sa.Column("nonce", sa.BigInteger, unique=True),  # one hot wallet: a nonce is used once
    sa.Column("tx_hash", sa.String(66)),
    sa.Column("raw_tx", sa.Text),  # the signed transaction: public once broadcast, no secret
    sa.Column("block_number", sa.BigInteger),
    sa.Column("gas_cost_wei", Amount),
    _ts("created_at_us"),
    _ts("updated_at_us"),
    sa.Index("ix_chain_sends_state", "state"),
)

chain_cursor = sa.Table(
    "chain_cursor",
    metadata,
    sa.Column("name", sa.String(40), primary_key=True),
    sa.Column("block", sa.BigInteger, nullable=False),
)
