"""Raw venue messages, one per line (stdin, a file, a pipe), decoded with the venue's decoder
into one reusable batch (grown when a message needs more). A line that cannot be understood
is reported on stderr with its 1-based line number and counted; reading goes on.

Used by `nexus normalize`, `nexus book replay` and the flow replay (`nexus.flow.replay`), so
it lives with the feeds, not with the commands: the CLI turns `rejected` into its exit status.

Precision (tick and lot decimals) never comes from a built-in table:
- `--instruments FILE`: the venue's own instrument listing (the body its instrument endpoint
  answers, e.g. OKX GET /api/v5/public/instruments), read by the decoder's `load_metadata`;
- otherwise, for every symbol the file does not list, it is inferred from the input: the
  whole input is read first and decoded once at the generic exponent (8 decimals); each
  symbol's price (and size) exponent is then the widest number of decimals any of its nonzero
  prices (sizes) has in the whole input, and the input is decoded again at those exponents.
  Reading everything first means no message is ever published at a precision a later message
  would contradict (nothing is re-scaled after the fact). Inferred values are exact: a value is
  never rounded. Limits: more than 8 decimals needs `--instruments`; the tick is the inferred
  decimal step (10^-decimals), so a coarser real tick (0.5) is not checked; a checksum that
  writes values at the venue's precision with trailing zeros (Kraken) is not verified for an
  inferred symbol.
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
        self.stream = infer_instruments(self.module, self.decoder, self.symbol, self.stream)
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


def _trailing_zeros(v: int, limit: int) -> int:
    n = 0
    while n < limit and v % 10 == 0:
        v //= 10
        n += 1
    return n


def infer_instruments(module, decoder, rest_symbol: str | None, stream) -> list[bytes]:
    """Read the whole of `stream`, decode it once with a probe decoder at the generic exponent,
    and register in `decoder` an instrument for every symbol `decoder` has no listing for, its
    exponents the widest decimals its nonzero prices and sizes show. Returns the lines read.
    See the module docstring for the rule and its limits."""
    from nexus import record
    from nexus.exceptions import BatchFull, DecodeError, NexusError
    from nexus.instruments import Instrument
    from nexus.venues.base import GENERIC_EXPONENT

    lines = list(stream)
    probe = module.Decoder()
    probe.rest_symbol = rest_symbol
    batch = record.empty(DEFAULT_BATCH_RECORDS)
    tz: dict[int, list] = {}  # instrument id -> [symbol, min price zeros, min size zeros]
    vlog = logging.getLogger("nexus.venues")
    was = vlog.disabled
    vlog.disabled = True  # the probe's generic-exponent warnings are not the user's concern
    try:
        for raw in lines:
            raw = raw.rstrip(b"\r\n")
            while True:
                try:
                    segs = probe.decode(raw, batch)
                except BatchFull as e:
                    batch = record.empty(max(e.needed, 2 * len(batch)))
                    continue
                except (DecodeError, NexusError):
                    segs = None  # reported by the real pass
                break
            if not segs:
                continue
            for seg in segs:
                inst = seg.inst
                if inst is None or inst.symbol not in probe.generic or seg.stop <= seg.start:
                    continue
                recs = batch[seg.start:seg.stop]
                t = tz.get(inst.instrument_id)
                if t is None:
                    t = tz[inst.instrument_id] = [inst.symbol, GENERIC_EXPONENT, GENERIC_EXPONENT]
                for p in recs["price"]:
                    if p and t[1]:
                        t[1] = min(t[1], _trailing_zeros(int(p), t[1]))
                for q in recs["qty"]:
                    if q and t[2]:
                        t[2] = min(t[2], _trailing_zeros(int(q), t[2]))
    finally:
        vlog.disabled = was
    for symbol, pz, qz in tz.values():
        if (decoder.venue, symbol) in decoder.registry:
            continue  # listed by --instruments
        pe, qe = GENERIC_EXPONENT - pz, GENERIC_EXPONENT - qz
        step = lambda d: "1" if d == 0 else "0." + "0" * (d - 1) + "1"  # noqa: E731
        decoder.set_instrument(Instrument(decoder.venue, symbol, step(pe), step(qe)))
        decoder.inferred.add(symbol)
    return lines
