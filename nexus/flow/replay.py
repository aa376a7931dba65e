"""Replaying input through the flow engine for `nexus metrics replay` and `nexus signals
replay`: where the records come from (sources) and one engine per instrument.

Two sources:

* `VenueSource` -- raw venue messages, one per line, as for `nexus book replay`. Each line is
  decoded by the venue's decoder (nexus.venues) and applied by the venue's own sync rules
  (sequence checks, checksums, REST snapshots, depth truncation). THE ADAPTER POINT: the
  engine is then fed, per line and per symbol, the book *as the sync keeps it* (a BOOK_CLEAR
  + the top IMAGE_LEVELS levels per side, which the engine diffs against its own copy, so a
  line that did not change the synced book changes nothing) followed by the line's trade
  records as decoded. A book the sync discarded (gap, checksum mismatch) reaches the engine
  as an empty book flagged F_RESYNC, and so does the first book after it: OFI is reset
  across a resync instead of counting the whole book as flow. The engine therefore never
  sees deltas the venue's rules would have refused, buffered or truncated.
* `RecordSource` -- a binary stream of 64-byte records (RECORD_DTYPE), e.g. a ring dump or
  a research file: the records are fed as they are; `i` is then the 0-based message
  ordinal (a message ends with F_LAST), not a line number.

The live path (feed handler -> ring -> engine) feeds the engine the synced records directly;
this module is the replay glue only.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import BinaryIO, Iterator

import numpy as np

from nexus import record
from nexus.exceptions import ConfigError
from nexus.flow.params import parse_value

IMAGE_LEVELS = 100  # levels per side handed to the engine per line; above every level parameter
BID, ASK = int(record.Side.BID), int(record.Side.ASK)
_K_LEVEL, _K_CLEAR = int(record.Kind.BOOK_LEVEL), int(record.Kind.BOOK_CLEAR)
_F_LAST, _F_SNAP, _F_RESYNC = int(record.Flag.LAST), int(record.Flag.SNAPSHOT), int(record.Flag.RESYNC)


@dataclass
class Unit:
    """What one input line (or message) gives one instrument's engine."""

    i: int                 # 0-based input line (RecordSource: message ordinal)
    key: str               # the symbol (RecordSource: "instrument <id>")
    price_exponent: int
    qty_exponent: int
    tick: int              # price units per tick
    records: np.ndarray    # ends with F_LAST


class RecordSource:
    """Binary records on a stream, split into messages at F_LAST."""

    CHUNK = 1 << 14

    def __init__(self, stream: BinaryIO | None = None, price_exponent: int = 0, qty_exponent: int = 0, tick: int = 1):
        self.stream = stream if stream is not None else sys.stdin.buffer
        self.pe, self.qe, self.tick = price_exponent, qty_exponent, tick
        self.rejected = 0
        self.symbols_seen: list[str] = []

    def __iter__(self) -> Iterator[Unit]:
        size = record.RECORD_SIZE
        pending = b""
        msg_i = 0
        while True:
            chunk = self.stream.read(size * self.CHUNK)
            if not chunk:
                break
            pending += chunk
            whole = len(pending) // size * size
            batch = np.frombuffer(pending[:whole], dtype=record.RECORD_DTYPE)
            pending = pending[whole:]
            ends = np.flatnonzero(batch["flags"] & _F_LAST)
            start = 0
            for e in ends:
                part = batch[start:e + 1]
                start = e + 1
                for iid in np.unique(part["instrument_id"]):
                    key = f"instrument {int(iid)}"
                    if key not in self.symbols_seen:
                        self.symbols_seen.append(key)
                    sel = part[part["instrument_id"] == iid].copy()
                    sel["flags"][-1] |= _F_LAST
                    yield Unit(msg_i, key, self.pe, self.qe, self.tick, sel)
                msg_i += 1
            if start < len(batch):  # an unfinished message: keep its bytes for the next chunk
                pending = batch[start:].tobytes() + pending
        if pending:
            self.rejected += 1
            print(f"nexus: {len(pending)} trailing bytes are not a whole record; ignored", file=sys.stderr)


class VenueSource:
    """Raw venue messages (stdin lines) through the venue's decoder and sync rules."""

    def __init__(self, venue: str, symbol: str | None, instruments: str | None = None, stream=None,
                 metadata: tuple[bytes, ...] = ()):
        try:
            from nexus.feeds.lines import LineReader, warnings_to_stderr
        except ImportError:  # the venue decoders are not in this build
            raise ConfigError("raw venue input needs the venue decoders (nexus.venues), which this build "
                              "does not have yet; use --records to replay binary records") from None
        warnings_to_stderr()
        self.reader = LineReader(venue, symbol, instruments, stream=stream, metadata=metadata)
        self.sync = self.reader.module.Sync(self.reader.decoder)
        self.symbol = self.reader.symbol
        self.synced: dict[str, bool] = {}
        self.symbols_seen: list[str] = []
        self.notes: list[str] = []
        self._bids = np.zeros((IMAGE_LEVELS, 2), np.int64)
        self._asks = np.zeros((IMAGE_LEVELS, 2), np.int64)

    @property
    def rejected(self) -> int:
        return self.reader.rejected

    def __iter__(self) -> Iterator[Unit]:
        from nexus.venues.base import SegKind

        feed, notes = self.sync.feed, self.sync.notes
        for lineno, segs, batch in self.reader:
            feed(segs, batch)
            if notes:
                self.notes.extend(f"line {lineno}: {n}" for n in notes)
                notes.clear()
            parts: dict[str, list[np.ndarray]] = {}
            insts = {}
            book_ts: dict[str, int] = {}
            for seg in segs:
                if seg.inst is None or seg.kind is SegKind.CONTROL:
                    continue
                sym = seg.inst.symbol
                if self.symbol is not None and sym != self.symbol:
                    continue
                insts[sym] = seg.inst
                if seg.kind is SegKind.BOOK:
                    ts = int(batch["ts_exchange_ns"][seg.start:seg.stop].max()) if seg.stop > seg.start else 0
                    book_ts[sym] = max(book_ts.get(sym, 0), ts, seg.ts_exchange_ns or 0)
                    parts.setdefault(sym, [])
                    if not any(p is None for p in parts[sym]):
                        parts[sym].append(None)  # the book image goes here, once per line
                elif seg.kind is SegKind.TRADES and seg.stop > seg.start:
                    parts.setdefault(sym, []).append(batch[seg.start:seg.stop].copy())
            for sym, pieces in parts.items():
                inst = insts[sym]
                if sym not in self.symbols_seen:
                    self.symbols_seen.append(sym)
                out = [self._image(sym, inst, book_ts.get(sym, 0)) if p is None else p for p in pieces]
                recs = np.concatenate(out) if len(out) > 1 else out[0]
                if len(recs) == 0:
                    continue
                recs["flags"] &= np.uint8(0xFF ^ _F_LAST)
                recs["flags"][-1] |= _F_LAST
                tick = max(1, int(inst.price_to_int(inst.tick_size)))
                yield Unit(lineno - 1, sym, inst.price_exponent, inst.qty_exponent, tick, recs)

    def _image(self, sym: str, inst, ts: int) -> np.ndarray:
        """The synced book of `sym` as a clear + its top levels (empty + F_RESYNC when the
        sync has discarded it; the first image after that is flagged F_RESYNC too)."""
        st = self.sync.books.get(sym)
        synced = bool(st is not None and st.synced)
        was = self.synced.get(sym)
        self.synced[sym] = synced
        nb = na = 0
        if synced:
            nb, na = st.book.top_into(self._bids, self._asks)
        out = record.empty(1 + nb + na)
        out["instrument_id"] = inst.instrument_id
        out["kind"] = _K_LEVEL
        out["flags"] = _F_SNAP
        out[0]["kind"] = _K_CLEAR
        if nb:
            out["side"][1:1 + nb] = BID
            out["price"][1:1 + nb] = self._bids[:nb, 0]
            out["qty"][1:1 + nb] = self._bids[:nb, 1]
        if na:
            out["side"][1 + nb:] = ASK
            out["price"][1 + nb:] = self._asks[:na, 0]
            out["qty"][1 + nb:] = self._asks[:na, 1]
        if was is not None and synced != was or not synced:
            out[0]["flags"] |= _F_RESYNC
        out["ts_exchange_ns"] = ts
        return out

    def finish_notes(self) -> list[str]:
        n, self.notes = self.notes, []
        return n


# -- the driver both commands use -----------------------------------------------------------

def parse_param_overrides(pairs: tuple[str, ...]) -> dict:
    """`name=value` strings (repeatable --param) -> {name: int or tuple of ints}."""
    out = {}
    for p in pairs:
        name, sep, value = p.partition("=")
        name = name.strip().replace("-", "_")
        if not sep or not name:
            raise ConfigError(f"--param {p!r}: expected NAME=VALUE")
        try:
            out[name] = parse_value(name, value)
        except ValueError:
            raise ConfigError(f"--param {p!r}: the value must be an integer (times in ns, sizes in integer units)") from None
    return out


class Replay:
    """One FlowRunner per instrument key, created on first sight with the unit's exponents."""

    def __init__(self, make_params, oracle_model: dict | None = None):
        self.make_params = make_params      # (Unit) -> FlowParams
        self.oracle_model = oracle_model    # a learned oracle (nexus/flow/oracle_model.py); None: the rule one
        self.runners: dict[str, object] = {}

    def feed(self, unit: Unit):
        from nexus.flow.runner import FlowRunner

        runner = self.runners.get(unit.key)
        if runner is None:
            runner = self.runners[unit.key] = FlowRunner(self.make_params(unit), capacity=1024,
                                                         oracle_model=self.oracle_model)
        return runner.feed(unit.records)
