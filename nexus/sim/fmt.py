"""Integers to the decimal strings and timestamps venues put on the wire.

The simulator keeps every price and quantity as an integer at a fixed decimal exponent
(`v` means v * 10**-dec); these helpers render them exactly, never through a binary float.
Kraken's v2 feed carries decimals as bare JSON numbers, so `Raw` + `dumps` let a message
embed a pre-formatted number literal that `json.dumps` would otherwise quote.
"""

from __future__ import annotations

import datetime as _dt
import functools
import json
from typing import Any

NS_PER_S = 1_000_000_000
NS_PER_MS = 1_000_000
FORMAT_CACHE = 1 << 13   # formatted numbers kept per function (prices near the touch repeat a lot)


@functools.lru_cache(maxsize=FORMAT_CACHE)
def fixed(v: int, dec: int) -> str:
    """v * 10**-dec with exactly `dec` fractional digits: fixed(650001, 1) == "65000.1"."""
    if dec <= 0:
        return str(v * 10 ** (-dec))
    sign = "-" if v < 0 else ""
    digits = str(abs(v)).rjust(dec + 1, "0")
    return f"{sign}{digits[:-dec]}.{digits[-dec:]}"


@functools.lru_cache(maxsize=FORMAT_CACHE)
def trim(v: int, dec: int) -> str:
    """Shortest exact form: trim(6500000, 2) == "65000", trim(150, 2) == "1.5"."""
    s = fixed(v, dec)
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return "0" if s in ("", "-0") else s


def rescale(v: int, dec_from: int, dec_to: int) -> int:
    """Exact change of exponent; widening only (dec_to >= dec_from) is ever needed."""
    if dec_to < dec_from:
        q, r = divmod(v, 10 ** (dec_from - dec_to))
        if r:
            raise ValueError(f"{v}e-{dec_from} is not representable at {dec_to} decimals")
        return q
    return v * 10 ** (dec_to - dec_from)


def ms(ts_ns: int) -> int:
    return ts_ns // NS_PER_MS


def rfc3339(ts_ns: int, digits: int = 6) -> str:
    """UTC RFC 3339 with `digits` fractional digits (Kraken 6, Coinbase 9): "...T17:35:55.440295Z"."""
    secs, frac = divmod(ts_ns, NS_PER_S)
    base = _dt.datetime.fromtimestamp(secs, tz=_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    if digits <= 0:
        return base + "Z"
    return f"{base}.{str(frac).rjust(9, '0')[:digits]}Z"


class Raw(str):
    """A JSON literal emitted verbatim by `dumps` (a pre-formatted number)."""


def dumps(obj: Any) -> str:
    """Compact JSON like json.dumps(separators=(",", ":")), with `Raw` values unquoted."""
    if isinstance(obj, Raw):
        return str(obj)
    if isinstance(obj, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{dumps(v)}" for k, v in obj.items()) + "}"
    if isinstance(obj, (list, tuple)):
        return "[" + ",".join(dumps(v) for v in obj) + "]"
    return json.dumps(obj, separators=(",", ":"))


def compact(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"))
