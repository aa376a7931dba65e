"""Replay a recording: each frame through its venue's decoder, in recorded order.

Iterating a `Replayer` yields (frame, venue, segments) for every decodable frame; malformed
frames are counted and reported, never fatal, and a recording cut short (a killed recorder)
gives every whole chunk, then `stats.damage` says what could not be read. A "connected" event in the recording gives
the venue a fresh decoder, exactly as the live run started a new stream there, so a replay
sees what the live run saw. Deterministic: the same file gives the same output, byte for
byte (no wall clock, no randomness, no dict-order dependence).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Iterator

from nexus import record
from nexus.exceptions import BatchFull, DecodeError, NexusError
from nexus.feeds.recording import EVENT, FRAME, REST, Damage, Frame, RecordingReader
from nexus.feeds.specs import spec
from nexus.venues import VENUE_NAMES
from nexus.venues.base import DEFAULT_BATCH_RECORDS
from nexus.venues.registry import canonical_symbol, load


@dataclass
class ReplayStats:
    frames: int = 0
    decoded: int = 0
    malformed: int = 0
    rejected: list[str] = field(default_factory=list)  # first few reasons, for stderr
    damage: Damage | None = None  # where the recording stopped being readable, if it did


class Replayer:
    REASONS_MAX = 20

    def __init__(self, path: str, venues: set[str] | None = None, realtime: bool = False, speed: float = 1.0):
        self.reader = RecordingReader(path)
        self.header = self.reader.header
        self.symbol = self.header.get("symbol", "BTCUSDT")
        self.venues = venues
        self.realtime = realtime
        self.speed = speed
        self.decoders: dict[str, object] = {}
        self.modules: dict[str, object] = {}
        self.batch = record.empty(DEFAULT_BATCH_RECORDS)
        self.stats = ReplayStats()
        # Each venue's instrument listings saved by `nexus record` (an "instruments" event, then
        # the body as a REST entry): loaded into the venue's decoder, and every fresh one.
        self.listings: dict[str, list[bytes]] = self._listings(path)
        self._listing_next: set[str] = set()

    @staticmethod
    def _listings(path) -> dict[str, list[bytes]]:
        """Every venue's instrument listing bodies in the recording (read ahead, so a decoder or
        an instrument asked for before the listing's place in the stream has the venue's values)."""
        out: dict[str, list[bytes]] = {}
        pending: set[int] = set()
        with RecordingReader(path) as r:
            for fr in r:
                if fr.kind == EVENT:
                    if b'"instruments"' in fr.payload and json.loads(fr.payload).get("event") == "instruments":
                        pending.add(fr.venue_id)
                elif fr.kind == REST and fr.venue_id in pending:
                    pending.discard(fr.venue_id)
                    venue = VENUE_NAMES.get(fr.venue_id)
                    if venue is not None:
                        out.setdefault(venue, []).append(bytes(fr.payload))
        return out

    def instrument(self, venue: str):
        """The recording symbol's instrument at `venue`, from the venue's saved listing."""
        return self._decoder(venue).instrument(canonical_symbol(venue, spec(venue).symbol_of(self.symbol)))

    def _decoder(self, venue: str, fresh: bool = False):
        d = self.decoders.get(venue)
        if d is None or fresh:
            mod = self.modules.get(venue) or load(venue)
            self.modules[venue] = mod
            d = mod.Decoder()
            d.rest_symbol = canonical_symbol(venue, spec(venue).symbol_of(self.symbol))
            for body in self.listings.get(venue, ()):  # the instruments the live run used
                try:
                    d.load_metadata(body)
                except (DecodeError, NexusError):
                    pass  # counted where the listing stands in the stream
            self.decoders[venue] = d
        return d

    def __iter__(self) -> Iterator[tuple[Frame, str, list]]:
        t0_rec = t0_wall = None
        for i, fr in enumerate(self.reader):
            venue = VENUE_NAMES.get(fr.venue_id)
            if venue is None or (self.venues and venue not in self.venues):
                continue
            if self.realtime:
                if t0_rec is None:
                    t0_rec, t0_wall = fr.ts_local_ns, time.monotonic_ns()
                due = t0_wall + (fr.ts_local_ns - t0_rec) / self.speed
                delay = (due - time.monotonic_ns()) / 1e9
                if delay > 0:
                    time.sleep(delay)
            if fr.kind == EVENT:
                ev = json.loads(fr.payload)
                if ev.get("event") == "connected":
                    self._decoder(venue, fresh=True)
                elif ev.get("event") == "instruments":
                    self._listing_next.add(venue)
                yield fr, venue, None
                continue
            if fr.kind not in (FRAME, REST):
                continue
            if fr.kind == REST and venue in self._listing_next:
                self._listing_next.discard(venue)
                body = bytes(fr.payload)
                try:
                    self._decoder(venue).load_metadata(body)
                except (DecodeError, NexusError) as e:
                    self.stats.malformed += 1
                    if len(self.stats.rejected) < self.REASONS_MAX:
                        self.stats.rejected.append(f"frame {i} ({venue}): instrument listing: {e}")
                yield fr, venue, None
                continue
            self.stats.frames += 1
            d = self._decoder(venue)
            while True:
                try:
                    segs = d.decode(fr.payload, self.batch, fr.ts_local_ns)
                except BatchFull as e:
                    self.batch = record.empty(max(e.needed, 2 * len(self.batch)))
                    continue
                except DecodeError as e:
                    self.stats.malformed += 1
                    if len(self.stats.rejected) < self.REASONS_MAX:
                        self.stats.rejected.append(f"frame {i} ({venue}): {e}")
                    segs = None
                break
            if segs is not None:
                self.stats.decoded += 1
                yield fr, venue, segs
        self.stats.damage = self.reader.damage

    def close(self) -> None:
        self.reader.close()
