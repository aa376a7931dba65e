"""`nexus bench peers`: Nexus side by side with its peers, in one process run, on the same input.

Two jobs (issue 19, point 1):

* **L2 book maintenance** (book.py): one deterministic update stream that never crosses; Nexus's
  native `Book` and NautilusTrader's OrderBook (Cython and pyo3), hftbacktest's market depth and
  cryptofeed's order_book apply it through their public APIs; every final book is compared with
  the stream's reference book before any figure is reported.
* **Venue message decoding** (frames.py and the *_side.py modules): the frames the simulator
  sends one subscribing client of a venue, fed to Nexus's decoder (+ its sync rules and book) and
  to the peers' own handlers: cryptofeed's feed classes (`message_handler`, no-op callbacks),
  ccxt pro's Client (`handle_text_or_binary_message`), NautilusTrader's venue schemas and parsers
  where it has Python ones (Binance, Bybit); each peer's final book and trades are compared with
  Nexus's before the timed passes.

The rounds are interleaved (each round runs Nexus and every peer once, in turn, the garbage
collector off during a pass) and every figure is the median of the rounds; each peer row
carries the ratio (peer's time / Nexus's time for the same job) and its target. A peer that
cannot be imported or run, or whose output differs, is reported with the reason, never dropped.
"""

from __future__ import annotations

from nexus.bench.peers import ccxt_side, cryptofeed_side, nautilus_side
from nexus.bench.peers.book import book_peers
from nexus.bench.peers.ccxt_side import CCXT_CASES, CCXT_NOT_COVERED
from nexus.bench.peers.common import (
    BOOK_TARGET,
    DECODE_TARGET,
    Prepared,
    decode_row,
    interleaved,
    missing,
    version_of,
)
from nexus.bench.peers.cryptofeed_side import CRYPTOFEED_NOT_COVERED
from nexus.bench.peers.frames import CRYPTOFEED_CASES, DECODE_SECONDS, FRAME_CASES, SimFrames, nexus_decode
from nexus.bench.peers.nautilus_side import NAUTILUS_DECODE_NOTE, NAUTILUS_NOTES, NAUTILUS_VENUES

__all__ = ["BOOK_TARGET", "CCXT_CASES", "CRYPTOFEED_CASES", "DECODE_TARGET", "DECODE_VENUES", "FRAME_CASES",
           "NAUTILUS_VENUES", "book_peers", "run"]

# -- one run ---------------------------------------------------------------------------------------
DECODE_VENUES = ("binance-spot", "binance-perp", "bybit-perp", "okx-swap", "coinbase", "kraken", "hyperliquid")


def _decode_venue(venue: str, seconds: float, rounds: int, say) -> dict:
    """Nexus and every peer on one venue's frames (the frames cryptofeed's subscription
    receives; ccxt reads the same ones)."""
    out: dict = {"peers": []}
    case = FRAME_CASES.get(venue)
    if case is None:
        for peer, why in (("cryptofeed", CRYPTOFEED_NOT_COVERED.get(venue)), ("ccxt", CCXT_NOT_COVERED.get(venue))):
            out["peers"].append(missing(peer, why or "no case written for this venue"))
        out["peers"].append(missing("nautilus_trader", NAUTILUS_NOTES.get(venue, NAUTILUS_DECODE_NOTE)))
        return out
    sim = SimFrames(venue, seconds, case.keep, case.conn_state, case.snapshot, case.subscribe, case.path)
    say(f"decode {venue}: {len(sim.frames)} frames; Nexus")
    nx = nexus_decode(venue, sim)
    nx["_depth"] = case.depth
    out["channels"] = list(case.channels)
    slots: list = []        # in peer order: a row (not timed) or a Prepared (checked, to time)
    for peer, fn, dist in (("cryptofeed", cryptofeed_side.decode, "cryptofeed"), ("ccxt", ccxt_side.decode, "ccxt"),
                           ("nautilus_trader", nautilus_side.decode, "nautilus_trader")):
        say(f"decode {venue}: {peer} (check)")
        if version_of(dist) is None:
            slots.append(missing(peer, f"{dist} is not installed; `pip install -e .[bench]` installs it"))
        elif peer == "ccxt" and venue not in CCXT_CASES:
            slots.append(missing(peer, CCXT_NOT_COVERED.get(venue, "no case written for this venue")))
        elif peer == "cryptofeed" and venue not in CRYPTOFEED_CASES:
            slots.append(missing(peer, CRYPTOFEED_NOT_COVERED.get(venue, "no case written for this venue")))
        else:
            try:
                slots.append(fn(venue, sim, nx))
            except Exception as e:  # reported, never silently dropped
                slots.append(missing(peer, f"{type(e).__name__}: {e}"))
    prepared = [x for x in slots if isinstance(x, Prepared)]
    say(f"decode {venue}: timing Nexus and {len(prepared)} peers, {rounds} interleaved rounds")
    passes = {"nexus decode": nx["_once_decode"], "nexus book": nx["_once_book"]}
    passes.update({p.peer: p.once for p in prepared})
    try:
        med = interleaved(passes, rounds)
    finally:
        for p in prepared:
            p.close()
    n = nx["frames"]
    out["nexus"] = {"frames": n, "rejected": nx["rejected"],
                    "decode_ns_per_msg": round(med["nexus decode"] / n, 1),
                    "decode_msgs_per_s": round(n / (med["nexus decode"] / 1e9), 1),
                    "decode_book_ns_per_msg": round(med["nexus book"] / n, 1),
                    "decode_book_msgs_per_s": round(n / (med["nexus book"] / 1e9), 1),
                    "trades": len(nx["_trades"]), "book_levels": [len(nx["_book"][0]), len(nx["_book"][1])]}
    out["peers"] = [decode_row(x.peer, x.version, x.api, med[x.peer] / x.frames, out["nexus"], x.frames,
                               x.trades_checked, x.nexus_only) if isinstance(x, Prepared) else x for x in slots]
    return out


def run(quick: bool = False, messages: int | None = None, seconds: float | None = None, rounds: int | None = None,
        venues=None, book: bool = True, decode: bool = True, progress=None) -> dict:
    say = progress or (lambda m: None)
    rounds = rounds if rounds is not None else (2 if quick else 5)
    res: dict = {"benchmark": "peers", "quick": quick, "rounds": rounds,
                 "targets": {"book": f"Nexus >= {BOOK_TARGET:g}x every peer (peer ns/update / Nexus ns/update)",
                             "decode": f"Nexus >= {DECODE_TARGET:g}x every peer per venue (peer ns/msg / Nexus ns/msg)"},
                 "note": ("Medians of interleaved rounds (each round runs Nexus and every peer once, in turn, "
                          "the garbage collector off during a pass), one process, the same input for every "
                          "library, each pass timed in process CPU time (common.clock_ns: time spent waiting "
                          "for a core on a shared machine is not charged to whichever pass ran then). Each peer's "
                          "output is compared with Nexus's (book: top levels of the final book; decode: final "
                          "book and trades) before it is timed; a peer that disagrees, cannot be imported or "
                          "fails is listed with the reason and not timed. The machine's load is not "
                          "controlled: compare ratios, which share it, more than absolute figures.")}
    if book:
        res["book"] = book_peers(messages or (2_000 if quick else 20_000), rounds, say)
    if decode:
        secs = seconds if seconds is not None else (5.0 if quick else DECODE_SECONDS)
        res["decode"] = {"simulated_seconds": secs, "venues": {}}
        for v in venues or DECODE_VENUES:
            try:
                res["decode"]["venues"][v] = _decode_venue(v, secs, rounds, say)
            except Exception as e:  # one venue's failure is reported, the others still measured
                res["decode"]["venues"][v] = {"error": f"{type(e).__name__}: {e}", "peers": []}
    rows = list(res.get("book", {}).get("peers", []))
    for d in res.get("decode", {}).get("venues", {}).values():
        rows += d.get("peers", [])
    timed = [r for r in rows if r.get("available")]
    res["summary"] = {
        "peers_timed": len(timed),
        "peers_not_timed": len(rows) - len(timed),
        "all_timed_agree": all(r.get("agrees_with_nexus") for r in timed),
        "targets_met": sum(1 for r in timed if r.get("met")),
        "targets_missed": sum(1 for r in timed if not r.get("met")),
    }
    return res
