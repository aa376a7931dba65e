"""What `normalize` and `book replay` share: reading raw lines from stdin, decoding each
with the venue's decoder into one reusable batch (grown when a message needs more), and
reporting the lines that cannot be understood on stderr with their 1-based line number."""

from __future__ import annotations

import logging
import sys
from typing import Iterator

import click

from nexus.venues import registry
from nexus.venues.base import DEFAULT_BATCH_RECORDS
from nexus.venues.registry import canonical_symbol, load

VENUE_CHOICE = click.Choice(sorted(registry.names()))
EXIT_REJECTED = 3


class _EchoHandler(logging.Handler):
    """Writes to whatever sys.stderr is at the time (click's test runner swaps it)."""

    def emit(self, rec: logging.LogRecord) -> None:
        click.echo(self.format(rec), err=True)


def setup_logging() -> None:
    log = logging.getLogger("nexus.venues")
    if not any(isinstance(h, _EchoHandler) for h in log.handlers):
        h = _EchoHandler()
        h.setFormatter(logging.Formatter("nexus: warning: %(message)s"))
        log.addHandler(h)
        log.setLevel(logging.WARNING)
        log.propagate = False


class StreamReader:
    """Iterates (line number, segments, batch) over the decodable lines of stdin."""

    def __init__(self, venue: str, symbol: str | None, instruments: str | None, stream=None) -> None:
        from nexus import record
        from nexus.exceptions import NexusError

        self.venue = venue
        self.module = load(venue)
        self.decoder = self.module.Decoder()
        self.symbol = canonical_symbol(venue, symbol) if symbol else None
        self.decoder.rest_symbol = self.symbol
        if instruments:
            with open(instruments, "rb") as f:
                try:
                    n = self.decoder.load_metadata(f.read())
                except NexusError as e:
                    raise click.UsageError(f"--instruments {instruments}: {e}") from None
            if n == 0:
                click.echo(f"nexus: warning: --instruments {instruments}: no instruments found", err=True)
        self.batch = record.empty(DEFAULT_BATCH_RECORDS)
        self.stream = stream if stream is not None else sys.stdin.buffer
        self.rejected = 0
        self.lines = 0

    def __iter__(self) -> Iterator:
        from nexus import record
        from nexus.exceptions import BatchFull, DecodeError

        decode = self.decoder.decode
        for lineno, raw in enumerate(self.stream, 1):
            self.lines = lineno
            raw = raw.rstrip(b"\r\n")
            while True:
                try:
                    segs = decode(raw, self.batch)
                except BatchFull as e:
                    self.batch = record.empty(max(e.needed, 2 * len(self.batch)))
                    continue
                except DecodeError as e:
                    self.rejected += 1
                    click.echo(f"nexus: line {lineno}: {e}", err=True)
                    segs = None
                break
            if segs is not None:
                yield lineno, segs, self.batch

    def finish(self) -> None:
        if self.rejected:
            raise click.exceptions.Exit(EXIT_REJECTED)
