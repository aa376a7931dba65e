"""The Tradebot end to end over the broker: a real SQLite database with the broker's ledger, the
in-process Ethereum chain (eth-tester + py-evm), the venue simulator's ETH book (kraken), and
`SimExchange` between them. No mocks: every balance is read from the ledger, the chain or the
exchange account, every transfer is a mined chain transaction."""

from __future__ import annotations

from decimal import Decimal

import pytest

from nexus.broker import assemble, ledger
from nexus.broker.clock import ManualClock as BrokerClock
from nexus.broker.workers import Workers
from nexus.sim.core import SimCore
from nexus.tradebot.broker_world import broker_ports, fund_exchange, make_exchange
from nexus.tradebot.ports import ManualClock
from nexus.tradebot.scheduler import Scheduler
from nexus.tradebot.settings import settings_from_obj
from nexus.tradebot.store import AuditLog, SettingsStore, metadata

OPERATORS = {"ann": "ann-operator-key"}
ETH = Decimal(10) ** 18


@pytest.fixture
def world(tmp_path):
    b = assemble.build(db_url=str(tmp_path / "broker.db"), api_key="integrator-key", operators=OPERATORS,
                       callback_secret="cb-secret", clock=BrokerClock())
    rt = Workers(b)
    rt.prepare()
    engine = SimCore(seed=5, venues=["kraken"], symbol="ETHUSDT")
    for _ in range(50):
        engine.step()
    clock = ManualClock()
    ex = make_exchange(b, "kraken", engine, "kraken", clock)
    mid = ex.price()
    assert mid is not None and mid > 0
    b.prices.set("ETH", mid.quantize(Decimal("0.01")))  # the broker's internal price: the book's mid
    fund_exchange(b, ex, "EUR", Decimal("100000.00"))
    metadata.create_all(b.db.pool)
    store, audit = SettingsStore(b.db.pool), AuditLog(b.db.pool)
    wallet, prices = broker_ports(b)
    sched = Scheduler(settings=store, audit=audit, wallet=wallet, exchanges={"kraken": ex}, prices=prices, clock=clock)
    w = type("W", (), dict(b=b, rt=rt, engine=engine, clock=clock, ex=ex, mid=mid, store=store, audit=audit,
                          wallet=wallet, sched=sched))()
    yield w
    sched.close()
    b.db.dispose()


def put_settings(w, target_eth: str, wobble_eth: str = "50", max_transfer_eth: str = "20", max_trade_eth: str = "0.5"):
    """Settings in fiat, from crypto amounts at the current mid."""
    p = w.mid
    fiat = lambda eth: str((Decimal(eth) * p).quantize(Decimal("0.01")))  # noqa: E731
    obj = {"crypto": "ETH", "exchange": "kraken", "currency": "EUR", "active": True,
           "balance_target": fiat(target_eth), "balance_wobble": fiat(wobble_eth),
           "min_trade": fiat("0.1"), "max_trade": fiat(max_trade_eth),
           "min_transfer": fiat("1"), "max_transfer": fiat(max_transfer_eth),
           "min_confirmed_hotwallet_balance": "0"}
    w.store.put(settings_from_obj(obj), 0)


def ledger_balance(w, account: str) -> int:
    with w.b.db.read() as conn:
        return ledger.balance(conn, account, "ETH")


def test_transfers_trades_and_guards_end_to_end(world):
    w = world
    b, ex = w.b, w.ex
    hot = b.chain.hot_address
    start_reserve = b.chain.balance("ETH", hot)
    assert start_reserve == 1000 * ETH  # the in-process chain's funded hot wallet

    # 1. Hot wallet (1000 ETH) above target (900) + wobble (50): a transfer to the exchange.
    put_settings(w, target_eth="900")
    e1 = w.sched.run_once("ETH")
    assert e1.status == "ok" and e1.outcome == "executed", (e1.results, e1.actions)
    assert e1.actions == [{"action": "transfer_to_exchange", "amount": e1.actions[0]["amount"]}]
    sent = Decimal(e1.actions[0]["amount"])
    assert Decimal("19.9") < sent <= Decimal(20)  # max transfer 20 ETH in fiat, re-divided by the price
    assert Decimal(e1.snapshot["state"]["hotwallet_confirmed_balance"]) == 1000
    tx_hash = e1.results[0]["ref"]
    rcpt = b.chain.receipt(tx_hash)
    assert rcpt is not None and rcpt.ok  # a real chain transaction, mined
    assert b.chain.balance("ETH", ex.address) >= int(sent * ETH)
    assert ledger_balance(w, "exchange") == int(sent * ETH)  # booked hot_wallet -> exchange
    assert ledger_balance(w, "hot_wallet") == 1000 * ETH - int(sent * ETH) - rcpt.gas_cost_wei

    # 2. Mined but with 1 of the exchange's 2 confirmations: a missing exchange deposit.
    e2 = w.sched.run_once("ETH")
    assert e2.outcome == "skipped" and e2.reasons == ["missing_exchange_deposits"], e2.to_obj()
    assert ex.view("ETH", "EUR").crypto_total == 0

    # 3. One more block: the deposit is credited. Still above target: another transfer, and the
    # physical balance (hot + exchange) above target + wobble: a market sell against the book.
    b.chain.sim.mine(1)
    v = ex.view("ETH", "EUR")
    assert v.crypto_total == sent and not v.missing_deposits
    w.clock.advance(61)
    bids = [(Decimal(p), Decimal(q)) for p, q in w.engine.book("kraken")["bids"]]
    e3 = w.sched.run_once("ETH")
    assert e3.outcome == "executed", e3.to_obj()
    kinds = [a["action"] for a in e3.actions]
    assert kinds == ["transfer_to_exchange", "sell"], e3.actions
    sell_amount = Decimal(e3.actions[1]["amount"])
    assert Decimal("0.49") < sell_amount <= Decimal("0.5")
    order = ex.orders[-1]
    assert order["side"] == "sell" and order["amount"] == sell_amount
    # the fill walked the book's bids, best first, independently recomputed here
    left, notional = sell_amount, Decimal(0)
    for p, q in bids:
        take = min(left, q)
        notional += p * take
        left -= take
        if left == 0:
            break
    assert left == 0 and order["notional"] == notional
    fee = (notional * Decimal("0.001")).quantize(Decimal("0.01"), rounding="ROUND_CEILING")
    assert ex.balances["EUR"] == Decimal("100000.00") + notional.quantize(Decimal("0.01"), rounding="ROUND_FLOOR") - fee
    assert ledger_balance(w, "exchange") == int((2 * 0 + sent + Decimal(e3.actions[0]["amount"]) - sell_amount) * ETH)

    # 4. Right after the order: the recent-order guard (and the second deposit still missing).
    e4 = w.sched.run_once("ETH")
    assert e4.outcome == "skipped" and "recent_order" in e4.reasons and "missing_exchange_deposits" in e4.reasons

    # 5. Target raised to 1100 ETH: the hot wallet is below target - wobble. A withdrawal from
    # the exchange (a chain transfer to the hot wallet) and a market buy against the asks.
    b.chain.sim.mine(1)
    w.clock.advance(61)
    put_settings(w, target_eth="1100")
    ex_before = ex.view("ETH", "EUR").crypto_total
    hot_chain_before = b.chain.balance("ETH", hot)
    e5 = w.sched.run_once("ETH")
    assert e5.outcome == "executed", e5.to_obj()
    assert [a["action"] for a in e5.actions] == ["transfer_from_exchange", "buy"], e5.actions
    back = Decimal(e5.actions[0]["amount"])
    bought = Decimal(e5.actions[1]["amount"])
    assert back == min(ex_before, back) and back > 0
    assert b.chain.balance("ETH", hot) == hot_chain_before + int(back * ETH)  # arrived on chain
    assert ex.orders[-1]["side"] == "buy" and ex.orders[-1]["amount"] == bought
    assert ex.view("ETH", "EUR").crypto_total == ex_before - back + bought

    # 6. The withdrawal has 1 of the broker's 3 confirmations: a missing hot-wallet deposit,
    # counted in the total balance but not in the confirmed one.
    w.clock.advance(61)
    e6 = w.sched.run_once("ETH")
    assert e6.outcome == "skipped" and e6.reasons == ["missing_hotwallet_deposits"], e6.to_obj()
    s6 = e6.snapshot["state"]
    assert Decimal(s6["hotwallet_total_balance"]) - Decimal(s6["hotwallet_confirmed_balance"]) == back

    # 7. Confirmed: booked exchange -> hot wallet; the ledger matches the chain again.
    b.chain.sim.mine(2)
    view = w.wallet.view("ETH")
    assert not view.missing_deposits
    assert view.total_balance == view.confirmed_balance
    assert abs(view.confirmed_reserve - (view.confirmed_balance + view.delayed_send)) <= Decimal("1e-18")

    # every run is in the audit log, in order, with its inputs
    entries = w.audit.entries("ETH")
    assert [e.id for e in entries] == [x.id for x in (e1, e2, e3, e4, e5, e6)]
    assert all(e.snapshot is not None for e in entries)
    assert [e.outcome for e in entries] == ["executed", "skipped", "executed", "skipped", "executed", "skipped"]


def test_price_divergence_skips_and_sends_nothing(world):
    w = world
    put_settings(w, target_eth="900")
    w.b.prices.set("ETH", (w.mid * Decimal("1.4")).quantize(Decimal("0.01")))
    e = w.sched.run_once("ETH")
    assert e.outcome == "skipped" and e.reasons == ["price_divergence"]
    assert w.b.chain.balance("ETH", w.ex.address) == 100 * ETH  # the exchange wallet's gas only: nothing sent


def test_settings_routes_in_the_broker_api(world):
    from fastapi.testclient import TestClient

    from nexus.backoffice import create_app

    w = world
    client = TestClient(create_app(w.b))
    h = {"X-Operator-Key": OPERATORS["ann"]}
    good = {"exchange": "kraken", "currency": "EUR", "balance_target": "10000.00", "balance_wobble": "1000.00",
            "min_trade": "10.00", "max_trade": "1000.00", "min_transfer": "10.00", "max_transfer": "5000.00",
            "min_confirmed_hotwallet_balance": "0.5", "active": True}
    assert client.put("/api/v1/operator/tradebot/settings/ETH", json=good).status_code == 401
    r = client.put("/api/v1/operator/tradebot/settings/ETH", json=good, headers=h)
    assert r.status_code == 200 and Decimal(r.json()["balance_target"]) == 10000
    assert w.store.get("ETH").max_trade == Decimal("1000")
    for bad in ({"max_trade": "0"}, {"max_trade": "5.00"}, {"balance_wobble": "20000"}, {"balance_target": "-1"},
                {"max_transfer": "1.00"}):
        r = client.put("/api/v1/operator/tradebot/settings/ETH", json=bad, headers=h)
        assert r.status_code == 422 and r.json()["error"]["code"] == "settings_refused", (bad, r.text)
    r = client.put("/api/v1/operator/tradebot/settings/ETH", json={"max_trade": 5}, headers=h)
    assert r.status_code == 422  # JSON numbers refused, as everywhere in the broker API
    assert w.store.get("ETH").max_trade == Decimal("1000")  # nothing refused was stored
    r = client.get("/api/v1/operator/tradebot/settings/ETH", headers=h)
    assert r.status_code == 200 and r.json()["min_confirmed_hotwallet_balance"] == "0.5"
    assert client.get("/api/v1/operator/tradebot/settings/USDT", headers=h).status_code == 404


def test_settings_routes_refuse_unknown_names(world):
    """Issue 16, item 8: an exchange nexus has no venue for, a currency other than the broker's
    fiat, a crypto the broker does not carry: 422 settings_refused, nothing stored."""
    from fastapi.testclient import TestClient

    from nexus.backoffice import create_app

    client = TestClient(create_app(world.b))
    h = {"X-Operator-Key": OPERATORS["ann"]}
    good = {"exchange": "kraken", "currency": "EUR", "balance_target": "10000.00", "balance_wobble": "1000.00",
            "min_trade": "10.00", "max_trade": "1000.00", "min_transfer": "10.00", "max_transfer": "5000.00",
            "min_confirmed_hotwallet_balance": "0.5", "active": True}
    for crypto, change, fragment in [("ETH", {"exchange": "nosuchex"}, "exchange 'nosuchex' is unknown"),
                                     ("ETH", {"currency": "XYZ"}, "currency 'XYZ' is unknown"),
                                     ("DOGE", {}, "carries ETH and USDT only"),
                                     ("BTC", {}, "carries ETH and USDT only")]:
        r = client.put(f"/api/v1/operator/tradebot/settings/{crypto}", json={**good, **change}, headers=h)
        assert r.status_code == 422 and r.json()["error"]["code"] == "settings_refused", r.text
        assert fragment in r.json()["error"]["message"], r.text
    assert world.store.all() == []
