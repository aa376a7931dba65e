"""Customers, accounts and deposit addresses."""

from __future__ import annotations

import re
import secrets

import sqlalchemy as sa
from eth_utils import is_address, is_checksum_address, to_checksum_address
from sqlalchemy.engine import Connection

from nexus.broker import callback_urls, states, transitions
from nexus.broker import schema as S
from nexus.broker.clock import iso
from nexus.broker.errors import Conflict, Invalid, NotFound
from nexus.broker.units import crypto as crypto_of

CODE_RE = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
EMAIL_RE = re.compile(r"^[^@\s]{1,100}@[^@\s]{1,100}$")
HD_COUNTER = "hd_index"


def check_text(value: str, field: str, max_length: int = 200) -> str:
    """Free text: printable, encodable as UTF-8 (no lone surrogates), no control characters."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise Invalid(f"{field}: not valid Unicode text", code=f"invalid_{field}") from None
    if not value.strip() or len(value) > max_length or any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise Invalid(f"{field}: 1 to {max_length} printable characters", code=f"invalid_{field}")
    return value.strip()


ZERO_ADDRESS = "0x" + "0" * 40


def check_address(text: str, field: str = "withdraw_address") -> str:
    if not isinstance(text, str) or not is_address(text):
        raise Invalid(f"{field}: {text!r} is not an Ethereum address", code="invalid_address")
    if text.lower() == ZERO_ADDRESS:
        raise Invalid(f"{field}: the zero address {ZERO_ADDRESS} has no owner: crypto sent there is burnt; give the customer's own wallet",
                      code="invalid_address")
    if text != text.lower() and text[2:] != text[2:].upper() and not is_checksum_address(text):
        raise Invalid(f"{field}: {text} has a wrong checksum (mixed case must be EIP-55)", code="invalid_address")
    return to_checksum_address(text)


def customer_view(row) -> dict:
    return {"code": row["code"], "name": row["name"], "email": row["email"], "merchant": bool(row["merchant"]), "created_at": iso(row["created_at_us"])}


def account_view(row, customer_code: str) -> dict:
    cur = crypto_of(row["crypto"])
    return {
        "account_code": row["code"],
        "customer_code": customer_code,
        "crypto": row["crypto"],
        "native": cur.native,
        "deposit_address": row["deposit_address"],
        "withdraw_address": row["withdraw_address"],
        "active": bool(row["active"]),
    }


def create_customer(conn: Connection, broker, code: str, name: str, email: str, merchant: bool) -> dict:
    if not CODE_RE.match(code):
        raise Invalid("code: 1 to 64 letters, digits, '_', '.' or '-'", code="invalid_code")
    name = check_text(name, "name")
    email = check_text(email, "email")
    if not EMAIL_RE.match(email):
        raise Invalid(f"email: {email!r} is not an e-mail address", code="invalid_email")
    c = S.customers.c
    if conn.execute(sa.select(c.id).where(c.code == code)).first():
        raise Conflict(f"customer {code} already exists", code="customer_exists")
    row = {"code": code, "name": name, "email": email, "merchant": bool(merchant), "created_at_us": broker.now_us()}
    conn.execute(S.customers.insert().values(**row))
    return customer_view(row)


def get_customer_row(conn: Connection, code: str):
    row = conn.execute(sa.select(S.customers).where(S.customers.c.code == code)).mappings().first()
    if row is None:
        raise NotFound(f"no customer {code}", code="unknown_customer")
    return row


def next_hd_index(conn: Connection, broker) -> int:
    c = S.counters.c
    q = sa.select(c.value).where(c.name == HD_COUNTER)
    value = conn.execute(broker.db.for_update(q)).scalar_one()
    conn.execute(S.counters.update().where(c.name == HD_COUNTER).values(value=value + 1))
    return value


def new_deposit_address(conn: Connection, broker, account_id: int, transaction_id: int | None = None) -> str:
    index = next_hd_index(conn, broker)
    address = broker.deriver.address(index)
    conn.execute(
        S.deposit_addresses.insert().values(
            address=address, hd_index=index, account_id=account_id, transaction_id=transaction_id, created_at_us=broker.now_us()
        )
    )
    return address


def create_account(conn: Connection, broker, customer_code: str, crypto: str, withdraw_address: str, callback_url: str | None = None) -> dict:
    cust = get_customer_row(conn, customer_code)
    cur = crypto_of(crypto)
    if not broker.chain.supports(cur.code):
        raise Invalid(f"{cur.code} is not available on this chain (no token contract configured)", code="unsupported_crypto")
    withdraw = check_address(withdraw_address)
    callback_urls.check(callback_url, broker.settings.allow_private_callbacks)
    code = f"ACC-{secrets.token_hex(6).upper()}"
    now = broker.now_us()
    # the deposit address row references the account, so the account goes in first
    index = next_hd_index(conn, broker)
    deposit = broker.deriver.address(index)
    row = {
        "code": code, "customer_id": cust["id"], "crypto": cur.code, "withdraw_address": withdraw,
        "deposit_address": deposit, "active": True, "callback_url": callback_url, "created_at_us": now,
    }
    row["id"] = conn.execute(S.accounts.insert().values(**row)).inserted_primary_key[0]
    conn.execute(S.deposit_addresses.insert().values(address=deposit, hd_index=index, account_id=row["id"], created_at_us=now))
    return account_view(row, cust["code"])


def get_account_row(conn: Connection, code: str):
    a, c = S.accounts.c, S.customers.c
    row = conn.execute(
        sa.select(S.accounts, c.code.label("customer_code"), c.merchant.label("customer_merchant"))
        .select_from(S.accounts.join(S.customers, c.id == a.customer_id))
        .where(a.code == code)
    ).mappings().first()
    if row is None:
        raise NotFound(f"no account {code}", code="unknown_account")
    return row


def deactivate_account(conn: Connection, broker, code: str, operator: str) -> dict:
    """Deactivate an account; its transactions that may be deleted are deleted (the seed's
    Deleted status). Transactions past that point (crypto broadcast, payouts due) stay."""
    acc = get_account_row(conn, code)
    conn.execute(S.accounts.update().where(S.accounts.c.id == acc["id"]).values(active=False))
    t = S.transactions.c
    ids = [r.id for r in conn.execute(sa.select(t.id).where(t.account_id == acc["id"]).order_by(t.id))]
    deleted = []
    for tx_id in ids:
        tx = transitions.load(conn, broker, tx_id=tx_id)
        try:
            with conn.begin_nested():  # a refused delete leaves nothing behind
                transitions.fire(conn, broker, tx, "delete", states.OPERATOR, operator)
            deleted.append(tx["code"])
        except Conflict:
            continue
    view = account_view({**acc, "active": False}, acc["customer_code"])
    view["deleted_transactions"] = deleted
    return view
