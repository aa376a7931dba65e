"""`nexus normalize --venue V`: raw venue WebSocket messages on stdin, one per line, to
normalized events on stdout as JSON Lines (the contract is in ARCHITECTURE.md)."""

from __future__ import annotations

import json
import sys

import click

from nexus.commands._stream import VENUE_CHOICE, exit_if_rejected, open_lines


def book_event(venue: str, seg, batch) -> dict:
    recs = batch[seg.start:seg.stop]
    inst = seg.inst
    from nexus._native import format_scaled

    pe, qe = inst.price_exponent, inst.qty_exponent
    bids, asks = [], []
    for kind, side, p, q in zip(recs["kind"].tolist(), recs["side"].tolist(), recs["price"].tolist(),
                                recs["qty"].tolist()):
        if kind == 1:  # BOOK_LEVEL (a snapshot's BOOK_CLEAR is implied by "snapshot": true)
            (bids if side == 1 else asks).append([format_scaled(p, pe), format_scaled(q, qe)])
    return {"type": "book", "venue": venue, "symbol": inst.symbol, "snapshot": seg.snapshot,
            "seq": seg.seq, "bids": bids, "asks": asks, "ts_exchange_ns": seg.ts_exchange_ns}


def trade_events(venue: str, seg, batch):
    from nexus._native import format_scaled

    recs = batch[seg.start:seg.stop]
    inst = seg.inst
    pe, qe = inst.price_exponent, inst.qty_exponent
    for i, (side, p, q, ts) in enumerate(zip(recs["side"].tolist(), recs["price"].tolist(),
                                             recs["qty"].tolist(), recs["ts_exchange_ns"].tolist())):
        yield {"type": "trade", "venue": venue, "symbol": inst.symbol, "price": format_scaled(p, pe),
               "size": format_scaled(q, qe), "side": "buy" if side == 1 else "sell",
               "trade_id": seg.trade_ids[i], "ts_exchange_ns": ts}


@click.command()
@click.option("--venue", required=True, type=VENUE_CHOICE, help="The venue whose wire format stdin carries.")
@click.option("--symbol", default=None,
              help="The symbol a REST depth snapshot body in the stream belongs to (Binance).")
@click.option("--instruments", "instruments", type=click.Path(exists=True, dir_okay=False), default=None,
              help="A file holding the venue's instrument metadata body (REST or channel) to load first.")
def normalize(venue: str, symbol: str | None, instruments: str | None) -> None:
    """Raw messages on stdin, one per line, exactly as the venue sends them, to normalized
    events on stdout (JSON Lines):

    \b
    {"type":"book","venue","symbol","snapshot","seq","bids":[["price","size"],...],"asks","ts_exchange_ns"}
    {"type":"trade","venue","symbol","price","size","side":"buy"|"sell","trade_id","ts_exchange_ns"}

    Prices and sizes are exact decimal strings with the venue's value (contracts stay
    contracts); `side` is the taker's side; a size of "0" deletes a level. Subscription acks,
    heartbeats and metadata produce no line. A line that cannot be understood produces one
    message on stderr naming its line number (1-based: the first line is line 1) and the
    reason; processing goes on and the exit status is 3.
    """
    reader = open_lines(venue, symbol, instruments)
    out = sys.stdout
    dumps = json.JSONEncoder(separators=(",", ":")).encode
    from nexus.venues.base import SegKind

    for lineno, segs, batch in reader:
        lines = []
        for seg in segs:
            if seg.kind is SegKind.BOOK:
                lines.append(dumps(book_event(venue, seg, batch)))
            elif seg.kind is SegKind.TRADES:
                lines.extend(dumps(ev) for ev in trade_events(venue, seg, batch))
        if lines:
            out.write("\n".join(lines) + "\n")
    out.flush()
    exit_if_rejected(reader)
