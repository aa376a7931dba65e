"""Full Buy, Sell, Merchant and Gift flows through the HTTP API on the in-process chain, with
signed callbacks received by a real HTTP receiver, on SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal

import pytest

from nexus.broker.audit import audit
from nexus.broker.units import CRYPTOS, to_units

from broker_helpers import WITHDRAW, customer_and_account

BUY_STATUSES = ["BuyInitiated", "SendDelay", "Sending", "BuyCompleted"]


def _units(text: str, crypto: str) -> int:
    return to_units(text, CRYPTOS[crypto])


@pytest.mark.parametrize("crypto", ["ETH", "USDT"])
def test_buy_flow(api, receiver, crypto):
    c = api.client()
    acc = customer_and_account(c, crypto)
    assert acc["native"] is (crypto == "ETH")
    before = api.b.chain.balance(crypto, WITHDRAW)
    q = c.post("/buy", json={"account_code": acc["account_code"], "payment_method": "sepa", "fiat_amount": "250.00", "callback_url": receiver.url})
    assert q.status_code == 201, q.text
    q = q.json()
    assert q["status"] == "BuyInitiated" and q["type"] == "buy" and q["fiat_amount"] == "250.00" and q["fee"] == "2.50"
    assert Decimal(q["crypto_amount"]) * Decimal(q["price"]) <= Decimal("247.50")
    r = c.post(f"/transactions/{q['transaction_code']}/payment")
    assert r.status_code == 200, r.text
    tx = api.wait_status(q["transaction_code"], "BuyCompleted")
    assert [h["status"] for h in tx["history"]] == BUY_STATUSES
    assert api.b.chain.balance(crypto, WITHDRAW) - before == _units(q["crypto_amount"], crypto)
    assert receiver.wait_for(q["transaction_code"], 4) == BUY_STATUSES
    ev = [e for e in receiver.events if e["transaction_code"] == q["transaction_code"]]
    assert {e["previous_status"] for e in ev} == {None, "BuyInitiated", "SendDelay", "Sending"}
    assert all(e["type"] == "buy" and e["at"] for e in ev)
    api.settle()
    log = c.get(f"/transactions/{q['transaction_code']}/callbacks").json()
    assert [cb["state"] for cb in log["callbacks"]] == ["delivered"] * 4
    assert all(cb["log"][-1]["http_status"] == 200 for cb in log["callbacks"])
    assert receiver.bad_signatures == 0
    assert audit(api.b.db) == []


def test_sell_flow_with_payout_and_four_eyes(api, receiver):
    c, alice, bob = api.client(), api.operator("alice"), api.operator("bob")
    acc = customer_and_account(c, "ETH")
    small = c.post("/sell", json={"account_code": acc["account_code"], "payment_method": "sepa", "crypto_amount": "0.1", "callback_url": receiver.url}).json()
    big = c.post("/sell", json={"account_code": acc["account_code"], "payment_method": "sepa", "crypto_amount": "1.0", "callback_url": receiver.url}).json()
    assert small["status"] == "SellInitiated" and small["deposit_address"] == acc["deposit_address"]
    for s in (small, big):  # oldest open Sell gets the first deposit
        d = c.post("/sim/deposit", json={"address": acc["deposit_address"], "crypto": "ETH", "amount": s["crypto_amount"]})
        assert d.status_code == 200, d.text
        api.wait_status(s["transaction_code"], "Confirming")
    c.post("/sim/mine", json={"blocks": 3})
    api.wait_status(small["transaction_code"], "ToPayout")
    api.wait_status(big["transaction_code"], "ToPayout")
    # below the 4-eyes threshold the integrator reports the payout directly
    r = c.post(f"/transactions/{small['transaction_code']}/payout")
    assert r.status_code == 200 and r.json()["status"] == "SellCompleted"
    # above it: two different operators
    r = c.post(f"/transactions/{big['transaction_code']}/payout")
    assert r.status_code == 409 and r.json()["error"]["code"] == "four_eyes_required"
    assert alice.post(f"/operator/transactions/{big['transaction_code']}/approve").json()["status"] == "PayoutConfirming"
    r = alice.post(f"/operator/transactions/{big['transaction_code']}/approve")
    assert r.status_code == 403 and r.json()["error"]["code"] == "four_eyes"
    r = bob.post(f"/operator/transactions/{big['transaction_code']}/approve")
    assert r.status_code == 200 and r.json()["status"] == "SellCompleted"
    tx = c.get(f"/transactions/{big['transaction_code']}").json()
    assert [(h["status"], h["by"]) for h in tx["history"]][-2:] == [("PayoutConfirming", "alice"), ("SellCompleted", "bob")]
    assert receiver.wait_for(big["transaction_code"], 5) == ["SellInitiated", "Confirming", "ToPayout", "PayoutConfirming", "SellCompleted"]
    assert audit(api.b.db) == []


def test_spontaneous_deposit_opens_a_sell(api, receiver):
    c = api.client()
    acc = customer_and_account(c, "USDT", callback_url=receiver.url)
    c.post("/sim/deposit", json={"address": acc["deposit_address"], "crypto": "USDT", "amount": "500"})
    api.settle()
    txs = c.get("/transactions", params={"customer": acc["customer_code"]}).json()["transactions"]
    assert len(txs) == 1 and txs[0]["type"] == "sell" and txs[0]["status"] == "Confirming"
    assert txs[0]["crypto_amount"] == "500.000000" and Decimal(txs[0]["fiat_amount"]) > 0
    c.post("/sim/mine", json={"blocks": 5})
    api.wait_status(txs[0]["transaction_code"], "ToPayout")
    assert receiver.wait_for(txs[0]["transaction_code"], 2)[:2] == ["Confirming", "ToPayout"]
    assert audit(api.b.db) == []


def test_merchant_flow(api, receiver):
    c = api.client()
    merchant = customer_and_account(c, "ETH", merchant=True)
    plain = customer_and_account(c, "ETH")
    r = c.post("/merchant", json={"account_code": plain["account_code"], "payment_method": "sepa", "fiat_amount": "50.00"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "not_a_merchant"
    m1 = c.post("/merchant", json={"account_code": merchant["account_code"], "payment_method": "sepa", "fiat_amount": "50.00", "callback_url": receiver.url}).json()
    m2 = c.post("/merchant", json={"account_code": merchant["account_code"], "payment_method": "sepa", "crypto_amount": "0.01", "callback_url": receiver.url}).json()
    assert m1["status"] == "SellInitiated" and Decimal(m1["fiat_amount"]) >= Decimal("50.00")
    assert len({m1["deposit_address"], m2["deposit_address"], merchant["deposit_address"]}) == 3  # one address per payment
    c.post("/sim/deposit", json={"address": m1["deposit_address"], "crypto": "ETH", "amount": m1["crypto_amount"]})
    # crypto sent to the merchant's account address without a Merchant transaction is not taken
    c.post("/sim/deposit", json={"address": merchant["deposit_address"], "crypto": "ETH", "amount": "0.02"})
    api.wait_status(m1["transaction_code"], "Confirming")
    c.post("/sim/mine", json={"blocks": 3})
    api.wait_status(m1["transaction_code"], "ToPayout")
    assert c.post(f"/transactions/{m1['transaction_code']}/payout").json()["status"] == "SellCompleted"
    assert c.get(f"/transactions/{m2['transaction_code']}").json()["status"] == "SellInitiated"
    api.settle()
    deps = api.operator().get("/operator/deposits", params={"state": "unassigned"}).json()["deposits"]
    assert len(deps) == 1 and deps[0]["address"] == merchant["deposit_address"] and "merchant" in deps[0]["note"]
    txs = c.get("/transactions", params={"customer": merchant["customer_code"]}).json()["transactions"]
    assert {t["type"] for t in txs} == {"merchant"}
    assert receiver.wait_for(m1["transaction_code"], 4) == ["SellInitiated", "Confirming", "ToPayout", "SellCompleted"]
    assert audit(api.b.db) == []


def test_gift_flow(api, receiver):
    c, op = api.client(), api.operator()
    acc = customer_and_account(c, "ETH")
    before = api.b.chain.balance("ETH", WITHDRAW)
    r = c.post("/gift", json={"account_code": acc["account_code"], "crypto_amount": "0.01"})
    assert r.status_code == 401  # operators only
    g = op.post("/gift", json={"account_code": acc["account_code"], "crypto_amount": "0.01", "callback_url": receiver.url})
    assert g.status_code == 201, g.text
    g = g.json()
    assert g["status"] == "GiftSending" and g["fee"] == "0.00" and g["fiat_amount"] == "20.10"  # buy price 2010
    api.wait_status(g["transaction_code"], "GiftCompleted")
    assert api.b.chain.balance("ETH", WITHDRAW) - before == 10**16
    g2 = op.post("/gift", json={"account_code": acc["account_code"], "fiat_amount": "20.10"}).json()
    assert g2["crypto_amount"] == "0.010000000000000000"
    assert receiver.wait_for(g["transaction_code"], 2) == ["GiftSending", "GiftCompleted"]
    api.wait_status(g2["transaction_code"], "GiftCompleted")  # the audit reads a quiet ledger, not one mid-transition
    assert audit(api.b.db) == []


def test_sell_hold_and_return(api):
    c, op = api.client(), api.operator()
    acc = customer_and_account(c, "ETH")
    s = c.post("/sell", json={"account_code": acc["account_code"], "payment_method": "sepa", "crypto_amount": "0.3"}).json()
    c.post("/sim/deposit", json={"address": acc["deposit_address"], "crypto": "ETH", "amount": "0.3"})
    c.post("/sim/mine", json={"blocks": 3})
    api.wait_status(s["transaction_code"], "ToPayout")
    before = api.b.chain.balance("ETH", WITHDRAW)
    assert op.post(f"/operator/transactions/{s['transaction_code']}/hold").json()["status"] == "PayoutOnHold"
    assert c.post(f"/transactions/{s['transaction_code']}/payout").status_code == 409
    assert op.post(f"/operator/transactions/{s['transaction_code']}/release").json()["status"] == "ToPayout"
    op.post(f"/operator/transactions/{s['transaction_code']}/hold")
    assert op.post(f"/operator/transactions/{s['transaction_code']}/return").json()["status"] == "Returned"
    api.settle()
    assert api.b.chain.balance("ETH", WITHDRAW) - before == 3 * 10**17  # sent back
    assert audit(api.b.db) == []


def test_buy_cancel_before_and_after_broadcast(api_manual):
    """ToCancel: the cancellation wins while the crypto is not broadcast; once broadcast, the
    transaction completes (the seed's race)."""
    api = api_manual
    c, op = api.client(), api.operator()
    acc = customer_and_account(c, "ETH")

    def buy():
        return c.post("/buy", json={"account_code": acc["account_code"], "payment_method": "sepa", "fiat_amount": "100.00"}).json()["transaction_code"]

    # not broadcast yet: cancelled and refunded
    a = buy()
    assert c.post(f"/transactions/{a}/payment").json()["status"] == "Sending"
    assert c.post(f"/transactions/{a}/cancel").json()["status"] == "ToCancel"
    api.rt.tick()
    assert c.get(f"/transactions/{a}").json()["status"] == "BuyCancelled"
    # already broadcast: completes despite the cancellation request
    b = buy()
    c.post(f"/transactions/{b}/payment")
    assert api.rt.sender.sign_queued() == 1
    assert c.post(f"/transactions/{b}/cancel").json()["status"] == "ToCancel"
    r = op.post(f"/operator/transactions/{b}/block")
    assert r.status_code == 409 and r.json()["error"]["code"] == "already_broadcast"
    api.rt.tick()
    assert c.get(f"/transactions/{b}").json()["status"] == "BuyCompleted"
    # cancel before the payment: cancelled at once
    x = buy()
    assert c.post(f"/transactions/{x}/cancel").json()["status"] == "BuyCancelled"
    assert c.post(f"/transactions/{x}/payment").status_code == 409
    assert audit(api.b.db) == []


def test_block_unblock_incasso_and_deactivation(api_manual):
    api = api_manual
    c, op = api.client(), api.operator()
    acc = customer_and_account(c, "ETH")

    def buy():
        r = c.post("/buy", json={"account_code": acc["account_code"], "payment_method": "sepa", "fiat_amount": "100.00"})
        return r

    t = buy().json()["transaction_code"]
    assert op.post(f"/operator/transactions/{t}/block").json()["status"] == "Blocked"
    r = op.post(f"/operator/transactions/{t}/unblock")
    assert r.status_code == 409 and r.json()["error"]["code"] == "not_paid"
    assert c.post(f"/transactions/{t}/payment").json()["status"] == "Blocked"  # parked even when paid
    assert op.post(f"/operator/transactions/{t}/unblock").json()["status"] == "Sending"
    api.rt.tick()
    api.rt.tick()
    assert c.get(f"/transactions/{t}").json()["status"] == "BuyCompleted"
    assert op.post(f"/operator/transactions/{t}/incasso").json()["status"] == "BuyIncasso"
    r = buy()
    assert r.status_code == 409 and r.json()["error"]["code"] == "outstanding_debt"
    assert op.post(f"/operator/transactions/{t}/release").json()["status"] == "BuyCompleted"
    open_one = buy().json()["transaction_code"]
    r = op.post(f"/operator/transactions/{open_one}/delete")
    assert r.status_code == 409 and r.json()["error"]["code"] == "account_active"
    d = op.post(f"/operator/accounts/{acc['account_code']}/deactivate").json()
    assert d["active"] is False and d["deleted_transactions"] == [open_one]
    assert c.get(f"/transactions/{open_one}").json()["status"] == "Deleted"
    r = buy()
    assert r.status_code == 409 and r.json()["error"]["code"] == "account_inactive"
    assert audit(api.b.db) == []


def test_treasury_balances_and_reserve_transfers(api):
    c, op = api.client(), api.operator()
    acc = customer_and_account(c, "ETH")
    b0 = op.get("/operator/balances/ETH").json()
    assert b0["unbalanced"] is False and b0["hotwallet_confirmed_balance"] == b0["hotwallet_confirmed_reserve"]
    s = c.post("/sell", json={"account_code": acc["account_code"], "payment_method": "sepa", "crypto_amount": "2"}).json()
    c.post("/sim/deposit", json={"address": acc["deposit_address"], "crypto": "ETH", "amount": "2"})
    api.wait_status(s["transaction_code"], "Confirming")
    b1 = op.get("/operator/balances/ETH").json()
    assert Decimal(b1["hotwallet_total_balance"]) - Decimal(b1["hotwallet_confirmed_balance"]) == 2
    assert b1["unbalanced"] is False
    c.post("/sim/mine", json={"blocks": 3})
    api.wait_status(s["transaction_code"], "ToPayout")
    b2 = op.get("/operator/balances/ETH").json()
    assert Decimal(b2["hotwallet_confirmed_balance"]) == Decimal(b0["hotwallet_confirmed_balance"]) + 2 and not b2["unbalanced"]
    r = op.post("/operator/ledger/transfers", json={"crypto": "ETH", "from_account": "hot_wallet", "to_account": "exchange", "amount": "5"},
                headers={"Idempotency-Key": "t-1"})
    assert r.status_code == 201 and r.json()["exchange"] == "5.000000000000000000"
    r2 = op.post("/operator/ledger/transfers", json={"crypto": "ETH", "from_account": "hot_wallet", "to_account": "exchange", "amount": "5"},
                 headers={"Idempotency-Key": "t-1"})
    assert r2.status_code == 201 and r2.json()["exchange"] == "5.000000000000000000"  # replayed, not booked twice
    r = op.post("/operator/ledger/transfers", json={"crypto": "ETH", "from_account": "coldstore", "to_account": "exchange", "amount": "1"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "insufficient_funds"
    assert audit(api.b.db) == []
