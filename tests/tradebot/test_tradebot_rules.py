"""The four rules at, just below and just above each boundary, computed by hand.

Scenario (tb_helpers.BASE): price 10000, T = 1, W = 0.1, M = 0.5, min/max transfer 0.02/0.3,
min/max trade 0.01/0.5, decimals 8 (one unit = 0.00000001). Each case lists the full expected
action list, so a rule firing where it should not is caught too; the comment on each case is the
hand computation from the seed's text.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from tb_helpers import actions, decision

T2E, FROM, SELL, BUY = "transfer_to_exchange", "transfer_from_exchange", "sell", "buy"


def test_base_scenario_is_quiet():
    assert decision() == {"status": "ok", "reasons": [], "unbalanced": False, "actions": []}


# ---- rule 1: hot wallet too high -> transfer to exchange --------------------------------------
# Condition: H > T + W (1.1) and C >= T (1) and C - D > M (0.5).
# Amount: H - T; if R - amount < M: R - M; capped at max transfer; emitted if >= min transfer.


@pytest.mark.parametrize(
    "kw, expected",
    [
        # H vs T + W = 1.1 (C = R = H, D = 0). Rule 3 also holds above 1.1 but XA = 0 caps it to 0.
        (dict(H="1.1"), []),
        (dict(H="1.09999999"), []),
        (dict(H="1.10000001"), [(T2E, "0.10000001")]),  # amount = 1.10000001 - 1
        # C vs T = 1 (H = R = 1.2): at T it holds, one unit below it does not.
        (dict(H="1.2", C="1", R="1"), [(T2E, "0.20000000")]),  # R - 0.2 = 0.8 >= 0.5
        (dict(H="1.2", C="0.99999999", R="0.99999999"), []),
        (dict(H="1.2", C="1.00000001", R="1.00000001"), [(T2E, "0.20000000")]),
    ],
)
def test_rule1_condition_h_and_c(kw, expected):
    assert actions(**kw) == expected


@pytest.mark.parametrize(
    "D, expected",
    [
        # H = C = R = 1.2: C - D > 0.5 <=> D < 0.7.
        ("0.7", []),  # C - D = 0.5: not more than M. Rule 2: H - D = 0.5 not < M either.
        ("0.69999999", [(T2E, "0.20000000")]),  # amount 1.2 - 1 = 0.2; R - 0.2 = 1.0 >= M
        # D = 0.70000001: rule 1 fails; rule 2 holds (H - D < M) with amount D, but XA = 0 caps it
        # to 0; rule 4 part B needs H - D < min transfer 0.02 (it is 0.49999999): nothing.
        ("0.70000001", []),
    ],
)
def test_rule1_condition_delayed_send(D, expected):
    assert actions(H="1.2", D=D) == expected


@pytest.mark.parametrize(
    "R, expected",
    [
        # M = 0.9 (= T - W, so unclamped), H = 1.3, C = 1.2: amount starts at H - T = 0.3.
        # R - 0.3 < 0.9 <=> R < 1.2, then amount = R - 0.9.
        ("1.2", "0.30000000"),  # R - 0.3 = 0.9, not less than M: stays 0.3
        ("1.19999999", "0.29999999"),  # 0.89999999 < 0.9: amount = 1.19999999 - 0.9
        ("1.20000001", "0.30000000"),
        ("1.19", "0.29000000"),  # 1.19 - 0.9 (R >= 0.99 * 1.2 = 1.188, so no guard)
    ],
)
def test_rule1_amount_limited_by_reserve_over_minimum(R, expected):
    assert actions(H="1.3", C="1.2", R=R, M="0.9") == [(T2E, expected)]


@pytest.mark.parametrize(
    "H, expected",
    [
        # C = R = 1.2 (R - amount >= 0.9 >= M throughout); amount = H - 1 capped at 0.3.
        ("1.3", "0.30000000"),
        ("1.29999999", "0.29999999"),
        ("1.30000001", "0.30000000"),
        ("5", "0.30000000"),
    ],
)
def test_rule1_amount_capped_at_max_transfer(H, expected):
    assert actions(H=H, C="1.2", R="1.2") == [(T2E, expected)]


@pytest.mark.parametrize(
    "H, expected",
    [
        # min transfer 1500 / 10000 = 0.15; amount = H - 1; emitted when >= 0.15.
        ("1.15", [(T2E, "0.15000000")]),
        ("1.14999999", []),
        ("1.15000001", [(T2E, "0.15000001")]),
    ],
)
def test_rule1_min_transfer_is_inclusive(H, expected):
    assert actions(H=H, min_transfer="1500") == expected


@pytest.mark.parametrize(
    "min_transfer, expected",
    [
        # decimals 2, price 3: T = 10/3 = 3.333.., W = 1/3, T + W = 3.666.., M = 0.
        # H = C = R = 3.82: amount = 3.82 - 3.333.. = 0.48666.., max transfer 3/3 = 1.
        # Quantized toward zero: 0.48 (not 0.49). Then compared with the minimum:
        ("1.45", []),  # 1.45 / 3 = 0.48333..: 0.48 < it, though 0.48666.. was not
        ("1.44", [(T2E, "0.48")]),  # 1.44 / 3 = 0.48 exactly: 0.48 >= 0.48
    ],
)
def test_rule1_amount_quantized_toward_zero_before_the_minimum(min_transfer, expected):
    kw = dict(decimals=2, price="3", internal="3", target="10", wobble="1", M="0",
              min_trade="0.03", max_trade="3", max_transfer="3", F="100", FA="100")
    assert actions(H="3.82", min_transfer=min_transfer, **kw) == expected


def test_rule1_quantization_rounds_down_not_to_nearest():
    # price 30000: T = 1/3, W = 1/30, M = 0.1, max transfer 6000/30000 = 0.2.
    # H = C = R = 0.5: amount 0.5 - 0.333.. = 0.1666..; half-even would give 0.16666667.
    kw = dict(price="30000", internal="30000", max_transfer="6000", M="0.1")
    assert actions(H="0.5", **kw) == [(T2E, "0.16666666")]


# ---- rule 2: hot wallet too low -> transfer from exchange -------------------------------------
# Condition: H < T - W (0.9) or H - D < M (0.5).
# Amount: T - H; if D > amount and H - D < M: D; capped at XA; at max transfer; emitted if >= min.


@pytest.mark.parametrize(
    "H, expected",
    [
        # X = XA = 0.15 (so H + X < 1.1: no sell; X >= T - H: rule 4 part A does not hold).
        ("0.9", []),
        ("0.89999999", [(FROM, "0.10000001")]),  # 1 - 0.89999999
        ("0.90000001", []),
    ],
)
def test_rule2_condition_below_target_minus_wobble(H, expected):
    assert actions(H=H, X="0.15", XA="0.15") == expected


@pytest.mark.parametrize(
    "D, expected",
    [
        # H = C = R = 1, X = XA = 2. H - D < 0.5 <=> D > 0.5.
        ("0.5", []),  # rule 2 no; rule 3: H - D = 0.5 not > M: no sell either
        # D just below: rule 3 holds: amount 1 + 2 - 1 = 2, XA 2, max trade 0.5 -> sell 0.5.
        ("0.49999999", [(SELL, "0.50000000")]),
        # D just above: amount T - H = 0; D > 0 and H - D < M -> D = 0.50000001; <= XA; max 0.3.
        ("0.50000001", [(FROM, "0.30000000")]),
    ],
)
def test_rule2_condition_delayed_send_below_minimum(D, expected):
    assert actions(H="1", X="2", XA="2", D=D) == expected


@pytest.mark.parametrize(
    "D, expected",
    [
        # H = C = R = 0.7: amount T - H = 0.3; H - D < 0.5 for every D here; max transfer
        # 4000 / 10000 = 0.4 so the cap does not interfere; X = XA = 1 (no sell: H - D < M).
        ("0.3", "0.30000000"),  # D not more than the amount: stays 0.3
        ("0.29999999", "0.30000000"),
        ("0.30000001", "0.30000001"),  # D > amount: amount = D
    ],
)
def test_rule2_amount_raised_to_delayed_send(D, expected):
    assert actions(H="0.7", X="1", XA="1", D=D, max_transfer="4000") == [(FROM, expected)]


@pytest.mark.parametrize(
    "D, expected",
    [
        # H = C = R = 0.8, amount T - H = 0.2, max transfer 0.4, X = XA = 0.4.
        # D > 0.2 throughout; H - D < 0.5 <=> D > 0.3.
        ("0.3", [(FROM, "0.20000000")]),  # H - D = 0.5, not < M: the amount stays 0.2
        # H - D = 0.50000001 > M and H + X = 1.2 > 1.1: rule 3 sells 1.2 - 1 = 0.2 as well.
        ("0.29999999", [(FROM, "0.20000000"), (SELL, "0.20000000")]),
        ("0.30000001", [(FROM, "0.30000001")]),
    ],
)
def test_rule2_delayed_send_only_when_below_minimum(D, expected):
    assert actions(H="0.8", X="0.4", XA="0.4", D=D, max_transfer="4000") == expected


@pytest.mark.parametrize(
    "XA, expected",
    [
        # H = C = R = 0.8: amount 0.2, capped at the exchange's available crypto (X = XA).
        ("0.2", [(FROM, "0.20000000")]),
        # X = 0.19999999 < T - H = 0.2, so rule 4 part A holds too: amount T - (H + X) = 1 unit,
        # not above min trade 0.01 -> no buy.
        ("0.19999999", [(FROM, "0.19999999")]),
        ("0.20000001", [(FROM, "0.20000000")]),
    ],
)
def test_rule2_amount_capped_at_available_exchange_crypto(XA, expected):
    assert actions(H="0.8", X=XA, XA=XA) == expected


@pytest.mark.parametrize(
    "H, expected",
    [
        # X = XA = 0.35 (H + X <= 1.05: no sell; X > T - H: no buy); amount 1 - H, max 0.3.
        ("0.7", "0.30000000"),
        ("0.70000001", "0.29999999"),
        ("0.69999999", "0.30000000"),
    ],
)
def test_rule2_amount_capped_at_max_transfer(H, expected):
    assert actions(H=H, X="0.35", XA="0.35") == [(FROM, expected)]


@pytest.mark.parametrize(
    "H, expected",
    [
        # min transfer 1200 / 10000 = 0.12; X = XA = 0.15; amount = 1 - H.
        ("0.88", [(FROM, "0.12000000")]),
        ("0.88000001", []),  # 0.11999999 < 0.12
        ("0.87999999", [(FROM, "0.12000001")]),
    ],
)
def test_rule2_min_transfer_is_inclusive(H, expected):
    assert actions(H=H, X="0.15", XA="0.15", min_transfer="1200") == expected


def test_rule2_zero_amount_is_never_emitted_even_with_zero_minimum():
    # H = 0.5 < 0.9: amount 0.5, capped at XA = 0 -> 0. min transfer 0 would accept 0 >= 0,
    # but a non-positive amount is never emitted. Rule 4 buys (part A: X = 0 < 0.5): amount 0.5.
    assert actions(H="0.5", min_transfer="0") == [(BUY, "0.50000000")]


# ---- rule 3: physical balance too high -> sell ------------------------------------------------
# Condition: H + X > T + W (1.1) and H - D > M (0.5).
# Amount: H + X - T; capped at XA; at max trade; emitted only if > min trade.


@pytest.mark.parametrize(
    "X, expected",
    [
        # H = C = R = 1, X = XA.
        ("0.1", []),
        ("0.09999999", []),
        ("0.10000001", [(SELL, "0.10000001")]),  # 1 + 0.10000001 - 1
    ],
)
def test_rule3_condition_physical_above_target_plus_wobble(X, expected):
    assert actions(X=X, XA=X) == expected


@pytest.mark.parametrize(
    "D, expected",
    [
        # H = C = R = 1, X = XA = 0.3: H + X = 1.3 > 1.1. H - D > 0.5 <=> D < 0.5.
        ("0.5", []),
        ("0.49999999", [(SELL, "0.30000000")]),  # amount 1.3 - 1 = 0.3
        # D above: no sell; rule 2 (H - D < M): amount D = 0.50000001, XA 0.3, max 0.3 -> 0.3.
        ("0.50000001", [(FROM, "0.30000000")]),
    ],
)
def test_rule3_condition_delayed_send(D, expected):
    assert actions(X="0.3", XA="0.3", D=D) == expected


@pytest.mark.parametrize(
    "XA, expected",
    [
        # H = 1, X = 0.5: amount 0.5; max trade 8000 / 10000 = 0.8; capped at XA.
        ("0.5", "0.50000000"),
        ("0.49999999", "0.49999999"),
        ("0.50000001", "0.50000000"),  # (XA > X is not a guard; the amount is what binds)
        ("0.3", "0.30000000"),
    ],
)
def test_rule3_amount_capped_at_available_exchange_crypto(XA, expected):
    assert actions(X="0.5", XA=XA, max_trade="8000") == [(SELL, expected)]


@pytest.mark.parametrize(
    "X, expected",
    [
        # H = 1, X = XA: amount = X, capped at max trade 0.5.
        ("0.5", "0.50000000"),
        ("0.50000001", "0.50000000"),
        ("0.49999999", "0.49999999"),
    ],
)
def test_rule3_amount_capped_at_max_trade(X, expected):
    assert actions(X=X, XA=X) == [(SELL, expected)]


@pytest.mark.parametrize(
    "X, expected",
    [
        # min trade 1500 / 10000 = 0.15; amount = X; strictly more than the minimum.
        ("0.15", []),
        ("0.15000001", [(SELL, "0.15000001")]),
        ("0.14999999", []),
    ],
)
def test_rule3_min_trade_is_exclusive(X, expected):
    assert actions(X=X, XA=X, min_trade="1500") == expected


# ---- rule 4: physical balance too low -> buy --------------------------------------------------
# Condition: (H < T - W and X < T - H) or (D > X and H - D < min transfer).
# Amount: T - (H + X); if D - X > amount and H - D < min transfer: D - X; if H > T + W:
# D - (H - T); if amount * P > 0.99 * FA: 0.99 * FA / P; capped at max trade; 0 if R > H and
# R - D > T + W; emitted only if > min trade.


@pytest.mark.parametrize(
    "H, expected",
    [
        # X = XA = 0. Rule 2 holds whenever H < 0.9, but XA = 0 caps its amount to 0.
        ("0.9", []),
        ("0.89999999", [(BUY, "0.10000001")]),  # 1 - 0.89999999; 1000.0001 fiat <= 99000
        ("0.90000001", []),
    ],
)
def test_rule4_part_a_hot_below_target_minus_wobble(H, expected):
    assert actions(H=H) == expected


@pytest.mark.parametrize(
    "X, expected",
    [
        # H = 0.8: T - H = 0.2; X = XA; min trade 0.00001 / 10000 = 1e-9 so one unit is a trade.
        ("0.2", [(FROM, "0.20000000")]),  # X not < 0.2: no buy
        ("0.19999999", [(FROM, "0.19999999"), (BUY, "0.00000001")]),  # 1 - 0.99999999
        ("0.20000001", [(FROM, "0.20000000")]),
    ],
)
def test_rule4_part_a_exchange_below_shortfall(X, expected):
    assert actions(H="0.8", X=X, XA=X, min_trade="0.00001") == expected


@pytest.mark.parametrize(
    "D, expected",
    [
        # H = C = R = 1, X = 0: part B is D > 0 and 1 - D < 0.02 <=> D > 0.98.
        ("0.98", []),  # (rule 2 holds with amount D, capped to XA = 0)
        ("0.97999999", []),
        # amount T - H - X = 0; D - X = 0.98000001 > 0 and H - D < 0.02 -> 0.98000001;
        # 9800.0001 fiat <= 99000; max trade 0.5.
        ("0.98000001", [(BUY, "0.50000000")]),
    ],
)
def test_rule4_part_b_delayed_send_against_min_transfer(D, expected):
    assert actions(D=D) == expected


@pytest.mark.parametrize(
    "X, expected",
    [
        # H = C = R = 1, D = 0.99 (H - D = 0.01 < 0.02), X = XA; min trade 1e-9.
        # Rule 2 holds (H - D < M): amount D = 0.99, capped at XA, then at max 0.3.
        ("0.99", [(FROM, "0.30000000")]),  # D not > X: no buy
        # D > X: amount 1 - 1.98999999 < 0; D - X = 1 unit > it and H - D < 0.02 -> 1 unit.
        ("0.98999999", [(FROM, "0.30000000"), (BUY, "0.00000001")]),
        ("0.99000001", [(FROM, "0.30000000")]),
    ],
)
def test_rule4_part_b_delayed_send_above_exchange(X, expected):
    assert actions(D="0.99", X=X, XA=X, min_trade="0.00001") == expected


@pytest.mark.parametrize(
    "D, expected",
    [
        # H = C = R = 0.5, X = 0: part A holds; amount 0.5; max trade 0.8.
        # D - X > 0.5 <=> D > 0.5 (and then H - D < 0 < 0.02).
        ("0.5", "0.50000000"),
        ("0.49999999", "0.50000000"),
        ("0.50000001", "0.50000001"),
    ],
)
def test_rule4_amount_raised_to_delayed_minus_exchange(D, expected):
    assert actions(H="0.5", D=D, max_trade="8000") == [(BUY, expected)]


@pytest.mark.parametrize(
    "D, expected",
    [
        # H = C = R = 0.8, X = 0: amount 0.2; D - X > 0.2 throughout; H - D < 0.02 <=> D > 0.78.
        ("0.78", "0.20000000"),
        ("0.77999999", "0.20000000"),
        ("0.78000001", "0.78000001"),
    ],
)
def test_rule4_delayed_minus_exchange_only_when_below_min_transfer(D, expected):
    assert actions(H="0.8", D=D, max_trade="8000") == [(BUY, expected)]


@pytest.mark.parametrize(
    "H, D, expected",
    [
        # max trade 20000 / 10000 = 2; X = 0; part B: D > 0 and H - D = 0.01 < 0.02.
        # H = 1.1 is not > T + W: amount D - X = D.
        ("1.1", "1.09", "1.09000000"),
        ("1.09999999", "1.08999999", "1.08999999"),
        # H > 1.1: amount = D - (H - T) = 1.09000001 - 0.10000001 = 0.99 (issue 8's reading).
        ("1.10000001", "1.09000001", "0.99000000"),
        ("1.2", "1.19", "0.99000000"),  # 1.19 - 0.2
    ],
)
def test_rule4_amount_when_hot_wallet_above_target_plus_wobble(H, D, expected):
    assert actions(H=H, D=D, max_trade="20000") == [(BUY, expected)]


@pytest.mark.parametrize(
    "FA, expected",
    [
        # H = C = R = 0.01, X = 0: amount 0.99; 0.99 * 10000 = 9900 fiat; max trade 2.
        ("10000", "0.99000000"),  # 9900 > 0.99 * 10000 = 9900? no
        ("9999.99", "0.98999901"),  # 9900 > 9899.9901: amount 9899.9901 / 10000
        ("10000.01", "0.99000000"),
        ("0", None),  # no currency: amount 0, never emitted
    ],
)
def test_rule4_amount_limited_to_99_percent_of_available_currency(FA, expected):
    got = actions(H="0.01", FA=FA, F=FA, max_trade="20000")
    assert got == ([] if expected is None else [(BUY, expected)])


def test_rule4_currency_cap_quantized_toward_zero():
    # price 30000, H = C = R = 0.01, M = 0.1 (T = 1/3, T - W = 0.3): part A, amount 1/3 - 0.01.
    # 0.3233.. * 30000 = 9700 > 0.99 * 5000 = 4950 -> 4950 / 30000 = 0.165 exactly.
    # With FA = 5000.00303: 0.99 * FA = 4950.0029997, / 30000 = 0.16500009999 -> 0.16500009.
    kw = dict(price="30000", internal="30000", max_trade="20000", M="0.1", H="0.01")
    assert actions(FA="5000", F="5000", **kw) == [(BUY, "0.16500000")]
    assert actions(FA="5000.00303", F="5000.00303", **kw) == [(BUY, "0.16500009")]


@pytest.mark.parametrize(
    "H, expected",
    [
        # X = 0, amount 1 - H, max trade 0.5.
        ("0.5", "0.50000000"),
        ("0.49999999", "0.50000000"),
        ("0.50000001", "0.49999999"),
    ],
)
def test_rule4_amount_capped_at_max_trade(H, expected):
    assert actions(H=H) == [(BUY, expected)]


@pytest.mark.parametrize(
    "D, expected",
    [
        # H = C = 0.8, R = 1.2 (unbalanced, allowed: R >= 0.99 C). Part A: amount 0.2.
        # R > H, and R - D > T + W = 1.1 <=> D < 0.1: then the amount is set to 0.
        ("0.1", [(BUY, "0.20000000")]),
        ("0.09999999", []),
        ("0.10000001", [(BUY, "0.20000000")]),
    ],
)
def test_rule4_no_buy_while_reserve_covers_target_plus_wobble(D, expected):
    # (The "R > H" half of that step never binds on its own: whenever the rule holds with a
    # positive amount, R - D > T + W already implies R > H, so its boundary has no visible effect.)
    assert actions(H="0.8", C="0.8", R="1.2", D=D) == expected


@pytest.mark.parametrize(
    "H, expected",
    [
        # min trade 1100 / 10000 = 0.11; amount 1 - H; strictly more than the minimum.
        ("0.89", []),
        ("0.88999999", [(BUY, "0.11000001")]),
        ("0.89000001", []),
    ],
)
def test_rule4_min_trade_is_exclusive(H, expected):
    assert actions(H=H, min_trade="1100") == expected


# ---- the minimum confirmed balance clamp -----------------------------------------------------


@pytest.mark.parametrize(
    "M, expected",
    [
        # H = 1.3, C = R = 1.2. T - W = 0.9. An unclamped M of 5 would fail C - D > M; clamped to
        # 0.9: 1.2 > 0.9 holds, amount 0.3, R - 0.3 = 0.9 not < 0.9 -> 0.3.
        ("5", [(T2E, "0.30000000")]),
        ("0.9", [(T2E, "0.30000000")]),
        # M = 1.2 (> 0.9) clamps to 0.9 as well: the same transfer.
        ("1.2", [(T2E, "0.30000000")]),
    ],
)
def test_minimum_confirmed_balance_clamped_to_target_minus_wobble(M, expected):
    assert actions(H="1.3", C="1.2", R="1.2", M=M) == expected


def test_clamp_changes_the_reserve_limit():
    # M = 5 clamps to 0.9 = T - W; R = 1.19: R - 0.3 = 0.89 < 0.9 -> amount R - 0.9 = 0.29.
    assert actions(H="1.3", C="1.2", R="1.19", M="5") == [(T2E, "0.29000000")]


# ---- unbalanced ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "decimals, C, R, unbalanced",
    [
        (8, "1", "1", False),
        (8, "1", "1.00000001", False),  # exactly one unit: does not exceed it
        (8, "1", "1.00000002", True),
        (8, "1.00000002", "1", True),
        (8, "1", "1.000000011", True),
        (0, "100", "101", False),
        (0, "100", "101.5", True),
    ],
)
def test_unbalanced_when_reserve_and_balance_differ_by_more_than_one_unit(decimals, C, R, unbalanced):
    kw = dict(decimals=decimals, H=max(C, R, key=Decimal), C=C, R=R)
    if decimals == 0:  # price 1: T = 100, W = 10, M = 50, all limits in units
        kw.update(price="1", internal="1", target="100", wobble="10", M="50", min_trade="1",
                  max_trade="50", min_transfer="2", max_transfer="30")
    assert decision(**kw)["unbalanced"] is unbalanced


def test_unbalanced_is_reported_when_skipped_too():
    d = decision(C="1", R="1.5", H="1.5", active=False)
    assert d == {"status": "skipped", "reasons": ["inactive"], "unbalanced": True, "actions": []}
