"""Input the broker API used to accept and now refuses (issue 16, item 7): the zero address as
a withdraw address, dust Buys and Gifts (below a configurable minimum and below the network
fee of the send), callback URLs that reach the broker's own host or network (SSRF, checked
when given and again at every delivery), request bodies over the limit; and errors a person
understands (no raw pattern, no "Field required" without the field, no balance in wei)."""

from __future__ import annotations

import socket
import time

import pytest

from nexus.broker import api as broker_api
from nexus.broker import callback_urls, ledger
from nexus.broker.ledger import Posting

from broker_helpers import API_KEY, ApiServer, Receiver, customer_and_account, local_settings, make_broker

ZERO = "0x" + "0" * 40
PRIVATE_URLS = [
    "http://127.0.0.1:9/hook",  # loopback
    "http://127.1.2.3/hook",
    "http://10.0.0.5/hook",  # RFC 1918
    "http://172.16.3.4:8080/hook",
    "http://192.168.1.1/hook",
    "http://169.254.169.254/latest/meta-data",  # link-local (cloud metadata)
    "http://100.64.0.1/hook",  # carrier-grade NAT
    "http://0.0.0.0/hook",
    "http://[::1]/hook",  # IPv6 loopback
    "http://[fe80::1]/hook",  # IPv6 link-local
    "http://[fc00::1]/hook",  # IPv6 unique local
    "http://[::ffff:127.0.0.1]/hook",  # IPv4-mapped IPv6
    "http://[::ffff:10.0.0.1]/hook",
    "http://localhost:8080/hook",  # a DNS name resolving to loopback
]


@pytest.fixture
def strict_api(db_url):
    """A broker as `broker serve` runs without --allow-private-callbacks (no background
    workers: nothing is delivered while the test looks at what was accepted)."""
    b, rt = make_broker(db_url, settings=local_settings(allow_private_callbacks=False))
    server = ApiServer(b, rt, background=False).start()
    yield server
    server.stop()


def _err(r, status: int, code: str) -> str:
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code, r.text
    return r.json()["error"]["message"]


def test_zero_address_is_refused(api):
    c = api.client()
    acc = customer_and_account(c)
    for zero in (ZERO, "0x" + "0" * 40):
        msg = _err(c.post(f"/customers/{acc['customer_code']}/accounts", json={"crypto": "ETH", "withdraw_address": zero}), 422, "invalid_address")
        assert "zero address" in msg


def test_dust_buys_and_gifts_are_refused_with_the_minimum_in_coins(api):
    c, op = api.client(), api.operator()
    eth, usdt = customer_and_account(c, "ETH"), customer_and_account(c, "USDT")
    buy = {"account_code": eth["account_code"], "payment_method": "sepa"}
    for body in ({**buy, "crypto_amount": "0.000000000000000001"}, {**buy, "crypto_amount": "0.0009"}, {**buy, "fiat_amount": "1.00"}):
        msg = _err(c.post("/buy", json=body), 422, "amount_too_small")
        assert "at least 0.001000000000000000 ETH" in msg and "network fees" in msg, msg
        _err(c.post("/buy/simulate", json=body), 422, "amount_too_small")
    msg = _err(c.post("/buy", json={"account_code": usdt["account_code"], "payment_method": "sepa", "crypto_amount": "0.5"}), 422, "amount_too_small")
    assert "at least 1.000000 USDT" in msg
    _err(op.post("/gift", json={"account_code": eth["account_code"], "crypto_amount": "0.000000000000000001"}), 422, "amount_too_small")
    # at the minimum, accepted
    assert c.post("/buy", json={**buy, "crypto_amount": "0.001"}).status_code == 201
    assert c.post("/buy", json={"account_code": usdt["account_code"], "payment_method": "sepa", "crypto_amount": "1"}).status_code == 201


def test_the_network_fee_is_a_floor_below_any_configured_minimum(db_url):
    """A minimum configured at 1 wei still refuses a Buy that delivers less than sending it costs."""
    b, rt = make_broker(db_url, settings=local_settings(send_min={"ETH": 1, "USDT": 1}))
    server = ApiServer(b, rt, background=False).start()
    try:
        c = server.client()
        acc = customer_and_account(c)
        fee_wei = b.chain.send_fee_wei("ETH")
        assert fee_wei > 1
        body = {"account_code": acc["account_code"], "payment_method": "sepa"}
        below = f"0.{str(fee_wei).rjust(18, '0')}"  # exactly the fee: nothing left over
        msg = _err(c.post("/buy/simulate", json={**body, "crypto_amount": below}), 422, "amount_too_small")
        assert "network fees" in msg
        above = f"0.{str(fee_wei * 2).rjust(18, '0')}"
        assert c.post("/buy/simulate", json={**body, "crypto_amount": above}).status_code == 200
    finally:
        server.stop()


@pytest.mark.parametrize("url", PRIVATE_URLS)
def test_private_callback_urls_are_refused_without_the_flag(strict_api, url):
    c, op = strict_api.client(), strict_api.operator()
    acc = customer_and_account(c)
    for r in (
        c.post(f"/customers/{acc['customer_code']}/accounts", json={"crypto": "ETH", "withdraw_address": "0x" + "12" * 20, "callback_url": url}),
        c.post("/buy", json={"account_code": acc["account_code"], "payment_method": "sepa", "fiat_amount": "50.00", "callback_url": url}),
        c.post("/buy/simulate", json={"account_code": acc["account_code"], "payment_method": "sepa", "fiat_amount": "50.00", "callback_url": url}),
        c.post("/sell", json={"account_code": acc["account_code"], "payment_method": "sepa", "crypto_amount": "0.1", "callback_url": url}),
        op.post("/gift", json={"account_code": acc["account_code"], "crypto_amount": "0.01", "callback_url": url}),
        op.put("/operator/payment-methods/sepa2", json={"quote_window_s": 60, "fee_rate": "0.01", "fee_fixed": "0.00", "callback_url": url}),
    ):
        msg = _err(r, 422, "callback_url_refused")
        assert "--allow-private-callbacks" in msg
    assert c.get("/transactions").json()["transactions"] == []


def test_a_public_callback_url_is_accepted_without_the_flag(strict_api):
    c = strict_api.client()
    acc = customer_and_account(c)
    r = c.post("/buy/simulate", json={"account_code": acc["account_code"], "payment_method": "sepa", "fiat_amount": "50.00",
                                       "callback_url": "https://8.8.8.8/hook"})
    assert r.status_code == 200, r.text


def test_delivery_resolves_again_and_refuses_a_name_rebound_to_loopback(db_url, monkeypatch):
    """DNS rebinding: the name resolves to a public address when the URL is given, to
    127.0.0.1 (where a real receiver listens) when the callback is due. The delivery is
    refused and logged; the receiver hears nothing."""
    rec = Receiver(b"test-callback-secret").start()
    b, rt = make_broker(db_url, settings=local_settings(allow_private_callbacks=False))
    server = ApiServer(b, rt, background=False).start()
    real = socket.getaddrinfo
    answers = {"public": True}

    def rebinding_dns(host, port, *a, **kw):  # stands in for a hostile DNS server
        if host == "rebind.example":
            ip = "93.184.215.14" if answers["public"] else "127.0.0.1"
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port))]
        return real(host, port, *a, **kw)

    monkeypatch.setattr(callback_urls.socket, "getaddrinfo", rebinding_dns)
    try:
        c = server.client()
        acc = customer_and_account(c)
        url = f"http://rebind.example:{rec.port}/hook"
        r = c.post("/buy", json={"account_code": acc["account_code"], "payment_method": "sepa", "fiat_amount": "50.00", "callback_url": url})
        assert r.status_code == 201, r.text
        answers["public"] = False
        rt.deliver()
        log = c.get(f"/transactions/{r.json()['transaction_code']}/callbacks").json()["callbacks"][0]
        assert log["state"] == "pending" and "127.0.0.1" in log["last_error"] and "non-public" in log["last_error"]
        assert rec.events == []
    finally:
        server.stop()
        rec.stop()


def test_delivery_pins_the_resolved_address_and_keeps_the_host_name(api, receiver):
    """With the flag, a host name works: the POST goes to the address checked, Host is the name."""
    c = api.client()
    acc = customer_and_account(c)
    url = f"http://localhost:{receiver.port}/hook"
    code = c.post("/buy", json={"account_code": acc["account_code"], "payment_method": "sepa", "fiat_amount": "50.00",
                                "callback_url": url}).json()["transaction_code"]
    assert receiver.wait_for(code, 1) == ["BuyInitiated"]


def _raw_request(port: int, head: bytes, body_parts=(), timeout: float = 10.0) -> tuple[int, float]:
    """Send a request by hand; return (status, seconds until the answer). The body parts are
    sent only as long as the server has not answered."""
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(head)
        for part in body_parts:
            try:
                s.sendall(part)
            except OSError:
                break
        data = b""
        while b"\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    return int(data.split(b" ", 2)[1]), time.monotonic() - start


def test_a_declared_body_over_the_limit_is_refused_before_it_is_read(api):
    over = broker_api.BODY_BYTES_MAX + 1
    head = (f"POST /api/v1/customers HTTP/1.1\r\nHost: x\r\nX-API-Key: {API_KEY}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {100 * over}\r\n\r\n").encode()
    status, took = _raw_request(api.port, head)  # no body is ever sent: an answer proves nothing was waited for
    assert status == 413 and took < 5


def test_a_chunked_body_is_cut_off_at_the_limit(api):
    head = (f"POST /api/v1/customers HTTP/1.1\r\nHost: x\r\nX-API-Key: {API_KEY}\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\n\r\n").encode()
    chunk = b"x" * 8192
    parts = [b"%x\r\n%s\r\n" % (len(chunk), chunk)] * (broker_api.BODY_BYTES_MAX // len(chunk) + 2)  # never terminated
    status, _ = _raw_request(api.port, head, parts)
    assert status == 413
    # a body within the limit still works
    r = api.client().post("/customers", json={"code": "fits", "name": "N", "email": "n@example.org"})
    assert r.status_code == 201


def test_error_messages_name_the_field_and_say_what_is_wrong(api):
    c = api.client()
    acc = customer_and_account(c)
    buy = {"account_code": acc["account_code"], "payment_method": "sepa"}
    msg = _err(c.post("/buy", json={**buy, "fiat_amount": "-5"}), 422, "invalid_request")
    assert msg == "fiat_amount must be a positive amount, not -5"
    msg = _err(c.post("/buy", json={**buy, "fiat_amount": "1e5"}), 422, "invalid_request")
    assert "fiat_amount" in msg and "decimal" in msg and "^" not in msg and "pattern" not in msg
    msg = _err(c.post("/buy", json={"account_code": acc["account_code"], "fiat_amount": "10"}), 422, "invalid_request")
    assert msg == "payment_method is required"
    msg = _err(c.post("/customers", content=b"", headers={"Content-Type": "application/json"}), 422, "invalid_request")
    assert "body is missing" in msg
    msg = _err(c.post(f"/customers/{acc['customer_code']}/accounts", json={"crypto": "ETH", "withdraw_address": "0x12"}), 422, "invalid_request")
    assert "withdraw_address" in msg and "40 hexadecimal digits" in msg and "^" not in msg
    msg = _err(c.post("/buy", json={**buy, "fiat_amount": 10.5}), 422, "invalid_request")
    assert "fiat_amount" in msg and "decimal string" in msg


def test_insufficient_funds_are_said_in_coins_not_wei(api):
    c = api.client()
    usdt = customer_and_account(c, "USDT")

    def drain(conn):  # leave exactly 10 USDT in the hot wallet
        bal = ledger.balance(conn, "hot_wallet", "USDT")
        ledger.post(conn, [Posting("hot_wallet", "USDT", -(bal - 10_000_000)), Posting("coldstore", "USDT", bal - 10_000_000)],
                    memo="to coldstore", at_us=api.b.now_us(), for_update=api.b.db.is_postgres)

    api.b.db.run(drain)
    code = c.post("/buy", json={"account_code": usdt["account_code"], "payment_method": "sepa", "crypto_amount": "20"}).json()["transaction_code"]
    msg = _err(c.post(f"/transactions/{code}/payment"), 409, "insufficient_funds")
    assert msg == "not enough USDT in hot wallet: 10.000000 USDT available, 20.000000 USDT needed"
