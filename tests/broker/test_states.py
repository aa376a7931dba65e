"""Every legal and every illegal transition, generated from the tables.

Pure: `states.transition()` accepts exactly the table's (status, event, actor) triples.
Through the database: for every row, a real transaction is driven to the row's from-status
along legal steps, the event is fired, and it lands in the row's to-status with its effects
booked; for every status, every other (event, actor) is refused and writes nothing. The
audit then finds the database clean."""

from __future__ import annotations

import itertools
from collections import deque

import pytest
import sqlalchemy as sa

from nexus.broker import customers, orders, states, transitions
from nexus.broker import schema as S
from nexus.broker.audit import audit
from nexus.broker.errors import IllegalTransition
from nexus.broker.states import TABLES

from broker_helpers import WITHDRAW

EXTRA_EVENTS = ("create", "deposit", "nonsense")


# -- pure ---------------------------------------------------------------------------------


def _triples():
    for kind, table in TABLES.items():
        statuses = (None, *states.STATUSES[kind])
        events = tuple(dict.fromkeys((*states.ALL_EVENTS, *EXTRA_EVENTS)))
        for s, e, a in itertools.product(statuses, events, states.ACTORS):
            yield kind, s, e, a


def test_transition_accepts_exactly_the_table():
    legal = {(k, t.src, t.event, a): t.dst for k, tbl in TABLES.items() for t in tbl for a in t.actors}
    checked = 0
    for kind, s, e, a in _triples():
        key = (kind, s, e, a)
        if key in legal:
            assert states.transition(kind, s, e, a).dst == legal[key]
        else:
            with pytest.raises(IllegalTransition) as exc:
                states.transition(kind, s, e, a)
            assert e in str(exc.value) and kind in str(exc.value)
        checked += 1
    assert checked > 1000 and len(legal) > 60


def test_tables_are_consistent():
    for kind, table in TABLES.items():
        assert states.INITIAL[kind], kind
        reachable, todo = set(), deque(t.dst for t in table if t.src is None)
        while todo:
            s = todo.popleft()
            if s in reachable:
                continue
            reachable.add(s)
            todo.extend(t.dst for t in table if t.src == s)
        assert reachable == set(states.STATUSES[kind]), f"{kind}: unreachable {set(states.STATUSES[kind]) - reachable}"
        for t in table:
            assert all(g in __import__("nexus.broker.guards", fromlist=["GUARDS"]).GUARDS for g in t.guards)
    assert "BuyIncasso" in states.STATUSES["buy"]  # the product's spelling
    assert not any(t.src is None and t.event == "deposit" for t in TABLES["merchant"])


def test_unknown_kind_refused():
    with pytest.raises(IllegalTransition):
        states.transition("loan", None, "create", states.INTEGRATOR)


# -- through the database -----------------------------------------------------------------


def _paths(kind: str, max_len: int = 7):
    """Every legal path from creation (as lists of table rows), shortest first."""
    table = TABLES[kind]
    todo = deque([t] for t in table if t.src is None)
    while todo:
        path = todo.popleft()
        yield path
        if len(path) < max_len:
            last = path[-1].dst
            for t in table:
                if t.src == last and sum(1 for p in path if p.dst == t.dst) < 2:
                    todo.append(path + [t])


def _path_to(kind: str, status: str, row=None):
    """A path ending in `status` along which `row`'s guards can hold."""
    for path in _paths(kind):
        if path[-1].dst != status:
            continue
        events = [p.event for p in path]
        if row is not None:
            if "paid" in row.guards and "payment" not in events:
                continue
            if "not_paid" in row.guards and "payment" in events:
                continue
        if kind == "sell" and path[0].event == "deposit" and row is not None and row.src is None:
            continue
        return path
    raise AssertionError(f"no path to {kind} {status}")


class Driver:
    def __init__(self, b) -> None:
        self.b = b
        self.n = 0

    def _account(self, merchant: bool) -> str:
        self.n += 1

        def work(conn):
            customers.create_customer(conn, self.b, f"cust{self.n}", "Test", f"t{self.n}@example.org", merchant)
            return customers.create_account(conn, self.b, f"cust{self.n}", "ETH", WITHDRAW)["account_code"]

        return self.b.db.run(work)

    def create_kind(self, kind: str, row) -> str:
        acc = self._account(merchant=(kind == "merchant"))
        req = {"account_code": acc, "payment_method": "sepa", "callback_url": None}
        b = self.b
        if kind == "buy":
            out = b.db.run(lambda c: orders.buy(c, b, {**req, "fiat_amount": "100.00"}, simulate=False))
        elif kind == "sell" and row.event == "create":
            out = b.db.run(lambda c: orders.sell(c, b, {**req, "crypto_amount": "0.01"}, simulate=False))
        elif kind == "sell":  # (None, deposit): a spontaneous deposit opens a Sell in Confirming

            def spontaneous(c):
                a = customers.get_account_row(c, acc)
                tx = transitions.create(c, b, "sell", "deposit", states.SYSTEM, "system:chain", {
                    "account_id": a["id"], "customer_id": a["customer_id"], "crypto": "ETH", "fiat": "EUR",
                    "payment_method": "sepa", "price": "1990", "fee": 20, "fiat_amount": 1970,
                    "crypto_amount": 10**16, "quote_expires_at_us": None, "deposit_address": a["deposit_address"],
                    "callback_url": None,
                })
                return {"transaction_code": tx["code"]}

            out = b.db.run(spontaneous)
        elif kind == "merchant":
            out = b.db.run(lambda c: orders.merchant(c, b, {**req, "fiat_amount": "20.00"}))
        else:
            out = b.db.run(lambda c: orders.gift(c, b, {"account_code": acc, "crypto_amount": "0.001"}, "alice"))
        return out["transaction_code"]

    def fire(self, code: str, row, actor: str, by: str | None = None):
        b = self.b
        if "account_inactive" in row.guards:
            b.db.run(lambda c: c.execute(
                S.accounts.update().where(S.accounts.c.id == transitions.load(c, b, code=code, lock=False)["account_id"]).values(active=False)
            ))
        if "confirmation_overdue" in row.guards:
            b.clock.advance(b.settings.confirm_block_after_s + 1)
        data = {"confirmations": b.settings.confirmations} if "enough_confirmations" in row.guards else {}
        if by is None:
            by = "bob" if row.src == "PayoutConfirming" and row.event == "approve" else ("alice" if actor == states.OPERATOR else actor)

        def work(c):
            tx = transitions.load(c, b, code=code)
            return transitions.fire(c, b, tx, row.event, actor, by, data)

        return b.db.run(work)

    def drive(self, kind: str, path) -> str:
        code = self.create_kind(kind, path[0])
        for row in path[1:]:
            self.fire(code, row, sorted(row.actors)[0])
        return code


def _snapshot(b, code: str):
    with b.db.read() as c:
        tx = transitions.load(c, b, code=code, lock=False)
        n_hist = c.execute(sa.select(sa.func.count()).select_from(S.status_history).where(S.status_history.c.transaction_id == tx["id"])).scalar()
        n_journal = c.execute(sa.select(sa.func.count()).select_from(S.journal)).scalar()
        n_cb = c.execute(sa.select(sa.func.count()).select_from(S.chain_sends)).scalar()
    return tx["status"], tx["seq"], n_hist, n_journal, n_cb


@pytest.mark.parametrize("kind", states.KINDS)
def test_every_legal_transition(broker, kind):
    b, _rt = broker
    d = Driver(b)
    done = 0
    for row in TABLES[kind]:
        for actor in sorted(row.actors):
            if row.src is None:
                code = d.create_kind(kind, row)
            else:
                path = _path_to(kind, row.src, row)
                code = d.drive(kind, path)
                tx = d.fire(code, row, actor)
                assert tx["status"] == row.dst, (row, actor)
            with b.db.read() as c:
                tx = transitions.load(c, b, code=code, lock=False)
                hist = transitions.history(c, tx["id"])
            assert tx["status"] == row.dst and hist[-1]["event"] == row.event and hist[-1]["actor"] == actor, (row, actor)
            done += 1
    assert done >= len(TABLES[kind])
    assert audit(b.db) == []


@pytest.mark.parametrize("kind", states.KINDS)
def test_every_illegal_transition_is_refused_and_writes_nothing(broker, kind):
    b, _rt = broker
    d = Driver(b)
    refused = 0
    events = tuple(dict.fromkeys((*states.ALL_EVENTS, *EXTRA_EVENTS)))
    rows = {(t.src, t.event): t for t in TABLES[kind]}
    for status in states.STATUSES[kind]:
        code = d.drive(kind, _path_to(kind, status))
        before = _snapshot(b, code)
        for event in events:
            for actor in states.ACTORS:
                row = rows.get((status, event))
                if row is not None and actor in row.actors:
                    continue  # legal: covered by test_every_legal_transition

                def attempt(c, event=event, actor=actor):
                    tx = transitions.load(c, b, code=code)
                    transitions.fire(c, b, tx, event, actor, "alice" if actor == states.OPERATOR else actor)

                with pytest.raises(IllegalTransition):
                    b.db.run(attempt)
                refused += 1
        assert _snapshot(b, code) == before, f"{kind} {status}: a refused transition wrote something"
    assert refused > 50
    assert audit(b.db) == []
