"""Settings: the seed's bad parameters refused when set; storage exact and in tradebot_* tables."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from nexus.exceptions import ConfigError, NexusError
from nexus.tradebot.errors import SettingsRefused
from nexus.tradebot.settings import CryptoSettings, problems, settings_from_obj
from nexus.tradebot.store import AuditEntry, AuditLog, SettingsStore, open_db

GOOD = dict(
    crypto="BTC", exchange="kraken", currency="EUR", balance_target="50000", balance_wobble="5000",
    min_trade="20", max_trade="25000", min_transfer="50", max_transfer="10000",
    min_confirmed_hotwallet_balance="0.2", active=True,
)


def test_good_settings_are_accepted():
    s = settings_from_obj(GOOD)
    assert s.balance_target == Decimal("50000") and s.active is True
    assert problems(s) == []


@pytest.mark.parametrize(
    "change, fragment",
    [
        (dict(max_trade="0"), "bad_trade_limits"),
        (dict(max_trade="19.99"), "bad_trade_limits"),  # below min trade 20
        (dict(max_transfer="0"), "bad_transfer_limits"),
        (dict(max_transfer="49.99"), "bad_transfer_limits"),
        (dict(min_confirmed_hotwallet_balance="-0.00000001"), "bad_balance_params"),
        (dict(balance_target="-1", balance_wobble="0"), "bad_balance_params"),
        (dict(balance_wobble="-1"), "bad_balance_params"),
        (dict(balance_wobble="50000.01"), "bad_balance_params"),  # wobble above target
        (dict(min_trade="0"), "more than 0"),  # the seed's assumption: all min/max > 0
        (dict(min_transfer="-5", max_transfer="-1"), "more than 0"),
        (dict(max_trade="abc"), "not a decimal"),
        (dict(crypto="B T C"), "crypto"),
        (dict(currency=""), "currency"),
        # the Tradebot places orders: the Aggregator's consensus (AGG mode) is data-only
        (dict(exchange="agg"), "pick one venue"),
        (dict(exchange="AGG"), "pick one venue"),
    ],
)
def test_bad_parameters_are_refused(change, fragment):
    with pytest.raises(SettingsRefused, match=fragment) as info:
        settings_from_obj({**GOOD, **change})
    assert isinstance(info.value, ConfigError) and isinstance(info.value, NexusError)


def test_boundaries_that_are_accepted():
    settings_from_obj({**GOOD, "max_trade": "20"})  # max = min
    settings_from_obj({**GOOD, "max_transfer": "50"})
    settings_from_obj({**GOOD, "balance_wobble": "50000"})  # wobble = target
    settings_from_obj({**GOOD, "min_confirmed_hotwallet_balance": "0"})


def test_every_problem_is_listed_at_once():
    with pytest.raises(SettingsRefused) as info:
        settings_from_obj({**GOOD, "max_trade": "0", "max_transfer": "1", "balance_wobble": "60000"})
    text = str(info.value)
    assert "bad_trade_limits" in text and "bad_transfer_limits" in text and "bad_balance_params" in text


def test_new_crypto_needs_every_value_and_updates_merge():
    with pytest.raises(SettingsRefused, match="missing"):
        settings_from_obj({"crypto": "ETH", "balance_target": "1"})
    base = settings_from_obj(GOOD)
    changed = settings_from_obj({"max_trade": "30000", "active": "false"}, base)
    assert changed.max_trade == Decimal("30000") and changed.active is False
    assert changed.min_trade == base.min_trade
    with pytest.raises(SettingsRefused, match="below min_trade"):
        settings_from_obj({"min_trade": "40000"}, base)  # the merged result is what is checked
    with pytest.raises(SettingsRefused, match="unknown setting"):
        settings_from_obj({"max_trades": "1"}, base)


@pytest.fixture
def engine(tmp_path):
    return open_db(f"sqlite:///{tmp_path / 'nexus.db'}")


def test_store_round_trips_exact_decimals(engine):
    store = SettingsStore(engine)
    s = settings_from_obj({**GOOD, "min_confirmed_hotwallet_balance": "0.123456789012345678"})
    store.put(s, now_ns=1)
    assert store.get("BTC") == s
    assert store.get("BTC").min_confirmed_hotwallet_balance == Decimal("0.123456789012345678")
    store.put(settings_from_obj({"active": False}, s), now_ns=2)  # update in place
    assert [x.active for x in store.all()] == [False]
    assert store.active() == []


def test_store_refuses_bad_settings_and_keeps_the_old_ones(engine):
    store = SettingsStore(engine)
    s = store.put(settings_from_obj(GOOD), now_ns=1)
    bad = CryptoSettings(**{**_fields(s), "max_trade": Decimal(0)})
    with pytest.raises(SettingsRefused):
        store.put(bad, now_ns=2)
    assert store.get("BTC") == s


def _fields(s: CryptoSettings) -> dict:
    from dataclasses import fields

    return {f.name: getattr(s, f.name) for f in fields(s)}


def test_only_tradebot_tables_are_created(engine):
    names = set(sa.inspect(engine).get_table_names())
    assert names == {"tradebot_settings", "tradebot_audit"}


def test_audit_log_round_trip_and_order(engine):
    log = AuditLog(engine)
    for i, outcome in enumerate(["skipped", "executed", "error"]):
        log.record(AuditEntry("BTC" if i != 1 else "ETH", 10 + i, 20 + i, outcome,
                              reasons=["inactive"] if outcome == "skipped" else [],
                              error="boom" if outcome == "error" else None))
    got = log.entries()
    assert [e.outcome for e in got] == ["skipped", "executed", "error"]  # oldest first
    assert [e.id for e in got] == sorted(e.id for e in got)
    assert got[0].reasons == ["inactive"] and got[2].error == "boom"
    assert [e.outcome for e in log.entries("BTC")] == ["skipped", "error"]
    assert [e.outcome for e in log.entries(limit=1)] == ["error"]
