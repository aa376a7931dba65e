"""Property tests (hypothesis) of the decision.

For every snapshot: the output is deterministic (same input -> same decision, also through the
JSON form and whatever decimal context the caller has set); a skipped decision has reasons and
no actions. For every emitted action: a positive amount on the crypto's grid, never more than
its maximum nor less than its minimum (>= for transfers, > for trades, after conversion by the
exchange price), never more than the exchange has (available crypto, 99 % of available
currency), and a transfer to the exchange never drives the confirmed reserve below the clamped
minimum confirmed balance.
"""

from __future__ import annotations

import json
from decimal import ROUND_CEILING, Context, Decimal, localcontext

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nexus.tradebot.decision import decide
from nexus.tradebot.snapshot import (
    Snapshot,
    SnapshotFlags,
    SnapshotSettings,
    SnapshotState,
    decision_to_obj,
    parse_snapshot,
    snapshot_to_obj,
)

# The test's own exact-enough arithmetic for the bounds (independent of the module's context).
WIDE = Context(prec=200)


def dec(lo: int, hi: int, places: int):
    """Decimals in [lo, hi] with `places` fraction digits."""
    scale = 10**places
    return st.integers(lo * scale, hi * scale).map(lambda n: Decimal(n).scaleb(-places))


PRICES = st.one_of(
    st.sampled_from([Decimal(p) for p in ("1", "3", "7", "0.0003", "2000", "37123.45", "99999.99")]),
    dec(1, 200_000, 2).filter(lambda p: p > 0),
)


@st.composite
def consistent_snapshots(draw) -> Snapshot:
    """Guards mostly clear, values on the scale of the target so that the rules fire."""
    decimals = draw(st.integers(0, 12))
    price = draw(PRICES)
    divergence = draw(st.sampled_from([Decimal(1), Decimal("1.01"), Decimal("0.8"), Decimal("1.3")]))
    internal = price * divergence
    places = draw(st.integers(0, decimals + 2))  # state may be finer than the grid

    def crypto(lo: int, hi: int):
        return draw(dec(lo, hi, places))

    def fiat(crypto_value: Decimal) -> Decimal:
        with localcontext(WIDE):
            return (crypto_value * price).quantize(Decimal("0.0001"))

    target = crypto(0, 6)
    wobble = draw(st.decimals(0, 1, places=3)) * target
    min_trade = crypto(0, 2) / 4
    max_trade = min_trade + crypto(0, 3)
    min_transfer = crypto(0, 2) / 4
    max_transfer = min_transfer + crypto(0, 3)
    c = crypto(0, 8)
    h = c + crypto(0, 2)
    with localcontext(WIDE):
        r_floor = (c * Decimal("0.99")).quantize(Decimal(1).scaleb(-places), rounding=ROUND_CEILING)
    r = max(r_floor, c + draw(dec(-1, 1, places)) / 10)
    x = crypto(0, 8)
    f = fiat(crypto(0, 4))  # on the scale of the target, so the 99 % cap binds often
    with localcontext(WIDE):
        return Snapshot(
            decimals=decimals,
            exchange_price=price,
            internal_price=internal,
            settings=SnapshotSettings(
                balance_target=fiat(target),
                balance_wobble=fiat(wobble),
                min_trade=fiat(min_trade),
                max_trade=fiat(max_trade),
                min_transfer=fiat(min_transfer),
                max_transfer=fiat(max_transfer),
                min_confirmed_hotwallet_balance=crypto(0, 8),
            ),
            state=SnapshotState(
                hotwallet_confirmed_balance=c,
                hotwallet_total_balance=h,
                hotwallet_confirmed_reserve=r,
                delayed_send=crypto(0, 3) if draw(st.booleans()) else Decimal(0),
                exchange_crypto_total=x,
                exchange_crypto_available=x - draw(dec(0, 1, 2)) * x,
                exchange_currency_total=f,
                exchange_currency_available=f - draw(dec(0, 1, 2)) * f,
            ),
            flags=SnapshotFlags(
                active=draw(st.integers(0, 9)) != 0,
                open_orders_or_withdraws=draw(st.integers(0, 19)) == 0,
                last_order_age_s=draw(st.one_of(st.none(), dec(0, 1000, 1))),
                missing_hotwallet_deposits=False,
                missing_exchange_deposits=False,
            ),
        )


def any_amount():
    return st.one_of(dec(-3, 10, 3), dec(-100, 10**6, 0), st.just(Decimal(0)))


@st.composite
def arbitrary_snapshots(draw) -> Snapshot:
    """Anything the schema allows: negative balances, missing or zero prices, bad limits."""
    price = draw(st.one_of(st.none(), st.just(Decimal(0)), dec(-10, 100_000, 2)))
    internal = draw(st.one_of(st.none(), st.just(price), dec(-10, 100_000, 2)))
    return Snapshot(
        decimals=draw(st.integers(0, 30)),
        exchange_price=price,
        internal_price=internal,
        settings=SnapshotSettings(*[draw(any_amount()) for _ in range(7)]),
        state=SnapshotState(*[draw(any_amount()) for _ in range(8)]),
        flags=SnapshotFlags(
            draw(st.booleans()), draw(st.booleans()), draw(st.one_of(st.none(), dec(0, 500, 3))),  # a negative age is refused
            draw(st.booleans()), draw(st.booleans()),
        ),
    )


def check_actions(s: Snapshot, d) -> None:
    assert d.status in ("ok", "skipped")
    if d.status == "skipped":
        assert d.reasons and not d.actions
        return
    assert d.reasons == ()
    kinds = [a.action for a in d.actions]
    order = ["transfer_to_exchange", "transfer_from_exchange", "sell", "buy"]
    assert kinds == sorted(set(kinds), key=order.index)  # each at most once, in rule order
    p = s.exchange_price
    st_, cfg = s.state, s.settings
    with localcontext(WIDE):
        grid = Decimal(1).scaleb(-s.decimals)
        target, wobble = cfg.balance_target / p, cfg.balance_wobble / p
        m = max(Decimal(0), min(cfg.min_confirmed_hotwallet_balance, target - wobble))
        for a in d.actions:
            assert a.amount > 0
            assert a.amount == a.amount.quantize(grid), a  # on the crypto's grid
            if a.action.startswith("transfer"):
                assert cfg.min_transfer / p <= a.amount <= cfg.max_transfer / p, a
            else:
                assert cfg.min_trade / p < a.amount <= cfg.max_trade / p, a
            if a.action == "transfer_to_exchange":
                assert st_.hotwallet_confirmed_reserve - a.amount >= m, (a, m)
            if a.action in ("transfer_from_exchange", "sell"):
                assert a.amount <= st_.exchange_crypto_available
            if a.action == "buy":
                assert a.amount * p <= Decimal("0.99") * st_.exchange_currency_available


def check_deterministic(s: Snapshot, d) -> None:
    assert decide(s) == d
    again = parse_snapshot(json.dumps(snapshot_to_obj(s)))
    assert again == s
    assert decide(again) == d
    with localcontext(Context(prec=3)):  # the caller's context must not matter
        assert decide(s) == d
    assert json.loads(json.dumps(decision_to_obj(d))) == decision_to_obj(d)


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(consistent_snapshots())
def test_consistent_snapshots_respect_every_bound(s):
    d = decide(s)
    check_actions(s, d)
    check_deterministic(s, d)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(arbitrary_snapshots())
def test_any_snapshot_is_decided_safely(s):
    d = decide(s)
    check_actions(s, d)
    check_deterministic(s, d)


def test_the_generator_reaches_every_action():
    """Guard against a vacuous property: the consistent generator must produce each action."""
    seen: set[str] = set()

    @settings(max_examples=1000, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(consistent_snapshots())
    def collect(s):
        seen.update(a.action for a in decide(s).actions)

    collect()
    assert seen == {"transfer_to_exchange", "transfer_from_exchange", "sell", "buy"}
