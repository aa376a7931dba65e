"""Treasury views and moves: the administrative balances beside the measured reserve (what
the Tradebot reads), and book-keeping of reserve moves between hot wallet, exchange and cold
storage (the physical move is done by whoever books it, e.g. the Tradebot)."""

from __future__ import annotations

import sqlalchemy as sa

from nexus.broker import ledger, states
from nexus.broker import schema as S
from nexus.broker.errors import Invalid
from nexus.broker.ledger import Posting
from nexus.broker.units import CRYPTOS, to_str, to_units

RESERVES = ("hot_wallet", "exchange", "coldstore")
MEASURED_ADDRESSES_MAX = 10_000  # deposit addresses read per measurement (bounded work)


def balances(broker, crypto: str) -> dict:
    cur = CRYPTOS[crypto]
    t, d = S.transactions.c, S.deposits.c
    with broker.db.read() as conn:
        confirmed = ledger.balance(conn, "hot_wallet", crypto)
        delayed = ledger.balance(conn, "outgoing", crypto)
        incoming = sum(
            int(r.crypto_amount)
            for r in conn.execute(
                sa.select(t.crypto_amount).where(t.crypto == crypto, t.kind.in_((states.SELL, states.MERCHANT)),
                                                 t.status.in_((states.CONFIRMING, states.BLOCKED)))
            )
        )
        addresses = [r.address for r in conn.execute(sa.select(d.address).where(d.crypto == crypto).distinct().limit(MEASURED_ADDRESSES_MAX))]
        exchange = ledger.balance(conn, "exchange", crypto)
        coldstore = ledger.balance(conn, "coldstore", crypto)
    reserve = broker.chain.balance(crypto, broker.chain.hot_address) + sum(broker.chain.balance(crypto, a) for a in addresses)
    # what the chain holds includes unconfirmed incoming Sells (not yet booked) and the
    # delayed sends (booked out, not yet mined)
    confirmed_reserve = reserve - incoming
    return {
        "crypto": crypto,
        "hot_wallet_address": broker.chain.hot_address,
        "hotwallet_confirmed_balance": to_str(confirmed, cur),
        "hotwallet_total_balance": to_str(confirmed + incoming, cur),
        "delayed_send": to_str(delayed, cur),
        "hotwallet_confirmed_reserve": to_str(confirmed_reserve, cur),
        "exchange": to_str(exchange, cur),
        "coldstore": to_str(coldstore, cur),
        "unbalanced": abs(confirmed_reserve - (confirmed + delayed)) > 1,
    }


def transfer(conn, broker, crypto: str, src: str, dst: str, amount: str, operator: str, memo: str | None) -> None:
    if src == dst or src not in RESERVES or dst not in RESERVES:
        raise Invalid("a transfer moves between two different reserves: hot_wallet, exchange, coldstore", code="invalid_transfer")
    units = to_units(amount, CRYPTOS[crypto])
    if units <= 0:
        raise Invalid("the amount must be greater than zero", code="invalid_amount")
    ledger.post(conn, [Posting(src, crypto, -units), Posting(dst, crypto, units)],
                memo=f"transfer {src} -> {dst} by {operator}" + (f": {memo}" if memo else ""),
                at_us=broker.now_us(), for_update=broker.db.is_postgres)
