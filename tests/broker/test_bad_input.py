"""Bad input gets a clear error and nothing is half-written."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from nexus.broker import ledger
from nexus.broker import schema as S
from nexus.broker.ledger import Posting

from broker_helpers import customer_and_account

TABLES = ("customers", "accounts", "transactions", "status_history", "journal", "postings", "callbacks", "chain_sends", "idempotency_keys")


def _counts(b) -> dict:
    with b.db.read() as conn:
        return {t: conn.execute(sa.select(sa.func.count()).select_from(S.metadata.tables[t])).scalar() for t in TABLES}


def _err(r, status: int, code: str | None = None) -> None:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"} and body["error"]["message"], body
    if code:
        assert body["error"]["code"] == code, body


@pytest.fixture
def setup(api):
    c = api.client()
    return api, c, customer_and_account(c)


def test_refusals_write_nothing(setup):
    api, c, acc = setup
    before = _counts(api.b)
    buy = {"account_code": acc["account_code"], "payment_method": "sepa"}
    cases = [
        (c.post("/buy", json={**buy, "account_code": "ACC-NOPE", "fiat_amount": "10"}), 404, "unknown_account"),
        (c.post("/customers/nobody/accounts", json={"crypto": "ETH", "withdraw_address": "0x" + "12" * 20}), 404, "unknown_customer"),
        (c.get("/transactions/BUY-NOPE"), 404, "unknown_transaction"),
        (c.post("/transactions/BUY-NOPE/payment"), 404, "unknown_transaction"),
        (c.post("/buy", json={**buy, "fiat_amount": "0"}), 422, "invalid_amount"),
        (c.post("/buy", json={**buy, "fiat_amount": "0.00"}), 422, "invalid_amount"),
        (c.post("/buy", json={**buy, "fiat_amount": "-5"}), 422, "invalid_request"),
        (c.post("/buy", json={**buy, "fiat_amount": "1e5"}), 422, "invalid_request"),
        (c.post("/buy", json={**buy, "fiat_amount": 10.5}), 422, "invalid_request"),  # floats are refused
        (c.post("/buy", json={**buy, "fiat_amount": "10.001"}), 422, "invalid_amount"),
        (c.post("/buy", json={**buy, "crypto_amount": "0.0000000000000000001"}), 422, "invalid_request"),
        (c.post("/buy", json={**buy, "fiat_amount": "100000.01"}), 422, "over_limit"),
        (c.post("/buy", json={**buy, "crypto_amount": "1000"}), 422, "over_limit"),
        (c.post("/buy", json={**buy, "fiat_amount": "10", "crypto_amount": "0.1"}), 422, "invalid_amount"),
        (c.post("/buy", json=buy), 422, "invalid_amount"),
        (c.post("/buy", json={**buy, "fiat_amount": "0.01"}), 422, "amount_too_small"),
        (c.post("/buy", json={**buy, "payment_method": "paypal", "fiat_amount": "10"}), 422, "unknown_payment_method"),
        (c.post("/sell", json={**buy, "crypto_amount": "0"}), 422, "invalid_amount"),
        (c.post("/customers/x/accounts", json={"crypto": "BTC", "withdraw_address": "0x" + "12" * 20}), 422, "invalid_request"),
        (c.get("/prices/DOGE"), 422, "invalid_request"),
        (c.post(f"/customers/{acc['customer_code']}/accounts", json={"crypto": "ETH", "withdraw_address": "0x12"}), 422, "invalid_request"),
        (c.post(f"/customers/{acc['customer_code']}/accounts", json={"crypto": "ETH", "withdraw_address": "0xAbCd" + "ab" * 18}), 422, "invalid_address"),
        (c.post("/customers", json={"code": "bad code!", "name": "n", "email": "e@x.io"}), 422, "invalid_request"),
        (c.post("/customers", json={"code": "ok", "name": "n", "email": "not-an-email"}), 422, "invalid_email"),
        (c.post("/customers", json={"code": "ok", "name": "n", "email": "e@x.io", "extra": 1}), 422, "invalid_request"),
        (c.post("/customers", content=b"{not json", headers={"Content-Type": "application/json"}), 400, "malformed_json"),
        (c.post("/buy", json={**buy, "fiat_amount": "10"}, headers={"X-API-Key": "wrong"}), 401, "unauthorized"),
        (c.post("/merchant", json={**buy, "fiat_amount": "10"}), 422, "not_a_merchant"),
        (api.operator().post("/operator/transactions/BUY-NOPE/block"), 404, "unknown_transaction"),
        (api.operator().post("/operator/transactions/BUY-NOPE/explode"), 422, "invalid_request"),
        (c.post("/operator/transactions/BUY-NOPE/block"), 401, "unauthorized"),
        (c.post("/api/v1/nothing-here"), 404, "not_found"),
    ]
    for r, status, code in cases:
        _err(r, status, code)
    assert _counts(api.b) == before


def test_wrong_currency_deposit_is_not_taken(setup):
    api, c, acc = setup
    s = c.post("/sell", json={"account_code": acc["account_code"], "payment_method": "sepa", "crypto_amount": "1"}).json()
    c.post("/sim/deposit", json={"address": acc["deposit_address"], "crypto": "USDT", "amount": "1"})  # USDT to an ETH account
    api.settle()
    assert c.get(f"/transactions/{s['transaction_code']}").json()["status"] == "SellInitiated"
    deps = api.operator().get("/operator/deposits", params={"state": "unassigned"}).json()["deposits"]
    assert len(deps) == 1 and "USDT sent to a ETH account" in deps[0]["note"]


def test_insufficient_hot_wallet_refuses_the_payment_atomically(setup):
    api, c, acc = setup
    usdt = customer_and_account(c, "USDT")

    def drain(conn):  # the treasury moves almost all USDT to cold storage
        bal = ledger.balance(conn, "hot_wallet", "USDT")
        ledger.post(conn, [Posting("hot_wallet", "USDT", -(bal - 10_000_000)), Posting("coldstore", "USDT", bal - 10_000_000)],
                    memo="to coldstore", at_us=api.b.now_us(), for_update=api.b.db.is_postgres)

    api.b.db.run(drain)
    code = c.post("/buy", json={"account_code": usdt["account_code"], "payment_method": "sepa", "fiat_amount": "100.00"}).json()["transaction_code"]
    before = _counts(api.b)
    r = c.post(f"/transactions/{code}/payment")
    _err(r, 409, "insufficient_funds")
    assert c.get(f"/transactions/{code}").json()["status"] == "BuyInitiated"
    assert _counts(api.b) == before


def test_ledger_refuses_unbalanced_entries(broker):
    b, _ = broker
    with pytest.raises(ValueError, match="unbalanced"):
        b.db.run(lambda conn: ledger.post(conn, [Posting("bank", "EUR", 5), Posting("fees", "EUR", -4)], memo="x", at_us=1))
    with pytest.raises(ValueError, match="unknown ledger account"):
        b.db.run(lambda conn: ledger.post(conn, [Posting("mystery", "EUR", 5), Posting("bank", "EUR", -5)], memo="x", at_us=1))
    with pytest.raises(TypeError):
        b.db.run(lambda conn: ledger.post(conn, [Posting("bank", "EUR", 5.0), Posting("fees", "EUR", -5.0)], memo="x", at_us=1))
