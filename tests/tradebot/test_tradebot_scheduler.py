"""The scheduler: which cryptos run and when, never overlapping per crypto, execution, audit."""

from __future__ import annotations

import threading
import time
from decimal import Decimal

import pytest

from nexus.tradebot.paper import PaperChain, PaperExchange, PaperHotWallet
from nexus.tradebot.ports import ExchangeView, HotWalletView, ManualClock
from nexus.tradebot.scheduler import DEFAULT_INTERVAL_S, Scheduler, build_snapshot
from nexus.tradebot.settings import settings_from_obj
from nexus.tradebot.store import AuditLog, SettingsStore, open_db

D = Decimal
T0 = 1_700_000_000.0

# The BTC worked example of test_tradebot_examples: decided actions are
# transfer_from_exchange 0.10000000 and buy 0.53335560.
BTC = dict(
    crypto="BTC", exchange="kraken", currency="EUR", balance_target="50000", balance_wobble="5000",
    min_trade="20", max_trade="25000", min_transfer="50", max_transfer="10000",
    min_confirmed_hotwallet_balance="0.2", active=True,
)
BTC_HOT = HotWalletView(8, D("0.4"), D("0.4"), D("0.4"), D("0.05"), False, False)
BTC_EX = ExchangeView(D("37123.45"), D("0.1"), D("0.1"), D("20000"), D("20000"), False, False, None, False)


class FakeWallet:
    def __init__(self, views: dict[str, HotWalletView], prices: dict[str, Decimal]) -> None:
        self.views, self.prices, self.sent = views, prices, []
        self.fail: Exception | None = None

    def view(self, crypto):
        if self.fail:
            raise self.fail
        return self.views[crypto]

    def deposit_address(self, crypto):
        return f"hot:{crypto}"

    def send(self, crypto, address, amount):
        self.sent.append((crypto, address, amount))
        return f"tx-{len(self.sent)}"

    def internal_price(self, crypto, currency):
        return self.prices.get(crypto)


class FakeExchange:
    """Records calls; `gate` (if set) blocks `view` until released; tracks concurrency per crypto."""

    def __init__(self, views: dict[str, ExchangeView]) -> None:
        self.views, self.orders, self.withdrawals = views, [], []
        self.fail_withdraw: Exception | None = None
        self.gates: dict[str, threading.Event] = {}
        self.entered: dict[str, threading.Event] = {}
        self.active: dict[str, int] = {}
        self.max_active: dict[str, int] = {}
        self.delay_s = 0.0
        self._lock = threading.Lock()

    def view(self, crypto, currency):
        with self._lock:
            self.active[crypto] = self.active.get(crypto, 0) + 1
            self.max_active[crypto] = max(self.max_active.get(crypto, 0), self.active[crypto])
        try:
            self.entered.setdefault(crypto, threading.Event()).set()
            gate = self.gates.get(crypto)
            if gate is not None:
                assert gate.wait(10), "test gate never released"
            if self.delay_s:
                time.sleep(self.delay_s)
            return self.views[crypto]
        finally:
            with self._lock:
                self.active[crypto] -= 1

    def deposit_address(self, crypto):
        return f"kraken:{crypto}"

    def market_order(self, crypto, currency, side, amount):
        self.orders.append((crypto, currency, side, amount))
        return f"order-{len(self.orders)}"

    def withdraw(self, crypto, address, amount):
        if self.fail_withdraw:
            raise self.fail_withdraw
        self.withdrawals.append((crypto, address, amount))
        return f"wd-{len(self.withdrawals)}"


@pytest.fixture
def db(tmp_path):
    engine = open_db(f"sqlite:///{tmp_path / 'nexus.db'}")
    return SettingsStore(engine), AuditLog(engine)


def make(db, wallet, exchange, clock, **kw):
    store, audit = db
    return Scheduler(settings=store, audit=audit, wallet=wallet, exchanges={"kraken": exchange},
                     prices=wallet, clock=clock, **kw)


def put(store, **changes):
    store.put(settings_from_obj({**BTC, **changes}), now_ns=0)


def test_default_interval_is_one_minute():
    assert DEFAULT_INTERVAL_S == 60.0


def test_snapshot_from_ports():
    s = settings_from_obj(BTC)
    ex = ExchangeView(D("1"), D("2"), D("1.5"), D("3"), D("2.5"), False, True, T0 - 12.3456, True)
    snap = build_snapshot(s, BTC_HOT, ex, D("36000"), now_s=T0)
    assert snap.decimals == 8 and snap.exchange_price == D("1") and snap.internal_price == D("36000")
    assert snap.state.exchange_crypto_available == D("1.5") and snap.state.delayed_send == D("0.05")
    assert snap.flags.open_orders_or_withdraws is True  # the exchange's open withdrawal
    assert snap.flags.last_order_age_s == D("12.346")  # to the millisecond
    assert snap.flags.missing_exchange_deposits is True and snap.flags.missing_hotwallet_deposits is False
    assert snap.settings.balance_target == D("50000")


def test_runs_active_cryptos_executes_and_records(db):
    store, audit = db
    put(store)
    put(store, crypto="ETH", active=False)
    wallet = FakeWallet({"BTC": BTC_HOT}, {"BTC": D("36000")})
    ex = FakeExchange({"BTC": BTC_EX})
    clock = ManualClock(T0)
    with make(db, wallet, ex, clock) as sch:
        assert sch.tick() == ["BTC"]  # ETH is inactive: not run
        sch.wait()
    assert ex.withdrawals == [("BTC", "hot:BTC", D("0.10000000"))]
    assert ex.orders == [("BTC", "EUR", "buy", D("0.53335560"))]
    [e] = audit.entries()
    assert e.crypto == "BTC" and e.outcome == "executed" and e.status == "ok" and e.reasons == []
    assert e.actions == [{"action": "transfer_from_exchange", "amount": "0.10000000"},
                         {"action": "buy", "amount": "0.53335560"}]
    assert [(r["ok"], r["ref"]) for r in e.results] == [(True, "wd-1"), (True, "order-1")]
    # the inputs are recorded in the decide schema
    assert e.snapshot["state"]["hotwallet_total_balance"] == "0.4"
    assert e.snapshot["exchange_price"] == "37123.45" and e.snapshot["internal_price"] == "36000"
    assert e.started_at_ns == int(T0 * 1e9)


def test_due_every_interval_and_missed_rounds_not_made_up(db):
    store, _ = db
    put(store, active=True)
    wallet = FakeWallet({"BTC": BTC_HOT}, {"BTC": D("36000")})
    ex = FakeExchange({"BTC": BTC_EX})
    clock = ManualClock(T0)
    with make(db, wallet, ex, clock, execute=False) as sch:
        assert sch.tick() == ["BTC"]
        sch.wait()
        clock.advance(59.999)
        assert sch.tick() == []
        clock.advance(0.001)  # T0 + 60
        assert sch.tick() == ["BTC"]
        sch.wait()
        clock.advance(600.5)  # T0 + 660.5: ten rounds late, one run, next due T0 + 720
        assert sch.tick() == ["BTC"]
        sch.wait()
        assert sch.next_due_s() == T0 + 720
        assert sch.tick() == []


def test_never_overlaps_for_one_crypto(db):
    store, audit = db
    put(store)
    put(store, crypto="ETH")
    eth_ex = ExchangeView(D("2000"), D("0"), D("0"), D("0"), D("0"), False, False, None, False)
    wallet = FakeWallet({"BTC": BTC_HOT, "ETH": HotWalletView(18, D(1), D(1), D(1), D(0), False, False)},
                        {"BTC": D("36000"), "ETH": D("2000")})
    ex = FakeExchange({"BTC": BTC_EX, "ETH": eth_ex})
    ex.gates["BTC"] = threading.Event()  # BTC's run hangs in the exchange until released
    ex.entered["BTC"] = threading.Event()
    clock = ManualClock(T0)
    with make(db, wallet, ex, clock, execute=False) as sch:
        assert sch.tick() == ["BTC", "ETH"]
        assert ex.entered["BTC"].wait(5)
        wait_for(lambda: count(audit, "ETH") == 1)
        clock.advance(60)
        assert sch.tick() == ["ETH"]  # BTC still running: skipped, not started twice
        assert sch.overlaps_skipped["BTC"] == 1
        assert sch.run_once("BTC") is None  # nor by hand
        assert sch.overlaps_skipped["BTC"] == 2
        wait_for(lambda: count(audit, "ETH") == 2)  # ETH goes on while BTC hangs
        assert count(audit, "BTC") == 0
        ex.gates["BTC"].set()
        sch.wait()
        clock.advance(60)
        assert sch.tick() == ["BTC", "ETH"]  # released: due again
        sch.wait()
    assert ex.max_active["BTC"] == 1
    outcomes = [(e.crypto, e.outcome) for e in audit.entries()]
    assert outcomes.count(("BTC", "dry_run")) == 2 and outcomes.count(("ETH", "no_action")) == 3


def count(audit, crypto):
    return sum(e.crypto == crypto for e in audit.entries())


def wait_for(condition, timeout_s=10.0):
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.005)


def test_no_overlap_under_a_real_clock_with_slow_runs(db):
    """Runs take 3x the interval: the scheduler skips rounds rather than stacking runs."""
    from nexus.tradebot.ports import SystemClock

    store, audit = db
    put(store)
    wallet = FakeWallet({"BTC": BTC_HOT}, {"BTC": D("36000")})
    ex = FakeExchange({"BTC": BTC_EX})
    ex.delay_s = 0.15
    with make(db, wallet, ex, SystemClock(), interval_s=0.05, execute=False) as sch:
        sch.run(threading.Event(), max_rounds=12)
    assert ex.max_active["BTC"] == 1
    assert sch.overlaps_skipped["BTC"] >= 1
    assert len(audit.entries()) >= 2


def test_upstream_error_is_recorded_and_nothing_executed(db):
    store, audit = db
    put(store)
    wallet = FakeWallet({"BTC": BTC_HOT}, {"BTC": D("36000")})
    wallet.fail = ConnectionError("ledger unreachable")
    ex = FakeExchange({"BTC": BTC_EX})
    with make(db, wallet, ex, ManualClock(T0)) as sch:
        e = sch.run_once("BTC")
    assert e.outcome == "error" and e.error == "ConnectionError: ledger unreachable"
    assert e.snapshot is None and e.actions == []
    assert ex.orders == [] and ex.withdrawals == []
    assert audit.entries()[0].error == "ConnectionError: ledger unreachable"


def test_unknown_exchange_is_an_error_entry(db):
    store, _ = db
    put(store, exchange="coinbase")  # a venue, but not one this scheduler has
    with make(db, FakeWallet({"BTC": BTC_HOT}, {}), FakeExchange({}), ManualClock(T0)) as sch:
        e = sch.run_once("BTC")
    assert e.outcome == "error" and "coinbase" in e.error


def test_failed_action_stops_the_rest(db):
    store, audit = db
    put(store)
    ex = FakeExchange({"BTC": BTC_EX})
    ex.fail_withdraw = RuntimeError("withdrawals suspended")
    with make(db, FakeWallet({"BTC": BTC_HOT}, {"BTC": D("36000")}), ex, ManualClock(T0)) as sch:
        e = sch.run_once("BTC")
    assert e.outcome == "failed"
    assert e.results == [
        {"action": "transfer_from_exchange", "amount": "0.10000000", "ok": False,
         "error": "RuntimeError: withdrawals suspended"},
        {"action": "buy", "amount": "0.53335560", "ok": False, "error": "not attempted: an earlier action failed"},
    ]
    assert ex.orders == []
    assert audit.entries()[0].outcome == "failed"


def test_skipped_and_dry_run(db):
    store, audit = db
    put(store)
    busy = ExchangeView(D("37123.45"), D("0.1"), D("0.1"), D("20000"), D("20000"), True, False, T0 - 30, False)
    ex = FakeExchange({"BTC": busy})
    with make(db, FakeWallet({"BTC": BTC_HOT}, {"BTC": D("36000")}), ex, ManualClock(T0)) as sch:
        e = sch.run_once("BTC")
    assert e.outcome == "skipped" and e.reasons == ["open_orders_or_withdraws", "recent_order"]
    ex.views["BTC"] = BTC_EX
    with make(db, FakeWallet({"BTC": BTC_HOT}, {"BTC": D("36000")}), ex, ManualClock(T0), execute=False) as sch:
        e = sch.run_once("BTC")
    assert e.outcome == "dry_run" and len(e.actions) == 2 and e.results == []
    assert ex.orders == [] and ex.withdrawals == []
    assert [x.outcome for x in audit.entries()] == ["skipped", "dry_run"]


def test_paper_world_two_rounds_by_hand(db):
    """The BTC example on the paper world, executed, then the next round on the new balances.

    Round 1 (T0): transfer 0.1 from the exchange, buy 0.53335560 (see the worked example).
      Buy notional 0.5333556 * 37123.45 = 19799.99994882, fee 0.1 % rounded up to the cent 19.80:
      currency 20000 - 19799.99994882 - 19.80 = 180.20005118; exchange crypto 0.1 - 0.1 + 0.5333556.
      Hot wallet 0.4 + 0.1 = 0.5 (no confirmation delay); D = 0 in the paper world.
    Round 2 (T0 + 60; the order is exactly 60 s old: not "less than 1 minute"):
      Rule 2: 0.5 < T - W: amount T - 0.5 = 0.84685.., capped at XA 0.5333556, then at max
      transfer 10000 / 37123.45 = 0.269371515847.. -> 0.26937151.
      Rule 4: X 0.5333556 < T - H 0.84685..: amount T - 1.0333556 = 0.3135..; * P = 11638.27..
      > 0.99 * 180.20005118 = 178.3980506682 -> 178.3980506682 / 37123.45 = 0.0048055353.. ->
      0.00480553.
    """
    store, audit = db
    put(store)
    clock = ManualClock(T0)
    chain = PaperChain(clock)
    wallet = PaperHotWallet(chain)
    wallet.add_crypto("BTC", 8, D("0.4"))
    wallet.set_internal_price("BTC", "EUR", D("36000"))
    ex = PaperExchange("kraken", chain)
    ex.add_market("BTC", "EUR", D("37123.45"), D("0.1"), D("20000"))
    with Scheduler(settings=store, audit=audit, wallet=wallet, exchanges={"kraken": ex}, prices=wallet,
                   clock=clock, wait_each_round=True) as sch:
        sch.run(threading.Event(), max_rounds=2)
    first, second = audit.entries()
    assert first.actions == [{"action": "transfer_from_exchange", "amount": "0.10000000"},
                             {"action": "buy", "amount": "0.53335560"}]
    assert D(second.snapshot["state"]["exchange_currency_available"]) == D("180.20005118")
    assert second.snapshot["flags"]["last_order_age_s"] == "60.000"
    assert second.actions == [{"action": "transfer_from_exchange", "amount": "0.26937151"},
                              {"action": "buy", "amount": "0.00480553"}]
    assert first.outcome == second.outcome == "executed"
    assert wallet.view("BTC").confirmed_balance == D("0.4") + D("0.1") + D("0.26937151")
