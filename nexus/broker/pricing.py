"""Prices and quotes.

A price source gives the mid price of a crypto in the broker's fiat (EUR per whole coin, a
Decimal). Two sources: `FixedPriceSource` (configured prices, settable at runtime) and
`RingPriceSource` (the engine's consensus mid, read from a shared-memory ring of records).
The broker quotes buy_price = mid * (1 + spread) rounded up and sell_price = mid * (1 - spread)
rounded down; fees come from the payment method (rate + fixed). Every rounding favours the
broker and is written down next to the formula.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, localcontext
from typing import Mapping

from nexus.broker.clock import Clock
from nexus.broker.errors import BrokerError, Invalid
from nexus.broker.units import Currency

log = logging.getLogger("nexus.broker.prices")

SPREAD = Decimal("0.005")
PRICE_QUANTUM = Decimal("0.000001")  # prices carry 6 decimals
DEFAULT_PRICES = {"ETH": Decimal("2000.00"), "USDT": Decimal("0.92")}
assert Decimal(0) <= SPREAD < Decimal(1)


class PriceUnavailable(BrokerError):
    http_status, code = 503, "price_unavailable"


class PriceSource:
    def mid(self, crypto: str) -> tuple[Decimal, int]:
        """(mid price in fiat per whole coin, time of the price in us)."""
        raise NotImplementedError


class FixedPriceSource(PriceSource):
    def __init__(self, clock: Clock, prices: Mapping[str, Decimal] | None = None) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._prices = {k: Decimal(v) for k, v in (prices or DEFAULT_PRICES).items()}

    def set(self, crypto: str, price: Decimal | str) -> None:
        p = Decimal(price)
        if not p > 0:
            raise ValueError("price must be > 0")
        with self._lock:
            self._prices[crypto] = p

    def mid(self, crypto: str) -> tuple[Decimal, int]:
        with self._lock:
            p = self._prices.get(crypto)
        if p is None:
            raise PriceUnavailable(f"no price configured for {crypto}")
        return p, self._clock.now_us()


@dataclass(frozen=True)
class RingInstrument:
    instrument_id: int
    price_exponent: int | None = None  # None: the ring's side file says it (nexus/ring_meta.py)
    fx: Decimal = Decimal(1)  # converts the instrument's quote currency into the broker's fiat
    label: str = ""  # VENUE:SYMBOL, for messages


class RingPriceSource(PriceSource):
    """Mid price from best bid/ask records (kind BBO, or book levels at index 0) published on a
    shared-memory ring by the engine. Reads whatever is new on each call; never blocks.

    Each instrument's price exponent comes from the ring's side file, written by its writer
    (`nexus run --agg --consensus-ring`); one given in the configuration must agree with it,
    and is needed only for a ring without one. The side file is read again when the ring's
    writer restarts. A mid `JUMP_FACTOR` times (or more) above or below the last one this
    source accepted is refused (503) with an error in the log, once per episode: no real
    market moves an order of magnitude between two reads; a wrong exponent does.
    """

    BATCH = 4096
    JUMP_FACTOR = Decimal(10)

    def __init__(self, ring_name: str, instruments: Mapping[str, RingInstrument], clock: Clock, max_age_s: float = 60.0) -> None:
        from nexus import record
        from nexus.ring import RingReader

        self._ring = ring_name
        self._reader = RingReader(ring_name, start="earliest")
        self._buf = record.empty(self.BATCH)
        self._instruments = dict(instruments)
        self._by_id = {v.instrument_id: k for k, v in self._instruments.items()}
        self._best: dict[str, list[int | None]] = {k: [None, None, 0] for k in self._instruments}
        self._clock = clock
        self._max_age_us = int(max_age_s * 1_000_000)
        self._lock = threading.Lock()
        self._restarts = self._reader.restarts
        self._exponents = self._resolve()  # a configuration error here stops the broker's start
        self._unresolved: str | None = None  # after a writer restart, until its side file agrees
        self._accepted: dict[str, Decimal] = {}
        self._jumped: set[str] = set()

    def _resolve(self) -> dict[str, int]:
        """Each crypto's price exponent, from the side file and the configuration (ConfigError)."""
        from nexus.exceptions import ConfigError
        from nexus.ring_meta import RingMetaError, meta_path, read_meta

        try:
            meta = read_meta(self._ring, self._reader.writer_pid)
        except RingMetaError as e:
            raise ConfigError(str(e)) from None
        out = {}
        for crypto, inst in self._instruments.items():
            what = f"{crypto}={inst.label or inst.instrument_id}"
            side = None if meta is None else meta.get(inst.instrument_id)
            if meta is not None and side is None:
                carried = ", ".join(f"{m.venue}:{m.symbol}" for m in meta.values()) or "nothing"
                raise ConfigError(f"ring {self._ring!r} does not carry {what} (it carries {carried})")
            if side is not None and inst.price_exponent is not None and inst.price_exponent != side.price_exponent:
                raise ConfigError(f"{what}: price exponent {inst.price_exponent} given, but ring {self._ring!r} "
                                  f"says {side.price_exponent}; leave it out (the ring's side file gives it)")
            exponent = side.price_exponent if side is not None else inst.price_exponent
            if exponent is None:
                raise ConfigError(f"{what}: ring {self._ring!r} has no side file ({meta_path(self._ring)}) saying "
                                  f"its price exponent; give it as CRYPTO=VENUE:SYMBOL:EXP[:FX]")
            out[crypto] = exponent
        return out

    def _drain(self) -> None:
        from nexus.exceptions import ConfigError
        from nexus.record import Kind, Side

        while True:
            n = self._reader.poll(self._buf)
            if self._reader.restarts != self._restarts:  # a new writer: its side file may differ
                self._restarts = self._reader.restarts
                self._best = {k: [None, None, 0] for k in self._instruments}
                self._unresolved = "the ring's writer restarted"
            if self._unresolved is not None:
                try:
                    self._exponents, self._unresolved = self._resolve(), None
                except ConfigError as e:
                    if str(e) != self._unresolved:
                        log.error("price ring: %s", e)
                    self._unresolved = str(e)
            if n == 0:
                return
            now = self._clock.now_us()
            for rec in self._buf[:n]:
                crypto = self._by_id.get(int(rec["instrument_id"]))
                if crypto is None:
                    continue
                kind = int(rec["kind"])
                if kind == Kind.BBO or (kind == Kind.BOOK_LEVEL and int(rec["aux"]) == 0 and int(rec["qty"]) > 0):
                    side = int(rec["side"])
                    slot = 0 if side == Side.BID else 1 if side == Side.ASK else None
                    if slot is not None:
                        self._best[crypto][slot] = int(rec["price"])
                        self._best[crypto][2] = now

    def mid(self, crypto: str) -> tuple[Decimal, int]:
        inst = self._instruments.get(crypto)
        if inst is None:
            raise PriceUnavailable(f"no ring instrument configured for {crypto}")
        with self._lock:
            self._drain()
            if self._unresolved is not None:
                raise PriceUnavailable(f"no consensus price for {crypto}: {self._unresolved}")
            bid, ask, at = self._best[crypto]
            if bid is None or ask is None or self._clock.now_us() - at > self._max_age_us:
                raise PriceUnavailable(f"no fresh consensus price for {crypto} on the ring")
            with localcontext() as ctx:
                ctx.prec = 50
                mid = (Decimal(bid) + Decimal(ask)) / 2 * Decimal(1).scaleb(-self._exponents[crypto]) * inst.fx
            return self._checked_jump(crypto, mid), at

    def _checked_jump(self, crypto: str, mid: Decimal) -> Decimal:
        last = self._accepted.get(crypto)
        if last is not None and (mid >= last * self.JUMP_FACTOR or mid * self.JUMP_FACTOR <= last):
            if crypto not in self._jumped:
                self._jumped.add(crypto)
                log.error("price alert: the consensus mid of %s jumped from %s to %s (%sx or more); refused until it "
                          "returns near %s", crypto, last, mid, self.JUMP_FACTOR, last)
            raise PriceUnavailable(f"the consensus price of {crypto} jumped from {last} to {mid}; refused (price alert)")
        self._jumped.discard(crypto)
        self._accepted[crypto] = mid
        return mid


def buy_price(mid: Decimal) -> Decimal:
    return (mid * (1 + SPREAD)).quantize(PRICE_QUANTUM, rounding=ROUND_CEILING)


def sell_price(mid: Decimal) -> Decimal:
    return (mid * (1 - SPREAD)).quantize(PRICE_QUANTUM, rounding=ROUND_FLOOR)


@dataclass(frozen=True)
class PaymentMethod:
    code: str
    fiat: str
    quote_window_s: int
    fee_rate: Decimal
    fee_fixed: int  # fiat units
    callback_url: str | None = None

    def fee(self, gross: int) -> int:
        """Fee on a gross fiat amount, rounded up."""
        return _round(Decimal(gross) * self.fee_rate, ROUND_CEILING) + self.fee_fixed


@dataclass(frozen=True)
class Quote:
    price: Decimal
    fee: int  # fiat units
    fiat_amount: int  # fiat units: buy = what the customer pays; sell = what is paid out
    crypto_amount: int  # crypto units


def _round(x: Decimal, rounding: str) -> int:
    with localcontext() as ctx:
        ctx.prec = 100
        return int(x.to_integral_value(rounding=rounding))


def fiat_value(crypto_units: int, price: Decimal, crypto: Currency, fiat: Currency, rounding: str) -> int:
    with localcontext() as ctx:
        ctx.prec = 100
        return _round(Decimal(crypto_units) * price * fiat.unit / crypto.unit, rounding)


def crypto_for(fiat_units: int, price: Decimal, crypto: Currency, fiat: Currency, rounding: str) -> int:
    with localcontext() as ctx:
        ctx.prec = 100
        return _round(Decimal(fiat_units) * crypto.unit / (price * fiat.unit), rounding)


def _positive(q: Quote) -> Quote:
    if q.crypto_amount <= 0 or q.fiat_amount <= 0:
        raise Invalid("the amount is too small: nothing would be left after fees", code="amount_too_small")
    return q


def quote_buy(price: Decimal, pm: PaymentMethod, crypto: Currency, fiat: Currency, *, fiat_amount: int | None = None, crypto_amount: int | None = None) -> Quote:
    if fiat_amount is not None:
        fee = pm.fee(fiat_amount)  # customer pays fiat_amount in total, fee included
        crypto_units = crypto_for(fiat_amount - fee, price, crypto, fiat, ROUND_FLOOR)
        return _positive(Quote(price, fee, fiat_amount, crypto_units))
    assert crypto_amount is not None
    net = fiat_value(crypto_amount, price, crypto, fiat, ROUND_CEILING)
    fee = pm.fee(net)
    return _positive(Quote(price, fee, net + fee, crypto_amount))


def quote_sell(price: Decimal, pm: PaymentMethod, crypto: Currency, fiat: Currency, crypto_amount: int) -> Quote:
    gross = fiat_value(crypto_amount, price, crypto, fiat, ROUND_FLOOR)
    fee = pm.fee(gross)
    return _positive(Quote(price, fee, gross - fee, crypto_amount))


def quote_merchant(price: Decimal, pm: PaymentMethod, crypto: Currency, fiat: Currency, *, fiat_amount: int | None = None, crypto_amount: int | None = None) -> Quote:
    """The merchant receives fiat_amount (or the value of crypto_amount) less the fee."""
    if crypto_amount is not None:
        return quote_sell(price, pm, crypto, fiat, crypto_amount)
    assert fiat_amount is not None
    # smallest gross whose payout after fees covers fiat_amount
    gross = _round((Decimal(fiat_amount + pm.fee_fixed)) / (1 - pm.fee_rate), ROUND_CEILING) if pm.fee_rate < 1 else 0
    units = crypto_for(max(gross, 1), price, crypto, fiat, ROUND_CEILING)
    q = quote_sell(price, pm, crypto, fiat, units)
    while q.fiat_amount < fiat_amount:  # rounding left it a cent short: add one crypto unit step
        units += max(1, crypto.unit // (fiat.unit * 1000))
        q = quote_sell(price, pm, crypto, fiat, units)
    return q


def quote_gift(price: Decimal, crypto: Currency, fiat: Currency, *, fiat_amount: int | None = None, crypto_amount: int | None = None) -> Quote:
    """Gifts carry no fee and are priced at the buy price."""
    if crypto_amount is None:
        assert fiat_amount is not None
        crypto_amount = crypto_for(fiat_amount, price, crypto, fiat, ROUND_FLOOR)
    value = fiat_value(crypto_amount, price, crypto, fiat, ROUND_FLOOR)
    return _positive(Quote(price, 0, value, crypto_amount))
