"""What the venues' private streams share in the simulator: which authenticated connection
belongs to which account and which topics it subscribed, and exact parsing of the decimal
strings an order carries onto the instrument's integer grid.

A venue's `sim_trade.py` authenticates a connection its own way (Bybit's `auth` op, OKX's
`login`), then `attach`es it here; events are rendered by the venue and sent with `send`
to the account's live connections subscribed to that topic.
"""

from __future__ import annotations

import asyncio
import itertools
import re
from decimal import Decimal
from typing import Callable

from nexus.sim import fmt
from nexus.sim.feed import Conn

DEC8 = Decimal("0.00000001")
DECIMAL_TEXT = re.compile(r"^[0-9]{1,20}(\.[0-9]{1,20})?$")


def plain(v: Decimal) -> str:
    """An exact decimal without exponent ('65000.1', '0'); at most 8 places (averages)."""
    v = v.quantize(DEC8) if v.as_tuple().exponent < -8 else v
    s = format(v, "f")
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s or "0"


def mark(ex) -> Decimal:
    """The mid of the venue's simulated book (0 when a side is empty): the mark price."""
    b, a = ex.vs.best_bid(), ex.vs.best_ask()
    if b is None or a is None:
        return Decimal(0)
    return ex.price_dec(b + a) / 2


async def late(status: int, body, delay_s: float):
    """A test-only fault (SimExchange.delay_next_response): the order is placed, its answer
    comes `delay_s` late."""
    await asyncio.sleep(delay_s)
    return status, body


class OffGrid(ValueError):
    """A decimal that is well formed but not a multiple of the grid step."""


def units(text: str, dec: int, step: int) -> int:
    """`text` (a plain non-negative decimal string) as an integer at 10**-dec, exactly on
    multiples of `step`. ValueError: malformed; OffGrid: off the grid."""
    if not isinstance(text, str) or not DECIMAL_TEXT.match(text):
        raise ValueError(f"malformed decimal {text!r}")
    v = Decimal(text).scaleb(dec)
    if v != v.to_integral_value() or int(v) % step:
        raise OffGrid(text)
    return int(v)


class PrivateConns:
    """Authenticated private-stream connections by account, with their topics."""

    def __init__(self) -> None:
        self.by_key: dict[str, set[Conn]] = {}

    def attach(self, conn: Conn, api_key: str) -> None:
        conn.state["private_key"] = api_key
        conn.state.setdefault("topics", set())
        self.by_key.setdefault(api_key, set()).add(conn)

    @staticmethod
    def account(conn: Conn) -> str | None:
        return conn.state.get("private_key")

    def live(self, api_key: str) -> list[Conn]:
        conns = self.by_key.get(api_key, set())
        conns -= {c for c in conns if getattr(c, "closed", False)}
        return list(conns)

    def wanted(self, api_key: str, topic: str) -> list[Conn]:
        return [c for c in self.live(api_key) if topic in c.state.get("topics", ())]

    def send(self, api_key: str, topic: str, text: str) -> None:
        for c in self.wanted(api_key, topic):
            c.send(text)


class PrivateTrade:
    """Base of a venue's `sim_trade` object: its feed, exchange, clock and private connections.
    `watch(api_key)` makes the account's execution events reach `push` (once per account)."""

    def __init__(self, feed) -> None:
        self.feed = feed
        self.spec = feed.spec
        self.private = PrivateConns()
        self.listening: set[str] = set()
        self._ids = itertools.count(1)

    @property
    def ex(self):
        return self.feed.exchange()

    def now_ms(self) -> int:
        return fmt.ms(self.feed.clock())

    def watch(self, conn: Conn, api_key: str, push: Callable) -> None:
        self.private.attach(conn, api_key)
        if api_key not in self.listening:
            self.listening.add(api_key)
            self.ex.listen(api_key, push)
