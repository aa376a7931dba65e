"""Snapshot builders for the Tradebot tests, in the seed's short names.

The base scenario (BASE) prices the crypto at 10000 (fiat per crypto, both prices), so the
fiat settings read as crypto by moving the point four places:
    T = 10000 / 10000 = 1      W = 1000 / 10000 = 0.1     (T - W = 0.9, T + W = 1.1)
    min trade 0.01, max trade 0.5, min transfer 0.02, max transfer 0.3
    M = 0.5 crypto (already crypto; inside [0, T - W], so the clamp leaves it alone)
and a neutral state: H = C = R = 1, D = 0, nothing on the exchange but 100000 fiat.
Every guard is clear and no rule's condition holds in BASE.
"""

from __future__ import annotations

from nexus.tradebot.decision import decide
from nexus.tradebot.snapshot import decision_to_obj, snapshot_from_obj

BASE = dict(
    decimals=8, price="10000", internal="10000",
    target="10000", wobble="1000", min_trade="100", max_trade="5000",
    min_transfer="200", max_transfer="3000", M="0.5",
    H="1", X="0", XA="0", D="0", F="100000", FA="100000",
    active=True, open=False, age="3600", miss_hot=False, miss_ex=False,
)

_SETTINGS = {
    "target": "balance_target", "wobble": "balance_wobble", "min_trade": "min_trade",
    "max_trade": "max_trade", "min_transfer": "min_transfer", "max_transfer": "max_transfer",
    "M": "min_confirmed_hotwallet_balance",
}
_STATE = {
    "C": "hotwallet_confirmed_balance", "H": "hotwallet_total_balance",
    "R": "hotwallet_confirmed_reserve", "D": "delayed_send", "X": "exchange_crypto_total",
    "XA": "exchange_crypto_available", "F": "exchange_currency_total",
    "FA": "exchange_currency_available",
}
_FLAGS = {
    "active": "active", "open": "open_orders_or_withdraws", "age": "last_order_age_s",
    "miss_hot": "missing_hotwallet_deposits", "miss_ex": "missing_exchange_deposits",
}


def snapshot_obj(**kw) -> dict:
    """The CLI JSON form. C and R default to H (a consistent, balanced hot wallet)."""
    unknown = set(kw) - set(BASE) - {"C", "R"}
    assert not unknown, unknown
    v = {**BASE, **kw}
    v.setdefault("C", v["H"])
    v.setdefault("R", v["C"])
    return {
        "decimals": v["decimals"],
        "exchange_price": v["price"],
        "internal_price": v["internal"],
        "settings": {full: v[short] for short, full in _SETTINGS.items()},
        "state": {full: v[short] for short, full in _STATE.items()},
        "flags": {full: v[short] for short, full in _FLAGS.items()},
    }


def snap(**kw):
    return snapshot_from_obj(snapshot_obj(**kw))


def decision(**kw) -> dict:
    return decision_to_obj(decide(snap(**kw)))


def actions(**kw) -> list[tuple[str, str]]:
    """The emitted actions as (action, amount string); asserts the decision was not skipped."""
    d = decision(**kw)
    assert d["status"] == "ok" and d["reasons"] == [], d
    return [(a["action"], a["amount"]) for a in d["actions"]]
