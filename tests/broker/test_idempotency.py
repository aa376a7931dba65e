"""Idempotency-Key on creating POSTs: same key and body -> the original response; same key,
other body -> 422; concurrent first uses create once."""

from __future__ import annotations

import threading

from broker_helpers import customer_and_account


def test_same_key_same_body_replays(api):
    c = api.client()
    body = {"code": "idem1", "name": "A", "email": "a@example.org"}
    r1 = c.post("/customers", json=body, headers={"Idempotency-Key": "k-1"})
    r2 = c.post("/customers", json=body, headers={"Idempotency-Key": "k-1"})
    assert r1.status_code == r2.status_code == 201
    assert r1.json() == r2.json() and r2.headers.get("Idempotent-Replayed") == "true"
    r3 = c.post("/customers", json=body)  # without a key: a real second attempt
    assert r3.status_code == 409 and r3.json()["error"]["code"] == "customer_exists"


def test_same_key_other_body_is_refused(api):
    c = api.client()
    c.post("/customers", json={"code": "idem2", "name": "A", "email": "a@example.org"}, headers={"Idempotency-Key": "k-2"})
    r = c.post("/customers", json={"code": "idem3", "name": "A", "email": "a@example.org"}, headers={"Idempotency-Key": "k-2"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "idempotency_key_reused"
    assert c.get("/customers/idem3").status_code == 404  # nothing written


def test_buy_replay_returns_the_same_transaction(api):
    c = api.client()
    acc = customer_and_account(c)
    body = {"account_code": acc["account_code"], "payment_method": "sepa", "fiat_amount": "42.00"}
    r1 = c.post("/buy", json=body, headers={"Idempotency-Key": "buy-1"})
    r2 = c.post("/buy", json=body, headers={"Idempotency-Key": "buy-1"})
    assert r1.status_code == 201 and r1.json() == r2.json()
    txs = c.get("/transactions", params={"customer": acc["customer_code"]}).json()["transactions"]
    assert len(txs) == 1
    r3 = c.post("/buy", json={**body, "fiat_amount": "43.00"}, headers={"Idempotency-Key": "buy-1"})
    assert r3.status_code == 422
    r4 = c.post("/buy", json=body, headers={"Idempotency-Key": "x" * 201})
    assert r4.status_code == 422


def test_concurrent_first_use_creates_once(api):
    c = api.client()
    acc = customer_and_account(c)
    body = {"account_code": acc["account_code"], "payment_method": "sepa", "crypto_amount": "0.01"}
    results = []

    def go():
        with api.client() as cl:
            results.append(cl.post("/sell", json=body, headers={"Idempotency-Key": "race-1"}))

    threads = [threading.Thread(target=go) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert {r.status_code for r in results} == {201}
    assert len({r.json()["transaction_code"] for r in results}) == 1
    txs = c.get("/transactions", params={"customer": acc["customer_code"]}).json()["transactions"]
    assert len(txs) == 1
