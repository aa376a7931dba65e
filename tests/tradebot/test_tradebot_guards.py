"""The guards: each alone (at and beside its boundary), pairs, and all at once.

Every case starts from ACTING, a snapshot in which rule 1 would transfer 0.3 to the exchange
(H = 1.3, C = R = 1.2 in the BASE scenario), so "skipped" visibly suppresses an action.
"""

from __future__ import annotations

import itertools

import pytest

from nexus.tradebot.decision import GUARD_NAMES
from tb_helpers import decision

ACTING = dict(H="1.3", C="1.2", R="1.2")

# One modification per guard that makes that guard, and only it, hold.
ALONE: dict[str, list[dict]] = {
    "inactive": [dict(active=False)],
    "open_orders_or_withdraws": [dict(open=True)],
    "recent_order": [dict(age="59.999"), dict(age="0"), dict(age=59)],
    "missing_hotwallet_deposits": [dict(miss_hot=True)],
    "missing_exchange_deposits": [dict(miss_ex=True)],
    "price_unknown": [dict(price=None), dict(internal=None), dict(price="0"), dict(internal="0"),
                      dict(price=None, internal=None), dict(price="-10000"), dict(internal="-1")],
    # exchange / internal - 1, the exchange price fixed at 10000 (the conversions unchanged):
    "price_divergence": [dict(internal="7999.99"),  # 1.2500015.. - 1 > 0.25
                         dict(internal="13333.34")],  # |0.7499996.. - 1| > 0.25
    "bad_trade_limits": [dict(max_trade="0"), dict(max_trade="99.99999999"),
                         dict(min_trade="0", max_trade="0")],
    "bad_transfer_limits": [dict(max_transfer="0"), dict(max_transfer="199.99999999")],
    "hotwallet_negative": [dict(C="-0.00000001"), dict(D="-0.00000001"),
                           dict(H="-1", C="-1", R="0"),  # total (and confirmed) below 0
                           dict(H="-2", C="-2", R="-1")],  # reserve below 0 (>= 0.99 * C)
    "hotwallet_total_below_confirmed": [dict(H="1.19999999", C="1.2", R="1.2")],
    "reserve_below_balance": [dict(C="1.2", R="1.18799999")],  # 0.99 * 1.2 = 1.188
    "bad_balance_params": [dict(M="-0.00000001"), dict(target="-1"), dict(wobble="-1"),
                           dict(wobble="10000.01")],
    "exchange_negative": [dict(X="-0.00000001"), dict(F="-0.00000001", FA="0")],
}

# Beside each boundary: these hold no guard (the acting scenario transfers, unskipped).
CLEAR = [
    dict(age="60"), dict(age="60.001"), dict(age=None),
    dict(internal="8000"),  # 10000 / 8000 - 1 = 0.25 exactly: not more
    dict(internal="13333.33"),  # 1 - 0.75000018.. < 0.25
    dict(max_trade="100"),  # max = min
    dict(max_transfer="200"),
    dict(H="1.2", C="1.2", R="1.2"),  # total = confirmed
    dict(C="1.2", R="1.188"),  # reserve = 99 % of balance
    dict(wobble="10000"),  # wobble = target
    dict(M="0"), dict(D="0"), dict(X="0"), dict(F="0"),
]


def test_guard_table_has_the_issue_names_in_order():
    assert GUARD_NAMES == (
        "inactive", "open_orders_or_withdraws", "recent_order", "missing_hotwallet_deposits",
        "missing_exchange_deposits", "price_unknown", "price_divergence", "bad_trade_limits",
        "bad_transfer_limits", "hotwallet_negative", "hotwallet_total_below_confirmed",
        "reserve_below_balance", "bad_balance_params", "exchange_negative",
    )
    assert set(ALONE) == set(GUARD_NAMES)


def test_acting_scenario_acts():
    assert decision(**ACTING)["actions"] == [{"action": "transfer_to_exchange", "amount": "0.30000000"}]


@pytest.mark.parametrize(
    "name, mod", [(name, mod) for name, mods in ALONE.items() for mod in mods],
    ids=lambda v: v if isinstance(v, str) else ",".join(f"{k}={w}" for k, w in v.items()),
)
def test_each_guard_alone_skips_everything(name, mod):
    d = decision(**{**ACTING, **mod})
    assert d["status"] == "skipped"
    assert d["reasons"] == [name]
    assert d["actions"] == []


@pytest.mark.parametrize("mod", CLEAR, ids=lambda m: ",".join(f"{k}={w}" for k, w in m.items()))
def test_beside_each_boundary_no_guard_holds(mod):
    d = decision(**{**ACTING, **mod})
    assert d["status"] == "ok" and d["reasons"] == []


def _pairs():
    firsts = [(name, mods[0]) for name, mods in ALONE.items()]
    for (a, ma), (b, mb) in itertools.combinations(firsts, 2):
        if set(ma) & set(mb):
            continue  # they set the same field; covered by the all-at-once cases
        if {a, b} == {"price_unknown", "price_divergence"}:
            continue  # exclusive: divergence is only computable with both prices known
        yield a, b, {**ma, **mb}


@pytest.mark.parametrize("a, b, mod", list(_pairs()), ids=lambda v: v if isinstance(v, str) else "")
def test_guards_in_pairs_report_both_in_order(a, b, mod):
    d = decision(**{**ACTING, **mod})
    assert d["status"] == "skipped" and d["actions"] == []
    assert d["reasons"] == [n for n in GUARD_NAMES if n in (a, b)]


# Every guard at once. price_unknown and price_divergence exclude each other (divergence needs
# both prices), so two snapshots: each reports the other thirteen, in the issue's order.
ALL_BUT_PRICE = dict(
    active=False, open=True, age="1", miss_hot=True, miss_ex=True,
    max_trade="0", max_transfer="100",  # max transfer below min transfer 200
    H="-1", C="1", R="0.5",  # H < 0 (negative), H < C, R < 0.99 * C
    wobble="20000",  # wobble above target
    X="-1", XA="0",
)


def test_all_guards_but_divergence():
    d = decision(**ALL_BUT_PRICE, price=None)
    assert d == {"status": "skipped", "reasons": [n for n in GUARD_NAMES if n != "price_divergence"],
                 "unbalanced": True, "actions": []}


def test_all_guards_but_price_unknown():
    d = decision(**ALL_BUT_PRICE, internal="5000")  # 10000 / 5000 - 1 = 1 > 0.25
    assert d == {"status": "skipped", "reasons": [n for n in GUARD_NAMES if n != "price_unknown"],
                 "unbalanced": True, "actions": []}


def test_limit_guards_are_reported_even_without_a_price():
    d = decision(price=None, max_trade="0", wobble="20000")
    assert d["reasons"] == ["price_unknown", "bad_trade_limits", "bad_balance_params"]
