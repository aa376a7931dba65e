"""Creating Buy, Sell, Merchant and Gift transactions (and simulating them), and the
integrator's and operators' actions on them."""

from __future__ import annotations

from decimal import ROUND_CEILING, Decimal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from nexus.broker import callback_urls, pricing, states, transitions, views
from nexus.broker import schema as S
from nexus.broker.clock import US_PER_S, iso
from nexus.broker.customers import get_account_row, new_deposit_address
from nexus.broker.errors import Conflict, Invalid, NotFound
from nexus.broker.pricing import PaymentMethod, Quote
from nexus.broker.units import CURRENCIES, ETH, EUR, crypto as crypto_of, to_str, to_units

OPERATOR_ACTIONS = ("block", "unblock", "cancel", "hold", "release", "approve", "incasso", "return", "delete")
_ACTION_EVENT = {"cancel": "op_cancel"}


def payment_method(conn: Connection, code: str) -> PaymentMethod:
    row = conn.execute(sa.select(S.payment_methods).where(S.payment_methods.c.code == code)).mappings().first()
    if row is None:
        raise Invalid(f"unknown payment method {code!r}", code="unknown_payment_method")
    return PaymentMethod(row["code"], row["fiat"], row["quote_window_s"], Decimal(row["fee_rate"]), row["fee_fixed"], row["callback_url"])


def _amounts(req: dict, crypto, fiat) -> tuple[int | None, int | None]:
    f, c = req.get("fiat_amount"), req.get("crypto_amount")
    if (f is None) == (c is None):
        raise Invalid("give exactly one of fiat_amount and crypto_amount", code="invalid_amount")
    fiat_units = to_units(f, fiat, field="fiat_amount") if f is not None else None
    crypto_units = to_units(c, crypto, field="crypto_amount") if c is not None else None
    if (fiat_units is not None and fiat_units <= 0) or (crypto_units is not None and crypto_units <= 0):
        raise Invalid("the amount must be greater than zero", code="invalid_amount")
    return fiat_units, crypto_units


def _limit(broker, q: Quote, fiat) -> Quote:
    if q.fiat_amount > broker.settings.max_fiat:
        raise Invalid(f"the amount is over the limit of {to_str(broker.settings.max_fiat, fiat)} {fiat.code} per transaction", code="over_limit")
    return q


def _active_account(conn: Connection, broker, req: dict):
    """The request's account, which must be active; its callback URL checked on the way."""
    callback_urls.check(req.get("callback_url"), broker.settings.allow_private_callbacks)
    acc = get_account_row(conn, req["account_code"])
    if not acc["active"]:
        raise Conflict(f"account {acc['code']} is not active", code="account_inactive")
    return acc


def send_floor(broker, crypto) -> tuple[int, int]:
    """(the smallest amount of `crypto` a send may carry, its network fee in `crypto`): the
    configured minimum, and at least what the chain charges to send it, so a Buy or Gift never
    costs the broker more in gas than it delivers. A token's fee (paid in ETH) is converted
    at the mid prices."""
    fee_wei = broker.chain.send_fee_wei(crypto.code)
    if crypto.native:
        fee = fee_wei
    else:
        eth_mid, _ = broker.prices.mid(ETH.code)
        mid, _ = broker.prices.mid(crypto.code)
        fee = pricing.crypto_for(pricing.fiat_value(fee_wei, eth_mid, ETH, EUR, ROUND_CEILING), mid, crypto, EUR, ROUND_CEILING)
    return max(broker.settings.send_min.get(crypto.code, 1), fee + 1), fee


def _big_enough(broker, q: Quote, crypto, kind: str) -> Quote:
    floor, fee = send_floor(broker, crypto)
    if q.crypto_amount < floor:
        raise Invalid(
            f"the amount is too small: a {kind.capitalize()} of {crypto.code} delivers at least {to_str(floor, crypto)} {crypto.code} "
            f"(sending it costs about {to_str(fee, crypto)} {crypto.code} in network fees); this one would deliver "
            f"{to_str(q.crypto_amount, crypto)} {crypto.code}",
            code="amount_too_small",
        )
    return q


def _quote_response(kind: str, q: Quote, crypto, fiat, expires_us: int | None, tx: dict | None = None) -> dict:
    out = {
        "transaction_code": tx["code"] if tx else None,
        "type": kind,
        "status": tx["status"] if tx else None,
        "crypto": crypto.code,
        "fiat": fiat.code,
        "price": str(q.price),
        "fee": to_str(q.fee, fiat),
        "fiat_amount": to_str(q.fiat_amount, fiat),
        "crypto_amount": to_str(q.crypto_amount, crypto),
        "quote_expires_at": iso(expires_us),
    }
    if tx is not None:
        out["account_code"] = tx["account_code"]
        out["deposit_address"] = tx["deposit_address"]
    return out


def _values(acc, kind: str, q: Quote, crypto, fiat, pm: PaymentMethod | None, expires_us: int | None, callback_url, deposit_address=None) -> dict:
    return {
        "kind": kind, "account_id": acc["id"], "customer_id": acc["customer_id"], "crypto": crypto.code, "fiat": fiat.code,
        "payment_method": pm.code if pm else None, "price": str(q.price), "fee": q.fee, "fiat_amount": q.fiat_amount,
        "crypto_amount": q.crypto_amount, "quote_expires_at_us": expires_us,
        "callback_url": callback_url or (pm.callback_url if pm else None) or acc["callback_url"],
        "deposit_address": deposit_address,
    }


def buy(conn: Connection, broker, req: dict, *, simulate: bool) -> dict:
    acc = _active_account(conn, broker, req)
    pm = payment_method(conn, req["payment_method"])
    crypto, fiat = crypto_of(acc["crypto"]), CURRENCIES[pm.fiat]
    fiat_units, crypto_units = _amounts(req, crypto, fiat)
    mid, _ = broker.prices.mid(crypto.code)
    q = _limit(broker, pricing.quote_buy(pricing.buy_price(mid), pm, crypto, fiat, fiat_amount=fiat_units, crypto_amount=crypto_units), fiat)
    _big_enough(broker, q, crypto, states.BUY)
    expires = broker.now_us() + pm.quote_window_s * US_PER_S
    if simulate:
        return _quote_response(states.BUY, q, crypto, fiat, expires)
    t = S.transactions.c
    debt = conn.execute(
        sa.select(sa.func.count()).select_from(S.transactions).where(t.customer_id == acc["customer_id"], t.status == states.BUY_INCASSO)
    ).scalar()
    if debt:
        raise Conflict("the customer has an unsettled Buy (BuyIncasso); no new Buy until it is settled", code="outstanding_debt")
    tx = transitions.create(conn, broker, states.BUY, "create", states.INTEGRATOR, states.INTEGRATOR,
                            _values(acc, states.BUY, q, crypto, fiat, pm, expires, req.get("callback_url")))
    return _quote_response(states.BUY, q, crypto, fiat, expires, tx)


def sell(conn: Connection, broker, req: dict, *, simulate: bool) -> dict:
    acc = _active_account(conn, broker, req)
    pm = payment_method(conn, req["payment_method"])
    crypto, fiat = crypto_of(acc["crypto"]), CURRENCIES[pm.fiat]
    if req.get("crypto_amount") is None:
        raise Invalid("a Sell needs crypto_amount", code="invalid_amount")
    _, crypto_units = _amounts({"crypto_amount": req["crypto_amount"]}, crypto, fiat)
    mid, _ = broker.prices.mid(crypto.code)
    q = _limit(broker, pricing.quote_sell(pricing.sell_price(mid), pm, crypto, fiat, crypto_units), fiat)
    expires = broker.now_us() + pm.quote_window_s * US_PER_S
    if simulate:
        return _quote_response(states.SELL, q, crypto, fiat, expires)
    tx = transitions.create(conn, broker, states.SELL, "create", states.INTEGRATOR, states.INTEGRATOR,
                            _values(acc, states.SELL, q, crypto, fiat, pm, expires, req.get("callback_url"), acc["deposit_address"]))
    return _quote_response(states.SELL, q, crypto, fiat, expires, tx)


def merchant(conn: Connection, broker, req: dict) -> dict:
    acc = _active_account(conn, broker, req)
    if not acc["customer_merchant"]:
        raise Invalid(f"account {acc['code']} does not belong to a merchant", code="not_a_merchant")
    pm = payment_method(conn, req["payment_method"])
    crypto, fiat = crypto_of(acc["crypto"]), CURRENCIES[pm.fiat]
    fiat_units, crypto_units = _amounts(req, crypto, fiat)
    mid, _ = broker.prices.mid(crypto.code)
    q = _limit(broker, pricing.quote_merchant(pricing.sell_price(mid), pm, crypto, fiat, fiat_amount=fiat_units, crypto_amount=crypto_units), fiat)
    expires = broker.now_us() + pm.quote_window_s * US_PER_S
    tx = transitions.create(conn, broker, states.MERCHANT, "create", states.INTEGRATOR, states.INTEGRATOR,
                            _values(acc, states.MERCHANT, q, crypto, fiat, pm, expires, req.get("callback_url")))
    # each Merchant transaction gets its own deposit address, so payments are never confused
    address = new_deposit_address(conn, broker, acc["id"], tx["id"])
    conn.execute(S.transactions.update().where(S.transactions.c.id == tx["id"]).values(deposit_address=address))
    tx["deposit_address"] = address
    return _quote_response(states.MERCHANT, q, crypto, fiat, expires, tx)


def gift(conn: Connection, broker, req: dict, operator: str) -> dict:
    acc = _active_account(conn, broker, req)
    crypto, fiat = crypto_of(acc["crypto"]), CURRENCIES["EUR"]
    fiat_units, crypto_units = _amounts(req, crypto, fiat)
    mid, _ = broker.prices.mid(crypto.code)
    q = _limit(broker, pricing.quote_gift(pricing.buy_price(mid), crypto, fiat, fiat_amount=fiat_units, crypto_amount=crypto_units), fiat)
    _big_enough(broker, q, crypto, states.GIFT)
    tx = transitions.create(conn, broker, states.GIFT, "create", states.OPERATOR, operator,
                            _values(acc, states.GIFT, q, crypto, fiat, None, None, req.get("callback_url")))
    return _quote_response(states.GIFT, q, crypto, fiat, None, tx)


# -- actions --------------------------------------------------------------------------------


def _send_delay_s(conn: Connection, crypto: str) -> int:
    return conn.execute(sa.select(S.crypto_settings.c.send_delay_s).where(S.crypto_settings.c.crypto == crypto)).scalar() or 0


def act(conn: Connection, broker, code: str, event: str, actor: str, by: str) -> dict:
    tx = transitions.load(conn, broker, code=code)
    tx = transitions.fire(conn, broker, tx, event, actor, by)
    if tx["status"] == states.SEND_DELAY and _send_delay_s(conn, tx["crypto"]) == 0:
        tx = transitions.fire(conn, broker, tx, "delay_elapsed", states.SYSTEM, "system:send-delay")
    return views.transaction(tx)


def operator_action(conn: Connection, broker, code: str, action: str, operator: str) -> dict:
    if action not in OPERATOR_ACTIONS:
        raise NotFound(f"unknown operator action {action!r} (one of {', '.join(OPERATOR_ACTIONS)})", code="unknown_action")
    return act(conn, broker, code, _ACTION_EVENT.get(action, action), states.OPERATOR, operator)


def get(conn: Connection, broker, code: str) -> dict:
    tx = transitions.load(conn, broker, code=code, lock=False)
    return views.transaction(tx, transitions.history(conn, tx["id"]))


LIST_MAX = 500


def listing(conn: Connection, customer: str | None, status: str | None, limit: int) -> list[dict]:
    q = transitions.select_tx()
    if customer:
        q = q.where(S.customers.c.code == customer)
    if status:
        q = q.where(S.transactions.c.status == status)
    q = q.order_by(S.transactions.c.id.desc()).limit(max(1, min(limit, LIST_MAX)))
    return [views.transaction(dict(r)) for r in conn.execute(q).mappings()]


def callbacks_of(conn: Connection, broker, code: str) -> dict:
    tx = transitions.load(conn, broker, code=code, lock=False)
    cb, at = S.callbacks.c, S.callback_attempts.c
    rows = conn.execute(sa.select(S.callbacks).where(cb.transaction_id == tx["id"]).order_by(cb.id)).mappings().all()
    attempts = conn.execute(sa.select(S.callback_attempts).where(at.transaction_id == tx["id"]).order_by(at.id)).mappings().all()
    by_cb: dict[int, list] = {}
    for a in attempts:
        by_cb.setdefault(a["callback_id"], []).append(
            {"attempt": a["attempt"], "at": iso(a["at_us"]), "http_status": a["http_status"], "error": a["error"], "duration_ms": a["duration_ms"]}
        )
    return {
        "transaction_code": tx["code"],
        "callbacks": [
            {
                "id": r["id"], "url": r["url"], "state": r["state"], "attempts": r["attempts"],
                "next_attempt_at": iso(r["next_attempt_us"]) if r["state"] == "pending" else None,
                "delivered_at": iso(r["delivered_at_us"]), "last_error": r["last_error"],
                "body": r["body"], "log": by_cb.get(r["id"], []),
            }
            for r in rows
        ],
    }
