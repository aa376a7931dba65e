"""`nexus book replay --venue V [--symbol S] [--depth N]`: raw venue messages on stdin
applied to native books with the venue's own sync rules; the final books as JSON Lines
(the contract is in ARCHITECTURE.md)."""

from __future__ import annotations

import json
import sys

import click

from nexus.commands._stream import VENUE_CHOICE, exit_if_rejected, open_lines


@click.group()
def book() -> None:
    """Order books built from raw venue messages."""


@book.command("replay")
@click.option("--venue", required=True, type=VENUE_CHOICE, help="The venue whose wire format stdin carries.")
@click.option("--symbol", default=None,
              help="The symbol of the REST depth snapshot bodies in the stream (Binance); "
                   "also limits the output to that symbol.")
@click.option("--depth", default=0, show_default=True, type=click.IntRange(min=0),
              help="Levels per side to print (0: all).")
@click.option("--instruments", "instruments", type=click.Path(exists=True, dir_okay=False), default=None,
              help="A file holding the venue's instrument metadata body (REST or channel) to load first.")
def replay(venue: str, symbol: str | None, depth: int, instruments: str | None) -> None:
    """Apply raw messages (stdin, one per line, exactly as the venue sends them; a REST
    snapshot body may appear wherever it was received) with the venue's sync rules, then
    print one JSON object per symbol:

    \b
    {"venue","symbol","bids":[["price","size"],...] best first,"asks":[...] best first,
     "checksum":int|null,"checksum_ok":true|false|null,"checksum_failures":int,"gaps":int}

    `checksum` is computed by Nexus over the final book with the venue's algorithm (OKX,
    Kraken; null elsewhere); `checksum_ok` compares it with the last checksum the venue
    sent (null when it sent none). A sequence gap or a checksum mismatch discards the book
    until the venue's next snapshot: a book still waiting for one is printed empty.

    Sync events (gaps, checksum mismatches, crossed books, unusable snapshots) are reported
    on stderr as "nexus: note: line N: ...". A line that cannot be understood produces one
    message "nexus: line N: reason" (N 1-based: the first line is line 1); processing goes
    on and the exit status is 3.
    """
    reader = open_lines(venue, symbol, instruments)
    sync = reader.module.Sync(reader.decoder)
    sync.fuse()  # an ordinary diff on a synced book: decoded and applied in one call
    feed, notes = sync.feed, sync.notes
    for lineno, segs, batch in reader:
        feed(segs, batch)
        if notes:
            for n in notes:
                click.echo(f"nexus: note: line {lineno}: {n}", err=True)
            notes.clear()
    dumps = json.JSONEncoder(separators=(",", ":")).encode
    symbols = [reader.symbol] if reader.symbol else list(sync.books)
    for s in symbols:
        if s in sync.books:
            sys.stdout.write(dumps(sync.result(s, depth)) + "\n")
        else:
            click.echo(f"nexus: note: no book data for {s}", err=True)
    sys.stdout.flush()
    exit_if_rejected(reader)
