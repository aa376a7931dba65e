"""Broker micro-benchmarks (pytest-benchmark). Each checks its result before it is timed.
The end-to-end figures (full Buy flows/s on SQLite and PostgreSQL, callback deliveries/s)
are in `nexus bench broker --json`."""

from decimal import Decimal

import pytest

from nexus.broker import customers, orders, pricing, states
from nexus.broker.units import ETH, EUR

SEPA = pricing.PaymentMethod("sepa", "EUR", 900, Decimal("0.01"), 0)


@pytest.mark.benchmark(group="broker")
def test_transition_table_check(benchmark):
    assert states.transition("buy", "Sending", "mined", "system").dst == "BuyCompleted"
    tr = benchmark(states.transition, "buy", "Sending", "mined", "system")
    assert tr.dst == "BuyCompleted"


@pytest.mark.benchmark(group="broker")
def test_buy_quote(benchmark):
    q = pricing.quote_buy(Decimal("2010"), SEPA, ETH, EUR, fiat_amount=10_000)
    assert q.fee == 100 and q.crypto_amount == 9900 * 10**18 // 201000
    assert benchmark(pricing.quote_buy, Decimal("2010"), SEPA, ETH, EUR, fiat_amount=10_000) == q


@pytest.fixture
def sqlite_broker(tmp_path):
    from nexus.broker import assemble
    from nexus.broker.workers import Workers

    from nexus.broker.context import Settings

    b = assemble.build(db_url=str(tmp_path / "bench.db"), api_key="k", operators={}, callback_secret="s",
                       settings=Settings(allow_private_callbacks=True))  # the callback URL below is on 127.0.0.1
    Workers(b).prepare()
    b.db.run(lambda c: customers.create_customer(c, b, "bench", "Bench", "b@example.org", False))
    acc = b.db.run(lambda c: customers.create_account(c, b, "bench", "ETH", "0x" + "12" * 20))
    yield b, acc["account_code"]
    b.db.dispose()


@pytest.mark.benchmark(group="broker")
def test_buy_create_and_payment_sqlite(benchmark, sqlite_broker):
    """One Buy created and paid: two database transactions, three status changes, the
    postings and the callback rows (no chain work)."""
    b, account = sqlite_broker
    req = {"account_code": account, "payment_method": "sepa", "fiat_amount": "20.00", "callback_url": "http://127.0.0.1:9/x"}

    def step():
        q = b.db.run(lambda c: orders.buy(c, b, req, simulate=False))
        return b.db.run(lambda c: orders.act(c, b, q["transaction_code"], "payment", "integrator", "integrator"))["status"]

    assert step() == "Sending"
    assert benchmark(step) == "Sending"
