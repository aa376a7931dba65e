"""Rows -> the JSON the API returns and callbacks carry. Amounts as decimal strings."""

from __future__ import annotations

import json

from nexus.broker.clock import iso
from nexus.broker.units import CURRENCIES, to_str


def amounts(tx: dict) -> dict:
    cur, fiat = CURRENCIES[tx["crypto"]], CURRENCIES[tx["fiat"]]
    return {
        "crypto": tx["crypto"],
        "fiat": tx["fiat"],
        "price": tx["price"],
        "fee": to_str(tx["fee"], fiat),
        "fiat_amount": to_str(tx["fiat_amount"], fiat),
        "crypto_amount": to_str(tx["crypto_amount"], cur),
    }


def transaction(tx: dict, history: list[dict] | None = None) -> dict:
    out = {
        "transaction_code": tx["code"],
        "type": tx["kind"],
        "status": tx["status"],
        "account_code": tx["account_code"],
        "customer_code": tx["customer_code"],
        "payment_method": tx["payment_method"],
        **amounts(tx),
        "quote_expires_at": iso(tx["quote_expires_at_us"]),
        "deposit_address": tx["deposit_address"],
        "withdraw_address": tx["withdraw_address"],
        "callback_url": tx["callback_url"],
        "created_at": iso(tx["created_at_us"]),
        "updated_at": iso(tx["status_since_us"]),
    }
    if history is not None:
        out["history"] = [{"status": h["status"], "at": iso(h["at_us"]), "by": h["by"], "event": h["event"]} for h in history]
    return out


def callback_body(tx: dict, seq: int, previous: str | None, status: str, at_us: int) -> str:
    body = {
        "event_id": f"{tx['code']}:{seq}",
        "transaction_code": tx["code"],
        "type": tx["kind"],
        "status": status,
        "previous_status": previous,
        "at": iso(at_us),
        "account_code": tx["account_code"],
        **amounts(tx),
    }
    return json.dumps(body, separators=(",", ":"), sort_keys=True)
