"""`nexus broker audit --db URL`: exit 0 on a good database, 1 listing every violation on a
deliberately corrupted one."""

from __future__ import annotations

import json
import subprocess
import sys

import sqlalchemy as sa

from nexus.broker import schema as S

from broker_helpers import customer_and_account


def _audit(url: str, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nexus.cli", "broker", "audit", "--db", url, *extra], capture_output=True, text=True, timeout=120)


def test_audit_good_then_corrupted(api_manual, db_url):
    api = api_manual
    c, op = api.client(), api.operator()
    acc = customer_and_account(c, callback_url="http://127.0.0.1:9/hook")
    b1 = c.post("/buy", json={"account_code": acc["account_code"], "payment_method": "sepa", "fiat_amount": "100.00", "callback_url": "http://127.0.0.1:9/hook"}).json()
    c.post(f"/transactions/{b1['transaction_code']}/payment")
    s1 = c.post("/sell", json={"account_code": acc["account_code"], "payment_method": "sepa", "crypto_amount": "0.2"}).json()
    c.post("/sim/deposit", json={"address": acc["deposit_address"], "crypto": "ETH", "amount": "0.2"})
    c.post("/sim/mine", json={"blocks": 3})
    for _ in range(3):
        api.rt.tick()
    assert c.get(f"/transactions/{b1['transaction_code']}").json()["status"] == "BuyCompleted"
    assert c.get(f"/transactions/{s1['transaction_code']}").json()["status"] == "ToPayout"
    op.post(f"/operator/transactions/{s1['transaction_code']}/approve")

    good = _audit(db_url)
    assert good.returncode == 0, good.stdout + good.stderr
    assert good.stdout.startswith("ok")
    j = _audit(db_url, "--json")
    assert j.returncode == 0 and json.loads(j.stdout) == {"ok": True, "violations": []}

    eng = sa.create_engine(api.b.db.pool.url)
    with eng.begin() as conn:
        p, t, h, bal, cb = S.postings.c, S.transactions.c, S.status_history.c, S.balances.c, S.callbacks.c
        # 1: a posting altered (the entry no longer balances, nor does its balance)
        pid = conn.execute(sa.select(p.id).where(p.account == "fees").limit(1)).scalar()
        conn.execute(S.postings.update().where(p.id == pid).values(amount=-1))
        # 2: a status history step that is not in the table, and a status that disagrees with it
        tx_id = conn.execute(sa.select(t.id).where(t.code == b1["transaction_code"])).scalar()
        conn.execute(S.status_history.update().where(h.transaction_id == tx_id, h.seq == 2).values(status="ToPayout"))
        # 3: a balance broken below its rule
        conn.execute(S.balances.update().where(bal.account == "outgoing", bal.currency == "ETH").values(balance=-5))
        # 4: a callback lost from the outbox
        first = conn.execute(sa.select(cb.id).order_by(cb.id).limit(1)).scalar()
        conn.execute(S.callbacks.delete().where(cb.id == first))
    eng.dispose()

    bad = _audit(db_url)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    out = bad.stdout
    assert "violation(s)" in out
    assert "postings sum to" in out and "not 0" in out  # entry and currency totals
    assert "is not in the buy table" in out
    assert "outgoing:ETH is -5 but its postings sum to 0" in out
    assert "breaks its rule" in out or "fees:EUR" in out
    assert "has no callback in the outbox" in out
    j = _audit(db_url, "--json")
    assert j.returncode == 1 and json.loads(j.stdout)["ok"] is False


def test_audit_of_an_empty_database(tmp_path):
    import sqlite3

    path = tmp_path / "empty.db"
    sqlite3.connect(path).execute("CREATE TABLE other (x)").connection.close()
    r = _audit(str(path))
    assert r.returncode == 1 and "no broker schema" in r.stdout


def test_audit_of_a_missing_file_creates_nothing(tmp_path):
    path = tmp_path / "nonexist.db"
    r = _audit(str(path))
    assert r.returncode == 2 and f"no database file at {path}" in r.stderr, r.stderr
    assert list(tmp_path.iterdir()) == []


def test_audit_database_errors_say_what_failed(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("not a database\n" * 100)
    r = _audit(str(path))
    assert r.returncode == 4 and "file is not a database" in r.stderr and "nexus broker serve --db" in r.stderr, r.stderr
    assert path.read_text() == "not a database\n" * 100
    down = _audit("postgresql://auditor:pw-not-shown@127.0.0.1:1/broker")
    assert down.returncode == 4 and "Connection refused" in down.stderr and "is the server running" in down.stderr, down.stderr
    assert "pw-not-shown" not in down.stderr
