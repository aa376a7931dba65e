"""Double-entry ledger in integer smallest units.

Every money movement is one journal entry of postings that sum to zero per currency, written
by `post()` inside the caller's database transaction (the one that also changes the status),
and applied to materialized balances under row locks so sign rules are enforced at write time.
Amounts are debit-positive: assets hold positive balances, what the broker owes is negative.

Ledger accounts (NAME:CURRENCY, customers as customer:CODE:CURRENCY):
  hot_wallet     administrative balance of the hot wallet (crypto), >= 0
  outgoing       crypto subtracted from the administrative balance but not yet mined, >= 0
  exchange       reserve held on the exchange, >= 0
  coldstore      reserve held in cold storage, >= 0
  trade          the broker's trading book (crypto sold/bought against fiat), any sign
  fees           fee income, <= 0
  bank           fiat clearing account of the payment methods, any sign
  customer:C     what the broker owes customer C (fiat or crypto), <= 0
  receivable:C   what customer C owes the broker (incasso), >= 0
  gifts          crypto given away, >= 0
  network_fees   gas paid by the hot wallet, >= 0
  equity         opening balances, <= 0
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from nexus.broker import schema as S
from nexus.broker.errors import Conflict
from nexus.broker.units import CURRENCIES, to_str

NONNEG, NONPOS, ANY = "nonneg", "nonpos", "any"

# prefix -> sign rule; the prefix is the account name up to the first ':'.
ACCOUNT_RULES: dict[str, str] = {
    "hot_wallet": NONNEG,
    "outgoing": NONNEG,
    "exchange": NONNEG,
    "coldstore": NONNEG,
    "trade": ANY,
    "fees": NONPOS,
    "bank": ANY,
    "customer": NONPOS,
    "receivable": NONNEG,
    "gifts": NONNEG,
    "network_fees": NONNEG,
    "equity": NONPOS,
}


def rule_of(account: str) -> str | None:
    return ACCOUNT_RULES.get(account.split(":", 1)[0])


def violates(account: str, balance: int) -> bool:
    rule = rule_of(account)
    return (rule == NONNEG and balance < 0) or (rule == NONPOS and balance > 0) or rule is None


def customer_account(customer_code: str) -> str:
    return f"customer:{customer_code}"


def receivable_account(customer_code: str) -> str:
    return f"receivable:{customer_code}"


@dataclass(frozen=True)
class Posting:
    account: str
    currency: str
    amount: int


class LedgerError(Conflict):
    code = "ledger_refused"


def post(
    conn: Connection,
    lines: Iterable[Posting],
    *,
    memo: str,
    at_us: int,
    transaction_id: int | None = None,
    history_id: int | None = None,
    for_update: bool = False,
) -> int | None:
    """Write one balanced journal entry and apply it to the balances. Raises LedgerError (and
    the caller's transaction rolls back) when a balance would break its sign rule."""
    lines = [p for p in lines if p.amount != 0]
    if not lines:
        return None
    totals: dict[str, int] = defaultdict(int)
    for p in lines:
        if not isinstance(p.amount, int) or isinstance(p.amount, bool):
            raise TypeError(f"posting amount must be int, got {p.amount!r}")
        if rule_of(p.account) is None:
            raise ValueError(f"unknown ledger account {p.account!r}")
        totals[p.currency] += p.amount
    unbalanced = {c: t for c, t in totals.items() if t != 0}
    if unbalanced:
        raise ValueError(f"unbalanced journal entry {memo!r}: {unbalanced}")

    jid = conn.execute(
        S.journal.insert().values(transaction_id=transaction_id, history_id=history_id, memo=memo[:200], at_us=at_us)
    ).inserted_primary_key[0]
    conn.execute(
        S.postings.insert(),
        [{"journal_id": jid, "account": p.account, "currency": p.currency, "amount": p.amount} for p in lines],
    )
    deltas: dict[tuple[str, str], int] = defaultdict(int)
    for p in lines:
        deltas[(p.account, p.currency)] += p.amount
    _apply(conn, deltas, for_update=for_update)
    return jid


def _insert_missing(conn: Connection, keys: list[tuple[str, str]]) -> None:
    dialect = conn.dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(S.balances).on_conflict_do_nothing(index_elements=["account", "currency"])
    conn.execute(stmt, [{"account": a, "currency": c, "balance": 0} for a, c in keys])


def _refusal(account: str, currency: str, current: int, delta: int) -> "LedgerError":
    """Why a posting is refused, in the currency's own units (not wei)."""
    cur = CURRENCIES.get(currency)
    amount = (lambda units: f"{to_str(units, cur)} {currency}") if cur else (lambda units: f"{units} units of {currency}")
    if rule_of(account) == NONNEG:
        return LedgerError(f"not enough {currency} in {account.replace('_', ' ')}: {amount(current)} available, {amount(-delta)} needed",
                           code="insufficient_funds")
    return LedgerError(f"the ledger refuses this: {account} ({currency}) would go from {amount(current)} to {amount(current + delta)} "
                       f"(rule: {rule_of(account) or 'unknown account'})", code="ledger_refused")


def _apply(conn: Connection, deltas: dict[tuple[str, str], int], *, for_update: bool) -> None:
    keys = sorted(deltas)  # a fixed lock order: no deadlocks between writers
    _insert_missing(conn, keys)
    b = S.balances.c
    for account, currency in keys:
        q = sa.select(b.balance).where(b.account == account, b.currency == currency)
        if for_update:
            q = q.with_for_update()
        current = conn.execute(q).scalar_one()
        new = current + deltas[(account, currency)]
        if violates(account, new):
            raise _refusal(account, currency, current, deltas[(account, currency)])
        conn.execute(S.balances.update().where(b.account == account, b.currency == currency).values(balance=new))


def balance(conn: Connection, account: str, currency: str) -> int:
    b = S.balances.c
    v = conn.execute(sa.select(b.balance).where(b.account == account, b.currency == currency)).scalar()
    return int(v or 0)


def balances(conn: Connection, prefix: str | None = None) -> dict[tuple[str, str], int]:
    b = S.balances.c
    q = sa.select(b.account, b.currency, b.balance)
    if prefix:
        q = q.where(b.account.like(prefix + "%"))
    return {(r.account, r.currency): int(r.balance) for r in conn.execute(q)}
