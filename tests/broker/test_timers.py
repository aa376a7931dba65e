"""Timers on an injected (manual) clock: Buy auto-cancel after 30 minutes, Sell/Merchant
cancel after 30 minutes, Blocked after 2 hours without enough confirmations (then ToPayout,
re-priced only against the broker), quote windows, and the per-crypto send delay."""

from __future__ import annotations

from decimal import Decimal

from nexus.broker.audit import audit

from broker_helpers import customer_and_account

MIN = 60


def _buy(c, acc, amount="100.00"):
    r = c.post("/buy", json={"account_code": acc["account_code"], "payment_method": "sepa", "fiat_amount": amount})
    assert r.status_code == 201, r.text
    return r.json()["transaction_code"]


def _sell(c, acc, amount="0.5", kind="sell"):
    body = {"account_code": acc["account_code"], "payment_method": "sepa", "crypto_amount": amount}
    r = c.post(f"/{kind}", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def _status(c, code):
    return c.get(f"/transactions/{code}").json()["status"]


def test_buy_cancelled_30_minutes_after_initiation(api_manual):
    api = api_manual
    c = api.client()
    acc = customer_and_account(c)
    t, paid = _buy(c, acc), _buy(c, acc)
    c.post(f"/transactions/{paid}/payment")
    api.clock.advance(30 * MIN - 1)
    api.rt.tick()
    assert _status(c, t) == "BuyInitiated"
    api.clock.advance(2)
    api.rt.tick()
    tx = c.get(f"/transactions/{t}").json()
    assert tx["status"] == "BuyCancelled" and tx["history"][-1]["by"] == "system:timer" and tx["history"][-1]["event"] == "timeout"
    api.rt.tick()
    assert _status(c, paid) == "BuyCompleted"  # a paid Buy is never auto-cancelled
    assert audit(api.b.db) == []


def test_buy_quote_window(api_manual):
    api = api_manual
    c = api.client()
    acc = customer_and_account(c)
    t = _buy(c, acc)
    api.clock.advance(15 * MIN + 1)  # sepa: 15-minute quote window
    r = c.post(f"/transactions/{t}/payment")
    assert r.status_code == 409 and r.json()["error"]["code"] == "quote_expired"
    assert _status(c, t) == "BuyInitiated"
    t2 = _buy(c, acc)
    api.clock.advance(15 * MIN - 1)
    assert c.post(f"/transactions/{t2}/payment").status_code == 200
    api.clock.advance(15 * MIN)
    api.rt.tick()
    assert _status(c, t) == "BuyCancelled"
    # a configured payment method with its own window
    op = api.operator()
    r = op.put("/operator/payment-methods/ideal", json={"quote_window_s": 120, "fee_rate": "0.005", "fee_fixed": "0.25"})
    assert r.status_code == 200, r.text
    q = c.post("/buy", json={"account_code": acc["account_code"], "payment_method": "ideal", "fiat_amount": "100.00"}).json()
    assert q["fee"] == "0.75"
    api.clock.advance(121)
    assert c.post(f"/transactions/{q['transaction_code']}/payment").json()["error"]["code"] == "quote_expired"


def test_sell_and_merchant_cancelled_after_30_minutes_without_crypto(api_manual):
    api = api_manual
    c = api.client()
    acc = customer_and_account(c)
    m = customer_and_account(c, merchant=True)
    s = _sell(c, acc)["transaction_code"]
    mt = c.post("/merchant", json={"account_code": m["account_code"], "payment_method": "sepa", "fiat_amount": "10.00"}).json()["transaction_code"]
    api.clock.advance(30 * MIN - 1)
    api.rt.tick()
    assert _status(c, s) == "SellInitiated" and _status(c, mt) == "SellInitiated"
    api.clock.advance(2)
    api.rt.tick()
    assert _status(c, s) == "SellCancelled" and _status(c, mt) == "SellCancelled"


def test_sell_repriced_after_the_window_only_against_the_broker(api_manual):
    api = api_manual
    c = api.client()
    acc = customer_and_account(c)
    inside = _sell(c, acc, "0.1")
    c.put("/sim/prices/ETH", json={"mid": "1000"})  # market falls
    c.post("/sim/deposit", json={"address": acc["deposit_address"], "crypto": "ETH", "amount": "0.1"})
    api.rt.tick()
    tx = c.get(f"/transactions/{inside['transaction_code']}").json()
    assert tx["status"] == "Confirming" and tx["price"] == inside["price"]  # the window holds the quote

    late_down = _sell(c, acc, "0.1")  # quoted at 995.00
    api.clock.advance(15 * MIN + 1)
    c.put("/sim/prices/ETH", json={"mid": "900"})
    c.post("/sim/deposit", json={"address": acc["deposit_address"], "crypto": "ETH", "amount": "0.1"})
    api.rt.tick()
    tx = c.get(f"/transactions/{late_down['transaction_code']}").json()
    assert Decimal(tx["price"]) == Decimal("895.5") and Decimal(tx["price"]) < Decimal(late_down["price"])

    late_up = _sell(c, acc, "0.1")  # quoted at 895.50
    api.clock.advance(15 * MIN + 1)
    c.put("/sim/prices/ETH", json={"mid": "3000"})
    c.post("/sim/deposit", json={"address": acc["deposit_address"], "crypto": "ETH", "amount": "0.1"})
    api.rt.tick()
    tx = c.get(f"/transactions/{late_up['transaction_code']}").json()
    assert tx["status"] == "Confirming" and tx["price"] == late_up["price"]  # moved for the broker: kept
    assert audit(api.b.db) == []


def test_blocked_after_two_hours_then_to_payout_repriced(api_manual):
    api = api_manual
    c = api.client()
    acc = customer_and_account(c)
    s = _sell(c, acc, "1.0")
    c.post("/sim/deposit", json={"address": acc["deposit_address"], "crypto": "ETH", "amount": "1.0"})
    api.rt.tick()
    assert _status(c, s["transaction_code"]) == "Confirming"
    api.clock.advance(2 * 60 * MIN - 1)
    api.rt.tick()
    assert _status(c, s["transaction_code"]) == "Confirming"
    api.clock.advance(2)
    api.rt.tick()
    assert _status(c, s["transaction_code"]) == "Blocked"
    c.put("/sim/prices/ETH", json={"mid": "1500"})  # moved against the broker meanwhile
    c.post("/sim/mine", json={"blocks": 3})
    api.rt.tick()
    tx = c.get(f"/transactions/{s['transaction_code']}").json()
    assert tx["status"] == "ToPayout"
    assert [h["status"] for h in tx["history"]] == ["SellInitiated", "Confirming", "Blocked", "ToPayout"]
    assert Decimal(tx["price"]) == Decimal("1492.5") and tx["fiat_amount"] == "1477.57"  # 1492.50 less the 1% fee rounded up (14.93)
    # a second one where the market moved for the broker keeps its price
    s2 = _sell(c, acc, "1.0")
    c.post("/sim/deposit", json={"address": acc["deposit_address"], "crypto": "ETH", "amount": "1.0"})
    api.rt.tick()
    api.clock.advance(2 * 60 * MIN + 1)
    api.rt.tick()
    c.put("/sim/prices/ETH", json={"mid": "2500"})
    c.post("/sim/mine", json={"blocks": 3})
    api.rt.tick()
    tx = c.get(f"/transactions/{s2['transaction_code']}").json()
    assert tx["status"] == "ToPayout" and tx["price"] == s2["price"]
    assert audit(api.b.db) == []


def test_send_delay_per_crypto(api_manual):
    api = api_manual
    c, op = api.client(), api.operator()
    assert op.put("/operator/cryptos/ETH", json={"send_delay_s": 120}).json() == {"crypto": "ETH", "send_delay_s": 120}
    acc = customer_and_account(c)
    t = _buy(c, acc)
    assert c.post(f"/transactions/{t}/payment").json()["status"] == "SendDelay"
    api.rt.tick()
    assert _status(c, t) == "SendDelay"
    api.clock.advance(120)
    api.rt.tick()
    api.rt.tick()
    assert _status(c, t) == "BuyCompleted"
    with api.b.db.read() as conn:
        from nexus.broker import ledger

        assert ledger.balance(conn, "outgoing", "ETH") == 0
    assert audit(api.b.db) == []
