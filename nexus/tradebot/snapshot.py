"""The decision's input (`Snapshot`) and output (`Decision`), and their JSON form.

Every amount is a `Decimal`; JSON numbers and decimal strings are parsed straight into
`Decimal` (never through a binary float). Parsing is strict: every field is required, unknown
fields are refused, and the error names the field (`state.delayed_send: ...`), so one bad line
of `nexus tradebot decide` input is reported precisely and the others still decided.

JSON schema (one object per line; amounts as decimal strings, JSON numbers also accepted):

    {"decimals": int, "exchange_price": "…"|null, "internal_price": "…"|null,
     "settings": {"balance_target", "balance_wobble", "min_trade", "max_trade",
                  "min_transfer", "max_transfer", "min_confirmed_hotwallet_balance"},
     "state": {"hotwallet_confirmed_balance", "hotwallet_total_balance",
               "hotwallet_confirmed_reserve", "delayed_send", "exchange_crypto_total",
               "exchange_crypto_available", "exchange_currency_total",
               "exchange_currency_available"},
     "flags": {"active": bool, "open_orders_or_withdraws": bool, "last_order_age_s": number|null,
               "missing_hotwallet_deposits": bool, "missing_exchange_deposits": bool}}

    -> {"status": "ok"|"skipped", "reasons": [guard names], "unbalanced": bool,
        "actions": [{"action": "transfer_to_exchange"|"transfer_from_exchange"|"sell"|"buy",
                     "amount": "<decimal string>"}]}

The settings are in fiat except `min_confirmed_hotwallet_balance` (crypto); the state is in
crypto except the two `exchange_currency_*` fields (fiat).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any

from nexus.tradebot.errors import SnapshotError

# Limits on what a snapshot may carry. With them, every sum and difference the rules form from
# inputs is exact in the decision's context (DECIMAL_PRECISION significant digits), and the
# only roundings are the divisions by the price and the final quantization to the crypto's grid.
DECIMALS_MAX = 30  # smallest unit 10^-30; wei is 10^-18
INTEGER_DIGITS_MAX = 30
FRACTION_DIGITS_MAX = 30
DECIMAL_PRECISION = 120
# A sum of two inputs needs INTEGER_DIGITS_MAX + 1 + FRACTION_DIGITS_MAX digits to be exact. A
# quantized amount can reach fiat max / smallest price (< 10^(2 * INTEGER_DIGITS_MAX), as the
# smallest positive price is >= 10^-FRACTION_DIGITS_MAX = 10^-INTEGER_DIGITS_MAX) with
# DECIMALS_MAX fraction digits; it must fit the context or the quantization would fail.
assert FRACTION_DIGITS_MAX == INTEGER_DIGITS_MAX
assert DECIMAL_PRECISION >= INTEGER_DIGITS_MAX + 1 + FRACTION_DIGITS_MAX
assert DECIMAL_PRECISION >= 2 * INTEGER_DIGITS_MAX + 1 + DECIMALS_MAX

ACTIONS = ("transfer_to_exchange", "transfer_from_exchange", "sell", "buy")
STATUS_OK, STATUS_SKIPPED = "ok", "skipped"

_DECIMAL_STRING = re.compile(r"-?[0-9]+(\.[0-9]+)?\Z")


def check_amount(value: Decimal, path: str) -> Decimal:
    """Refuse non-finite values and values outside the digit limits above."""
    if not isinstance(value, Decimal) or isinstance(value, bool):
        raise SnapshotError(f"{path}: expected a Decimal, got {type(value).__name__}")
    if not value.is_finite():
        raise SnapshotError(f"{path}: not a finite number: {value}")
    if value == 0:
        return value
    _, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    while len(digits) > 1 and digits[-1] == 0 and exponent < 0:  # 1.500 -> 15e-1
        digits, exponent = digits[:-1], exponent + 1
    integer_digits = max(len(digits) + exponent, 0)
    fraction_digits = max(-exponent, 0)
    if integer_digits > INTEGER_DIGITS_MAX:
        raise SnapshotError(f"{path}: more than {INTEGER_DIGITS_MAX} integer digits")
    if fraction_digits > FRACTION_DIGITS_MAX:
        raise SnapshotError(f"{path}: more than {FRACTION_DIGITS_MAX} fraction digits")
    return value


def _bool(v: object, path: str) -> bool:
    if not isinstance(v, bool):
        raise SnapshotError(f"{path}: expected true or false, got {json_repr(v)}")
    return v


@dataclass(frozen=True, slots=True)
class SnapshotSettings:
    """The Tradebot settings of one crypto as the decision sees them (fiat, except the last)."""

    balance_target: Decimal
    balance_wobble: Decimal
    min_trade: Decimal
    max_trade: Decimal
    min_transfer: Decimal
    max_transfer: Decimal
    min_confirmed_hotwallet_balance: Decimal  # crypto

    def __post_init__(self) -> None:
        for f in fields(self):
            check_amount(getattr(self, f.name), f"settings.{f.name}")


@dataclass(frozen=True, slots=True)
class SnapshotState:
    """Balances in crypto, except the exchange currency (fiat) reserves."""

    hotwallet_confirmed_balance: Decimal
    hotwallet_total_balance: Decimal
    hotwallet_confirmed_reserve: Decimal
    delayed_send: Decimal
    exchange_crypto_total: Decimal
    exchange_crypto_available: Decimal
    exchange_currency_total: Decimal
    exchange_currency_available: Decimal

    def __post_init__(self) -> None:
        for f in fields(self):
            check_amount(getattr(self, f.name), f"state.{f.name}")


@dataclass(frozen=True, slots=True)
class SnapshotFlags:
    active: bool
    open_orders_or_withdraws: bool
    last_order_age_s: Decimal | None  # None: no finished order on record
    missing_hotwallet_deposits: bool
    missing_exchange_deposits: bool

    def __post_init__(self) -> None:
        for name in ("active", "open_orders_or_withdraws", "missing_hotwallet_deposits", "missing_exchange_deposits"):
            _bool(getattr(self, name), f"flags.{name}")
        if self.last_order_age_s is not None:
            check_amount(self.last_order_age_s, "flags.last_order_age_s")
            if self.last_order_age_s < 0:
                raise SnapshotError(f"flags.last_order_age_s: seconds since the last finished order cannot be "
                                    f"negative, got {self.last_order_age_s}")


@dataclass(frozen=True, slots=True)
class Snapshot:
    decimals: int
    exchange_price: Decimal | None
    internal_price: Decimal | None
    settings: SnapshotSettings
    state: SnapshotState
    flags: SnapshotFlags

    def __post_init__(self) -> None:
        if isinstance(self.decimals, bool) or not isinstance(self.decimals, int):
            raise SnapshotError(f"decimals: expected an integer, got {json_repr(self.decimals)}")
        if not 0 <= self.decimals <= DECIMALS_MAX:
            raise SnapshotError(f"decimals: must be between 0 and {DECIMALS_MAX}, got {self.decimals}")
        for name in ("exchange_price", "internal_price"):
            v = getattr(self, name)
            if v is not None:
                check_amount(v, name)


@dataclass(frozen=True, slots=True)
class Action:
    action: str  # one of ACTIONS
    amount: Decimal  # crypto, on the crypto's grid, > 0

    def __post_init__(self) -> None:
        assert self.action in ACTIONS, self.action


@dataclass(frozen=True, slots=True)
class Decision:
    status: str  # STATUS_OK or STATUS_SKIPPED
    reasons: tuple[str, ...]  # guard names that hold, in guard order (empty when ok)
    unbalanced: bool
    actions: tuple[Action, ...]  # in rule order (empty when skipped)
    # Why a rule whose condition held emitted nothing (for the audit log; not in the CLI schema).
    notes: tuple[str, ...] = ()


# ---- JSON ---------------------------------------------------------------------------------


def json_repr(v: object) -> str:
    """A parsed JSON value as the user wrote it, for messages: a number (read as Decimal, see
    `_loads`) stays a number (8.5, not "8.5"); cut at 60 characters."""
    try:
        text = _json_text(v)
    except (TypeError, ValueError, RecursionError):
        text = repr(v)
    return text if len(text) <= 60 else text[:57] + "..."


def _json_text(v: object) -> str:
    if isinstance(v, Decimal):
        return str(v)
    if isinstance(v, list):
        return "[" + ", ".join(_json_text(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{json.dumps(k)}: {_json_text(x)}" for k, x in v.items()) + "}"
    return json.dumps(v)


def parse_decimal(v: object, path: str) -> Decimal:
    """A JSON number (already a Decimal or int, see `loads`) or a decimal string."""
    if isinstance(v, bool):
        raise SnapshotError(f"{path}: expected a decimal, got {json_repr(v)}")
    if isinstance(v, int):
        return check_amount(Decimal(v), path)
    if isinstance(v, Decimal):
        return check_amount(v, path)
    if isinstance(v, str):
        if not _DECIMAL_STRING.match(v):
            raise SnapshotError(f"{path}: not a decimal string: {json_repr(v)}")
        return check_amount(Decimal(v), path)
    raise SnapshotError(f"{path}: expected a decimal, got {json_repr(v)}")


def _object(v: object, path: str, names: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(v, dict):
        raise SnapshotError(f"{path or 'snapshot'}: expected an object, got {json_repr(v)}")
    prefix = f"{path}." if path else ""
    missing = [n for n in names if n not in v]
    if missing:
        raise SnapshotError(f"{prefix}{missing[0]}: missing" + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""))
    unknown = sorted(set(v) - set(names))
    if unknown:
        raise SnapshotError(f"{prefix}{unknown[0]}: unknown field")
    return v


def _names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))


def _loads(text: str) -> object:
    def no_constant(name: str) -> object:
        raise SnapshotError(f"{name} is not a number")

    try:
        return json.loads(text, parse_float=Decimal, parse_constant=no_constant)
    except json.JSONDecodeError as e:
        raise SnapshotError(f"not valid JSON: {e}") from None
    except RecursionError:
        raise SnapshotError("not valid JSON: nested too deeply") from None


def snapshot_from_obj(obj: object) -> Snapshot:
    top = _object(obj, "", _names(Snapshot))
    s = _object(top["settings"], "settings", _names(SnapshotSettings))
    st = _object(top["state"], "state", _names(SnapshotState))
    fl = _object(top["flags"], "flags", _names(SnapshotFlags))
    decimals = top["decimals"]
    prices = {
        name: None if top[name] is None else parse_decimal(top[name], name)
        for name in ("exchange_price", "internal_price")
    }
    age = fl["last_order_age_s"]
    return Snapshot(
        decimals=decimals,  # an int, checked by Snapshot
        exchange_price=prices["exchange_price"],
        internal_price=prices["internal_price"],
        settings=SnapshotSettings(**{n: parse_decimal(s[n], f"settings.{n}") for n in s}),
        state=SnapshotState(**{n: parse_decimal(st[n], f"state.{n}") for n in st}),
        flags=SnapshotFlags(
            active=_bool(fl["active"], "flags.active"),
            open_orders_or_withdraws=_bool(fl["open_orders_or_withdraws"], "flags.open_orders_or_withdraws"),
            last_order_age_s=None if age is None else parse_decimal(age, "flags.last_order_age_s"),
            missing_hotwallet_deposits=_bool(fl["missing_hotwallet_deposits"], "flags.missing_hotwallet_deposits"),
            missing_exchange_deposits=_bool(fl["missing_exchange_deposits"], "flags.missing_exchange_deposits"),
        ),
    )


def parse_snapshot(text: str) -> Snapshot:
    """One JSON Lines line -> Snapshot, or SnapshotError naming the field."""
    return snapshot_from_obj(_loads(text))


def dec_str(d: Decimal) -> str:
    """A Decimal as a plain decimal string (never exponent notation)."""
    return format(d, "f")


def snapshot_to_obj(s: Snapshot) -> dict[str, Any]:
    """The JSON form `parse_snapshot` reads back to an equal Snapshot (amounts as strings)."""

    def strs(obj: SnapshotSettings | SnapshotState | SnapshotFlags) -> dict[str, Any]:
        return {f.name: _jsonable(getattr(obj, f.name)) for f in fields(obj)}

    return {
        "decimals": s.decimals,
        "exchange_price": _jsonable(s.exchange_price),
        "internal_price": _jsonable(s.internal_price),
        "settings": strs(s.settings),
        "state": strs(s.state),
        "flags": strs(s.flags),
    }


def _jsonable(v: object) -> object:
    return dec_str(v) if isinstance(v, Decimal) else v


def decision_to_obj(d: Decision) -> dict[str, Any]:
    """The CLI schema, exactly: status, reasons, unbalanced, actions."""
    return {
        "status": d.status,
        "reasons": list(d.reasons),
        "unbalanced": d.unbalanced,
        "actions": [{"action": a.action, "amount": dec_str(a.amount)} for a in d.actions],
    }
