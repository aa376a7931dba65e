"""What the simulator's Bitget REST handlers share (sim_trade.py for spot, sim_futures.py for
USDT futures): the failure envelope's exception, the HMAC signature as Bitget computes it
(Base64 HMAC-SHA256, see sim_trade.py's sources) and exact decimal rendering."""

from __future__ import annotations

import base64
import hashlib
import hmac
from decimal import Decimal


class BitgetError(Exception):
    def __init__(self, code: str, msg: str, status: int = 400) -> None:
        super().__init__(msg)
        self.code, self.msg, self.status = code, msg, status


def exact(v: Decimal) -> str:
    """A balance as Bitget writes it: a plain decimal, every digit kept."""
    t = format(Decimal(v), "f")
    return (t.rstrip("0").rstrip(".") if "." in t else t) or "0"


def sign(secret: str, text: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), text.encode(), hashlib.sha256).digest()).decode()
