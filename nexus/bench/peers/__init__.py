"""`nexus bench peers`: Nexus side by side with its peers, in one process run, on the same input.

Two jobs (issue 19, point 1):

* **L2 book maintenance.** One deterministic update stream that never crosses (as a venue's
  book never does: when the mid moves, the levels on the wrong side are deleted in the same
  message, so books that uncross on their own, as hftbacktest's does, end equal to books that
  do not). Nexus's native `Book` and each peer apply it through the peer's public API; every
  final book is compared with the stream's reference book (top `TOP_N` levels of each side)
  BEFORE any figure is reported. Objects a peer needs (NautilusTrader's `BookOrder`,
  cryptofeed's `Decimal` prices, hftbacktest's event array) are built outside the timed loop.
* **Venue message decoding.** The raw frames the simulator sends for a venue
  (nexus.bench.feeds.simulated_stream), fed to Nexus's decoder and to the peers' own
  handlers (cryptofeed's feed classes through `message_handler` with no-op callbacks, ccxt
  pro's `handle_message`); each peer's final book and trades are compared with Nexus's
  before the timed passes.

Every figure is the median of several rounds; each peer row carries the ratio
(peer's time / Nexus's time for the same job) and its target. A peer that cannot be
imported or run is reported with the reason, never dropped.
"""

from __future__ import annotations

from nexus.bench.peers import ccxt_side, cryptofeed_side, nautilus_side
from nexus.bench.peers.book import book_peers
from nexus.bench.peers.ccxt_side import CCXT_CASES, CCXT_NOT_COVERED
from nexus.bench.peers.common import BOOK_TARGET, DECODE_TARGET, missing, version_of
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
    sim = SimFrames(venue, seconds, case.keep, case.conn_state, case.snapshot, case.subscribe)
    say(f"decode {venue}: {len(sim.frames)} frames; Nexus")
    nx = nexus_decode(venue, sim, rounds)
    out["nexus"] = {k: v for k, v in nx.items() if not k.startswith("_")}
    out["nexus"]["trades"] = len(nx["_trades"])
    out["nexus"]["book_levels"] = [len(nx["_book"][0]), len(nx["_book"][1])]
    out["channels"] = list(case.channels)
    for peer, fn, dist in (("cryptofeed", cryptofeed_side.decode, "cryptofeed"), ("ccxt", ccxt_side.decode, "ccxt"),
                           ("nautilus_trader", nautilus_side.decode, "nautilus_trader")):
        say(f"decode {venue}: {peer}")
        if version_of(dist) is None:
            out["peers"].append(missing(peer, f"{dist} is not installed; `pip install -e .[bench]` installs it"))
            continue
        if peer == "ccxt" and venue not in CCXT_CASES:
            out["peers"].append(missing(peer, CCXT_NOT_COVERED.get(venue, "no case written for this venue")))
            continue
        if peer == "cryptofeed" and venue not in CRYPTOFEED_CASES:
            out["peers"].append(missing(peer, CRYPTOFEED_NOT_COVERED.get(venue, "no case written for this venue")))
            continue
        try:
            out["peers"].append(fn(venue, sim, nx, rounds))
        except Exception as e:  # reported, never silently dropped
            out["peers"].append(missing(peer, f"{type(e).__name__}: {e}"))
    return out


def run(quick: bool = False, messages: int | None = None, seconds: float | None = None, rounds: int | None = None,
        venues=None, book: bool = True, decode: bool = True, progress=None) -> dict:
    say = progress or (lambda m: None)
    rounds = rounds if rounds is not None else (2 if quick else 5)
    res: dict = {"benchmark": "peers", "quick": quick, "rounds": rounds,
                 "targets": {"book": f"Nexus >= {BOOK_TARGET:g}x every peer (peer ns/update / Nexus ns/update)",
                             "decode": f"Nexus >= {DECODE_TARGET:g}x every peer per venue (peer ns/msg / Nexus ns/msg)"},
                 "note": ("Medians of the rounds, one process, the same input for every library. Each peer's "
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
