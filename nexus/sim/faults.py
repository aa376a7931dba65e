"""Faults injected on demand: `KIND:VENUE:AT_S`, AT_S in simulated seconds since the start.

| kind | effect |
|---|---|
| disconnect | every WebSocket of the venue is dropped at once (TCP abort, no close frame); new WebSocket upgrades are refused with HTTP 503 for 2 s, then accepted again |
| gap | the next book message of every book channel of the venue is not sent; its sequence numbers are skipped (Binance U/u/pu, Bybit u, OKX seqId/prevSeqId, Coinbase sequence_num, KuCoin sequenceStart/End, Gate U/u, Bitfinex SEQ_ALL numbers; Bitget has no previous-sequence field: its next checksum finds the loss; MEXC fromVersion/toVersion; Aster and Binance RWA as Binance; Deribit change_id, Crypto.com u/pu, dYdX message_id) |
| bad-checksum | the next book update of every checksummed channel carries a wrong checksum; the data is right (OKX, Kraken, Bitfinex `cs`, Bitget `books`) |
| silence | nothing at all is sent on the venue's connections for 8 s (no data, heartbeats, pongs or pings); connections stay open; afterwards the stream resumes in sequence, nothing lost |
| malformed | 3 text frames that are not valid JSON are sent on every connection of the venue, in addition to (never instead of) the real messages |
| diverge | the venue's price is 1 % above the market for 15 s |

`gap` and `bad-checksum` act on the next book message and `malformed` on the connections open at
the time: when one falls due while the venue has no subscribed connection (a client still
connecting, or reconnecting after a `disconnect`), it waits for the first subscriber instead of
being spent on a message nobody receives (nexus.sim.core.HELD_FAULTS).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Iterable

from nexus.exceptions import ConfigError
from nexus.sim.specs import VENUES

KINDS: tuple[str, ...] = ("disconnect", "gap", "bad-checksum", "silence", "malformed", "diverge")
SILENCE_S = 8
DIVERGE_S = 15
DIVERGE_FACTOR = Decimal("1.01")
DISCONNECT_REFUSE_S = 2
# Which venues a fault kind makes sense for: a gap needs sequence numbers, a bad checksum a checksum.
SEQUENCED = ("binance-spot", "binance-perp", "bybit-perp", "okx-swap", "coinbase", "kucoin", "gate", "bitfinex", "bitget", "mexc", "aster", "binance-rwa",
             "deribit", "cryptocom", "dydx")
CHECKSUMMED = ("okx-swap", "kraken", "bitfinex", "bitget")
AT_S_MAX = 10 ** 7


@dataclass(frozen=True)
class Fault:
    kind: str
    venue: str
    at_s: Decimal

    @property
    def at_ns(self) -> int:
        return int(self.at_s * 1_000_000_000)

    def spec(self) -> str:
        return f"{self.kind}:{self.venue}:{self.at_s}"

    def duration_s(self) -> int:
        return {"silence": SILENCE_S, "diverge": DIVERGE_S, "disconnect": DISCONNECT_REFUSE_S}.get(self.kind, 0)


def parse(text: str) -> Fault:
    """Parse KIND:VENUE:AT_S; raises ConfigError saying what is wrong and what is allowed."""
    parts = text.split(":")
    if len(parts) != 3:
        raise ConfigError(f"--fault {text!r}: expected KIND:VENUE:AT_S, e.g. gap:binance-spot:5")
    kind, venue, at = (p.strip() for p in parts)
    if kind not in KINDS:
        raise ConfigError(f"--fault {text!r}: unknown kind {kind!r}; kinds: {', '.join(KINDS)}")
    if venue not in VENUES:
        raise ConfigError(f"--fault {text!r}: unknown venue {venue!r}; venues: {', '.join(VENUES)}")
    try:
        at_s = Decimal(at)
    except InvalidOperation:
        raise ConfigError(f"--fault {text!r}: AT_S must be a number of seconds, got {at!r}") from None
    if not at_s.is_finite() or at_s < 0 or at_s > AT_S_MAX:
        raise ConfigError(f"--fault {text!r}: AT_S must be between 0 and {AT_S_MAX} seconds")
    if kind == "gap" and venue not in SEQUENCED:
        raise ConfigError(f"--fault {text!r}: {venue} has no sequence numbers to skip; "
                          f"gap applies to {', '.join(SEQUENCED)}")
    if kind == "bad-checksum" and venue not in CHECKSUMMED:
        raise ConfigError(f"--fault {text!r}: {venue} sends no checksum; "
                          f"bad-checksum applies to {', '.join(CHECKSUMMED)}")
    return Fault(kind, venue, at_s)


def parse_all(items: Iterable[str | Fault], venues: Iterable[str]) -> list[Fault]:
    served = set(venues)
    out = []
    for it in items:
        f = it if isinstance(it, Fault) else parse(it)
        if f.venue not in served:
            raise ConfigError(f"--fault {f.spec()}: {f.venue} is not among the served venues ({', '.join(sorted(served))})")
        out.append(f)
    return sorted(out, key=lambda f: (f.at_ns, KINDS.index(f.kind), VENUES.index(f.venue)))
