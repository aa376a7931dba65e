"""Named guards of the transition tables (`nexus.broker.states`). Each either returns or raises
a BrokerError saying why the transition is refused right now."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from nexus.broker import schema as S
from nexus.broker.clock import US_PER_S, iso
from nexus.broker.errors import Conflict, Forbidden
from nexus.broker.states import Transition


@dataclass
class Step:
    """One transition being applied: everything guards and effects may look at."""

    broker: Any  # nexus.broker.context.Broker
    conn: Connection
    tx: dict
    tr: Transition
    actor: str
    by: str
    now_us: int
    data: dict = field(default_factory=dict)


def _quote_valid(s: Step) -> None:
    exp = s.tx["quote_expires_at_us"]
    if exp is not None and s.now_us > exp:
        raise Conflict(f"the quote expired at {iso(exp)}; start a new transaction", code="quote_expired")


def _account_inactive(s: Step) -> None:
    if s.tx["account_active"]:
        raise Conflict("only transactions of an inactive account can be deleted", code="account_active")


def _send_delay_elapsed(s: Step) -> None:
    delay_s = s.conn.execute(
        sa.select(S.crypto_settings.c.send_delay_s).where(S.crypto_settings.c.crypto == s.tx["crypto"])
    ).scalar() or 0
    if s.now_us < s.tx["status_since_us"] + delay_s * US_PER_S:
        raise Conflict("the send delay has not elapsed", code="send_delay")


def broadcast_started(conn: Connection, transaction_id: int) -> bool:
    c = S.chain_sends.c
    return conn.execute(
        sa.select(sa.func.count()).select_from(S.chain_sends).where(
            c.transaction_id == transaction_id, c.state.in_(("signed", "mined"))
        )
    ).scalar() > 0


def _not_broadcast(s: Step) -> None:
    if broadcast_started(s.conn, s.tx["id"]):
        raise Conflict("the crypto has already been broadcast to the chain; it cannot be stopped", code="already_broadcast")


def _paid(s: Step) -> None:
    if not s.tx["paid"]:
        raise Conflict("no payment has been received for this transaction; cancel it instead", code="not_paid")


def _not_paid(s: Step) -> None:
    if s.tx["paid"]:
        raise Conflict("the payment was already received", code="already_paid")


def _enough_confirmations(s: Step) -> None:
    need = s.broker.settings.confirmations
    if s.data.get("confirmations", 0) < need:
        raise Conflict(f"the deposit has {s.data.get('confirmations', 0)} of {need} confirmations", code="unconfirmed")


def _confirmation_overdue(s: Step) -> None:
    if s.now_us < s.tx["status_since_us"] + s.broker.settings.confirm_block_after_s * US_PER_S:
        raise Conflict("confirmations are not overdue yet", code="not_overdue")


def _below_four_eyes_threshold(s: Step) -> None:
    if s.tx["fiat_amount"] >= s.broker.settings.four_eyes_threshold:
        raise Conflict("this payout needs approval by two operators (4-eyes)", code="four_eyes_required")


def _second_operator(s: Step) -> None:
    if s.by == s.tx["first_approver"]:
        raise Forbidden("4-eyes: the second approval must come from a different operator", code="four_eyes")


GUARDS: dict[str, Callable[[Step], None]] = {
    "quote_valid": _quote_valid,
    "account_inactive": _account_inactive,
    "send_delay_elapsed": _send_delay_elapsed,
    "not_broadcast": _not_broadcast,
    "paid": _paid,
    "not_paid": _not_paid,
    "enough_confirmations": _enough_confirmations,
    "confirmation_overdue": _confirmation_overdue,
    "below_four_eyes_threshold": _below_four_eyes_threshold,
    "second_operator": _second_operator,
}
