"""`nexus broker audit`: the ledger and the state machines checked from the database alone.

Invariants: the schema is migrated; every journal entry balances per currency; the postings
balance per currency overall; the materialized balances equal the postings; no account breaks
its sign rule; every status history follows its kind's table step by step and ends in the
transaction's status; every status change of a transaction with a callback URL has its
callback in the outbox; money moves only with a status change (or a chain send's receipt).
"""

from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa

from nexus.broker import ledger, states
from nexus.broker import schema as S
from nexus.broker.db import Database, schema_version
from nexus.broker.db import MIGRATIONS

REPORTED_MAX = 1000


def audit(db: Database) -> list[str]:
    v: list[str] = []
    with db.read() as conn:
        insp = sa.inspect(conn)
        if not insp.has_table("schema_migrations"):
            return ["no broker schema in this database (schema_migrations missing)"]
        ver = schema_version(conn)
        if ver != MIGRATIONS[-1][0]:
            v.append(f"schema version {ver}, expected {MIGRATIONS[-1][0]}")
            return v
        _ledger(conn, v)
        _histories(conn, v)
        _callbacks(conn, v)
        _money_with_status(conn, v)
    return v[:REPORTED_MAX] + ([f"... and {len(v) - REPORTED_MAX} more"] if len(v) > REPORTED_MAX else [])


def _ledger(conn, v: list[str]) -> None:
    p = S.postings.c
    per_journal: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    per_account: dict[tuple[str, str], int] = defaultdict(int)
    total: dict[str, int] = defaultdict(int)
    for r in conn.execute(sa.select(p.journal_id, p.account, p.currency, p.amount)).yield_per(5000):
        per_journal[r.journal_id][r.currency] += r.amount
        per_account[(r.account, r.currency)] += r.amount
        total[r.currency] += r.amount
    for jid, sums in sorted(per_journal.items()):
        for cur, s in sorted(sums.items()):
            if s != 0:
                v.append(f"journal entry {jid}: {cur} postings sum to {s}, not 0")
    for cur, s in sorted(total.items()):
        if s != 0:
            v.append(f"ledger: all {cur} postings sum to {s}, not 0")
    stored = ledger.balances(conn)
    for key in sorted(set(stored) | set(per_account)):
        if stored.get(key, 0) != per_account.get(key, 0):
            v.append(f"balance {key[0]}:{key[1]} is {stored.get(key, 0)} but its postings sum to {per_account.get(key, 0)}")
    for (account, cur), bal in sorted(per_account.items()):
        rule = ledger.rule_of(account)
        if rule is None:
            v.append(f"posting to unknown ledger account {account}:{cur}")
        elif ledger.violates(account, bal):
            v.append(f"balance {account}:{cur} = {bal} breaks its rule ({rule})")


def _histories(conn, v: list[str]) -> None:
    t, h = S.transactions.c, S.status_history.c
    txs = {r.id: r for r in conn.execute(sa.select(t.id, t.code, t.kind, t.status, t.seq))}
    steps: dict[int, list] = defaultdict(list)
    for r in conn.execute(sa.select(h.transaction_id, h.seq, h.from_status, h.status, h.event).order_by(h.transaction_id, h.seq)).yield_per(5000):
        steps[r.transaction_id].append(r)
    for tx_id in sorted(set(steps) - set(txs)):
        v.append(f"status history rows for a missing transaction id {tx_id}")
    for tx_id, tx in sorted(txs.items()):
        rows = steps.get(tx_id, [])
        if tx.kind not in states.TABLES:
            v.append(f"{tx.code}: unknown kind {tx.kind!r}")
            continue
        if not rows:
            v.append(f"{tx.code}: no status history")
            continue
        prev = None
        for i, r in enumerate(rows, start=1):
            if r.seq != i:
                v.append(f"{tx.code}: history step {i} has seq {r.seq}")
                break
            if r.from_status != prev:
                v.append(f"{tx.code}: step {i} starts from {r.from_status} but the previous status was {prev}")
            if not states.legal_step(tx.kind, r.from_status, r.event, r.status):
                v.append(f"{tx.code}: step {i} {r.from_status or '(new)'} --{r.event}--> {r.status} is not in the {tx.kind} table")
            prev = r.status
        if prev != tx.status:
            v.append(f"{tx.code}: status is {tx.status} but its history ends in {prev}")
        if tx.seq != len(rows):
            v.append(f"{tx.code}: seq is {tx.seq} but it has {len(rows)} history rows")


def _callbacks(conn, v: list[str]) -> None:
    t, h, c = S.transactions.c, S.status_history.c, S.callbacks.c
    missing = conn.execute(
        sa.select(t.code, h.seq, h.status)
        .select_from(S.status_history.join(S.transactions, t.id == h.transaction_id).outerjoin(S.callbacks, c.history_id == h.id))
        .where(t.callback_url.is_not(None), c.id.is_(None))
        .order_by(t.code, h.seq)
    ).all()
    for r in missing:
        v.append(f"{r.code}: status change {r.seq} ({r.status}) has no callback in the outbox")


def _money_with_status(conn, v: list[str]) -> None:
    j, s = S.journal.c, S.chain_sends.c
    orphans = conn.execute(
        sa.select(j.id, j.transaction_id, j.memo).where(j.transaction_id.is_not(None), j.history_id.is_(None))
        .where(~sa.exists().where(s.transaction_id == j.transaction_id, s.state.in_(("mined", "failed"))))
    ).all()
    for r in orphans:
        v.append(f"journal entry {r.id} ({r.memo}) moves money of transaction {r.transaction_id} without a status change or a mined send")
