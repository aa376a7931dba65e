"""Transaction state machines as data: one table per transaction kind, checked by one
function, `transition()`. Nothing else in the broker changes a status.

A row is (from status, event, to status, actors allowed, guards). `None` as the from status
is the creation of a transaction. (from, event) is unique within a table, so an event in a
status has exactly one outcome. Guards are named here and evaluated by `nexus.broker.guards`
against the transaction (quote still valid, payment received, crypto not yet broadcast, a
second operator for 4-eyes, ...). Effects on the ledger and the chain live in
`nexus.broker.effects`, keyed by the same (kind, event).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from nexus.broker.errors import IllegalTransition

# Kinds
BUY, SELL, MERCHANT, GIFT = "buy", "sell", "merchant", "gift"
KINDS = (BUY, SELL, MERCHANT, GIFT)

# Actors
INTEGRATOR, OPERATOR, SYSTEM = "integrator", "operator", "system"
ACTORS = (INTEGRATOR, OPERATOR, SYSTEM)

# Statuses (the spelling the product uses)
BUY_INITIATED, SEND_DELAY, SENDING, TO_CANCEL = "BuyInitiated", "SendDelay", "Sending", "ToCancel"
BUY_CANCELLED, BUY_COMPLETED, BUY_INCASSO = "BuyCancelled", "BuyCompleted", "BuyIncasso"
DELETED, BLOCKED = "Deleted", "Blocked"
SELL_INITIATED, CONFIRMING, TO_PAYOUT = "SellInitiated", "Confirming", "ToPayout"
PAYOUT_ON_HOLD, PAYOUT_CONFIRMING = "PayoutOnHold", "PayoutConfirming"
SELL_CANCELLED, SELL_COMPLETED, RETURNED = "SellCancelled", "SellCompleted", "Returned"
GIFT_SENDING, GIFT_COMPLETED = "GiftSending", "GiftCompleted"


@dataclass(frozen=True)
class Transition:
    src: str | None
    event: str
    dst: str
    actors: frozenset[str]
    guards: tuple[str, ...] = ()


def _t(src: str | None, event: str, dst: str, actors: Iterable[str], *guards: str) -> Transition:
    return Transition(src, event, dst, frozenset(actors), tuple(guards))


I, O, S = {INTEGRATOR}, {OPERATOR}, {SYSTEM}
OS = {OPERATOR, SYSTEM}

# fmt: off
BUY_TABLE = (
    #  from            event               to              who  guards
    _t(None,           "create",           BUY_INITIATED,  I),
    _t(BUY_INITIATED,  "payment",          SEND_DELAY,     I,   "quote_valid"),
    _t(BUY_INITIATED,  "cancel",           BUY_CANCELLED,  I),
    _t(BUY_INITIATED,  "timeout",          BUY_CANCELLED,  S),
    _t(BUY_INITIATED,  "block",            BLOCKED,        O),
    _t(BUY_INITIATED,  "op_cancel",        BUY_CANCELLED,  O),
    _t(BUY_INITIATED,  "delete",           DELETED,        OS,  "account_inactive"),
    _t(SEND_DELAY,     "delay_elapsed",    SENDING,        S,   "send_delay_elapsed"),
    _t(SEND_DELAY,     "cancel",           TO_CANCEL,      I),
    _t(SEND_DELAY,     "block",            BLOCKED,        O),
    _t(SEND_DELAY,     "op_cancel",        BUY_CANCELLED,  O),
    _t(SEND_DELAY,     "delete",           DELETED,        OS,  "account_inactive"),
    _t(SENDING,        "mined",            BUY_COMPLETED,  S),
    _t(SENDING,        "cancel",           TO_CANCEL,      I),
    _t(SENDING,        "send_lost",        BLOCKED,        S),  # the chain lost the send (nexus.broker.sender)
    _t(SENDING,        "block",            BLOCKED,        O,   "not_broadcast"),
    _t(SENDING,        "op_cancel",        BUY_CANCELLED,  O,   "not_broadcast"),
    _t(SENDING,        "delete",           DELETED,        OS,  "account_inactive", "not_broadcast"),
    # ToCancel: the cancellation wins unless the wallet already broadcast the crypto, in which
    # case the transaction completes when it is mined (the seed's race).
    _t(TO_CANCEL,      "cancel_confirmed", BUY_CANCELLED,  S,   "not_broadcast"),
    _t(TO_CANCEL,      "mined",            BUY_COMPLETED,  S),
    _t(TO_CANCEL,      "send_lost",        BLOCKED,        S),
    _t(TO_CANCEL,      "block",            BLOCKED,        O,   "not_broadcast"),
    _t(TO_CANCEL,      "op_cancel",        BUY_CANCELLED,  O,   "not_broadcast"),
    _t(TO_CANCEL,      "delete",           DELETED,        OS,  "account_inactive", "not_broadcast"),
    # Blocked parks an untrusted transaction, even when its payment arrives.
    _t(BLOCKED,        "payment",          BLOCKED,        I,   "not_paid"),
    _t(BLOCKED,        "unblock",          SENDING,        O,   "paid"),
    _t(BLOCKED,        "op_cancel",        BUY_CANCELLED,  O),
    _t(BLOCKED,        "delete",           DELETED,        OS,  "account_inactive"),
    # Crypto delivered, payment never settled: flagged as debt; released when settled.
    _t(BUY_COMPLETED,  "incasso",          BUY_INCASSO,    O),
    _t(BUY_INCASSO,    "release",          BUY_COMPLETED,  O),
)

SELL_TABLE = (
    _t(None,              "create",        SELL_INITIATED,    I),
    _t(None,              "deposit",       CONFIRMING,        S),  # crypto sent without a Sell
    _t(SELL_INITIATED,    "deposit",       CONFIRMING,        S),
    _t(SELL_INITIATED,    "timeout",       SELL_CANCELLED,    S),
    _t(SELL_INITIATED,    "cancel",        SELL_CANCELLED,    I),
    _t(SELL_INITIATED,    "op_cancel",     SELL_CANCELLED,    O),
    _t(SELL_INITIATED,    "delete",        DELETED,           OS,  "account_inactive"),
    _t(CONFIRMING,        "confirmed",     TO_PAYOUT,         S,   "enough_confirmations"),
    _t(CONFIRMING,        "stalled",       BLOCKED,           S,   "confirmation_overdue"),
    _t(BLOCKED,           "confirmed",     TO_PAYOUT,         S,   "enough_confirmations"),
    _t(TO_PAYOUT,         "hold",          PAYOUT_ON_HOLD,    OS),
    _t(TO_PAYOUT,         "approve",       PAYOUT_CONFIRMING, O),
    _t(TO_PAYOUT,         "payout",        SELL_COMPLETED,    I,   "below_four_eyes_threshold"),
    _t(PAYOUT_CONFIRMING, "approve",       SELL_COMPLETED,    O,   "second_operator"),
    _t(PAYOUT_CONFIRMING, "hold",          PAYOUT_ON_HOLD,    O),
    _t(PAYOUT_ON_HOLD,    "release",       TO_PAYOUT,         O),
    _t(PAYOUT_ON_HOLD,    "return",        RETURNED,          O),
)

# Merchant: the Sell statuses, paid out to the merchant; crypto is accepted only for a
# Merchant transaction created first (no spontaneous deposits).
MERCHANT_TABLE = tuple(t for t in SELL_TABLE if not (t.src is None and t.event == "deposit"))

GIFT_TABLE = (
    _t(None,           "create",    GIFT_SENDING,   O),
    _t(GIFT_SENDING,   "mined",     GIFT_COMPLETED, S),
    _t(GIFT_SENDING,   "send_lost", BLOCKED,        S),
    _t(BLOCKED,        "unblock",   GIFT_SENDING,   O),  # a new send is queued
)
# fmt: on

TABLES: dict[str, tuple[Transition, ...]] = {
    BUY: BUY_TABLE,
    SELL: SELL_TABLE,
    MERCHANT: MERCHANT_TABLE,
    GIFT: GIFT_TABLE,
}

# Indexes, built once from the tables.
_INDEX: dict[str, dict[tuple[str | None, str], Transition]] = {}
for _kind, _table in TABLES.items():
    _idx: dict[tuple[str | None, str], Transition] = {}
    for _tr in _table:
        assert (_tr.src, _tr.event) not in _idx, f"{_kind}: duplicate ({_tr.src}, {_tr.event})"
        assert _tr.actors and _tr.actors <= set(ACTORS), f"{_kind}: bad actors in {_tr}"
        _idx[(_tr.src, _tr.event)] = _tr
    _INDEX[_kind] = _idx

STATUSES: dict[str, tuple[str, ...]] = {
    k: tuple(dict.fromkeys(s for t in tbl for s in (t.src, t.dst) if s is not None)) for k, tbl in TABLES.items()
}
EVENTS: dict[str, tuple[str, ...]] = {k: tuple(dict.fromkeys(t.event for t in tbl)) for k, tbl in TABLES.items()}
ALL_EVENTS = tuple(dict.fromkeys(e for k in KINDS for e in EVENTS[k]))
INITIAL: dict[str, frozenset[str]] = {k: frozenset(t.dst for t in tbl if t.src is None) for k, tbl in TABLES.items()}
FINAL: dict[str, frozenset[str]] = {
    k: frozenset(s for s in STATUSES[k] if not any(t.src == s for t in TABLES[k])) for k in KINDS
}
OPEN: dict[str, frozenset[str]] = {k: frozenset(STATUSES[k]) - FINAL[k] for k in KINDS}
ALL_STATUSES = tuple(dict.fromkeys(s for k in KINDS for s in STATUSES[k]))


def transition(kind: str, status: str | None, event: str, actor: str) -> Transition:
    """The one check: the row of `kind`'s table for (status, event), if `actor` may fire it.
    Raises IllegalTransition with a message naming what was refused and what is allowed."""
    idx = _INDEX.get(kind)
    if idx is None:
        raise IllegalTransition(f"unknown transaction kind {kind!r}")
    tr = idx.get((status, event))
    if tr is None:
        allowed = sorted(e for (s, e) in idx if s == status)
        where = f"in status {status}" if status is not None else "at creation"
        raise IllegalTransition(
            f"{kind}: {event!r} is not allowed {where} (allowed: {', '.join(allowed) or 'nothing, the status is final'})"
        )
    if actor not in tr.actors:
        raise IllegalTransition(
            f"{kind}: {event!r} {('in status ' + status) if status else 'at creation'} may be done by "
            f"{' or '.join(sorted(tr.actors))}, not by {actor}"
        )
    return tr


def legal_step(kind: str, src: str | None, event: str, dst: str) -> bool:
    """Whether one recorded history step (src --event--> dst) follows `kind`'s table."""
    tr = _INDEX.get(kind, {}).get((src, event))
    return tr is not None and tr.dst == dst
