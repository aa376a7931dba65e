"""Raw venue messages, one per line (stdin, a file, a pipe), decoded with the venue's decoder
into one reusable batch (grown when a message needs more). A line that cannot be understood
is reported on stderr with its 1-based line number and counted; reading goes on.

Used by `nexus normalize`, `nexus book replay` and the flow replay (`nexus.flow.replay`), so
it lives with the feeds, not with the commands: the CLI turns `rejected` into its exit status.
"""

from __future__ import annotations

import logging
import sys
from typing import Iterator

from nexus.exceptions import ConfigError
from nexus.venues.base import DEFAULT_BATCH_RECORDS
from nexus.venues.registry import canonical_symbol, load


class InstrumentsFileError(ConfigError):
    """The instrument metadata file given to a reader is not the venue's metadata body."""


def _say(text: str) -> None:
    """One line on whatever sys.stderr is at the time (click's test runner swaps it)."""
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


class _StderrHandler(logging.Handler):
    def emit(self, rec: logging.LogRecord) -> None:
        _say(self.format(rec))


def warnings_to_stderr() -> None:
    """The venue decoders' warnings as "nexus: warning: ..." lines on stderr (once per process)."""
    log = logging.getLogger("nexus.venues")
    if not any(isinstance(h, _StderrHandler) for h in log.handlers):
        h = _StderrHandler()
        h.setFormatter(logging.Formatter("nexus: warning: %(message)s"))
        log.addHandler(h)
        log.setLevel(logging.WARNING)
        log.propagate = False


class LineReader:
    """Iterates (line number, segments, batch) over the decodable lines of a byte stream
    (stdin by default); `rejected` counts the lines that could not be understood."""

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
                    raise InstrumentsFileError(f"--instruments {instruments}: {e}") from None
            if n == 0:
                _say(f"nexus: warning: --instruments {instruments}: no instruments found")
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
                    _say(f"nexus: line {lineno}: {e}")
                    segs = None
                break
            if segs is not None:
                yield lineno, segs, self.batch
