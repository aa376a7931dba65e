"""The OKX and Kraken order-book checksums, written from the venues' documentation.

This is a deliberately independent Python implementation (the native book in
`nexus._native` has its own): the simulator stamps its messages with these values, the
decoders verify them with theirs, and a disagreement shows up as a checksum failure.

OKX v5 (https://www.okx.com/docs-v5/en/#order-book-trading-market-data-ws-order-book-channel,
"Checksum"): take the first 25 bids and asks of the local book, build
"bid1px:bid1sz:ask1px:ask1sz:bid2px:..." from the price and size strings *as received*
(when one side is shorter, the remaining levels of the other side follow on their own),
CRC32 it and read the result as a signed 32-bit integer.

Kraken WebSocket v2 (https://docs.kraken.com/api/docs/guides/spot-ws-book-v2): for the top
10 asks (low to high) then the top 10 bids (high to low), remove the '.' from price and
quantity (formatted with the pair's price and qty precision) and strip leading zeros;
concatenate price+qty for every level, asks first; CRC32, unsigned 32-bit.
"""

from __future__ import annotations

import zlib
from typing import Sequence

Level = tuple[str, str]

OKX_DEPTH = 25
KRAKEN_DEPTH = 10


def okx_string(bids: Sequence[Level], asks: Sequence[Level], depth: int = OKX_DEPTH) -> str:
    parts: list[str] = []
    for i in range(depth):
        if i < len(bids):
            parts.append(f"{bids[i][0]}:{bids[i][1]}")
        if i < len(asks):
            parts.append(f"{asks[i][0]}:{asks[i][1]}")
    return ":".join(parts)


def okx(bids: Sequence[Level], asks: Sequence[Level], depth: int = OKX_DEPTH) -> int:
    """Signed 32-bit CRC32 of the OKX check string; `bids`/`asks` best first."""
    crc = zlib.crc32(okx_string(bids, asks, depth).encode("ascii"))
    return crc - (1 << 32) if crc >= 1 << 31 else crc


def _kraken_digits(s: str) -> str:
    return s.replace(".", "").lstrip("0")


def kraken_string(bids: Sequence[Level], asks: Sequence[Level], depth: int = KRAKEN_DEPTH) -> str:
    return "".join(_kraken_digits(p) + _kraken_digits(q) for p, q in list(asks[:depth]) + list(bids[:depth]))


def kraken(bids: Sequence[Level], asks: Sequence[Level], depth: int = KRAKEN_DEPTH) -> int:
    """Unsigned 32-bit CRC32 of the Kraken check string; values already formatted with the
    pair's precisions, `bids`/`asks` best first."""
    return zlib.crc32(kraken_string(bids, asks, depth).encode("ascii"))
