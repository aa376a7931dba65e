"""What each transition does to money and the chain, keyed by (kind, event) like the tables.

An effect returns the row changes and the ledger postings of the step; `transitions.fire`
writes them in the same database transaction as the status change. Crypto leaving the hot
wallet is queued in `chain_sends` here and signed/broadcast by the sender afterwards.

Postings (debit positive), for a Buy of C crypto for F fiat with fee f:
  payment   bank +F, customer -F ; hot_wallet -C, outgoing +C       (crypto reserved)
  mined     outgoing -C, trade +C ; customer +F, fees -f, trade -(F-f)
  cancel    the reverse of whatever was booked (reservation, payment)
  incasso   bank -F, receivable +F (the payment bounced: the customer owes it)
A Sell of R crypto paying out P fiat (gross G, fee f):
  confirmed hot_wallet +R, trade -R ; trade +G, fees -f, customer -P
  completed customer +P, bank -P
  returned  customer +P, fees +f, trade -G ; hot_wallet -R, outgoing +R (sent back)
A Gift of C: hot_wallet -C, outgoing +C at creation; outgoing -C, gifts +C when mined.
Gas of every send: hot_wallet:ETH -gas, network_fees:ETH +gas when mined.
A send lost by the chain (send_lost -> Blocked) books nothing: the crypto stays reserved until
the operator unblocks (a new send) or cancels (a Buy: reservation and payment reversed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable


from nexus.broker import schema as S
from nexus.broker.guards import Step
from nexus.broker.ledger import Posting, customer_account, receivable_account
from nexus.broker.states import BUY, GIFT, MERCHANT, SELL


@dataclass
class Outcome:
    changes: dict = field(default_factory=dict)
    postings: list[Posting] = field(default_factory=list)

    def __iadd__(self, other: "Outcome") -> "Outcome":
        self.changes.update(other.changes)
        self.postings += other.postings
        return self


def _cust(s: Step) -> str:
    return customer_account(s.tx["customer_code"])


def lock_crypto(s: Step) -> Outcome:
    if s.tx["locked"]:
        return Outcome()
    c, x = s.tx["crypto_amount"], s.tx["crypto"]
    return Outcome({"locked": True}, [Posting("hot_wallet", x, -c), Posting("outgoing", x, c)])


def unlock_crypto(s: Step) -> Outcome:
    if not s.tx["locked"]:
        return Outcome()
    c, x = s.tx["crypto_amount"], s.tx["crypto"]
    return Outcome({"locked": False}, [Posting("outgoing", x, -c), Posting("hot_wallet", x, c)])


def receive_fiat(s: Step) -> Outcome:
    f, cur = s.tx["fiat_amount"], s.tx["fiat"]
    return Outcome({"paid": True}, [Posting("bank", cur, f), Posting(_cust(s), cur, -f)])


def refund_fiat(s: Step) -> Outcome:
    if not s.tx["paid"]:
        return Outcome()
    f, cur = s.tx["fiat_amount"], s.tx["fiat"]
    return Outcome({}, [Posting(_cust(s), cur, f), Posting("bank", cur, -f)])


def queue_send(s: Step, to: str, amount: int) -> None:
    s.conn.execute(
        S.chain_sends.insert().values(
            transaction_id=s.tx["id"], crypto=s.tx["crypto"], to_address=to, amount=amount,
            state="queued", created_at_us=s.now_us, updated_at_us=s.now_us,
        )
    )


def cancel_queued_sends(s: Step) -> None:
    c = S.chain_sends.c
    s.conn.execute(
        S.chain_sends.update().where(c.transaction_id == s.tx["id"], c.state == "queued").values(state="cancelled", updated_at_us=s.now_us)
    )


def gas(s: Step) -> list[Posting]:
    wei = int(s.data.get("gas_cost_wei") or 0)
    return [Posting("hot_wallet", "ETH", -wei), Posting("network_fees", "ETH", wei)] if wei else []


# -- Buy --------------------------------------------------------------------------------------


def buy_payment(s: Step) -> Outcome:
    out = receive_fiat(s)
    out += lock_crypto(s)
    return out


def buy_blocked_payment(s: Step) -> Outcome:
    return receive_fiat(s)  # a parked transaction reserves its crypto only when unblocked


def buy_to_sending(s: Step) -> Outcome:
    out = lock_crypto(s)
    queue_send(s, s.tx["withdraw_address"], s.tx["crypto_amount"])
    return out


def buy_block(s: Step) -> Outcome:
    cancel_queued_sends(s)  # a queued, unsigned send is stopped; unblock queues it again
    return Outcome()


def buy_end(s: Step) -> Outcome:
    cancel_queued_sends(s)
    out = unlock_crypto(s)
    out += refund_fiat(s)
    return out


def buy_mined(s: Step) -> Outcome:
    t = s.tx
    c, x, f, fee, cur = t["crypto_amount"], t["crypto"], t["fiat_amount"], t["fee"], t["fiat"]
    return Outcome(
        {"locked": False},
        [
            Posting("outgoing", x, -c), Posting("trade", x, c),
            Posting(_cust(s), cur, f), Posting("fees", cur, -fee), Posting("trade", cur, -(f - fee)),
            *gas(s),
        ],
    )


def buy_incasso(s: Step) -> Outcome:
    f, cur = s.tx["fiat_amount"], s.tx["fiat"]
    return Outcome({}, [Posting("bank", cur, -f), Posting(receivable_account(s.tx["customer_code"]), cur, f)])


def buy_incasso_release(s: Step) -> Outcome:
    f, cur = s.tx["fiat_amount"], s.tx["fiat"]
    return Outcome({}, [Posting("bank", cur, f), Posting(receivable_account(s.tx["customer_code"]), cur, -f)])


# -- Sell and Merchant ------------------------------------------------------------------------


def sell_deposit(s: Step) -> Outcome:
    """The crypto was seen on chain (unconfirmed): record it and the (re)priced quote."""
    return Outcome({k: s.data[k] for k in ("deposit_id", "crypto_amount", "price", "fee", "fiat_amount") if k in s.data})


def sell_confirmed(s: Step) -> Outcome:
    t = dict(s.tx)
    changes = {k: s.data[k] for k in ("price", "fee", "fiat_amount") if k in s.data}  # repriced when Blocked
    t.update(changes)
    r, x, payout, fee, cur = t["crypto_amount"], t["crypto"], t["fiat_amount"], t["fee"], t["fiat"]
    changes["booked"] = True
    return Outcome(
        changes,
        [
            Posting("hot_wallet", x, r), Posting("trade", x, -r),
            Posting("trade", cur, payout + fee), Posting("fees", cur, -fee), Posting(_cust(s), cur, -payout),
        ],
    )


def sell_first_approval(s: Step) -> Outcome:
    return Outcome({"first_approver": s.by})


def sell_paid_out(s: Step) -> Outcome:
    payout, cur = s.tx["fiat_amount"], s.tx["fiat"]
    return Outcome({}, [Posting(_cust(s), cur, payout), Posting("bank", cur, -payout)])


def sell_hold(s: Step) -> Outcome:
    return Outcome({"first_approver": None})  # a hold voids a pending first approval


def sell_return(s: Step) -> Outcome:
    t = s.tx
    r, x, payout, fee, cur = t["crypto_amount"], t["crypto"], t["fiat_amount"], t["fee"], t["fiat"]
    queue_send(s, t["withdraw_address"], r)
    return Outcome(
        {},
        [
            Posting(_cust(s), cur, payout), Posting("fees", cur, fee), Posting("trade", cur, -(payout + fee)),
            Posting("hot_wallet", x, -r), Posting("outgoing", x, r),
        ],
    )


# -- Gift -------------------------------------------------------------------------------------


def gift_create(s: Step) -> Outcome:
    out = lock_crypto(s)
    queue_send(s, s.tx["withdraw_address"], s.tx["crypto_amount"])
    return out


def gift_mined(s: Step) -> Outcome:
    c, x = s.tx["crypto_amount"], s.tx["crypto"]
    return Outcome({"locked": False}, [Posting("outgoing", x, -c), Posting("gifts", x, c), *gas(s)])


_SELL_EFFECTS: dict[str, Callable[[Step], Outcome]] = {
    "deposit": sell_deposit,
    "confirmed": sell_confirmed,
    "approve": lambda s: sell_first_approval(s) if s.tr.dst == "PayoutConfirming" else sell_paid_out(s),
    "payout": sell_paid_out,
    "hold": sell_hold,
    "return": sell_return,
}

EFFECTS: dict[tuple[str, str], Callable[[Step], Outcome]] = {
    (BUY, "payment"): lambda s: buy_blocked_payment(s) if s.tr.src == "Blocked" else buy_payment(s),
    (BUY, "delay_elapsed"): buy_to_sending,
    (BUY, "unblock"): buy_to_sending,
    (BUY, "block"): buy_block,
    (BUY, "cancel"): lambda s: buy_end(s) if s.tr.dst == "BuyCancelled" else Outcome(),
    (BUY, "timeout"): buy_end,
    (BUY, "op_cancel"): buy_end,
    (BUY, "cancel_confirmed"): buy_end,
    (BUY, "delete"): buy_end,
    (BUY, "mined"): buy_mined,
    (BUY, "incasso"): buy_incasso,
    (BUY, "release"): buy_incasso_release,
    **{(SELL, e): f for e, f in _SELL_EFFECTS.items()},
    **{(MERCHANT, e): f for e, f in _SELL_EFFECTS.items()},
    (GIFT, "create"): gift_create,
    (GIFT, "mined"): gift_mined,
    (GIFT, "unblock"): gift_create,  # the crypto is still reserved: only a new send
}


def run(s: Step, kind: str) -> Outcome:
    fn = EFFECTS.get((kind, s.tr.event))
    return fn(s) if fn else Outcome()
