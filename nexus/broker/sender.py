"""Hot-wallet sends: sign queued sends (storing the signed transaction before it leaves),
broadcast, and turn receipts into the `mined` transition.

Crash safety: a send is `queued` (in the same database transaction as the status change that
wants it), then `signed` with its nonce, hash and raw transaction committed *before* the
broadcast, then `mined`. After a crash every `signed` send is broadcast again (a node treats
a duplicate as known), oldest nonce first, before anything new is signed.

A send the chain does not know (dropped from the mempool, a chain reset, a nonce taken by
another transaction) is broadcast again every REBROADCAST_AFTER_S; when the chain still does
not know it after `Settings.send_lost_after_s` (real seconds), it is `lost`: its transaction
is Blocked by the system (history event `send_lost`, a callback), where an operator sees it
and unblocks it (a new send is queued and signed) or cancels it. Never a silent stall.
"""

from __future__ import annotations

import logging
import re
import threading
import time

import sqlalchemy as sa

from nexus.broker import ledger, states, transitions
from nexus.broker import schema as S
from nexus.broker.errors import BrokerError, ChainError
from nexus.broker.ledger import Posting

log = logging.getLogger("nexus.broker.sender")

# the statuses in which a transaction's queued send may leave the hot wallet
SENDABLE = {states.BUY: {states.SENDING}, states.GIFT: {states.GIFT_SENDING}, states.SELL: {states.RETURNED}, states.MERCHANT: {states.RETURNED}}
MINED_EVENT_FROM = {states.BUY: {states.SENDING, states.TO_CANCEL}, states.GIFT: {states.GIFT_SENDING}}
LOST_EVENT = "send_lost"
LOST_FROM = {k: {t.src for t in states.TABLES[k] if t.event == LOST_EVENT} for k in states.KINDS}
REBROADCAST_AFTER_S = 5.0
BATCH = 50
_EXPECTED_NONCE = re.compile(r"expected (\d+), but got (\d+)", re.I)

_C = S.chain_sends.c


class Sender:
    def __init__(self, broker) -> None:
        self.b = broker
        self._last_broadcast: dict[int, float] = {}  # send id -> monotonic time; empty after a restart
        self._unknown_since: dict[int, float] = {}  # send id -> monotonic time the chain was first seen not to know it
        self._lock = threading.Lock()  # one signer per process; the unique nonce guards the rest

    def tick(self) -> int:
        with self._lock:
            return self.check_signed() + self.sign_queued()

    # -- signed -> mined --------------------------------------------------------------------

    def check_signed(self) -> int:
        with self.b.db.read() as conn:
            rows = conn.execute(sa.select(S.chain_sends).where(_C.state == "signed").order_by(_C.nonce).limit(BATCH)).mappings().all()
        done = 0
        for s in rows:
            rcpt = self.b.chain.receipt(s["tx_hash"])
            if rcpt is None:
                last = self._last_broadcast.get(s["id"])
                if last is None or time.monotonic() - last > REBROADCAST_AFTER_S:
                    self._broadcast(s["id"], s["raw_tx"])
                done += self._watch_unknown(s)
                continue
            self.b.db.run(lambda conn, s=s, r=rcpt: self._mined(conn, s, r))
            self._forget(s["id"])
            done += 1
        return done

    def _forget(self, send_id: int) -> None:
        self._last_broadcast.pop(send_id, None)
        self._unknown_since.pop(send_id, None)

    def _watch_unknown(self, s) -> int:
        """A signed send without a receipt: pending on the chain is fine; unknown to it for
        longer than the bound, it is lost. Returns 1 when it was declared lost."""
        if self.b.chain.knows(s["tx_hash"]):
            self._unknown_since.pop(s["id"], None)
            return 0
        since = self._unknown_since.setdefault(s["id"], time.monotonic())
        if time.monotonic() - since < self.b.settings.send_lost_after_s:
            return 0
        self.b.db.run(lambda conn: self._lost(conn, s))
        self._forget(s["id"])
        return 1

    def _lost(self, conn, s) -> None:
        tx = transitions.load(conn, self.b, tx_id=s["transaction_id"])
        cur = conn.execute(self.b.db.for_update(sa.select(_C.state).where(_C.id == s["id"]))).scalar()
        if cur != "signed":
            return
        # the nonce is freed for new sends (the stored raw transaction still carries it)
        conn.execute(S.chain_sends.update().where(_C.id == s["id"]).values(state="lost", nonce=None, updated_at_us=self.b.now_us()))
        parks = tx["status"] in LOST_FROM.get(tx["kind"], ())  # a Returned Sell has no Blocked: the log says it
        log.error("send %s (%s) of %s is unknown to the chain after %.0f s of re-broadcasts; marked lost%s", s["id"], s["tx_hash"],
                  tx["code"], self.b.settings.send_lost_after_s, ", transaction Blocked for an operator" if parks else "; operator attention needed")
        if parks:
            transitions.fire(conn, self.b, tx, LOST_EVENT, states.SYSTEM, "system:chain")

    def _mined(self, conn, s, rcpt) -> None:
        # lock order everywhere: the transaction row first, then its sends
        tx = transitions.load(conn, self.b, tx_id=s["transaction_id"])
        cur = conn.execute(self.b.db.for_update(sa.select(_C.state).where(_C.id == s["id"]))).scalar()
        if cur != "signed":
            return
        conn.execute(
            S.chain_sends.update().where(_C.id == s["id"]).values(
                state="mined" if rcpt.ok else "failed", block_number=rcpt.block, gas_cost_wei=rcpt.gas_cost_wei, updated_at_us=self.b.now_us()
            )
        )
        if rcpt.ok and tx["status"] in MINED_EVENT_FROM.get(tx["kind"], ()):
            transitions.fire(conn, self.b, tx, "mined", states.SYSTEM, "system:chain", {"gas_cost_wei": rcpt.gas_cost_wei})
            return
        # A return (the transaction is already Returned) or a failed send: book the chain's
        # side of it against the send itself.
        lines = [Posting("hot_wallet", "ETH", -rcpt.gas_cost_wei), Posting("network_fees", "ETH", rcpt.gas_cost_wei)]
        if rcpt.ok:
            lines += [Posting("outgoing", s["crypto"], -s["amount"]), Posting("trade", s["crypto"], s["amount"])]
        else:
            log.error("send %s for %s failed on chain (reverted); operator attention needed", s["tx_hash"], tx["code"])
        ledger.post(conn, lines, memo=f"{tx['code']} send {s['id']} {'mined' if rcpt.ok else 'failed'}", at_us=self.b.now_us(),
                    transaction_id=tx["id"], for_update=self.b.db.is_postgres)

    def _broadcast(self, send_id: int, raw: str) -> None:
        try:
            self.b.chain.broadcast(raw)
            self._last_broadcast[send_id] = time.monotonic()
        except ChainError as e:
            m = _EXPECTED_NONCE.search(str(e))
            if m and int(m.group(2)) < int(m.group(1)):
                self._last_broadcast[send_id] = time.monotonic()  # nonce used: already mined
                return
            log.warning("broadcast of send %s failed: %s", send_id, e)

    # -- queued -> signed -------------------------------------------------------------------

    def sign_queued(self) -> int:
        with self.b.db.read() as conn:
            ids = [r.id for r in conn.execute(sa.select(_C.id).where(_C.state == "queued").order_by(_C.id).limit(BATCH))]
        if not ids or any(i not in self._last_broadcast for i in self._signed_ids()):
            return 0  # what was signed earlier (before a restart) goes out first, in nonce order
        n = 0
        for send_id in ids:
            try:
                raw = self.b.db.run(lambda conn, i=send_id: self._sign(conn, i), retry_integrity=True)
            except BrokerError as e:
                log.warning("signing send %s failed: %s", send_id, e)
                break
            if raw:
                self._broadcast(send_id, raw)
                n += 1
        return n

    def _signed_ids(self) -> list[int]:
        with self.b.db.read() as conn:
            return [r.id for r in conn.execute(sa.select(_C.id).where(_C.state == "signed"))]

    def _sign(self, conn, send_id: int) -> str | None:
        tx_id = conn.execute(sa.select(_C.transaction_id).where(_C.id == send_id)).scalar()
        if tx_id is None:
            return None
        tx = transitions.load(conn, self.b, tx_id=tx_id)  # the transaction row first, then the send
        s = conn.execute(self.b.db.for_update(sa.select(S.chain_sends).where(_C.id == send_id))).mappings().first()
        if s is None or s["state"] != "queued":
            return None
        if tx["status"] not in SENDABLE.get(tx["kind"], ()):
            return None  # e.g. ToCancel: the scheduler decides; Blocked cancels the send
        max_nonce = conn.execute(sa.select(sa.func.max(_C.nonce))).scalar()  # a lost send's nonce is NULL: reused
        nonce = max(self.b.chain.pending_nonce(), (max_nonce + 1) if max_nonce is not None else 0)
        raw, tx_hash = self.b.chain.sign_send(s["crypto"], s["to_address"], s["amount"], nonce)
        conn.execute(
            S.chain_sends.update().where(_C.id == send_id).values(state="signed", nonce=nonce, tx_hash=tx_hash, raw_tx=raw, updated_at_us=self.b.now_us())
        )
        return raw
