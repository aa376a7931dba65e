"""What every comparison of `nexus bench peers` shares: the targets, the median of the rounds,
a peer's result row (timed, or not with the reason), and the equality checks run before timing."""

from __future__ import annotations

from decimal import Decimal

import gc
import time

from nexus import record
from nexus.bench.stats import median

BID, ASK = int(record.Side.BID), int(record.Side.ASK)

# Every pass (Nexus's and each peer's) is timed with this one clock: the process's CPU time, which
# leaves out the time the process waits for a core on a shared machine (a wall clock there
# charges a pass with whatever else ran meanwhile, several times its own cost at a load of 8 on
# 2 cores). Every pass runs in this process's one thread, so its CPU time is its cost.
clock_ns = time.process_time_ns
TOP_N = 20
BOOK_TARGET = 5.0
DECODE_TARGET = 3.0


def row(name: str, api: str, ns_per_update: float, updates: int, messages: int, agrees: bool,
         nexus_ns: float, nexus_mode: str, target: float, **extra) -> dict:
    ratio = ns_per_update / nexus_ns if nexus_ns > 0 else None
    return {"peer": name, "available": True, "api": api, "agrees_with_nexus": agrees,
            "ns_per_update": round(ns_per_update, 1),
            "msgs_per_s": round(messages / (ns_per_update * updates / 1e9), 1),
            "compared_with": nexus_mode, "nexus_ns_per_update": round(nexus_ns, 1),
            "ratio": round(ratio, 2) if ratio else None,
            "target": target, "met": bool(ratio is not None and ratio >= target), **extra}


def missing(name: str, why: str) -> dict:
    return {"peer": name, "available": False, "error": why}


def version_of(dist: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return None


def norm(levels: list, n: int = TOP_N) -> list:
    return [(str(Decimal(p).normalize()), str(Decimal(q).normalize())) for p, q in levels[:n]]


def same(a: list, b: list, n: int = 10**9) -> bool:
    """Decode check: every level of the final book (the book job: top TOP_N)."""
    return norm(a, n) == norm(b, n)


def trades_match(peer: list, nexus: list) -> tuple[bool, int]:
    """The peer's trades (price, size) against Nexus's, as sets of distinct trades: a peer may
    order a message's trades its own way, and may skip the recent trades a venue replays in
    its subscription snapshot (Coinbase market_trades), which Nexus reads as trades. Match: every
    peer trade is one Nexus read. Returns (match, distinct trades only Nexus read)."""
    p, n = set(norm(peer, 10**9)), set(norm(nexus, 10**9))
    return p <= n, len(n - p)


def first_difference(got: tuple, want: tuple) -> str:
    for side, a, b in (("bids", got[0], want[0]), ("asks", got[1], want[1])):
        na, nb = norm(a, 10**9), norm(b, 10**9)
        for i in range(max(len(na), len(nb))):
            x = na[i] if i < len(na) else None
            y = nb[i] if i < len(nb) else None
            if x != y:
                return f"{side}[{i}]: peer {x}, nexus {y}"
    return ""


def decode_row(peer: str, version: str | None, api: str, ns_per_msg: float, nexus: dict, frames: int,
               trades_checked: int, nexus_only: int) -> dict:
    """A timed decode row: the peer's ns per frame against Nexus's decode + sync + book."""
    base = nexus["decode_book_ns_per_msg"]
    ratio = ns_per_msg / base
    return {"peer": peer, "available": True, "version": version, "api": api,
            "agrees_with_nexus": True, "trades_checked": trades_checked, "nexus_only_trades": nexus_only,
            "frames": frames, "ns_per_msg": round(ns_per_msg, 1), "msgs_per_s": round(1e9 / ns_per_msg, 1),
            "compared_with": "nexus decode + sync + book", "nexus_ns_per_msg": base,
            "ratio": round(ratio, 2), "ratio_vs_nexus_decode_only": round(ns_per_msg / nexus["decode_ns_per_msg"], 2),
            "target": DECODE_TARGET, "met": ratio >= DECODE_TARGET}


def check_decode(peer: str, got: tuple, trades: list, nexus: dict) -> tuple[dict | None, int]:
    """(None, trades only Nexus read) when the peer's final book (up to the subscription's depth,
    nexus["_depth"], else whole) and trades equal Nexus's; else (the row saying how they differ,
    0): the peer is then not timed."""
    n = nexus.get("_depth") or 10**9
    agrees = same(got[0], nexus["_book"][0], n) and same(got[1], nexus["_book"][1], n)
    trades_agree, nexus_only = trades_match(trades, nexus["_trades"])
    if agrees and trades_agree:
        return None, nexus_only
    return {**missing(peer, "its book or trades disagree with Nexus's: not timed"),
            "book_agrees": agrees, "trades_agree": trades_agree,
            "first_difference": first_difference(got, nexus["_book"]),
            "trades": len(trades), "nexus_trades": len(nexus["_trades"])}, 0


class Prepared:
    """A peer whose output was checked equal to Nexus's, ready to be timed: `once()` runs one
    pass over the input and returns its ns; `close()` releases what the passes share."""

    def __init__(self, peer: str, version: str | None, api: str, once, frames: int, trades_checked: int,
                 nexus_only: int, close=None) -> None:
        self.peer, self.version, self.api, self.once = peer, version, api, once
        self.frames, self.trades_checked, self.nexus_only = frames, trades_checked, nexus_only
        self.close = close or (lambda: None)


def interleaved(passes: dict, rounds: int) -> dict:
    """{key: median ns of passes[key]()} over `rounds` rounds, each round running every pass once
    in turn, the garbage collector off during a pass (collected before it): a load change on
    the shared machine then falls on every library alike, not on whichever ran at that time."""
    times: dict = {k: [] for k in passes}
    for _ in range(rounds):
        for k, once in passes.items():
            gc.collect()
            gc.disable()
            try:
                times[k].append(once())
            finally:
                gc.enable()
    return {k: median(v) for k, v in times.items()}
