"""The gate's reason codes, trading states and the order request record, mirrored from
engine/risk.pxd and checked against the compiled layout at import (a drift raises
RecordLayoutError, as for the market record)."""

from __future__ import annotations

from enum import IntEnum

import numpy as np

from nexus.exceptions import RecordLayoutError


class Reason(IntEnum):
    """ACCEPT or the check that refused, in the order the checks run; `.text` says it to a user."""

    text: str

    ACCEPT = 0, "accepted"
    DAILY_LOSS = 1, "LIMIT HIT: the daily loss cap was crossed (nexus risk reset --confirm)"
    DAILY_PROFIT = 2, "LIMIT HIT: the daily profit cap was crossed (nexus risk reset --confirm)"
    HALTED = 3, "trading is HALTED"
    BAD_ORDER = 4, "malformed order (side, type, flags, qty or price)"
    UNKNOWN_INSTRUMENT = 5, "no risk limits configured for this instrument"
    AUTO_OFF = 6, "AUTO is off: an auto order may only reduce"
    REDUCING_ONLY = 7, "trading state REDUCING: only reducing orders"
    REDUCE_ONLY = 8, "reduce-only order would open, increase or flip the position"
    MAX_QTY = 9, "quantity above the max order quantity of the symbol"
    NO_TOUCH = 10, "no current touch for the symbol"
    PRICE_BAND = 11, "price further from the touch than the price band (fat finger)"
    MAX_NOTIONAL = 12, "notional above the max order notional of the symbol"
    MAX_POSITIONS = 13, "max simultaneous positions already open"
    COOLDOWN = 14, "auto-trade cooldown not elapsed"
    RATE = 15, "max order rate reached"

    def __new__(cls, value: int, text: str) -> "Reason":
        member = int.__new__(cls, value)
        member._value_ = value
        member.text = text
        return member


REASON_TEXT: dict[Reason, str] = {r: r.text for r in Reason}


class State(IntEnum):
    ACTIVE = 0
    REDUCING = 1
    HALTED = 2


class Latch(IntEnum):
    NONE = 0
    LOSS = 1
    PROFIT = 2


class Side(IntEnum):
    BUY = 1
    SELL = 2


class OrderType(IntEnum):
    MARKET = 1
    LIMIT = 2
    STOP = 3


class Source(IntEnum):
    MANUAL = 0
    AUTO = 1


ORDER_DTYPE = np.dtype(
    [
        ("ts_ns", "<i8"),
        ("qty", "<i8"),
        ("price", "<i8"),
        ("instrument_id", "<u4"),
        ("venue_id", "<u2"),
        ("side", "u1"),
        ("type", "u1"),
        ("reduce_only", "u1"),
        ("source", "u1"),
        ("_pad", "u1", (6,)),
    ]
)

_ENUM_PREFIX = {"R_": Reason, "ST_": State, "LATCH_": Latch, "SRC_": Source}
_ORD = {"ORD_BUY": Side.BUY, "ORD_SELL": Side.SELL, "ORD_MARKET": OrderType.MARKET,
        "ORD_LIMIT": OrderType.LIMIT, "ORD_STOP": OrderType.STOP}


def check_layout() -> None:
    """ORDER_DTYPE and the IntEnums against the compiled gate."""
    from engine import risk

    lay = risk.layout()
    if lay["size"] != ORDER_DTYPE.itemsize:
        raise RecordLayoutError(f"OrderReq is {lay['size']} bytes, ORDER_DTYPE {ORDER_DTYPE.itemsize}")
    for name, off in lay["offsets"].items():
        if ORDER_DTYPE.fields[name][1] != off:
            raise RecordLayoutError(f"OrderReq.{name} at {off}, ORDER_DTYPE at {ORDER_DTYPE.fields[name][1]}")
    for cname, value in lay["constants"].items():
        if cname == "R_CODES":
            ok = value == len(Reason)
        elif cname in _ORD:
            ok = _ORD[cname] == value
        else:
            prefix = next(p for p in _ENUM_PREFIX if cname.startswith(p))
            ok = _ENUM_PREFIX[prefix][cname[len(prefix):]] == value
        if not ok:
            raise RecordLayoutError(f"engine.risk {cname}={value} differs from nexus.risk.codes")


check_layout()


def empty_orders(n: int) -> np.ndarray:
    return np.zeros(n, ORDER_DTYPE)
