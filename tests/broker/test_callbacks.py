"""Signed callbacks from the durable outbox: signature, retries with exponential backoff on
the broker's clock while the receiver is down, per-transaction order, the delivery log, and
delivery after a restart (at-least-once)."""

from __future__ import annotations

import hashlib
import hmac
import time

from nexus.broker import callbacks

from broker_helpers import ApiServer, Receiver, customer_and_account, make_broker, local_settings


def test_signature_header_format_and_verification():
    secret, body, t = b"s3cret", b'{"a":1}', 1_700_000_000
    header = callbacks.sign(secret, body, t)
    expected = hmac.new(secret, b"1700000000." + body, hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={expected}"
    assert callbacks.verify(secret, header, body, now_s=t + 10)
    assert not callbacks.verify(secret, header, body + b" ", now_s=t)  # tampered body
    assert not callbacks.verify(b"other", header, body, now_s=t)  # wrong secret
    assert not callbacks.verify(secret, header, body, now_s=t + 3600)  # stale
    assert not callbacks.verify(secret, "garbage", body, now_s=t)
    assert not callbacks.verify(secret, None, body, now_s=t)


def test_backoff_is_exponential_and_capped():
    assert [callbacks.backoff_us(n, 1.0, 60.0) // 1_000_000 for n in range(1, 9)] == [1, 2, 4, 8, 16, 32, 60, 60]


def test_retries_with_backoff_while_receiver_is_down(api_manual):
    api = api_manual
    rec = Receiver(b"test-callback-secret")  # not started: connection refused
    c = api.client()
    acc = customer_and_account(c)
    code = c.post("/buy", json={"account_code": acc["account_code"], "payment_method": "sepa", "fiat_amount": "100.00", "callback_url": rec.url}).json()["transaction_code"]
    c.post(f"/transactions/{code}/payment")  # BuyInitiated, SendDelay, Sending queued behind the first

    def log():
        return c.get(f"/transactions/{code}/callbacks").json()["callbacks"]

    assert api.rt.deliver() == 0
    first = log()[0]
    assert first["attempts"] == 1 and "Connect" in first["log"][0]["error"] and first["state"] == "pending"
    assert all(cb["attempts"] == 0 for cb in log()[1:])  # later callbacks wait for the first (order)
    api.rt.deliver()
    assert log()[0]["attempts"] == 1  # not due yet: backoff 1 s on the broker clock
    for wait_s, attempts in ((1, 2), (2, 3), (4, 4)):
        api.clock.advance(wait_s - 0.001)
        api.rt.deliver()
        assert log()[0]["attempts"] == attempts - 1
        api.clock.advance(0.001)
        api.rt.deliver()
        assert log()[0]["attempts"] == attempts
    rec.start()
    rec.down = True  # up but failing: HTTP 503
    api.clock.advance(8)
    api.rt.deliver()
    assert log()[0]["log"][-1]["http_status"] == 503 and log()[0]["state"] == "pending"
    rec.down = False
    api.clock.advance(16)
    for _ in range(5):
        api.rt.deliver()
    try:
        assert rec.statuses(code) == ["BuyInitiated", "SendDelay", "Sending"]
        entries = log()
        assert [e["state"] for e in entries] == ["delivered"] * 3
        assert entries[0]["attempts"] == 6 and entries[0]["log"][-1]["http_status"] == 200
        assert rec.bad_signatures == 0
    finally:
        rec.stop()


def test_wrong_secret_is_rejected_by_the_receiver_and_retried(api_manual):
    api = api_manual
    rec = Receiver(b"not-the-broker-secret").start()
    try:
        c = api.client()
        acc = customer_and_account(c)
        code = c.post("/buy", json={"account_code": acc["account_code"], "payment_method": "sepa", "fiat_amount": "10.00", "callback_url": rec.url}).json()["transaction_code"]
        api.rt.deliver()
        entry = c.get(f"/transactions/{code}/callbacks").json()["callbacks"][0]
        assert rec.bad_signatures == 1 and entry["state"] == "pending" and entry["log"][0]["http_status"] == 401
    finally:
        rec.stop()


def test_pending_callbacks_survive_a_restart(db_url):
    url = db_url
    rec = Receiver(b"test-callback-secret")
    b, rt = make_broker(url)
    api = ApiServer(b, rt, background=False).start()
    c = api.client()
    acc = customer_and_account(c)
    code = c.post("/buy", json={"account_code": acc["account_code"], "payment_method": "sepa", "fiat_amount": "10.00", "callback_url": rec.url}).json()["transaction_code"]
    c.post(f"/transactions/{code}/cancel")
    api.stop()  # nothing delivered: the receiver was never up
    rec.start()
    try:
        b2, rt2 = make_broker(url, settings=local_settings())
        deadline = time.time() + 10
        while len(rec.statuses(code)) < 2 and time.time() < deadline:
            rt2.deliver()
            time.sleep(0.02)
        assert rec.statuses(code) == ["BuyInitiated", "BuyCancelled"]
        rt2.deliverer.close()
        b2.db.dispose()
    finally:
        rec.stop()
