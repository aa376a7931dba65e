"""Timers on the broker's clock: Buy and Sell cancellation after 30 minutes without payment or
crypto, SendDelay -> Sending when the crypto's send delay has passed, and ToCancel resolution
(cancelled unless the crypto was already broadcast, in which case `mined` completes it)."""

from __future__ import annotations

import sqlalchemy as sa

from nexus.broker import states, transitions
from nexus.broker import schema as S
from nexus.broker.clock import US_PER_S
from nexus.broker.errors import Conflict
from nexus.broker.guards import broadcast_started

_T = S.transactions.c
BATCH = 200


def _due(conn, kinds, status: str, before_us: int | None = None) -> list[int]:
    q = sa.select(_T.id).where(_T.kind.in_(kinds), _T.status == status)
    if before_us is not None:
        q = q.where(_T.status_since_us <= before_us)
    return [r.id for r in conn.execute(q.order_by(_T.id).limit(BATCH))]


def run(broker) -> int:
    now = broker.now_us()
    s = broker.settings
    with broker.db.read() as conn:
        jobs = [
            ("timeout", i) for i in _due(conn, (states.BUY,), states.BUY_INITIATED, now - s.buy_timeout_s * US_PER_S)
        ] + [
            ("timeout", i) for i in _due(conn, (states.SELL, states.MERCHANT), states.SELL_INITIATED, now - s.sell_timeout_s * US_PER_S)
        ] + [
            ("delay_elapsed", i) for i in _due(conn, (states.BUY,), states.SEND_DELAY)
        ] + [
            ("cancel_confirmed", i) for i in _due(conn, (states.BUY,), states.TO_CANCEL) if not broadcast_started(conn, i)
        ]
    n = 0
    for event, tx_id in jobs:

        def work(conn, event=event, tx_id=tx_id):
            tx = transitions.load(conn, broker, tx_id=tx_id)
            transitions.fire(conn, broker, tx, event, states.SYSTEM, "system:timer")

        try:
            broker.db.run(work)
            n += 1
        except Conflict:
            pass  # not due yet (send delay) or raced with a request: the table decided
    return n
