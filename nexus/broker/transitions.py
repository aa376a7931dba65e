"""Apply a transition: the table check (`states.transition`), the guards, the effects, then
the status, the history row, the postings and the callback outbox row, all in the caller's
database transaction. This is the only code that writes `transactions.status`."""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from nexus.broker import effects, ledger, states, views
from nexus.broker import schema as S
from nexus.broker.errors import Conflict, NotFound
from nexus.broker.guards import GUARDS, Step

_T, _A, _C = S.transactions, S.accounts, S.customers

TX_COLUMNS = [
    *_T.c,
    _A.c.code.label("account_code"),
    _A.c.withdraw_address,
    _A.c.active.label("account_active"),
    _C.c.code.label("customer_code"),
]
_TX_FROM = _T.join(_A, _A.c.id == _T.c.account_id).join(_C, _C.c.id == _T.c.customer_id)

CODE_PREFIX = {states.BUY: "BUY", states.SELL: "SEL", states.MERCHANT: "MER", states.GIFT: "GIF"}


def new_code(kind: str) -> str:
    return f"{CODE_PREFIX[kind]}-{secrets.token_hex(8).upper()}"


def select_tx():
    return sa.select(*TX_COLUMNS).select_from(_TX_FROM)


def load(conn: Connection, broker, *, code: str | None = None, tx_id: int | None = None, lock: bool = True) -> dict:
    q = select_tx().where(_T.c.code == code if code is not None else _T.c.id == tx_id)
    if lock and broker.db.is_postgres:
        q = q.with_for_update(of=_T)
    row = conn.execute(q).mappings().first()
    if row is None:
        raise NotFound(f"no transaction {code or tx_id}", code="unknown_transaction")
    return dict(row)


def _check(step: Step) -> None:
    for name in step.tr.guards:
        GUARDS[name](step)


def _record(conn: Connection, broker, tx: dict, step: Step, previous: str | None, outcome: effects.Outcome) -> int:
    """History row, postings and callback for a step already applied to `tx`."""
    hid = conn.execute(
        S.status_history.insert().values(
            transaction_id=tx["id"], seq=tx["seq"], from_status=previous, status=tx["status"],
            event=step.tr.event, actor=step.actor, by=step.by, at_us=step.now_us,
        )
    ).inserted_primary_key[0]
    ledger.post(
        conn, outcome.postings, memo=f"{tx['code']} {step.tr.event}: {previous or '-'} -> {tx['status']}",
        at_us=step.now_us, transaction_id=tx["id"], history_id=hid, for_update=broker.db.is_postgres,
    )
    if tx["callback_url"]:
        conn.execute(
            S.callbacks.insert().values(
                transaction_id=tx["id"], history_id=hid, url=tx["callback_url"],
                body=views.callback_body(tx, tx["seq"], previous, tx["status"], step.now_us),
                state="pending", attempts=0, next_attempt_us=step.now_us, created_at_us=step.now_us,
            )
        )
    return hid


def fire(conn: Connection, broker, tx: dict, event: str, actor: str, by: str, data: dict | None = None) -> dict:
    """Apply `event` to the (locked) transaction `tx`; returns the updated transaction."""
    tr = states.transition(tx["kind"], tx["status"], event, actor)
    now = broker.now_us()
    step = Step(broker, conn, tx, tr, actor, by, now, data or {})
    _check(step)
    outcome = effects.run(step, tx["kind"])
    values = {**outcome.changes, "status": tr.dst, "status_since_us": now, "seq": tx["seq"] + 1}
    res = conn.execute(
        _T.update().where(_T.c.id == tx["id"], _T.c.seq == tx["seq"], _T.c.status == tx["status"]).values(**values)
    )
    if res.rowcount != 1:
        raise Conflict(f"transaction {tx['code']} changed concurrently; retry", code="concurrent_update")
    previous = tx["status"]
    new = {**tx, **values}
    _record(conn, broker, new, step, previous, outcome)
    return new


def create(conn: Connection, broker, kind: str, event: str, actor: str, by: str, values: dict, data: dict | None = None) -> dict:
    """Create a transaction in the status the table gives for (None, event)."""
    tr = states.transition(kind, None, event, actor)
    now = broker.now_us()
    row = {
        "code": new_code(kind), "kind": kind, "status": tr.dst, "paid": False, "locked": False, "booked": False,
        "seq": 1, "created_at_us": now, "status_since_us": now, **values,
    }
    row["id"] = conn.execute(_T.insert().values(**row)).inserted_primary_key[0]
    tx = load(conn, broker, tx_id=row["id"], lock=False)
    step = Step(broker, conn, tx, tr, actor, by, now, data or {})
    _check(step)
    outcome = effects.run(step, kind)
    if outcome.changes:
        conn.execute(_T.update().where(_T.c.id == tx["id"]).values(**outcome.changes))
        tx.update(outcome.changes)
    _record(conn, broker, tx, step, None, outcome)
    return tx


def history(conn: Connection, tx_id: int) -> list[dict]:
    h = S.status_history.c
    return [dict(r) for r in conn.execute(sa.select(S.status_history).where(h.transaction_id == tx_id).order_by(h.seq)).mappings()]
